"""Dataset writer: faces folder -> aligned sources -> samples on disk + manifest + run summary.

Stage 1 prepares every photo (read, grayscale check, detect, size check, align, 68 landmarks) and
assigns identity groups and splits. Stage 2 makes, per source, ``reals_per_face`` genuine samples
and ``per_face`` samples of every forgery family; partners (second identities) are drawn from the
*same split* with a different identity group, preferring the closest landmark layout. Stage 3
writes ``manifest.csv`` (sorted by sample_id), ``summary.json`` and optional contact sheets.

Every sample's randomness comes from ``derive_seed(seed, source_id, family, k)``, so outputs are
byte-identical for any ``workers``. Layout::

    OUT/images/<split>/<sample_id>.png   (or .jpg: one format and quality for every sample)
    OUT/masks/<split>/<sample_id>.png    8-bit soft mask, 0 = untouched, 255 = fully edited
    OUT/manifest.csv, OUT/summary.json, OUT/sheets/<family>.png
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from ..faces import DEFAULT_FACE_DETECTOR, CropSpec
from .registry import family_class, forgery_families, get_family
from .seeds import derive_seed
from .sources import SourcePreparer, SourceRecord, list_images, load_face
from .splits import SplitPolicy, group_for, load_identities
from .types import FaceSource, SkipSample

# Progress stages (facetrust.progress_bar): one count per photo, then one per source face.
PREPARE_STAGE, GENERATE_STAGE = "preparing photos", "generating samples"

MANIFEST_COLUMNS = [
    "sample_id", "path", "mask_path", "label", "family", "params", "perturb", "source_ids",
    "identity_group", "partner_group", "split", "seed", "width", "height", "source_path",
    "outside_frac",
]
REAL = "real"
# zlib level 1: ~3x faster than OpenCV's default 3 and ~6% larger files (measured on 256 px crops).
PNG_LEVEL = 1
NO_PARTNER, SINGLE_IDENTITY = "no_partner_in_split", "single_identity"


@dataclass
class SynthConfig:
    """Everything that determines a dataset's bytes (besides the input folder)."""

    families: tuple[str, ...] | None = None  # None: every registered family (perturb included)
    per_face: int = 1  # samples per source per forgery family
    reals_per_face: int = 1
    seed: int = 0
    size: int = 256
    margin: float = 0.25
    min_face: float = 32.0  # shorter detector-box side in source pixels
    max_outside: float = 1.0  # skip sources whose crop is more than this share mirror padding
    detector: str = DEFAULT_FACE_DETECTOR
    perturb_prob: float = 0.5  # when "perturb" is among the families; real and fake alike
    image_format: str = "png"  # "png" or "jpeg"
    jpeg_quality: int = 95
    split: SplitPolicy = field(default_factory=SplitPolicy)
    family_options: dict = field(default_factory=dict)
    partner_candidates: int = 8
    sheet: bool = False
    sheet_count: int = 12

    def __post_init__(self) -> None:
        if self.image_format not in ("png", "jpeg"):
            raise ValueError(f"image_format must be png or jpeg, got {self.image_format!r}")
        if self.per_face < 0 or self.reals_per_face < 0:
            raise ValueError("per_face and reals_per_face must be >= 0")
        names = list(self.families) if self.families is not None else None
        for name in names or []:
            family_class(name)  # raises ValueError on unknown names
        self.crop  # validates size/margin

    @property
    def crop(self) -> CropSpec:
        return CropSpec(self.size, self.margin)

    def forgeries(self) -> list[str]:
        names = self.families if self.families is not None else forgery_families() + ["perturb"]
        return [n for n in names if family_class(n).label == 1]

    def perturb_enabled(self) -> bool:
        names = self.families if self.families is not None else ["perturb"]
        return "perturb" in names and self.perturb_prob > 0


@dataclass
class RunSummary:
    out_dir: str
    files_found: int = 0
    sources_used: int = 0
    sources_skipped: dict = field(default_factory=dict)  # reason -> count
    samples: dict = field(default_factory=dict)  # family -> count (real included)
    samples_skipped: dict = field(default_factory=dict)  # family -> {reason: count}
    splits: dict = field(default_factory=dict)  # split -> samples
    split_sources: dict = field(default_factory=dict)  # split -> sources
    labels: dict = field(default_factory=dict)
    ms_per_sample: dict = field(default_factory=dict)  # family -> mean wall ms (incl. writing)
    seconds: dict = field(default_factory=dict)
    sheets: list = field(default_factory=list)
    config: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list[str]:
        out = [
            f"synth: {sum(self.samples.values())} samples in {self.out_dir}",
            f"  sources: {self.sources_used} used of {self.files_found} files; skipped: "
            + (", ".join(f"{k}={v}" for k, v in sorted(self.sources_skipped.items())) or "none"),
            "  samples: " + ", ".join(f"{k}={v}" for k, v in sorted(self.samples.items())),
            "  splits: " + ", ".join(f"{k}={v}" for k, v in sorted(self.splits.items())),
        ]
        for fam, reasons in sorted(self.samples_skipped.items()):
            out.append(f"  {fam} skipped: " + ", ".join(f"{k}={v}" for k, v in sorted(reasons.items())))
        out.append("  time: " + ", ".join(f"{k} {v:.1f}s" for k, v in self.seconds.items()))
        return out


# --------------------------------------------------------------------------- worker state
_STATE: dict = {}


def _one_thread_per_worker(in_process: bool) -> None:
    """Worker processes use one core each: OpenCV threads and YuNet's OpenMP team would only
    fight the other workers (YuNet measured 4-7x slower with a spinning OpenMP team on 2 busy
    cores). Must run before yuface is first imported in the process."""
    if not in_process:
        os.environ["OMP_NUM_THREADS"] = "1"
        cv2.setNumThreads(1)


def _init_prepare(in_process: bool, config: SynthConfig, root: str) -> None:
    _one_thread_per_worker(in_process)
    _STATE["preparer"] = SourcePreparer(config.crop, config.detector, config.min_face, config.max_outside)
    _STATE["root"] = root


def _prepare(relpath: str) -> SourceRecord | str:
    return _STATE["preparer"].prepare(_STATE["root"], relpath)


def _init_generate(in_process: bool, config: SynthConfig, records: list[SourceRecord], out_dir: str, sheet_ids: set) -> None:
    _one_thread_per_worker(in_process)
    pools: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        pools[r.split].append(i)
    _STATE.update(
        config=config,
        records=records,
        out=Path(out_dir),
        pools=dict(pools),
        groups_per_split={s: len({records[i].group for i in idx}) for s, idx in pools.items()},
        families={n: get_family(n, **config.family_options.get(n, {})) for n in config.forgeries()},
        perturb=get_family("perturb", **config.family_options.get("perturb", {})) if config.perturb_enabled() else None,
        sheet_ids=sheet_ids,
        cache={},
    )


def _face(i: int) -> FaceSource:
    cache = _STATE["cache"]
    if i not in cache:
        if len(cache) > 256:
            cache.pop(next(iter(cache)))
        cache[i] = load_face(_STATE["records"][i], _STATE["config"].crop)
    return cache[i]


def choose_partner(records: list[SourceRecord], pool: list[int], target: int, rng: np.random.Generator, k: int) -> int | None:
    """Among up to ``k`` random pool members of another identity, the closest landmark layout."""
    me = records[target]
    cands: list[int] = []
    tries = 0
    while len(cands) < k and tries < 4 * k:
        j = pool[int(rng.integers(len(pool)))]
        tries += 1
        if records[j].group != me.group and j not in cands:
            cands.append(j)
    if not cands:
        return None
    dist = [float(np.linalg.norm(records[j].landmarks68 - me.landmarks68, axis=1).mean()) for j in cands]
    return cands[int(np.argmin(dist))]


def _encode(path: Path, image: np.ndarray, config: SynthConfig) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    if config.image_format == "jpeg":
        ok = cv2.imwrite(str(path), bgr, [cv2.IMWRITE_JPEG_QUALITY, int(config.jpeg_quality)])
    else:
        ok = cv2.imwrite(str(path), bgr, [cv2.IMWRITE_PNG_COMPRESSION, PNG_LEVEL])
    if not ok:
        raise OSError(f"could not write {path}")


def _write_mask(path: Path, mask: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    m8 = np.clip(mask * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if not cv2.imwrite(str(path), m8, [cv2.IMWRITE_PNG_COMPRESSION, PNG_LEVEL]):
        raise OSError(f"could not write {path}")


def _dumps(obj) -> str:
    def conv(o):
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        raise TypeError(type(o))

    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=conv)


def _thumb(img: np.ndarray | None, size: int = 128) -> np.ndarray | None:
    if img is None:
        return None
    if img.ndim == 2:
        img = np.repeat(np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)[..., None], 3, 2)
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)


def _generate_for(i: int) -> dict:
    """All samples of source ``i``: manifest rows, skip counts, timings, sheet thumbnails."""
    cfg: SynthConfig = _STATE["config"]
    rec: SourceRecord = _STATE["records"][i]
    out: Path = _STATE["out"]
    ext = "jpg" if cfg.image_format == "jpeg" else "png"
    rows, skips, timing, thumbs = [], Counter(), defaultdict(lambda: [0, 0.0]), []
    target = _face(i)
    want_thumbs = rec.source_id in _STATE["sheet_ids"]

    def emit(family: str, k: int, seed: int, image, mask, params, source_ids, partner_group="", label=1):
        perturb = ""
        if _STATE["perturb"] is not None:
            prng = np.random.default_rng(derive_seed(seed, "perturb"))
            if prng.random() < cfg.perturb_prob:
                image, pp = _STATE["perturb"].apply(image, prng)
                perturb = _dumps(pp)
        sample_id = f"{family}_{k}__{rec.source_id}"
        rel = f"images/{rec.split}/{sample_id}.{ext}"
        mrel = f"masks/{rec.split}/{sample_id}.png"
        _encode(out / rel, image, cfg)
        _write_mask(out / mrel, mask)
        rows.append(
            {
                "sample_id": sample_id, "path": rel, "mask_path": mrel, "label": label, "family": family,
                "params": _dumps(params), "perturb": perturb, "source_ids": ";".join(source_ids),
                "identity_group": rec.group, "partner_group": partner_group, "split": rec.split,
                "seed": seed, "width": image.shape[1], "height": image.shape[0],
                "source_path": rec.relpath, "outside_frac": rec.outside_frac,
            }
        )

    for k in range(cfg.reals_per_face):
        t0 = time.perf_counter()
        seed = derive_seed(cfg.seed, rec.source_id, REAL, k)
        emit(REAL, k, seed, target.crop, np.zeros(target.crop.shape[:2], np.float32), {}, (rec.source_id,), label=0)
        timing[REAL][0] += 1
        timing[REAL][1] += time.perf_counter() - t0

    records, pools = _STATE["records"], _STATE["pools"]
    for name, fam in _STATE["families"].items():
        for k in range(cfg.per_face):
            t0 = time.perf_counter()
            seed = derive_seed(cfg.seed, rec.source_id, name, k)
            partner = None
            if fam.partner != "none":
                if _STATE["groups_per_split"].get(rec.split, 0) < 2:
                    if fam.partner == "required":
                        skips[(name, SINGLE_IDENTITY)] += 1
                        continue
                else:
                    prng = np.random.default_rng(derive_seed(seed, "partner"))
                    j = choose_partner(records, pools[rec.split], i, prng, cfg.partner_candidates)
                    if j is None and fam.partner == "required":
                        skips[(name, NO_PARTNER)] += 1
                        continue
                    partner = _face(j) if j is not None else None
            try:
                res = fam.generate(target, np.random.default_rng(seed), partner)
            except SkipSample as exc:
                skips[(name, exc.reason)] += 1
                continue
            used_partner = partner is not None and len(res.source_ids) > 1
            if want_thumbs and len([t for t in thumbs if t[0] == name]) < 1:
                shown = partner.crop if used_partner else None
                thumbs.append(
                    (name, _thumb(target.crop), _thumb(shown), _thumb(res.image), _thumb(res.mask), _short(res.params))
                )
            partner_group = partner.group if used_partner else ""
            emit(name, k, seed, res.image, res.mask, res.params, res.source_ids, partner_group, res.label)
            timing[name][0] += 1
            timing[name][1] += time.perf_counter() - t0

    if want_thumbs and _STATE["perturb"] is not None:
        img, pp = _STATE["perturb"].apply(target.crop, np.random.default_rng(derive_seed(cfg.seed, rec.source_id, "sheet")))
        diff = np.abs(img.astype(np.float32) - target.crop.astype(np.float32)).mean(2) / 32.0
        thumbs.append(("perturb", _thumb(target.crop), None, _thumb(img), _thumb(np.clip(diff, 0, 1)), _short(pp)))
    return {"rows": rows, "skips": skips, "timing": {k: tuple(v) for k, v in timing.items()}, "thumbs": thumbs}


def _short(params: dict) -> str:
    """A few key parameter values for contact-sheet captions."""
    keys = (
        "mode", "op", "warp", "mask_shape", "blend", "region", "method",
        "upsampler", "factor", "scope", "alpha", "chain", "blend_ratio",
    )
    parts = [str(params[k]) for k in keys if k in params]
    if "ops" in params:
        parts += [o["op"] for o in params["ops"]]
    return " ".join(parts)[:40]


def _run(fn: Callable, items: list, workers: int, init: Callable, initargs: tuple, chunksize: int,
         progress: Callable | None = None, stage: str = "") -> list:
    """``fn`` over ``items`` (in order), calling ``progress(stage, done, len(items), None)`` per item."""
    total = len(items)

    def counted(results) -> list:
        out = []
        for r in results:
            out.append(r)
            if progress is not None:
                progress(stage, len(out), total, None)
        return out

    if progress is not None:
        progress(stage, 0, total, None)
    if workers <= 1:
        init(True, *initargs)
        return counted(fn(x) for x in items)
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=init, initargs=(False, *initargs)) as ex:
        return counted(ex.map(fn, items, chunksize=chunksize))


def prepare_sources(
    faces: str | Path, config: SynthConfig, workers: int = 1, limit: int | None = None,
    progress: Callable | None = None,
) -> tuple[list[SourceRecord], Counter, int]:
    """Stage 1: (records with groups and splits, skip reasons, number of image files found).
    ``progress`` (facetrust.progress_bar.StepProgress) is told each photo done."""
    faces = Path(faces)
    rels = list_images(faces)
    n_files = len(rels)
    rels.sort(key=lambda r: derive_seed("order", r))  # --limit takes a folder-mixed subset
    if limit is not None:
        rels = rels[: max(0, int(limit))]
    results = _run(_prepare, rels, workers, _init_prepare, (config, str(faces)), chunksize=16,
                   progress=progress, stage=PREPARE_STAGE)
    identities = load_identities(faces)
    records, skipped, seen = [], Counter(), set()
    for rel, res in zip(rels, results):
        if isinstance(res, str):
            skipped[res] += 1
            continue
        sid = res.source_id
        n = 1
        while res.source_id in seen:  # a.jpg and a.png: keep both, distinctly named
            n += 1
            res.source_id = f"{sid}-{n}"
        seen.add(res.source_id)
        res.group = group_for(rel, identities)
        res.split = config.split.assign(res.group, res.folder)
        records.append(res)
    return records, skipped, n_files


def generate(
    faces: str | Path,
    out: str | Path,
    config: SynthConfig | None = None,
    *,
    workers: int = 1,
    limit: int | None = None,
    overwrite: bool = False,
    progress: Callable | None = None,
    **overrides,
) -> RunSummary:
    """Build a synthetic dataset from the genuine photos in ``faces`` into ``out``.

    ``overrides`` are :class:`SynthConfig` fields (e.g. ``families=("swap",), per_face=2``).
    Raises ``FileExistsError`` if ``out`` already holds a manifest and ``overwrite`` is false, and
    ``ValueError`` for unknown families or when ``faces`` has no image files. ``progress``
    (:data:`facetrust.progress_bar.StepProgress`) is told each photo prepared and each source face
    generated (stages :data:`PREPARE_STAGE`, :data:`GENERATE_STAGE`).
    """
    if config is None:
        config = SynthConfig(**overrides)
    elif overrides:
        config = replace(config, **overrides)
    out = Path(out)
    if (out / "manifest.csv").exists():
        if not overwrite:
            raise FileExistsError(f"{out} already holds a dataset (manifest.csv); pass overwrite=True")
    summary = RunSummary(out_dir=str(out))
    t0 = time.perf_counter()
    records, skipped, n_files = prepare_sources(faces, config, workers, limit, progress=progress)
    if n_files == 0:
        raise ValueError(f"no image files under {faces}")
    if overwrite:  # only the folders this writer makes
        for sub in ("images", "masks", "sheets"):
            shutil.rmtree(out / sub, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    summary.files_found, summary.sources_used = n_files, len(records)
    summary.sources_skipped = dict(sorted(skipped.items()))
    summary.split_sources = dict(sorted(Counter(r.split for r in records).items()))
    summary.seconds["prepare"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    sheet_ids = {r.source_id for r in records[: 3 * config.sheet_count]} if config.sheet else set()
    results = _run(_generate_for, list(range(len(records))), workers, _init_generate,
                   (config, records, str(out), sheet_ids), chunksize=4, progress=progress, stage=GENERATE_STAGE)
    rows = sorted((row for r in results for row in r["rows"]), key=lambda row: row["sample_id"])
    summary.seconds["generate"] = time.perf_counter() - t1

    skips: dict = defaultdict(Counter)
    timing: dict = defaultdict(lambda: [0, 0.0])
    for r in results:
        for (fam, reason), n in r["skips"].items():
            skips[fam][reason] += n
        for fam, (n, s) in r["timing"].items():
            timing[fam][0] += n
            timing[fam][1] += s
    summary.samples = dict(sorted(Counter(row["family"] for row in rows).items()))
    summary.samples_skipped = {f: dict(sorted(c.items())) for f, c in sorted(skips.items())}
    summary.splits = dict(sorted(Counter(row["split"] for row in rows).items()))
    summary.labels = {str(k): v for k, v in sorted(Counter(row["label"] for row in rows).items())}
    summary.ms_per_sample = {f: round(1000 * s / n, 2) for f, (n, s) in sorted(timing.items()) if n}

    write_manifest(out, rows)
    if config.sheet:
        from .sheet import write_contact_sheets

        thumbs = [t for r in results for t in r["thumbs"]]
        summary.sheets = [str(p) for p in write_contact_sheets(out / "sheets", thumbs, config.sheet_count)]
    summary.seconds["total"] = time.perf_counter() - t0
    cfg = asdict(config)
    summary.config = {**cfg, "faces": str(faces), "limit": limit, "workers": workers}
    (out / "summary.json").write_text(json.dumps(summary.to_dict(), indent=2, sort_keys=True, default=str))
    return summary


def write_manifest(out: Path, rows: list[dict]) -> Path:
    """``manifest.csv`` (and ``manifest.parquet`` when pyarrow is importable)."""
    path = out / "manifest.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return path
    table = pa.Table.from_pylist(rows) if rows else pa.table({c: [] for c in MANIFEST_COLUMNS})
    pq.write_table(table, out / "manifest.parquet")
    return path


def read_manifest(path: str | Path) -> list[dict]:
    """Rows of a manifest.csv with numeric columns converted."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for k in ("label", "seed", "width", "height"):
            r[k] = int(r[k])
        r["outside_frac"] = float(r["outside_frac"])
    return rows
