"""What a file says about itself: camera EXIF, editing software in XMP, generator text chunks.

:func:`read_provenance` reads only the file's metadata (Pillow opens the header; no pixel is
decoded) and returns a :class:`Provenance` kept apart from the detector probability: these are
*declared* facts, which anyone can write, strip or forge. The explanation quotes them as "the file
declares ...", and a file without any says so plainly; neither is read as evidence either way.
C2PA manifests are not read (``c2pa-python`` is not a dependency).
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Provenance", "read_provenance", "declared_facts", "GENERATOR_TEXT_KEYS", "MAX_VALUE_CHARS"]

MAX_VALUE_CHARS = 300  # a text value is kept up to this many characters (prompts can be long)
MAX_XMP_BYTES = 1 << 20  # larger XMP packets are not parsed

# EXIF tags kept (base IFD and the Exif sub-IFD), by their standard names.
_EXIF_BASE = {0x010F: "Make", 0x0110: "Model", 0x0131: "Software", 0x0132: "DateTime", 0x013B: "Artist"}
_EXIF_SUB = {0x9003: "DateTimeOriginal", 0xA434: "LensModel", 0xA433: "LensMake"}
_EXIF_IFD = 0x8769

# PNG/WebP text keys that diffusion front ends write (AUTOMATIC1111/Forge: parameters; ComfyUI:
# prompt, workflow; InvokeAI: invokeai_metadata, sd-metadata, Dream; NovelAI: Comment/Software).
GENERATOR_TEXT_KEYS = ("parameters", "prompt", "workflow", "invokeai_metadata", "sd-metadata", "Dream")
_XMP_TEXT_KEYS = ("XML:com.adobe.xmp", "xmp")

# IPTC digital source types that declare generation by an algorithm (cv.iptc.org/newscodes/digitalsourcetype).
_AI_SOURCE_TYPES = ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "algorithmicMedia")


@dataclass
class Provenance:
    """The metadata a file declares (JSON: ``MediaResult.provenance``)."""

    format: str | None = None  # e.g. "JPEG", "PNG"
    exif: dict[str, str] = field(default_factory=dict)  # Make, Model, LensModel, Software, DateTime...
    xmp: dict[str, Any] = field(default_factory=dict)  # CreatorTool, History (software agents), DigitalSourceType
    text: dict[str, str] = field(default_factory=dict)  # PNG/WebP text chunks (values shortened)
    icc_profile: str | None = None  # the ICC profile's description
    generator_keys: list[str] = field(default_factory=list)  # text keys that diffusion front ends write
    error: str | None = None  # why the metadata could not be read

    @property
    def empty(self) -> bool:
        return not (self.exif or self.xmp or self.text or self.icc_profile)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "empty": self.empty}


def _clean(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if value is None:
        return None
    text = " ".join(str(value).replace("\x00", " ").split())
    if not text:
        return None
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _exif(im) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        exif = im.getexif()
    except Exception:  # noqa: BLE001 - a malformed EXIF block is reported as absent
        return out
    for tag, name in _EXIF_BASE.items():
        v = _clean(exif.get(tag))
        if v:
            out[name] = v
    try:
        sub = exif.get_ifd(_EXIF_IFD)
    except Exception:  # noqa: BLE001
        sub = {}
    for tag, name in _EXIF_SUB.items():
        v = _clean(sub.get(tag))
        if v:
            out[name] = v
    return out


def _attr_or_element(xmp: str, name: str) -> list[str]:
    """Values of ``name`` written as an attribute (name="v") or an element (<name>v</name>)."""
    q = re.escape(name)
    vals = re.findall(rf'{q}\s*=\s*"([^"]*)"', xmp) + re.findall(rf"<{q}>([^<]*)</{q}>", xmp)
    return [v for v in (_clean(x) for x in vals) if v]


def _xmp(packet: str | bytes | None) -> dict[str, Any]:
    """CreatorTool, the History's software agents and actions, and the IPTC DigitalSourceType.

    Read with regular expressions, not an XML parser: a packet is untrusted input, and only these
    few values are wanted."""
    if not packet:
        return {}
    if isinstance(packet, bytes):
        if len(packet) > MAX_XMP_BYTES:
            return {"error": f"XMP packet larger than {MAX_XMP_BYTES} bytes, not read"}
        packet = packet.decode("utf-8", "replace")
    if len(packet) > MAX_XMP_BYTES:
        return {"error": f"XMP packet larger than {MAX_XMP_BYTES} bytes, not read"}
    out: dict[str, Any] = {}
    tool = _attr_or_element(packet, "xmp:CreatorTool")
    if tool:
        out["CreatorTool"] = tool[0]
    agents = _attr_or_element(packet, "stEvt:softwareAgent")
    actions = _attr_or_element(packet, "stEvt:action")
    if agents or actions:
        n = max(len(agents), len(actions))  # one event each; a missing half stays ""
        actions, agents = actions + [""] * (n - len(actions)), agents + [""] * (n - len(agents))
        out["History"] = [{"action": a, "softwareAgent": s} for a, s in zip(actions, agents)]
    source = _attr_or_element(packet, "Iptc4xmpExt:DigitalSourceType")
    if source:
        out["DigitalSourceType"] = source[0]
    return out


def read_provenance(source: Any) -> Provenance | None:
    """The declared metadata of a file path or encoded bytes; None for anything else (an array)."""
    from PIL import Image

    if isinstance(source, (str, os.PathLike)):
        opener: Any = os.fspath(source)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        opener = io.BytesIO(bytes(source))
    else:
        return None
    try:
        with Image.open(opener) as im:  # header only: no pixel is decoded
            prov = Provenance(format=im.format)
            prov.exif = _exif(im)
            info = dict(im.info or {})
            packet = info.get("xmp") or next((info[k] for k in _XMP_TEXT_KEYS if k in info), None)
            prov.xmp = _xmp(packet)
            texts = getattr(im, "text", None) if im.format == "PNG" else None
            for k, v in (texts or {}).items():
                if k in _XMP_TEXT_KEYS:
                    continue
                cleaned = _clean(v)
                if cleaned:
                    prov.text[str(k)] = cleaned
            prov.generator_keys = [k for k in GENERATOR_TEXT_KEYS if k in prov.text]
            icc = info.get("icc_profile")
            if icc:
                prov.icc_profile = _icc_description(icc)
    except Image.UnidentifiedImageError:  # not an image Pillow reads (a video): not examined
        return None
    except Exception as exc:  # noqa: BLE001 - a damaged header: said, not raised
        return Provenance(error=f"metadata not read: {type(exc).__name__}")
    return prov


def _icc_description(icc: bytes) -> str | None:
    try:
        from PIL import ImageCms

        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return _clean(ImageCms.getProfileDescription(profile)) or "present"
    except Exception:  # noqa: BLE001 - a profile without a readable description
        return "present"


def declared_facts(prov: dict[str, Any] | None) -> str:
    """One or two sentences stating what the file declares, as declared facts (never as evidence)."""
    if not prov:
        return ""
    if prov.get("error"):
        return "The file's metadata could not be read; it says nothing either way."
    facts = []
    exif, xmp, text = prov.get("exif") or {}, prov.get("xmp") or {}, prov.get("text") or {}
    camera = " ".join(v for v in (exif.get("Make"), exif.get("Model")) if v)
    if camera:
        facts.append(f"a camera {camera} (EXIF Make/Model)")
    if exif.get("DateTimeOriginal") or exif.get("DateTime"):
        facts.append(f"a capture time {exif.get('DateTimeOriginal') or exif.get('DateTime')} (EXIF)")
    if exif.get("Software"):
        facts.append(f"the software {exif['Software']} (EXIF Software)")
    if xmp.get("CreatorTool"):
        facts.append(f"the creator tool {xmp['CreatorTool']} (XMP)")
    agents = sorted({h.get("softwareAgent") for h in xmp.get("History") or [] if h.get("softwareAgent")})
    if agents:
        facts.append(f"an edit history by {', '.join(agents)} (XMP History)")
    source = xmp.get("DigitalSourceType")
    if source:
        kind = "generated by an algorithm" if any(t in source for t in _AI_SOURCE_TYPES) else "its source type"
        facts.append(f"{kind}: {source.rsplit('/', 1)[-1]} (XMP DigitalSourceType)")
    gen = prov.get("generator_keys") or []
    if gen:
        facts.append(f"generator settings in PNG text ({', '.join(gen)}), as diffusion front ends write them")
    if not facts:
        return ("The file carries no camera, editing or generator metadata; missing metadata is common "
                "(it is often stripped) and says nothing either way.")
    return "The file declares " + "; ".join(facts) + ". Declared metadata can be written or removed by anyone."
