"""Morphing-attack detection: the corpus pieces, the shipped S-MAD / D-MAD model, the detector, verify's report."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

pytest.importorskip("dlib")

import facetrust  # noqa: E402
from facetrust.detectors import _mad as mad  # noqa: E402
from facetrust.detectors._mad_features import CROP, TEXTURE_FEATURES, load_describer  # noqa: E402
from facetrust.errors import WeightIntegrityError  # noqa: E402
from facetrust.synth.families.morph import average_morph, morph_pair  # noqa: E402
from facetrust.synth.print_scan import CHAINS, document_pipeline  # noqa: E402


@pytest.fixture(scope="module")
def sources(astronaut, hopper, tmp_path_factory):
    """astronaut and Grace Hopper as aligned MAD-crop face sources (two identities)."""
    import cv2

    from facetrust.synth.sources import SourcePreparer, load_face

    d = tmp_path_factory.mktemp("mad_faces")
    prep, faces = SourcePreparer(CROP), []
    for name, img in (("astronaut", astronaut), ("hopper", hopper)):
        cv2.imwrite(str(d / f"{name}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        rec = prep.prepare(d, f"{name}.png")
        assert not isinstance(rec, str), rec
        rec.group = name
        faces.append(load_face(rec, CROP))
    return faces


def _smad(image) -> float:
    r = facetrust.scan(image, detectors=("smad",))
    assert r.faces, r.reason
    return max(f.fake_probability for f in r.faces)


def test_shipped_model_is_sha256_pinned_and_a_changed_file_is_refused(tmp_path):
    assert mad.sha256_of(mad.MODEL_FILE) == mad.MODEL_SHA256
    assert mad.MODEL_FILE.stat().st_size < 25 * 2**20
    models = mad.load_mad_models()
    assert 0.0 < models.smad.threshold < 1.0 and 0.0 < models.dmad.threshold < 1.0
    tampered = tmp_path / "mad_model.json"
    data = json.loads(mad.MODEL_FILE.read_text())
    data["smad"]["bias"] += 1.0
    tampered.write_text(json.dumps(data))
    with pytest.raises(WeightIntegrityError, match="does not match"):
        mad.load_mad_models(str(tampered), mad.MODEL_SHA256)
    shutil.copy(mad.MODEL_FILE, tmp_path / "copy.json")
    assert mad.load_mad_models(str(tmp_path / "copy.json"), mad.MODEL_SHA256).smad.threshold == models.smad.threshold


def test_print_scan_chains_keep_the_size_change_the_pixels_and_repeat_with_the_seed(astronaut):
    img = astronaut[100:228, 180:308].copy()
    for chain in CHAINS:
        out, params = document_pipeline(img, np.random.default_rng(3), chain)
        again, _ = document_pipeline(img, np.random.default_rng(3), chain)
        assert out.shape == img.shape and out.dtype == np.uint8 and params["chain"] == chain
        assert np.array_equal(out, again)
        assert (np.abs(out.astype(int) - img).mean() > 1.0) == (chain != "none")
    with pytest.raises(ValueError):
        document_pipeline(img, np.random.default_rng(0), "fax")


def test_pair_and_averaged_morphs_mix_their_sources(sources):
    a, b = sources
    rng = np.random.default_rng(0)
    for alpha in (0.3, 0.7):
        r = morph_pair(a, b, alpha, "whole", rng)
        # the morph is closer to the source with the larger weight
        da = np.abs(r.image.astype(int) - a.crop).mean()
        db = np.abs(r.image.astype(int) - b.crop).mean()
        assert (da < db) == (alpha < 0.5) and r.source_ids == (a.source_id, b.source_id)
    avg = average_morph([a, b, a], "splice", rng)
    assert avg.params["faces"] == 3 and avg.params["weights"] == pytest.approx([1 / 3] * 3, abs=1e-4)
    assert avg.image.shape == a.crop.shape and 0 < avg.mask.mean() < 1
    with pytest.raises(ValueError):
        average_morph([a], "whole", rng)


def test_a_project_morph_scores_higher_than_its_bona_fide_sources(sources):
    a, b = sources
    morph = morph_pair(a, b, 0.5, "whole", np.random.default_rng(0)).image
    p_morph, p_a, p_b = _smad(morph), _smad(a.crop), _smad(b.crop)
    assert p_morph > max(p_a, p_b), (p_morph, p_a, p_b)
    # D-MAD: the morph against a's own photo scores higher than a's photo against itself re-encoded
    models, describer = mad.load_mad_models(), load_describer()
    d_ref = describer.describe(a.crop)
    rejpeg, _ = document_pipeline(a.crop, np.random.default_rng(1), "jpeg")
    d_bona, d_morph = describer.describe(rejpeg), describer.describe(morph)
    assert models.dmad_probability(d_morph, d_ref) > models.dmad_probability(d_bona, d_ref)


def test_smad_detector_contract(astronaut):
    from facetrust.detectors import create_detector

    det = create_detector("morph")  # the alias
    assert det.info.name == "smad" and det.info.crop == CROP and det.info.outputs_heatmap
    assert det.info.default_threshold == mad.load_mad_models().smad.threshold
    r = facetrust.scan(astronaut, detectors=("smad",))
    face = r.faces[0]
    assert face.heatmap_source == "smad"
    ev = face.scores[0].evidence
    assert ev["morph_probability"] == pytest.approx(face.fake_probability)
    assert {"detail_deficit", "inner_residual_log_std"} <= set(ev) <= {"morph_probability", "detail_deficit",
                                                                          *TEXTURE_FEATURES}


def test_verify_reports_smad_and_dmad_in_json_and_html(astronaut, astronaut_view, hopper, tmp_path):
    from facetrust.biometrics.render import render_verify_html

    same = facetrust.verify(astronaut, astronaut_view)
    m = same.to_dict()["morph"]
    assert m["status"] == "ok" and m["model"] == mad.MODEL_FILE.name
    assert 0 <= m["smad_probability"] <= 1 and 0 <= m["dmad_probability"] <= 1
    assert m["dmad_flagged"] == (m["dmad_probability"] >= m["dmad_threshold"])
    json.dumps(same.to_dict(), allow_nan=False)
    html = render_verify_html(same)
    assert "S-MAD" in html and "D-MAD" in html
    # the same person, two views: D-MAD sees less of a morph than in the astronaut-vs-Hopper comparison
    different = facetrust.verify(astronaut, hopper)
    assert different.morph.dmad_probability > same.morph.dmad_probability


def test_logistic_fit_and_equal_error_threshold():
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 1, (200, 3)), rng.normal(1.5, 1, (200, 3))])
    y = np.r_[np.zeros(200), np.ones(200)]
    mean, scale, w, b = mad.fit_l2_logistic(x, y, 1e-2)
    model = mad.CalibratedLogistic(mean, scale, w, b, 1.0, 0.0, 0.5)
    p = model.probability(x)
    assert (w > 0).all() and p[y == 1].mean() > 0.7 > 0.3 > p[y == 0].mean()
    t = mad.equal_error_threshold(p, y)
    apcer, bpcer = np.mean(p[y == 1] < t), np.mean(p[y == 0] >= t)
    assert abs(apcer - bpcer) <= 0.02


def test_identity_splits_never_share_an_identity():
    from facetrust.train.fit_mad import identity_splits
    from facetrust.train.fit_verify import Photo

    photos = [Photo(f"p{i}_{k}.jpg", f"celeba:{i}") for i in range(50) for k in range(1 + i % 3)]
    splits = identity_splits(photos, 40, seed=0)
    ids = [set(v) for v in splits.values()]
    assert sum(map(len, ids)) == len(set().union(*ids)) == 33  # identities with >= 2 photos: 33 of 50
    assert len(ids[0]) > len(ids[1]) > 0 and len(ids[2]) > 0


@pytest.mark.shared_data
def test_corpus_morphs_combine_identities_of_one_split(shared_data, tmp_path):
    from facetrust.train.fit_mad import build_corpus, read_manifest

    data = shared_data / "faces-train"
    if not (data / "DETAILS.tsv").exists():
        pytest.skip("faces-train is absent")
    items = build_corpus(data, tmp_path, 15, seed=0, average_share=0.3, log=lambda *_: None)
    rows = read_manifest(tmp_path)
    assert len(rows) == len(items) and {r["label"] for r in rows} == {"0", "1"}
    split_of = {r["identities"]: r["split"] for r in rows if r["label"] == "0"}
    for r in rows:
        assert all(split_of[i] == r["split"] for i in r["identities"].split("|"))  # no identity crosses splits
        assert (tmp_path / r["path"]).exists() and (tmp_path / r["reference"]).exists()
        assert r["reference"].removeprefix("live/").removesuffix(".png").replace("_", ":") in r["identities"].split("|")


def test_the_mad_landmark_box_is_the_synth_fitters():
    from facetrust.detectors._mad_features import DLIB_RECT
    from facetrust.synth.landmarks import _DLIB_RECT

    assert np.array_equal(DLIB_RECT, _DLIB_RECT)  # the corpus' sources and the MAD features fit the same box
