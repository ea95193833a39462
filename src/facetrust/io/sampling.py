"""Which frames of a video to analyse.

A :class:`FrameSampler` is the user's choice (``--frames N``, ``--every K``, ``--fps F`` or all frames).
For one concrete video it makes a :class:`FrameSelector`, which the decoder asks about every decoded
frame in order (``wants``) and which says when decoding can stop (``done``). Selection is streaming:
nothing needs the whole video in memory, and only wanted frames are converted to RGB.

Definitions, for a video of ``n`` frames at ``source_fps``:

* ``uniform N``: the frame at the centre of each of ``N`` equal bins, ``floor((i + 0.5) * n / N)`` for
  ``i = 0 .. N-1``; ``N >= n`` means every frame. Needs ``n`` up front.
* ``every k``: frames ``0, k, 2k, ...``.
* ``fps f``: for each tick ``t_j = j / f`` (seconds from the first frame), the first frame whose time is
  at or after ``t_j``; a frame that covers several ticks is taken once, so ``f >= source_fps`` gives
  every frame. Frame times come from timestamps, else ``index / source_fps``.
* ``all``: every frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

SamplingMode = Literal["uniform", "every", "fps", "all"]
_MODES = ("uniform", "every", "fps", "all")

DEFAULT_UNIFORM_FRAMES = 16
# Only used when a video has neither timestamps nor a frame rate (rare raw streams).
ASSUMED_FPS = 30.0
# Timestamps are rounded to the container's time base (often 1 ms), so a frame exactly on a tick can
# read a hair early; this slack (seconds, capped at a tenth of the tick spacing) absorbs that.
_TICK_SLACK_S = 1e-3


def _is_int(value: float) -> bool:
    return float(value).is_integer()


@dataclass(frozen=True)
class FrameSampler:
    """How to pick frames: ``mode`` and its ``value`` (N for uniform, k for every, target fps for fps)."""

    mode: SamplingMode = "uniform"
    value: float = DEFAULT_UNIFORM_FRAMES

    def __post_init__(self) -> None:
        if self.mode not in _MODES:
            raise ValueError(f"unknown sampling mode {self.mode!r}; expected one of {_MODES}")
        if self.mode == "all":
            return
        value = self.value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{self.mode} sampling needs a finite number, got {value!r}")
        if value <= 0:
            raise ValueError(f"{self.mode} sampling value must be positive, got {value!r}")
        if self.mode in ("uniform", "every") and not _is_int(value):
            raise ValueError(f"{self.mode} sampling needs a whole number, got {value!r}")

    @classmethod
    def from_options(
        cls, frames: int | None = None, every: int | None = None, fps: float | None = None
    ) -> FrameSampler:
        """Build from CLI-style options; at most one may be given, none means uniform 16."""
        given = {k: v for k, v in (("frames", frames), ("every", every), ("fps", fps)) if v is not None}
        if len(given) > 1:
            raise ValueError(f"give at most one of frames/every/fps, got {sorted(given)}")
        if frames is not None:
            return cls("uniform", _positive(frames, "frames", whole=True))
        if every is not None:
            return cls("every", _positive(every, "every", whole=True))
        if fps is not None:
            return cls("fps", _positive(fps, "fps", whole=False))
        return cls()

    def needs_frame_count(self) -> bool:
        """Whether :meth:`select` needs the video's frame count (only uniform does)."""
        return self.mode == "uniform"

    def select(self, n_frames: int | None, source_fps: float | None) -> FrameSelector:
        """A fresh selector for one video (selectors are stateful: one per pass)."""
        if n_frames is not None and n_frames < 0:
            raise ValueError(f"n_frames must be >= 0, got {n_frames}")
        if self.mode == "uniform":
            if n_frames is None:
                raise ValueError("uniform sampling needs the frame count")
            return _IndexSetSelector(uniform_indices(n_frames, int(self.value)))
        if self.mode == "every":
            return _EverySelector(int(self.value), n_frames)
        fps = float(source_fps) if source_fps and source_fps > 0 else None
        if self.mode == "all" or (fps is not None and self.value >= fps):
            return _EverySelector(1, n_frames)
        return _FpsSelector(float(self.value), fps or ASSUMED_FPS, n_frames)

    def describe(self) -> str:
        """Short human form, e.g. ``uniform:16``, ``every:5``, ``fps:2``, ``all``."""
        if self.mode == "all":
            return "all"
        value = int(self.value) if _is_int(self.value) else self.value
        return f"{self.mode}:{value}"


def _positive(value: float, name: str, *, whole: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    if whole and not _is_int(value):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    return int(value) if whole else float(value)


def uniform_indices(n_frames: int, count: int) -> list[int]:
    """Centres of ``count`` equal bins over ``n_frames`` frames (all frames when count >= n_frames)."""
    if count >= n_frames:
        return list(range(n_frames))
    # Integer form of floor((i + 0.5) * n / N): exact, no float rounding at bin edges.
    return sorted({((2 * i + 1) * n_frames) // (2 * count) for i in range(count)})


class FrameSelector:
    """Per-video frame choice. Call :meth:`wants` once per decoded frame, in index order."""

    def wants(self, index: int, time_s: float | None) -> bool:
        """Whether the frame at ``index`` (time ``time_s`` from the first frame, if known) is sampled."""
        raise NotImplementedError

    def done(self, index: int) -> bool:
        """True when no frame after ``index`` can be wanted (``done(-1)``: nothing can be wanted)."""
        raise NotImplementedError


class _IndexSetSelector(FrameSelector):
    def __init__(self, indices: list[int]) -> None:
        self._indices = frozenset(indices)
        self._last = max(indices) if indices else -1

    def wants(self, index: int, time_s: float | None) -> bool:
        return index in self._indices

    def done(self, index: int) -> bool:
        return index >= self._last


class _EverySelector(FrameSelector):
    def __init__(self, step: int, n_frames: int | None) -> None:
        self._step = step
        self._n = n_frames

    def wants(self, index: int, time_s: float | None) -> bool:
        return index % self._step == 0 and (self._n is None or index < self._n)

    def done(self, index: int) -> bool:
        if self._n is None:
            return False
        next_wanted = (index // self._step + 1) * self._step
        return next_wanted >= self._n


class _FpsSelector(FrameSelector):
    def __init__(self, fps: float, source_fps: float, n_frames: int | None) -> None:
        self._fps = fps
        self._source_fps = source_fps
        self._n = n_frames
        self._next_tick = 0  # j of the next tick t_j = j / fps still waiting for a frame
        self._slack = min(_TICK_SLACK_S, 0.1 / fps)

    def wants(self, index: int, time_s: float | None) -> bool:
        if self._n is not None and index >= self._n:
            return False
        t = time_s if time_s is not None else index / self._source_fps
        if t < self._next_tick / self._fps - self._slack:
            return False
        # This frame serves every tick up to its own time; the next one must reach a later tick.
        self._next_tick = math.floor((t + self._slack) * self._fps) + 1
        return True

    def done(self, index: int) -> bool:
        return self._n is not None and index >= self._n - 1


def count_sampled(sampler: FrameSampler, n_frames: int, source_fps: float | None) -> int:
    """``len(sample_indices(...))`` in constant time, whatever ``n_frames`` a header claims.

    Walking the frames one by one (as :func:`sample_indices` does) took minutes for a poison
    header claiming 2**31 - 1 frames.
    """
    if n_frames <= 0:
        return 0
    if sampler.mode == "uniform":
        return min(n_frames, int(sampler.value))  # bin centres are distinct when N < n
    if sampler.mode == "every":
        return -(-n_frames // int(sampler.value))
    fps = float(source_fps) if source_fps and source_fps > 0 else None
    if sampler.mode == "all" or (fps is not None and sampler.value >= fps):
        return n_frames
    # fps below the source rate: one frame per tick j / f up to the last frame's time.
    f, src = float(sampler.value), fps or ASSUMED_FPS
    slack = min(_TICK_SLACK_S, 0.1 / f)
    return min(n_frames, math.floor(((n_frames - 1) / src + slack) * f) + 1)


def sample_indices(sampler: FrameSampler, n_frames: int, source_fps: float | None) -> list[int]:
    """The indices ``sampler`` picks from ``n_frames`` frames at a constant ``source_fps`` (pure)."""
    if sampler.mode == "uniform":
        return uniform_indices(n_frames, int(sampler.value))  # no walk over every frame
    selector = sampler.select(n_frames, source_fps)
    picked: list[int] = []
    if selector.done(-1):
        return picked
    for index in range(n_frames):
        if selector.wants(index, None):
            picked.append(index)
        if selector.done(index):
            break
    return picked
