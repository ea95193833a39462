from __future__ import annotations

import math
from fractions import Fraction

import pytest

from facetrust.io import FrameSampler, sample_indices


def ref_uniform(n: int, count: int) -> list[int]:
    """Definition: centres of `count` equal bins, exact rational arithmetic."""
    if count >= n:
        return list(range(n))
    return sorted({math.floor((i + Fraction(1, 2)) * n / count) for i in range(count)})


def ref_fps(times: list[Fraction], f: Fraction) -> list[int]:
    """Definition: for each tick j/f (up to the last frame), the first frame at or after it, once."""
    picked: list[int] = []
    j = 0
    while Fraction(j) / f <= times[-1]:
        tick = Fraction(j) / f
        i = next(k for k, t in enumerate(times) if t >= tick)
        if i not in picked:
            picked.append(i)
        j += 1
    return picked


@pytest.mark.parametrize("n", [0, 1, 2, 7, 16, 17, 100, 1001])
@pytest.mark.parametrize("count", [1, 2, 5, 16, 64])
def test_uniform_matches_bin_centre_definition(n, count):
    got = sample_indices(FrameSampler("uniform", count), n, 25.0)
    assert got == ref_uniform(n, count)
    assert len(got) == min(n, count)
    assert all(0 <= i < n for i in got)


def test_uniform_examples():
    assert sample_indices(FrameSampler.from_options(frames=4), 10, None) == [1, 3, 6, 8]
    assert sample_indices(FrameSampler.from_options(frames=1), 11, None) == [5]
    assert sample_indices(FrameSampler.from_options(frames=50), 7, None) == list(range(7))


@pytest.mark.parametrize("k,n,expected", [(1, 5, [0, 1, 2, 3, 4]), (3, 10, [0, 3, 6, 9]), (4, 3, [0]), (2, 0, [])])
def test_every(k, n, expected):
    assert sample_indices(FrameSampler.from_options(every=k), n, 30.0) == expected


@pytest.mark.parametrize(
    "source_fps,f",
    [(Fraction(25), Fraction(5)), (Fraction(25), Fraction(10)), (Fraction(30), Fraction(7)),
     (Fraction(24), Fraction(5, 2)), (Fraction(25), Fraction(1, 2)), (Fraction(30000, 1001), Fraction(6))],
)
def test_fps_matches_first_frame_at_or_after_tick(source_fps, f):
    n = 300
    times = [Fraction(i) / source_fps for i in range(n)]
    expected = ref_fps(times, f)
    got = sample_indices(FrameSampler("fps", float(f)), n, float(source_fps))
    assert got == expected
    # roughly f frames per second of video
    assert abs(len(got) - float(times[-1] * f) - 1) <= 1


@pytest.mark.parametrize("f", [25.0, 30.0, 120.0])
def test_fps_at_or_above_source_rate_gives_every_frame(f):
    assert sample_indices(FrameSampler("fps", f), 50, 25.0) == list(range(50))


def test_fps_uses_timestamps_for_variable_frame_rate():
    times_ms = [0, 40, 80, 300, 310, 320, 900, 1000, 1450, 1460, 2100]
    sel = FrameSampler.from_options(fps=2).select(None, 25.0)
    got = [i for i, t in enumerate(times_ms) if sel.wants(i, t / 1000)]
    assert got == ref_fps([Fraction(t, 1000) for t in times_ms], Fraction(2))
    assert got == [0, 6, 7, 10]  # ticks 0, .5, 1, 1.5 (-> 2.1 s, which also serves 2.0)


def test_fps_tolerates_millisecond_rounded_timestamps():
    # 30 fps stored in a 1/1000 time base: 0, 33, 67, 100, ... ms (each a hair off the true tick)
    times = [round(i * 1000 / 30) / 1000 for i in range(90)]
    sel = FrameSampler("fps", 15).select(None, None)  # frame rate unknown: timestamps only
    assert [i for i, t in enumerate(times) if sel.wants(i, t)] == list(range(0, 90, 2))
    sel = FrameSampler("fps", 30).select(None, None)
    assert [i for i, t in enumerate(times) if sel.wants(i, t)] == list(range(90))


def test_done_stops_after_last_wanted_frame():
    sel = FrameSampler("uniform", 3).select(30, 25.0)  # indices 5, 15, 25
    assert [i for i in range(30) if sel.wants(i, None)] == [5, 15, 25]
    assert not sel.done(-1) and not sel.done(24)
    assert sel.done(25)
    every = FrameSampler("every", 4).select(10, None)  # 0, 4, 8
    assert not every.done(7) and every.done(8)
    assert not FrameSampler("every", 4).select(None, None).done(10**6)  # unknown length: never early
    assert FrameSampler("uniform", 5).select(0, None).done(-1)  # nothing to want at all
    fps = FrameSampler("fps", 1).select(10, 25.0)
    assert not fps.done(8) and fps.done(9)


def test_from_options_and_validation():
    assert FrameSampler.from_options() == FrameSampler("uniform", 16)
    assert FrameSampler.from_options(frames=8) == FrameSampler("uniform", 8)
    assert FrameSampler.from_options(every=3) == FrameSampler("every", 3)
    assert FrameSampler.from_options(fps=2.5) == FrameSampler("fps", 2.5)
    assert FrameSampler.from_options(frames=8).needs_frame_count()
    assert not FrameSampler.from_options(fps=1).needs_frame_count()
    with pytest.raises(ValueError):
        FrameSampler.from_options(frames=8, every=2)
    with pytest.raises(ValueError):
        FrameSampler.from_options(every=2, fps=1)
    for bad in ({"frames": 0}, {"every": -1}, {"fps": 0.0}, {"fps": -3}, {"frames": 2.5}, {"fps": float("nan")}):
        with pytest.raises(ValueError):
            FrameSampler.from_options(**bad)
    with pytest.raises(ValueError):
        FrameSampler("sometimes", 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        FrameSampler("uniform", 16).select(None, 25.0)  # uniform needs the count
    assert sample_indices(FrameSampler("all"), 4, None) == [0, 1, 2, 3]
    assert FrameSampler("every", 5).describe() == "every:5"
