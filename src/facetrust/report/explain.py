"""Plain-text explanation of one :class:`MediaResult`, built only from what was measured.

Every number in the text is a quantity that is also in the result's JSON (probabilities as
percentages, the threshold, counts, 1-based face numbers, the heatmap peak's value and position,
track segments); nothing is inferred beyond it, and no detector internals (logits, raw evidence
keys) are quoted. The text ends with what the result does not show. The same result always gives
the same text.
"""

from __future__ import annotations

import math

from .provenance import declared_facts
from .labels import FAMILY_MIN_CONFIDENCE, UNKNOWN_METHOD, face_name, pct, shown_family
from .schema import FaceResult, MediaResult, TrackResult

__all__ = ["explain", "LIMITS"]

MAX_SEGMENTS = 3  # above-threshold segments quoted for the worst track
MAX_GATED = 3  # gated faces named one by one

# What no scan result shows, whatever its verdict; the verdict-specific part comes first.
LIMITS = {
    "fake": "This is a detector score at one operating threshold, not proof of manipulation, and it "
            "does not show who edited the file or how.",
    "real": "This does not show the file is authentic: forgeries of kinds the detectors were not trained "
            "on, and faces that were not detected, can go unnoticed.",
}


def _finite(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _strongest_face(result: MediaResult) -> FaceResult | None:
    """The deciding face with the highest fake probability (first one on ties); None if none is
    scored. Faces below the quality gate (``decisive`` False) never decide, so they are not quoted."""
    best: FaceResult | None = None
    for face in result.faces:
        p = face.fake_probability
        if face.decisive and _finite(p) and (best is None or p > best.fake_probability):  # type: ignore[operator]
            best = face
    return best


def _where(face: FaceResult, result: MediaResult) -> str:
    """``face 2`` for an image; ``face 1 in frame 40 (t=1.60 s, track 3)`` for a video."""
    text = face_name(face)
    if result.media_type == "video" or face.frame_index != 0 or face.time_s is not None:
        extra = [f"t={face.time_s:.2f} s"] if _finite(face.time_s) else []
        if face.track_id is not None:
            extra.append(f"track {face.track_id}")
        text += f" in frame {face.frame_index}" + (f" ({', '.join(extra)})" if extra else "")
    return text


def _counts_sentence(result: MediaResult) -> str:
    n_faces = len(result.faces)
    n_frames = len(result.frames) or len({f.frame_index for f in result.faces})
    if result.media_type == "video" or len(result.frames) > 1 or result.tracks:
        text = f"{_plural(n_faces, 'face detection')} in {_plural(n_frames, 'analysed frame')}"
        if result.tracks:
            text += f", grouped into {_plural(len(result.tracks), 'track')}"
        return text + "."
    return f"{_plural(n_faces, 'face')} found."


def _gated_sentence(result: MediaResult) -> list[str]:
    """Which faces are below the quality gate, and which of its checks they failed."""
    gated = [f for f in result.faces if not f.decisive]
    if not gated:
        return []
    failed = sorted({k for f in gated for k in (f.quality or {}).get("failed", [])})
    why = f" (failed: {', '.join(failed)})" if failed else ""
    if len(gated) <= MAX_GATED and result.media_type != "video":
        names = ", ".join(_where(f, result) for f in gated)
        verb = "is" if len(gated) == 1 else "are"
        return [f"{names[0].upper()}{names[1:]} {verb} below the face-quality gate{why}: reported, not deciding."]
    return [f"{_plural(len(gated), 'face detection')} below the face-quality gate{why}: reported, not deciding."]


def _verdict_sentence(result: MediaResult) -> str:
    p, t = result.fake_probability, result.threshold
    if not _finite(p):
        return f"No fake probability was recorded; verdict: {result.verdict}."
    cmp = "at or above" if p >= t else "below"
    rule = {"max": "the highest deciding face", "max over faces": "the highest deciding face"}.get(
        result.aggregation or "", f"aggregation {result.aggregation}" if result.aggregation else "")
    by = f", from {rule}" if rule else ""
    return (f"Verdict {result.verdict}: fake probability {pct(p)}{by}, {cmp} the operating threshold "
            f"{pct(t)}.")


def _face_sentences(result: MediaResult) -> list[str]:
    face = _strongest_face(result)
    if face is None:
        return []
    out = []
    scores = [s for s in face.scores if _finite(s.fake_probability)]
    if len(result.faces) > 1 or result.media_type == "video":
        out.append(f"Deciding face: {_where(face, result)}, fake probability {pct(face.fake_probability)}.")
    if scores:
        # Highest first; a stable sort keeps the result's detector order on ties.
        scores = sorted(scores, key=lambda s: -s.fake_probability)
        parts = [f"{s.detector} {pct(s.fake_probability)}" for s in scores]
        who = face_name(face)
        if len(parts) == 1:
            out.append(f"Detector {scores[0].detector} gives {who} a fake probability of "
                       f"{pct(scores[0].fake_probability)}.")
        else:
            out.append(f"Fake probability of {who} per detector: {', '.join(parts)}.")
    peak = face.heatmap_peak or {}
    # Where the heatmap peaks is quoted only for a face judged fake: on a genuine face it locates noise.
    located = all(_finite(peak.get(k)) for k in ("value", "x", "y"))
    if face.verdict == "fake" and face.heatmap_source and located:
        out.append(
            f"The {face.heatmap_source} heatmap of {face_name(face)} peaks at {peak['value']:.2f} in the "
            f"{peak.get('region', 'crop')} of the face crop (x {peak['x']:.2f}, y {peak['y']:.2f} of its width "
            f"and height)."
        )
    family = shown_family(face)
    if family == UNKNOWN_METHOD:
        out.append(f"Forgery method unknown: no family reaches the {pct(FAMILY_MIN_CONFIDENCE)} floor.")
    elif family:
        fp = (face.family_probabilities or {}).get(family)
        out.append(f"Most likely forgery family: {family} ({pct(fp)}).")
    return out


def _track_sentences(result: MediaResult) -> list[str]:
    tracks = [t for t in result.tracks if _finite(t.fake_probability)]
    if not tracks:
        return []
    out = []
    thr = result.threshold
    above = sum(1 for t in tracks if t.fake_probability >= thr)  # type: ignore[operator]
    out.append(f"{above} of {_plural(len(tracks), 'track')} at or above threshold.")
    worst: TrackResult = max(tracks, key=lambda t: t.fake_probability)  # first on ties
    text = (
        f"Track {worst.track_id} ({_plural(len(worst.frame_indices), 'frame')}) "
        f"has fake probability {pct(worst.fake_probability)}"
    )
    segs = [s for s in worst.segments if len(s) == 2 and _finite(s[0]) and _finite(s[1])]
    if segs:
        shown = ", ".join(f"{a:.2f} to {b:.2f} s" for a, b in segs[:MAX_SEGMENTS])
        if len(segs) > MAX_SEGMENTS:
            text += f"; above threshold in {len(segs)} segments, the first {shown}"
        else:
            text += f"; above threshold during {shown}"
    out.append(text + ".")
    return out


def explain(result: MediaResult) -> str:
    """A few deterministic plain-text sentences explaining ``result`` from its measured data.

    - ``error``: the error code and message.
    - ``not_applicable``: the recorded reason (and how many frames were examined, if known).
    - ``real``/``fake``: face/frame/track counts, faces below the quality gate, the probability vs
      the operating threshold, the deciding face and each detector's probability for it, where its
      heatmap peaks, the forgery family (fake only, see report.labels), the worst track's segments,
      the scan's notes (e.g. the face cap), and what the result does not show.
    """
    if result.verdict == "error":
        code = f" ({result.error_type})" if result.error_type else ""
        msg = (result.error or "no error message recorded").rstrip(". ")
        return f"Analysis failed{code}: {msg}. No fake probability was computed."
    if result.verdict == "not_applicable":
        reason = (result.reason or "no reason recorded").rstrip(". ")
        text = f"Not applicable: {reason}."
        if result.frames:
            text += f" {_plural(len(result.frames), 'frame')} examined."
        if result.provenance:
            text += " " + declared_facts(result.provenance)
        return text
    sentences = [_counts_sentence(result)] + _gated_sentence(result) + [_verdict_sentence(result)]
    sentences += _face_sentences(result)
    sentences += _track_sentences(result)
    sentences += [n[0].upper() + n[1:].rstrip(".") + "." for n in result.notes if n]
    if result.provenance:
        sentences.append(declared_facts(result.provenance))
    if result.verdict in LIMITS:
        sentences.append(LIMITS[result.verdict])
    return " ".join(sentences)
