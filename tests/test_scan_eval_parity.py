"""``facetrust eval`` measures what ``facetrust scan`` ships: the same probability per media.

The media are made here from wheel-shipped photos: a single-face image, two-face images (one with a
face forged by the demo's face paste, one with a blurred face below the quality gate), a two-face
video whose second face is forged in its second half, one whose forgery moves between the faces,
and a real two-face video. Both commands run through the CLI on the same files; every item's
probability must agree at the image level (still images) and the video level (videos), for a fused
pair of detectors (decoding path of the eval engine) and for a crop-only detector scored from the
eval cache's crops (its cached-crop path).
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from facetrust.cli import main
from facetrust.demo import paste_face, write_video


def _fit(img: np.ndarray, h: int) -> np.ndarray:
    return cv2.resize(img, (round(img.shape[1] * h / img.shape[0]), h), interpolation=cv2.INTER_AREA)


def _save(path: Path, rgb: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory, astronaut, hopper) -> Path:
    root = tmp_path_factory.mktemp("parity")
    forged_hopper, _ = paste_face(hopper, astronaut)
    a, h, fh = _fit(astronaut, 320), _fit(hopper, 320), _fit(forged_hopper, 320)
    _save(root / "real" / "astronaut.png", astronaut)
    _save(root / "fake" / "two_faces_one_forged.png", np.hstack([a, fh]))
    _save(root / "real" / "two_faces.png", np.hstack([a, h]))
    # a second face below the quality gate (blurred): reported, never deciding, in scan and eval alike
    _save(root / "real" / "one_face_and_a_blurred_one.png", np.hstack([a, cv2.GaussianBlur(fh, (0, 0), 7)]))
    frames_fake, frames_real, frames_swap = [], [], []
    for i in range(10):
        shift = 4 * i
        frames_real.append(np.roll(np.hstack([a, h]), shift, axis=1))
        frames_fake.append(np.roll(np.hstack([a, fh if i >= 5 else h]), shift, axis=1))
        # the forged face moves from the left person to the right one halfway: each track is
        # half forged, while every frame holds a forged face (frame maxima and tracks disagree)
        frames_swap.append(np.hstack([fh, h] if i < 5 else [h, fh]))
    (root / "fake").mkdir(exist_ok=True)
    write_video(root / "fake" / "two_faces_half_forged.mp4", frames_fake, fps=5)
    write_video(root / "fake" / "forgery_moves_between_faces.mp4", frames_swap, fps=5)
    write_video(root / "real" / "two_faces.mp4", frames_real, fps=5)
    return root


def _flags(detectors: list[str], extra: list[str]) -> list[str]:
    return [x for d in detectors for x in ("--detector", d)] + ["--frames", "6", *extra]


def _scan(media: Path, out: Path, detectors: list[str], extra: list[str] = []) -> dict[str, dict]:
    rc = main(["scan", str(media), "--json", str(out), "-q", *_flags(detectors, extra)])
    assert rc in (0, 1)
    return {Path(r["path"]).relative_to(media).as_posix(): r for r in json.loads(out.read_text())["results"]}


def _eval(media: Path, out: Path, cache: Path, detectors: list[str], extra: list[str] = []) -> dict:
    rc = main(["eval", "--dataset", str(media), "--out", str(out), "--cache", str(cache), "--n-boot", "0",
               "--no-report", "-q", *_flags(detectors, extra)])
    assert rc == 0
    return json.loads((out / "results.json").read_text())


def _eval_probabilities(res: dict, scorer: str) -> dict[str, dict[str, float]]:
    """Per media: its per-sample score, and its image- or video-level unit score."""
    out = {s["path"]: {"sample": s["scores"][scorer]} for s in res["samples"]}
    for u in res["video_units"]:
        (path,) = u["samples"]
        out[path]["video"] = u["scores"][scorer]
    return out


def _assert_parity(scanned: dict[str, dict], evaluated: dict[str, dict[str, float]]) -> None:
    assert scanned.keys() == evaluated.keys() and len(scanned) == 7
    for path, r in scanned.items():
        assert r["verdict"] in ("real", "fake"), (path, r["verdict"], r.get("reason"))
        e = evaluated[path]
        assert e["sample"] == pytest.approx(r["fake_probability"], abs=1e-5), path
        if r["media_type"] == "video":
            assert e["video"] == pytest.approx(r["fake_probability"], abs=1e-5), path
        else:
            assert "video" not in e  # a still image alone in its group is an image-level unit


def test_eval_gives_each_media_the_probability_scan_gives_it(media, tmp_path):
    pair, mean = ["forensicnet", "noise_residual"], ["--aggregation", "mean"]
    scanned = _scan(media, tmp_path / "scan.json", pair, mean)
    assert len(scanned["fake/two_faces_one_forged.png"]["faces"]) == 2
    assert sorted(f["decisive"] for f in scanned["real/one_face_and_a_blurred_one.png"]["faces"]) == [False, True]
    for name in ("fake/two_faces_half_forged.mp4", "fake/forgery_moves_between_faces.mp4"):
        assert len(scanned[name]["tracks"]) == 2 and len(scanned[name]["frames"]) == 6
    # the test can tell the rules apart: the former eval rule (aggregating each frame's maximum
    # over faces) gives the moving forgery a different probability than scan's per-track rule
    moving = scanned["fake/forgery_moves_between_faces.mp4"]
    former = np.mean([f["fake_probability"] for f in moving["frames"]])
    assert abs(former - moving["fake_probability"]) > 1e-3
    res = _eval(media, tmp_path / "eval", tmp_path / "cache", pair, mean)
    _assert_parity(scanned, _eval_probabilities(res, "fused(forensicnet+noise_residual)"))
    image = next(r for r in res["metrics"] if r["level"] == "image" and r["section"] == "overall")
    assert image["n_units"] == 4 and res["settings"]["aggregation"] == "mean"

    # a crop-only detector, warm: eval scores from the cached crops without decoding, same numbers
    alone = ["forensicnet"]
    scanned = _scan(media, tmp_path / "scan1.json", alone)
    res = _eval(media, tmp_path / "eval1", tmp_path / "cache", alone)
    assert res["timing"]["scored_from_cached_crops"] == 7 and res["timing"]["media_decoded"] == 0
    _assert_parity(scanned, _eval_probabilities(res, "forensicnet"))
