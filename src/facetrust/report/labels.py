"""The words and numbers a person reads, declared once for the CLI table, the HTML report, the CSV,
the explanation and (through the JSON's ``labels``) the web page.

- a probability is always the *fake* probability and is named so: ``p(fake) 90.4 %``;
- faces are numbered from 1 (``FaceResult.face_index`` stays 0-based in the JSON);
- a forgery family is shown only for a face judged fake, and only when its probability reaches
  :data:`FAMILY_MIN_CONFIDENCE`; below it the face reads "unknown method". The floor is a declared
  rule, not a calibrated one: the family heads' probabilities have not been calibrated;
- a face below the quality gate is "not deciding".
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the rules read a face's attributes; schema imports this module to write `labels`
    from .schema import FaceResult

__all__ = ["FAMILY_MIN_CONFIDENCE", "UNKNOWN_METHOD", "NOT_DECIDING", "pct", "p_fake", "fake_probability_text",
           "face_number", "face_name", "shown_family", "family_text", "face_labels"]

FAMILY_MIN_CONFIDENCE = 0.5  # below it a fake face's family is "unknown method"
UNKNOWN_METHOD = "unknown method"
NOT_DECIDING = "not deciding"


def _finite(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def pct(p: float | None) -> str:
    """``0.904`` -> ``"90.4 %"``; not measured -> ``"n/a"``."""
    return f"{float(p) * 100:.1f} %" if _finite(p) else "n/a"


def p_fake(p: float | None) -> str:
    """The short label: ``p(fake) 90.4 %``."""
    return f"p(fake) {pct(p)}"


def fake_probability_text(p: float | None) -> str:
    """The long label: ``fake probability 90.4 %``."""
    return f"fake probability {pct(p)}" if _finite(p) else "no fake probability"


def face_number(face: FaceResult) -> int:
    """The face's number as a person reads it (1-based)."""
    return int(face.face_index) + 1


def face_name(face: FaceResult) -> str:
    return f"face {face_number(face)}"


def shown_family(face: FaceResult) -> str | None:
    """The family a person is shown: None unless the face is judged fake; the family's name when its
    probability reaches :data:`FAMILY_MIN_CONFIDENCE`; otherwise :data:`UNKNOWN_METHOD`."""
    if face.verdict != "fake" or not face.family:
        return None
    p = (face.family_probabilities or {}).get(face.family)
    return face.family if _finite(p) and p >= FAMILY_MIN_CONFIDENCE else UNKNOWN_METHOD


def family_text(face: FaceResult) -> str:
    """``faceswap (70.0 %)``, ``unknown method`` or ``""``."""
    fam = shown_family(face)
    if fam is None:
        return ""
    if fam == UNKNOWN_METHOD:
        return UNKNOWN_METHOD
    return f"{fam} ({pct((face.family_probabilities or {}).get(fam))})"


def face_labels(face: FaceResult) -> dict[str, Any]:
    """What the web page shows of a face (written into the JSON as ``labels``, so the page applies the
    same rules instead of re-implementing them)."""
    return {
        "name": face_name(face),
        "number": face_number(face),
        "p_fake": p_fake(face.fake_probability),
        "family": family_text(face) or None,
        "deciding": bool(face.decisive),
        "family_min_confidence": FAMILY_MIN_CONFIDENCE,
    }
