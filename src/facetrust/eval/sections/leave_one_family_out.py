"""``leave-one-family-out``: per forgery family F, the fakes of F plus every real of the test split
(with a ``train_fn``, a detector trained per fold without F; see :data:`facetrust.eval.protocols.TrainFn`)."""

from __future__ import annotations

from typing import Any

from ..adapters._core import Dataset
from ..protocols import ProtocolRun, TrainFn, has_split, lofo_folds, register_protocol


def _check(dataset: Dataset, train_fn: TrainFn | None) -> None:
    if train_fn is not None and not has_split(dataset.samples, "train"):
        raise ValueError("leave-one-family-out with train_fn needs a dataset with train/val/test splits")


@register_protocol("leave-one-family-out", aliases=("lofo", "leave_one_family_out", "cross-family", "cross_family"),
                   description="per forgery family F: fakes of F + all reals of the test split", check=_check)
def leave_one_family_out(run: ProtocolRun) -> None:
    from ..engine import Engine, score_samples
    from ..robustness import CLEAN
    from ..tables import _overall_rows, build_tables

    keep = {id(s) for s in run.samples}
    fold_info = []
    for fold in lofo_folds(run.dataset):
        test = [s for s in fold.test if id(s) in keep]
        info: dict[str, Any] = {"held_out": fold.held_out, "n_test": len(test), "n_train": len(fold.train),
                                "trained_detector": None}
        if run.train_fn is not None:
            name = run.train_fn(list(fold.train))
            info["trained_detector"] = name
            fold_engine = Engine([name], run.settings, run.cache)
            recs = score_samples(fold_engine, test, CLEAN, run.progress)  # clean media: cached faces reused
            for r in recs:
                r.condition = f"fold:{fold.held_out}"
            run.all_records += recs
            fold_scorers = fold_engine.scorers
            info["detectors"] = fold_engine.detector_info()
            run.engine.timing.update(fold_engine.timing)
            run.engine.counters.update(fold_engine.counters)
        else:
            ids = {id(s) for s in test}
            recs = [r for r in run.records if id(r.sample) in ids]
            fold_scorers = run.scorers
        t = build_tables(recs, fold_scorers, run.rule)
        run.rows += _overall_rows(t, fold_scorers, run.settings, "fold", fold=fold.held_out,
                                  subset=f"{fold.held_out} vs reals", curves=False)
        fold_info.append(info)
    run.extra["folds"] = fold_info
