"""A file's C2PA manifest (Content Credentials), read and validated with ``c2pa-python``.

:func:`read_c2pa` returns a :class:`C2paManifest`: whether a manifest is present, who generated the
claim and who signed it, the validation state (``Valid``: the signature and the file's hashes check
out; ``Trusted``: also a signer on a configured trust list; ``Invalid``: something does not match,
e.g. the file changed after signing) with its failure codes, and the actions the manifest asserts,
among them AI generation (IPTC digital source types). These are *declared* facts kept apart from the
detector probability: a valid manifest says who signed what, not that the content is true; a missing
one (most files have none, and many platforms strip it) says nothing either way.

``c2pa-python`` is optional (the ``c2pa`` extra): without it the section says "C2PA not checked
(c2pa-python not installed)" and nothing else. Reading is offline: no remote manifest and no OCSP
responder is fetched. Images (JPEG, PNG, WebP, TIFF, GIF, AVIF, HEIF) and videos (MP4, MOV, AVI) are read.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["C2paManifest", "read_c2pa", "NOT_INSTALLED", "AI_SOURCE_TYPES", "ALGORITHMIC_SOURCE_TYPES",
           "short_source_type"]

NOT_INSTALLED = "C2PA not checked (c2pa-python not installed)"

# IPTC digital source types (cv.iptc.org/newscodes/digitalsourcetype): made with a trained (AI) model,
# and more widely made by an algorithm (algorithmicMedia: an algorithm without training data).
AI_SOURCE_TYPES = ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia")
ALGORITHMIC_SOURCE_TYPES = AI_SOURCE_TYPES + ("algorithmicMedia", "compositeSynthetic")

# Pillow's format name -> the MIME type c2pa reads it as (other formats: not checked, said so).
_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "TIFF": "image/tiff",
         "GIF": "image/gif", "AVIF": "image/avif", "HEIF": "image/heif", "MPO": "image/jpeg"}


def video_mime(head: bytes) -> str | None:
    """The MIME type c2pa reads a video container as, from its first bytes; None if c2pa does not read it."""
    if len(head) >= 12 and head[4:8] == b"ftyp":  # ISO-BMFF: QuickTime or MP4 (and its relatives)
        return "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    return None


# Offline: never fetch a remote manifest or an OCSP response while scanning.
_OFFLINE_SETTINGS = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
_MAX_ACTIONS = 20  # actions kept from the active manifest (a long edit history is cut, said by the count)


@dataclass
class C2paManifest:
    """The C2PA section of ``MediaResult.provenance`` (JSON: ``provenance.c2pa``)."""

    checked: bool  # False: c2pa-python absent or the format not one it reads (see ``note``)
    present: bool | None = None  # a manifest was found; None when not checked or not readable
    claim_generator: str | None = None  # the software that wrote the claim, e.g. "Adobe Firefly 2.0"
    title: str | None = None
    signer: str | None = None  # the signing certificate's common name
    issuer: str | None = None  # its issuer (organisation)
    signature_alg: str | None = None
    signed_at: str | None = None  # the signature's time stamp, when one was made
    validation_state: str | None = None  # "Valid", "Trusted" or "Invalid", as c2pa reports it
    valid: bool | None = None  # signature and hashes check out (Valid or Trusted)
    trusted: bool | None = None  # the signer is on a configured trust list (none is configured by default)
    validation_failures: list[str] = field(default_factory=list)  # failure codes, e.g. assertion.dataHash.mismatch
    actions: list[dict[str, str]] = field(default_factory=list)  # action, digitalSourceType, softwareAgent
    n_actions: int = 0  # actions in the active manifest (``actions`` keeps the first _MAX_ACTIONS)
    ai_generated: bool = False  # an action declares a trained-model (AI) digital source type
    note: str | None = None  # why it was not checked
    error: str | None = None  # why a manifest could not be read

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def short_source_type(source: str | None) -> str:
    """'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia' -> 'trainedAlgorithmicMedia'."""
    return (source or "").rstrip("/").rsplit("/", 1)[-1]


def _text(value: Any) -> str | None:
    if isinstance(value, dict):  # softwareAgent / claim_generator_info entries: {name, version}
        value = " ".join(str(value[k]) for k in ("name", "version") if value.get(k))
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text[:200] or None


def _claim_generator(manifest: dict) -> str | None:
    info = manifest.get("claim_generator_info")
    if isinstance(info, list) and info:
        return _text(info[0])
    return _text(manifest.get("claim_generator"))


def _actions(manifest: dict) -> list[dict[str, str]]:
    out = []
    for assertion in manifest.get("assertions") or []:
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for action in (assertion.get("data") or {}).get("actions") or []:
            if not isinstance(action, dict):
                continue
            row = {"action": _text(action.get("action")) or "",
                   "digitalSourceType": _text(action.get("digitalSourceType")) or "",
                   "softwareAgent": _text(action.get("softwareAgent")) or ""}
            out.append(row)
    return out


def _failures(store: dict) -> list[str]:
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    codes = [f.get("code") for f in results.get("failure") or []]
    if not codes:  # older reports: a flat validation_status list
        codes = [s.get("code") for s in store.get("validation_status") or []]
    return [str(c) for c in codes if c]


def from_manifest_store(store: dict) -> C2paManifest:
    """A :class:`C2paManifest` from c2pa's manifest-store JSON (``Reader.json()``)."""
    active = (store.get("manifests") or {}).get(store.get("active_manifest") or "") or {}
    sig = active.get("signature_info") or {}
    state = store.get("validation_state")
    failures = _failures(store)
    if state is None:  # a reader without validation_state: a failure other than trust means invalid
        state = "Invalid" if [c for c in failures if c != "signingCredential.untrusted"] else "Valid"
    actions = _actions(active)
    return C2paManifest(
        checked=True, present=True,
        claim_generator=_claim_generator(active), title=_text(active.get("title")),
        signer=_text(sig.get("common_name")), issuer=_text(sig.get("issuer")),
        signature_alg=_text(sig.get("alg")), signed_at=_text(sig.get("time")),
        validation_state=str(state), valid=state in ("Valid", "Trusted"), trusted=state == "Trusted",
        validation_failures=failures, actions=actions[:_MAX_ACTIONS], n_actions=len(actions),
        ai_generated=any(short_source_type(a["digitalSourceType"]) in AI_SOURCE_TYPES for a in actions),
    )


def _head(source: Any, n: int = 16) -> bytes | None:
    try:
        if isinstance(source, (str, os.PathLike)):
            with open(os.fspath(source), "rb") as fh:
                return fh.read(n)
        return bytes(source[:n])
    except (OSError, TypeError):
        return None


def read_c2pa(source: Any, image_format: str | None) -> C2paManifest:
    """The C2PA manifest of a file path or encoded bytes whose Pillow format is ``image_format``
    (``"video"``: a video, its container read from its first bytes)."""
    try:
        import c2pa
    except ImportError:
        return C2paManifest(checked=False, note=NOT_INSTALLED)
    except Exception as exc:  # noqa: BLE001 - a broken native library: not checked, said so
        return C2paManifest(checked=False, note=f"C2PA not checked (c2pa-python failed to load: {type(exc).__name__})")
    if image_format == "video":  # a video: its container decides
        head = _head(source)
        mime = video_mime(head) if head is not None else None
        if mime is None:
            return C2paManifest(checked=False, note="C2PA not checked (this video container is not read by c2pa)")
    else:
        mime = _MIME.get(image_format or "")
    if mime is None:
        return C2paManifest(checked=False, note=f"C2PA not checked ({image_format or 'this'} format not read by c2pa)")
    try:
        stream = open(os.fspath(source), "rb") if isinstance(source, (str, os.PathLike)) else io.BytesIO(bytes(source))
        with stream, c2pa.Settings.from_dict(_OFFLINE_SETTINGS) as settings, c2pa.Context(settings) as context:
            reader = c2pa.Reader.try_create(mime, stream, context=context)
            if reader is None:
                return C2paManifest(checked=True, present=False)
            with reader:
                store = json.loads(reader.json())
    except Exception as exc:  # noqa: BLE001 - a damaged manifest or container: said, never raised
        msg = " ".join(str(exc).split())[:200]
        return C2paManifest(checked=True, present=None, error=f"C2PA manifest not read: {type(exc).__name__.lstrip('_')}: {msg}")
    return from_manifest_store(store)
