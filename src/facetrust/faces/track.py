"""Link faces across sampled video frames into tracks, so a video verdict is per person.

Cost between a live track and a new face combines box IoU and the mean landmark distance
normalised by face size; pairs are matched with the Hungarian algorithm and gated, so one track
never takes two faces of the same frame. Sampled frames can be seconds apart, hence generous gates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .types import DetectedFace


def min_cost_assignment(cost: np.ndarray) -> tuple[list[int], list[int]]:
    """Rows and columns of a minimum-cost assignment of a rectangular ``cost`` matrix (each row and
    column used at most once, min(rows, cols) pairs), rows ascending: what
    ``scipy.optimize.linear_sum_assignment`` returns, without importing scipy.optimize (~0.4 CPU-s,
    a tenth of a short video scan). The Hungarian method with potentials, O(n^2 m): a frame has
    at most ``max_faces`` faces, so the matrices are tiny.
    """
    a = np.asarray(cost, dtype=np.float64)
    transposed = a.shape[0] > a.shape[1]
    if transposed:
        a = a.T
    n, m = a.shape
    if n == 0:
        return [], []
    inf = float("inf")
    u, v = [0.0] * (n + 1), [0.0] * (m + 1)
    p, way = [0] * (m + 1), [0] * (m + 1)  # p[j]: row (1-based) holding column j
    rows_of = a.tolist()
    for i in range(1, n + 1):
        p[0], j0 = i, 0
        minv, used = [inf] * (m + 1), [False] * (m + 1)
        while True:
            used[j0] = True
            i0, delta, j1 = p[j0], inf, 0
            row = rows_of[i0 - 1]
            for j in range(1, m + 1):
                if not used[j]:
                    cur = row[j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j], way[j] = cur, j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(m + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
    pairs = sorted((p[j] - 1, j - 1) for j in range(1, m + 1) if p[j])
    if transposed:
        pairs = sorted((c, r) for r, c in pairs)
    return [r for r, _ in pairs], [c for _, c in pairs]


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
            rows, cols = min_cost_assignment(cost)
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
