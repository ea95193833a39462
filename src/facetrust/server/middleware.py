"""ASGI middleware: a hard cap on request bodies, request metrics, security headers."""

from __future__ import annotations

import json
import time

from .config import MB


class BodyTooLarge(Exception):
    pass


async def _send_error(send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse bodies above ``max_bytes``: from Content-Length before reading, else while streaming.

    The per-kind limits (image vs video) are checked after sniffing; this cap only stops a client
    from making the server spool an unbounded body to disk first.
    """

    def __init__(self, app, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        message = f"request body larger than the server's limit of {self.max_bytes / MB:g} MB"
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    return await _send_error(send, 400, "bad_request", "invalid Content-Length")
                if declared > self.max_bytes:
                    return await _send_error(send, 413, "payload_too_large", message)
        received = 0
        started = False

        async def counting_receive():
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge()
            return msg

        async def tracking_send(msg):
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _send_error(send, 413, "payload_too_large", message)


class RequestMetrics:
    """Count and time every request by its route template (``/v1/scans/{scan_id}``, not the id)."""

    def __init__(self, app, metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        status = 500

        async def tracking_send(msg):
            nonlocal status
            if msg["type"] == "http.response.start":
                status = msg["status"]
            await send(msg)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", None) or "unmatched"
            self.metrics.observe_request(scope.get("method", ""), name, status, time.perf_counter() - t0)


# Inline styles are allowed because a report opened from a blob: URL inherits this policy and its CSS
# is inline; scripts stay 'self' only (the report has none).
PAGE_CSP = (
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "connect-src 'self'; frame-src blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
# Reports are self-contained documents with inline CSS and data: images and no script at all.
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"


class SecurityHeaders:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(msg):
            if msg["type"] == "http.response.start":
                headers = list(msg.get("headers", []))
                names = {k.lower() for k, _ in headers}
                for k, v in ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                             (b"x-frame-options", b"SAMEORIGIN")):
                    if k not in names:
                        headers.append((k, v))
                msg = {**msg, "headers": headers}
            await send(msg)

        await self.app(scope, receive, with_headers)
