"""A realistic fabricated ScanReport shared by the report tests.

Frames are 1024x1024 "camera" pixels; previews are skimage's astronaut (512x512) at
preview_scale 0.5, so every box/landmark/matrix below is in frame pixels as the pipeline stores it.
The align matrices come from the package's own crop function (estimate_similarity + CropSpec).
"""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from facetrust.faces.align import CropSpec, estimate_similarity
from facetrust.report import (
    DetectorScore,
    FaceResult,
    FrameResult,
    MediaResult,
    ScanReport,
    TrackResult,
)

CROP = CropSpec(size=224, margin=0.25)
SCALE = 0.5  # preview pixels per frame pixel


def gaussian_blob(h: int, w: int, cy: float, cx: float, sigma: float) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma**2)).astype(np.float32)


def face_geometry(box_preview: tuple[float, float, float, float]) -> dict:
    """Box, 5 landmarks and frame->crop matrix (frame pixels) for a face box given in preview px."""
    x0, y0, x1, y1 = box_preview
    w, h = x1 - x0, y1 - y0
    rel = np.array([[0.30, 0.38], [0.70, 0.38], [0.50, 0.56], [0.35, 0.74], [0.65, 0.74]])
    lm_preview = np.stack([x0 + rel[:, 0] * w, y0 + rel[:, 1] * h], axis=1)
    lm = lm_preview / SCALE
    matrix = estimate_similarity(lm, CROP.template())
    return {
        "box": [float(v) / SCALE for v in box_preview],
        "landmarks": lm.round(2).tolist(),
        "align_matrix": matrix.tolist(),
        "crop_size": CROP.size,
    }


def _image_result() -> MediaResult:
    preview = data.astronaut()  # (512, 512, 3) uint8 RGB
    g0 = face_geometry((168.0, 62.0, 282.0, 190.0))  # the astronaut's face
    g1 = face_geometry((300.0, 360.0, 420.0, 480.0))  # a second (fabricated) face on the helmet
    f0 = FaceResult(
        frame_index=0,
        face_index=0,
        detection_score=0.98,
        fake_probability=0.83,
        verdict="fake",
        scores=[
            DetectorScore(
                "noise_residual",
                "1.0",
                0.91,
                evidence={
                    "residual_ratio": 2.4137,
                    "inside_energy": 0.0123456,
                    "boundary_gradient": 17.25,
                    "outside_energy": 0.00511,
                },
            ),
            DetectorScore(
                "blend_boundary",
                "0.3",
                0.62,
                evidence={"seam_score": 0.4444},
                family_probabilities={"faceswap": 0.7, "reenactment": 0.2, "synthesis": 0.1},
            ),
        ],
        family="faceswap",
        family_probabilities={"faceswap": 0.7, "reenactment": 0.2, "synthesis": 0.1},
        heatmap=gaussian_blob(56, 56, 28.0, 28.0, 9.0),
        **g0,
    )
    f1 = FaceResult(
        frame_index=0,
        face_index=1,
        detection_score=0.71,
        fake_probability=0.12,
        verdict="real",
        scores=[DetectorScore("noise_residual", "1.0", 0.12, evidence={"residual_ratio": 0.93})],
        heatmap=None,
        **g1,
    )
    return MediaResult(
        path="photos/astronaut, \"team\".png",
        verdict="fake",
        fake_probability=0.83,
        faces=[f0, f1],
        media_type="image",
        width=1024,
        height=1024,
        frames=[FrameResult(index=0, time_s=None, n_faces=2, fake_probability=0.83)],
        detectors=["noise_residual", "blend_boundary"],
        threshold=0.5,
        aggregation="max over faces",
        elapsed_s=0.734,
        previews={0: preview},
        preview_scale=SCALE,
    )


def _video_result() -> MediaResult:
    fps = 25.0
    indices = list(range(0, 50, 5))  # 10 analysed frames
    rng = np.random.default_rng(7)
    p0 = [round(float(v), 4) for v in np.clip(np.linspace(0.2, 0.9, len(indices)) + rng.normal(0, 0.03, len(indices)), 0, 1)]
    idx1 = indices[4:]
    p1 = [round(float(v), 4) for v in np.clip(0.15 + rng.normal(0, 0.03, len(idx1)), 0, 1)]
    small = data.astronaut()[::2, ::2].copy()  # 256x256 preview of a 1024x1024 frame: scale 0.25
    g0 = face_geometry((168.0, 62.0, 282.0, 190.0))
    faces = []
    for k, i in enumerate(indices):
        faces.append(
            FaceResult(
                frame_index=i, face_index=0, detection_score=0.95, fake_probability=p0[k],
                verdict="fake" if p0[k] >= 0.5 else "real", time_s=i / fps, track_id=0,
                scores=[DetectorScore("noise_residual", "1.0", p0[k], evidence={"residual_ratio": 1.0 + p0[k]})],
                heatmap=gaussian_blob(32, 32, 16.0, 16.0, 6.0) if i == indices[-1] else None,
                **g0,
            )
        )
    g1 = face_geometry((300.0, 360.0, 420.0, 480.0))
    for k, i in enumerate(idx1):
        faces.append(
            FaceResult(
                frame_index=i, face_index=1, detection_score=0.8, fake_probability=p1[k],
                verdict="real", time_s=i / fps, track_id=1,
                scores=[DetectorScore("noise_residual", "1.0", p1[k])], **g1,
            )
        )
    frames = [
        FrameResult(index=i, time_s=i / fps, n_faces=1 + (i in idx1),
                    fake_probability=max([p0[k]] + ([p1[idx1.index(i)]] if i in idx1 else [])))
        for k, i in enumerate(indices)
    ]
    above = [indices[k] / fps for k in range(len(indices)) if p0[k] >= 0.5]
    tracks = [
        TrackResult(track_id=0, frame_indices=indices, fake_probability=0.71, verdict="fake",
                    frame_probabilities=p0, segments=[[above[0], above[-1] + 5 / fps]]),
        TrackResult(track_id=1, frame_indices=idx1, fake_probability=0.16, verdict="real",
                    frame_probabilities=p1, segments=[]),
    ]
    # Scale 0.25 for these previews (the shared 0.5 geometry is in frame px, so it still holds).
    return MediaResult(
        path="clips/interview.mp4", verdict="fake", fake_probability=0.71, faces=faces,
        media_type="video", width=1024, height=1024, fps=fps, duration_s=2.0, n_frames_total=50,
        frames=frames, tracks=tracks, detectors=["noise_residual"], threshold=0.5,
        aggregation="max over tracks of the mean frame probability", elapsed_s=3.5,
        previews={indices[-1]: small, indices[5]: small.copy()}, preview_scale=0.25,
    )


def _error_result() -> MediaResult:
    return MediaResult(
        path="uploads/<script>alert('x')</script>.jpg",
        verdict="error",
        fake_probability=None,
        error="truncated JPEG: <script>alert(1)</script> premature end of data",
        error_type="corrupt_media",
        media_type=None,
        elapsed_s=0.01,
    )


def _not_applicable_result() -> MediaResult:
    return MediaResult(
        path="photos/landscape.jpg",
        verdict="not_applicable",
        fake_probability=None,
        reason="no face detected (min_face_size=40 px)",
        media_type="image",
        width=640,
        height=480,
        frames=[FrameResult(index=0, time_s=None, n_faces=0, fake_probability=None)],
        detectors=["noise_residual"],
        elapsed_s=0.2,
    )


@pytest.fixture()
def image_result() -> MediaResult:
    return _image_result()


@pytest.fixture()
def video_result() -> MediaResult:
    return _video_result()


@pytest.fixture()
def report() -> ScanReport:
    return ScanReport(
        results=[_image_result(), _video_result(), _error_result(), _not_applicable_result()],
        settings={"detectors": ["noise_residual", "blend_boundary"], "threshold": 0.5,
                  "note": "<b>user</b> & co"},
        facetrust_version="0.1.0",
        created="2024-05-01T12:00:00+00:00",
    )
