"""ECE / reliability data, pixel-mask metrics and temporal segment AP against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import roc_auc_score

from facetrust.eval import metrics as M

# ---------------------------------------------------------------- calibration

P = [0.1, 0.2, 0.8, 0.9, 0.95]
Y = [0, 1, 1, 1, 0]


def test_ece_probability_mode_hand_example() -> None:
    # 2 bins: [0, .5) holds 0.1, 0.2 (mean .15, 1 of 2 fake -> gap .35);
    # [.5, 1] holds .8, .9, .95 (mean .88333, 2 of 3 fake -> gap .21667). ECE = (2*.35 + 3*.21667) / 5
    c = M.ece(Y, P, n_bins=2)
    assert c.ece.value == pytest.approx((2 * 0.35 + 3 * (2.65 / 3 - 2 / 3)) / 5)
    assert c.ece.value == pytest.approx(0.27)
    b0, b1 = c.bins
    assert (b0.count, b1.count) == (2, 3)
    assert b0.mean_confidence == pytest.approx(0.15) and b0.accuracy == pytest.approx(0.5)
    assert b1.mean_confidence == pytest.approx(2.65 / 3) and b1.accuracy == pytest.approx(2 / 3)
    assert c.mce == pytest.approx(0.35)


def test_ece_top_label_mode_hand_example() -> None:
    # confidence max(p, 1-p) = .9 .8 .8 .9 .95; correct = [1, 0, 1, 1, 0]
    # 10 bins: bin 8 = {.8, .8} acc .5 gap .3; bin 9 = {.9, .9, .95} acc 2/3 gap .91667-.66667 = .25
    c = M.ece(Y, P, n_bins=10, mode="top_label")
    filled = [b for b in c.bins if b.count]
    assert [b.count for b in filled] == [2, 3]
    assert filled[0].accuracy == pytest.approx(0.5) and filled[1].accuracy == pytest.approx(2 / 3)
    assert c.ece.value == pytest.approx((2 * 0.3 + 3 * 0.25) / 5)
    assert sum(b.count for b in c.bins) == 5 and len(c.bins) == 10


def test_ece_edges_and_behaviour() -> None:
    c = M.ece([1, 0], [1.0, 0.0], n_bins=15)
    assert c.bins[-1].count == 1 and c.bins[0].count == 1  # p = 1.0 lands in the last bin
    assert c.ece.value == pytest.approx(0.0)
    rng = np.random.default_rng(0)
    p = rng.uniform(size=20000)
    y = (rng.uniform(size=p.size) < p).astype(int)  # calibrated by construction
    assert M.ece(y, p).ece.value < 0.02
    assert M.ece(y, p**3).ece.value > 0.1  # systematically under-confident about fakes
    e = M.ece([], [])
    assert e.ece.value is None and e.ece.reason == "no samples"
    assert M.ece([1, 1], [0.7, 0.9]).ece.value == pytest.approx(0.2)  # defined with one class
    with pytest.raises(ValueError):
        M.ece([0, 1], [0.2, 1.3])


def test_brier() -> None:
    assert M.brier(Y, P).value == pytest.approx(np.mean((np.array(P) - np.array(Y)) ** 2))
    assert M.brier([], []).value is None


def test_plot_reliability_writes_png(tmp_path) -> None:
    c = M.ece(Y, P, n_bins=5)
    out = M.plot_reliability(c, str(tmp_path / "rel.png"))
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size == (450, 450)
    d = c.to_dict()
    assert d["ece"]["value"] == pytest.approx(c.ece.value) and len(d["bins"]) == 5


# ---------------------------------------------------------------- localization


def _masks() -> tuple[np.ndarray, np.ndarray]:
    gt = np.zeros((20, 20), dtype=np.float32)
    gt[0:10, 0:10] = 1
    pred = np.zeros((20, 20), dtype=np.float32)
    pred[5:15, 0:10] = 0.8
    return pred, gt


def test_mask_iou_and_f1_hand_values() -> None:
    pred, gt = _masks()  # overlap 50 px, union 150 px
    assert M.mask_iou(pred, gt).value == pytest.approx(1 / 3)
    assert M.pixel_f1(pred, gt).value == pytest.approx(2 * 50 / (2 * 50 + 50 + 50))
    # uint8 0/255 masks and bool masks mean the same thing
    assert M.mask_iou((pred * 255).astype(np.uint8), (gt * 255).astype(np.uint8)).value == pytest.approx(1 / 3)
    assert M.mask_iou(pred > 0.5, gt.astype(bool)).value == pytest.approx(1 / 3)
    # the 0.5 threshold applies to the prediction: 0.4 everywhere predicts nothing
    assert M.mask_iou(np.full((20, 20), 0.4), gt).value == 0.0
    with pytest.raises(ValueError):
        M.mask_iou(pred, gt[:10])


def test_pixel_auc_matches_sklearn() -> None:
    rng = np.random.default_rng(3)
    _, gt = _masks()
    soft = np.clip(gt * 0.3 + rng.uniform(size=gt.shape) * 0.7, 0, 1)
    assert M.pixel_auc(soft, gt).value == pytest.approx(roc_auc_score(gt.ravel().astype(int), soft.ravel()))
    r = M.pixel_auc(soft, np.zeros_like(gt))
    assert r.value is None and r.reason


def test_localization_per_image_average() -> None:
    pred, gt = _masks()
    empty = np.zeros_like(gt)
    res = M.localization_metrics([pred, empty, pred], [gt, empty, empty])
    # image 1: IoU 1/3; image 2: both empty -> undefined; image 3: nothing manipulated, 100 px predicted -> 0
    assert res["mask_iou"].value == pytest.approx((1 / 3 + 0.0) / 2)
    assert res["mask_iou"].details["n_undefined"] == 1
    assert res["mask_iou"].n_pos == 1 and res["mask_iou"].n_neg == 2
    assert res["pixel_auc"].details["n_undefined"] == 2  # only image 1 has both pixel classes
    none = M.localization_metrics([empty], [empty])
    assert none["pixel_f1"].value is None and none["pixel_f1"].reason


# ---------------------------------------------------------------- temporal

GT = [("a", 0, 10), ("a", 20, 30), ("b", 5, 15)]
PRED = [("a", 0, 9, 0.9), ("a", 1, 10, 0.8), ("b", 5, 14, 0.7), ("a", 22, 40, 0.6)]


def test_tiou() -> None:
    assert M.tiou((0, 10), (5, 15)) == pytest.approx(5 / 15)
    assert M.tiou((0, 1), (2, 3)) == 0.0
    assert M.tiou((1, 1), (1, 1)) == 0.0


def test_segment_ap_hand_case() -> None:
    # tIoU .5: TP (0.9), FP (0.8: its best GT is taken), TP (b), FP (0.4 < .5).
    # P = 1, .5, .667, .5; R = 1/3, 1/3, 2/3, 2/3 -> interpolated AP = 1/3*1 + 1/3*2/3 + 1/3*0 = 5/9
    r = M.segment_ap(PRED, GT, 0.5)
    assert r.value == pytest.approx(5 / 9) and r.details["n_matched"] == 2
    # tIoU .3: the last prediction matches too: P = 1, .5, .667, .75 -> 1/3 + 1/3*.75 + 1/3*.75
    assert M.segment_ap(PRED, GT, 0.3).value == pytest.approx(1 / 3 + 0.5)
    assert M.segment_ap(PRED, GT, 0.95).value == 0.0  # best tIoU is 0.9
    # order of the input does not matter, only scores
    assert M.segment_ap(PRED[::-1], GT, 0.5).value == pytest.approx(5 / 9)
    m = M.segment_map(PRED, GT, tious=(0.3, 0.5))
    assert m.value == pytest.approx((5 / 9 + 5 / 6) / 2) and set(m.details["ap"]) == {"0.30", "0.50"}
    assert len(M.segment_map(PRED, GT).details["ap"]) == 10  # 0.50:0.05:0.95


def test_segment_ap_edge_cases() -> None:
    r = M.segment_ap(PRED, [], 0.5)
    assert r.value is None and "ground-truth" in r.reason
    assert M.segment_ap([], GT, 0.5).value == 0.0
    assert M.segment_ap([M.Segment("a", 0, 10, 1.0)], [("a", 0, 10)], 0.5).value == pytest.approx(1.0)
    with pytest.raises(ValueError):
        M.segment_ap([("a", 5, 1, 0.3)], GT)
