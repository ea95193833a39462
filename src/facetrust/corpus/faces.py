"""``facetrust corpus faces``: a built corpus -> one context crop per plausible face, ready for synth.

``facetrust synth`` takes the largest face of each photo; group photos and video frames hold many.
This step finds every face (the pipeline's face detector) in each image and in frames sampled
uniformly from each video, and writes a square context crop around each face at the media's own
resolution (never up-sampled; down-sampled only above ``max_side``) as PNG, so no new compression is
added. ``OUT/identities.tsv`` maps each crop to its recipe group (synth keeps a group in one split)
and ``OUT/labels.tsv`` records label, kind and generator per crop. Every crop is checked by the
evaluation guard when it is present.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .recipe import read_recipe

VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm"}


@dataclass(frozen=True)
class FaceCropSettings:
    context: float = 2.4  # crop side / the detector box's longer side
    min_face: float = 40.0  # px, shorter box side in the media
    min_score: float = 0.75  # detector confidence
    max_side: int = 768  # crops larger than this are down-sampled (INTER_AREA)
    frames_per_video: int = 12
    max_faces_per_image: int = 24


def context_crop(image: np.ndarray, box: np.ndarray, s: FaceCropSettings) -> np.ndarray:
    """Square crop of side ``context * max(w, h)`` centred on the box; outside pixels are mirrored."""
    x0, y0, x1, y1 = map(float, box)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = s.context * max(x1 - x0, y1 - y0) / 2
    a, b = int(round(cx - half)), int(round(cy - half))
    side = int(round(2 * half))
    h, w = image.shape[:2]
    pad = max(0, -a, -b, a + side - w, b + side - h)
    if pad:
        image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
        a, b = a + pad, b + pad
    crop = image[b:b + side, a:a + side]
    if side > s.max_side:
        crop = cv2.resize(crop, (s.max_side, s.max_side), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(crop)


def _frames(path: Path, s: FaceCropSettings):
    from ..io import FrameSampler, iter_video_frames

    for frame in iter_video_frames(path, FrameSampler.from_options(frames=s.frames_per_video)):
        yield frame.index, frame.image


def extract_face_crops(corpus: str | Path, out: str | Path, settings: FaceCropSettings = FaceCropSettings(),
                       *, guard: str | Path | None = "auto") -> dict:
    from ..faces import create_face_detector
    from ..io import load_image
    from .build import default_guard, run_guard

    corpus, out = Path(corpus), Path(out)
    rows = read_recipe(corpus / "manifest.tsv")
    detector = create_face_detector(min_score=settings.min_score, min_face_size=settings.min_face)
    records: list[tuple[str, str, str, str, str]] = []  # relpath, group, label, kind, generator
    failed: list[str] = []
    for row in rows:
        src = corpus / "files" / row.local_path
        try:
            if src.suffix.lower() in VIDEO_SUFFIXES:
                frames = list(_frames(src, settings))
            else:
                frames = [(0, load_image(src))]
        except Exception as exc:  # noqa: BLE001 - one unreadable file must not stop the corpus
            failed.append(f"{row.local_path}: {type(exc).__name__}: {exc}")
            continue
        stem = row.local_path.replace("/", "__").rsplit(".", 1)[0]
        for index, image in frames:
            faces = detector.detect(image)[: settings.max_faces_per_image]
            for k, face in enumerate(faces):
                # first folder = the repository, so synth's per-folder split pins can hold out a source
                rel = f"{row.mirror_name}/{row.label}__{stem.split('__', 1)[1]}__f{index:05d}_{k:02d}.png"
                dest = out / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                crop = context_crop(image, face.box, settings)
                cv2.imwrite(str(dest), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 1])
                records.append((rel, f"{row.mirror_name}:{row.group}", row.label, row.kind, row.generator))
    blocked: dict[str, str] = {}
    guard_path = default_guard() if guard == "auto" else (Path(guard) if guard else None)
    if guard_path is not None:
        blocked = run_guard(guard_path, [out / r[0] for r in records])
        for p in blocked:
            Path(p).unlink(missing_ok=True)
        records = [r for r in records if str(out / r[0]) not in blocked]
    with open(out / "identities.tsv", "w", newline="") as f:
        csv.writer(f, delimiter="\t", lineterminator="\n").writerows((r[0], r[1]) for r in records)
    with open(out / "labels.tsv", "w", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(("relpath", "group", "label", "kind", "generator"))
        w.writerows(records)
    return {"crops": len(records), "media": len(rows), "failed": failed, "blocked": sorted(blocked),
            "guard": str(guard_path) if guard_path else "not run"}
