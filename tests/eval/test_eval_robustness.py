"""Deterministic perturbations of the robustness protocol."""

from __future__ import annotations

import numpy as np
import pytest

from facetrust.eval.robustness import (
    SWEEP,
    condition_name,
    parse_condition,
    perturb,
    sweep_conditions,
)


def _mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))


@pytest.mark.parametrize("name", list(SWEEP))
def test_every_level_is_deterministic_and_keeps_shape(astronaut, name):
    for level in SWEEP[name]:
        a = perturb(astronaut, name, level)
        b = perturb(astronaut.copy(), name, level)
        assert a.dtype == np.uint8 and a.shape == astronaut.shape
        assert np.array_equal(a, b)
        assert not np.array_equal(a, astronaut)


@pytest.mark.parametrize("name", list(SWEEP))
def test_damage_grows_with_the_level(astronaut, name):
    """Levels are listed mildest first: the distortion (MSE to the original) strictly increases."""
    errors = [_mse(perturb(astronaut, name, lv), astronaut) for lv in SWEEP[name]]
    assert all(e1 < e2 for e1, e2 in zip(errors, errors[1:])), errors


def test_jpeg_q30_differs_more_than_q90(hopper):
    assert _mse(perturb(hopper, "jpeg", 30), hopper) > 2 * _mse(perturb(hopper, "jpeg", 90), hopper)


def test_noise_is_seeded_by_content_and_level(astronaut, hopper):
    a = perturb(astronaut, "noise", 5)
    resid = a.astype(np.int16) - astronaut.astype(np.int16)
    # roughly N(0, 5^2) away from the clipped extremes
    mid = (astronaut > 20) & (astronaut < 235)
    assert abs(resid[mid].mean()) < 0.2 and 4.5 < resid[mid].std() < 5.5
    # a different image gets different noise; the same image the same noise
    crop = hopper[:512, :512]
    other = perturb(crop, "noise", 5).astype(np.int16) - crop.astype(np.int16)
    assert not np.array_equal(other, resid[: other.shape[0], : other.shape[1]])
    assert np.array_equal(perturb(astronaut, "noise", 5), a)


def test_resize_keeps_size_and_blur_reduces_detail(astronaut):
    r = perturb(astronaut, "resize", 0.25)
    assert r.shape == astronaut.shape
    lap = lambda x: float(np.abs(np.diff(x.astype(np.float64), axis=1)).mean())  # noqa: E731
    assert lap(perturb(astronaut, "blur", 2)) < lap(perturb(astronaut, "blur", 0.5)) < lap(astronaut)


def test_names_levels_and_errors(astronaut):
    assert condition_name("jpeg", 30.0) == "jpeg:30" and condition_name("blur", 0.5) == "blur:0.5"
    assert parse_condition("resize:0.25") == ("resize", 0.25) and parse_condition("clean") == ("clean", None)
    assert len(sweep_conditions()) == sum(len(v) for v in SWEEP.values()) == 13
    assert sweep_conditions(["jpeg", "noise:3"]) == [("jpeg", 90.0), ("jpeg", 70.0), ("jpeg", 50.0),
                                                     ("jpeg", 30.0), ("noise", 3.0)]
    assert np.array_equal(perturb(astronaut, "clean", 0), astronaut)
    with pytest.raises(ValueError):
        perturb(astronaut, "sepia", 1)
    with pytest.raises(ValueError):
        perturb(astronaut, "jpeg", 0)
    with pytest.raises(ValueError):
        perturb(astronaut, "resize", 1.5)
    with pytest.raises(ValueError):
        perturb(astronaut[..., 0], "blur", 1)
    with pytest.raises(ValueError):
        sweep_conditions(["unknown"])
