"""Ranking and threshold metrics against independent references (scikit-learn, brute force, by hand)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from facetrust.eval import metrics as M


def _data(seed: int, n: int, ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    s = rng.normal(size=n) + 1.2 * y
    if ties:
        s = np.round(s * 2) / 2  # heavy ties
    return y, s


CASES = [(seed, n, ties) for seed, n in [(0, 7), (1, 60), (2, 500), (3, 3000)] for ties in (False, True)]


@pytest.mark.parametrize("seed,n,ties", CASES)
def test_roc_auc_ap_and_curve_match_sklearn(seed: int, n: int, ties: bool) -> None:
    y, s = _data(seed, n, ties)
    if y.min() == y.max():
        pytest.skip("single class drawn")
    assert M.roc_auc(y, s).value == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    assert M.average_precision(y, s).value == pytest.approx(skm.average_precision_score(y, s), abs=1e-12)
    fpr, tpr, thr = skm.roc_curve(y, s, drop_intermediate=False)
    roc = M.roc_curve(y, s)
    np.testing.assert_allclose(roc.fpr, fpr)
    np.testing.assert_allclose(roc.tpr, tpr)
    np.testing.assert_array_equal(roc.thresholds, thr)


def test_roc_auc_counts_ties_as_half() -> None:
    # one fake and one real share a score: P(fake > real) = 3/4, tie = 1/4 -> AUC = 3/4 + 1/8
    y = np.array([1, 1, 0, 0])
    s = np.array([0.9, 0.5, 0.5, 0.1])
    assert M.roc_auc(y, s).value == pytest.approx(0.875)
    assert M.roc_auc(y, s).value == pytest.approx(skm.roc_auc_score(y, s))


def test_all_equal_scores() -> None:
    y = np.array([0, 1, 0, 1, 1])
    s = np.full(5, 0.3)
    assert M.roc_auc(y, s).value == pytest.approx(0.5)
    assert M.average_precision(y, s).value == pytest.approx(skm.average_precision_score(y, s))
    assert M.average_precision(y, s).value == pytest.approx(0.6)  # = prevalence
    e = M.eer(y, s)
    assert e.value == pytest.approx(0.5) and e.threshold == pytest.approx(0.3)
    assert M.tpr_at_fpr(y, s, 0.1).value == 0.0  # nothing flags without also flagging all reals
    assert M.tpr_at_fpr(y, s, 0.1, method="interpolated").value == pytest.approx(0.1)


def _brute_eer(y: np.ndarray, s: np.ndarray) -> float:
    ts = np.unique(np.r_[np.linspace(s.min() - 1, s.max() + 1, 4001), s])
    pos, neg = s[y == 1], s[y == 0]
    fpr = (neg[None, :] >= ts[:, None]).mean(1)
    fnr = (pos[None, :] < ts[:, None]).mean(1)
    i = np.argmin(np.abs(fpr - fnr))
    return float((fpr[i] + fnr[i]) / 2)


@pytest.mark.parametrize("seed,n", [(10, 40), (11, 400), (12, 4000)])
def test_eer_matches_dense_threshold_brute_force(seed: int, n: int) -> None:
    y, s = _data(seed, n)
    n_pos, n_neg = int(y.sum()), int((1 - y).sum())
    e = M.eer(y, s)
    # The interpolated EER and the best grid point differ by at most one ROC step.
    assert abs(e.value - _brute_eer(y, s)) <= 1.0 / min(n_pos, n_neg) + 1e-9
    # The returned threshold realises error rates close to the EER.
    fpr_t = np.mean(s[y == 0] >= e.threshold)
    fnr_t = np.mean(s[y == 1] < e.threshold)
    assert abs(fpr_t - e.value) <= 1.0 / n_neg + 1e-9
    assert abs(fnr_t - e.value) <= 1.0 / n_pos + 1e-9


def test_eer_hand_examples() -> None:
    # sklearn docs example: ROC passes exactly through FPR = FNR = 0.5 at threshold 0.4.
    e = M.eer([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    assert e.value == pytest.approx(0.5) and e.threshold == pytest.approx(0.4)
    # Genuine crossing: reals 0.9, 0.2, 0.1 and one fake 0.5. ROC (FPR, FNR): (0,1) (1/3,1) (1/3,0) ...
    # d goes -2/3 -> 1/3, a = 2/3: EER = 1/3, threshold = 0.9 + 2/3 (0.5 - 0.9).
    e = M.eer([0, 1, 0, 0], [0.9, 0.5, 0.2, 0.1])
    assert e.value == pytest.approx(1 / 3)
    assert e.threshold == pytest.approx(0.9 + (2 / 3) * (0.5 - 0.9))
    assert M.d_eer([0, 1, 0, 0], [0.9, 0.5, 0.2, 0.1]).value == pytest.approx(1 / 3)
    # Perfect separation: EER 0.
    assert M.eer([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]).value == pytest.approx(0.0)


@pytest.mark.parametrize("seed,n,ties", CASES[2:])
def test_tpr_at_fpr_both_variants(seed: int, n: int, ties: bool) -> None:
    y, s = _data(seed, n, ties)
    pos, neg = s[y == 1], s[y == 0]
    fpr_sk, tpr_sk, _ = skm.roc_curve(y, s, drop_intermediate=False)
    for target in (0.013, 0.0517, 0.1234, 0.4321):
        # achievable: brute force over every threshold that changes a decision
        best = 0.0
        for t in np.r_[np.inf, np.unique(s)]:
            if np.mean(neg >= t) <= target:
                best = max(best, float(np.mean(pos >= t)))
        r = M.tpr_at_fpr(y, s, target)
        assert r.value == pytest.approx(best)
        assert np.mean(neg >= r.threshold) <= target + 1e-12
        assert np.mean(pos >= r.threshold) == pytest.approx(r.value)
        # interpolated: the usual np.interp on the ROC (targets are off the 1/n_neg grid here)
        ri = M.tpr_at_fpr(y, s, target, method="interpolated")
        assert ri.value == pytest.approx(float(np.interp(target, fpr_sk, tpr_sk)))
        assert ri.value >= r.value - 1e-12


@pytest.mark.parametrize("seed,n", [(20, 80), (21, 700)])
def test_bpcer_at_apcer_brute_force(seed: int, n: int) -> None:
    y, s = _data(seed, n, ties=seed == 21)
    pos, neg = s[y == 1], s[y == 0]
    for cap in (0.05, 0.1, 0.2):
        best = min(
            float(np.mean(neg >= t))
            for t in np.r_[np.inf, np.unique(s), -np.inf]
            if np.mean(pos < t) <= cap + 1e-12
        )
        r = M.bpcer_at_apcer(y, s, cap)
        assert r.value == pytest.approx(best)
        assert np.mean(pos < r.threshold) <= cap + 1e-12


@pytest.mark.parametrize("thr", [-0.5, 0.0, 0.6, 1.5])
def test_threshold_metrics_match_sklearn(thr: float) -> None:
    y, s = _data(5, 300)
    pred = (s >= thr).astype(int)
    tn, fp, fn, tp = skm.confusion_matrix(y, pred, labels=[0, 1]).ravel()
    assert M.accuracy(y, s, thr).value == pytest.approx(skm.accuracy_score(y, pred))
    assert M.balanced_accuracy(y, s, thr).value == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert M.hter(y, s, thr).value == pytest.approx(0.5 * (fp / (fp + tn) + fn / (fn + tp)))
    assert M.apcer(y, s, thr).value == pytest.approx(fn / (fn + tp))
    assert M.bpcer(y, s, thr).value == pytest.approx(fp / (fp + tn))
    assert M.acer(y, s, thr).value == pytest.approx(0.5 * (fn / (fn + tp) + fp / (fp + tn)))
    assert M.accuracy(y, s, thr).threshold == thr


def test_apcer_is_max_over_species() -> None:
    y = [1, 1, 1, 1, 1, 0, 0]
    s = [0.9, 0.2, 0.8, 0.7, 0.1, 0.3, 0.6]
    sp = ["print", "print", "replay", "replay", "replay", "bona", "bona"]
    r = M.apcer(y, s, 0.5, species=sp)
    assert r.details["per_species"] == pytest.approx({"print": 0.5, "replay": 1 / 3})
    assert r.value == pytest.approx(0.5) and r.details["worst_species"] == "print"
    assert M.apcer(y, s, 0.5).value == pytest.approx(2 / 5)  # pooled
    a = M.acer(y, s, 0.5, species=sp)
    assert a.value == pytest.approx(0.5 * (0.5 + 0.5))  # BPCER: 0.6 >= 0.5 -> 1 of 2


def test_undefined_cases_return_none_with_reason() -> None:
    one_class = ([1, 1, 1], [0.2, 0.5, 0.9])
    for fn in (M.roc_auc, M.average_precision, M.eer, M.d_eer, M.tpr_at_fpr, M.bpcer_at_apcer, M.balanced_accuracy):
        r = fn(*one_class)
        assert r.value is None and "negative" in r.reason and r.n_pos == 3 and r.n_neg == 0
    r = M.roc_auc([0, 0], [0.1, 0.2])
    assert r.value is None and "positive" in r.reason
    for fn in (M.roc_auc, M.accuracy, M.eer):
        r = fn([], [])
        assert r.value is None and r.reason == "no samples"
    assert M.accuracy(*one_class).value == pytest.approx(2 / 3)  # accuracy needs no second class
    assert M.bpcer(*one_class).value is None and M.apcer(*one_class).value == pytest.approx(1 / 3)
    assert M.apcer([0, 0], [0.1, 0.9]).value is None
    assert M.acer(*one_class).value is None
    assert M.hter(*one_class, threshold=0.5).value is None
    roc = M.roc_curve(*one_class)
    assert not roc.defined and roc.fpr.size == 0
    with pytest.raises(ValueError):
        float(M.roc_auc(*one_class))
    assert float(M.roc_auc([0, 1], [0.1, 0.9])) == 1.0


def test_malformed_input_raises() -> None:
    with pytest.raises(ValueError, match="0 \\(real\\) or 1"):
        M.roc_auc([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="NaN"):
        M.roc_auc([0, 1], [0.1, np.nan])
    with pytest.raises(ValueError, match="length"):
        M.eer([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError):
        M.tpr_at_fpr([0, 1], [0.1, 0.2], fpr=1.5)
    with pytest.raises(ValueError):
        M.tpr_at_fpr([0, 1], [0.1, 0.2], method="magic")
    # booleans and infinite scores are fine
    assert M.roc_auc(np.array([False, True, True]), [-np.inf, 0.0, np.inf]).value == 1.0


def test_results_serialise() -> None:
    d = M.tpr_at_fpr([0, 0, 1], [0.9, 0.8, 0.1], 0.0).to_dict()
    assert d["value"] == 0.0 and d["threshold"] == "inf"  # +inf threshold = "flag nothing"
    assert M.eer([0, 1], [0.1, 0.9]).to_dict()["threshold"] == pytest.approx(0.9)
