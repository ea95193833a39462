"""What a file says about itself: camera EXIF, editing software in XMP, generator text chunks, C2PA.

:func:`read_provenance` reads only the file's metadata (Pillow opens the header; no pixel is
decoded) and returns a :class:`Provenance` kept apart from the detector probability: these are
*declared* facts, which anyone can write, strip or forge. The explanation quotes them as "the file
declares ...", and a file without any says so plainly; neither is read as evidence either way.
C2PA manifests are read and validated by :mod:`.c2pa_manifest` (``c2pa-python``, the ``c2pa`` extra;
without it the section says it was not checked).
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from .c2pa_manifest import AI_SOURCE_TYPES, ALGORITHMIC_SOURCE_TYPES, read_c2pa, short_source_type

__all__ = ["Provenance", "read_provenance", "declared_facts", "c2pa_sentences", "provenance_rows", "NO_METADATA", "GENERATOR_TEXT_KEYS",
           "MAX_VALUE_CHARS"]

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


@dataclass
class Provenance:
    """The metadata a file declares (JSON: ``MediaResult.provenance``)."""

    format: str | None = None  # e.g. "JPEG", "PNG"; "video" for a video
    scope: str = "image"  # what was read: "image" (EXIF, XMP, ICC, text chunks, C2PA) or "c2pa" (a video: C2PA only)
    exif: dict[str, str] = field(default_factory=dict)  # Make, Model, LensModel, Software, DateTime...
    xmp: dict[str, Any] = field(default_factory=dict)  # CreatorTool, History (software agents), DigitalSourceType
    text: dict[str, str] = field(default_factory=dict)  # PNG/WebP text chunks (values shortened)
    icc_profile: str | None = None  # the ICC profile's description
    generator_keys: list[str] = field(default_factory=list)  # text keys that diffusion front ends write
    c2pa: dict[str, Any] | None = None  # the C2PA manifest (report.c2pa_manifest.C2paManifest as a dict)
    error: str | None = None  # why the metadata could not be read

    @property
    def empty(self) -> bool:
        return not (self.exif or self.xmp or self.text or self.icc_profile or (self.c2pa or {}).get("present"))

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


def read_provenance(source: Any, media_kind: str | None = None) -> Provenance | None:
    """The declared metadata of a file path or encoded bytes; None for anything else (an array).
    ``media_kind="video"``: a video, of which only the C2PA manifest is read."""
    from PIL import Image

    if media_kind == "video" and isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview)):
        src = os.fspath(source) if isinstance(source, (str, os.PathLike)) else source
        return Provenance(format="video", scope="c2pa", c2pa=read_c2pa(src, "video").as_dict())

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
        prov.c2pa = read_c2pa(opener if isinstance(opener, str) else source, prov.format).as_dict()
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


NO_METADATA = ("No camera, editing or generator metadata: common (it is often stripped) and no evidence "
               "either way.")


def provenance_rows(prov: dict[str, Any] | None) -> list[tuple[str, str]]:
    """What the file declares as (label, value) rows, for the HTML report; the page's
    ``labels.js`` ``provenanceRows`` writes the same rows (tests/server/test_page_labels.py)."""
    if not prov:
        return []
    rows: list[tuple[str, str]] = []
    for group, name in (("exif", "EXIF"), ("xmp", "XMP"), ("text", "PNG text")):
        for k, v in (prov.get(group) or {}).items():
            if isinstance(v, list):  # XMP History
                v = "; ".join(" ".join(x for x in (h.get("action"), h.get("softwareAgent")) if x) for h in v)
            rows.append((f"{name} {k}", str(v)))
    if prov.get("icc_profile"):
        rows.append(("ICC profile", str(prov["icc_profile"])))
    if prov.get("error"):
        rows.append(("error", str(prov["error"])))
    return rows + c2pa_rows(prov.get("c2pa"))


def c2pa_rows(c2pa: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The C2PA section as rows: its status when there is no manifest, else generator, signer, validation
    and each declared action."""
    if not c2pa:
        return []
    if not c2pa.get("checked"):
        return [("C2PA", str(c2pa.get("note") or "not checked"))]
    if c2pa.get("error"):
        return [("C2PA", str(c2pa["error"]))]
    if not c2pa.get("present"):
        return [("C2PA", "no manifest")]
    rows = [("C2PA claim generator", str(c2pa.get("claim_generator") or "not named"))]
    signer = str(c2pa.get("signer") or "not named")
    rows.append(("C2PA signer", signer + (f" (issuer {c2pa['issuer']})" if c2pa.get("issuer") else "")))
    state = str(c2pa.get("validation_state") or "unknown")
    if c2pa.get("valid"):
        rows.append(("C2PA validation", f"{state}: signature and hashes check out; "
                     + ("signer on the trust list" if c2pa.get("trusted") else "signer on no trust list")))
    else:
        codes = ", ".join(c2pa.get("validation_failures") or []) or "no code"
        rows.append(("C2PA validation", f"{state}: {codes}"))
    for a in c2pa.get("actions") or []:
        rows.append(("C2PA action", " · ".join(x for x in (a.get("action"), short_source_type(a.get("digitalSourceType")),
                                                          a.get("softwareAgent")) if x)))
    rows.append(("C2PA AI generation", "declared" if c2pa.get("ai_generated") else "not declared"))
    return rows


def declared_facts(prov: dict[str, Any] | None) -> str:
    """A few sentences stating what the file declares, as declared facts (never as evidence)."""
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
        algorithmic = short_source_type(source) in ALGORITHMIC_SOURCE_TYPES
        kind = "generated by an algorithm" if algorithmic else "its source type"
        facts.append(f"{kind}: {short_source_type(source)} (XMP DigitalSourceType)")
    gen = prov.get("generator_keys") or []
    if gen:
        facts.append(f"generator settings in PNG text ({', '.join(gen)}), as diffusion front ends write them")
    c2pa = prov.get("c2pa") or {}
    manifest = c2pa_sentences(c2pa)
    if prov.get("scope") == "c2pa" and not c2pa.get("present"):  # a video: only C2PA is read
        said = manifest or "The file carries no C2PA manifest."
        return (f"{said} For videos only C2PA provenance is read; missing provenance is common and says "
                "nothing either way.")
    if not facts and not c2pa.get("present"):
        none = "no camera, editing or generator metadata" + (" and no C2PA manifest" if c2pa.get("checked") else "")
        tail = f" {manifest}" if manifest else ""
        return (f"The file carries {none}; missing metadata is common (it is often stripped) and says nothing "
                f"either way.{tail}")
    text = ("The file declares " + "; ".join(facts) + ". ") if facts else ""
    return text + (f"{manifest} " if manifest else "") + "Declared metadata can be written or removed by anyone."


def c2pa_sentences(c2pa: dict[str, Any]) -> str:
    """What the C2PA section states, as declared facts: signer, validation state, AI-generation actions."""
    if not c2pa:
        return ""
    if not c2pa.get("checked"):
        return f"{c2pa.get('note') or 'C2PA not checked'}."
    if c2pa.get("error"):
        return "A C2PA manifest could not be read (" + c2pa["error"].removeprefix("C2PA manifest not read: ") + ")."
    if not c2pa.get("present"):
        return ""  # said by the caller ("no C2PA manifest")
    who = f" written by {c2pa['claim_generator']}" if c2pa.get("claim_generator") else ""
    signer = c2pa.get("signer") or "an unnamed signer"
    issuer = f" (issuer {c2pa['issuer']})" if c2pa.get("issuer") else ""
    state = c2pa.get("validation_state") or "unknown"
    if c2pa.get("valid"):
        trust = ("its signer is on the configured trust list" if c2pa.get("trusted") else
                 "no trust list vouches for the signer, so this says who signed, not who they are")
        status = f"which validates (C2PA validation state {state}; {trust})"
    else:
        codes = ", ".join(c for c in c2pa.get("validation_failures") or [] if c != "signingCredential.untrusted")
        status = (f"which does not validate (C2PA validation state {state}{': ' + codes if codes else ''}): the file "
                  "or its manifest changed after signing, so what the manifest declares is not backed by its signature")
    out = [f"The file carries a C2PA manifest{who}, signed by {signer}{issuer}, {status}."]
    made = [a for a in c2pa.get("actions") or []
            if short_source_type(a.get("digitalSourceType")) in ALGORITHMIC_SOURCE_TYPES]
    if made:
        by = "an AI model" if any(short_source_type(a["digitalSourceType"]) in AI_SOURCE_TYPES for a in made) \
            else "an algorithm"
        how = "; ".join(f"{short_source_type(a['digitalSourceType'])}, action {a.get('action') or 'unnamed'}"
                        + (f" by {a['softwareAgent']}" if a.get("softwareAgent") else "") for a in made)
        out.append(f"The manifest declares the file was generated by {by} ({how}).")
    elif c2pa.get("actions"):
        names = ", ".join(dict.fromkeys(a.get("action") or "unnamed" for a in c2pa["actions"]))
        out.append(f"The manifest declares the actions {names}, none of them generation by an algorithm.")
    return " ".join(out)
