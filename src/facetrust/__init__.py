"""facetrust: offline-first face forensics.

The facade is tiny and lazy (importing ``facetrust`` loads no model and no heavy library):
``scan``, ``scan_paths``, ``iter_scan``, ``extract_faces``, ``list_detectors``, ``verify``.
"""

from __future__ import annotations

__version__ = "0.1.0"

_FACADE = {
    "scan": "api",
    "scan_paths": "api",
    "iter_scan": "api",
    "extract_faces": "api",
    "list_detectors": "api",
    "verify": "api",
    "get_scanner": "api",
    "make_report": "api",
    "ScanOptions": "pipeline",
    "Scanner": "pipeline",
}

__all__ = ["__version__", *_FACADE]


def __getattr__(name: str):
    if name in _FACADE:
        import importlib

        module = importlib.import_module(f".{_FACADE[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'facetrust' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
