"""``POST /v1/verify``: token, the scan upload's checks, and the same JSON as ``facetrust verify``."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

pytest.importorskip("dlib")
pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")

from fastapi.testclient import TestClient  # noqa: E402

from facetrust.server.app import create_app  # noqa: E402
from facetrust.server.config import ServerConfig  # noqa: E402

TOKEN = "test-token-verify-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _jpeg(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(image[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return buf.tobytes()


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    config = ServerConfig(token=TOKEN, data_dir=tmp_path_factory.mktemp("server"), workers=1, queue_size=4,
                          max_image_bytes=400_000, max_video_bytes=3_000_000)
    with TestClient(create_app(config)) as c:
        yield c


def _post(client, probe: bytes | None, reference: bytes | None, headers=AUTH, **fields):
    files = {}
    if probe is not None:
        files["probe"] = ("probe.jpg", probe, "application/octet-stream")
    if reference is not None:
        files["reference"] = ("ref.jpg", reference, "application/octet-stream")
    return client.post("/v1/verify", files=files, data={k: str(v) for k, v in fields.items()}, headers=headers)


def _error(resp, status: int, code: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["code"] == code


def test_same_and_different_person(client, astronaut, astronaut_view, hopper):
    same = _post(client, _jpeg(astronaut), _jpeg(astronaut_view))
    assert same.status_code == 200, same.text
    body = same.json()
    assert body["schema"] == "facetrust.verify/1" and body["decision"] == "same_person"
    assert body["probe"] == "probe.jpg" and body["reference"] == "ref.jpg"
    assert body["probe_scan"]["verdict"] in ("real", "fake") and body["probe_scan"]["path"] == "probe.jpg"
    assert body["probe_liveness"]["verdict"] in ("real", "fake") and body["probe_liveness"]["path"] == "probe.jpg"
    different = _post(client, _jpeg(astronaut), _jpeg(hopper)).json()
    assert different["decision"] == "different_person" and different["same_person_probability"] < 0.5


def test_token_and_upload_checks(client, astronaut):
    good = _jpeg(astronaut)
    _error(_post(client, good, good, headers={}), 401, "unauthorized")
    _error(_post(client, good, None), 400, "bad_request")
    _error(_post(client, good, b"just some text, not media"), 415, "unsupported_media_type")
    big = np.random.default_rng(0).integers(0, 256, (900, 900, 3), dtype=np.uint8)
    _error(_post(client, _jpeg(big), good), 413, "payload_too_large")  # > 400 kB image limit
    _error(_post(client, good, good, threshold="2"), 422, "validation_error")
    _error(client.post("/v1/verify", json={"probe": "x"}, headers=AUTH), 415, "unsupported_media_type")
    _error(_post(client, _mp4(astronaut), good), 415, "unsupported_media_type")  # a video is no photo


def _mp4(image: np.ndarray) -> bytes:
    import io

    import av

    buf = io.BytesIO()
    small = np.ascontiguousarray(cv2.resize(image, (128, 128)))
    with av.open(buf, "w", format="mp4") as c:
        stream = c.add_stream("libx264", rate=8)
        stream.width, stream.height, stream.pix_fmt = 128, 128, "yuv420p"
        for _ in range(3):
            for packet in stream.encode(av.VideoFrame.from_ndarray(small, format="rgb24")):
                c.mux(packet)
        for packet in stream.encode():
            c.mux(packet)
    return buf.getvalue()


def test_no_face_is_not_applicable(client, astronaut):
    import skimage.data

    body = _post(client, _jpeg(astronaut), _jpeg(skimage.data.coffee())).json()
    assert body["status"] == "not_applicable" and body["reason"] == "reference: no face found"
