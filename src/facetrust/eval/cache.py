"""Face-detection cache for evaluation runs: detect once, score with any detector afterwards.

Key (:class:`FaceCacheKey`): sha256 of the media bytes (for a folder of frames: of the sorted
file names and their bytes), the face detector with its parameters, the frame sampler
(``uniform:16``...), ``max_faces``, the perturbation applied before detection (``clean``,
``jpeg:30``...) and :data:`CACHE_VERSION`. Moving or renaming a file keeps its entry; changing one
byte of it, or any of those settings, makes a new one.

Files, under the cache root (default ``$FACETRUST_CACHE`` or ``~/.cache/facetrust/eval``)::

    <root>/<d[:2]>/<d>.faces.npz               per sampled frame: index, time, faces (box, score, 5 landmarks,
                                               track id), or the media's error code when it could not be decoded
    <root>/<d[:2]>/<d>.crops-<S>-<margin>.npz  optional: the aligned uint8 crops (and frame->crop matrices) of
                                               those faces for one CropSpec, so crop-only detectors skip decoding

with ``d`` the key's digest. Writes go to a temporary file and are renamed into place (readers never
see half a file). Any unreadable, truncated or mismatching file is treated as a miss, removed and
recomputed: the cache can make a run faster, never wrong and never crash it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ..faces.types import DetectedFace
from ..io.sources import file_sha256

log = logging.getLogger(__name__)

GEOM_COLS = 16
CACHE_VERSION = 3  # 3: each face's track id (scan's tracker) is stored with it


def default_cache_dir() -> Path:
    """``$FACETRUST_CACHE`` when set, else ``~/.cache/facetrust/eval``."""
    env = os.environ.get("FACETRUST_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "facetrust" / "eval"


def media_sha256(path: str | os.PathLike, media_type: str = "image") -> str:
    """sha256 identifying a media's content: the file bytes, or for a ``frames`` folder the hash of
    each image file's name and sha256, in sorted order. Raises OSError when unreadable."""
    p = Path(path)
    if media_type != "frames":
        return file_sha256(p)
    from .adapters._core import iter_images

    h = hashlib.sha256(b"frames\n")
    for f in iter_images(p):
        h.update(f"{f.name}\t{file_sha256(f)}\n".encode())
    return h.hexdigest()


def describe_face_detector(backend: Any) -> str:
    """``name(param=value,...)`` from a face-detector backend's scalar attributes (its parameters)."""
    params = {
        k: v
        for k, v in sorted(vars(backend).items())
        if not k.startswith("_") and isinstance(v, (int, float, str, bool))
    }
    name = getattr(backend, "name", "") or type(backend).__name__
    return f"{name}({','.join(f'{k}={v}' for k, v in params.items())})"


@dataclass(frozen=True)
class FaceCacheKey:
    """Everything that determines which faces a media yields (see the module docstring)."""

    media_sha256: str
    face_detector: str
    sampler: str
    max_faces: int
    condition: str = "clean"
    version: int = CACHE_VERSION

    @cached_property
    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def as_json(self) -> str:
        return json.dumps(self.as_dict, sort_keys=True)

    @cached_property
    def digest(self) -> str:
        return hashlib.sha256(self.as_json().encode()).hexdigest()


@dataclass
class CachedFrame:
    """One sampled frame: decode index, time in seconds (None for images), faces in scoring order and
    each face's track id (videos and frame folders: the pipeline's ``FaceTracker``; None for images)."""

    index: int
    time_s: float | None
    faces: list[DetectedFace]
    track_ids: list[int | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.track_ids:
            self.track_ids = [None] * len(self.faces)
        if len(self.track_ids) != len(self.faces):
            raise ValueError("one track id per face")


@dataclass
class CacheEntry:
    """Face detections of one media, or the error that stopped its decoding."""

    media_kind: str  # "image" | "video" | "frames"
    width: int = 0
    height: int = 0
    frames: list[CachedFrame] = field(default_factory=list)
    error_code: str | None = None
    error: str | None = None

    def frame(self, index: int) -> CachedFrame | None:
        for f in self.frames:
            if f.index == index:
                return f
        return None

    @property
    def n_faces(self) -> int:
        return sum(len(f.faces) for f in self.frames)


@dataclass
class CropBundle:
    """Aligned crops of every cached face for one CropSpec, in frame then face order."""

    crops: np.ndarray  # (F, S, S, 3) uint8
    matrices: np.ndarray  # (F, 2, 3) float64, frame -> crop


def spec_tag(spec: Any) -> str:
    """File-name tag of a CropSpec: ``224-0.3``."""
    return f"{int(spec.size)}-{float(spec.margin):g}"


class FaceCache:
    """The on-disk cache. ``stats`` counts hits, misses, corrupt files recovered and writes."""

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_cache_dir()
        self.stats: dict[str, int] = dict.fromkeys(
            ("hits", "misses", "corrupt", "writes", "crop_hits", "crop_misses", "crop_writes", "write_errors"), 0
        )

    # -- paths ---------------------------------------------------------------------------------
    def faces_path(self, key: FaceCacheKey) -> Path:
        d = key.digest
        return self.root / d[:2] / f"{d}.faces.npz"

    def crops_path(self, key: FaceCacheKey, spec: Any) -> Path:
        d = key.digest
        return self.root / d[:2] / f"{d}.crops-{spec_tag(spec)}.npz"

    # -- faces ---------------------------------------------------------------------------------
    def get(self, key: FaceCacheKey) -> CacheEntry | None:
        """The cached entry, or None (miss, or a bad file which is then removed)."""
        path = self.faces_path(key)
        if not path.is_file():
            self.stats["misses"] += 1
            return None
        try:
            entry = self._read_faces(path, key)
        except Exception as exc:  # any damage -> recompute
            log.warning("face cache: discarding unreadable %s (%s)", path, exc)
            self.stats["corrupt"] += 1
            self.stats["misses"] += 1
            self._remove(path)
            return None
        self.stats["hits"] += 1
        return entry

    def put(self, key: FaceCacheKey, entry: CacheEntry) -> None:
        """Store ``entry`` (never raises: a cache that cannot be written is just not used)."""
        faces = [f for fr in entry.frames for f in fr.faces]
        meta = {
            "key": key.as_dict,
            "media_kind": entry.media_kind,
            "width": entry.width,
            "height": entry.height,
            "error_code": entry.error_code,
            "error": entry.error,
            "frames": [{"index": f.index, "time_s": f.time_s, "n_faces": len(f.faces)} for f in entry.frames],
            "backends": [f.backend for f in faces],
        }
        # one float array per file: box (4), score (1), landmarks5 (10), track id (1, -1: none) per face
        tids = [t for fr in entry.frames for t in fr.track_ids]
        geom = np.zeros((len(faces), GEOM_COLS), np.float64)
        for i, f in enumerate(faces):
            geom[i, :4] = np.asarray(f.box, np.float64).reshape(4)
            geom[i, 4] = float(f.score)
            geom[i, 5:15] = np.asarray(f.landmarks5, np.float64).reshape(10)
            geom[i, 15] = -1 if tids[i] is None else int(tids[i])
        arrays = {"meta": _json_array(meta), "geom": geom}
        if self._write(self.faces_path(key), arrays):
            self.stats["writes"] += 1

    def _read_faces(self, path: Path, key: FaceCacheKey) -> CacheEntry:
        with np.load(path, allow_pickle=False) as z:
            meta = _json_from(z["meta"])
            geom = z["geom"]
        if meta.get("key") != key.as_dict:
            raise ValueError("key mismatch")
        n = sum(int(f["n_faces"]) for f in meta["frames"])
        backends = meta.get("backends")
        if geom.shape != (n, GEOM_COLS) or geom.dtype != np.float64 or not isinstance(backends, list) or len(backends) != n:
            raise ValueError("face array does not match the frame list")
        if n and not np.isfinite(geom).all():
            raise ValueError("non-finite coordinates")
        frames, k = [], 0
        for f in meta["frames"]:
            faces, tids = [], []
            for _ in range(int(f["n_faces"])):
                g = geom[k]
                faces.append(
                    DetectedFace(box=g[:4].copy(), score=float(g[4]), landmarks5=g[5:15].reshape(5, 2).copy(),
                                 backend=str(backends[k]))
                )
                tids.append(None if g[15] < 0 else int(g[15]))
                k += 1
            t = f.get("time_s")
            frames.append(CachedFrame(int(f["index"]), None if t is None else float(t), faces, tids))
        return CacheEntry(
            meta["media_kind"], int(meta["width"]), int(meta["height"]), frames,
            meta.get("error_code"), meta.get("error"),
        )

    # -- crops ---------------------------------------------------------------------------------
    def get_crops(self, key: FaceCacheKey, spec: Any, n_faces: int) -> CropBundle | None:
        """Cached crops for ``spec`` holding exactly ``n_faces`` crops of ``spec.size``, else None."""
        path = self.crops_path(key, spec)
        if not path.is_file():
            self.stats["crop_misses"] += 1
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = _json_from(z["meta"])
                crops = z["crops"]
            s = int(spec.size)
            if meta.get("key") != key.digest or meta.get("spec") != spec_tag(spec):
                raise ValueError("key mismatch")
            matrices = np.asarray(meta.get("matrices"), dtype=np.float64)
            if crops.dtype != np.uint8 or crops.shape != (n_faces, s, s, 3) or matrices.shape != (n_faces, 2, 3):
                raise ValueError("crop array shapes do not match")
        except Exception as exc:
            log.warning("face cache: discarding unreadable %s (%s)", path, exc)
            self.stats["corrupt"] += 1
            self.stats["crop_misses"] += 1
            self._remove(path)
            return None
        self.stats["crop_hits"] += 1
        return CropBundle(crops, matrices.astype(np.float64))

    def put_crops(self, key: FaceCacheKey, spec: Any, bundle: CropBundle) -> None:
        # matrices as JSON floats (exact round trip); crops uncompressed: zlib saves only ~25 % on
        # photo crops and costs more than the whole remaining cache overhead when reading
        meta = {"key": key.digest, "spec": spec_tag(spec), "matrices": np.asarray(bundle.matrices, np.float64).tolist()}
        arrays = {"meta": _json_array(meta), "crops": np.ascontiguousarray(bundle.crops, dtype=np.uint8)}
        if self._write(self.crops_path(key, spec), arrays):
            self.stats["crop_writes"] += 1

    # -- io ------------------------------------------------------------------------------------
    def _write(self, path: Path, arrays: dict[str, np.ndarray]) -> bool:
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=path.parent)
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **arrays)
            os.replace(tmp, path)
            return True
        except OSError as exc:
            log.warning("face cache: cannot write %s (%s)", path, exc)
            self.stats["write_errors"] += 1
            if tmp:
                self._remove(Path(tmp))
            return False

    @staticmethod
    def _remove(path: Path) -> None:
        try:
            path.unlink()
        except OSError:
            pass


def _json_array(obj: Any) -> np.ndarray:
    return np.frombuffer(json.dumps(obj, sort_keys=True).encode(), dtype=np.uint8)


def _json_from(arr: np.ndarray) -> Any:
    return json.loads(arr.tobytes().decode())


__all__ = [
    "CACHE_VERSION",
    "CacheEntry",
    "CachedFrame",
    "CropBundle",
    "FaceCache",
    "FaceCacheKey",
    "default_cache_dir",
    "describe_face_detector",
    "file_sha256",
    "media_sha256",
    "spec_tag",
]
