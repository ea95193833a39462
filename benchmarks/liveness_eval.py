"""Measure the ``liveness`` PAD models with the ``pad`` eval protocol (ISO/IEC 30107-3 rows).

Test sets (none of them used to fit, calibrate or pick anything):

* ``cross-dataset``: Apfol/liveness-detection-opencv from ``recipes/pad.tsv`` (a corpus built into
  ``--pad-corpus``): the author live (``dataset/real`` face crops and ``videos/real2.webm``) vs a
  phone replaying his recording (``dataset/fake``, ``videos/fake2.webm``). The models were fitted on
  LVTN_Detected and synthesised attacks only: another capture set, other subjects.
* ``synth-test``: the test split of the synthesised attacks (source photos the fit never saw), from
  ``items.tsv`` that ``python -m facetrust.train.fit_liveness`` wrote into ``--work``.

    nice -n 10 python benchmarks/liveness_eval.py --pad-corpus ../cache/pad --work ../cache/pad_work \\
        --out ../cache/pad_eval

Writes ``<out>/<set>.tsv`` manifests and one eval folder per set and detector, and prints the
``iso30107`` rows (APCER per species, BPCER, ACER, BPCER@APCER, EER with bootstrap intervals).
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

COLUMNS = ("path", "label", "kind", "group", "split", "species", "subject")


def write_manifest(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return path


def apfol_rows(corpus: Path) -> list[dict]:
    rows = []
    for r in csv.DictReader(open(corpus / "manifest.tsv"), delimiter="\t"):
        if r["source_repo"] != "Apfol/liveness-detection-opencv":
            continue
        attack = r["label"] == "fake"
        rows.append({"path": str(corpus / "files" / r["source_repo"].replace("/", "+") / r["path"]),
                     "label": "fake" if attack else "real", "kind": r["kind"], "group": r["path"], "split": "test",
                     "species": "phone-video-replay" if attack else "", "subject": r["group"]})
    return rows


def synth_rows(work: Path) -> list[dict]:
    rows = []
    for r in csv.DictReader(open(work / "items.tsv"), delimiter="\t"):
        if r["source"] != "synth" or r["split"] != "test":
            continue
        attack = r["label"] == "1"
        rows.append({"path": r["path"], "label": "fake" if attack else "real",
                     "kind": f"synth-{r['species']}", "group": r["path"], "split": "test",
                     "species": r["species"] if attack else "", "subject": r["subject"]})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pad-corpus", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--detector", action="append", default=None)
    ap.add_argument("--sets", nargs="+", default=["cross-dataset", "synth-test"])
    ap.add_argument("--n-boot", type=int, default=500)
    a = ap.parse_args()
    from facetrust.eval.runner import evaluate

    manifests = {"cross-dataset": lambda: write_manifest(a.out / "cross_dataset.tsv", apfol_rows(a.pad_corpus)),
                 "synth-test": lambda: write_manifest(a.out / "synth_test.tsv", synth_rows(a.work))}
    summary = {}
    for name in a.sets:
        manifest = manifests[name]()
        for det in a.detector or ["liveness", "liveness_oneclass"]:
            run = evaluate(det, str(manifest), protocol="pad", out_dir=a.out / f"{name}_{det}", n_boot=a.n_boot,
                           cache_dir=a.out / "cache", frames=16)
            rows = []
            for r in run.rows(section="iso30107"):
                if r["scorer"] != det:
                    continue
                for key, m in r["metrics"].items():
                    ci = r["ci"].get(key, {})
                    rows.append({"level": r["level"], "subset": r["subset"], "metric": key, "value": m.get("value"),
                                 "ci": [ci.get("low"), ci.get("high")], "n_attack": r["n_pos"], "n_bona_fide": r["n_neg"]})
            summary[f"{name}/{det}"] = {"threshold": run.results.get("pad", {}).get("threshold"), "rows": rows,
                                        "skipped": len(run.results.get("skipped", []))}
            for r in rows:
                print(name, det, r["level"], r["subset"], r["metric"], r["value"], r["ci"], r["n_attack"], r["n_bona_fide"])
    (a.out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
