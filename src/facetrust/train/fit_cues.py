"""Fit the logistic calibrations of the cue detectors on faces-train pseudo-fakes (offline).

    PYTHONPATH=src python -m facetrust.train.fit_cues [--n-images 600] [--seed 0]

Needs scikit-learn (dev extra), not torch. The pseudo-fakes are made with the synthesis engine's
own pieces (facetrust.synth: down-up resampling with its generator-like upsamplers, Lab colour
transfer, feathering and alpha blending) and the one JPEG / blur / resize of
facetrust.eval.robustness, so the cues are fitted on the same manipulations the trained model sees.
The shipped ``cue_calibration.json`` was fitted before this module moved here from
``facetrust.detectors`` (with its own copies of those operations: bicubic and a different
pixel-shuffle / transposed-conv up-sampler, RGB colour transfer); re-running this command changes
the fit and must be followed by ``benchmarks/wild_dev_cues.py``.

Data: genuine photos from ``../shared/data/faces-train`` (resolved from the repository root),
``n_images`` sampled deterministically by ``seed``, equally from its three source folders. Each
sampled photo yields one *real* sample (the photo, re-saved as JPEG with probability 0.5 like
every fake) and, per detector, one *pseudo-fake* made on the fly from it:

* noise_residual: the inner face of ANOTHER sampled photo is similarity-aligned onto it and
  blended through a feathered ellipse or landmark-hull mask, after at least one of: down-up
  resampling, Gaussian blur, JPEG recompression of the donor (each with probability 0.5), with
  Reinhard (Lab mean/std) colour transfer;
* spectral: the face region or the whole photo is down-sampled by 2 or 4 and up-sampled back by
  one of facetrust.synth.upsample's up-samplers (nearest, bilinear, transposed, pixel_shuffle).

Photos are split by source photo into fit and validation halves (donors come from the same
half); the logistic regression is fitted on the fit half and its AUC, ECE and Brier score on the
validation half are printed and stored in ``cue_calibration.json``. wild-dev is never read here.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..detectors import _cues, noise_residual, spectral
from ..eval.robustness import blur, jpeg, resize
from ..faces import create_face_detector
from ..faces.align import estimate_similarity
from ..synth.blend import alpha_blend
from ..synth.color import reinhard_transfer
from ..synth.masks import feather
from ..synth.upsample import AVAILABLE_UPSAMPLERS, down_up

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "faces-train"
SOURCES = ("utkface_crop_part1", "celeba_align_89x109", "celeba_crops_facemask12k")
ECE_BINS = 10  # equal-width bins of the validation ECE reported in the calibration file
NOTE = "fitted on faces-train synthetic pseudo-fakes; not tuned on wild-dev"


@dataclass
class Sample:
    path: str
    source: str
    image: np.ndarray  # RGB uint8
    landmarks: np.ndarray  # (5, 2)


# ------------------------------------------------------------------------------------------ data


def list_images(data: Path, n_images: int, seed: int) -> list[tuple[str, str]]:
    """(relpath, source) pairs: n_images // 3 per source folder, sampled by ``seed``."""
    rng = np.random.default_rng(seed)
    per = n_images // len(SOURCES)
    out = []
    for src in SOURCES:
        files = sorted(
            p for p in (data / "images" / src).rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")
        )
        if not files:
            raise SystemExit(f"no images under {data / 'images' / src}")
        pick = rng.choice(len(files), size=min(per, len(files)), replace=False)
        out += [(str(files[i].relative_to(data)), src) for i in sorted(pick)]
    return out


def load_samples(data: Path, pairs: list[tuple[str, str]]) -> list[Sample]:
    from PIL import Image

    det = create_face_detector("yunet")
    samples = []
    for rel, src in pairs:
        with Image.open(data / rel) as im:
            img = np.asarray(im.convert("RGB"))
        faces = det.detect(img)
        if faces:  # the largest face, as the pipeline would see it
            samples.append(Sample(rel, src, img, faces[0].landmarks5))
    return samples


def final_save(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """How every sample, real or fake, is saved: as is, or re-encoded as JPEG q 70-95."""
    return jpeg(img, rng.integers(70, 96)) if rng.random() < 0.5 else img


def face_units_grid(shape: tuple[int, int], landmarks: np.ndarray) -> np.ndarray:
    """(H, W, 2) face-unit coordinates of every pixel (see facetrust.detectors._cues)."""
    spec = noise_residual.CROP
    to_face = _cues.frame_to_face_units(estimate_similarity(landmarks, spec.template()), spec)
    h, w = shape
    grid = np.stack(np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64)), -1)
    return _cues.apply(to_face, grid)


def face_width_px(landmarks: np.ndarray) -> float:
    # template eye distance is 0.3146 face units
    return float(np.linalg.norm(landmarks[1] - landmarks[0]) / 0.3146)


# ------------------------------------------------------------------------------- pseudo-fakes


def make_paste(target: Sample, donor: Sample, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Blend the donor's inner face into the target (see module docstring)."""
    d = donor.image
    kind = []
    steps = rng.random(3) < 0.5
    if not steps.any():  # the brief: the donor is always resampled, blurred and/or recompressed
        steps[rng.integers(0, 3)] = True
    if steps[0]:  # decoder-like low resolution
        d = resize(d, 1.0 / rng.uniform(1.3, 2.5))
        kind.append("resample")
    if steps[1]:
        d = blur(d, rng.uniform(0.5, 1.5))
        kind.append("blur")
    if steps[2]:
        d = jpeg(d, rng.integers(40, 91))
        kind.append("jpeg")
    m = estimate_similarity(donor.landmarks, target.landmarks)
    interp = [cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_NEAREST][rng.integers(0, 3)]
    h, w = target.image.shape[:2]
    warped = cv2.warpAffine(d, m, (w, h), flags=interp, borderMode=cv2.BORDER_REFLECT_101)

    uv = face_units_grid((h, w), target.landmarks)
    if rng.random() < 0.5:
        cu, cv_ = 0.5, rng.uniform(0.57, 0.65)
        ru, rv = rng.uniform(0.30, 0.42), rng.uniform(0.36, 0.48)
        mask = (((uv[..., 0] - cu) / ru) ** 2 + ((uv[..., 1] - cv_) / rv) ** 2 <= 1.0).astype(np.float32)
        kind.append("ellipse")
    else:  # hull of the 5 landmarks pushed out from their centroid
        pts = target.landmarks
        c = pts.mean(0)
        hull = c + (pts - c) * rng.uniform(1.4, 1.8)
        hull = np.vstack([hull, c + (pts[[0, 1]].mean(0) - c) * 2.2])  # up to the eyebrows
        mask = np.zeros((h, w), np.float32)
        cv2.fillConvexPoly(mask, cv2.convexHull(np.round(hull).astype(np.int32)), 1.0)
        kind.append("hull")
    mask = feather(mask, max(0.8, rng.uniform(0.02, 0.08) * face_width_px(target.landmarks)))
    warped = reinhard_transfer(warped, target.image, mask)  # colour transfer, as face-swap pipelines do
    return alpha_blend(target.image, warped, mask), "+".join(kind)


UPSAMPLERS = AVAILABLE_UPSAMPLERS  # facetrust.synth.upsample's generator-like up-samplers


def make_upsampled(target: Sample, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Down-up sample the face region or the whole photo (see module docstring)."""
    img = target.image
    h, w = img.shape[:2]
    f = 2 if rng.random() < 0.7 else 4
    if rng.random() < 0.5:
        x0, y0, x1, y1, scope = 0, 0, w, h, "image"
    else:
        uv = face_units_grid((h, w), target.landmarks)
        inside = (uv[..., 0] > -0.1) & (uv[..., 0] < 1.1) & (uv[..., 1] > -0.1) & (uv[..., 1] < 1.2)
        ys, xs = np.nonzero(inside)
        x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        scope = "face"
    x1 = x0 + (x1 - x0) // f * f
    y1 = y0 + (y1 - y0) // f * f
    method = str(UPSAMPLERS[rng.integers(0, len(UPSAMPLERS))])
    out = img.copy()
    out[y0:y1, x0:x1] = down_up(img[y0:y1, x0:x1], f, method, rng)
    return out, f"{method}x{f}/{scope}"


# -------------------------------------------------------------------------------------- fitting


def evidence_of(module, image: np.ndarray, landmarks: np.ndarray) -> dict[str, float]:
    spec = module.CROP
    matrix = estimate_similarity(landmarks, spec.template())
    ev, _ = module.measure(image, matrix, None, spec)
    return ev


def fit_logistic(x: np.ndarray, y: np.ndarray, seed: int) -> dict:
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(0)
    scale = x.std(0)
    scale[scale < 1e-6] = 1.0
    lr = LogisticRegression(C=1.0, max_iter=1000, random_state=seed)
    lr.fit((x - mean) / scale, y)
    return {
        "mean": [float(v) for v in mean],
        "scale": [float(v) for v in scale],
        "coef": [float(v) for v in lr.coef_[0]],
        "intercept": float(lr.intercept_[0]),
        "base_rate": float(y.mean()),
    }


def build_dataset(samples: list[Sample], half: np.ndarray, seed: int) -> dict[str, list]:
    """Per detector: rows of (features, label, half, manipulation)."""
    rng = np.random.default_rng(seed + 1)
    rows: dict[str, list] = {noise_residual.NAME: [], spectral.NAME: []}
    modules = {noise_residual.NAME: noise_residual, spectral.NAME: spectral}
    for i, s in enumerate(samples):
        real = final_save(s.image, rng)
        same_half = np.flatnonzero((half == half[i]) & (np.arange(len(samples)) != i))
        donor = samples[int(rng.choice(same_half))]
        paste, paste_kind = make_paste(s, donor, rng)
        paste = final_save(paste, rng)
        ups, ups_kind = make_upsampled(s, rng)
        ups = final_save(ups, rng)
        for name, fake, kind in ((noise_residual.NAME, paste, paste_kind), (spectral.NAME, ups, ups_kind)):
            mod = modules[name]
            for img, label, k in ((real, 0, "real"), (fake, 1, kind)):
                ev = evidence_of(mod, img, s.landmarks)
                rows[name].append(([ev[f] for f in mod.FEATURES], label, int(half[i]), k, s.source))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="faces-train folder")
    ap.add_argument("--n-images", type=int, default=600)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=_cues.CALIBRATION_PATH)
    ap.add_argument("--dry-run", action="store_true", help="print metrics, write nothing")
    args = ap.parse_args(argv)
    if "wild-dev" in str(args.data):
        raise SystemExit("refusing to fit on wild-dev: it is the evaluation yardstick")
    if not (args.data / "images").is_dir():
        raise SystemExit(f"faces-train not found at {args.data}")

    t0 = time.time()
    pairs = list_images(args.data, args.n_images, args.seed)
    samples = load_samples(args.data, pairs)
    rng = np.random.default_rng(args.seed)
    half = np.zeros(len(samples), int)
    half[rng.permutation(len(samples))[: len(samples) // 2]] = 1  # 0: fit, 1: validation
    print(f"{len(pairs)} photos sampled, {len(samples)} with a face; fit {int((half == 0).sum())}, "
          f"validation {int((half == 1).sum())}")
    rows = build_dataset(samples, half, args.seed)

    from ..eval import metrics as M  # the project's one definition of each metric

    def auc(labels, scores) -> float:
        return float(M.roc_auc(labels, scores).value)

    modules = {noise_residual.NAME: noise_residual, spectral.NAME: spectral}
    detectors = {}
    for name, data in rows.items():
        mod = modules[name]
        x = np.array([r[0] for r in data], dtype=np.float64)
        y = np.array([r[1] for r in data])
        h = np.array([r[2] for r in data])
        kinds = np.array([r[3] for r in data])
        sources = np.array([r[4] for r in data])
        params = fit_logistic(x[h == 0], y[h == 0], args.seed)
        cal = _cues.LogisticCalibration(name, mod.VERSION, mod.FEATURES, tuple(params["mean"]),
                                        tuple(params["scale"]), tuple(params["coef"]), params["intercept"],
                                        params["base_rate"])
        p = np.array([cal.probability(dict(zip(mod.FEATURES, row))) for row in x])
        v = h == 1
        val = {
            "auc": auc(y[v], p[v]),
            "ece": float(M.ece(y[v], p[v], n_bins=ECE_BINS).ece.value),
            "brier": float(M.brier(y[v], p[v]).value),
            "n_real": int((y[v] == 0).sum()),
            "n_fake": int((y[v] == 1).sum()),
        }
        per_feature = {f: auc(y[v], x[v, j]) for j, f in enumerate(mod.FEATURES)}
        per_source = {}
        for src in SOURCES:
            sel = v & (sources == src)
            if len(set(y[sel])) == 2:
                per_source[src] = auc(y[sel], p[sel])
        # per manipulation: each fake family against all validation reals
        fam = np.array([k.split("/")[0].split("+")[0] if k != "real" else "real" for k in kinds])
        per_kind = {}
        for k in sorted(set(fam[v & (y == 1)])):
            sel = v & ((y == 0) | (fam == k))
            per_kind[k] = auc(y[sel], p[sel])
        print(f"\n{name} v{mod.VERSION}: validation AUC {val['auc']:.3f}  ECE {val['ece']:.3f}  "
              f"Brier {val['brier']:.3f}  (real {val['n_real']}, fake {val['n_fake']})")
        print("  single-feature AUC: " + ", ".join(f"{f} {a:.3f}" for f, a in per_feature.items()))
        print("  per source: " + ", ".join(f"{s} {a:.3f}" for s, a in per_source.items()))
        print("  per manipulation: " + ", ".join(f"{k} {a:.3f}" for k, a in per_kind.items()))
        print("  coef: " + ", ".join(f"{f} {c:+.3f}" for f, c in zip(mod.FEATURES, params["coef"])))
        detectors[name] = {
            "version": mod.VERSION,
            "features": list(mod.FEATURES),
            **params,
            "validation": {**val, "single_feature_auc": per_feature, "per_source_auc": per_source,
                           "per_manipulation_auc": per_kind},
            "fit": {"n_real": int((y[h == 0] == 0).sum()), "n_fake": int((y[h == 0] == 1).sum())},
        }

    import sklearn

    out = {
        "format": _cues.CALIBRATION_FORMAT,
        "note": NOTE,
        "command": "PYTHONPATH=src python -m facetrust.train.fit_cues "
                   f"--n-images {args.n_images} --seed {args.seed}",
        "seed": args.seed,
        "date": _dt.date.today().isoformat(),
        "data": {
            "source": "../shared/data/faces-train (genuine photos only)",
            "sources": list(SOURCES),
            "photos_sampled": len(pairs),
            "photos_with_face": len(samples),
            "split": "by source photo: fit half / validation half (donors from the same half)",
            "reals": "each photo, re-saved as JPEG q70-95 with probability 0.5",
            "fakes": {
                noise_residual.NAME: "inner face of another photo pasted through a feathered ellipse or "
                "landmark-hull mask after at least one of down-up resampling / Gaussian blur / JPEG q40-90 "
                "of the donor, with Reinhard (Lab mean/std) colour transfer",
                spectral.NAME: "face region or whole photo down-sampled x2/x4 and up-sampled by "
                + ", ".join(UPSAMPLERS),
            },
            "final_save": "every real and fake: as is, or JPEG q70-95 with probability 0.5",
        },
        "software": {"numpy": np.__version__, "opencv": cv2.__version__, "scikit-learn": sklearn.__version__,
                     "python": sys.version.split()[0]},
        "detectors": detectors,
    }
    print(f"\n{time.time() - t0:.1f} s")
    if args.dry_run:
        return 0
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
