"""The server's path scans walk folders and globs with the walker of ``facetrust batch`` and ``scan_paths``."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from facetrust.io.inputs import collect_entries  # noqa: E402
from facetrust.server.config import ServerConfig  # noqa: E402

TOKEN = "walker-test-token-0123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _tree(root: Path, astronaut) -> None:
    sub = root / "sub"
    sub.mkdir(parents=True)
    for i, folder in enumerate((root, root, sub)):
        crop = astronaut[i * 20:i * 20 + 200, 150:350]
        cv2.imwrite(str(folder / f"face_{i}.jpg"), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
    (root / "notes.txt").write_text("not media")


@pytest.fixture
def client(tmp_path, astronaut):
    from fastapi.testclient import TestClient

    from facetrust.server.app import create_app

    root = tmp_path / "root"
    _tree(root, astronaut)
    (tmp_path / "outside.jpg").write_bytes((root / "face_0.jpg").read_bytes())
    app = create_app(ServerConfig(token=TOKEN, data_dir=tmp_path / "data", workers=1, queue_size=8,
                                  allowed_roots=(str(root),)))
    with TestClient(app) as c:
        app.state.pool.stop()  # the records are what is checked; nothing needs scanning
        yield c, root, app


def _sources(resp) -> list[str]:
    assert all(s["source"] == "path" for s in resp.json()["scans"])
    return sorted(s["filename"] for s in resp.json()["scans"])


def test_a_glob_is_one_scan_per_file_it_matches_as_the_batch_walker_sees_them(client):
    c, root, app = client
    pattern = f"{root}/**/*.jpg"
    resp = c.post("/v1/scans", json={"path": pattern}, headers=AUTH)
    assert resp.status_code == 202, resp.text
    walked = sorted(str(Path(e.path).resolve()) for e in collect_entries([pattern]))
    assert _sources(resp) == walked and len(walked) == 3
    assert resp.json()["skipped"] == []
    assert all(s["status"] == "queued" for s in resp.json()["scans"])


def test_a_folder_queues_its_media_and_lists_what_it_skipped(client):
    c, root, _ = client
    resp = c.post("/v1/scans", json={"path": str(root)}, headers=AUTH)
    assert resp.status_code == 202, resp.text
    assert len(resp.json()["scans"]) == 3
    assert [(s["path"], s["code"]) for s in resp.json()["skipped"]] == [(str(root / "notes.txt"),
                                                                         "unsupported_media_type")]


def test_globs_outside_the_roots_or_matching_nothing_are_refused(client):
    c, root, _ = client
    assert c.post("/v1/scans", json={"path": f"{root.parent}/*.jpg"}, headers=AUTH).status_code == 403
    assert c.post("/v1/scans", json={"path": f"{root}/../*.jpg"}, headers=AUTH).status_code == 403
    resp = c.post("/v1/scans", json={"path": f"{root}/*.png"}, headers=AUTH)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
    assert c.post("/v1/scans", json={"path": "sub/*.jpg"}, headers=AUTH).status_code == 422


def test_more_files_than_the_queue_holds_is_refused(tmp_path, astronaut):
    from fastapi.testclient import TestClient

    from facetrust.server.app import create_app

    root = tmp_path / "root"
    _tree(root, astronaut)
    app = create_app(ServerConfig(token=TOKEN, data_dir=tmp_path / "data", workers=1, queue_size=2,
                                  allowed_roots=(str(root),)))
    with TestClient(app) as c:
        app.state.pool.stop()
        resp = c.post("/v1/scans", json={"path": f"{root}/**/*.jpg"}, headers=AUTH)
        assert resp.status_code == 413 and "at most 2" in resp.json()["error"]["message"]
        assert app.state.store.count("queued") == 0
