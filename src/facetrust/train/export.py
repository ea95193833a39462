"""Ship a trained run: calibrate on validation, export ONNX, write the model card JSON.

The JSON records the ONNX file's sha256, checked at every load by
``facetrust.detectors.forensicnet``; a mismatch refuses to run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from .calibrate import fit_temperature, sigmoid, threshold_at_fpr
from .config import TrainConfig
from .data import load_synth
from .loop import predict, validation_metrics
from .model import ForensicNet

OUTPUT_NAMES = ["logit", "family_logits", "mask_logits", "embedding"]


def load_run_model(run_dir: Path) -> tuple[ForensicNet, TrainConfig, dict]:
    best = torch.load(run_dir / "best.pt", map_location="cpu", weights_only=True)
    cfg = TrainConfig(**json.loads(best["config"]))
    families = tuple(best["families"]) if "families" in best else None  # older runs: the registry's
    model = ForensicNet(cfg.backbone, cfg.image_size, families, pretrained=False)
    model.load_state_dict(best["model"], strict=True)
    return model.eval(), cfg, best


def export_onnx(model: ForensicNet, path: Path) -> None:
    x = torch.zeros(1, 3, model.image_size, model.image_size)
    torch.onnx.export(
        model, (x,), str(path), input_names=["image"], output_names=OUTPUT_NAMES,
        dynamic_axes={"image": {0: "n"}, **{k: {0: "n"} for k in OUTPUT_NAMES}}, opset_version=17, dynamo=False,
    )


def extra_validation_reals(data_dir: str | Path, image_size: int, train_groups: set, val_groups: set) -> np.ndarray:
    """Genuine validation-split crops of another synth folder (same crop function and split
    policy), minus those of photos already in the run's validation split. A crop whose identity
    group is in the run's train split is refused: it would not be held out."""
    extra = load_synth(data_dir, image_size).split("val")
    extra = extra.subset(np.flatnonzero(extra.labels == 0))
    leaked = set(extra.groups) & train_groups
    if leaked:
        raise ValueError(f"{data_dir}: {len(leaked)} validation identity groups are in the run's train split "
                         f"(e.g. {sorted(leaked)[0]}); make it with the same --split-seed and pins")
    return extra.images[~np.isin(extra.groups, list(val_groups))]


def threshold_interval(reals: np.ndarray, fpr: float, n_boot: int = 2000, seed: int = 0) -> list[float]:
    """Bootstrap 95 % interval of :func:`threshold_at_fpr` over the genuine samples: how much the
    default threshold rests on a few top-scoring reals."""
    rng = np.random.default_rng(seed)
    boots = [threshold_at_fpr(rng.choice(reals, reals.size), fpr) for _ in range(n_boot)]
    return [float(v) for v in np.percentile(boots, [2.5, 97.5])]


def onnx_predict(card_path: str | Path, batch: int = 128):
    """A shipped model (card JSON + its ONNX beside it) as a predict function on uint8 crops, so a
    candidate and the shipped model are scored on the same validation crops by the same code."""
    import onnxruntime as ort

    card_path = Path(card_path)
    card = json.loads(card_path.read_text())
    onnx_path = card_path.with_name(card["onnx_file"])
    if hashlib.sha256(onnx_path.read_bytes()).hexdigest() != card["sha256"]:
        raise ValueError(f"{onnx_path}: sha256 differs from its card")
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    names = card.get("output_names", OUTPUT_NAMES)

    def run(images: np.ndarray) -> dict:
        parts = [sess.run(names, {"image": images[i:i + batch].transpose(0, 3, 1, 2).astype(np.float32)})
                 for i in range(0, len(images), batch)]
        return {k: np.concatenate([q[j] for q in parts]) for j, k in enumerate(["logit", "family", "mask", "embedding"])}

    return run, card


def per_source_threshold(p: np.ndarray, val, fpr: float, sources: tuple[str, ...]) -> tuple[float, dict]:
    """The highest of the per-source thresholds at ``fpr``: every genuine validation source in
    ``sources`` (and the pooled rest) is flagged at most ``fpr`` of the time, so reals that score
    higher (camera photos, video frames) are not outvoted by many easy small crops."""
    groups = {src: p[(val.labels == 0) & (val.sources == src)] for src in sources}
    groups["other"] = p[(val.labels == 0) & ~np.isin(val.sources, list(sources))]
    groups = {k: v for k, v in groups.items() if v.size}
    per = {k: threshold_at_fpr(v, fpr) for k, v in groups.items()}
    t = max(per.values())
    return t, {k: {"n": int(v.size), "threshold_at_fpr": per[k], "fpr": float((v >= t).mean()),
                   "bootstrap_ci95": threshold_interval(v, fpr)} for k, v in groups.items()}


def ship(run_dir: str | Path, out_dir: str | Path, name: str = "forensicnet", version: str = "1",
         threshold_reals: str | Path | None = None, baseline: str | Path | None = None) -> Path:
    """Calibrate ``run_dir/best.pt`` on its validation split and write ``out_dir/{name}.onnx|.json``.

    ``threshold_reals``: a synth folder whose genuine validation-split crops join the run's own
    validation reals for the default threshold only (more reals, a steadier FPR quantile); the
    temperature is fitted on the run's validation split alone."""
    from ..eval import metrics as M

    run_dir, out_dir = Path(run_dir), Path(out_dir)
    model, cfg, best = load_run_model(run_dir)
    data = load_synth(cfg.data, cfg.image_size, model.families)
    val = data.split("val").materialized()  # every validation sample: calibration and the threshold use all of them
    out = predict(model, val.images)
    t = fit_temperature(out["logit"], val.labels)
    p = sigmoid(out["logit"].astype(np.float64) / t)  # float64, as at inference (a float32 array would round the threshold)
    reals = p[val.labels == 0]
    if threshold_reals is not None:
        extra = extra_validation_reals(threshold_reals, cfg.image_size, set(data.split("train").groups), set(val.groups))
        if len(extra):
            reals = np.concatenate([reals, sigmoid(predict(model, extra)["logit"].astype(np.float64) / t)])
    deploy = tuple(cfg.deploy_sources)
    by_source = None
    if deploy:
        threshold, by_source = per_source_threshold(p, val, cfg.val_fpr, deploy)
        threshold = max(threshold, threshold_at_fpr(reals, cfg.val_fpr))
    else:
        threshold = threshold_at_fpr(reals, cfg.val_fpr)
    metrics = validation_metrics(model, val, deploy)
    metrics.update({
        "val_ece_calibrated": M.ece(val.labels, p).ece.value,
        "val_ece_uncalibrated": M.ece(val.labels, sigmoid(out["logit"])).ece.value,
        "val_fpr_at_threshold": float((p[val.labels == 0] >= threshold).mean()),
        "val_tpr_at_threshold": float((p[val.labels == 1] >= threshold).mean()),
        "n_val": int(len(val)), "best_epoch": int(best["epoch"]),
    })
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / f"{name}.onnx"
    export_onnx(model, onnx_path)
    _check_onnx_matches_torch(onnx_path, model, val.images[:16])
    card = {
        "name": name, "version": version, "backbone": cfg.backbone, "input_size": cfg.image_size,
        "margin": cfg.margin, "families": list(model.families), "temperature": t, "threshold": threshold,
        "threshold_rule": (f"validation false-positive rate {cfg.val_fpr:g} on genuine crops"
                           + (f", at most that on each genuine source ({', '.join(deploy)}, other)" if deploy else "")),
        "threshold_by_source": by_source,
        "threshold_reals": {"n": int(reals.size), "extra_from": None if threshold_reals is None else str(threshold_reals),
                            "fpr": float((reals >= threshold).mean()),
                            "bootstrap_ci95": threshold_interval(reals, cfg.val_fpr)},
        "onnx_file": onnx_path.name, "sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
        "output_names": OUTPUT_NAMES, "input": "float32 NCHW RGB 0..255, aligned crop (facetrust.faces.align_face)",
        "validation": metrics, "train_config": cfg.to_dict(),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "torch_version": torch.__version__,
    }
    if baseline is not None:  # the shipped model on the same validation crops, by the same code
        base_fn, base_card = onnx_predict(baseline)
        card["baseline"] = {"name": base_card.get("name"), "version": base_card.get("version"),
                            "validation": validation_metrics(base_fn, val, deploy, model.families)}
    card_path = out_dir / f"{name}.json"
    card_path.write_text(json.dumps(card, indent=2))
    return card_path


def _check_onnx_matches_torch(path: Path, model: ForensicNet, images: np.ndarray) -> None:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = images.transpose(0, 3, 1, 2).astype(np.float32)
    got = sess.run(OUTPUT_NAMES, {"image": x})
    ref = predict(model, images)
    for g, k in zip(got, ["logit", "family", "mask", "embedding"]):
        if not np.allclose(g, ref[k], atol=1e-3, rtol=1e-3):
            raise RuntimeError(f"ONNX output {k} differs from torch by {np.abs(g - ref[k]).max():.2e}")
