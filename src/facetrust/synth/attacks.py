"""Presentation attacks synthesised from genuine photos, and the one camera pipeline both classes pass.

A genuine photo is the *scene*. The bona-fide sample is the scene seen by a camera
(:func:`camera_capture`). An attack sample is the scene rendered on a presentation attack
instrument, placed in front of a background, and seen by the same camera:

* ``print``: halftone dot screens per ink (rendered 2x finer than the camera, then area-sampled, so
  the dots alias into moire as a real recapture does), the paper's gamut (inks never reach black,
  paper white is warm, saturation drops), paper grain, a white paper margin with its edge, and a
  bend (a cylindrical warp with shading along it);
* ``screen``: the display's RGB sub-pixel grid (3x finer than the camera, slightly rotated, then
  area-sampled: moire), the display's gamut (raised black level, blue-ish white, gamma), a glare
  blob, and a dark bezel around the picture;
* ``recapture``: a print or screen held so close that it fills the view (no edge in sight): only the
  medium's gamut, its fine structure, defocus blur and an exposure error remain.

Every attack then goes through :func:`camera_capture` with freshly drawn settings (sensor noise,
blur, exposure, white balance, JPEG), exactly like the bona-fide class, so the camera is no cue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

SPECIES = ("print", "screen", "recapture")
# medium structure is drawn this much finer than the camera's pixels (screen, print), then area-sampled
SUPERSAMPLE = {"screen": 3, "print": 2}


@dataclass(frozen=True)
class CameraSettings:
    noise_sigma: float  # grey levels at mid-grey (shot noise scales with sqrt of the signal)
    blur_sigma: float  # px, the lens
    gain: float  # exposure multiplier
    gamma: float
    white_balance: tuple[float, float, float]
    jpeg_quality: int

    @classmethod
    def draw(cls, rng: np.random.Generator) -> "CameraSettings":
        return cls(
            noise_sigma=float(rng.uniform(0.5, 4.0)),
            blur_sigma=float(rng.uniform(0.0, 0.9)),
            gain=float(rng.uniform(0.85, 1.15)),
            gamma=float(rng.uniform(0.9, 1.1)),
            white_balance=tuple(float(v) for v in rng.uniform(0.94, 1.06, 3)),
            jpeg_quality=int(rng.integers(60, 96)),
        )


def camera_capture(image: np.ndarray, rng: np.random.Generator, settings: CameraSettings | None = None) -> np.ndarray:
    """What a camera makes of ``image`` (RGB uint8): lens blur, exposure, white balance, sensor
    noise, JPEG. The same function for the bona-fide class and for every attack."""
    s = settings or CameraSettings.draw(rng)
    x = image.astype(np.float32) / 255.0
    if s.blur_sigma > 0.05:
        x = cv2.GaussianBlur(x, (0, 0), s.blur_sigma)
    x = np.clip(x * s.gain * np.asarray(s.white_balance, np.float32), 0.0, 1.0) ** s.gamma
    noise = rng.standard_normal(x.shape).astype(np.float32) * (s.noise_sigma / 255.0) * np.sqrt(x / 0.5 + 0.05)
    x = np.clip((x + noise) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(x, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, s.jpeg_quality])
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


# ------------------------------------------------------------------------------- the instruments


def halftone(rgb: np.ndarray, cell: float, rng: np.random.Generator) -> np.ndarray:
    """Per-ink (CMY + K) clustered-dot halftone of a float RGB image in [0, 1] with ``cell``-pixel
    screens at the classic angles (15, 75, 0, 45 degrees): each pixel is inked where the ink's
    coverage exceeds the screen's dot profile."""
    h, w = rgb.shape[:2]
    k = 1.0 - rgb.max(axis=2)
    cmy = (1.0 - rgb - k[..., None]) / np.maximum(1.0 - k[..., None], 1e-3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    phase = rng.uniform(0, cell, 2)
    inked = []
    for coverage, angle in ((cmy[..., 0], 15), (cmy[..., 1], 75), (cmy[..., 2], 0), (k, 45)):
        a = math.radians(angle + rng.uniform(-3, 3))
        u = (xx * math.cos(a) + yy * math.sin(a) + phase[0]) * (2 * math.pi / cell)
        v = (-xx * math.sin(a) + yy * math.cos(a) + phase[1]) * (2 * math.pi / cell)
        dot = 0.5 - 0.25 * (np.cos(u) + np.cos(v))  # 0 at the dot centre, 1 between dots
        inked.append((coverage > dot).astype(np.float32))
    c, m, y, kk = inked
    out = np.stack([(1 - c), (1 - m), (1 - y)], axis=2) * (1 - kk[..., None])
    return out


def paper_gamut(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Inks on paper: blacks lifted, a warm paper white, less saturation."""
    black = rng.uniform(0.08, 0.2)
    white = np.array([rng.uniform(0.9, 0.98), rng.uniform(0.88, 0.96), rng.uniform(0.8, 0.92)], np.float32)
    grey = x.mean(axis=2, keepdims=True)
    x = grey + (x - grey) * rng.uniform(0.55, 0.85)
    return black + x * (white - black)


def paper_grain(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Multiplicative paper texture: fibres (coarse) and grain (fine)."""
    h, w = shape
    coarse = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), rng.uniform(3, 8))
    fine = rng.standard_normal((h, w)).astype(np.float32)
    g = 1.0 + rng.uniform(0.02, 0.05) * coarse / (coarse.std() + 1e-6) + rng.uniform(0.01, 0.03) * fine
    return g[..., None]


def subpixel_grid(shape: tuple[int, int], pitch: float, rng: np.random.Generator) -> np.ndarray:
    """A display's RGB stripe mask at ``pitch`` px per pixel (rows separated by a dark gap)."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = math.radians(rng.uniform(-4, 4))
    u = (xx * math.cos(a) + yy * math.sin(a)) / pitch
    v = (-xx * math.sin(a) + yy * math.cos(a)) / pitch
    sub = np.floor((u - np.floor(u)) * 3).astype(np.int64)  # which sub-pixel stripe
    mask = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        mask[..., c] = sub == c
    row_gap = ((v - np.floor(v)) < rng.uniform(0.08, 0.2)).astype(np.float32)
    return mask * 3.0 * (1.0 - row_gap[..., None]) * rng.uniform(0.9, 1.0)


def screen_gamut(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A display seen by a camera: raised black (backlight), bluish white, gamma and contrast shift."""
    black = rng.uniform(0.04, 0.14)
    white = np.array([rng.uniform(0.85, 0.97), rng.uniform(0.9, 1.0), rng.uniform(0.95, 1.0)], np.float32)
    x = np.clip(x, 0, 1) ** rng.uniform(0.8, 1.25)
    return black + x * (white - black)


def glare(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """An additive specular blob of the room's light on glass."""
    h, w = shape
    cy, cx = rng.uniform(0, h), rng.uniform(0, w)
    sy, sx = rng.uniform(0.1, 0.35) * h, rng.uniform(0.1, 0.35) * w
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    blob = np.exp(-(((yy - cy) / sy) ** 2 + ((xx - cx) / sx) ** 2))
    return (rng.uniform(0.15, 0.6) * blob)[..., None]


def _supersampled(content: np.ndarray, size: tuple[int, int], factor: int) -> np.ndarray:
    """``content`` (float RGB) resized to ``factor`` x ``size`` (w, h)."""
    w, h = size
    return cv2.resize(content, (w * factor, h * factor), interpolation=cv2.INTER_LINEAR)


def _camera_sample(fine: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The camera's pixels integrate the finer medium: area sampling (this is where moire appears)."""
    return cv2.resize(fine, size, interpolation=cv2.INTER_AREA)


def render_print(content: np.ndarray, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """The photo printed and seen at camera resolution ``size`` (w, h): float RGB in [0, 1]."""
    ss = SUPERSAMPLE["print"]
    fine = _supersampled(content, size, ss)
    cell = rng.uniform(1.2, 2.5) * ss  # halftone cell in fine pixels (1.2-2.5 camera px)
    dots = halftone(fine, cell, rng)
    mix = rng.uniform(0.35, 1.0)  # photo prints (dye) are nearer continuous tone than laser prints
    x = mix * dots + (1 - mix) * fine
    x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.3, 0.8) * ss / 2)  # ink spread
    x = paper_gamut(x, rng) * paper_grain(x.shape[:2], rng)
    return np.clip(_camera_sample(x, size), 0, 1)


def render_screen(content: np.ndarray, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """The photo on a display seen at camera resolution ``size`` (w, h): float RGB in [0, 1]."""
    ss = SUPERSAMPLE["screen"]
    fine = _supersampled(content, size, ss)
    pitch = rng.uniform(1.0, 2.2) * ss  # display pixel in fine pixels
    contrast = rng.uniform(0.12, 0.6)  # how sharply the camera resolves the grid (focus, distance)
    x = fine * (1 - contrast + contrast * subpixel_grid(fine.shape[:2], pitch, rng))
    x = _camera_sample(x, size)
    x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.2, 0.6))
    x = screen_gamut(x, rng) + glare(x.shape[:2], rng)
    return np.clip(x, 0, 1)


def bend(medium: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A sheet bent around a vertical axis: horizontal compression toward the sides, shading."""
    h, w = medium.shape[:2]
    curvature = rng.uniform(0.05, 0.25)
    xs = np.linspace(-1, 1, w, dtype=np.float32)
    src_x = np.sin(xs * (math.pi / 2) * (1 - curvature)) / math.sin((math.pi / 2) * (1 - curvature))
    map_x = np.tile(((src_x + 1) / 2 * (w - 1))[None, :], (h, 1)).astype(np.float32)
    map_y = np.tile(np.arange(h, dtype=np.float32)[:, None], (1, w))
    out = cv2.remap(medium, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    shade = 1.0 - rng.uniform(0.05, 0.3) * np.abs(xs) ** 2 * (1 if rng.random() < 0.5 else -0.3)
    return np.clip(out * shade[None, :, None], 0, 1)


def background(shape: tuple[int, int], rng: np.random.Generator, scene: np.ndarray | None = None) -> np.ndarray:
    """What is behind the held-up medium: the (blurred, shifted) scene itself, or a lit wall."""
    h, w = shape
    if scene is not None and rng.random() < 0.5:
        # the room, out of focus (blurred enough that no face in it is found before the medium's)
        bg = cv2.resize(scene, (w, h)).astype(np.float32) / 255.0
        bg = np.roll(bg, (int(rng.integers(-h // 3, h // 3)), int(rng.integers(-w // 3, w // 3))), axis=(0, 1))
        return cv2.GaussianBlur(bg, (0, 0), rng.uniform(8, 16)) * rng.uniform(0.6, 1.0)
    base = rng.uniform(0.2, 0.9, 3).astype(np.float32)
    ramp = np.linspace(rng.uniform(0.7, 1.0), rng.uniform(0.7, 1.0), h, dtype=np.float32)[:, None, None]
    return np.clip(base * ramp * np.ones((h, w, 1), np.float32), 0, 1)


def _place(canvas: np.ndarray, medium: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Paste ``medium`` into ``canvas`` under a small random rotation and perspective."""
    h, w = canvas.shape[:2]
    mh, mw = medium.shape[:2]
    cx = rng.uniform(0.35, 0.65) * w
    cy = rng.uniform(0.4, 0.6) * h
    angle = math.radians(rng.uniform(-8, 8))
    corners = np.array([[-mw / 2, -mh / 2], [mw / 2, -mh / 2], [mw / 2, mh / 2], [-mw / 2, mh / 2]], np.float32)
    corners += rng.uniform(-0.04, 0.04, (4, 2)).astype(np.float32) * [mw, mh]  # perspective
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]], np.float32)
    dst = corners @ rot.T + [cx, cy]
    src = np.array([[0, 0], [mw, 0], [mw, mh], [0, mh]], np.float32)
    m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    warped = cv2.warpPerspective(medium, m, (w, h), flags=cv2.INTER_LINEAR)
    alpha = cv2.warpPerspective(np.ones((mh, mw), np.float32), m, (w, h), flags=cv2.INTER_LINEAR)[..., None]
    return canvas * (1 - alpha) + warped * alpha


def recapture_degrade(x: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """Defocus / shake blur and an exposure error of a camera pointed at a medium."""
    if rng.random() < 0.7:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.6, 2.2) * strength)
    else:
        n = int(rng.integers(3, 9))
        kernel = np.zeros((n, n), np.float32)
        kernel[n // 2, :] = 1.0 / n
        rot = cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), rng.uniform(0, 180), 1.0)
        kernel = cv2.warpAffine(kernel, rot, (n, n))
        x = cv2.filter2D(x, -1, kernel / max(kernel.sum(), 1e-6))
    exposure = rng.choice([rng.uniform(0.6, 0.85), rng.uniform(1.12, 1.35)])
    return np.clip(x * exposure, 0, 1)


@dataclass
class SynthSample:
    image: np.ndarray  # RGB uint8, the scene's size
    species: str  # "bona_fide" or one of SPECIES
    camera: CameraSettings


def present(scene: np.ndarray, species: str, rng: np.random.Generator) -> np.ndarray:
    """The scene (RGB uint8) shown on the ``species`` instrument in front of the camera, before the
    camera's own processing: RGB uint8 of the scene's size."""
    h, w = scene.shape[:2]
    content = scene.astype(np.float32) / 255.0
    if species == "recapture":
        medium = (render_print if rng.random() < 0.5 else render_screen)(content, (w, h), rng)
        zoom = rng.uniform(1.0, 1.15)  # the medium fills the view: its borders are outside it
        m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-3, 3), zoom)
        medium = cv2.warpAffine(medium, m, (w, h), borderMode=cv2.BORDER_REFLECT_101)
        out = recapture_degrade(medium, rng)
    elif species in ("print", "screen"):
        scale = rng.uniform(0.5, 0.8)
        pw, ph = max(16, int(w * scale)), max(16, int(h * scale))
        if species == "print":
            picture = render_print(content, (pw, ph), rng)
            margin = int(rng.uniform(0.03, 0.1) * max(pw, ph))
            paper = paper_gamut(np.ones((ph + 2 * margin, pw + 2 * margin, 3), np.float32), rng)
            paper = paper * paper_grain(paper.shape[:2], rng)
            paper[margin : margin + ph, margin : margin + pw] = picture
            medium = bend(np.clip(paper, 0, 1), rng) if rng.random() < 0.7 else paper
        else:
            picture = render_screen(content, (pw, ph), rng)
            bezel = int(rng.uniform(0.02, 0.09) * max(pw, ph))
            colour = rng.uniform(0.02, 0.2) if rng.random() < 0.8 else rng.uniform(0.7, 0.9)
            medium = np.full((ph + 2 * bezel, pw + 2 * bezel, 3), colour, np.float32)
            medium[bezel : bezel + ph, bezel : bezel + pw] = picture
        out = _place(background((h, w), rng, scene), medium, rng)
        out = recapture_degrade(out, rng, strength=0.5) if rng.random() < 0.5 else out
    else:
        raise ValueError(f"unknown attack species {species!r}; choose from {SPECIES}")
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


def synthesize(scene: np.ndarray, species: str, rng: np.random.Generator) -> SynthSample:
    """One sample from a genuine ``scene``: ``species`` "bona_fide" is the scene through the camera;
    an attack species is the scene presented on that instrument, then through the camera."""
    camera = CameraSettings.draw(rng)
    shown = scene if species == "bona_fide" else present(scene, species, rng)
    return SynthSample(camera_capture(shown, rng, camera), species, camera)
