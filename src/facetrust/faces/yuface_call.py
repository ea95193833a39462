"""YuNet through ``yuface``'s own libfacedetection, without the per-call leak of its Python binding.

``yuface.detect`` (2023.5.1) mallocs libfacedetection's 0x9000-byte result buffer on every call and
never frees it: ~36 KB per image, so a batch of 10⁶ images would hold ~36 GB (issue 15: memory flat
in the number of files). :func:`detect` calls the same ``facedetect_cnn`` of the same shared library
with a buffer Python owns (one per call, so concurrent calls stay independent) and applies the same
confidence filter and column split as ``yuface.detect``: the same arrays
(``tests/faces/test_yuface_call.py`` compares them, and checks RSS stays flat).
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path

import numpy as np

RESULT_BUFFER_BYTES = 0x9000  # libfacedetection's DETECT_BUFFER_SIZE: the count, then <= 1024 faces x 16 int16
_SYMBOL = "_Z14facedetect_cnnPhS_iii"  # int* facedetect_cnn(unsigned char* result, unsigned char* bgr, int w, int h, int step)
_lock = threading.Lock()
_function = None


def _facedetect_cnn():
    global _function
    with _lock:
        if _function is None:
            import yuface

            folder = Path(yuface.__file__).parent
            library = next(iter(sorted(folder.glob("libfacedetection.so*"))), None)
            if library is None:
                raise ImportError(f"no libfacedetection.so in {folder}")
            fn = getattr(ctypes.CDLL(str(library)), _SYMBOL)
            fn.restype = ctypes.POINTER(ctypes.c_int)
            fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]
            _function = fn
    return _function


def raw_detect(bgr: np.ndarray) -> np.ndarray:
    """Every detection of a BGR uint8 image as libfacedetection gives it: (N, 16) int16 rows of
    confidence (0-100), x, y, w, h, 5 landmark points, and a spare column."""
    image = np.ascontiguousarray(bgr, dtype=np.uint8)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) BGR image, got shape {image.shape}")
    h, w = image.shape[:2]
    buffer = np.zeros(RESULT_BUFFER_BYTES, dtype=np.uint8)
    result = _facedetect_cnn()(buffer.ctypes.data, image.ctypes.data, w, h, w * 3)
    n = int(result[0]) if result else 0
    if n <= 0:
        return np.zeros((0, 16), dtype=np.int16)
    # The rows follow the count, inside ``buffer``: copy them out before the buffer goes.
    start = ctypes.addressof(result.contents) - buffer.ctypes.data + ctypes.sizeof(ctypes.c_int)
    return buffer[start:start + n * 32].view(np.int16).reshape(n, 16).copy()


def detect(bgr: np.ndarray, conf: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What ``yuface.detect(bgr, conf)`` returns: confidences, XYWH boxes and 10 landmark
    coordinates of the detections with confidence above ``conf`` x 100."""
    rows = raw_detect(bgr)
    rows = rows[rows[:, 0] > conf * 100]
    return rows[:, 0], rows[:, 1:5], rows[:, 5:-1]
