"""The detector contract: registry, validation, and that a new detector plugs into the pipeline."""

import numpy as np
import pytest

import facetrust
from facetrust.detectors import (
    Detector,
    DetectorInfo,
    DetectorOutput,
    available_detectors,
    create_detector,
    register_detector,
)
from facetrust.errors import UnknownDetectorError
from facetrust.faces import CropSpec


@register_detector("test_saturation")
class SaturationDetector(Detector):
    """A real (if useless) cue: mean colour saturation of the crop, as a probability."""

    info = DetectorInfo(name="test_saturation", version="0", crop=CropSpec(64, 0.1), catches="nothing (test)",
                        outputs_heatmap=True)

    def predict(self, faces):
        out = []
        for f in faces:
            rgb = f.crop.astype(np.float32) / 255
            sat = rgb.max(-1) - rgb.min(-1)
            out.append(DetectorOutput(float(sat.mean()), heatmap=sat[::8, ::8], evidence={"saturation": float(sat.mean())}))
        return out


@register_detector("test_broken")
class BrokenDetector(Detector):
    info = DetectorInfo(name="test_broken", version="0", crop=CropSpec(64, 0.1), catches="nothing (test)")

    def predict(self, faces):
        raise RuntimeError("model exploded")


def test_registry_lists_and_creates_builtin_and_registered():
    names = available_detectors()
    assert {"noise_residual", "spectral", "test_saturation"} <= set(names)
    det = create_detector("spectral")
    assert isinstance(det, Detector) and det.info.name == "spectral" and det.info.outputs_heatmap


def test_unknown_detector_is_a_clear_error():
    with pytest.raises(UnknownDetectorError, match="available"):
        create_detector("does_not_exist")


def test_duplicate_registration_is_refused():
    with pytest.raises(ValueError):
        register_detector("test_saturation")(BrokenDetector)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_output_rejects_non_probabilities(bad):
    with pytest.raises(ValueError):
        DetectorOutput(bad)


def test_a_new_detector_plugs_into_scan_without_pipeline_changes(astronaut):
    r = facetrust.scan(astronaut, detectors=("test_saturation",))
    assert r.verdict in ("real", "fake") and len(r.faces) == 1
    face = r.faces[0]
    assert face.crop_size == 64 and face.heatmap_source == "test_saturation"
    # the pipeline passed the 64 px aligned crop the detector declared: recompute its score
    from facetrust.faces import align_face, create_face_detector

    crop = align_face(astronaut, create_face_detector().detect(astronaut)[0], CropSpec(64, 0.1)).crop
    rgb = crop.astype(np.float32) / 255
    assert face.fake_probability == pytest.approx(float((rgb.max(-1) - rgb.min(-1)).mean()), abs=1e-6)


def test_a_failing_detector_yields_an_error_result_not_a_crash(astronaut):
    r = facetrust.scan(astronaut, detectors=("test_broken",))
    assert r.verdict == "error" and r.error_type == "internal_error" and "exploded" in r.error
