"""Training configuration (``facetrust train --config configs/NAME.yaml``). Every key is used."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path


SELECTION_METRICS = ("val_auc", "val_auc_robust", "val_auc_select")


@dataclass
class TrainConfig:
    name: str = "forensicnet"
    data: str | list[str] = ""  # a folder written by `facetrust synth` (manifest.csv + crops), or a list of them
    out_dir: str = "runs"  # checkpoints, metrics.csv and plots go to out_dir/name
    backbone: str = "efficientnet_lite0"
    image_size: int = 128  # must equal the synth crop size: crops are never resampled for training
    margin: float = 0.25  # the CropSpec margin the data was made with (recorded in the model card)
    epochs: int = 6
    batch_size: int = 48
    lr: float = 1e-3
    backbone_lr_scale: float = 0.3  # pretrained layers learn slower than the new heads
    weight_decay: float = 1e-4
    freeze_early: bool = True  # stem + stride-4 blocks frozen (speed on CPU; ImageNet low-level filters)
    mask_weight: float = 1.0
    family_weight: float = 0.5
    perturb_prob: float = 0.4  # on-the-fly post-processing augmentation
    perturb_chain: bool = False  # False: one op; True: the synth perturb family's chain (1-3 ops or a re-upload)
    select_on: str = "val_auc"  # checkpoint choice: val_auc, or val_auc_robust (mean of clean + ROBUST_CONDITIONS)
    seed: int = 0
    threads: int = 2
    samples_per_epoch: int | None = None  # a fresh random subset each epoch (None: all of train)
    val_fpr: float = 0.02  # default threshold: this false-positive rate on validation reals
    holdout_family: str | None = None  # leave-one-family-out: its fakes are kept out of train and val
    # Data folders (by name) whose validation reals look like deployment (camera and group photos,
    # video frames): val_auc_deploy scores them against every validation fake, and the shipped
    # threshold keeps each genuine source at or under val_fpr instead of pooling them.
    deploy_sources: list[str] = field(default_factory=list)
    # Sampling weight per data folder (by name; 1 for others): small corpora that matter (camera
    # photos, generator outputs) are drawn more often than their share of the pool.
    source_weights: dict[str, float] = field(default_factory=dict)
    val_max_per_source: int | None = None  # a fixed seeded subset of each folder's validation split (speed)
    # Start from another run's weights (a best.pt/last.pt of the same backbone and family head):
    # fine-tuning a shipped model on new data costs a few epochs instead of a full run on 2 CPU cores.
    init_from: str | None = None

    def __post_init__(self) -> None:
        from ..synth.registry import training_families

        if self.select_on == "val_auc_select" and not self.deploy_sources:
            raise ValueError("select_on val_auc_select needs deploy_sources (the deployment-like genuine folders)")
        if self.select_on not in SELECTION_METRICS:
            raise ValueError(f"select_on must be one of {SELECTION_METRICS}, got {self.select_on!r}")
        fakes = training_families()[1:]
        if self.holdout_family is not None and self.holdout_family not in fakes:
            raise ValueError(f"holdout_family must be one of {fakes}, got {self.holdout_family!r}")

    @classmethod
    def from_yaml(cls, path: str | Path) -> "TrainConfig":
        import yaml

        data = yaml.safe_load(Path(path).read_text()) or {}
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:  # no dead config keys
            raise ValueError(f"{path}: unknown config keys {sorted(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def run_dir(self) -> Path:
        return Path(self.out_dir) / self.name
