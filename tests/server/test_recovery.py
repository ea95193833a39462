"""Durability under ``kill -9``: real server processes, a real SIGKILL mid-scan, a restart on the same data.

The database is the queue, so a scan a dead worker held must come back: re-queued and finished by the
restarted server (attempt 2), or failed with a reason once its attempts are used up — never lost from
the list and never left "running".
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from facetrust.server.process import ServerProcess  # noqa: E402

pytestmark = pytest.mark.slow

TOKEN = "recovery-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LEASE_S = 3.0
VIDEO_FRAMES = 64  # ~0.1 s a frame on a 2-core machine with every=1: the scan lasts several seconds
FINAL = ("done", "failed")


class Server(ServerProcess):
    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers=AUTH, timeout=30.0)


@pytest.fixture
def start_server(tmp_path) -> Callable[..., Server]:
    """Launch ``facetrust serve`` processes; every one still alive is stopped at teardown."""
    servers: list[Server] = []

    def start(data_dir: Path, *extra: str) -> Server:
        server = Server(data_dir, TOKEN, *extra, log=tmp_path / f"server-{len(servers)}.log")
        servers.append(server)
        try:
            server.wait_ready(60)
        except RuntimeError as exc:
            pytest.fail(str(exc))
        return server

    yield start
    for server in servers:
        server.stop(10)


@pytest.fixture(scope="module")
def slow_video(tmp_path_factory, astronaut) -> Path:
    """A face video long enough that scanning every frame takes several seconds."""
    from facetrust.demo import write_video

    # Small shifts make each frame a different picture (no codec shortcut), the face stays detectable.
    frames = [np.roll(astronaut, (k % 9) - 4, axis=1) for k in range(VIDEO_FRAMES)]
    path = tmp_path_factory.mktemp("recovery") / "astronaut_walk.mp4"
    write_video(path, frames, fps=10)
    return path


@pytest.fixture(scope="module")
def small_jpeg(astronaut) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return buf.tobytes()


def _post_video(client: httpx.Client, video: Path) -> str:
    r = client.post("/v1/scans", files={"file": (video.name, video.read_bytes(), "video/mp4")},
                    data={"every": "1"})
    assert r.status_code == 202, r.text
    view = r.json()
    assert r.headers["location"] == f"/v1/scans/{view['id']}"
    assert view["status"] in ("queued", "running") and view["kind"] == "video"
    return view["id"]


def _poll(server: Server, scan_id: str, until: Callable[[dict], bool], timeout: float, what: str) -> dict:
    deadline = time.monotonic() + timeout
    view: dict = {}
    with server.client() as c:
        while time.monotonic() < deadline:
            r = c.get(f"/v1/scans/{scan_id}")
            assert r.status_code == 200, r.text
            view = r.json()
            if until(view):
                return view
            if server.proc.poll() is not None:
                break
            time.sleep(0.1)
    shown = {k: view.get(k) for k in ("status", "attempts", "frames_done", "frames_total", "progress", "error")}
    pytest.fail(f"scan {scan_id} not {what} within {timeout:.0f} s; last view {shown}\n{server.log_tail()}")


def _running_mid_scan(view: dict) -> bool:
    assert view["status"] not in FINAL, f"the scan ended before it could be interrupted: {view}"
    return view["status"] == "running" and (view["frames_done"] or 0) > 0


def _kill9(server: Server) -> None:
    os.kill(server.proc.pid, signal.SIGKILL)
    assert server.proc.wait(10) == -signal.SIGKILL


def _listed_ids(server: Server) -> set[str]:
    with server.client() as c:
        r = c.get("/v1/scans", params={"limit": 100})
    assert r.status_code == 200, r.text
    return {item["id"] for item in r.json()["items"]}


def test_scan_killed_mid_video_resumes_after_restart(start_server, tmp_path, slow_video, small_jpeg):
    data = tmp_path / "data"
    flags = ("--workers", "1", "--lease-s", str(LEASE_S))
    first = start_server(data, *flags)
    with first.client() as c:
        video_id = _post_video(c, slow_video)
        # Two images behind the video in the queue (one worker): they must survive the crash too.
        image_ids = []
        for k in range(2):
            r = c.post("/v1/scans", files={"file": (f"face{k}.jpg", small_jpeg, "image/jpeg")},
                       data={"wait": "false"})
            assert r.status_code == 202, r.text
            image_ids.append(r.json()["id"])

    before = _poll(first, video_id, _running_mid_scan, 60, "running with progress")
    assert before["attempts"] == 1
    assert before["frames_done"] < (before["frames_total"] or VIDEO_FRAMES)
    with first.client() as c:
        assert [c.get(f"/v1/scans/{i}").json()["status"] for i in image_ids] == ["queued", "queued"]
    _kill9(first)

    second = start_server(data, *flags)
    assert {video_id, *image_ids} <= _listed_ids(second), "a scan was lost in the crash"

    # The dead worker's lease runs out, the sweeper re-queues the scan, the new worker scans it again.
    # The deadline also proves it never stays "running" for good.
    after = _poll(second, video_id, lambda v: v["status"] in FINAL, 90, "finished after the restart")
    assert after["status"] == "done", after["error"]
    assert after["attempts"] == 2
    assert after["error"] is None
    result = after["result"]["results"][0]
    assert result["verdict"] in ("real", "fake")
    assert after["verdict"] == result["verdict"]
    assert len(result["frames"]) == VIDEO_FRAMES  # every=1 survived the re-queue: the whole video, once
    assert result["faces"], "the astronaut's face was not found"

    for image_id in image_ids:
        view = _poll(second, image_id, lambda v: v["status"] in FINAL, 60, "finished after the restart")
        assert view["status"] == "done", view["error"]
        assert view["attempts"] == 1  # never claimed before the crash
        assert view["result"]["results"][0]["verdict"] in ("real", "fake")

    with second.client() as c:
        report = c.get(f"/v1/scans/{video_id}/report")
        assert report.status_code == 200 and "<html" in report.text.lower()
        counts = c.get("/healthz").json()
    assert counts["running"] == 0 and counts["queued"] == 0
    assert {video_id, *image_ids} <= _listed_ids(second)


def test_scan_killed_on_its_last_attempt_fails_with_reason(start_server, tmp_path, slow_video):
    data = tmp_path / "data"
    config = tmp_path / "server.toml"
    config.write_text(f"[server]\nmax_attempts = 1\nlease_s = {LEASE_S}\nworkers = 1\n")
    first = start_server(data, "--config", str(config))
    with first.client() as c:
        video_id = _post_video(c, slow_video)
    _poll(first, video_id, _running_mid_scan, 60, "running with progress")
    _kill9(first)

    second = start_server(data, "--config", str(config))
    after = _poll(second, video_id, lambda v: v["status"] in FINAL, 60, "failed after the restart")
    assert after["status"] == "failed"
    assert after["attempts"] == 1  # not retried: its only attempt died with the first server
    assert after["error"]["code"] == "interrupted"
    assert "attempt" in after["error"]["message"] and len(after["error"]["message"]) > 20
    assert after["result"] is None and after["verdict"] is None
    assert video_id in _listed_ids(second)
    with second.client() as c:
        assert c.get(f"/v1/scans/{video_id}/report").status_code == 404
