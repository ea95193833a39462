import numpy as np
import pytest

from facetrust import fusion


def test_fuse_detectors_weighted_mean():
    assert fusion.fuse_detectors([0.2, 0.8]) == pytest.approx(0.5)
    assert fusion.fuse_detectors([0.2, 0.8], [3, 1]) == pytest.approx(0.35)
    with pytest.raises(ValueError):
        fusion.fuse_detectors([])
    with pytest.raises(ValueError):
        fusion.fuse_detectors([0.5, 0.5], [0, 0])


def test_aggregation_rules():
    v = [0.1, 0.2, 0.9, 0.3, 0.8, 0.1, 0.1, 0.2]
    assert fusion.aggregate(v, "mean") == pytest.approx(np.mean(v))
    assert fusion.aggregate(v, "max") == 0.9
    assert fusion.aggregate(v, "topk_mean") == pytest.approx((0.9 + 0.8) / 2)  # top 25 % of 8 = 2
    assert fusion.aggregate([0.4], "topk_mean") == 0.4
    with pytest.raises(ValueError):
        fusion.aggregate(v, "median")


def test_verdict_threshold_is_inclusive():
    assert fusion.verdict_for(0.5, 0.5) == "fake"
    assert fusion.verdict_for(0.49, 0.5) == "real"


def test_segments_cover_flagged_runs():
    times = [0, 1, 2, 3, 4, 5]
    probs = [0.1, 0.9, 0.8, 0.2, 0.7, 0.1]
    assert fusion.segments_above(times, probs, 0.5) == [[0.5, 2.5], [3.5, 4.5]]
    assert fusion.segments_above([2.0], [0.9], 0.5) == [[2.0, 2.0]]
    assert fusion.segments_above(times, [0.0] * 6, 0.5) == []
    assert fusion.segments_above(times, [1.0] * 6, 0.5) == [[0.0, 5.5]]
