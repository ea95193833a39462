"""The server under abuse (issue 13, defect 6): a live ``facetrust serve`` on 127.0.0.1 with short limits,
driven over raw sockets where a well-behaved HTTP client would not misbehave enough.

Every loop is bounded (a count or a deadline) and every socket has a timeout, so the module stops by
itself whatever the server does. The limits set here are the settings of ``server/config.py``, shortened
so that the time limits show within seconds.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

import cv2  # noqa: E402

from facetrust.server.config import ServerConfig  # noqa: E402
from facetrust.server.jsonbody import json_depth  # noqa: E402
from facetrust.server.process import ServerProcess  # noqa: E402

TOKEN = "abuse-test-token-0123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LIMITS = {  # short time limits so that each shows within seconds
    "header_timeout_s": 1.5, "body_idle_timeout_s": 1.5, "body_timeout_s": 4.0, "keep_alive_s": 1.0,
    "max_header_count": 50, "max_header_bytes": 8192, "max_json_bytes": 65536, "max_json_depth": 16,
}
SLOW_CLIENTS = 40  # as many slow-loris sockets as the attack held open


def _toml(settings: dict) -> str:
    return "[server]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in settings.items())


def _start(tmp: Path, settings: dict, *flags: str) -> ServerProcess:
    cfg = tmp / "server.toml"
    cfg.write_text(_toml(settings))
    server = ServerProcess(tmp / "data", TOKEN, "--config", str(cfg), "--workers", "1", *flags,
                           log=tmp / "server.log")
    try:
        server.wait_ready(60)
    except RuntimeError as exc:
        server.stop()
        pytest.fail(str(exc))
    return server


@pytest.fixture(scope="module")
def allowed(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("allowed")


@pytest.fixture(scope="module")
def server(tmp_path_factory, allowed):
    proc = _start(tmp_path_factory.mktemp("abuse"), {**LIMITS, "allowed_roots": [str(allowed)]})
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.base, headers=AUTH, timeout=30.0) as c:
        yield c


def _jpeg(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return buf.tobytes()


def _connect(server: ServerProcess, timeout: float = 10.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)


def _read_until_closed(sock: socket.socket, deadline: float) -> tuple[bytes, bool]:
    """What the server sent and whether it closed the connection, by ``deadline`` (monotonic)."""
    data = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def _raw_request(server, head: bytes, body: bytes = b"", wait_s: float = 10.0) -> tuple[int, dict, bool]:
    """Send ``head`` (+ ``body``) and read to the close: (status, JSON body or {}, closed)."""
    with _connect(server) as sock:
        try:
            sock.sendall(head + body)
        except (BrokenPipeError, ConnectionResetError):  # refused while we were still sending
            pass
        data, closed = _read_until_closed(sock, time.monotonic() + wait_s)
    return _parse_answer(data) + (closed,)


def _parse_answer(data: bytes) -> tuple[int, dict]:
    match = re.match(rb"HTTP/1\.1 (\d{3})", data)
    assert match, f"no HTTP answer: {data[:200]!r}"
    head, _, body = data.partition(b"\r\n\r\n")
    try:
        return int(match.group(1)), json.loads(body) if body else {}
    except ValueError:
        return int(match.group(1)), {"raw": body[:200].decode(errors="replace")}


def _error(status_body: tuple, status: int, code: str) -> None:
    got, body = status_body[0], status_body[1]
    assert got == status, body
    assert body["error"]["code"] == code and body["error"]["message"], body


def _metrics(client) -> str:
    return client.get("/metrics").text


def _request_counts(text: str) -> dict[tuple[str, str, str], float]:
    counts = {}
    for m in re.finditer(r'^facetrust_http_requests_total\{method="([^"]*)",route="([^"]*)",status="(\d+)"\} (\S+)',
                         text, re.M):
        counts[m.group(1), m.group(2), m.group(3)] = float(m.group(4))
    return counts


def _no_asgi_errors(server: ServerProcess) -> None:
    log = server.log_tail(200_000)
    assert "Exception in ASGI application" not in log, log[-3000:]
    assert "Traceback" not in log, log[-3000:]


# -- JSON bodies ------------------------------------------------------------------------------------

def test_json_depth_counts_brackets_outside_strings():
    assert json_depth(b'"x"') == 0
    assert json_depth(b'{"a": [1, {"b": []}]}') == 4
    assert json_depth(b'{"path": "[[[[{{{{", "q": "\\"[["}') == 1  # brackets inside strings, escaped quote
    assert json_depth(b"[" * 5000 + b"]" * 5000) == 5000


def test_deeply_nested_json_is_a_400_not_a_500(server, client):
    deep = "[" * 30000 + "]" * 30000  # 60 kB: under the size limit, far over Python's recursion limit
    for body in (deep, json.dumps({"path": "/x.jpg", "detectors": json.loads("[" * 17 + "]" * 17)}),
                 '{"a": ' * 9000 + "1" + "}" * 9000):
        resp = client.post("/v1/scans", content=body, headers={"Content-Type": "application/json"})
        assert resp.status_code == 400, resp.text
        assert resp.json()["error"]["code"] == "bad_request" and "deeper" in resp.json()["error"]["message"]
    resp = client.post("/v1/scans", content=b"[" + b"1," * 40000 + b"1]", headers={"Content-Type": "application/json"})
    assert resp.status_code == 413 and resp.json()["error"]["code"] == "payload_too_large", resp.text
    # 16 levels is allowed: the request reaches the options check (422), not the JSON limits
    ok_depth = json.dumps({"path": "/x.jpg", "detectors": json.loads("[" * 15 + "]" * 15)})
    assert client.post("/v1/scans", content=ok_depth, headers={"Content-Type": "application/json"}).status_code == 422
    assert not any(s == "500" for _, _, s in _request_counts(_metrics(client)))
    _no_asgi_errors(server)


# -- clients that go away ---------------------------------------------------------------------------

def _upload_head(length: int, boundary: str = "b0undary") -> bytes:
    return (f"POST /v1/scans HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {length}\r\n\r\n").encode()


def test_client_disconnects_are_counted_as_499_and_not_logged_as_errors(server, client):
    before = _request_counts(_metrics(client))
    part = b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n' + b"\xff\xd8" * 500
    for _ in range(5):  # mid-upload, and (below) mid-JSON
        with _connect(server) as sock:
            sock.sendall(_upload_head(200_000) + part)
            time.sleep(0.2)
    with _connect(server) as sock:
        sock.sendall(b"POST /v1/scans HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode()
                     + b"\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"path\": ")
        time.sleep(0.2)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        after = _request_counts(_metrics(client))
        closed = after.get(("POST", "/v1/scans", "499"), 0) - before.get(("POST", "/v1/scans", "499"), 0)
        if closed >= 6:
            break
        time.sleep(0.2)
    assert closed == 6, after
    assert after.get(("POST", "/v1/scans", "500"), 0) == before.get(("POST", "/v1/scans", "500"), 0) == 0
    _no_asgi_errors(server)


# -- slow clients -----------------------------------------------------------------------------------

def test_slow_loris_heads_are_answered_408_and_closed(server):
    socks = [_connect(server) for _ in range(SLOW_CLIENTS)]
    try:
        t0 = time.monotonic()
        for s in socks:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        n_byte = 0
        while time.monotonic() - t0 < LIMITS["header_timeout_s"] + 0.5:  # a header byte every 0.25 s
            for s in socks:
                try:
                    s.sendall(b"X-Slow: %d\r\n" % n_byte)
                except OSError:  # already closed by the server: fine
                    pass
            n_byte += 1
            time.sleep(0.25)
        answers = [_read_until_closed(s, time.monotonic() + 5) for s in socks]
        elapsed = time.monotonic() - t0
    finally:
        for s in socks:
            s.close()
    assert all(closed for _, closed in answers), f"{sum(not c for _, c in answers)} of {SLOW_CLIENTS} still open"
    for data, _ in answers:
        status, body = _parse_answer(data)
        assert status == 408 and body["error"]["code"] == "request_timeout", data[:300]
    assert elapsed < LIMITS["header_timeout_s"] + 6


def test_an_idle_kept_alive_connection_is_closed(server):
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        t0 = time.monotonic()
        data, closed = _read_until_closed(sock, t0 + LIMITS["keep_alive_s"] + 3)
    assert data.startswith(b"HTTP/1.1 200") and closed
    assert time.monotonic() - t0 < LIMITS["keep_alive_s"] + 3


def test_a_stalled_or_crawling_body_is_answered_408(server, client):
    part = b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n\xff\xd8'
    # stalled: a start of the body, then silence
    t0 = time.monotonic()
    status, body, closed = _raw_request(server, _upload_head(100_000), part, wait_s=LIMITS["body_idle_timeout_s"] + 5)
    _error((status, body), 408, "request_timeout")
    assert closed and time.monotonic() - t0 < LIMITS["body_idle_timeout_s"] + 5
    # crawling: a byte every 0.5 s keeps it under the idle limit, not under the whole-body limit
    with _connect(server) as sock:
        sock.sendall(_upload_head(100_000) + part)
        t0 = time.monotonic()
        data = b""
        while time.monotonic() - t0 < LIMITS["body_timeout_s"] + 4:
            try:
                sock.sendall(b"\x00")
            except OSError:
                break
            got, closed = _read_until_closed(sock, time.monotonic() + 0.5)
            data += got
            if closed:
                break
    _error(_parse_answer(data), 408, "request_timeout")
    assert closed and time.monotonic() - t0 < LIMITS["body_timeout_s"] + 4
    _no_asgi_errors(server)


# -- headers ----------------------------------------------------------------------------------------

def test_too_many_or_too_large_headers_are_431(server):
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(10_000))  # the 10,000 headers (~120 kB)
    _error(_raw_request(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")[:2], 431, "headers_too_large")
    over_count = b"".join(b"X-H%d: v\r\n" % i for i in range(LIMITS["max_header_count"] + 1))  # < 1 kB
    _error(_raw_request(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + over_count + b"\r\n")[:2],
           431, "headers_too_large")
    one_big = b"X-Big: " + b"a" * (LIMITS["max_header_bytes"] + 100) + b"\r\n"
    _error(_raw_request(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + one_big + b"\r\n")[:2],
           431, "headers_too_large")
    # a head that arrives in pieces and grows past the limit before it is complete
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        for i in range(40):
            try:
                sock.sendall(b"X-Piece-%d: %s\r\n" % (i, b"p" * 400))
            except OSError:
                break
            time.sleep(0.01)
        data, closed = _read_until_closed(sock, time.monotonic() + 5)
    _error(_parse_answer(data), 431, "headers_too_large")
    assert closed
    under = b"".join(b"X-H%d: v\r\n" % i for i in range(LIMITS["max_header_count"] - 5))
    assert _raw_request(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + under + b"\r\n")[0] == 200


# -- metrics ----------------------------------------------------------------------------------------

def test_unknown_methods_and_paths_do_not_add_metric_labels(server, client):
    for i in range(30):
        method = f"FOO{i}"
        resp = client.request(method, f"/v1/scans/{uuid.uuid4().hex}")
        assert resp.status_code in (404, 405), resp.text
        assert client.get(f"/nope/{uuid.uuid4().hex}").status_code == 404
    text = _metrics(client)
    counts = _request_counts(text)
    methods = {m for m, _, _ in counts}
    routes = {r for _, r, _ in counts}
    assert "FOO0" not in text and "other" in methods
    assert methods <= {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other"}
    assert not any("/nope/" in r or re.search(r"[0-9a-f]{32}", r) for r in routes), routes
    assert counts.get(("other", "/v1/scans/{scan_id}", "405"), 0) + counts.get(("other", "unmatched", "405"), 0) >= 30


# -- media the server names ---------------------------------------------------------------------------

def test_error_messages_name_the_upload_not_the_storage_path(server, client, astronaut):
    broken = _jpeg(astronaut)[:600]  # a JPEG head, then nothing: a corrupt_media error
    resp = client.post("/v1/scans", files={"file": ("holiday photo.jpg", broken, "image/jpeg")})
    assert resp.status_code == 200, resp.text
    view = resp.json()
    assert view["result"]["results"][0]["verdict"] == "error"
    text = json.dumps(view["result"])
    assert "holiday photo.jpg" in text and view["media_sha256"] not in text and "/media/" not in text
    assert str(Path(server.log).parent / "data") not in text


def test_a_path_scan_scans_the_bytes_it_hashed(server, client, allowed, astronaut):
    original = _jpeg(astronaut)
    target = allowed / "swap.jpg"
    target.write_bytes(original)
    resp = client.post("/v1/scans", json={"path": str(target), "wait": False})
    assert resp.status_code in (200, 202), resp.text
    target.write_bytes(b"\xff\xd8\xff\xe0 not the image that was hashed")  # changed after the request
    deadline = time.monotonic() + 120
    while (view := client.get(resp.headers["location"]).json())["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, view
        time.sleep(0.2)
    assert view["media_sha256"] == hashlib.sha256(original).hexdigest()
    assert view["media_bytes"] == len(original)
    assert view["status"] == "done" and view["verdict"] != "error", view  # the hashed bytes were scanned
    assert view["filename"] == str(target.resolve())


def test_path_scan_stores_a_copy_before_anything_is_scanned(tmp_path, astronaut):
    """In process, with no worker running: the record points at the content-addressed copy, whose bytes
    are the hashed ones, whatever happens to the original afterwards."""
    from fastapi.testclient import TestClient

    from facetrust.server.app import create_app

    root = tmp_path / "root"
    root.mkdir()
    target = root / "a.jpg"
    original = _jpeg(astronaut)
    target.write_bytes(original)
    app = create_app(ServerConfig(token=TOKEN, data_dir=tmp_path / "data", workers=1, allowed_roots=(str(root),)))
    with TestClient(app) as c:
        app.state.pool.stop()  # nothing is scanned
        resp = c.post("/v1/scans", json={"path": str(target), "wait": False}, headers=AUTH)
        assert resp.status_code == 202, resp.text
        target.write_bytes(b"changed")
        rec = app.state.store.get_scan(resp.json()["id"])
    stored = Path(rec.media_path)
    assert stored != target.resolve() and stored.is_relative_to(tmp_path / "data")
    assert stored.read_bytes() == original
    assert rec.media_sha256 == hashlib.sha256(original).hexdigest() == stored.name


# -- connections ----------------------------------------------------------------------------------

def test_connections_beyond_the_limit_are_refused_503(tmp_path):
    server = _start(tmp_path, {**LIMITS, "header_timeout_s": 30.0, "max_connections": 8})
    idle = []
    try:
        idle = [_connect(server) for _ in range(8)]
        for s in idle:
            s.sendall(b"GET /healthz HTTP/1.1\r\n")  # open, head incomplete
        time.sleep(0.3)
        status, _, _ = _raw_request(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert status == 503
        for s in idle:
            s.close()
        idle = []
        deadline = time.monotonic() + 5
        while (status := _raw_request(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[0]) != 200:
            assert time.monotonic() < deadline, status
            time.sleep(0.1)
    finally:
        for s in idle:
            s.close()
        server.stop()


def test_the_limits_are_settings_and_nonsense_values_are_refused(tmp_path):
    from facetrust.server.config import ConfigError, load_config
    from facetrust.server.protocol import uvicorn_settings

    cfg = tmp_path / "s.toml"
    cfg.write_text(_toml(LIMITS))
    config = load_config(cfg, env={}, token=TOKEN)
    assert {k: getattr(config, k) for k in LIMITS} == LIMITS
    settings = uvicorn_settings(config)
    assert settings["timeout_keep_alive"] == 1.0 and settings["h11_max_incomplete_event_size"] == 8192
    assert settings["http"].header_timeout_s == 1.5 and settings["limit_concurrency"] == config.max_connections
    for name, bad in (("header_timeout_s", float("nan")), ("body_timeout_s", 0.0), ("max_header_count", 0),
                      ("max_json_depth", -1), ("keep_alive_s", -5.0)):
        with pytest.raises(ConfigError, match=name):
            ServerConfig(token=TOKEN, data_dir=tmp_path, **{name: bad}).validate()
