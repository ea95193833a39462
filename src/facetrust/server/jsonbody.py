"""A bounded JSON request body: size checked while reading, nesting checked before parsing.

``json.loads`` recurses once per level, so ``[[[[...]]]]`` 100,000 deep raises RecursionError (a 500);
the depth is counted here on the raw bytes first (strings blanked, so brackets inside them do not count).
"""

from __future__ import annotations

import json
import re
from typing import Any

from .config import ServerConfig
from .errors import ApiError

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(rb"[\[\]{}]")
_OPEN = frozenset(b"[{")


def json_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in ``raw`` (0 for a scalar)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', raw)):
        if match.group()[0] in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


async def read_json(request, config: ServerConfig) -> Any:
    """The parsed body, or ApiError 413 (over ``max_json_bytes``) / 400 (too deep, or not JSON)."""
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > config.max_json_bytes:
            raise ApiError(413, "payload_too_large",
                           f"JSON body larger than the server's limit of {config.max_json_bytes} bytes")
    if json_depth(bytes(raw)) > config.max_json_depth:
        raise ApiError(400, "bad_request", f"the JSON body is nested deeper than {config.max_json_depth} levels")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # the depth check makes RecursionError unreachable; still never a 500
        raise ApiError(400, "bad_request", "the body is not valid JSON") from None
