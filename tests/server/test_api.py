"""The REST API end to end in-process (TestClient runs the real app, store, workers and models)."""

from __future__ import annotations

import math

import os
import time

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")

import cv2  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from facetrust.server.app import create_app  # noqa: E402
from facetrust.server.config import ServerConfig  # noqa: E402

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _jpeg(image: np.ndarray, quality: int = 92) -> bytes:
    ok, buf = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


@pytest.fixture(scope="module")
def media_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("allowed")
    (root / "inside").mkdir()
    return root


@pytest.fixture(scope="module")
def client(tmp_path_factory, media_root):
    data_dir = tmp_path_factory.mktemp("server")
    config = ServerConfig(token=TOKEN, data_dir=data_dir, workers=1, queue_size=8,
                          max_image_bytes=400_000, max_video_bytes=3_000_000, allowed_roots=(str(media_root),))
    with TestClient(create_app(config)) as c:
        yield c


def _upload(client, data: bytes, name: str = "x.jpg", headers=AUTH, **fields):
    return client.post("/v1/scans", files={"file": (name, data, "application/octet-stream")},
                       data={k: str(v) for k, v in fields.items()}, headers=headers)


def _poll(client, scan_id: str, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = client.get(f"/v1/scans/{scan_id}", headers=AUTH).json()
        if view["status"] in ("done", "failed"):
            return view
        time.sleep(0.2)
    raise AssertionError(f"scan {scan_id} not finished after {timeout} s: {view}")


def _error(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body


# -- auth and operations ------------------------------------------------------------------------

def test_token_is_required_on_the_api_but_not_on_health_or_page(client):
    resp = client.get("/v1/scans")
    _error(resp, 401, "unauthorized")
    assert resp.headers["www-authenticate"] == "Bearer"
    _error(client.get("/v1/scans", headers={"Authorization": "Bearer wrong-token-xxxx"}), 401, "unauthorized")
    _error(client.get("/metrics", headers={"Authorization": TOKEN}), 401, "unauthorized")  # no scheme
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok" and health.json()["store"] == "sqlite"
    assert "paths" in client.get("/openapi.json").json()


def test_detectors_lists_the_default(client):
    body = client.get("/v1/detectors", headers=AUTH).json()
    names = [d["name"] for d in body["detectors"]]
    assert body["default"] == ["forensicnet"] and "forensicnet" in names
    net = next(d for d in body["detectors"] if d["name"] == "forensicnet")
    assert 0 < net["default_threshold"] < 1


# -- images ---------------------------------------------------------------------------------------

def test_image_upload_answers_synchronously_with_the_cli_schema(client, hopper, astronaut, tmp_path):
    from facetrust import api
    from facetrust.demo import paste_face
    from facetrust.report.schema import from_json_dict

    forged, _ = paste_face(hopper, astronaut)
    data = _jpeg(forged)
    resp = _upload(client, data, name="../../evil/forged face.jpg")
    assert resp.status_code == 200, resp.text
    view = resp.json()
    assert view["status"] == "done" and view["kind"] == "image" and view["source"] == "upload"
    assert view["filename"] == "forged face.jpg"  # the client's name, stripped of any folder
    assert resp.headers["location"] == f"/v1/scans/{view['id']}"
    report = from_json_dict(view["result"])  # the CLI's JSON schema round-trips
    result = report.results[0]
    assert result.path == "forged face.jpg" and result.faces
    # Same bytes scanned in-process give the same probability: the server adds no hidden step.
    path = tmp_path / "forged.jpg"
    path.write_bytes(data)
    direct = api.scan(str(path))
    assert view["fake_probability"] == pytest.approx(direct.fake_probability, abs=1e-5)
    assert view["verdict"] == direct.verdict
    import hashlib

    assert view["media_sha256"] == hashlib.sha256(data).hexdigest() and view["media_bytes"] == len(data)


def test_artifacts_match_the_result(client, astronaut):
    view = _upload(client, _jpeg(astronaut)).json()
    arts = view["artifacts"]
    prev = client.get(arts["preview"]["url"], headers=AUTH)
    assert prev.headers["content-type"] == "image/jpeg"
    img = cv2.imdecode(np.frombuffer(prev.content, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape[:2] == (arts["preview"]["height"], arts["preview"]["width"])
    over = client.get(arts["overlay"], headers=AUTH)
    rgba = cv2.imdecode(np.frombuffer(over.content, np.uint8), cv2.IMREAD_UNCHANGED)
    assert rgba.shape == (img.shape[0], img.shape[1], 4)
    # The overlay is opaque only inside the face crop: around the box, transparent far from it.
    face = view["result"]["results"][0]["faces"][0]
    s = arts["preview"]["scale"]
    x0, y0, x1, y1 = (int(v * s) for v in face["box"])
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    assert rgba[cy, cx, 3] > 0
    assert rgba[..., 3].mean() < 0.6 * 255 and (rgba[..., 3] == 0).mean() > 0.2
    html = client.get(arts["report"], headers=AUTH)
    assert html.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in html.headers["content-security-policy"]
    assert "<script" not in html.text.lower() and view["verdict"] in html.text


def test_no_face_is_not_applicable_and_corrupt_is_an_error_verdict(client, astronaut):
    blank = np.full((240, 320, 3), 127, np.uint8)
    view = _upload(client, _jpeg(blank)).json()
    assert view["verdict"] == "not_applicable" and "no face" in view["result"]["results"][0]["reason"]
    data = _jpeg(astronaut)
    view = _upload(client, data[: len(data) // 3]).json()  # truncated JPEG: sniffed as image, fails decoding
    assert view["status"] == "done" and view["verdict"] == "error"
    assert view["result"]["results"][0]["error_type"] == "corrupt_media"


def test_wait_false_returns_a_job(client, astronaut):
    resp = _upload(client, _jpeg(astronaut), wait="false")
    assert resp.status_code in (200, 202)
    assert _poll(client, resp.json()["id"])["status"] == "done"


# -- video ------------------------------------------------------------------------------------------

def test_video_is_a_job_with_progress_and_a_timeline(client, demo_media):
    data = demo_media["hopper_half_forged.mp4"].read_bytes()
    resp = _upload(client, data, name="clip.mp4", frames=6)
    assert resp.status_code == 202, resp.text
    view = resp.json()
    assert view["kind"] == "video" and view["status"] in ("queued", "running")
    done = _poll(client, view["id"])
    assert done["status"] == "done" and done["progress"] == 1.0
    assert done["frames_done"] == done["frames_total"] == 6
    result = done["result"]["results"][0]
    assert result["media_type"] == "video" and len(result["frames"]) == 6
    assert result["tracks"] and result["verdict"] in ("real", "fake")
    assert done["artifacts"]["preview"]["frame_index"] in [f["index"] for f in result["frames"]]


# -- server-side paths ------------------------------------------------------------------------------

def test_path_scan_inside_the_allowed_root(client, media_root, astronaut):
    path = media_root / "inside" / "a.jpg"
    path.write_bytes(_jpeg(astronaut))
    resp = client.post("/v1/scans", json={"path": str(path), "threshold": 0.5}, headers=AUTH)
    assert resp.status_code == 200, resp.text
    view = resp.json()
    assert view["source"] == "path" and view["filename"] == str(path.resolve())
    assert view["result"]["results"][0]["threshold"] == 0.5


def test_paths_outside_the_root_are_forbidden(client, media_root, tmp_path, astronaut):
    outside = tmp_path / "secret.jpg"
    outside.write_bytes(_jpeg(astronaut))
    link = media_root / "inside" / "link.jpg"
    if not link.exists():
        os.symlink(outside, link)
    for p in (str(outside), str(media_root / "inside" / ".." / ".." / outside.name), str(link), "/etc/passwd"):
        _error(client.post("/v1/scans", json={"path": p}, headers=AUTH), 403, "forbidden_path")
    _error(client.post("/v1/scans", json={"path": "relative.jpg"}, headers=AUTH), 422, "validation_error")
    _error(client.post("/v1/scans", json={"path": str(media_root / "nope.jpg")}, headers=AUTH), 404, "not_found")


# -- bad requests -----------------------------------------------------------------------------------

def test_bad_requests_get_the_right_4xx(client, astronaut):
    big = np.random.default_rng(0).integers(0, 256, (900, 900, 3), dtype=np.uint8)
    _error(_upload(client, _jpeg(big, 95)), 413, "payload_too_large")  # > 400 kB image limit
    _error(_upload(client, b"just some text, not media"), 415, "unsupported_media_type")
    _error(_upload(client, b""), 400, "bad_request")
    _error(client.post("/v1/scans", content=b"x", headers={**AUTH, "Content-Type": "text/plain"}),
           415, "unsupported_media_type")
    _error(client.post("/v1/scans", content=b"--xyz\r\nContent-Disposition: form-data; name=\"file\"",
                       headers={**AUTH, "Content-Type": "multipart/form-data; boundary=xyz"}), 400, "bad_request")
    _error(client.post("/v1/scans", data={"threshold": "0.5"}, files={"other": ("a", b"1")}, headers=AUTH),
           400, "bad_request")
    _error(client.post("/v1/scans", content=b"{not json", headers={**AUTH, "Content-Type": "application/json"}),
           400, "bad_request")
    jpg = _jpeg(astronaut)
    _error(_upload(client, jpg, threshold="high"), 422, "validation_error")
    _error(_upload(client, jpg, threshold="1.5"), 422, "validation_error")
    _error(_upload(client, jpg, detectors="nope"), 422, "validation_error")
    _error(_upload(client, jpg, colour="red"), 422, "validation_error")
    _error(_upload(client, jpg, frames="0"), 422, "validation_error")
    _error(client.get("/v1/scans/0123456789abcdef0123456789abcdef", headers=AUTH), 404, "not_found")
    _error(client.get("/v1/scans/..%2F..%2Fetc", headers=AUTH), 404, "not_found")
    _error(client.get("/v1/scans?cursor=garbage", headers=AUTH), 400, "bad_request")


def test_requests_set_the_quality_gate_and_a_shorter_media_budget(client, astronaut, demo_media):
    """Issue 16: the quality-gate options and media_budget_s reach a request through ScanOptions' one
    declaration, with its limits; a request may shorten the server's budget, never lengthen it."""
    from facetrust.pipeline import ScanOptions

    jpg = _jpeg(astronaut)
    gated = _upload(client, jpg, quality_min_sharpness="1e9", quality_min_confidence="0.99")
    assert gated.status_code == 200, gated.text
    r = gated.json()["result"]
    assert r["settings"]["quality_min_sharpness"] == 1e9 and r["settings"]["quality_min_confidence"] == 0.99
    faces = r["results"][0]["faces"]
    assert faces and not any(f["decisive"] for f in faces)  # no face passes such a gate
    plain = _upload(client, jpg).json()["result"]
    assert any(f["decisive"] for f in plain["results"][0]["faces"])
    assert plain["settings"]["quality_min_sharpness"] == ScanOptions.default("quality_min_sharpness")

    # The budget bounds video decoding (images are bounded by max_pixels): a too-short one is said per row.
    video = demo_media["hopper_half_forged.mp4"].read_bytes()
    short = _upload(client, video, name="clip.mp4", frames=6, media_budget_s="0.000001")
    assert short.status_code == 202, short.text
    res = _poll(client, short.json()["id"])["result"]["results"][0]
    assert res["verdict"] == "error" and res["error_type"] == "budget_exceeded"
    cap = ScanOptions.default("media_budget_s")
    body = _error(_upload(client, jpg, media_budget_s=str(cap + 1)), 422, "validation_error")
    assert f"at most {cap:g}" in body["error"]["message"]
    for bad in {"media_budget_s": "0", "quality_min_confidence": "1.5", "quality_min_size": "-1",
                "quality_min_landmarks": "x"}.items():
        _error(_upload(client, jpg, **dict([bad])), 422, "validation_error")
    # /docs: the same names and limits, generated from the declaration
    props = client.get("/openapi.json").json()["paths"]["/v1/scans"]["post"]["requestBody"]["content"][
        "multipart/form-data"]["schema"]["properties"]
    assert props["quality_min_confidence"]["maximum"] == 1.0 and props["quality_min_size"]["minimum"] == 0.0
    assert props["media_budget_s"]["exclusiveMinimum"] == 0.0 and "not raise it" in props["media_budget_s"]["description"]
    assert props["threshold"] == {"type": "number", "description": props["threshold"]["description"],
                                  "minimum": 0.0, "maximum": 1.0}


def test_the_budget_cap_is_the_servers_own(tmp_path):
    from facetrust.server.errors import ApiError
    from facetrust.server.intake import parse_options

    config = ServerConfig(token=TOKEN, data_dir=tmp_path, default_options={"media_budget_s": 60.0})
    assert parse_options({"media_budget_s": "30"}, config)["media_budget_s"] == 30.0
    with pytest.raises(ApiError) as exc:
        parse_options({"media_budget_s": "61"}, config)
    assert exc.value.status_code == 422 and "at most 60" in exc.value.detail
    assert parse_options({}, config)["media_budget_s"] == 60.0  # not given: the server's


def test_a_body_over_the_hard_cap_is_refused_before_it_is_read(client):
    # Declared size above every limit: 413 from the Content-Length alone.
    resp = client.post("/v1/scans", content=b"0" * 10, headers={**AUTH, "Content-Type": "multipart/form-data; "
                       "boundary=b", "Content-Length": str(50_000_000)})
    _error(resp, 413, "payload_too_large")


# -- history, metrics, queue -------------------------------------------------------------------------

def test_history_pages_newest_first_without_duplicates(client, astronaut):
    ids = [_upload(client, _jpeg(astronaut, q)).json()["id"] for q in (70, 71, 72)]
    seen, cursor = [], None
    while True:
        page = client.get("/v1/scans", params={"limit": 2, **({"cursor": cursor} if cursor else {})},
                          headers=AUTH).json()
        assert len(page["items"]) <= 2 and all("result" not in it for it in page["items"])
        seen += [it["id"] for it in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen))
    assert seen[:3] == ids[::-1]  # newest first


def test_metrics_count_requests_and_scans(client, astronaut):
    _upload(client, _jpeg(astronaut))
    text = client.get("/metrics", headers=AUTH).text
    assert 'facetrust_http_requests_total{method="POST",route="/v1/scans",status="200"}' in text
    assert "facetrust_scans_total{" in text and 'facetrust_scans_in_state{status="done"}' in text


def test_full_queue_answers_429_with_retry_after(tmp_path, astronaut):
    config = ServerConfig(token=TOKEN, data_dir=tmp_path, workers=1, queue_size=2)
    app = create_app(config)
    with TestClient(app) as c:
        app.state.pool.stop()  # no worker: queued scans stay queued
        for _ in range(2):
            assert _upload(c, _jpeg(astronaut), wait="false").status_code == 202
        resp = _upload(c, _jpeg(astronaut), wait="false")
        _error(resp, 429, "queue_full")
        assert int(resp.headers["retry-after"]) >= 1
        assert c.get("/healthz").json()["queued"] == 2
        pool = app.state.pool
        pool.record_scan_time(12.0)  # the first measured scan replaces the 1 s prior...
        assert pool.mean_scan_s == 12.0
        pool.record_scan_time(2.0)  # ...later ones are averaged
        assert pool.mean_scan_s == pytest.approx(0.8 * 12.0 + 0.2 * 2.0)
        resp = _upload(c, _jpeg(astronaut), wait="false")  # 3 waiting incl. this one, 1 worker
        assert int(resp.headers["retry-after"]) == math.ceil(3 * pool.mean_scan_s)


# -- configuration -----------------------------------------------------------------------------------

def test_config_refuses_to_start_without_a_token(tmp_path):
    from facetrust.server.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="token"):
        ServerConfig(data_dir=tmp_path).validate()
    with pytest.raises(ConfigError, match="loopback"):
        ServerConfig(data_dir=tmp_path, insecure_local=True, host="0.0.0.0").validate()
    ServerConfig(data_dir=tmp_path, insecure_local=True, host="127.0.0.1").validate()
    toml = tmp_path / "server.toml"
    toml.write_text('[server]\nworkers = 3\ntoken = "from-the-file-123"\n')
    cfg = load_config(toml, env={"FACETRUST_TOKEN": "from-the-env-123"}, port=9999)
    assert (cfg.workers, cfg.token, cfg.port) == (3, "from-the-env-123", 9999)
    toml.write_text('[server]\nwrokers = 3\n')
    with pytest.raises(ConfigError, match="wrokers"):
        load_config(toml, env={})
    # yes/no settings read one way everywhere; a typo is an error, never a silent "false"
    for text, flag in (("on", True), ("off", False), ("yes", True)):
        toml.write_text(f'insecure_local = "{text}"\n')
        assert load_config(toml, env={}).insecure_local is flag
    toml.write_text('insecure_local = "ture"\n')
    with pytest.raises(ConfigError, match="insecure_local"):
        load_config(toml, env={})


def test_serve_cli_exits_2_without_a_token(tmp_path, monkeypatch, capsys):
    from facetrust.cli import main

    monkeypatch.delenv("FACETRUST_TOKEN", raising=False)
    assert main(["serve", "--data-dir", str(tmp_path)]) == 2
    assert "token" in capsys.readouterr().err


def test_insecure_local_serves_without_a_token(tmp_path):
    with TestClient(create_app(ServerConfig(insecure_local=True, data_dir=tmp_path, workers=1))) as c:
        assert c.get("/v1/scans").status_code == 200


def test_undecodable_upload_names_are_stored_readably(tmp_path, astronaut):
    import io

    from facetrust.server.intake import store_upload
    from facetrust.server.media import MediaStore

    config = ServerConfig(token=TOKEN, data_dir=tmp_path)
    intake = store_upload(io.BytesIO(_jpeg(astronaut)), "dir/bad\udcffname.jpg", None, MediaStore(tmp_path), config)
    assert intake.filename == "bad?name.jpg" and intake.kind == "image"
    from facetrust.server.store import Store

    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.migrate()
    rec = store.create_scan(kind=intake.kind, source=intake.source, filename=intake.filename,
                            media_path=intake.media_path, media_sha256=intake.media_sha256,
                            media_bytes=intake.media_bytes, options={})
    assert store.get_scan(rec.id).filename == "bad?name.jpg"
    store.close()


def test_the_service_runs_on_each_store_backend(store_url, tmp_path, astronaut):
    """Upload, history and health through the app on SQLite and on PostgreSQL (when available)."""
    config = ServerConfig(token=TOKEN, data_dir=tmp_path, workers=1, db_url=store_url)
    with TestClient(create_app(config)) as c:
        assert c.get("/healthz").json()["store"] == store_url.split(":")[0].split("+")[0]
        view = _upload(c, _jpeg(astronaut)).json()
        assert view["status"] == "done" and view["verdict"] in ("real", "fake")
        assert c.get("/v1/scans", headers=AUTH).json()["items"][0]["id"] == view["id"]
        assert c.get(f"/v1/scans/{view['id']}", headers=AUTH).json()["result"] == view["result"]


def test_saved_artifacts_restore_what_the_worker_had(tmp_path, demo_media):
    """The report rendered later from saved files shows the same frames and overlays as one rendered at once."""
    from facetrust import api
    from facetrust.report.html import render_html
    from facetrust.report.schema import to_json_dict
    from facetrust.server import artifacts

    result = api.scan(str(demo_media["hopper_half_forged.mp4"]), frames=6)
    report = api.make_report([result], frames=6)
    artifacts.save_scan_artifacts(result, tmp_path)
    back = artifacts.restore(to_json_dict(report), tmp_path).results[0]
    assert sorted(back.previews) == sorted(result.previews) and back.preview_scale == result.preview_scale
    with_heat = [(a, b) for a, b in zip(result.faces, back.faces, strict=True) if a.frame_index in result.previews]
    assert with_heat and all(b.heatmap is not None for _, b in with_heat)
    for a, b in with_heat:
        assert np.abs(a.heatmap - b.heatmap).max() <= 0.5 / 255 + 1e-6  # uint8 quantisation only
    eager, lazy = render_html(report), render_html(artifacts.restore(to_json_dict(report), tmp_path))
    assert lazy.count('class="overlay"') == eager.count('class="overlay"') > 0
    assert lazy.count('class="preview"') == eager.count('class="preview"')
    served = artifacts.report_path(to_json_dict(report), tmp_path).read_text()
    assert served.count('class="overlay"') == eager.count('class="overlay"')


def test_images_have_their_own_lane_and_never_wait_behind_videos(tmp_path, demo_media, astronaut):
    from facetrust.server.jobs import lane_kinds

    assert lane_kinds(0, 1) is None  # one worker does everything
    assert [lane_kinds(k, 3) for k in range(3)] == [("image",), None, None]
    config = ServerConfig(token=TOKEN, data_dir=tmp_path, workers=2)
    video = demo_media["hopper_half_forged.mp4"].read_bytes()
    with TestClient(create_app(config)) as c:
        _upload(c, _jpeg(astronaut))  # models loaded before timing anything
        v1 = _upload(c, video, name="v1.mp4", every=1).json()["id"]
        v2 = _upload(c, video, name="v2.mp4", every=1).json()["id"]
        image = _upload(c, _jpeg(astronaut, 80))
        assert image.status_code == 200 and image.json()["status"] == "done"
        # The second video waits for the general worker; the image did not wait for either.
        assert c.get(f"/v1/scans/{v2}", headers=AUTH).json()["status"] == "queued"
        assert _poll(c, v1)["status"] == "done" and _poll(c, v2)["status"] == "done"


def test_api_docs_load_nothing_from_the_internet(client):
    import re

    page = client.get("/docs")
    assert page.status_code == 200 and "swagger" in page.text.lower()
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text) + re.findall(r"url: '([^']+)'", page.text)
    assert urls and not [u for u in urls if u.startswith(("http:", "https:", "//"))]
    for u in urls:
        assert client.get(u).status_code == 200, u
