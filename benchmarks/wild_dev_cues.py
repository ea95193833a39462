"""Face-detector recall and cue-detector AUC per kind on ../shared/data/wild-dev (evaluation only).

    PYTHONPATH=src .venv/bin/python benchmarks/wild_dev_cues.py [--out benchmarks/results/wild_dev_cues.json]

Every real/fake row of wild-dev's MANIFEST.tsv is opened with facetrust.io. Images: YuNet faces,
the one crop function, both cue detectors; the image score is the max over its faces, and an image
with no face is counted (face-detector recall) but not scored. Videos: ``--frames`` frames sampled
uniformly; the frame score is the max over its faces and the video score the mean over frames with a
face. AUC (facetrust.eval.metrics.roc_auc, = Mann-Whitney) is reported per fake family against all
reals of the same level (image-level or video-level), and against same-source reals where the
source has them (FF++, Celeb-DF, DFDC, Yonsei). Nothing here feeds back into any parameter: the
calibrations were fitted on faces-train only (see cue_calibration.json).
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]

from facetrust.detectors import FaceInput, create_detector
from facetrust.faces import align_face, create_face_detector

DEFAULT_MANIFEST = REPO_ROOT.parent / "shared" / "data" / "wild-dev" / "MANIFEST.tsv"
DETECTORS = ("noise_residual", "spectral")
FAMILIES = ("photoshop", "gan-face", "face-swap", "face-reenactment", "morph-average")
SOURCES = {"FF++": "FF++", "Celeb-DF": "Celeb-DF", "DFDC": "DFDC", "yonsei": "Yonsei"}


def _auc(y, s) -> float | None:
    from facetrust.eval.metrics import roc_auc

    return roc_auc(y, s).value


def family_of(kind: str) -> str:
    """'video-frame-crop face-swap(FF++ Deepfakes)' -> 'face-swap'; 'video(real)' -> 'video'."""
    words = kind.split("(")[0].split()
    for w in words:
        if w in FAMILIES:
            return w
    return words[-1] if words else kind


def source_of(kind: str) -> str | None:
    for key, name in SOURCES.items():
        if key.lower() in kind.lower():
            return name
    return None


@dataclass
class Row:
    relpath: str
    label: int  # 1 fake, 0 real
    kind: str
    family: str
    source: str | None
    level: str  # "image" | "video"
    n_faces: int = 0
    n_frames: int = 0
    scores: dict[str, float] = field(default_factory=dict)
    # calibrated features of the top-scoring face (videos: mean over frames), to explain the AUCs
    features: dict[str, dict[str, float]] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0


def score_frame(image: np.ndarray, face_det, detectors: dict) -> tuple[int, dict[str, float], dict]:
    """(faces found, max fake probability over faces per detector, that face's features)."""
    faces = face_det.detect(image)
    if not faces:
        return 0, {}, {}
    best: dict[str, float] = {}
    feats: dict[str, dict[str, float]] = {}
    for f in faces:
        crops: dict = {}
        for name, det in detectors.items():
            spec = det.info.crop
            if spec not in crops:
                crops[spec] = align_face(image, f, spec)
            a = crops[spec]
            out = det.predict([FaceInput(a.crop, a.matrix, image, f.box, f.landmarks5)])[0]
            if out.fake_probability >= best.get(name, -1.0):
                best[name] = out.fake_probability
                feats[name] = {k: out.evidence[k] for k in det.calibration.features}
    return len(faces), best, feats


def run_row(row: Row, root: Path, face_det, detectors: dict, frames: int) -> None:
    from facetrust.io import FrameSampler, open_media

    t0 = time.time()
    try:
        media = open_media(root / row.relpath, sampler=FrameSampler("uniform", frames))
        per_frame: dict[str, list[float]] = defaultdict(list)
        per_frame_feats: dict[str, list[dict]] = defaultdict(list)
        for fr in media.frames():
            row.n_frames += 1
            n, best, feats = score_frame(fr.image, face_det, detectors)
            row.n_faces += n
            for k, v in best.items():
                per_frame[k].append(v)
                per_frame_feats[k].append(feats[k])
        media.close()
        if per_frame:
            # image: the one frame's max; video: mean over frames with a face of the frame max
            row.scores = {k: float(np.mean(v)) for k, v in per_frame.items()}
            row.features = {
                k: {f: float(np.mean([d[f] for d in ds])) for f in ds[0]} for k, ds in per_frame_feats.items()
            }
    except Exception as exc:  # noqa: BLE001 - a benchmark reports and goes on
        row.error = f"{type(exc).__name__}: {exc}"
    row.seconds = time.time() - t0


def read_manifest(path: Path) -> list[Row]:
    rows = []
    with path.open(newline="") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            if r["label"] not in ("real", "fake"):
                continue
            kind = r["kind"]
            is_video = Path(r["relpath"]).suffix.lower() in (".mp4", ".avi", ".mov", ".mkv", ".webm")
            rows.append(
                Row(
                    relpath=r["relpath"],
                    label=int(r["label"] == "fake"),
                    kind=kind,
                    family=family_of(kind),
                    source=source_of(kind),
                    level="video" if is_video else "image",
                )
            )
    return rows


def auc_table(rows: list[Row]) -> list[dict]:
    """Per level: all fakes vs all reals, each fake family vs all reals and vs same-source reals."""
    out = []
    for level in ("image", "video"):
        scored = [r for r in rows if r.level == level and r.scores]
        reals = [r for r in scored if r.label == 0]
        fakes = [r for r in scored if r.label == 1]
        groups = [("all fakes", "all reals", fakes, reals)]
        for fam in sorted({r.family for r in fakes}):
            fam_fakes = [r for r in fakes if r.family == fam]
            groups.append((fam, "all reals", fam_fakes, reals))
            for src in sorted({r.source for r in fam_fakes if r.source}):
                src_reals = [r for r in reals if r.source == src]
                if src_reals:
                    src_fakes = [r for r in fam_fakes if r.source == src]
                    groups.append((f"{fam} [{src}]", f"{src} reals", src_fakes, src_reals))
        for name, vs, fk, rl in groups:
            entry = {"level": level, "fakes": name, "reals": vs, "n_fake": len(fk), "n_real": len(rl)}
            for det in DETECTORS:
                y = [1] * len(fk) + [0] * len(rl)
                s = [r.scores[det] for r in fk] + [r.scores[det] for r in rl]
                entry[det] = _auc(y, s) if fk and rl else None
            out.append(entry)
    return out


def recall_table(rows: list[Row]) -> list[dict]:
    out = []
    images = [r for r in rows if r.level == "image" and r.error is None]
    by_kind: dict[str, list[Row]] = defaultdict(list)
    for r in images:
        by_kind[("fake " if r.label else "real ") + r.family].append(r)
    for k in ["all images"] + sorted(by_kind):
        rs = images if k == "all images" else by_kind[k]
        found = sum(r.n_faces > 0 for r in rs)
        out.append({"group": k, "n": len(rs), "with_face": found, "recall": found / max(1, len(rs))})
    return out


def feature_table(rows: list[Row]) -> list[dict]:
    """Median calibrated feature per level, label and family: what each cue measured there."""
    out = []
    groups: dict[tuple, list[Row]] = defaultdict(list)
    for r in rows:
        if r.features:
            groups[(r.level, "fake" if r.label else "real", r.family)].append(r)
    for (level, label, fam), rs in sorted(groups.items()):
        entry = {"level": level, "label": label, "family": fam, "n": len(rs)}
        for det in DETECTORS:
            keys = rs[0].features[det].keys()
            entry[det] = {k: float(np.median([r.features[det][k] for r in rs])) for k in keys}
        out.append(entry)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "results" / "wild_dev_cues.json")
    ap.add_argument("--frames", type=int, default=16, help="frames sampled uniformly per video")
    ap.add_argument("--limit", type=int, default=0, help="smoke test: only the first N rows")
    args = ap.parse_args(argv)
    if not args.manifest.is_file():
        print(f"wild-dev not found at {args.manifest}; skipping (it lives in ../shared/data)")
        return 0

    rows = read_manifest(args.manifest)
    if args.limit:
        rows = rows[: args.limit]
    root = args.manifest.parent
    face_det = create_face_detector("yunet")
    detectors = {name: create_detector(name) for name in DETECTORS}
    t0 = time.time()
    for i, row in enumerate(rows):
        run_row(row, root, face_det, detectors, args.frames)
        if (i + 1) % 200 == 0:
            print(f"  {i + 1}/{len(rows)} rows, {time.time() - t0:.0f} s", flush=True)
    wall = time.time() - t0

    recall = recall_table(rows)
    aucs = auc_table(rows)
    errors = [{"relpath": r.relpath, "error": r.error} for r in rows if r.error]
    features = feature_table(rows)

    print(f"\nwild-dev: {len(rows)} real/fake rows in {wall:.0f} s; {len(errors)} errors")
    print("\nFace-detector recall (yunet) on images: fraction with >= 1 face")
    for r in recall:
        print(f"  {r['group']:<28} {r['with_face']:>5}/{r['n']:<5} {r['recall']:.3f}")
    print("\nCue AUC (fake = positive). image-level: one score per image (max over faces); "
          f"video-level: mean over {args.frames} uniformly sampled frames of the max face score")
    head = " ".join(f"{d:>14}" for d in DETECTORS)
    print(f"  {'level':<6} {'fakes':<28} {'vs':<16} {'n_fake':>6} {'n_real':>6} {head}")
    for e in aucs:
        vals = " ".join(f"{e[d]:>14.3f}" if e[d] is not None else f"{'-':>14}" for d in DETECTORS)
        print(f"  {e['level']:<6} {e['fakes']:<28} {e['reals']:<16} {e['n_fake']:>6} {e['n_real']:>6} {vals}")
    print("\nMedian calibrated features of the top-scoring face (per level, label, family)")
    for e in features:
        cols = "  ".join(
            f"{k}={v:+.2f}" for det in DETECTORS for k, v in e[det].items()
        )
        print(f"  {e['level']:<6} {e['label']:<5} {e['family']:<18} n={e['n']:<4} {cols}")
    for e in errors:
        print(f"  error: {e['relpath']}: {e['error']}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    versions = {n: d.info.version for n, d in detectors.items()}
    args.out.write_text(
        json.dumps(
            {
                "date": _dt.date.today().isoformat(),
                "manifest": str(args.manifest),
                "detectors": versions,
                "face_detector": "yunet",
                "frames_per_video": args.frames,
                "wall_s": wall,
                "note": "evaluation only; calibrations fitted on faces-train pseudo-fakes, "
                "nothing tuned here",
                "face_detector_recall": recall,
                "auc": aucs,
                "median_features": features,
                "errors": errors,
                "rows": [
                    {
                        "relpath": r.relpath, "label": r.label, "kind": r.kind, "family": r.family,
                        "source": r.source, "level": r.level, "n_frames": r.n_frames,
                        "n_faces": r.n_faces, "scores": r.scores, "features": r.features,
                        "error": r.error,
                    }
                    for r in rows
                ],
            },
            indent=1,
        )
        + "\n"
    )
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
