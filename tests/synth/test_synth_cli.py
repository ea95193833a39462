"""The ``synth`` sub-command: registration on a parser, exit codes, printed summary."""

from __future__ import annotations

import argparse
import json

from facetrust.synth.cli import add_parser, main, run


def _parse(argv):
    parser = argparse.ArgumentParser(prog="facetrust")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_add_parser_registers_synth_with_run(tmp_path):
    args = _parse(["synth", "--faces", "f", "--out", "o", "--families", "swap", "morph", "--per-face", "3", "--seed", "5", "--workers", "2", "--limit", "9", "--size", "128", "--sheet"])
    assert args.func is run
    assert (args.families, args.per_face, args.seed, args.workers, args.limit, args.size, args.sheet) == (["swap", "morph"], 3, 5, 2, 9, 128, True)


def test_cli_run_writes_dataset_and_reports(faces_dir, tmp_path, capsys):
    out = tmp_path / "o"
    rc = main(["synth", "--faces", str(faces_dir), "--out", str(out), "--families", "self_blend", "swap", "--size", "128", "--limit", "2", "--pin", "x=auto", "--json"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["samples"]["self_blend"] == 2 and summary["config"]["size"] == 128
    assert (out / "manifest.csv").is_file()
    import cv2

    img = cv2.imread(str(next((out / "images").rglob("*.png"))))
    assert img.shape == (128, 128, 3)
    # A second run into the same folder refuses without --overwrite.
    assert main(["synth", "--faces", str(faces_dir), "--out", str(out)]) == 2
    assert "overwrite" in capsys.readouterr().err


def test_cli_bad_arguments_exit_2(faces_dir, tmp_path, capsys):
    assert main(["synth", "--faces", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert main(["synth", "--faces", str(faces_dir), "--out", str(tmp_path / "o"), "--families", "nope"]) == 2
    assert "unknown synthesis family" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["synth", "--faces", str(empty), "--out", str(tmp_path / "o2")]) == 2
    assert main(["synth", "--faces", str(faces_dir), "--out", str(tmp_path / "o3"), "--pin", "nonsense"]) == 2
