"""``--engine ray``: a local Ray on this machine gives the local engine's rows, and resumes after kill -9."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from facetrust.batch import iter_rows, run_batch
from facetrust.cli import main
from facetrust.io import walk_sources

from batch_media import make_images

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'facetrust[ray]'")

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(autouse=True)
def _no_cluster(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)  # these tests start their own local Ray


def _rows(out: Path) -> dict[str, dict]:
    rows = {}
    for r in iter_rows(out):
        r.pop("elapsed_s")
        rows[r["path"]] = r
    return rows


def test_ray_rows_equal_the_local_engine_rows(tmp_path):
    folder = tmp_path / "in"
    make_images(folder, 20, seed=5)
    shutil.copyfile(folder / "img_004.png", folder / "same_as_4.png")
    (folder / "notes.txt").write_text("not media")
    entries = walk_sources([folder])
    local = run_batch(entries, tmp_path / "local")
    on_ray = run_batch(entries, tmp_path / "ray", engine="ray", workers=2)
    assert on_ray["this_run"]["engine"] == "ray" and on_ray["this_run"]["workers"] == 2
    assert not ray.is_initialized()  # the Ray it started is stopped
    local_rows, ray_rows = _rows(tmp_path / "local"), _rows(tmp_path / "ray")
    assert len(ray_rows) == 22
    if ray_rows[str(folder / "same_as_4.png")]["duplicate_of"] is None:
        # both copies were in flight at once: both scanned, the later row marked as the same content
        for rows in (local_rows, ray_rows):
            for r in rows.values():
                r.pop("duplicate_of")
    assert ray_rows == local_rows
    assert on_ray["verdicts"] == local["verdicts"] and on_ray["rows"] == local["rows"] == 22
    # a re-run on Ray scans nothing: the driver's ledger decides what is left
    again = run_batch(entries, tmp_path / "ray", engine="ray", workers=1)
    assert again["this_run"]["already_done"] == 22 and again["this_run"]["scanned"] == 0


def test_engine_options_are_checked():
    with pytest.raises(ValueError, match="engine"):
        run_batch([], "unused", engine="spark")
    with pytest.raises(ValueError, match="--engine ray"):
        run_batch([], "unused", ray_address="127.0.0.1:6379")


def test_cli_help_names_the_engine(capsys):
    with pytest.raises(SystemExit):
        main(["batch", "--help"])
    text = capsys.readouterr().out
    assert "--engine {local,ray}" in text and "--ray-address" in text and "RAY_ADDRESS" in text


def _complete_lines(path: Path) -> list[bytes]:
    if not path.exists():
        return []
    return [line for line in path.read_bytes().splitlines(keepends=True) if line.endswith(b"\n")]


def test_kill_9_of_a_ray_run_then_resume(tmp_path):
    inputs = make_images(tmp_path / "in", 20, seed=9)
    out = tmp_path / "out"
    jsonl = out / "results.jsonl"
    cmd = [sys.executable, "-m", "facetrust", "batch", str(tmp_path / "in"), "--out", str(out), "--engine", "ray",
           "--workers", "2", "-q", "--json"]
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    env.pop("RAY_ADDRESS", None)
    # its own process group: the Ray processes the killed driver leaves behind are ended with it after
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while len(_complete_lines(jsonl)) < 5 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, f"batch ended before it could be killed: {proc.communicate()}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    before = _complete_lines(jsonl)
    n_before = len(before)
    assert 5 <= n_before < 20

    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 1, 3), done.stderr
    summary = json.loads(done.stdout)
    after = _complete_lines(jsonl)
    assert sorted(json.loads(line)["path"] for line in after) == sorted(str(p) for p in inputs)
    assert len(after) == 20 and after[:n_before] == before  # one row per input; the first rows kept as written
    run = summary["this_run"]
    assert run["engine"] == "ray" and run["already_done"] == n_before
    assert run["scanned"] + run["duplicates"] == 20 - n_before
    with sqlite3.connect(out / "ledger.sqlite") as db:
        by_run = dict(db.execute("SELECT run, COUNT(*) FROM files GROUP BY run").fetchall())
    assert by_run == {1: n_before, 2: 20 - n_before}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_joins_a_cluster_started_with_ray_start(tmp_path):
    """``ray start --head`` (a one-machine cluster), then ``--ray-address``: the actors run on it."""
    folder = tmp_path / "in"
    make_images(folder, 6, seed=13)
    port = _free_port()
    # Token authentication off on both sides: with Ray 2.60's default token auth, a driver joining the
    # head started here was refused ("Authentication token is missing or incorrect").
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("RAY_ADDRESS", None)
    ray_cli = Path(sys.executable).with_name("ray")
    log = tmp_path / "head.log"
    with open(log, "wb") as fh:
        head = subprocess.Popen([str(ray_cli), "start", "--head", "--port", str(port), "--num-cpus", "2",
                                 "--include-dashboard=false", "--disable-usage-stats", "--block"],
                                env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while b"Ray runtime started" not in log.read_bytes():
            assert head.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.5)
        done = subprocess.run([sys.executable, "-m", "facetrust", "batch", str(folder), "--out", str(tmp_path / "out"),
                               "--engine", "ray", "--workers", "2", "--ray-address", f"127.0.0.1:{port}", "-q",
                               "--json"], env=env, capture_output=True, text=True, timeout=300)
    finally:
        os.killpg(head.pid, signal.SIGKILL)
        head.wait()
    assert done.returncode in (0, 1, 3), done.stderr[-3000:]
    assert json.loads(done.stdout)["this_run"]["engine"] == "ray"
    run_batch(walk_sources([folder]), tmp_path / "local")
    assert _rows(tmp_path / "out") == _rows(tmp_path / "local")
