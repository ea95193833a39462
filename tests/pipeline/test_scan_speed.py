"""The CPU cuts for still scans (issue 15) change no result: ORT without spinning, the allocator's
thresholds raised, the CLI built without the stages' parsers for a built-in command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _scan_json(paths: list[Path], out: Path, env_extra: dict[str, str]) -> dict:
    env = {**os.environ, **env_extra, "PYTHONPATH": str(REPO / "src")}
    res = subprocess.run([sys.executable, "-m", "facetrust", "scan", *map(str, paths), "--json", str(out), "-q"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode in (0, 1), res.stderr[-2000:]
    return {Path(r["path"]).name: r for r in json.loads(out.read_text())["results"]}


def test_speed_settings_leave_the_scan_json_unchanged(demo_media, tmp_path):
    files = [demo_media[n] for n in ("astronaut.png", "grace_hopper.jpg", "forged_astronaut_face_on_hopper.jpg")]
    # before: ORT's default thread pool with spinning, glibc's default thresholds
    before = _scan_json(files, tmp_path / "before.json",
                        {"FACETRUST_ORT_SPIN": "1", "FACETRUST_MALLOC_TUNING": "0", "FACETRUST_THREADS": "0"})
    after = _scan_json(files, tmp_path / "after.json", {})
    assert before.keys() == after.keys() == {f.name for f in files}
    n_faces = 0
    for name, b in before.items():
        a = after[name]
        assert a["verdict"] == b["verdict"]
        assert a["fake_probability"] == pytest.approx(b["fake_probability"], abs=1e-6)
        assert len(a["faces"]) == len(b["faces"])
        for fa, fb in zip(a["faces"], b["faces"]):
            n_faces += 1
            assert fa["box"] == pytest.approx(fb["box"], abs=1e-6)
            for sa, sb in zip(fa["scores"], fb["scores"]):
                assert sa["fake_probability"] == pytest.approx(sb["fake_probability"], abs=1e-6)
    assert n_faces >= 2  # the comparison covered real detections


def test_onnx_sessions_do_not_spin(monkeypatch):
    from facetrust.detectors.forensicnet import ForensicNetDetector

    monkeypatch.delenv("FACETRUST_ORT_SPIN", raising=False)
    captured = {}
    import onnxruntime as ort

    real = ort.InferenceSession

    def spy(model, sess_options=None, **kw):
        captured["opts"] = sess_options
        return real(model, sess_options=sess_options, **kw)

    monkeypatch.setattr(ort, "InferenceSession", spy)
    ForensicNetDetector()
    opts = captured["opts"]
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert opts.get_session_config_entry("session.inter_op.allow_spinning") == "0"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_allocator_tuning_is_applied_once_and_can_be_turned_off():
    code = ("import facetrust.runtime as r; a = r.tune_allocator(); b = r.tune_allocator(); print(a, b)")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    on = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    off = subprocess.run([sys.executable, "-c", code], env={**env, "FACETRUST_MALLOC_TUNING": "0"},
                         capture_output=True, text=True, check=True)
    assert on.stdout.split() == ["True", "True"]
    assert off.stdout.split() == ["False", "False"]


def test_a_built_in_command_parses_the_same_without_the_stages():
    from facetrust.cli import build_parser

    argv = ["scan", "a.jpg", "--max-faces", "3", "--frames", "5", "--detector", "forensicnet"]
    assert vars(build_parser(stages=False).parse_args(argv)) == vars(build_parser().parse_args(argv))
    lean = build_parser(stages=False)
    with pytest.raises(SystemExit):  # the stages' commands are only in the full parser
        lean.parse_args(["batch", "x", "--out", "y"])
    assert build_parser().parse_args(["batch", "x", "--out", "y"]).command == "batch"
