"""What ``POST /v1/scans`` accepts: an upload or an allow-listed server path, plus scan options.

The media kind comes from the content's first bytes (never the file name), and the size limit is
the one of that kind. Options are checked here, before anything is queued, so a bad option is a
422 for the client rather than a failed job later.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from ..io.sources import sniff_head
from .config import MB, ServerConfig
from .errors import ApiError

_CHUNK = 1024 * 1024


def request_options() -> dict[str, str]:
    """Options a request may set (the rest stay the server's), name -> kind: the ScanOptions
    fields declared ``request=True``, with the same names as ``facetrust scan``."""
    from ..options import specs
    from ..pipeline import ScanOptions

    return {name: spec.kind for name, (_, spec) in specs(ScanOptions).items() if spec.request}


def request_cap(name: str, config: ServerConfig) -> float:
    """The most a request may ask of a ``request_cap`` option: the server's own value for it."""
    from ..pipeline import ScanOptions

    return float(config.default_options.get(name, ScanOptions.default(name)))


_JSON_TYPES = {"int": "integer", "float": "number", "str": "string", "bool": "boolean", "names": "string",
               "floats": "string"}


def request_options_doc() -> dict[str, dict[str, Any]]:
    """The OpenAPI properties of the request options, from their one declaration (ScanOptions)."""
    from ..options import specs
    from ..pipeline import ScanOptions

    doc: dict[str, dict[str, Any]] = {}
    for name, (_, spec) in specs(ScanOptions).items():
        if not spec.request:
            continue
        prop: dict[str, Any] = {"type": _JSON_TYPES[spec.kind], "description": spec.help}
        if spec.kind in ("names", "floats"):
            prop["description"] += " (comma-separated)"
        if spec.minimum is not None:
            prop["exclusiveMinimum" if spec.exclusive_min else "minimum"] = spec.minimum
        if spec.maximum is not None:
            prop["maximum"] = spec.maximum
        if spec.request_cap:
            prop["description"] += "; a request may lower the server's value, not raise it"
        doc[name] = prop
    return doc


@dataclass
class Intake:
    kind: str  # "image" | "video"
    source: str  # "upload" | "path"
    filename: str | None
    media_path: str
    media_sha256: str
    media_bytes: int


def limit_for(kind: str, config: ServerConfig) -> int:
    return config.max_image_bytes if kind == "image" else config.max_video_bytes


def _too_large(kind: str, limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"{kind} larger than the server's limit of {limit / MB:g} MB")


def sniff_kind(head: bytes) -> str:
    kind = sniff_head(head)
    if kind is None:
        raise ApiError(415, "unsupported_media_type",
                       "not an image or video this server can read (the content was checked, not the name)")
    return kind


def _chunks(fh: BinaryIO) -> Iterator[bytes]:
    while chunk := fh.read(_CHUNK):
        yield chunk


def store_upload(fh: BinaryIO, filename: str | None, size: int | None, media, config: ServerConfig) -> Intake:
    """Sniff, check the kind's limit and move an uploaded file into the content-addressed store."""
    from .media import EmptyMedia, MediaTooLarge

    fh.seek(0)
    head = fh.read(1024)
    if not head:
        raise ApiError(400, "bad_request", "the uploaded file is empty")
    kind = sniff_kind(head)
    limit = limit_for(kind, config)
    if size is not None and size > limit:
        raise _too_large(kind, limit)
    fh.seek(0)
    try:
        stored = media.put_stream(_chunks(fh), max_bytes=limit)
    except MediaTooLarge:
        raise _too_large(kind, limit) from None
    except EmptyMedia:
        raise ApiError(400, "bad_request", "the uploaded file is empty") from None
    # Display only; undecodable bytes (lone surrogates) become "?" so the store can hold the name.
    name = os.path.basename(filename or "")[:255].encode("utf-8", "replace").decode("utf-8") or None
    return Intake(kind, "upload", name, str(stored.path), stored.sha256, stored.size)


def resolve_path(raw: Any, config: ServerConfig, media) -> Intake:
    """A server-side file, only inside an allow-listed root (symlinks resolved before the check),
    copied into the content-addressed store while it is hashed: the worker scans that copy, so the
    bytes scanned are the bytes hashed even if the original changes after the request."""
    from .media import EmptyMedia, MediaTooLarge

    if not isinstance(raw, str) or not raw or "\x00" in raw:
        raise ApiError(422, "validation_error", "path must be a non-empty string")
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(422, "validation_error", "path must be valid UTF-8") from None
    if not config.allowed_roots:
        raise ApiError(403, "forbidden_path", "this server scans no server-side paths (no allowed root is set)")
    path = Path(raw)
    if not path.is_absolute():
        raise ApiError(422, "validation_error", "path must be absolute")
    real = Path(os.path.realpath(path))
    roots = [Path(os.path.realpath(r)) for r in config.allowed_roots]
    if not _under(real, roots):
        raise ApiError(403, "forbidden_path", "path is outside the server's allowed roots")
    if not real.is_file():
        raise ApiError(404, "not_found", "no such file under the allowed roots")
    try:  # no symlink may be swapped in for the checked file between the check and this open
        fh = os.fdopen(os.open(real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb")
    except OSError:
        raise ApiError(404, "not_found", "no such file under the allowed roots") from None
    with fh:
        opened = Path(f"/proc/self/fd/{fh.fileno()}")
        if opened.exists() and not _under(Path(os.path.realpath(opened)), roots):  # a folder swapped meanwhile
            raise ApiError(403, "forbidden_path", "path is outside the server's allowed roots")
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            raise ApiError(400, "bad_request", "the file is empty")
        kind = sniff_kind(fh.read(1024))
        limit = limit_for(kind, config)
        if size > limit:
            raise _too_large(kind, limit)
        fh.seek(0)
        try:
            stored = media.put_stream(_chunks(fh), max_bytes=limit)
        except MediaTooLarge:  # grew since the stat
            raise _too_large(kind, limit) from None
        except EmptyMedia:
            raise ApiError(400, "bad_request", "the file is empty") from None
    if sniff_head(stored.head) != kind:  # rewritten between the sniff and the copy
        raise ApiError(409, "conflict", "the file changed while it was read; send the request again")
    # Chain of custody: the result names the file and exactly which bytes were scanned.
    return Intake(kind, "path", str(real), str(stored.path), stored.sha256, stored.size)


def expand_path_scan(raw: Any, config: ServerConfig, limit: int) -> list[str] | None:
    """A ``path`` naming a folder or holding a glob: the files it stands for, walked as ``facetrust
    batch`` and :func:`facetrust.api.scan_paths` walk them (:func:`facetrust.io.inputs.collect_entries`);
    None for a plain path (one file, :func:`resolve_path`). The folder, or the glob's part before its
    first wildcard, must lie under an allowed root before anything is walked; each file is then checked
    on its own by :func:`resolve_path`. More than ``limit`` files is refused (413)."""
    from ..io.inputs import collect_entries, has_glob

    if not isinstance(raw, str) or not raw or "\x00" in raw:
        return None  # resolve_path says why
    is_glob = has_glob(raw) and not os.path.lexists(raw)
    if not is_glob and not os.path.isdir(raw):
        return None
    if not config.allowed_roots:
        raise ApiError(403, "forbidden_path", "this server scans no server-side paths (no allowed root is set)")
    if not Path(raw).is_absolute():
        raise ApiError(422, "validation_error", "path must be absolute")
    parts = Path(raw).parts
    fixed = Path(*parts[:next((i for i, p in enumerate(parts) if has_glob(p)), len(parts))])
    roots = [Path(os.path.realpath(r)) for r in config.allowed_roots]
    if not _under(Path(os.path.realpath(fixed)), roots):
        raise ApiError(403, "forbidden_path", "path is outside the server's allowed roots")
    files = [str(e.path) for e in collect_entries([raw]) if Path(e.path).is_file()]
    if not files:
        raise ApiError(404, "not_found", "no file matches under the allowed roots")
    if len(files) > limit:
        raise ApiError(413, "payload_too_large", f"{len(files)} files match; at most {limit} fit in the queue now")
    return files


def _under(path: Path, roots: list[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


def parse_options(raw: dict[str, Any], config: ServerConfig) -> dict[str, Any]:
    """Request options (strings from a form or JSON values) -> checked ScanOptions keywords.

    Reading and checking both come from the options' one declaration (``ScanOptions``); an empty
    value means not given."""
    from ..options import coerce, specs
    from ..pipeline import ScanOptions

    allowed = request_options()
    unknown = set(raw) - set(allowed)
    if unknown:
        raise ApiError(422, "validation_error", f"unknown option(s): {', '.join(sorted(unknown))}")
    declared = specs(ScanOptions)
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None or value == "":
            continue
        try:
            out[name] = coerce(name, value, declared[name][1])
        except (TypeError, ValueError):
            raise ApiError(422, "validation_error", f"{name}: expected {allowed[name]}, got {value!r}") from None
    for name, value in out.items():
        if declared[name][1].request_cap:  # a budget: a request may lower the server's, never raise it
            cap = request_cap(name, config)
            if isinstance(value, (int, float)) and value > cap:
                raise ApiError(422, "validation_error", f"{name}: a request may ask at most {cap:g} (the server's), "
                               f"got {value:g}")
    options = {**config.default_options, **out}
    try:
        ScanOptions.given(**options)
    except (TypeError, ValueError) as exc:
        raise ApiError(422, "validation_error", str(exc)) from None
    if "detectors" in options:
        from ..detectors import available_detectors

        paths = [d for d in options["detectors"] if d not in available_detectors()]
        if paths:  # a client never names a file on the server to load as a model
            raise ApiError(422, "validation_error", f"unknown detectors: {', '.join(paths)}")
        options["detectors"] = list(options["detectors"])  # JSON-friendly in the store
    return options
