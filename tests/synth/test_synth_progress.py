"""Issue 16: synth drives a progress callback per photo and per source face; the CLI draws it only at a
terminal (not with --json or --quiet)."""

from __future__ import annotations

import json
from contextlib import contextmanager


def _recorder(calls: list):
    return lambda stage, done, total, metrics=None: calls.append((stage, done, total))


def _finished(calls: list, stage: str) -> tuple[int, int]:
    mine = [(d, t) for s, d, t in calls if s == stage]
    assert mine, f"no {stage!r} progress"
    assert [d for d, _ in mine] == sorted(d for d, _ in mine)  # counts only go up
    return mine[-1]


def test_synth_drives_progress_per_photo_and_per_source_face(faces_dir, tmp_path):
    from facetrust.synth.writer import GENERATE_STAGE, PREPARE_STAGE, generate

    calls: list = []
    summary = generate(faces_dir, tmp_path / "o", families=("self_blend",), size=128, limit=3,
                       progress=_recorder(calls))
    assert _finished(calls, PREPARE_STAGE) == (3, 3)
    n = summary.sources_used
    assert n >= 1 and _finished(calls, GENERATE_STAGE) == (n, n)


def test_synth_cli_shows_a_bar_only_at_a_terminal_and_not_with_json(faces_dir, tmp_path, monkeypatch, capsys):
    import sys

    import facetrust.progress_bar as pb
    from facetrust.synth.cli import main
    from facetrust.synth.writer import GENERATE_STAGE

    seen: list = []

    @contextmanager
    def fake_bar(enabled, console=None):
        calls: list = []
        seen.append((enabled, calls))
        yield _recorder(calls)

    monkeypatch.setattr(pb, "progress_bar", fake_bar)
    argv = ["synth", "--faces", str(faces_dir), "--families", "self_blend", "--size", "128", "--limit", "2"]
    assert main([*argv, "--out", str(tmp_path / "a"), "--json"]) == 0
    json.loads(capsys.readouterr().out)  # stdout is the JSON alone
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    assert main([*argv, "--out", str(tmp_path / "b")]) == 0
    assert main([*argv, "--out", str(tmp_path / "c"), "--quiet"]) == 0
    assert [enabled for enabled, _ in seen] == [False, True, False]
    for _, calls in seen:  # the bar (drawn or not) is driven to the end either way
        done, total = _finished(calls, GENERATE_STAGE)
        assert done == total >= 1
