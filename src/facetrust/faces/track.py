"""Link faces across sampled video frames into tracks, so a video verdict is per person.

Cost between a live track and a new face combines box IoU and the mean landmark distance
normalised by face size; pairs are matched with the Hungarian algorithm and gated, so one track
never takes two faces of the same frame. Sampled frames can be seconds apart, hence generous gates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .types import DetectedFace


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    ix0, iy0 = max(a[0], b[0]), max(a[1], b[1])
    ix1, iy1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, ix1 - ix0) * max(0.0, iy1 - iy0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def landmark_distance(a: DetectedFace, b: DetectedFace) -> float:
    """Mean distance between the 5 landmarks, in units of the mean face size."""
    scale = max(1.0, 0.5 * (a.size + b.size))
    return float(np.linalg.norm(a.landmarks5 - b.landmarks5, axis=1).mean() / scale)


@dataclass
class _Track:
    track_id: int
    last: DetectedFace
    last_step: int
    length: int = 1


@dataclass
class FaceTracker:
    """Assigns a ``track_id`` to each face of each sampled frame, in order.

    ``max_gap``: sampled frames a track may go unseen before it ends. A face matches a track when
    IoU >= ``min_iou`` or landmark distance <= ``max_landmark_dist`` (face sizes).
    """

    min_iou: float = 0.2
    max_landmark_dist: float = 0.6
    max_gap: int = 2
    _tracks: list[_Track] = field(default_factory=list)
    _next_id: int = 0
    _step: int = -1

    def update(self, faces: list[DetectedFace]) -> list[int]:
        """Track ids for ``faces`` (same order), one call per sampled frame."""
        from scipy.optimize import linear_sum_assignment

        self._step += 1
        self._tracks = [t for t in self._tracks if self._step - t.last_step <= self.max_gap + 1]
        ids = [-1] * len(faces)
        if self._tracks and faces:
            cost = np.full((len(self._tracks), len(faces)), 1e6)
            for i, t in enumerate(self._tracks):
                for j, f in enumerate(faces):
                    iou = box_iou(t.last.box, f.box)
                    dist = landmark_distance(t.last, f)
                    if iou >= self.min_iou or dist <= self.max_landmark_dist:
                        cost[i, j] = (1.0 - iou) + dist
            rows, cols = linear_sum_assignment(cost)
            for i, j in zip(rows, cols):
                if cost[i, j] < 1e6:
                    t = self._tracks[i]
                    t.last, t.last_step, t.length = faces[j], self._step, t.length + 1
                    ids[j] = t.track_id
        for j, f in enumerate(faces):
            if ids[j] < 0:
                self._tracks.append(_Track(self._next_id, f, self._step))
                ids[j] = self._next_id
                self._next_id += 1
        return ids
