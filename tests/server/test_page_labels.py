"""The page's labels (static/labels.js) against the Python rules (facetrust.report.labels), run under Node.

The page reads each face's ``labels`` from the JSON; for results stored before they existed it applies
the same rules itself. Both paths must give the words the HTML report prints. Skips without Node.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from facetrust.report import DetectorScore, FaceResult, MediaResult, ScanReport, to_json_dict
from facetrust.report.labels import FAMILY_MIN_CONFIDENCE, family_text, p_fake

LABELS_JS = Path(__file__).resolve().parents[2] / "src/facetrust/server/static/labels.js"
NODE = shutil.which("node") or shutil.which("nodejs")


def _face(index: int, p: float, verdict: str, family: str | None, fp: float | None, decisive: bool = True):
    return FaceResult(frame_index=0, face_index=index, box=[0, 0, 10, 10], landmarks=[[0, 0]] * 5,
                      detection_score=0.9, fake_probability=p, verdict=verdict, family=family,
                      family_probabilities=None if fp is None else {family: fp, "other": 1 - fp},
                      scores=[DetectorScore("forensicnet", "1", p)], decisive=decisive)


FACES = [
    _face(0, 0.904, "fake", "swap", 0.83),  # judged fake, family above the floor
    _face(1, 0.904, "real", "morph", 0.83),  # a high family head on a genuine face: not shown
    _face(2, 0.71, "fake", "morph", FAMILY_MIN_CONFIDENCE - 0.01),  # below the floor
    _face(3, 0.12, "real", None, None, decisive=False),  # below the quality gate
]


def _run_node(faces_json: list[dict]) -> list[dict]:
    script = (
        f"const L = require({json.dumps(str(LABELS_JS))});"
        "const faces = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "console.log(JSON.stringify(faces.map(f => ({name: L.faceName(f), number: L.faceNumber(f),"
        " p_fake: L.pFake(f.fake_probability), family: L.familyText(f), deciding: L.deciding(f),"
        " box: L.boxText(f, f.verdict), floor: L.FAMILY_MIN_CONFIDENCE}))));"
    )
    out = subprocess.run([NODE, "-e", script], input=json.dumps(faces_json), capture_output=True, text=True,
                         check=True, timeout=60)
    return json.loads(out.stdout)


@pytest.mark.skipif(NODE is None, reason="no Node.js")
@pytest.mark.parametrize("with_labels", [True, False], ids=["labels-from-json", "fallback-rules"])
def test_page_labels_match_the_python_labels(with_labels):
    result = MediaResult(path="x.jpg", verdict="fake", fake_probability=0.904, faces=copy.deepcopy(FACES))
    faces_json = to_json_dict(ScanReport([result]))["results"][0]["faces"]
    if not with_labels:
        for f in faces_json:
            del f["labels"]
    shown = _run_node(faces_json)
    for face, js in zip(FACES, shown, strict=True):
        assert js["name"] == f"face {face.face_index + 1}" and js["number"] == face.face_index + 1
        assert js["p_fake"] == p_fake(face.fake_probability) == f"p(fake) {face.fake_probability * 100:.1f} %"
        assert js["family"] == family_text(face)
        assert js["deciding"] is face.decisive
        assert js["box"] == f"{face.face_index + 1}: {face.verdict} · {js['p_fake']}"
        assert js["floor"] == FAMILY_MIN_CONFIDENCE
    assert [js["family"] for js in shown] == ["swap (83.0 %)", "", "unknown method", ""]


def test_page_loads_labels_before_the_app():
    html = (LABELS_JS.parent / "index.html").read_text()
    assert html.index("/static/labels.js") < html.index("/static/app.js")
    app = (LABELS_JS.parent / "app.js").read_text()
    assert "likely forgery family" not in app  # the old unconditional family label
    assert 'el("span", { class: "prob-text" }, L.pFake(p))' in app


def _page_rows(provs: list) -> list:
    script = (f"const L = require({json.dumps(str(LABELS_JS))});"
              "const ps = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
              "console.log(JSON.stringify(ps.map(p => [L.provenanceRows(p), L.declaresNothing(p)])));")
    out = subprocess.run([NODE, "-e", script], input=json.dumps(provs), capture_output=True, text=True, check=True,
                         timeout=60)
    return json.loads(out.stdout)


@pytest.mark.skipif(NODE is None, reason="no Node.js")
def test_page_provenance_rows(tmp_path):
    """The page lists what the file declares from result.provenance, as read from a file made here, in the
    rows the HTML report prints (report.provenance.provenance_rows)."""
    from PIL import Image, PngImagePlugin

    from facetrust.report.provenance import provenance_rows, read_provenance

    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a portrait\nSteps: 20, Sampler: Euler a, Seed: 7")
    path = tmp_path / "gen.png"
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    plain = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(plain)
    prov, bare = read_provenance(path).as_dict(), read_provenance(plain).as_dict()
    (rows, nothing), (empty, _), (none, _), (bare_rows, bare_nothing) = _page_rows(
        [prov, {"exif": {}, "xmp": {}, "text": {}}, None, bare])
    assert rows[0] == ["PNG text parameters", "a portrait Steps: 20, Sampler: Euler a, Seed: 7"]
    assert rows == [list(r) for r in provenance_rows(prov)] and nothing is False
    assert empty == [] and none == []
    assert bare_rows == [list(r) for r in provenance_rows(bare)] and bare_nothing is True
    # the C2PA status row, whichever c2pa-python is here: "no manifest" or "not checked (...)"
    assert [r[0] for r in bare_rows] == ["C2PA"]


@pytest.mark.skipif(NODE is None, reason="no Node.js")
def test_page_c2pa_rows_match_the_report(c2pa_sign, c2pa_tamper, astronaut, tmp_path):
    from facetrust.report.c2pa_manifest import NOT_INSTALLED
    from facetrust.report.provenance import provenance_rows, read_provenance

    signed = c2pa_sign(astronaut[::4, ::4].copy(), tmp_path / "signed.jpg")
    provs = [read_provenance(signed).as_dict(), read_provenance(c2pa_tamper(signed, tmp_path / "t.jpg")).as_dict(),
             {"exif": {}, "xmp": {}, "text": {}, "empty": True, "c2pa": {"checked": False, "note": NOT_INSTALLED}}]
    shown = _page_rows(provs)
    for prov, (rows, _) in zip(provs, shown, strict=True):
        assert rows == [list(r) for r in provenance_rows(prov)]
    valid, tampered, missing = (dict(rows) for rows, _ in shown)
    assert valid["C2PA signer"] == "facetrust test signer (issuer facetrust test CA org)"
    assert valid["C2PA validation"] == "Valid: signature and hashes check out; signer on no trust list"
    assert valid["C2PA action"] == "c2pa.created · trainedAlgorithmicMedia · TestDiffusion 2"
    assert valid["C2PA AI generation"] == "declared"
    assert tampered["C2PA validation"].startswith("Invalid: ") and "assertion.dataHash.mismatch" in tampered["C2PA validation"]
    assert missing == {"C2PA": "C2PA not checked (c2pa-python not installed)"} and shown[2][1] is True
