"""Training loop: seeded, resumable from the last epoch checkpoint, validation-only selection.

Per epoch: train, score the identity-disjoint validation split, append a row to metrics.csv,
redraw metrics.png, save ``last.pt`` (everything needed to resume) and, when validation AUC
improves, ``best.pt``. Nothing here reads evaluation data.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from .config import TrainConfig
from .data import SynthArrays, augment, load_synth
from ..synth.registry import training_families
from .model import ForensicNet


def _batches(n: int, batch: int, rng: np.random.Generator | None):
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for i in range(0, n, batch):
        yield order[i : i + batch]


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float()


def losses(model_out, labels, families, masks, cfg: TrainConfig) -> tuple[torch.Tensor, dict]:
    logit, fam_logits, mask_logits, _ = model_out
    l_cls = F.binary_cross_entropy_with_logits(logit, labels.float())
    l_fam = F.cross_entropy(fam_logits, families)
    l_mask = F.binary_cross_entropy_with_logits(mask_logits, masks)
    total = l_cls + cfg.family_weight * l_fam + cfg.mask_weight * l_mask
    return total, {"loss_cls": l_cls.item(), "loss_family": l_fam.item(), "loss_mask": l_mask.item()}


@torch.no_grad()
def predict(model: ForensicNet, images: np.ndarray, batch: int = 128) -> dict[str, np.ndarray]:
    """Raw outputs on uint8 crops: logits, family logits, mask logits, embeddings."""
    model.eval()
    outs = [model(_to_tensor(images[i : i + batch])) for i in range(0, len(images), batch)]
    return {k: torch.cat([o[j] for o in outs]).numpy() for j, k in enumerate(["logit", "family", "mask", "embedding"])}


# The robustness protocol's three conditions (issue 5's targets), applied to the validation crops.
ROBUST_CONDITIONS = ("jpeg:50", "resize:0.5", "blur:1")


PredictFn = Callable[[np.ndarray], dict]


def robust_auc(predict_fn: PredictFn, val: SynthArrays, clean_auc: float | None) -> dict:
    """AUC of the validation crops under each of ROBUST_CONDITIONS, and ``val_auc_robust``: the
    mean over clean and those conditions (a checkpoint criterion that rewards invariance)."""
    from ..eval import metrics as M
    from ..eval import robustness

    res, aucs = {}, [clean_auc]
    for cond in ROBUST_CONDITIONS:
        name, level = robustness.parse_condition(cond)
        images = np.stack([robustness.perturb(im, name, level) for im in val.images])
        auc = M.roc_auc(val.labels, predict_fn(images)["logit"]).value
        res[f"val_auc_{name}"] = None if auc is None else float(auc)
        aucs.append(res[f"val_auc_{name}"])
    res["val_auc_robust"] = None if None in aucs else float(np.mean(aucs))
    return res


def deploy_reals(val: SynthArrays, deploy_sources: tuple[str, ...]) -> np.ndarray:
    """Mask of validation reals that look like deployment (camera photos, group photos, video frames)."""
    return (val.labels == 0) & np.isin(val.sources, list(deploy_sources))


def validation_metrics(model_or_predict: "ForensicNet | PredictFn", val: SynthArrays,
                       deploy_sources: tuple[str, ...] = (), families: tuple[str, ...] | None = None) -> dict:
    """Every validation figure of a model, from its raw outputs (a torch model, or any function
    mapping uint8 crops to the same outputs, e.g. a shipped ONNX file's, so two models are compared
    on the same crops by the same code).

    ``val_auc_deploy``: deployment-like genuine crops (``deploy_sources``) against every validation
    fake; ``val_auc_select`` = mean(val_auc_robust, val_auc_deploy), the v4 checkpoint criterion."""
    from ..eval import metrics as M

    if isinstance(model_or_predict, torch.nn.Module):
        model = model_or_predict
        predict_fn = lambda ims: predict(model, ims)  # noqa: E731
        families = model.families if families is None else families
    else:
        predict_fn = model_or_predict
    families = training_families() if families is None else tuple(families)
    out = predict_fn(val.images)
    y, s = val.labels, out["logit"]
    res = {"val_auc": M.roc_auc(y, s).value, "val_ap": M.average_precision(y, s).value, "val_eer": M.eer(y, s).value}
    res = {k: None if v is None else float(v) for k, v in res.items()}
    res.update(robust_auc(predict_fn, val, res["val_auc"]))
    reals = val.families == 0
    for i, fam in enumerate(families[1:], start=1):
        sel = reals | (val.families == i)
        res[f"val_auc_{fam}"] = M.roc_auc(y[sel], s[sel]).value
    for src in sorted(set(val.sources)):
        sel = val.sources == src
        res[f"val_auc_source_{src}"] = M.roc_auc(y[sel], s[sel]).value
    if deploy_sources:
        sel = deploy_reals(val, deploy_sources) | (val.labels == 1)
        res["val_auc_deploy"] = M.roc_auc(y[sel], s[sel]).value
        both = (res["val_auc_robust"], res["val_auc_deploy"])
        res["val_auc_select"] = None if None in both else float(np.mean(both))
    if out["family"].shape[1] == len(families):
        res["val_family_top1"] = float((out["family"].argmax(1) == val.families).mean())
    else:  # a model with another family list (an older card): not comparable
        res["val_family_top1"] = None
    fake = val.labels == 1
    probs = torch.sigmoid(torch.from_numpy(out["mask"][fake])).numpy()
    ious = [M.mask_iou(p, g / 255.0).value for p, g in zip(probs, val.masks[fake])]
    defined = [v for v in ious if v is not None]  # both masks empty: undefined, left out
    res["val_mask_iou"] = float(np.mean(defined)) if defined else None
    return res


def sampling_weights(tr: SynthArrays, source_weights: dict[str, float]) -> np.ndarray | None:
    """Per-sample draw probabilities from per-folder weights (None: uniform, today's draw)."""
    if not source_weights:
        return None
    w = np.array([float(source_weights.get(s, 1.0)) for s in tr.sources])
    if np.any(w < 0) or w.sum() <= 0:
        raise ValueError("source_weights must be >= 0 and not all zero")
    return w / w.sum()


def cap_per_source(val: SynthArrays, limit: int | None, seed: int) -> SynthArrays:
    """At most ``limit`` validation samples per folder, a seeded subset fixed for the whole run."""
    if not limit:
        return val
    rng = np.random.default_rng([seed, 7])
    keep = []
    for src in sorted(set(val.sources)):
        idx = np.flatnonzero(val.sources == src)
        keep.append(np.sort(rng.choice(idx, size=min(limit, idx.size), replace=False)))
    return val.subset(np.concatenate(keep))


def lr_factor(step: int, total_steps: int, warmup: float = 0.1, floor: float = 0.02) -> float:
    """Linear warm-up then cosine decay, a pure function of the step: resuming (even with more
    epochs) needs no scheduler state."""
    w = max(1, int(warmup * total_steps))
    if step < w:
        return (step + 1) / w
    t = min(1.0, (step - w) / max(1, total_steps - w))
    return float(floor + (1 - floor) * 0.5 * (1 + np.cos(np.pi * t)))


def _save(path: Path, payload: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)  # a kill mid-write never leaves a half checkpoint


def _plot(history: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ep = [h["epoch"] for h in history]
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    ax[0].plot(ep, [h["train_loss"] for h in history], label="train loss")
    ax[0].set_xlabel("epoch"), ax[0].legend()
    for k in ("val_auc", "val_mask_iou", "val_family_top1"):
        ax[1].plot(ep, [h[k] if h[k] is not None else np.nan for h in history], label=k)
    ax[1].set_xlabel("epoch"), ax[1].legend(), ax[1].set_ylim(0, 1.01)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _init_weights(model: ForensicNet, path: str, families: tuple[str, ...], log) -> None:
    """Load another run's weights; the family head must match, or the family scores would be mislabelled."""
    ck = torch.load(path, map_location="cpu", weights_only=True)
    theirs = tuple(ck.get("families") or ())
    if theirs and theirs != tuple(families):
        raise ValueError(f"init_from {path}: its family head {list(theirs)} differs from this run's {list(families)}")
    model.load_state_dict(ck["model"], strict=True)
    log(f"initialised from {path} (epoch {ck.get('epoch')})")


# Progress stages (facetrust.progress_bar): the epochs of the run, and the batches of the current epoch.
EPOCH_STAGE, BATCH_STAGE = "epochs", "batches"


def train(cfg: TrainConfig, log=print, progress=None) -> Path:
    """Train (or resume) the run ``cfg.run_dir``; returns the path of ``best.pt`` (the epoch with
    the best ``cfg.select_on``). ``progress`` (:data:`facetrust.progress_bar.StepProgress`) is told
    each batch (running loss) and each epoch (its loss and validation AUC)."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    run = cfg.run_dir
    run.mkdir(parents=True, exist_ok=True)
    (run / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
    families = training_families()  # one list for the data's family indices and the model's head
    data = load_synth(cfg.data, cfg.image_size, families)
    tr, val = data.split("train"), data.split("val")
    if cfg.holdout_family:  # the held-out family is seen only at test time (train.lofo)
        held = families.index(cfg.holdout_family)
        tr, val = (d.subset(np.flatnonzero(d.families != held)) for d in (tr, val))
    val = cap_per_source(val, cfg.val_max_per_source, cfg.seed).materialized()  # read every epoch
    if len(val) == 0 or len(np.unique(val.labels)) < 2:
        raise ValueError("the dataset needs a validation split with real and fake samples")
    if set(tr.groups) & set(val.groups):
        raise ValueError("train and validation share identities: regenerate the data with identity splits")
    model = ForensicNet(cfg.backbone, cfg.image_size, families)
    if cfg.init_from and not (run / "last.pt").exists():
        _init_weights(model, cfg.init_from, families, log)
    if cfg.freeze_early:
        model.freeze_early()
    head_params = [p for n, p in model.named_parameters() if not n.startswith("backbone.") and p.requires_grad]
    bb_params = [p for n, p in model.named_parameters() if n.startswith("backbone.") and p.requires_grad]
    opt = torch.optim.AdamW(
        [{"params": bb_params, "lr": cfg.lr * cfg.backbone_lr_scale}, {"params": head_params, "lr": cfg.lr}],
        weight_decay=cfg.weight_decay,
    )
    per_epoch = min(len(tr), cfg.samples_per_epoch or len(tr))
    steps_per_epoch = (per_epoch + cfg.batch_size - 1) // cfg.batch_size
    base_lrs = [cfg.lr * cfg.backbone_lr_scale, cfg.lr]
    start_epoch, history, best_auc, step = 0, [], -1.0, 0
    rng = np.random.default_rng(cfg.seed)
    last = run / "last.pt"
    if last.exists():
        ck = torch.load(last, map_location="cpu", weights_only=True)
        model.load_state_dict(ck["model"], strict=True)
        opt.load_state_dict(ck["optimizer"])
        torch.set_rng_state(ck["torch_rng"])
        rng.bit_generator.state = json.loads(ck["numpy_rng"])
        start_epoch, history, best_auc = ck["epoch"] + 1, json.loads(ck["history"]), ck["best_auc"]
        step = ck["step"]
        log(f"resumed {run} at epoch {start_epoch}")
    if progress is not None:
        progress(EPOCH_STAGE, start_epoch, cfg.epochs, None)
    for epoch in range(start_epoch, cfg.epochs):
        model.train()
        t0, total, n = time.perf_counter(), 0.0, 0
        parts = {"loss_cls": 0.0, "loss_family": 0.0, "loss_mask": 0.0}
        weights = sampling_weights(tr, cfg.source_weights)
        chosen = rng.permutation(len(tr))[:per_epoch] if weights is None else \
            rng.choice(len(tr), size=per_epoch, replace=False, p=weights)
        for b, idx in enumerate(_batches(per_epoch, cfg.batch_size, rng)):
            idx = chosen[idx]
            pairs = [augment(tr.images[i], tr.masks[i], rng, cfg.perturb_prob, cfg.perturb_chain) for i in idx]
            x = _to_tensor(np.stack([p[0] for p in pairs]))
            m = torch.from_numpy(np.stack([p[1] for p in pairs])).float() / 255.0
            out = model(x)
            loss, lp = losses(out, torch.from_numpy(tr.labels[idx]), torch.from_numpy(tr.families[idx]), m, cfg)
            for group, base in zip(opt.param_groups, base_lrs):
                group["lr"] = base * lr_factor(step, cfg.epochs * steps_per_epoch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            total += loss.item() * len(idx)
            n += len(idx)
            for k in parts:
                parts[k] += lp[k] * len(idx)
            if progress is not None:
                progress(BATCH_STAGE, b + 1, steps_per_epoch, {"loss": total / n})
            if (b + 1) % 25 == 0:
                log(f"  epoch {epoch} batch {b + 1}/{steps_per_epoch}: loss {total / n:.4f}, "
                    f"{n / (time.perf_counter() - t0):.1f} samples/s")
        row = {"epoch": epoch, "train_loss": total / n, **{k: v / n for k, v in parts.items()},
               "train_s": time.perf_counter() - t0}
        row.update(validation_metrics(model, val, tuple(cfg.deploy_sources)))
        history.append(row)
        score = row[cfg.select_on]
        improved = score is not None and score > best_auc
        if improved:
            best_auc = float(score)  # best value of cfg.select_on so far
            _save(run / "best.pt", {"model": model.state_dict(), "epoch": epoch, "val_auc": row["val_auc"],
                                    cfg.select_on: best_auc, "config": json.dumps(cfg.to_dict()),
                                    "families": list(families)})
        _save(last, {"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                     "torch_rng": torch.get_rng_state(), "numpy_rng": json.dumps(rng.bit_generator.state),
                     "epoch": epoch, "history": json.dumps(history), "best_auc": best_auc})
        with open(run / "metrics.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(history[-1]))
            w.writeheader()
            w.writerows(history)
        _plot(history, run / "metrics.png")
        if progress is not None:
            progress(EPOCH_STAGE, epoch + 1, cfg.epochs, {"loss": row["train_loss"], "val_auc": row["val_auc"]})
        log(f"epoch {epoch}: loss {row['train_loss']:.4f} val_auc {row['val_auc']:.4f} "
            f"robust {row['val_auc_robust']:.4f} deploy {row.get('val_auc_deploy')} "
            f"mask_iou {row['val_mask_iou']} family_top1 {row['val_family_top1']} "
            f"({row['train_s']:.0f}s){' *' if improved else ''}")
    return run / "best.pt"
