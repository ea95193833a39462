"""The media rule: per-face probabilities (with frame, track and quality) -> media probability and verdict.

One function, :func:`fuse_media`, used by ``facetrust scan`` (:class:`facetrust.pipeline.Scanner`)
and by ``facetrust eval`` at its image and video levels, so the workbench measures what scan ships:

- only faces that pass the quality gate (``FaceEvidence.passed``) decide; the others are reported;
- image: the maximum over its faces (one forged face makes a forged image);
- video: faces are grouped by track; a track's probability aggregates its frames with ``aggregation``
  (``topk_mean``: mean of the top 25 % of frames, at least two); the media probability is the
  maximum over tracks seen in at least ``min_track_frames`` sampled frames (over the longest tracks
  when none is that long), so a face glimpsed in one frame cannot decide a video on its own;
- no face at all, or none that passes the gate: ``not_applicable`` with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Hashable, Sequence

from .rules import DEFAULT_AGGREGATION, aggregate, verdict_for


@dataclass(frozen=True)
class FaceEvidence:
    """What the media rule needs of one scored face."""

    probability: float
    frame_index: int = 0
    time_s: float | None = None
    track_id: Hashable | None = None  # required for video
    passed: bool = True  # the face-quality gate's decision


@dataclass(frozen=True)
class MediaRule:
    threshold: float
    aggregation: str = DEFAULT_AGGREGATION
    min_track_frames: int = 2


@dataclass
class TrackScore:
    track_id: Hashable
    frame_indices: list[int]
    times: list[float]  # seconds, or the frame index when the media has no clock
    probabilities: list[float]
    probability: float
    counted: bool  # long enough to decide the media


@dataclass
class MediaScore:
    probability: float | None
    verdict: str  # real | fake | not_applicable
    tracks: list[TrackScore] = field(default_factory=list)  # video only, in track-id first-seen order
    n_faces: int = 0
    n_decisive: int = 0  # faces that passed the quality gate
    reason: str | None = None  # why not_applicable


def frame_probability(faces: Sequence[FaceEvidence]) -> float | None:
    """A frame's probability: the maximum over its faces that pass the gate (None if none does)."""
    ps = [f.probability for f in faces if f.passed]
    return max(ps) if ps else None


def fuse_media(faces: Sequence[FaceEvidence], rule: MediaRule, *, video: bool) -> MediaScore:
    """The media probability and verdict of ``faces`` (see the module docstring)."""
    decisive = [f for f in faces if f.passed]
    out = MediaScore(None, "not_applicable", n_faces=len(faces), n_decisive=len(decisive))
    if not faces:
        out.reason = "no face found"
        return out
    if not decisive:
        out.reason = f"no face passed the quality gate ({len(faces)} found, all below it)"
        return out
    if not video:
        out.probability = max(f.probability for f in decisive)
    else:
        by_track: dict[Hashable, list[FaceEvidence]] = {}
        for f in decisive:
            if f.track_id is None:
                raise ValueError("video faces need a track id")
            by_track.setdefault(f.track_id, []).append(f)
        for tid, fs in by_track.items():
            fs = sorted(fs, key=lambda f: f.frame_index)
            probs = [f.probability for f in fs]
            out.tracks.append(TrackScore(
                tid, [f.frame_index for f in fs],
                [f.time_s if f.time_s is not None else float(f.frame_index) for f in fs],
                probs, aggregate(probs, rule.aggregation), False,
            ))
        min_frames = min(rule.min_track_frames, max(len(t.frame_indices) for t in out.tracks))
        for t in out.tracks:
            t.counted = len(t.frame_indices) >= min_frames
        out.probability = max(t.probability for t in out.tracks if t.counted)
    out.verdict = verdict_for(out.probability, rule.threshold)
    return out


__all__ = ["FaceEvidence", "MediaRule", "MediaScore", "TrackScore", "frame_probability", "fuse_media"]
