"""``make demo``: build sample media from images that installed wheels ship, scan them, report.

Nothing third-party is committed: the astronaut comes from scikit-image, Grace Hopper from
matplotlib's sample data; the forgery (astronaut's face pasted onto Hopper) and the video are made
here, at demo time.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

# The demo's scan settings: one declaration for `facetrust demo` and the README check
# (tests/test_readme_demo.py), so the README's table is the demo's output.
DEMO_SCAN_OPTIONS = {"frames": 12}
VIDEO_FPS, VIDEO_FRAMES, VIDEO_FORGED_FROM = 10, 40, 20  # the video's forged half starts at frame 20 (2.0 s)
# What each sample is, as built below (the README table's "truth" column).
SAMPLE_TRUTH = {
    "astronaut.png": "genuine",
    "grace_hopper.jpg": "genuine",
    "forged_astronaut_face_on_hopper.jpg": "forged",
    "coffee_no_face.png": "no face",
    "not_an_image.jpg": "text file",
    "hopper_half_forged.mp4": f"forged from {VIDEO_FORGED_FROM / VIDEO_FPS:.1f} s",
}


def _sample_images() -> dict[str, np.ndarray]:
    import matplotlib.cbook as cbook
    from PIL import Image

    try:
        import skimage.data as skd
    except ImportError as exc:  # pragma: no cover
        raise SystemExit("the demo needs scikit-image (pip install -e .[dev])") from exc
    hopper = np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB"))
    return {"astronaut": skd.astronaut(), "hopper": hopper, "coffee": skd.coffee()}


def paste_face(target: np.ndarray, donor: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Paste ``donor``'s face onto ``target``'s face: a simple face swap for the demo.

    Similarity-aligns the donor face onto the target's five landmarks, matches colour statistics
    inside an elliptical face mask (Lab mean/std transfer) and alpha-blends through a feathered
    mask. Returns (forged image, soft mask in [0, 1]).
    """
    from .faces import create_face_detector, estimate_similarity

    det = create_face_detector()
    ft, fd = det.detect(target), det.detect(donor)
    if not ft or not fd:
        raise ValueError("both images need a detectable face")
    t, d = ft[0], fd[0]
    m = estimate_similarity(d.landmarks5, t.landmarks5)
    h, w = target.shape[:2]
    warped = cv2.warpAffine(donor, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    lm = t.landmarks5
    eye_dist = float(np.linalg.norm(lm[1] - lm[0]))
    centre = (lm[:2].mean(0) * 0.45 + lm[3:].mean(0) * 0.55)
    angle = float(np.degrees(np.arctan2(lm[1, 1] - lm[0, 1], lm[1, 0] - lm[0, 0])))
    mask = np.zeros((h, w), np.float32)
    cv2.ellipse(mask, (int(centre[0]), int(centre[1])), (int(eye_dist * 1.05), int(eye_dist * 1.35)),
                angle, 0, 360, 1.0, -1)
    k = max(3, int(eye_dist * 0.35) | 1)
    mask = cv2.GaussianBlur(mask, (k, k), 0)
    inside = mask > 0.5
    lab_t = cv2.cvtColor(target, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab_w = cv2.cvtColor(warped, cv2.COLOR_RGB2LAB).astype(np.float32)
    mu_t, sd_t = lab_t[inside].mean(0), lab_t[inside].std(0) + 1e-3
    mu_w, sd_w = lab_w[inside].mean(0), lab_w[inside].std(0) + 1e-3
    lab_w = (lab_w - mu_w) / sd_w * sd_t + mu_t
    warped = cv2.cvtColor(np.clip(lab_w, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    out = warped.astype(np.float32) * mask[..., None] + target.astype(np.float32) * (1 - mask[..., None])
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), mask


def write_video(path: Path, frames: list[np.ndarray], fps: int = 10) -> None:
    """Encode RGB frames to H.264 MP4 (MPEG-4 part 2 when the wheel lacks libx264)."""
    import av

    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w - w % 2, h - h % 2, "yuv420p"
        for rgb in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[: h - h % 2, : w - w % 2]), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def build_samples(out: Path) -> list[Path]:
    """Write the demo media to ``out`` and return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    imgs = _sample_images()
    forged, _ = paste_face(imgs["hopper"], imgs["astronaut"])
    paths = []

    def save(name: str, rgb: np.ndarray, params: list[int] | None = None) -> None:
        p = out / name
        cv2.imwrite(str(p), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params or [])
        paths.append(p)

    save("astronaut.png", imgs["astronaut"])
    save("grace_hopper.jpg", imgs["hopper"], [cv2.IMWRITE_JPEG_QUALITY, 92])
    save("forged_astronaut_face_on_hopper.jpg", forged, [cv2.IMWRITE_JPEG_QUALITY, 92])
    save("coffee_no_face.png", imgs["coffee"])
    (out / "not_an_image.jpg").write_text("this is a text file with a .jpg name\n")
    paths.append(out / "not_an_image.jpg")

    # A 4 s video panning over Hopper; from 2 s on, her face is the forged one.
    frames = []
    h, w = imgs["hopper"].shape[:2]
    cw, ch = 448, 512
    for i in range(VIDEO_FRAMES):
        src = imgs["hopper"] if i < VIDEO_FORGED_FROM else forged
        dx = int((w - cw) * i / (VIDEO_FRAMES - 1))
        frames.append(src[(h - ch) // 2 : (h - ch) // 2 + ch, dx : dx + cw])
    video = out / "hopper_half_forged.mp4"
    write_video(video, frames, fps=VIDEO_FPS)
    paths.append(video)
    return paths


def scan_samples(samples: list[Path]):
    """The demo's scan of its samples (a ScanReport): what `facetrust demo` reports."""
    from . import api

    return api.scan_paths([str(p) for p in samples], **DEMO_SCAN_OPTIONS)


def run_demo(out: Path) -> int:
    from .report import write_csv, write_html, write_json

    samples = build_samples(out / "samples")
    report = scan_samples(samples)
    write_json(report, out / "report.json")
    write_csv(report, out / "report.csv")
    write_html(report, out / "report.html")
    for r in report.results:
        p = "-" if r.fake_probability is None else f"{r.fake_probability:.3f}"
        print(f"{r.verdict:>15}  p(fake)={p:>6}  {Path(r.path).name}  {r.error or r.reason or ''}")
    print(f"report: {out / 'report.html'} (JSON: {out / 'report.json'}, CSV: {out / 'report.csv'})")
    return 0
