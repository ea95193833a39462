"""``fairness``: the test samples split by a group attribute, per-group rates and the largest gap."""

from __future__ import annotations

from ..protocols import ProtocolRun, default_group_attr, register_protocol


@register_protocol("fairness", description="test split per group attribute value: AUC, FPR, TPR and the largest gap")
def fairness(run: ProtocolRun) -> None:
    from ..tables import fairness_rows

    attr = run.group_attr or default_group_attr(run.samples)
    if attr is None:
        run.extra["fairness"] = {"attribute": None, "reason": "no sample has a group attribute (gender/race/age_group)",
                                 "gaps": []}
    else:
        f_rows, gaps = fairness_rows(run.tables, run.scorers, run.settings, attr)
        run.rows += f_rows
        run.extra["fairness"] = {"attribute": attr, "gaps": gaps}
