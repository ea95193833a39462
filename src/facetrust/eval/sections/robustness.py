"""``robustness``: the test samples under each perturbation x level, and the drop versus clean."""

from __future__ import annotations

from ..protocols import ProtocolRun, register_protocol


@register_protocol("robustness",
                   description="test split under each perturbation x level (before face detection); drop vs clean")
def robustness(run: ProtocolRun) -> None:
    from ..engine import score_samples
    from ..robustness import condition_name, sweep_conditions
    from ..tables import _overall_rows, build_tables, robustness_summary

    rob_rows = []
    conds = sweep_conditions(run.perturbations)
    for name, lvl in conds:
        cond = condition_name(name, lvl)
        recs = score_samples(run.engine, run.samples, cond, run.progress)
        run.all_records += recs
        t = build_tables(recs, run.scorers, run.rule)
        rob_rows += _overall_rows(t, run.scorers, run.settings, "robustness", condition=cond, perturbation=name,
                                  strength=lvl, subset=cond)
    run.rows += rob_rows
    run.extra["robustness"] = {
        "conditions": [condition_name(n, v) for n, v in conds],
        "summary": robustness_summary(rob_rows, run.rows),
    }
