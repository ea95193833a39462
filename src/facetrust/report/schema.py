"""The one result schema: media -> frames -> faces, with tracks for video.

Serialised to versioned JSON by :func:`to_json_dict`; arrays meant for the HTML report (heatmaps,
thumbnails) live in ``ArtifactStore`` fields marked ``repr=False`` and never enter the JSON.
Stable contract: ``{"results": [{"path", "verdict", "fake_probability", "faces", "error", ...}]}``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

SCHEMA_VERSION = "1.3"  # 1.1: FaceResult.quality and .decisive (the face-quality gate); 1.2: heatmap_peak,
# MediaResult.notes and .provenance, and each face's ``labels`` (written, never read back: see report.labels);
# 1.3: provenance.c2pa (report.c2pa_manifest), faces[].heatmap when asked for (scan --heatmaps)

Verdict = Literal["real", "fake", "not_applicable", "error"]
VERDICTS = ("real", "fake", "not_applicable", "error")


@dataclass
class DetectorScore:
    detector: str
    version: str
    fake_probability: float
    evidence: dict[str, float] = field(default_factory=dict)
    family_probabilities: dict[str, float] | None = None


@dataclass
class FaceResult:
    frame_index: int  # index of the frame in the media (0 for an image)
    face_index: int  # index of the face within its frame
    box: list[float]  # x0, y0, x1, y1 in frame pixels
    landmarks: list[list[float]]  # 5 x [x, y] frame pixels
    detection_score: float
    fake_probability: float | None
    verdict: Verdict
    time_s: float | None = None
    track_id: int | None = None
    scores: list[DetectorScore] = field(default_factory=list)
    family: str | None = None  # most likely forgery family when a detector reports families
    family_probabilities: dict[str, float] | None = None
    align_matrix: list[list[float]] | None = None  # 2x3 frame -> crop
    crop_size: int | None = None
    heatmap_source: str | None = None  # detector whose heatmap is shown (crop of align_matrix)
    # Face quality (facetrust.fusion.quality): confidence, size_px, landmarks, sharpness, failed, passed.
    quality: dict[str, Any] | None = None
    decisive: bool = True  # False: below the quality gate, reported but not deciding the verdict
    # Where the shown heatmap peaks (see heatmap_peak()): value, x, y (fractions of the crop), region.
    heatmap_peak: dict[str, Any] | None = None
    # In-memory only (HTML report): heatmap in crop coordinates, float32 [0, 1].
    heatmap: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.heatmap_peak is None and self.heatmap is not None:
            self.heatmap_peak = heatmap_peak(self.heatmap)


_ROWS, _COLS = ("upper", "middle", "lower"), ("left", "centre", "right")


def heatmap_peak(heatmap: np.ndarray) -> dict[str, Any] | None:
    """The heatmap's maximum: its value, its position as fractions of the face crop (x right, y down;
    the pixel centre, two decimals, as the explanation quotes them) and the crop third it lies in
    ("upper left" ... "lower right", as seen in the image). None for an empty or all-NaN map."""
    h = np.asarray(heatmap, dtype=np.float32)
    if h.ndim != 2 or h.size == 0 or not np.isfinite(h).any():
        return None
    h = np.where(np.isfinite(h), h, -np.inf)
    y, x = np.unravel_index(int(np.argmax(h)), h.shape)
    fx, fy = (int(x) + 0.5) / h.shape[1], (int(y) + 0.5) / h.shape[0]
    row, col = _ROWS[min(2, int(fy * 3))], _COLS[min(2, int(fx * 3))]
    region = "centre" if (row, col) == ("middle", "centre") else f"{row} {col}"
    return {"value": round(float(h[y, x]), 2), "x": round(float(fx), 2), "y": round(float(fy), 2), "region": region}


@dataclass
class FrameResult:
    index: int
    time_s: float | None
    n_faces: int
    fake_probability: float | None  # max over the frame's faces that pass the quality gate


@dataclass
class TrackResult:
    track_id: int
    frame_indices: list[int]
    fake_probability: float | None  # aggregated over the track's frames (see `aggregation`)
    verdict: Verdict
    frame_probabilities: list[float] = field(default_factory=list)
    segments: list[list[float]] = field(default_factory=list)  # [start_s, end_s] above threshold


@dataclass
class MediaResult:
    path: str
    verdict: Verdict
    fake_probability: float | None
    faces: list[FaceResult] = field(default_factory=list)
    error: str | None = None  # human-readable reason for "error"
    error_type: str | None = None  # stable code (facetrust.errors.*.code)
    reason: str | None = None  # why "not_applicable"
    media_type: str | None = None  # "image" | "video" | "array"
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    duration_s: float | None = None
    n_frames_total: int | None = None
    frames: list[FrameResult] = field(default_factory=list)
    tracks: list[TrackResult] = field(default_factory=list)
    detectors: list[str] = field(default_factory=list)
    threshold: float = 0.5
    aggregation: str | None = None
    explanation: str = ""
    # Plain warnings about how the scan was limited (e.g. the per-frame face cap was reached).
    notes: list[str] = field(default_factory=list)
    # What the file declares about itself (report.provenance: EXIF, XMP, PNG text, C2PA); kept apart from
    # the detector probability, never evidence either way. None: not examined (arrays, videos).
    provenance: dict[str, Any] | None = None
    elapsed_s: float | None = None
    # In-memory only (HTML report): a downscaled RGB preview per frame index.
    previews: dict[int, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    preview_scale: float = field(default=1.0, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.verdict in ("real", "fake")


@dataclass
class ScanReport:
    results: list[MediaResult]
    settings: dict[str, Any] = field(default_factory=dict)
    facetrust_version: str = ""
    created: str = ""
    schema_version: str = SCHEMA_VERSION

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(VERDICTS, 0)
        for r in self.results:
            out[r.verdict] += 1
        return out


_IN_MEMORY = {"heatmap", "previews", "preview_scale"}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name not in _IN_MEMORY
        }
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):  # then re-check: a numpy NaN becomes a Python NaN
        return _plain(value.item())
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


HEATMAP_DECIMALS = 3  # heatmap values in the JSON (scan --heatmaps): 0.123


def heatmap_rows(heatmap: Any) -> list[list[float]] | None:
    """A face's heatmap as JSON rows (top to bottom over the face crop, values in [0, 1] rounded to
    HEATMAP_DECIMALS), at the detector's own resolution; None when there is none."""
    if heatmap is None:
        return None
    heat = np.squeeze(np.asarray(heatmap, dtype=np.float64))
    if heat.ndim != 2 or heat.size == 0:
        return None
    heat = np.clip(np.nan_to_num(heat, nan=0.0), 0.0, 1.0)
    return np.round(heat, HEATMAP_DECIMALS).tolist()


def to_json_dict(report: ScanReport, *, heatmaps: bool = False) -> dict[str, Any]:
    """The report as JSON data; each face also gets ``labels`` (report.labels.face_labels): the words
    the web page shows, so it applies the same rules as the HTML report and the CLI. ``heatmaps``:
    each face also gets ``heatmap`` (:func:`heatmap_rows`; the crop is ``align_matrix``/``crop_size``)."""
    from .labels import face_labels

    data = _plain(report)
    for r, rd in zip(report.results, data["results"]):
        for f, fd in zip(r.faces, rd["faces"]):
            fd["labels"] = _plain(face_labels(f))
            if heatmaps:
                fd["heatmap"] = heatmap_rows(f.heatmap)
    return data


def _build(cls: type, data: dict[str, Any]) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def from_json_dict(data: dict[str, Any]) -> ScanReport:
    """Inverse of :func:`to_json_dict` (unknown keys are ignored so newer minors still load)."""
    major = str(data.get("schema_version", SCHEMA_VERSION)).split(".")[0]
    if major != SCHEMA_VERSION.split(".")[0]:
        raise ValueError(f"unsupported schema_version {data.get('schema_version')!r}")
    results = []
    for r in data.get("results", []):
        r = dict(r)
        faces = []
        for f in r.pop("faces", []) or []:
            f = dict(f)
            f["scores"] = [_build(DetectorScore, s) for s in f.get("scores", []) or []]
            faces.append(_build(FaceResult, f))
        frames = [_build(FrameResult, x) for x in r.pop("frames", []) or []]
        tracks = [_build(TrackResult, x) for x in r.pop("tracks", []) or []]
        results.append(_build(MediaResult, {**r, "faces": faces, "frames": frames, "tracks": tracks}))
    return ScanReport(
        results=results,
        settings=data.get("settings", {}),
        facetrust_version=data.get("facetrust_version", ""),
        created=data.get("created", ""),
        schema_version=data.get("schema_version", SCHEMA_VERSION),
    )
