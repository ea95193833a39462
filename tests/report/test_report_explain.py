"""explain(): text built only from the measured data in a MediaResult."""

from __future__ import annotations

import copy
import re

from facetrust.report import explain


def test_image_fake_mentions_verdict_threshold_and_top_evidence(image_result):
    text = explain(image_result)
    top = max(image_result.faces[0].scores, key=lambda s: s.fake_probability)
    assert "verdict: fake" in text
    assert f"{image_result.fake_probability:.2f} >= threshold {image_result.threshold:.2f}" in text
    assert image_result.aggregation in text
    assert text.startswith(f"{len(image_result.faces)} faces found.")
    assert f"Strongest evidence: {top.detector} {top.fake_probability:.2f}" in text
    items = list(top.evidence.items())
    for k, v in items[:3]:  # first three evidence entries, 3 significant digits
        assert f"{k}={v:.3g}" in text
    assert items[3][0] not in text  # only three are quoted
    assert "seam_score" not in text  # evidence of the weaker detector is not quoted
    assert "blend_boundary 0.62" in text
    assert "faceswap (0.70)" in text


def test_threshold_and_real_verdict_follow_the_data(image_result):
    r = copy.deepcopy(image_result)
    r.threshold, r.verdict = 0.9, "real"
    text = explain(r)
    assert "0.83 < threshold 0.90" in text and "verdict: real" in text
    assert "forgery family" not in text  # a family is only quoted for a fake verdict
    assert "Strongest evidence" not in text and "Highest detector score: noise_residual 0.91" in text


def test_video_mentions_frames_tracks_and_segments(video_result):
    text = explain(video_result)
    n_frames = len(video_result.frames)
    assert f"{len(video_result.faces)} face detections in {n_frames} analysed frames" in text
    assert f"grouped into {len(video_result.tracks)} tracks" in text
    worst = max(video_result.tracks, key=lambda t: t.fake_probability)
    a, b = worst.segments[0]
    assert f"Track {worst.track_id} ({len(worst.frame_indices)} frames) scores {worst.fake_probability:.2f}" in text
    assert f"{a:.2f}-{b:.2f} s" in text
    above = sum(t.fake_probability >= video_result.threshold for t in video_result.tracks)
    assert f"{above} of {len(video_result.tracks)} tracks" in text
    best_face = max(video_result.faces, key=lambda f: f.fake_probability)
    assert f"frame {best_face.frame_index}, t={best_face.time_s:.2f} s" in text


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
    text = explain(r)
    assert "evidence" not in text.lower() and "detector" not in text.lower()
    assert "verdict: fake" in text


def test_deterministic_and_plain(image_result, video_result):
    for r in (image_result, video_result):
        a, b = explain(r), explain(copy.deepcopy(r))
        assert a == b
        assert "\n" not in a and not re.search(r"<[a-z]", a)
        assert 2 <= a.count(". ") + 1 <= 12  # a few sentences
