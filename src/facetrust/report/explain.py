"""Plain-text explanation of one :class:`MediaResult`, built only from what was measured.

Every number in the text is read from the result (probabilities, threshold, detector evidence,
counts, track segments); nothing is inferred beyond it. The same result always gives the same
text. Evidence entries are printed in the order the detector reported them (detectors list their
most informative quantities first), at most :data:`MAX_EVIDENCE` per detector.
"""

from __future__ import annotations

import math

from .schema import DetectorScore, FaceResult, MediaResult, TrackResult

__all__ = ["explain", "MAX_EVIDENCE"]

MAX_EVIDENCE = 3  # evidence entries quoted for the strongest detector
MAX_SEGMENTS = 3  # above-threshold segments quoted for the worst track


def _finite(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _p(x: float) -> str:
    """A probability or threshold, two decimals."""
    return f"{x:.2f}"


def _sig(x: float) -> str:
    """An evidence value, three significant digits."""
    return f"{x:.3g}"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _evidence_text(score: DetectorScore) -> str:
    items = [(k, v) for k, v in score.evidence.items() if _finite(v)][:MAX_EVIDENCE]
    return ", ".join(f"{k}={_sig(float(v))}" for k, v in items)


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
    parts = []
    if result.media_type == "video" or face.frame_index != 0 or face.time_s is not None:
        parts.append(f"frame {face.frame_index}")
        if _finite(face.time_s):
            parts.append(f"t={face.time_s:.2f} s")
    parts.append(f"face {face.face_index}")
    if face.track_id is not None:
        parts.append(f"track {face.track_id}")
    return ", ".join(parts)


def _counts_sentence(result: MediaResult) -> str:
    n_faces = len(result.faces)
    n_frames = len(result.frames) or len({f.frame_index for f in result.faces})
    n_weak = sum(not f.decisive for f in result.faces)
    weak = f" ({n_weak} below the quality gate: reported, not deciding)" if n_weak else ""
    if result.media_type == "video" or len(result.frames) > 1 or result.tracks:
        text = f"{_plural(n_faces, 'face detection')} in {_plural(n_frames, 'analysed frame')}{weak}"
        if result.tracks:
            text += f", grouped into {_plural(len(result.tracks), 'track')}"
        return text + "."
    return f"{_plural(n_faces, 'face')} found{weak}."


def _fusion_sentence(result: MediaResult) -> str:
    p, t = result.fake_probability, result.threshold
    if not _finite(p):
        return f"No fused fake probability was recorded; verdict: {result.verdict}."
    cmp = ">=" if p >= t else "<"
    text = f"Fused fake probability {_p(p)} {cmp} threshold {_p(t)}"
    if result.aggregation:
        text += f" (aggregation: {result.aggregation})"
    return text + f"; verdict: {result.verdict}."


def _face_sentences(result: MediaResult) -> list[str]:
    face = _strongest_face(result)
    if face is None:
        return []
    out = []
    if len(result.faces) > 1:
        out.append(
            f"Most suspicious face: {_where(face, result)}, "
            f"fake probability {_p(face.fake_probability)}."
        )
    scores = [s for s in face.scores if _finite(s.fake_probability)]
    if scores:
        # Stable sort: ties keep the detector order of the result.
        scores = sorted(scores, key=lambda s: -s.fake_probability)
        top = scores[0]
        ev = _evidence_text(top)
        lead = "Strongest evidence" if result.verdict == "fake" else "Highest detector score"
        text = f"{lead}: {top.detector} {_p(top.fake_probability)}"
        out.append(text + (f" ({ev})." if ev else "."))
        if len(scores) > 1:
            rest = ", ".join(f"{s.detector} {_p(s.fake_probability)}" for s in scores[1:])
            out.append(f"Other detectors: {rest}.")
    if result.verdict == "fake" and face.family:
        fp = (face.family_probabilities or {}).get(face.family)
        fam = f"Most likely forgery family: {face.family}"
        out.append(fam + (f" ({_p(fp)})." if _finite(fp) else "."))
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
        f"scores {_p(worst.fake_probability)}"
    )
    segs = [s for s in worst.segments if len(s) == 2 and _finite(s[0]) and _finite(s[1])]
    if segs:
        shown = ", ".join(f"{a:.2f}-{b:.2f} s" for a, b in segs[:MAX_SEGMENTS])
        more = f" and {len(segs) - MAX_SEGMENTS} more" if len(segs) > MAX_SEGMENTS else ""
        text += f"; above threshold during {shown}{more}"
    out.append(text + ".")
    return out


def explain(result: MediaResult) -> str:
    """A few deterministic plain-text sentences explaining ``result`` from its measured data.

    - ``error``: the error code and message.
    - ``not_applicable``: the recorded reason (and how many frames were examined, if known).
    - ``real``/``fake``: face/frame/track counts, fused probability vs threshold and aggregation
      rule, the most suspicious face's strongest detector with its first evidence values, other
      detectors' scores, the forgery family (fake only), and the worst track's segments.
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
        return text
    sentences = [_counts_sentence(result), _fusion_sentence(result)]
    sentences += _face_sentences(result)
    sentences += _track_sentences(result)
    return " ".join(sentences)
