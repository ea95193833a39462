"""``facetrust verify`` exit codes and report files."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

pytest.importorskip("dlib")

from facetrust.biometrics.cli import EXIT_ACCEPTED, EXIT_NO_DECISION, EXIT_NO_INPUT, EXIT_REJECTED, EXIT_USAGE
from facetrust.cli import main


def _png(path, rgb: np.ndarray) -> str:
    cv2.imwrite(str(path), cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
    return str(path)


@pytest.fixture(scope="module")
def photos(tmp_path_factory, astronaut, astronaut_view, hopper):
    import skimage.data

    d = tmp_path_factory.mktemp("verify")
    return {
        "astronaut": _png(d / "astronaut.png", astronaut),
        "astronaut_view": _png(d / "astronaut_view.png", astronaut_view),
        "hopper": _png(d / "hopper.png", hopper),
        "coffee": _png(d / "coffee.png", skimage.data.coffee()),
    }


def test_same_person_exit_0_and_report_files(photos, tmp_path):
    out = tmp_path / "v"
    code = main(["verify", photos["astronaut"], "--reference", photos["astronaut_view"],
                 "--json", f"{out}.json", "--html", f"{out}.html", "-q"])
    data = json.loads((tmp_path / "v.json").read_text())
    assert data["decision"] == "same_person"
    assert code == (EXIT_ACCEPTED if data["probe_scan"]["verdict"] == "real" else EXIT_REJECTED)
    assert data["probe"] == photos["astronaut"] and data["reference"] == photos["astronaut_view"]
    assert "data:image/jpeg;base64," in (tmp_path / "v.html").read_text()


def test_different_people_exit_1(photos, capsys):
    assert main(["verify", photos["astronaut"], "--reference", photos["hopper"]]) == EXIT_REJECTED
    assert capsys.readouterr().out.startswith("different_person: p(same person) 0.")


def test_no_face_exit_3_missing_file_exit_4_bad_option_exit_2(photos, tmp_path):
    assert main(["verify", photos["astronaut"], "--reference", photos["coffee"], "-q"]) == EXIT_NO_DECISION
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"text, not a photo\n" * 20)
    assert main(["verify", str(junk), "--reference", photos["astronaut"], "-q"]) == EXIT_NO_DECISION
    assert main(["verify", str(tmp_path / "absent.jpg"), "--reference", photos["astronaut"], "-q"]) == EXIT_NO_INPUT
    with pytest.raises(SystemExit) as exc:
        main(["verify", photos["astronaut"]])  # --reference is required
    assert exc.value.code == EXIT_USAGE
    assert main(["verify", photos["astronaut"], "--reference", photos["hopper"], "--detector", "nope"]) == EXIT_USAGE
