"""benchmarks/selection_correlation.py on made-up metrics.csv files whose relations are known."""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sc():
    spec = importlib.util.spec_from_file_location("selection_correlation", REPO / "benchmarks" / "selection_correlation.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up while the file runs
    spec.loader.exec_module(mod)
    return mod


def _write(run: Path, rows: list[dict]) -> Path:
    run.mkdir(parents=True)
    with open(run / "metrics.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return run


@pytest.fixture
def runs(tmp_path):
    # selection values of both runs interleave; "up" rises with the selection everywhere (non-linearly),
    # "down" falls, "flat" never moves, "sparse" is filled on two rows only
    sel_a, sel_b = [0.60, 0.70, 0.80, 0.90, 0.95], [0.65, 0.75, 0.85, 0.88]
    a = _write(tmp_path / "cand_a", [
        {"epoch": i, "train_loss": 1 - s, "val_auc_select": s, "val_auc_source_up": s ** 3,
         "val_auc_source_down": 1 - s, "val_auc_source_flat": 0.7, "val_auc_source_sparse": s if i < 2 else ""}
        for i, s in enumerate(sel_a)])
    b = _write(tmp_path / "cand_b", [
        {"epoch": i, "train_loss": 1 - s, "val_auc_select": s, "val_auc_source_up": s ** 3,
         "val_auc_source_down": 1 - s, "val_auc_source_flat": 0.7, "val_auc_source_sparse": ""}
        for i, s in enumerate(sel_b)])
    return a, b


def test_spearman_matches_scipy_with_ties(sc):
    from scipy.stats import spearmanr

    rng = np.random.default_rng(0)
    for _ in range(20):
        x = rng.integers(0, 6, 15).astype(float)
        y = x + rng.integers(-3, 4, 15)
        assert sc.spearman(x, y) == pytest.approx(spearmanr(x, y).statistic)
    assert sc.spearman([1, 2, 3], [5, 5, 5]) is None


def test_correlations_regret_and_reasons(sc, runs):
    cands = sc.read_runs(runs)
    assert len(cands) == 9
    rows = sc.report(cands, "val_auc_select", ["val_auc_source_*"], n_boot=200)
    pooled = {r.target: r for r in rows if r.scope == "all"}
    assert set(pooled) == {f"val_auc_source_{k}" for k in ("up", "down", "flat", "sparse")}
    up, down = pooled["val_auc_source_up"], pooled["val_auc_source_down"]
    assert up.n == 9 and up.rho == pytest.approx(1.0) and up.regret == pytest.approx(0.0)
    assert up.selected == "cand_a/4" and up.low == pytest.approx(1.0)
    assert down.rho == pytest.approx(-1.0) and down.high == pytest.approx(-1.0)
    assert down.target_at_selected == pytest.approx(0.05) and down.regret == pytest.approx(0.40 - 0.05)
    assert pooled["val_auc_source_flat"].rho is None and "constant" in pooled["val_auc_source_flat"].reason
    assert pooled["val_auc_source_sparse"].n == 2 and pooled["val_auc_source_sparse"].rho is None
    per_run = [r for r in rows if r.scope != "all" and r.target == "val_auc_source_up"]
    assert {r.scope for r in per_run} == {"cand_a", "cand_b"} and all(r.rho == pytest.approx(1.0) for r in per_run)


def test_cli_prints_and_writes_json(sc, runs, tmp_path, capsys):
    out = tmp_path / "corr.json"
    assert sc.main([str(r) for r in runs] + ["--targets", "*_up", "--n-boot", "50", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "9 candidates from 2 run(s)" in text and "val_auc_source_up" in text
    rows = json.loads(out.read_text())
    assert [r["scope"] for r in rows] == ["all", "cand_a", "cand_b"] and rows[0]["rho"] == pytest.approx(1.0)
