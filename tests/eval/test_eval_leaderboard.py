"""``facetrust leaderboard`` on two results files fabricated from scores with the runner's row builder."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from facetrust.eval import metrics as M
from facetrust.eval.engine import EvalSettings
from facetrust.eval.leaderboard import build_leaderboard, find_results, write_csv, write_html
from facetrust.eval.runner import SCHEMA
from facetrust.eval.tables import metric_row


def _scores(rng, n, shift):
    y = np.r_[np.zeros(n, np.int8), np.ones(n, np.int8)]
    s = np.clip(rng.normal(0.4 + shift * y, 0.15), 0, 1)
    return y, s


def _doc(name: str, seed: int, shift: dict[str, float]) -> tuple[dict, dict]:
    """A results document with image- and frame-level overall rows and per-kind rows."""
    rng = np.random.default_rng(seed)
    settings = EvalSettings(n_boot=20, threshold=0.5)
    rows, truth = [], {}
    for level in ("image", "frame"):
        ys, ss, kinds = [], [], []
        y0, s0 = _scores(rng, 30, 0.0)
        ys.append(y0[y0 == 0])
        ss.append(s0[y0 == 0])
        kinds += ["real"] * 30
        for kind, d in shift.items():
            y1, s1 = _scores(rng, 30, d)
            ys.append(y1[y1 == 1])
            ss.append(s1[y1 == 1])
            kinds += [kind] * 30
        y, s, k = np.concatenate(ys), np.concatenate(ss), np.asarray(kinds)
        clusters = np.asarray([f"g{i // 3}" for i in range(y.size)], dtype=object)
        rows.append(metric_row(y, s, clusters, level=level, scorer=name, section="overall", subset="all",
                               settings=settings))
        truth[(level, "all")] = M.roc_auc(y, s).value
        for kind in shift:
            m = (k == kind) | (y == 0)
            rows.append(metric_row(y[m], s[m], clusters[m], level=level, scorer=name, section="per_kind",
                                   subset=f"{kind} vs all reals", settings=settings, kind=kind))
            truth[(level, kind)] = M.roc_auc(y[m], s[m]).value
    doc = {
        "schema": SCHEMA,
        "dataset": {"name": "toy", "manifest_hash": "0" * 64},
        "protocol": {"name": "in-domain"},
        "detectors": [{"name": name, "version": "2.1"}],
        "scorers": [name],
        "metrics": rows,
    }
    return json.loads(json.dumps(doc)), truth


@pytest.fixture()
def two_runs(tmp_path):
    truths = {}
    for run, (name, seed, shift) in {
        "run_a": ("alpha", 1, {"swap": 0.3, "gan": 0.05}),
        "run_b": ("beta", 2, {"swap": 0.1, "morph": 0.4}),
    }.items():
        doc, truth = _doc(name, seed, shift)
        (tmp_path / "runs" / run).mkdir(parents=True)
        (tmp_path / "runs" / run / "results.json").write_text(json.dumps(doc))
        truths[name] = truth
    (tmp_path / "runs" / "junk").mkdir()
    (tmp_path / "runs" / "junk" / "results.json").write_text('{"not": "an eval"}')
    return tmp_path / "runs", truths


def test_leaderboard_rows_levels_and_kinds(two_runs):
    root, truths = two_runs
    assert len(find_results([root])) == 3
    lb = build_leaderboard([root])
    assert len(lb.problems) == 1 and "not a facetrust eval results file" in lb.problems[0]
    assert lb.kinds == ["swap", "gan", "morph"]
    assert len(lb.rows) == 4  # 2 runs x 2 levels, never mixed
    for r in lb.rows:
        name = r["scorer"].split()[0]
        assert r["scorer"].endswith(" 2.1") and r["run"] in ("run_a", "run_b")
        assert r["roc_auc"] == pytest.approx(truths[name][(r["level"], "all")])
        for kind in lb.kinds:
            want = truths[name].get((r["level"], kind))
            got = lb.get(r, kind)
            assert (got is None and want is None) or got == pytest.approx(want)
        assert r["ci"].startswith("[")
    # sorted by level, then best first
    assert [r["level"] for r in lb.rows] == ["image", "image", "frame", "frame"]
    img = [r["roc_auc"] for r in lb.rows if r["level"] == "image"]
    assert img == sorted(img, reverse=True)
    only_frame = build_leaderboard([root / "run_a", root / "run_b" / "results.json"], level="frame")
    assert {r["level"] for r in only_frame.rows} == {"frame"} and not only_frame.problems


def test_leaderboard_csv_html_and_cli(two_runs, tmp_path, capsys):
    root, _ = two_runs
    lb = build_leaderboard([root])
    write_csv(lb, tmp_path / "lb.csv")
    rows = list(csv.DictReader(open(tmp_path / "lb.csv")))
    assert len(rows) == 4 and set(lb.columns) == set(rows[0])
    a = next(r for r in rows if r["scorer"].startswith("alpha") and r["level"] == "image")
    assert a["morph"] == "" and float(a["swap"]) > float(a["gan"])  # the shifted kind ranks higher
    page = write_html(lb, tmp_path / "lb.html").read_text()
    assert page.count("<tr>") == 5 and "alpha 2.1" in page

    from facetrust.cli import main

    assert main(["leaderboard", str(root), "--html", str(tmp_path / "x.html")]) == 0
    out = capsys.readouterr().out
    assert "alpha" in out and "beta" in out and (tmp_path / "x.html").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["leaderboard", str(empty)]) == 2
    assert main(["leaderboard", str(tmp_path / "missing")]) == 2
