"""ScanOptions is the one declaration of every scan option; every front door reads and checks it."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import pytest

from facetrust.options import specs
from facetrust.pipeline import MAX_DETECTORS, ScanOptions

SRC = Path(__file__).resolve().parents[2] / "src" / "facetrust"


@pytest.mark.parametrize(
    "bad",
    [
        {"fps": math.nan}, {"fps": math.inf}, {"fps": -1.0}, {"fps": 0.0},
        {"frames": 0}, {"frames": -3}, {"frames": 2.5}, {"frames": True},
        {"every": 0}, {"every": -1},
        {"min_face_size": -1.0}, {"min_face_size": math.nan}, {"min_face_size": math.inf},
        {"threshold": 1.5}, {"threshold": -0.1}, {"threshold": math.nan},
        {"min_face_score": 2.0}, {"max_faces": 0}, {"min_track_frames": 0},
        {"aggregation": "median"}, {"face_detector": "no_such_backend"},
        {"detectors": ()}, {"detectors": ("no_such_detector",)},
        {"detectors": ("spectral", "spectral")},
        {"detectors": ("spectral",) * (MAX_DETECTORS + 1)},
        {"detectors": ("spectral", "noise_residual"), "detector_weights": (1.0,)},
        {"detectors": ("spectral", "noise_residual"), "detector_weights": (0.0, 0.0)},
        {"frames": 3, "every": 2},
    ],
)
def test_bad_options_are_refused(bad):
    with pytest.raises(ValueError):
        ScanOptions(**bad)


def test_none_means_not_given_and_the_declared_default_applies():
    o = ScanOptions.given(min_face_size=None, threshold=None, frames=None, detectors=None)
    assert o == ScanOptions()
    assert o.min_face_size == ScanOptions.default("min_face_size")
    assert ScanOptions.given(min_face_size=30).min_face_size == 30.0
    assert ScanOptions(detectors="spectral").detectors == ("spectral",)
    with pytest.raises(TypeError):
        ScanOptions.given(colour="red")


def test_scan_cli_flags_are_generated_from_the_declaration(demo_media, tmp_path):
    from facetrust.cli import build_parser, main

    parser = build_parser()
    args = parser.parse_args(["scan", "x.jpg"])
    for name, (_, spec) in specs(ScanOptions).items():
        if spec.cli:  # every option has its flag, left None ("not given") by default
            assert getattr(args, name) is None, name
    args = parser.parse_args(["scan", "x.jpg", "--min-track-frames", "3", "--detector", "spectral",
                              "--detector-weight", "2"])
    assert (args.min_track_frames, args.detectors, args.detector_weights) == (3, ["spectral"], [2.0])
    # a value the declaration refuses is a usage error before anything is scanned
    img = str(demo_media["astronaut.png"])
    assert main(["scan", img, "--fps", "nan", "-q"]) == 2
    assert main(["scan", img, "--min-face-size", "-4", "-q"]) == 2
    assert main(["scan", img, "--detector", "spectral", "--detector", "spectral", "-q"]) == 2
    with pytest.raises(SystemExit):  # argparse: at most one of --frames/--every/--fps
        parser.parse_args(["scan", "x.jpg", "--frames", "3", "--every", "2"])


def test_eval_settings_are_generated_from_the_declaration():
    from facetrust.eval.engine import EVAL_SCAN_OPTIONS, EvalSettings

    declared = {f.name: f for f in dataclasses.fields(ScanOptions)}
    for f in dataclasses.fields(EvalSettings):
        if f.name in EVAL_SCAN_OPTIONS:
            assert f.default == declared[f.name].default and f.metadata == declared[f.name].metadata
    assert set(EVAL_SCAN_OPTIONS) <= {f.name for f in dataclasses.fields(EvalSettings)}
    with pytest.raises(ValueError):
        EvalSettings(fps=-2.0)
    with pytest.raises(ValueError):
        EvalSettings(frames=4, every=2)
    s = EvalSettings(frames=4, threshold=0.4)
    assert s.scan_options(["spectral"]) == ScanOptions(detectors=("spectral",), frames=4, threshold=0.4,
                                                       previews=False)


def test_server_request_fields_are_the_declared_request_options():
    from facetrust.server.config import ServerConfig
    from facetrust.server.errors import ApiError
    from facetrust.server.intake import parse_options, request_options

    fields = request_options()
    assert set(fields) == {n for n, (_, s) in specs(ScanOptions).items() if s.request}
    assert {"detectors", "threshold", "frames", "min_face_size"} <= set(fields)
    config = ServerConfig()
    assert parse_options({"threshold": "0.3", "detectors": "spectral,noise_residual", "fps": ""}, config) == {
        "threshold": 0.3, "detectors": ["spectral", "noise_residual"]}
    for bad in ({"fps": "nan"}, {"fps": "-1"}, {"min_face_size": "inf"}, {"detectors": "spectral,spectral"},
                {"threshold": "2"}, {"frames": "1.5"}, {"max_pixels": "10"}):
        with pytest.raises(ApiError) as exc:
            parse_options(bad, config)
        assert exc.value.status_code == 422, bad


def test_the_option_literals_appear_once_in_src():
    """The default minimum face size is written once (faces.DEFAULT_MIN_FACE_SIZE, which ScanOptions
    declares); the default face detector's name is DEFAULT_FACE_DETECTOR everywhere but the
    backends' own module (and detectors/fit_cues.py, an offline script being moved under train/)."""
    files = sorted(SRC.rglob("*.py"))
    size_lines = [ln for f in files for ln in f.read_text().splitlines()
                  if re.search(r"\b24\.0\b", ln) and "DIFF_CLIP" not in ln]
    assert len(size_lines) == 1 and "DEFAULT_MIN_FACE_SIZE = 24.0" in size_lines[0]
    named = [f.relative_to(SRC).as_posix() for f in files if re.search(r"[\"']yunet[\"']", f.read_text())]
    assert set(named) <= {"faces/detect.py", "detectors/fit_cues.py", "train/fit_cues.py"}
