"""Helpers the micro-benchmarks share: a warmed-up median timer and two project-free sample faces."""

from __future__ import annotations

import statistics
import time

import numpy as np


def median_ms(fn, n: int) -> float:
    """Median wall time of ``fn()`` over ``n`` calls, in ms, after one warm-up call (lazy loads)."""
    fn()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def sample_faces() -> tuple[np.ndarray, np.ndarray]:
    """Two RGB photos of two different people shipped inside installed wheels (scikit-image's
    astronaut, matplotlib's Grace Hopper): no shared data needed."""
    import matplotlib.cbook
    import skimage.data
    from PIL import Image

    hopper = Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB")
    return skimage.data.astronaut(), np.asarray(hopper)
