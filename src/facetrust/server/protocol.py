"""uvicorn's h11 protocol with the limits it lacks (``facetrust serve`` runs on this class):

* a deadline for the request head: uvicorn waits forever for the request line and headers, so a
  client that sends one byte every few seconds (slow loris) holds a connection open indefinitely.
  From the connection's start, and again after each answer, the next head must be complete within
  ``header_timeout_s``; else the client gets 408 and the connection is closed.
* a head that grows past ``max_header_bytes`` before it is complete gets 431 with the API's JSON
  error body (h11 stops it; uvicorn would answer a plain-text 400). A complete head that is too large
  or has too many headers is refused by ``middleware.HeaderLimit``.
"""

from __future__ import annotations

import asyncio
import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .config import ServerConfig


def raw_error(status: int, reason: str, code: str, message: str) -> bytes:
    """A complete HTTP/1.1 error answer that closes the connection (written outside h11's state machine)."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n")
    return head.encode("ascii") + body


class LimitedH11Protocol(H11Protocol):
    header_timeout_s: float = 10.0
    max_header_bytes: int = 32 * 1024

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        waiting_for_head = self.conn.their_state is h11.IDLE
        super().data_received(data)
        if waiting_for_head and self.conn.their_state not in (h11.IDLE, h11.ERROR):
            self._cancel_head_timer()  # the head is in; the body has its own time limits (middleware.BodyLimit)

    def on_response_complete(self) -> None:
        cycle = self.cycle
        super().on_response_complete()
        if self.cycle is cycle and not self.transport.is_closing():  # no pipelined request started
            self._arm_head_timer()

    def send_400_response(self, msg: str) -> None:
        # h11 raises for an incomplete event larger than its limit (set to max_header_bytes): the head.
        if len(self.conn.trailing_data[0]) > self.max_header_bytes:
            self.transport.write(raw_error(431, "Request Header Fields Too Large", "headers_too_large",
                                           f"request headers larger than {self.max_header_bytes} bytes"))
            self.transport.close()
            return
        super().send_400_response(msg)

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.conn.our_state is h11.IDLE:  # no answer of ours is under way on this connection
            self.transport.write(raw_error(408, "Request Timeout", "request_timeout",
                                           f"the request headers did not arrive within {self.header_timeout_s:g} s"))
        self.transport.close()


def protocol_class(config: ServerConfig) -> type[LimitedH11Protocol]:
    """The protocol with this server's limits (uvicorn takes a class, and builds one per connection)."""
    return type("LimitedH11Protocol", (LimitedH11Protocol,), {
        "header_timeout_s": config.header_timeout_s, "max_header_bytes": config.max_header_bytes})


def uvicorn_settings(config: ServerConfig) -> dict:
    """The uvicorn keywords that carry the server's connection limits."""
    return {
        "http": protocol_class(config),
        "timeout_keep_alive": config.keep_alive_s,
        "limit_concurrency": config.max_connections,
        "h11_max_incomplete_event_size": config.max_header_bytes,
    }
