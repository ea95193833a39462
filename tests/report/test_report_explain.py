"""explain(): text built only from the measured data in a MediaResult."""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest

from facetrust.report import explain
from facetrust.report.explain import LIMITS
from facetrust.report.labels import FAMILY_MIN_CONFIDENCE
from facetrust.report.schema import heatmap_peak


def test_image_fake_names_the_verdict_threshold_face_and_detectors(image_result):
    # Issue 16 changed this: probabilities as "fake probability 83.0 %", 1-based faces, and no raw
    # evidence keys (the old text quoted "residual_ratio=2.41"; detector internals are in the JSON).
    text = explain(image_result)
    assert text.startswith(f"{len(image_result.faces)} faces found.")
    assert "Verdict fake: fake probability 83.0 %, from the highest deciding face, at or above the " \
           "operating threshold 50.0 %." in text
    assert "Deciding face: face 1, fake probability 83.0 %." in text
    assert "face 0" not in text  # faces are numbered from 1, as on the page and in the HTML report
    assert "noise_residual 91.0 %, blend_boundary 62.0 %" in text  # highest first
    assert "=" not in text and "residual_ratio" not in text and "seam_score" not in text
    assert "Most likely forgery family: faceswap (70.0 %)." in text
    assert text.endswith(LIMITS["fake"])


def test_threshold_and_real_verdict_follow_the_data(image_result):
    r = copy.deepcopy(image_result)
    r.threshold, r.verdict = 0.9, "real"
    for f in r.faces:
        f.verdict = "real"
    text = explain(r)
    assert "Verdict real: fake probability 83.0 %" in text and "below the operating threshold 90.0 %" in text
    assert "forgery family" not in text and "method" not in text  # a family only for a face judged fake
    assert text.endswith(LIMITS["real"])


def test_family_below_the_floor_is_unknown_method(image_result):
    r = copy.deepcopy(image_result)
    r.faces[0].family_probabilities = {"faceswap": 0.4, "reenactment": 0.35, "synthesis": 0.25}
    text = explain(r)
    assert "faceswap" not in text
    assert f"Forgery method unknown: no family reaches the {FAMILY_MIN_CONFIDENCE * 100:.1f} % floor." in text


def test_heatmap_peak_is_located_in_the_face(image_result):
    r = copy.deepcopy(image_result)
    face = r.faces[0]
    face.heatmap_source = "noise_residual"
    face.heatmap = gaussian_blob(56, 56, 8.0, 45.0, 3.0)  # upper right of the crop
    face.heatmap_peak = heatmap_peak(face.heatmap)
    assert face.heatmap_peak["region"] == "upper right"
    text = explain(r)
    pk = face.heatmap_peak
    assert (f"The noise_residual heatmap of face 1 peaks at {pk['value']:.2f} in the upper right of the face "
            f"crop (x {pk['x']:.2f}, y {pk['y']:.2f}") in text
    assert pk["x"] == pytest.approx(45.5 / 56, abs=0.01) and pk["y"] == pytest.approx(8.5 / 56, abs=0.01)


def test_gated_faces_are_named_and_do_not_decide(image_result):
    r = copy.deepcopy(image_result)
    r.faces[0].decisive = False
    r.faces[0].quality = {"failed": ["sharpness", "size_px"], "passed": False}
    r.fake_probability, r.verdict = 0.12, "real"
    text = explain(r)
    assert "Face 1 is below the face-quality gate (failed: sharpness, size_px): reported, not deciding." in text
    assert "Deciding face: face 2, fake probability 12.0 %." in text


def test_notes_reach_the_explanation(image_result):
    r = copy.deepcopy(image_result)
    r.notes = ["face cap reached: only the 16 largest faces per frame were scored (25 found); raise "
               "--max-faces to score them all"]
    assert "Face cap reached: only the 16 largest faces per frame were scored (25 found)" in explain(r)


def test_video_mentions_frames_tracks_and_segments(video_result):
    text = explain(video_result)
    n_frames = len(video_result.frames)
    assert f"{len(video_result.faces)} face detections in {n_frames} analysed frames" in text
    assert f"grouped into {len(video_result.tracks)} tracks" in text
    worst = max(video_result.tracks, key=lambda t: t.fake_probability)
    a, b = worst.segments[0]
    assert (f"Track {worst.track_id} ({len(worst.frame_indices)} frames) has fake probability "
            f"{worst.fake_probability * 100:.1f} %") in text
    assert f"{a:.2f} to {b:.2f} s" in text
    above = sum(t.fake_probability >= video_result.threshold for t in video_result.tracks)
    assert f"{above} of {len(video_result.tracks)} tracks" in text
    best_face = max(video_result.faces, key=lambda f: f.fake_probability)
    assert (f"face {best_face.face_index + 1} in frame {best_face.frame_index} (t={best_face.time_s:.2f} s, "
            f"track {best_face.track_id})") in text


def gaussian_blob(h: int, w: int, cy: float, cx: float, sigma: float) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma**2)).astype(np.float32)


# Numbers as the explanation writes them: "83.0 %" is a percentage, "face 2" a 1-based face number.
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(\s?%)?")
_FACE_NO = re.compile(r"\b[Ff]ace (\d+)\b")


def _json_numbers(data) -> list[float]:
    out: list[float] = []
    if isinstance(data, bool):
        return out
    if isinstance(data, (int, float)):
        return [float(data)]
    if isinstance(data, dict):
        for v in data.values():
            out += _json_numbers(v)
    elif isinstance(data, list):
        out.append(float(len(data)))  # counts ("2 faces", "10 frames") are list lengths
        for v in data:
            out += _json_numbers(v)
    elif isinstance(data, str):  # notes and reasons quote numbers as text
        out += [float(x) for x in re.findall(r"\d+(?:\.\d+)?", data)]
    return out


def _unquoted_numbers(text: str, result_json: dict, settings: dict) -> list[str]:
    """Every number of ``text`` that no JSON quantity rounds to (as it is written)."""
    values = _json_numbers(result_json) + _json_numbers(settings)
    face_numbers = {f["face_index"] + 1 for f in result_json["faces"]}
    body = _FACE_NO.sub(lambda m: "face #" if int(m.group(1)) in face_numbers else m.group(0), text)
    missing = []
    for m in _NUMBER.finditer(body):
        shown, is_pct = m.group(1), bool(m.group(2))
        decimals = len(shown.split(".")[1]) if "." in shown else 0
        scale = 100.0 if is_pct else 1.0
        if not any(abs(round(v * scale, decimals) - float(shown)) < 1e-9 for v in values):
            missing.append(m.group(0))
    return missing


@pytest.mark.parametrize("which", ["image", "video", "gated", "heatmap"])
def test_every_number_quoted_is_in_the_json(which, image_result, video_result):
    from facetrust.report import ScanReport, to_json_dict

    r = copy.deepcopy(video_result if which == "video" else image_result)
    if which == "gated":
        r.faces[0].decisive, r.faces[0].quality = False, {"failed": ["sharpness"], "passed": False}
        r.fake_probability, r.verdict = 0.12, "real"
    if which == "heatmap":
        r.faces[0].heatmap_source = "noise_residual"
        r.faces[0].heatmap_peak = heatmap_peak(gaussian_blob(56, 56, 40.0, 12.0, 3.0))
    r.explanation = explain(r)
    data = to_json_dict(ScanReport(results=[r], settings={"max_faces": 16}))
    text = data["results"][0]["explanation"]
    assert re.search(r"\d", text)
    assert _unquoted_numbers(text, data["results"][0], data["settings"]) == []
    # The check can fail: a number the JSON does not hold is reported.
    assert _unquoted_numbers(text + " Peak 0.37 at 71.3 %.", data["results"][0], {}) == ["0.37", "71.3 %"]


def test_explanation_of_a_real_scan_quotes_only_json_numbers(tmp_path):
    """The pipeline end to end: the astronaut scanned by the default detector."""
    from skimage import data as skdata

    from facetrust import api
    from facetrust.report import to_json_dict

    result = api.scan(skdata.astronaut())
    report = api.make_report([result])
    js = to_json_dict(report)
    text = js["results"][0]["explanation"]
    assert result.verdict in ("real", "fake") and "face 1" in text
    assert _unquoted_numbers(text, js["results"][0], js["settings"]) == []
    assert "logit" not in text and "=" not in text.replace("t=", "")


def test_not_applicable_and_error_state_reason(report):
    err, na = report.results[2], report.results[3]
    t_err, t_na = explain(err), explain(na)
    assert t_na.startswith("Not applicable: no face detected (min_face_size=40 px).")
    assert "1 frame examined" in t_na
    assert "threshold" not in t_na and "probability" not in t_na
    assert "corrupt_media" in t_err and "premature end of data" in t_err
    assert "Analysis failed" in t_err


def test_no_scores_means_no_evidence_claims(image_result):
    r = copy.deepcopy(image_result)
    for f in r.faces:
        f.scores = []
    text = explain(r).removesuffix(LIMITS["fake"])
    assert "evidence" not in text.lower() and "detector" not in text.lower()
    assert "Verdict fake:" in text


def test_deterministic_and_plain(image_result, video_result):
    for r in (image_result, video_result):
        a, b = explain(r), explain(copy.deepcopy(r))
        assert a == b
        assert "\n" not in a and not re.search(r"<[a-z]", a)
        assert 2 <= a.count(". ") + 1 <= 12  # a few sentences
