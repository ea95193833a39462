"""Reporting: the result schema and its JSON, CSV and HTML forms, plus plain-text explanations.

Importing this package is cheap: OpenCV and matplotlib are imported only when an image or plot
is actually rendered.
"""

from __future__ import annotations

from .csv_io import write_csv
from .explain import explain
from .html import render_html, render_overlay, write_html
from .json_io import read_json, write_json
from .schema import (
    SCHEMA_VERSION,
    DetectorScore,
    FaceResult,
    FrameResult,
    MediaResult,
    ScanReport,
    TrackResult,
    from_json_dict,
    to_json_dict,
)

__all__ = [
    "SCHEMA_VERSION",
    "DetectorScore",
    "FaceResult",
    "FrameResult",
    "MediaResult",
    "ScanReport",
    "TrackResult",
    "from_json_dict",
    "to_json_dict",
    "write_json",
    "read_json",
    "write_csv",
    "write_html",
    "render_html",
    "render_overlay",
    "explain",
]
