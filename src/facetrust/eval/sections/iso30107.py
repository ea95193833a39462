"""``pad`` and ``mad``: ISO/IEC 30107-3 reporting of presentation- and morphing-attack detection.

Label 1 is an attack (a presentation attack instrument for ``pad``, a morph for ``mad``), 0 bona fide;
a higher score means more likely an attack. Each scorer and level gets one ``iso30107`` row over all
test units: APCER (worst species) / BPCER / ACER at the run's threshold, BPCER at APCER = 1 / 5 / 10 %
and the EER (``mad``: D-EER, the same operating point on the morph task), each with the same
percentile bootstrap interval as the other protocols (``settings.n_boot``, frames cluster-resampled by
video), plus one row per attack species (its attacks and every bona fide unit) with that species'
APCER. The species of an attack is ``attrs["species"]``, else its forgery family (``family_of``).

Splits must be subject-disjoint: when samples name their subject (``attrs["subject"]``, else
``attrs["identity"]``), a subject in the test split and in train/val refuses the run before scoring.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import metrics as M
from ..protocols import ProtocolRun, family_of, register_protocol

APCER_TARGETS = (0.01, 0.05, 0.10)  # BPCER at APCER = 1 %, 5 %, 10 % (ISO/IEC 30107-3 operating points)


def species_of(sample) -> str:
    """The attack species of a sample ("bona_fide" for label 0)."""
    if sample.label == 0:
        return "bona_fide"
    v = sample.attrs.get("species")
    return str(v) if v not in (None, "") else family_of(sample)


def subject_of(sample) -> str | None:
    """``attrs["subject"]``, else ``attrs["identity"]`` (what adapters that know identities set)."""
    for key in ("subject", "identity"):
        v = sample.attrs.get(key)
        if v not in (None, ""):
            return str(v)
    return None


def check_subject_disjoint(dataset, train_fn=None) -> None:
    """ValueError when a subject is in the test split and in train/val (samples without one are not checked)."""
    test = {subject_of(s) for s in dataset.samples if s.split == "test"} - {None}
    other = {subject_of(s) for s in dataset.samples if s.split in ("train", "val")} - {None}
    shared = sorted(test & other)
    if shared:
        raise ValueError(f"splits are not subject-disjoint: {len(shared)} subject(s) in test and train/val "
                         f"(e.g. {', '.join(shared[:3])})")


def _ci(fn: Callable[[np.ndarray, np.ndarray, np.ndarray], M.MetricResult], y: np.ndarray, s: np.ndarray,
        species: np.ndarray, clusters: np.ndarray, level: str, settings) -> dict[str, Any]:
    # bootstrap_ci resamples (y, s) only; the scores' positions stand in for s so each replicate's
    # species come along with its scores.
    index = np.arange(y.size)
    ci = M.bootstrap_ci(lambda yb, ib: fn(yb, s[ib], species[ib]), y, index, n=settings.n_boot,
                        alpha=settings.ci_alpha, seed=settings.seed,
                        groups=list(clusters) if level == "frame" else None)
    return ci.to_dict()


def iso30107_rows(run: ProtocolRun, task: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The ``iso30107`` rows of every scorer and level, and the attack species seen."""
    threshold = run.settings.threshold
    error_rate = "d_eer" if task == "mad" else "eer"
    fns: dict[str, Callable] = {
        "apcer": lambda y, s, sp: M.apcer(y, s, threshold, sp),
        "bpcer": lambda y, s, sp: M.bpcer(y, s, threshold),
        "acer": lambda y, s, sp: M.acer(y, s, threshold, sp),
        error_rate: lambda y, s, sp: M.d_eer(y, s) if task == "mad" else M.eer(y, s),
        **{f"bpcer_at_apcer_{t:g}": (lambda t: lambda y, s, sp: M.bpcer_at_apcer(y, s, t))(t) for t in APCER_TARGETS},
    }
    rows, seen = [], set()
    for level, tab in run.tables.items():
        if not len(tab):
            continue
        species = np.asarray([species_of(ss[0]) for ss in tab.samples], dtype=object)
        names = sorted({str(v) for v in species[np.asarray(tab.y) == 1]})
        seen.update(names)
        for sc in run.scorers:
            y, s, c = tab.arrays(sc)
            subsets = [("all", np.ones(y.size, bool), fns)]
            subsets += [(f"species={n}", (species == n) | (y == 0), {"apcer": fns["apcer"]}) for n in names]
            for subset, mask, chosen in subsets:
                yy, ss_, sp, cc = y[mask], s[mask], species[mask], c[mask]
                row: dict[str, Any] = {
                    "scorer": sc, "level": level, "section": "iso30107", "subset": subset, "task": task,
                    "n_pos": int((yy == 1).sum()), "n_neg": int((yy == 0).sum()), "n_units": int(yy.size),
                    "metrics": {}, "ci": {},
                }
                groups = min(len(set(cc[yy == 1].tolist())), len(set(cc[yy == 0].tolist())))
                for name, fn in chosen.items():
                    key = M.metric_key(name, level)
                    row["metrics"][key] = fn(yy, ss_, sp).to_dict()
                    if run.settings.n_boot <= 0:
                        continue
                    if groups < run.settings.ci_min_groups:  # as metric_row: no interval from too few units
                        row["ci"][key] = M.BootstrapCI(
                            row["metrics"][key]["value"], None, None, run.settings.ci_alpha, run.settings.n_boot, 0,
                            level == "frame",
                            f"no CI: fewer than {run.settings.ci_min_groups} independent units (groups) in a class",
                        ).to_dict()
                    else:
                        row["ci"][key] = _ci(fn, yy, ss_, sp, cc, level, run.settings)
                rows.append(row)
    return rows, sorted(seen)


def _section(run: ProtocolRun, task: str) -> None:
    rows, species = iso30107_rows(run, task)
    run.rows += rows
    run.extra[task] = {"standard": "ISO/IEC 30107-3", "threshold": run.settings.threshold,
                       "apcer_targets": list(APCER_TARGETS), "species": species,
                       "error_rate": "d_eer" if task == "mad" else "eer"}


@register_protocol("pad", aliases=("iso30107-pad", "liveness"), check=check_subject_disjoint,
                   description="presentation-attack detection, ISO/IEC 30107-3: APCER per species, BPCER, ACER, "
                   "BPCER@APCER 1/5/10 %, EER, bootstrap CIs; subject-disjoint splits")
def pad(run: ProtocolRun) -> None:
    _section(run, "pad")


@register_protocol("mad", aliases=("iso30107-mad", "morphing"), check=check_subject_disjoint,
                   description="morphing-attack detection, ISO/IEC 30107-3: APCER per species, BPCER, ACER, "
                   "BPCER@APCER 1/5/10 %, D-EER, bootstrap CIs; subject-disjoint splits")
def mad(run: ProtocolRun) -> None:
    _section(run, "mad")
