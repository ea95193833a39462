"""Issue 16: one name per option, `-` for stdout, the face cap said out loud, typed usage errors.

WHY_TESTS maps each inconsistency of the issue's "Why" section to the tests that pin it (here or in
the area's own test file); test_every_why_item_has_a_test checks those tests exist.
"""

from __future__ import annotations

import json
from pathlib import Path

TESTS = Path(__file__).resolve().parent
WHY_TESTS = {
    "page bar labelled 'real 90.4 %' for the fake probability; bar colour": [
        "server/test_browser.py::test_labels_name_the_fake_probability_and_colour_by_verdict",
        "server/test_page_labels.py::test_page_labels_match_the_python_labels"],
    "genuine faces shown with a forgery family": [
        "server/test_page_labels.py::test_page_labels_match_the_python_labels",
        "report/test_report_explain.py::test_family_below_the_floor_is_unknown_method"],
    "faces numbered from 1 on the page, from 0 in the explanation": [
        "report/test_report_explain.py::test_image_fake_names_the_verdict_threshold_face_and_detectors",
        "server/test_browser.py::test_labels_name_the_fake_probability_and_colour_by_verdict"],
    "explanations restate internals (logit=..., family_morph=...)": [
        "report/test_report_explain.py::test_every_number_quoted_is_in_the_json",
        "report/test_report_explain.py::test_explanation_of_a_real_scan_quotes_only_json_numbers"],
    "cue detectors' measurements never reach the explanation": [
        "report/test_report_explain.py::test_image_fake_names_the_verdict_threshold_face_and_detectors"],
    "README demo claims not checked (the forged half 'caught')": [
        "test_readme_demo.py::test_readme_demo_block_is_the_demos_output"],
    "silent 16-face cap without a CLI flag": [
        "test_cli_consistency.py::test_max_faces_is_generated_from_scan_options_on_scan_and_extract",
        "test_cli_consistency.py::test_face_cap_is_warned_in_notes_explanation_and_cli"],
    "threshold silently 0.5 when detectors are combined": [
        "test_cli_consistency.py::test_fused_threshold_fallback_is_said_not_silent"],
    "--json - writes a file named '-'": ["test_cli_consistency.py::test_json_dash_writes_to_stdout"],
    "extract's default crop is not the default detector's": [
        "test_cli_consistency.py::test_extract_default_crop_is_the_default_detectors_crop"],
    "ship --out defaults to the package's model folder": ["test_cli_consistency.py::test_ship_needs_out"],
    "synth/corpus --min-face vs scan --min-face-size": [
        "test_cli_consistency.py::test_synth_min_face_size_is_the_scan_name_and_min_face_a_deprecated_alias",
        "test_cli_consistency.py::test_corpus_faces_min_face_size_is_the_scan_name_and_min_face_a_deprecated_alias"],
    "eval has no default detector while scan has": ["test_cli_consistency.py::test_eval_default_detector_is_scans"],
    "extract --size 0 and bad training configs end in tracebacks": [
        "test_cli_consistency.py::test_extract_bad_crop_is_a_usage_error",
        "test_cli_consistency.py::test_extract_bad_option_value_is_a_usage_error",
        "test_cli_consistency.py::test_bad_training_config_is_a_usage_error"],
    "synth and train show no progress bar": [
        "synth/test_synth_progress.py::test_synth_drives_progress_per_photo_and_per_source_face",
        "synth/test_synth_progress.py::test_synth_cli_shows_a_bar_only_at_a_terminal_and_not_with_json",
        "test_progress_bar.py::test_the_bar_is_driven_to_its_total_and_restarts_per_epoch",
        "test_progress_bar.py::test_train_cli_passes_a_progress_callback",
        "train/test_train.py::test_train_resume_ship_and_run_with_onnx_runtime"],
    "camera EXIF, XMP editing software, PNG generator parameters, C2PA ignored": [
        "report/test_provenance.py::test_camera_exif_is_read",
        "report/test_provenance.py::test_xmp_creator_tool_history_and_source_type_are_read",
        "report/test_provenance.py::test_png_generator_parameters_are_read",
        "report/test_provenance.py::test_c2pa_signed_jpeg_declares_signer_validity_and_ai_generation",
        "report/test_provenance.py::test_c2pa_tampered_copy_is_invalid",
        "report/test_provenance.py::test_scan_of_a_c2pa_signed_file_reports_it_in_json_html_and_explanation",
        "server/test_browser.py::test_c2pa_provenance_is_shown_apart_from_the_probability",
        "server/test_browser.py::test_exif_xmp_and_generator_metadata_are_shown"],
    "heatmaps cannot be exported as masks": [
        "test_cli_consistency.py::test_masks_writes_the_heatmap_at_crop_and_image_resolution",
        "test_cli_consistency.py::test_heatmaps_in_the_json_on_request"],
}

import numpy as np
import pytest
from PIL import Image

from facetrust.cli import EXIT_USAGE, build_parser, main


@pytest.fixture(scope="module")
def two_faces(tmp_path_factory, astronaut, hopper) -> str:
    """Two people side by side (the astronaut and Grace Hopper), each big enough to be found."""
    h = min(astronaut.shape[0], hopper.shape[0])
    row = np.concatenate([astronaut[:h], hopper[:h, : hopper.shape[1]]], axis=1)
    path = tmp_path_factory.mktemp("group") / "two_faces.png"
    Image.fromarray(np.ascontiguousarray(row)).save(path)
    return str(path)


def _subparser(name: str):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return sub.choices[name]


def test_max_faces_is_generated_from_scan_options_on_scan_and_extract():
    from facetrust.pipeline import ScanOptions

    for command in ("scan", "extract"):
        flags = {s for a in _subparser(command)._actions for s in a.option_strings}
        assert "--max-faces" in flags, command
    args = build_parser().parse_args(["scan", "x.png", "--max-faces", "3"])
    assert args.max_faces == 3 and ScanOptions.default("max_faces") == 16


def test_face_cap_is_warned_in_notes_explanation_and_cli(two_faces, capsys, tmp_path):
    out = tmp_path / "r.json"
    main(["scan", two_faces, "--max-faces", "1", "--json", str(out)])
    (r,) = json.loads(out.read_text())["results"]
    assert len(r["faces"]) == 1
    assert len(r["notes"]) == 1 and "face cap reached" in r["notes"][0] and "(2 found)" in r["notes"][0]
    assert "Face cap reached: only the 1 largest faces per frame were scored (2 found)" in r["explanation"]
    err = capsys.readouterr().err
    assert "warning:" in err and "face cap reached" in err
    # Not capped: no note.
    main(["scan", two_faces, "--json", str(out), "-q"])
    (r,) = json.loads(out.read_text())["results"]
    assert len(r["faces"]) == 2 and r["notes"] == []


def test_fused_threshold_fallback_is_said_not_silent(two_faces, capsys, tmp_path):
    """Several detectors without --threshold: the 0.5 fallback is a note (JSON, explanation, CLI warning)."""
    from facetrust.pipeline import FUSED_DEFAULT_THRESHOLD, fused_threshold_note

    out = tmp_path / "r.json"
    fused = ["--detector", "noise_residual", "--detector", "spectral"]
    main(["scan", two_faces, *fused, "--json", str(out)])
    (r,) = json.loads(out.read_text())["results"]
    note = fused_threshold_note(2)
    assert r["threshold"] == FUSED_DEFAULT_THRESHOLD and r["notes"] == [note]
    assert "not a validated operating point" in note and note[0].upper() + note[1:] in r["explanation"]
    assert f"warning: {two_faces}: {note}" in " ".join(capsys.readouterr().err.split())
    main(["scan", two_faces, *fused, "--threshold", "0.6", "--json", str(out), "-q"])  # chosen: nothing to say
    (r,) = json.loads(out.read_text())["results"]
    assert r["threshold"] == 0.6 and r["notes"] == []
    main(["scan", two_faces, "--detector", "noise_residual", "--json", str(out), "-q"])  # its own threshold
    (r,) = json.loads(out.read_text())["results"]
    assert r["notes"] == []


def test_json_dash_writes_to_stdout(two_faces, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    main(["scan", two_faces, "--json", "-"])
    captured = capsys.readouterr()
    data = json.loads(captured.out)  # stdout holds the JSON alone; the table went to stderr
    assert data["results"][0]["path"] == two_faces
    assert "facetrust scan" in captured.err
    assert not (tmp_path / "-").exists()


def test_extract_default_crop_is_the_default_detectors_crop(tmp_path, demo_media):
    from facetrust.detectors import DEFAULT_DETECTORS, create_detector

    crop = create_detector(DEFAULT_DETECTORS[0]).info.crop
    assert main(["extract", str(demo_media["astronaut.png"]), "--out", str(tmp_path / "a")]) == 0
    (png,) = (tmp_path / "a").glob("*.png")
    assert Image.open(png).size == (crop.size, crop.size)
    noise = create_detector("noise_residual").info.crop
    assert noise.size != crop.size or noise.margin != crop.margin
    assert main(["extract", str(demo_media["astronaut.png"]), "--out", str(tmp_path / "b"),
                 "--detector", "noise_residual"]) == 0
    (png,) = (tmp_path / "b").glob("*.png")
    assert Image.open(png).size == (noise.size, noise.size)


@pytest.mark.parametrize("argv, message", [
    (["--size", "0"], "--size: must be at least 16"),
    (["--margin", "-1"], "--margin: must be a finite number >= 0"),
])
def test_extract_bad_crop_is_a_usage_error(argv, message, tmp_path, capsys, demo_media):
    with pytest.raises(SystemExit) as exc:
        main(["extract", str(demo_media["astronaut.png"]), "--out", str(tmp_path), *argv])
    assert exc.value.code == EXIT_USAGE and message in capsys.readouterr().err


def test_extract_bad_option_value_is_a_usage_error(tmp_path, capsys, demo_media):
    code = main(["extract", str(demo_media["astronaut.png"]), "--out", str(tmp_path), "--max-faces", "0"])
    assert code == EXIT_USAGE and "max_faces must be >= 1" in capsys.readouterr().err


def test_ship_needs_out(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["ship", str(tmp_path)])
    assert exc.value.code == EXIT_USAGE and "--out" in capsys.readouterr().err
    assert main(["ship", str(tmp_path), "--out", str(tmp_path / "o")]) == EXIT_USAGE
    assert "no best.pt" in capsys.readouterr().err and not (tmp_path / "o").exists()


@pytest.mark.parametrize("text, message", [
    ("name: x\n  bad: [\n", "is not valid YAML"),
    ("- a\n- b\n", "expected a mapping"),
    ("no_such_key: 1\n", "unknown config keys"),
    (None, "config file not found"),
])
def test_bad_training_config_is_a_usage_error(text, message, tmp_path, capsys):
    path = tmp_path / "c.yaml"
    if text is not None:
        path.write_text(text)
    assert main(["train", "--config", str(path)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_synth_min_face_size_is_the_scan_name_and_min_face_a_deprecated_alias(capsys):
    new = build_parser().parse_args(["synth", "--faces", "in", "--out", "out", "--min-face-size", "48"])
    assert new.min_face == 48.0 and "deprecated" not in capsys.readouterr().err
    old = build_parser().parse_args(["synth", "--faces", "in", "--out", "out", "--min-face", "40"])
    assert old.min_face == 40.0 and "--min-face is deprecated; use --min-face-size" in capsys.readouterr().err


def test_corpus_faces_min_face_size_is_the_scan_name_and_min_face_a_deprecated_alias(capsys, monkeypatch):
    import facetrust.corpus.faces as faces

    seen = []
    monkeypatch.setattr(faces, "extract_face_crops", lambda corpus, out, s, guard: seen.append(s) or {"crops": 0})
    base = ["corpus", "faces", "--corpus", "c", "--out", "o"]
    assert main([*base, "--min-face-size", "48"]) == 0
    assert seen[-1].min_face == 48.0 and "deprecated" not in capsys.readouterr().err
    assert main([*base, "--min-face", "44"]) == 0
    assert seen[-1].min_face == 44.0 and "--min-face is deprecated; use --min-face-size" in capsys.readouterr().err
    assert main(base) == 0 and seen[-1].min_face == faces.FaceCropSettings().min_face  # the declared default
    # the scan's spelling, on every command that filters faces by size
    for command in ("scan", "extract", "synth"):
        flags = {s for a in _subparser(command)._actions for s in a.option_strings}
        assert "--min-face-size" in flags, command


def test_eval_default_detector_is_scans(monkeypatch, tmp_path):
    """`eval` without --detector evaluates what `scan` scores with: ScanOptions' one default."""
    import facetrust.eval.datasets as datasets
    import facetrust.eval.runner as runner
    from facetrust.pipeline import ScanOptions

    called = []

    class Stop(Exception):
        pass

    def fake_evaluate(detectors, dataset, protocol, **kw):
        called.append(list(detectors))
        raise Stop

    monkeypatch.setattr(datasets, "load_dataset", lambda spec: object())
    monkeypatch.setattr(runner, "evaluate", fake_evaluate)
    for extra, expected in (([], list(ScanOptions.default("detectors"))),
                            (["--detector", "noise_residual", "--detector", "forensicnet"],
                             ["noise_residual", "forensicnet"])):
        with pytest.raises(Stop):
            main(["eval", "--dataset", "d", "--out", str(tmp_path), "-q", *extra])
        assert called[-1] == expected
    scan = build_parser().parse_args(["scan", "x.png"])
    ev = build_parser().parse_args(["eval", "--dataset", "d", "--out", "o"])
    assert scan.detectors is None and ev.detectors is None  # both left to the declaration
    assert ScanOptions.given(detectors=scan.detectors).detectors == tuple(called[0])


def test_masks_writes_the_heatmap_at_crop_and_image_resolution(two_faces, tmp_path):
    import cv2

    masks, out = tmp_path / "masks", tmp_path / "r.json"
    main(["scan", two_faces, "--masks", str(masks), "--json", str(out), "-q"])
    (r,) = json.loads(out.read_text())["results"]
    w, h = Image.open(two_faces).size
    for face in r["faces"]:
        base = f"two_faces_frame{face['frame_index']:06d}_face{face['face_index'] + 1}"
        crop = cv2.imread(str(masks / f"{base}_crop.png"), cv2.IMREAD_UNCHANGED)
        full = cv2.imread(str(masks / f"{base}_image.png"), cv2.IMREAD_UNCHANGED)
        assert crop.shape == (face["crop_size"], face["crop_size"]) and crop.dtype == np.uint8
        assert full.shape == (h, w)
        # the crop mask's peak is the JSON's heatmap peak (255 = 1.0), at the same place
        peak = face["heatmap_peak"]
        assert crop.max() / 255 == pytest.approx(peak["value"], abs=0.02)
        # the image mask is 0 outside the face's crop footprint: far from the face's box, nothing
        x0, y0, x1, y1 = face["box"]
        cx = (x0 + x1) / 2
        far = full[:, int(cx + 1.5 * (x1 - x0)):] if cx < w / 2 else full[:, : max(0, int(cx - 1.5 * (x1 - x0)))]
        assert far.size and far.max() == 0
        assert full.max() > 0
    assert len(list(masks.glob("*.png"))) == 2 * len(r["faces"])


def test_heatmaps_in_the_json_on_request(two_faces, tmp_path, capsys):
    from facetrust import api
    from facetrust.report.schema import HEATMAP_DECIMALS

    out = tmp_path / "r.json"
    main(["scan", two_faces, "--heatmaps", "--json", str(out), "-q"])
    (r,) = json.loads(out.read_text())["results"]
    direct = api.scan(two_faces)
    assert len(r["faces"]) == len(direct.faces) == 2
    for face, scanned in zip(r["faces"], direct.faces, strict=True):
        heat = np.asarray(face["heatmap"])
        assert heat.shape == np.squeeze(scanned.heatmap).shape and heat.ndim == 2  # the detector's resolution
        assert heat.max() == pytest.approx(face["heatmap_peak"]["value"], abs=0.01)  # the peak is kept to 2 decimals
        assert np.allclose(heat, np.squeeze(scanned.heatmap), atol=10 ** -HEATMAP_DECIMALS)
        assert all(round(v, HEATMAP_DECIMALS) == v for row in face["heatmap"] for v in row)
    main(["scan", two_faces, "--json", str(out), "-q"])  # not asked for: not in the JSON
    assert all("heatmap" not in f for f in json.loads(out.read_text())["results"][0]["faces"])
    assert main(["scan", two_faces, "--heatmaps"]) == EXIT_USAGE
    assert "give --json too" in capsys.readouterr().err


def test_scan_table_names_the_fake_probability_in_percent(two_faces, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("COLUMNS", "250")
    out = tmp_path / "r.json"
    main(["scan", two_faces, "--json", str(out)])
    (r,) = json.loads(out.read_text())["results"]
    err = capsys.readouterr().err
    assert "p(fake)" in err and f"{r['fake_probability'] * 100:.1f} %" in err


def test_every_why_item_has_a_test():
    missing = []
    for item, refs in WHY_TESTS.items():
        assert refs, item
        for ref in refs:
            path, name = ref.split("::")
            source = (TESTS / path).read_text(encoding="utf-8") if (TESTS / path).is_file() else ""
            if f"def {name}(" not in source:
                missing.append(f"{item}: {ref}")
    assert missing == []
