"""Fusion stage: detector scores -> one face score; frame scores -> track and media scores.

Rules (documented in docs/pipeline.md; faces below the quality gate, :mod:`.quality`, never decide):
- per face: weighted mean of the detectors' fake probabilities (equal weights unless given);
- image: the media probability is the maximum over its faces (one forged face makes a forged image);
- video: each track's probability aggregates its per-frame face probabilities with ``aggregation``
  (``topk_mean`` by default: mean of the top 25 % frames, at least two when the track has two,
  robust to a single noisy frame yet sensitive to a forgery present in part of the video); the media probability is the
  maximum over tracks seen in at least ``min_track_frames`` sampled frames (all tracks when none is).

The media rule itself is :func:`fuse_media` (:mod:`.media`): scan and eval both call it.
"""

from .rules import *  # noqa: F401,F403  (re-exported: the package is the public surface)
from .rules import __all__ as _rules_all
from .media import FaceEvidence, MediaRule, MediaScore, TrackScore, frame_probability, fuse_media

__all__ = [*_rules_all, "FaceEvidence", "MediaRule", "MediaScore", "TrackScore", "frame_probability", "fuse_media"]
