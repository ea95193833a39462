"""``pad`` / ``mad`` (ISO/IEC 30107-3): the section's rows on hand-made scores, the subject check, end to end."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from facetrust.eval import metrics as M
from facetrust.eval.adapters._core import Dataset, Sample
from facetrust.eval.protocols import ProtocolRun, resolve
from facetrust.eval.sections.iso30107 import check_subject_disjoint, iso30107_rows
from facetrust.eval.tables import LevelTable


def _run(scores: list[float], labels: list[int], species: list[str | None], n_boot: int = 50) -> ProtocolRun:
    tab = LevelTable("image")
    for k, (s, y, sp) in enumerate(zip(scores, labels, species)):
        sample = Sample(f"/x/{k}.png", y, "real" if y == 0 else "attack", f"g{k}",
                        attrs={} if sp is None else {"species": sp})
        tab.add(y, sample.kind, None, f"g{k}", [sample], {"det": s})
    settings = SimpleNamespace(threshold=0.5, n_boot=n_boot, ci_alpha=0.05, seed=0, ci_min_groups=2)
    return ProtocolRun(dataset=None, samples=[], engine=None, cache=None, records=[], tables={"image": tab},
                       scorers=["det"], settings=settings, progress=None)


# 6 bona fide (one above the threshold), print attacks all caught, replay attacks half missed
SCORES = [0.1, 0.2, 0.3, 0.35, 0.4, 0.6, 0.9, 0.8, 0.7, 0.55, 0.45, 0.3]
LABELS = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]
SPECIES = [None] * 6 + ["print"] * 3 + ["replay"] * 3


def test_pad_rows_apcer_per_species_bpcer_acer_and_operating_points():
    rows, species = iso30107_rows(_run(SCORES, LABELS, SPECIES), "pad")
    assert species == ["print", "replay"]
    by = {r["subset"]: r for r in rows}
    assert set(by) == {"all", "species=print", "species=replay"}
    m = by["all"]["metrics"]
    y, s = np.array(LABELS), np.array(SCORES)
    assert m["apcer@image"]["value"] == pytest.approx(2 / 3)  # worst species: replay, 2 of 3 below 0.5
    assert m["apcer@image"]["details"]["per_species"] == {"print": 0.0, "replay": pytest.approx(2 / 3)}
    assert m["bpcer@image"]["value"] == pytest.approx(1 / 6)
    assert m["acer@image"]["value"] == pytest.approx((2 / 3 + 1 / 6) / 2)
    assert m["eer@image"]["value"] == pytest.approx(M.eer(y, s).value)
    for t in (0.01, 0.05, 0.1):
        assert m[f"bpcer_at_apcer_{t:g}@image"]["value"] == pytest.approx(M.bpcer_at_apcer(y, s, t).value)
    assert by["species=print"]["metrics"]["apcer@image"]["value"] == 0.0
    assert (by["species=replay"]["n_pos"], by["species=replay"]["n_neg"]) == (3, 6)
    ci = by["all"]["ci"]["apcer@image"]
    assert ci["n_boot"] == 50 and ci["low"] <= ci["point"] <= ci["high"]


def test_mad_reports_d_eer_and_falls_back_to_the_family():
    rows, species = iso30107_rows(_run(SCORES, LABELS, [None] * 12), "mad")
    assert species == ["attack"]  # no attrs["species"]: the sample's family (its kind)
    m = rows[0]["metrics"]
    assert "d_eer@image" in m and "eer@image" not in m


def test_too_few_units_gives_no_interval_with_the_reason():
    rows, _ = iso30107_rows(_run([0.2, 0.8], [0, 1], [None, "print"]), "pad")
    ci = rows[0]["ci"]["bpcer@image"]
    assert ci["low"] is None and "fewer than 2" in ci["reason"]


def test_splits_must_be_subject_disjoint():
    def ds(test_subject: str) -> Dataset:
        return Dataset("d", "/x", [Sample("/x/a.png", 0, "real", "a", "train", attrs={"subject": "s1"}),
                                   Sample("/x/b.png", 1, "print", "b", "test", attrs={"subject": test_subject})])

    check_subject_disjoint(ds("s2"))
    with pytest.raises(ValueError, match="not subject-disjoint"):
        check_subject_disjoint(ds("s1"))
    assert resolve("liveness") == "pad" and resolve("morphing") == "mad"


def test_pad_end_to_end_on_a_folder(tmp_path, astronaut, hopper):
    import cv2

    from facetrust.eval.runner import evaluate

    for name, img in {"astronaut": astronaut, "hopper": hopper}.items():
        for folder, out in (("real", img), ("fake/print", np.clip(img * 0.7 + 60, 0, 255).astype(np.uint8)),
                            ("fake/replay", cv2.GaussianBlur(img, (0, 0), 2))):
            (tmp_path / "ds" / folder).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(tmp_path / "ds" / folder / f"{name}.png"), cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
    run = evaluate("spectral", str(tmp_path / "ds"), protocol="pad", out_dir=tmp_path / "out", n_boot=10,
                   cache_dir=tmp_path / "cache")
    rows = run.rows(section="iso30107")
    assert {r["subset"] for r in rows} == {"all", "species=print", "species=replay"}
    assert run.results["pad"]["species"] == ["print", "replay"]
    assert (tmp_path / "out" / "report.html").exists()
