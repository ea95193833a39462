"""ASGI middleware: header limits, a hard cap and time limits on request bodies, request metrics,
security headers."""

from __future__ import annotations

import asyncio
import json
import time

from .config import MB
from .errors import CLIENT_CLOSED


class BodyTooLarge(Exception):
    pass


class BodyTimeout(Exception):
    """The client stopped sending its body (idle too long) or sends it too slowly (past the deadline)."""


async def _send_error(send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class HeaderLimit:
    """Refuse a request with more than ``max_count`` headers or more than ``max_bytes`` of them: 431.

    A header block that arrives incomplete and too large is refused earlier, by the HTTP protocol
    (``server/protocol.py``); this checks the complete blocks, however they arrived.
    """

    def __init__(self, app, max_count: int, max_bytes: int) -> None:
        self.app, self.max_count, self.max_bytes = app, max_count, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = scope.get("headers", ())
            if len(headers) > self.max_count:
                return await _send_error(send, 431, "headers_too_large",
                                         f"more than {self.max_count} request headers")
            size = sum(len(k) + len(v) + 4 for k, v in headers)  # "name: value\r\n"
            if size > self.max_bytes:
                return await _send_error(send, 431, "headers_too_large",
                                         f"request headers larger than {self.max_bytes} bytes")
        return await self.app(scope, receive, send)


class BodyLimit:
    """Refuse bodies above ``max_bytes``: from Content-Length before reading, else while streaming;
    and bodies that stall (``idle_timeout_s`` without a byte) or crawl (past ``timeout_s``): 408.

    The per-kind limits (image vs video) are checked after sniffing; this cap only stops a client
    from making the server spool an unbounded body to disk first. The time limits apply only while
    the body is incomplete: waiting for a disconnect after the response is Starlette's business.
    """

    def __init__(self, app, max_bytes: int, idle_timeout_s: float = 30.0, timeout_s: float = 600.0) -> None:
        self.app, self.max_bytes = app, max_bytes
        self.idle_timeout_s, self.timeout_s = idle_timeout_s, timeout_s

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
        body_done = False
        deadline = asyncio.get_running_loop().time() + self.timeout_s

        async def counting_receive():
            nonlocal received, body_done
            if body_done:
                return await receive()
            wait = min(self.idle_timeout_s, deadline - asyncio.get_running_loop().time())
            try:
                msg = await asyncio.wait_for(receive(), max(0.0, wait))
            except asyncio.TimeoutError:
                raise BodyTimeout() from None
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge()
                body_done = not msg.get("more_body", False)
            else:  # http.disconnect: nothing more will come
                body_done = True
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
        except BodyTimeout:
            if not started:
                await _send_error(send, 408, "request_timeout",
                                  f"the request body did not arrive in time (idle {self.idle_timeout_s:g} s "
                                  f"or {self.timeout_s:g} s in all)")


# Label values of the request metrics: a client picks the method and the path, so neither may become a
# label as sent (each new value would be a new time series on /metrics).
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else "other"


class RequestMetrics:
    """Count and time every request by its route template (``/v1/scans/{scan_id}``, not the id) and a
    bounded method label; a request whose client disconnected before any answer counts as 499."""

    def __init__(self, app, metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        status = 500
        started = disconnected = False

        async def watching_receive():
            nonlocal disconnected
            msg = await receive()
            if msg["type"] == "http.disconnect":
                disconnected = True
            return msg

        async def tracking_send(msg):
            nonlocal status, started
            if msg["type"] == "http.response.start":
                status, started = msg["status"], True
            await send(msg)

        try:
            await self.app(scope, watching_receive, tracking_send)
        finally:
            if disconnected and (not started or status == CLIENT_CLOSED):
                status = CLIENT_CLOSED
            route = scope.get("route")
            name = getattr(route, "path", None) or "unmatched"
            self.metrics.observe_request(method_label(scope.get("method", "")), name, status,
                                         time.perf_counter() - t0)


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
