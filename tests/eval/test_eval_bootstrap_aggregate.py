"""Bootstrap intervals, frame -> video aggregation and the level naming convention."""

from __future__ import annotations

import numpy as np
import pytest

from facetrust import fusion
from facetrust.eval import metrics as M


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return y, rng.normal(size=n) + y


def test_bootstrap_contains_point_and_shrinks_with_n() -> None:
    widths = []
    for n in (200, 2000):
        y, s = _data(n, 7)
        ci = M.bootstrap_ci(M.roc_auc, y, s, n=300, seed=1)
        assert ci.point == pytest.approx(M.roc_auc(y, s).value)
        assert ci.low < ci.point < ci.high
        assert ci.n_valid == 300 and not ci.grouped
        widths.append(ci.high - ci.low)
    assert widths[1] < 0.6 * widths[0]  # ~1/sqrt(10) in theory


def test_bootstrap_is_seeded_and_alpha_widens() -> None:
    y, s = _data(300, 2)
    a = M.bootstrap_ci(M.eer, y, s, n=200, seed=5)
    b = M.bootstrap_ci(M.eer, y, s, n=200, seed=5)
    assert (a.low, a.high) == (b.low, b.high)
    wide = M.bootstrap_ci(M.eer, y, s, n=200, seed=5, alpha=0.01)
    assert wide.high - wide.low > a.high - a.low
    # a plain-float metric function works too
    acc = M.bootstrap_ci(lambda yy, ss: float(np.mean((ss >= 0.5) == yy)), y, s, n=100)
    assert acc.low <= acc.point <= acc.high


def test_grouped_bootstrap_respects_video_clusters() -> None:
    # 40 videos x 25 frames; frames of a video share a strong per-video offset, so they are not
    # independent: resampling frames alone understates the uncertainty.
    rng = np.random.default_rng(11)
    n_vid, n_fr = 40, 25
    vy = np.arange(n_vid) % 2
    offset = rng.normal(size=n_vid) * 1.5 + vy
    y = np.repeat(vy, n_fr)
    s = np.repeat(offset, n_fr) + 0.1 * rng.normal(size=n_vid * n_fr)
    groups = np.repeat([f"v{i}" for i in range(n_vid)], n_fr)
    naive = M.bootstrap_ci(M.roc_auc, y, s, n=300, seed=0)
    grouped = M.bootstrap_ci(M.roc_auc, y, s, n=300, seed=0, groups=groups)
    assert grouped.grouped and grouped.point == naive.point
    assert grouped.low <= grouped.point <= grouped.high
    assert (grouped.high - grouped.low) > 2 * (naive.high - naive.low)


def test_bootstrap_undefined() -> None:
    ci = M.bootstrap_ci(M.roc_auc, [1, 1, 1], [0.1, 0.2, 0.3], n=50)
    assert ci.point is None and ci.low is None and ci.reason
    # defined on the data, but one replicate in ~4 draws a single class and is dropped
    ci = M.bootstrap_ci(M.roc_auc, [0, 1], [0.2, 0.8], n=200, seed=0)
    assert ci.point == 1.0 and 0 < ci.n_valid < 200


def test_frame_vs_video_metrics_differ_and_carry_level() -> None:
    rng = np.random.default_rng(4)
    vy = np.array([0, 1] * 10)
    frames_y = np.repeat(vy, 8)
    frames_s = np.repeat(vy * 0.8, 8) + rng.normal(size=frames_y.size)
    groups = np.repeat(np.arange(vy.size), 8)
    # one score per video: the mean of its frames (fusion.aggregate, the track rule scan uses)
    video_s = np.array([fusion.aggregate(frames_s[groups == g], "mean") for g in range(vy.size)])
    frame = M.standard_metrics(frames_y, frames_s, level="frame")
    video = M.standard_metrics(vy, video_s, level="video")
    assert "roc_auc@frame" in frame and "roc_auc@video" in video
    assert all(k.endswith("@frame") for k in frame)
    assert frame["roc_auc@frame"].value == pytest.approx(M.roc_auc(frames_y, frames_s).value)
    assert video["roc_auc@video"].value > frame["roc_auc@frame"].value  # averaging removes frame noise
    assert video["eer@video"].to_dict()["key"] == "eer@video"
    assert "ece@frame" not in frame  # scores are not probabilities here
    probs = M.standard_metrics(frames_y, 1 / (1 + np.exp(-frames_s)), level="frame")
    assert probs["ece@frame"].value is not None and "tpr_at_fpr_0.01@frame" in probs


def test_level_naming() -> None:
    assert M.metric_key("roc_auc", "video") == "roc_auc@video"
    with pytest.raises(ValueError):
        M.metric_key("roc_auc", "clip")
    with pytest.raises(ValueError):
        M.LevelledResult("auc", "pixel", M.MetricResult(0.5))
    out = M.levelled("track", {"eer": M.MetricResult(0.1)})
    assert list(out) == ["eer@track"] and out["eer@track"].value == 0.1
