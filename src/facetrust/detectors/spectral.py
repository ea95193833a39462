"""``spectral``: traces of up-sampling (GAN / decoder fingerprints) in the face's pixel grid.

Generators and autoencoder decoders build a face at low resolution and up-sample it (nearest,
bilinear, pixel-shuffle or transposed convolutions). Up-sampling by 2 or 4 leaves a *period-2/4
structure* in the pixel grid (interpolated pixels differ less from their neighbours than copied
ones; uneven transposed-conv overlap adds a checkerboard) and a *deficit of energy near Nyquist*.
This cue measures both on the face at **native resolution** in the frame: the aligned crop is
resampled by a non-integer factor and rotated, which would smear the pixel-grid periodicity away.

* **Periodic SNR on the frame's 8x8 grid.** Four maps: horizontal and vertical luminance
  differences ``dx, dy`` (signed: additive checkerboards) and ``|dx|, |dy|`` clipped at 24 grey
  levels (interpolation periodicity; Popescu & Farid 2005, Kirchner 2008). Each map is cut into the
  cells of the frame's 8x8 grid; ``C_i = DFT8(cell i)``, the periodic part ``T = mean_i C_i`` and
  the per-bin ``snr_k = N |T_k|^2 / mean_i |C_i,k - T_k|^2``, which is ~1 for stationary content
  whose spectrum is smooth on a 1/8 cycle/px scale (white noise, natural images' differences; a
  steep spectrum leaks into the 8-point DFT and gives < 1) and grows with N for a periodic
  component. Averaged over the maps:
  ``nyquist_snr`` = log mean SNR at the period-2 bins (4,0), (0,4), (4,4); ``period24_snr`` at
  all period-2/4 bins (both indices even); ``grid8_snr`` at the bins only a period-8 structure
  (JPEG blocks) reaches (an odd index). ``period_ratio = period24_snr - grid8_snr``.
* **HF fall-off**: Welch power spectrum (32x32 Hann tiles, stride 16) of the luminance, radially
  averaged; ``hf_deficit = log P(0.15-0.25 cycles/px) - log P(0.35-0.5 cycles/px)``.

The region is the face in face units (cheek to cheek, forehead to chin), snapped to the frame's
8x8 grid so that the folding phase is the frame's. Without a frame the crop itself is analysed
(a documented fallback: the crop's resampling then dominates).
"""

from __future__ import annotations

import math

import numpy as np

from ..faces.align import CropSpec
from . import _cues
from .base import Detector, DetectorInfo, register_detector

NAME = "spectral"
VERSION = "1.0"
CROP = CropSpec(size=224, margin=0.3)

WINDOW = (0.0, 0.1, 1.0, 1.05)  # face units: cheek to cheek, forehead to chin
TILE = 32  # Welch and heatmap tile side (px); stride TILE_STRIDE
TILE_STRIDE = 16
HEATMAP_SIZE = 56
HEAT_FULL_SCALE = 3.0  # local period_ratio (nats) shown as full-scale heat
MAX_TILES = 128  # Welch estimate: at most this many tiles (evenly subsampled) for big faces
MAX_POWER_CELLS = 1024  # per-cell variance: estimated on an even subset of at most this many cells
DIFF_CLIP = 24.0  # grey levels: |differences| above this are edges, not interpolation

_K = np.arange(8)
_EVEN = (_K[:, None] % 2 == 0) & (_K[None, :] % 2 == 0)
_EVEN[0, 0] = False  # DC: the mean, not a periodicity
_ODD = ~((_K[:, None] % 2 == 0) & (_K[None, :] % 2 == 0))
_NYQUIST = np.zeros((8, 8), bool)
_NYQUIST[4, 0] = _NYQUIST[0, 4] = _NYQUIST[4, 4] = True

FEATURES = ("nyquist_snr", "period24_snr", "grid8_snr", "hf_deficit")
EVIDENCE_KEYS = (
    "frame_available",
    "region_pixels",
    "period_ratio",
    "period24_snr",
    "nyquist_snr",
    "grid8_snr",
    "hf_deficit",
    "too_small",
)


# rfft2 keeps columns 0..4 of the 8x8 spectrum; the others follow by conjugate symmetry
# (C[r, c] = conj C[-r mod 8, 8 - c] for c > 4): index maps from the full 8x8 into the rfft half
_FULL_ROW = np.where(_K[None, :] <= 4, _K[:, None], (-_K[:, None]) % 8)
_FULL_COL = np.broadcast_to(np.where(_K <= 4, _K, 8 - _K)[None, :], (8, 8))


def _cell_power(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the frame's 8x8 cells of ``a`` (sides multiples of 8): the mean per-cell DFT power
    ``mean_i |C_i|^2`` (8, 8), over at most MAX_POWER_CELLS evenly spread cells, and the cells
    themselves (hc, wc, 8, 8).

    Pure numpy (pocketfft, no BLAS): BLAS thread pools oversubscribe a busy machine badly.
    """
    h, w = a.shape
    cells = a.reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3)
    step = max(1, math.ceil(math.sqrt(cells.shape[0] * cells.shape[1] / MAX_POWER_CELLS)))
    sub = cells[::step, ::step]  # the variance needs a sample, not every cell
    half = np.fft.rfft2(sub, axes=(2, 3))  # (hc', wc', 8, 5)
    p_half = (half.real**2 + half.imag**2).mean(axis=(0, 1))
    return p_half[_FULL_ROW, _FULL_COL], cells


def _periodic_snr(cells: np.ndarray, power_mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin SNR (8, 8) of the 8x8-periodic part of a map, and the per-cell variance (8, 8).

    ``C_i = DFT8(cell i)``; the periodic part is ``T = mean_i C_i``. For a stationary map
    ``E|T_k|^2 = 64 S(k/8) / N`` (S its spectrum) and ``v_k = mean_i |C_i,k - T_k|^2`` estimates
    ``64 S`` smoothed by the 8-point window, so ``snr_k = N |T_k|^2 / v_k`` is ~1 where S is smooth
    on a 1/8 cycle/px scale (as for image differences); a periodic component makes it grow with N.
    ``power_mean = mean_i |C_i|^2``.
    """
    n = cells.shape[0] * cells.shape[1]
    t = np.fft.fft2(cells.mean(axis=(0, 1), dtype=np.float64))
    t2 = t.real**2 + t.imag**2
    v = np.maximum(power_mean - t2, 0.0) + 1e-9
    return n * t2 / v, v


def _welch_radial(y: np.ndarray) -> np.ndarray | None:
    """Radially averaged Welch power spectrum of ``y``: (TILE // 2 + 1,) bins of |f| * TILE."""
    h, w = y.shape
    if h < TILE or w < TILE:
        return None
    ys = np.arange(0, h - TILE + 1, TILE_STRIDE)
    xs = np.arange(0, w - TILE + 1, TILE_STRIDE)
    idx = [(a, b) for a in ys for b in xs]
    if len(idx) > MAX_TILES:
        idx = [idx[i] for i in np.linspace(0, len(idx) - 1, MAX_TILES).astype(int)]
    tiles = np.stack([y[a : a + TILE, b : b + TILE] for a, b in idx])
    tiles = tiles - tiles.mean(axis=(1, 2), keepdims=True)
    win = np.outer(np.hanning(TILE), np.hanning(TILE)).astype(np.float32)
    power = (np.abs(np.fft.fft2(tiles * win, axes=(1, 2))) ** 2).mean(axis=0)
    f = np.fft.fftfreq(TILE)
    r = np.sqrt(f[:, None] ** 2 + f[None, :] ** 2) * TILE
    ring = np.minimum(np.rint(r).astype(int), TILE // 2)
    sums = np.bincount(ring.ravel(), weights=power.ravel(), minlength=TILE // 2 + 1)
    counts = np.bincount(ring.ravel(), minlength=TILE // 2 + 1)
    return sums / np.maximum(counts, 1)


def measure(
    frame: np.ndarray | None, matrix: np.ndarray, crop: np.ndarray | None = None, spec: CropSpec = CROP
) -> tuple[dict[str, float], np.ndarray]:
    """Evidence dict and (HEATMAP_SIZE, HEATMAP_SIZE) float32 heatmap in crop coordinates."""
    frame_available = frame is not None
    if frame is None:
        if crop is None:
            raise ValueError("spectral needs the frame or the crop")
        frame, matrix = crop, np.array([[1.0, 0, 0], [0, 1.0, 0]])
    to_face = _cues.frame_to_face_units(matrix, spec)
    h, w = frame.shape[:2]
    region = _cues.grid_aligned_region(to_face, WINDOW, (h, w), 8)
    evidence = {k: 0.0 for k in EVIDENCE_KEYS}
    evidence["frame_available"] = float(frame_available)
    empty = np.zeros((HEATMAP_SIZE, HEATMAP_SIZE), np.float32)
    if region is None or region.width < 16 or region.height < 16:
        evidence["too_small"] = 1.0
        return evidence, empty

    # one pixel of real context right/below (when the frame has it) for the differences
    yb, xb = min(h, region.y1 + 1), min(w, region.x1 + 1)
    y_ext = _cues.luminance(frame[region.y0 : yb, region.x0 : xb])
    y = y_ext[: region.height, : region.width]
    dx = np.diff(y_ext[: region.height], axis=1)
    dy = np.diff(y_ext[:, : region.width], axis=0)
    if dx.shape[1] < region.width:
        dx = np.pad(dx, ((0, 0), (0, 1)), mode="edge")
    if dy.shape[0] < region.height:
        dy = np.pad(dy, ((0, 1), (0, 0)), mode="edge")
    # signed differences: additive checkerboards; |differences|: interpolation periodicity
    maps = [dx, dy, np.minimum(np.abs(dx), DIFF_CLIP), np.minimum(np.abs(dy), DIFF_CLIP)]
    parts = [_cell_power(m) for m in maps]
    cells = [c for _, c in parts]
    stats = [_periodic_snr(c, p) for p, c in parts]
    snr = np.mean([s for s, _ in stats], axis=0)
    # +1e-3: a perfectly flat (e.g. clipped) region has no periodic part and no variance
    even, odd = float(snr[_EVEN].mean()) + 1e-3, float(snr[_ODD].mean()) + 1e-3
    evidence["region_pixels"] = float(region.width * region.height)
    evidence["period24_snr"] = math.log(even)
    evidence["grid8_snr"] = math.log(odd)
    evidence["nyquist_snr"] = math.log(float(snr[_NYQUIST].mean()) + 1e-3)
    evidence["period_ratio"] = math.log(even / odd)
    radial = _welch_radial(y)
    if radial is not None:
        mid = radial[round(0.15 * TILE) : round(0.25 * TILE) + 1].mean()
        high = radial[round(0.35 * TILE) :].mean()
        evidence["hf_deficit"] = float(math.log((mid + 1e-6) / (high + 1e-6)))

    heat = _heatmap(cells, [v for _, v in stats], region, matrix, spec)
    return evidence, heat


def _heatmap(cells: list, variances: list, region: _cues.Region, matrix, spec: CropSpec) -> np.ndarray:
    """Local ``period_ratio`` per tile (stride half a tile), with the region's per-cell variances as
    the noise reference. Tiles are 32 px, 16 px for small faces, and about an eighth of the region
    side for big ones (so the heatmap costs about the same for any face size)."""
    side = min(region.width, region.height)
    s = 1 if side < 4 * 16 else max(2, round(side / 128))  # tile = 2 x 2 blocks of s x s cells
    hc, wc = cells[0].shape[:2]
    hb, wb = hc // s, wc // s
    if hb < 2 or wb < 2:
        return np.zeros((HEATMAP_SIZE, HEATMAP_SIZE), np.float32)
    k2 = (2 * s) ** 2  # cells per tile
    snr = np.zeros((hb - 1, wb - 1, 8, 8))
    for x, var in zip(cells, variances):
        b = x[: hb * s, : wb * s].reshape(hb, s, wb, s, 8, 8).sum(axis=(1, 3), dtype=np.float64)
        t = np.fft.fft2((b[:-1, :-1] + b[1:, :-1] + b[:-1, 1:] + b[1:, 1:]) / k2, axes=(2, 3))
        snr += k2 * (t.real**2 + t.imag**2) / var / len(cells)
    local = np.log((snr[..., _EVEN].mean(-1) + 1e-3) / (snr[..., _ODD].mean(-1) + 1e-3))
    heat = np.clip(local / HEAT_FULL_SCALE, 0.0, 1.0)
    return _cues.block_map_to_crop(heat, region, 16 * s, 8 * s, matrix, spec.size, HEATMAP_SIZE)


@register_detector(NAME)
class SpectralDetector(_cues.CueDetector, Detector):
    """Period-2/4 pixel-grid structure and high-frequency deficit left by up-sampling."""

    info = DetectorInfo(
        name=NAME,
        version=VERSION,
        crop=CROP,
        catches="up-sampling fingerprints of GAN / decoder faces (period-2/4 grid, Nyquist deficit)",
        description=(
            "Periodic SNR of the face's luminance differences on the frame's 8x8 grid at native "
            "resolution (period-2/4 bins vs period-8 JPEG bins) plus the radial spectrum's "
            "high-frequency deficit. Blind once a fake is resized by a non-integer factor, "
            "down-scaled, or heavily recompressed."
        ),
        outputs_heatmap=True,
        needs_frame=True,
        trained=False,
    )

    features = FEATURES
    measure = staticmethod(measure)
