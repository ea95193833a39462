"""Evaluation protocols: which samples are scored, and how they are grouped into reported numbers.

This module holds the protocol registry and the selection helpers; each protocol's section (its
extra rows) is one module of :mod:`facetrust.eval.sections`, registered with :func:`register_protocol`.

Every protocol scores only the *test* samples: ``Sample.split == "test"`` when the dataset has a
test split, otherwise every sample (recorded as ``"all (no split)"``). Nothing is ever fitted,
calibrated or selected on the test samples: decision thresholds are fixed settings (default 0.5 on
the detector's calibrated probability), and any threshold, checkpoint or calibration that must be
chosen is chosen on ``split == "val"`` only, by whoever produced the detector (a ``train_fn``).

- ``in-domain``: the test samples of the dataset the detector was built for.
- ``cross-dataset``: mechanically the same as in-domain, on a dataset the detector was *not*
  trained on; ``trained_on`` is recorded as a label.
- ``leave-one-family-out`` (alias ``lofo``, ``cross-family``): for each forgery family F among the
  fakes (``attrs["family"]`` from a facetrust.synth manifest, else ``kind``), the test set is the
  fakes of F plus every real of the test split. Training-free detectors are simply scored per fold.
  With a ``train_fn`` (see :data:`TrainFn`) a detector is trained per fold on the train and val
  samples of the other N-1 families (plus the train / val reals) and scored on fold F's test set.
- ``robustness``: the test samples under each perturbation x level of
  :mod:`facetrust.eval.robustness` (applied to the decoded frame before face detection); reports
  the metric and its drop versus the clean run.
- ``fairness``: the test samples split by a group attribute (``attrs[group_attr]``, or gender /
  race / age decoded from a UTKFace file name in the sample's ``source_path`` or path): per group
  AUC, FPR and TPR at the threshold, and the largest gap between groups.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..registry import Registry
from .adapters._core import Dataset, Sample

# Each protocol is a function in a module of facetrust.eval.sections, registered with
# :func:`register_protocol` (name, aliases, description); a new protocol is one new file there.
PROTOCOL_REGISTRY: Registry[Callable[["ProtocolRun"], None]] = Registry(
    "protocol", packages=("facetrust.eval.sections",), entry_point_group="facetrust.protocols", ignore_case=True
)


def register_protocol(
    name: str,
    *,
    description: str,
    aliases: tuple[str, ...] = (),
    check: Callable[[Dataset, "TrainFn | None"], None] | None = None,
) -> Callable:
    """Decorator for ``section(run: ProtocolRun) -> None``, which adds the protocol's metric rows
    and results sections after the clean scoring. ``check(dataset, train_fn)`` runs before any
    scoring and raises ValueError for a dataset the protocol cannot use."""
    return PROTOCOL_REGISTRY.register(name, aliases=aliases, description=description, check=check)


@dataclass
class ProtocolRun:
    """What a protocol's section reads (the clean scoring of the test samples) and adds to."""

    dataset: Dataset
    samples: list[Sample]  # the evaluated test samples
    engine: Any  # facetrust.eval.engine.Engine
    cache: Any  # facetrust.eval.cache.FaceCache | None
    records: list  # clean SampleRecords, one per sample
    tables: dict  # build_tables of the clean records
    scorers: list[str]
    settings: Any  # facetrust.eval.engine.EvalSettings
    progress: Any
    perturbations: Any = None
    group_attr: str | None = None
    train_fn: "TrainFn | None" = None
    rows: list[dict] = field(default_factory=list)  # metric rows to append
    all_records: list = field(default_factory=list)  # every record the run scored, for results.json
    extra: dict[str, Any] = field(default_factory=dict)  # protocol sections of results.json
    rule: Any = None  # facetrust.fusion.MediaRule: scan's media rule, the one every level table uses


def __getattr__(name: str):
    # Views of the registry under their former names (the table of names, aliases, descriptions).
    if name == "PROTOCOLS":
        return tuple(PROTOCOL_REGISTRY.names())
    if name == "ALIASES":
        return PROTOCOL_REGISTRY.aliases()
    if name == "DESCRIPTIONS":
        return {e.name: e.metadata["description"] for e in PROTOCOL_REGISTRY.entries()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


TrainFn = Callable[[list[Sample]], str]
"""Hook for trained detectors in leave-one-family-out: ``train_fn(train_samples) -> detector_name``.

``train_samples`` holds the samples of the N-1 families kept for training (and the reals) whose
split is "train" or "val" (``Sample.split`` says which). The function trains a detector, may pick
its checkpoint / threshold / calibration on the ``"val"`` samples only, registers it with
:func:`facetrust.detectors.register_detector` and returns the registered name; the runner then
scores that detector on the held-out family's test set. It never sees a test sample.
"""


def resolve(name: str) -> str:
    """The canonical protocol name (raises ValueError for an unknown one)."""
    return PROTOCOL_REGISTRY.resolve(name)


def has_split(samples: list[Sample], split: str) -> bool:
    return any(s.split == split for s in samples)


def select_test_samples(dataset: Dataset) -> tuple[list[Sample], str]:
    """(samples, selection label): the ``test`` split when present, else all samples."""
    if has_split(dataset.samples, "test"):
        return [s for s in dataset.samples if s.split == "test"], "split=test"
    return list(dataset.samples), "all (no split)"


def family_of(sample: Sample) -> str:
    """Forgery family of a sample: ``"real"`` for label 0, else ``attrs["family"]`` or ``kind``."""
    if sample.label == 0:
        return "real"
    fam = sample.attrs.get("family")
    return str(fam) if fam not in (None, "") else sample.kind


@dataclass
class Fold:
    """One leave-one-family-out fold."""

    held_out: str
    test: list[Sample]  # fakes of the held-out family + every real, test split only
    train: list[Sample] = field(default_factory=list)  # train/val split, other families + reals


def lofo_folds(dataset: Dataset | list[Sample]) -> list[Fold]:
    """Folds over the fake families, in sorted order (see the module docstring).

    Without a test split every sample is a test sample and ``train`` is empty (training-free
    detectors only).
    """
    samples = dataset.samples if isinstance(dataset, Dataset) else list(dataset)
    split_aware = has_split(samples, "test")
    test = [s for s in samples if s.split == "test"] if split_aware else samples
    trainval = [s for s in samples if s.split in ("train", "val")] if split_aware else []
    families = sorted({family_of(s) for s in samples if s.label == 1})
    folds = []
    for fam in families:
        folds.append(
            Fold(
                held_out=fam,
                test=[s for s in test if s.label == 0 or family_of(s) == fam],
                train=[s for s in trainval if s.label == 0 or family_of(s) != fam],
            )
        )
    return folds


# UTKFace file names: [age]_[gender]_[race]_[date&time].jpg (gender 0 male, 1 female;
# race 0 White, 1 Black, 2 Asian, 3 Indian, 4 Others), see https://susanqq.github.io/UTKFace/.
_UTK = re.compile(r"^(?P<age>\d{1,3})_(?P<gender>[01])_(?P<race>[0-4])_\d+")
_UTK_GENDER = {"0": "male", "1": "female"}
_UTK_RACE = {"0": "white", "1": "black", "2": "asian", "3": "indian", "4": "others"}


def utkface_attributes(path: str) -> dict[str, str]:
    """``{"gender", "race", "age", "age_group"}`` from a UTKFace file name, else ``{}``.

    age_group: 0-19, 20-39, 40-59, 60+.
    """
    m = _UTK.match(Path(str(path)).name)
    if not m:
        return {}
    age = int(m.group("age"))
    group = "0-19" if age < 20 else "20-39" if age < 40 else "40-59" if age < 60 else "60+"
    return {
        "gender": _UTK_GENDER[m.group("gender")],
        "race": _UTK_RACE[m.group("race")],
        "age": str(age),
        "age_group": group,
    }


def group_value(sample: Sample, attr: str) -> str | None:
    """The sample's value of group attribute ``attr`` (None when unknown).

    ``attrs[attr]`` first; otherwise gender / race / age / age_group decoded from a UTKFace file
    name found in ``attrs["source_path"]`` (facetrust.synth manifests), ``attrs["source_ids"]`` or
    the sample path.
    """
    v = sample.attrs.get(attr)
    if v not in (None, ""):
        return str(v)
    for cand in (sample.attrs.get("source_path"), sample.attrs.get("source_ids"), sample.path):
        if isinstance(cand, (list, tuple)):
            cand = cand[0] if cand else None
        if cand:
            got = utkface_attributes(str(cand)).get(attr)
            if got is not None:
                return got
    return None


def default_group_attr(samples: list[Sample]) -> str | None:
    """The first of gender, race, age_group that at least one sample has a value for."""
    for attr in ("gender", "race", "age_group"):
        if any(group_value(s, attr) is not None for s in samples):
            return attr
    return None


__all__ = [
    "PROTOCOL_REGISTRY",
    "Fold",
    "ProtocolRun",
    "TrainFn",
    "default_group_attr",
    "family_of",
    "group_value",
    "has_split",
    "lofo_folds",
    "register_protocol",
    "resolve",
    "select_test_samples",
    "utkface_attributes",
]
