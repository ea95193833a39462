"""Process-wide tuning for scanning, applied once when a :class:`facetrust.pipeline.Scanner` is built.

glibc's malloc hands every buffer above its mmap threshold back to the kernel when it is freed and
trims the heap top past 128 KiB, so each YuNet call (tens of MB of short-lived activations) and each
decoded frame was paid again in page faults: 100 portraits at 512 px took ~430k minor faults and
~1.1 s of system CPU, ~0.15 s with the thresholds raised (benchmarks/scan_cpu.py). Peak RSS does not
grow (the same buffers are reused); freed memory below the thresholds stays with the process.

``FACETRUST_MALLOC_TUNING=0`` leaves the allocator as it is.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

# Values in bytes. 32 MiB is glibc's largest accepted mmap threshold on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX).
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 64 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # <malloc.h>

_lock = threading.Lock()
_state: dict[str, bool] = {}


def tune_allocator() -> bool:
    """Raise glibc's mmap and trim thresholds (once per process); True when they were set.

    A no-op off glibc (macOS, Windows, musl) and when FACETRUST_MALLOC_TUNING=0.
    """
    with _lock:
        if "done" in _state:
            return _state["done"]
        _state["done"] = False
        if os.environ.get("FACETRUST_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
            return False
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            mallopt = libc.mallopt
        except (OSError, AttributeError):  # not glibc
            return False
        ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
        if not ok:
            log.debug("mallopt refused the thresholds; allocator left as it is")
        _state["done"] = ok
        return ok


__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "tune_allocator"]
