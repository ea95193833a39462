"""The evaluation runner end to end on a tiny fabricated dataset built in tmp_path.

Reals are scikit-image / matplotlib sample photos (and flips, a short video, a frame folder made
from them); fakes get a strong blue cast on the face box. ``test_eval_blue`` is a real (if
single-minded) crop-only cue that measures exactly that, so the expected ranking is known without
hard-coding any number: every fake must outrank every real.
"""

from __future__ import annotations

import csv
import html.parser
import json
import base64
from pathlib import Path

import cv2
import numpy as np
import pytest

from facetrust.detectors import Detector, DetectorInfo, DetectorOutput, register_detector
from facetrust.eval import metrics as M
from facetrust.eval.datasets import Dataset, load_dataset
from facetrust.eval.runner import evaluate
from facetrust.faces import CropSpec


def _blueness(rgb: np.ndarray) -> float:
    x = rgb.astype(np.float32)
    h, w = x.shape[:2]
    c = x[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4]
    return float(np.clip(0.5 + (c[..., 2].mean() - c[..., :2].mean()) / 160.0, 0.0, 1.0))


@register_detector("test_eval_blue")
class BlueCast(Detector):
    """Crop-only cue: blue excess in the centre of the aligned crop, as a probability."""

    info = DetectorInfo(name="test_eval_blue", version="0.1", crop=CropSpec(64, 0.1), catches="blue face cast (test)")
    calls = 0

    def predict(self, faces):
        type(self).calls += 1
        return [DetectorOutput(_blueness(f.crop)) for f in faces]


@register_detector("test_eval_blue_ctx")
class BlueCastContext(Detector):
    """The same cue minus the frame's global blue excess: needs the full frame."""

    info = DetectorInfo(name="test_eval_blue_ctx", version="0.1", crop=CropSpec(64, 0.1), catches="(test)",
                        needs_frame=True)

    def predict(self, faces):
        out = []
        for f in faces:
            assert f.frame is not None
            out.append(DetectorOutput(float(np.clip(_blueness(f.crop) - _blueness(f.frame) + 0.5, 0, 1))))
        return out


# ------------------------------------------------------------------------------------------------
# The fabricated dataset
# ------------------------------------------------------------------------------------------------


def _write(path: Path, rgb: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def _tint(rgb: np.ndarray, box: np.ndarray) -> np.ndarray:
    out = rgb.astype(np.int16).copy()
    x0, y0, x1, y1 = (int(v) for v in box)
    out[max(0, y0) : y1, max(0, x0) : x1, 2] += 90
    out[max(0, y0) : y1, max(0, x0) : x1, :2] -= 30
    return np.clip(out, 0, 255).astype(np.uint8)


def _video(path: Path, frames: list[np.ndarray], fps: int = 8) -> Path:
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        s.options = {"crf": "18"}
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


@pytest.fixture(scope="module")
def bases(astronaut, hopper):
    from facetrust.faces import create_face_detector

    det = create_face_detector()
    out = {}
    for name, img in {"astronaut": astronaut, "hopper": hopper}.items():
        for flip in (False, True):
            im = np.ascontiguousarray(img[:, ::-1]) if flip else img
            faces = det.detect(im)
            assert faces, name
            out[f"{name}{'_flip' if flip else ''}"] = (im, faces[0].box)
    return out


@pytest.fixture(scope="module")
def folder_ds(tmp_path_factory, bases) -> Path:
    """real/ and fake/ tree: 4 real photos + a faceless photo, 4 tinted fakes + a corrupt file,
    one real and one fake video, one real frame folder (3 frames of one clip)."""
    import skimage.data

    root = tmp_path_factory.mktemp("evalds")
    for name, (im, box) in bases.items():
        _write(root / "real" / f"{name}.png", im)
        _write(root / "fake" / "tint" / f"{name}.png", _tint(im, box))
    _write(root / "real" / "coffee.png", skimage.data.coffee())  # no face
    (root / "fake" / "tint" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg" * 20)
    im, box = bases["astronaut"]
    small = cv2.resize(im, (256, 256), interpolation=cv2.INTER_AREA)
    sbox = box * 0.5
    shifts = [np.roll(small, k * 3, axis=1) for k in range(6)]
    _video(root / "real" / "clip_real.mp4", shifts)
    fakes = [_tint(f, sbox + [k * 3, 0, k * 3, 0]) for k, f in enumerate(shifts)]
    _video(root / "fake" / "tint" / "clip_fake.mp4", fakes)
    hop, hbox = bases["hopper"]
    for k in range(3):
        _write(root / "real" / "clips" / "seq1" / f"f{k}.png", np.roll(hop, (k + 1) * 4, axis=0))
    return root


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory) -> Path:
    """One face cache for the tests that are not about the cache (faces are detected once)."""
    return tmp_path_factory.mktemp("shared_cache")


def _run(root, tmp_path, name="run", **kw):
    kw.setdefault("n_boot", 20)
    kw.setdefault("frames", 4)
    kw.setdefault("cache_dir", tmp_path / "cache")
    data = root if isinstance(root, Dataset) else str(root)
    return evaluate(kw.pop("detector", "test_eval_blue"), data, out_dir=tmp_path / name, **kw)


class _Spy:
    """Counts calls of a method while still running it (the real computation is kept)."""

    def __init__(self, monkeypatch, owner, attr):
        self.n = 0
        orig = getattr(owner, attr)

        def wrapper(*a, **k):
            self.n += 1
            return orig(*a, **k)

        monkeypatch.setattr(owner, attr, wrapper)


# ------------------------------------------------------------------------------------------------
# End to end
# ------------------------------------------------------------------------------------------------


class _Checker(html.parser.HTMLParser):
    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self):
        super().__init__()
        self.stack, self.images, self.errors, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        elif tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def test_end_to_end_counts_levels_kinds_and_report(folder_ds, tmp_path, shared_cache):
    run = _run(folder_ds, tmp_path, cache_dir=shared_cache, ci_min_groups=2)
    res = run.results
    c = res["counts"]
    assert c["samples"] == 4 + 1 + 4 + 1 + 2 + 3
    assert c["no_face"] == 1 and c["by_kind"]["real"]["no_face"] == 1  # coffee
    assert c["error"] == 1 and c["by_kind"]["tint"]["error"] == 1
    (code,) = c["by_kind"]["tint"]["errors"]
    assert code in ("unsupported_media", "corrupt_media")
    assert res["skipped"]["run"]["no_face"] == 1 and res["skipped"]["run"][code] == 1

    # levels: photos are image units, the videos and the frame folder are frame + video units
    overall = {r["level"]: r for r in run.rows(section="overall")}
    assert set(overall) == {"image", "frame", "video"}
    for lv, r in overall.items():
        assert all(k.endswith(f"@{lv}") for k in r["metrics"]) and r["level"] == lv
    assert (overall["image"]["n_pos"], overall["image"]["n_neg"]) == (4, 4)
    assert overall["video"]["n_pos"] == 1 and overall["video"]["n_neg"] == 2  # fake clip; real clip + seq1
    assert overall["frame"]["n_neg"] == 4 + 3 and overall["frame"]["n_pos"] == 4
    # the cue separates tinted faces from real ones: every fake above every real (image level)
    assert run.value("roc_auc", level="image") == 1.0
    # the number is the metrics module's on the per-sample scores written in the results
    img = [s for s in res["samples"] if s["unit"] == "image" and s["status"] == "ok"]
    y = [s["label"] for s in img]
    sc = [s["scores"]["test_eval_blue"] for s in img]
    ap = overall["image"]["metrics"]["average_precision@image"]["value"]
    assert ap == pytest.approx(M.average_precision(y, sc).value)
    ci = overall["image"]["ci"]["roc_auc@image"]
    assert ci["n_boot"] == 20 and ci["low"] <= ci["point"] <= ci["high"]
    # frame level: the fake frames all come from one video, so no CI (one independent unit)
    fci = overall["frame"]["ci"]["roc_auc@frame"]
    assert overall["frame"]["n_groups_pos"] == 1 and fci["low"] is None and "fewer than 2" in fci["reason"]

    kinds = {(r["kind"], r["level"]): r for r in run.rows(section="per_kind")}
    assert kinds[("tint", "image")]["subset"] == "tint vs all reals"
    assert kinds[("real", "image")]["subset"] == "all fakes vs real"
    assert ("clips", "video") in kinds  # the frame folder's kind, at video level

    # per-sample records: every sample, errors with their code, frame units with frames
    by_path = {s["path"]: s for s in res["samples"]}
    assert by_path["fake/tint/broken.jpg"]["error_code"] == code and by_path["fake/tint/broken.jpg"]["scores"] is None
    assert by_path["real/coffee.png"]["status"] == "no_face"
    assert len(by_path["real/clip_real.mp4"]["frames"]) == 4
    assert res["dataset"]["manifest_hash"] == load_dataset(str(folder_ds)).manifest_hash
    assert res["detectors"][0]["version"] == "0.1" and "git_commit" in res

    # results.json and report.html on disk
    on_disk = json.loads((tmp_path / "run" / "results.json").read_text())
    assert on_disk["metrics"] == res["metrics"]
    page = (tmp_path / "run" / "report.html").read_text()
    chk = _Checker()
    chk.feed(page)
    chk.close()
    assert not chk.errors and chk.stack == []
    assert len(chk.images) >= 4  # ROC per level + reliability diagrams
    for src in chk.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    text = " ".join(chk.text)
    assert "level = video" in text and "broken.jpg" in text and "no_face" in text


def test_several_detectors_add_a_fused_score_and_html_is_escaped(folder_ds, tmp_path, bases):
    weird = tmp_path / "weird"
    im, box = bases["astronaut"]
    _write(weird / "real" / "a.png", im)
    _write(weird / "fake" / "<script>alert(1)</script>" / "b.png", _tint(im, box))
    run = _run(weird, tmp_path, detector=["test_eval_blue", "test_eval_blue_ctx"], use_cache=False)
    assert run.scorers == ["test_eval_blue", "test_eval_blue_ctx", "fused(test_eval_blue+test_eval_blue_ctx)"]
    s = next(x for x in run.results["samples"] if x["label"] == 1)["scores"]
    # one face: the fused score is the mean of the two detectors' probabilities
    assert s[run.scorers[2]] == pytest.approx((s["test_eval_blue"] + s["test_eval_blue_ctx"]) / 2)
    page = (tmp_path / "run" / "report.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_empty_class_gives_null_with_reason_and_a_report(folder_ds, tmp_path, shared_cache):
    ds = load_dataset(str(folder_ds)).filter(lambda s: s.label == 1, name="fakes-only")
    run = _run(ds, tmp_path, cache_dir=shared_cache)
    for r in run.rows(section="overall"):
        m = r["metrics"][f"roc_auc@{r['level']}"]
        assert m["value"] is None and "no negative" in m["reason"]
        assert r["ci"][f"roc_auc@{r['level']}"]["low"] is None
    assert run.results["counts"]["error"] == 1
    page = (tmp_path / "run" / "report.html").read_text()
    assert "null (no negative (real) samples)" in page


def test_dataset_skips_are_reported(tmp_path, bases):
    im, box = bases["hopper"]
    _write(tmp_path / "d" / "a.png", im)
    _write(tmp_path / "d" / "b.png", _tint(im, box))
    rows = [("a.png", "real"), ("b.png", "fake"), ("missing.png", "fake"), ("a.png", "maybe")]
    with open(tmp_path / "d" / "list.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label"])
        w.writerows(rows)
    run = _run(tmp_path / "d" / "list.csv", tmp_path)
    sk = run.results["skipped"]["dataset"]
    assert sk == {"missing file": 1, "unknown label 'maybe'": 1}
    assert run.value("roc_auc", level="image") == 1.0


def test_frame_folder_samples_are_sampled_frames(folder_ds, tmp_path, bases, shared_cache):
    im, box = bases["hopper"]
    for k in range(3):
        _write(tmp_path / "fakeseq" / f"f{k}.png", _tint(np.roll(im, (k + 1) * 4, axis=0), box + [0, (k + 1) * 4] * 2))
    with open(tmp_path / "list.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label"])
        w.writerow([str(folder_ds / "real" / "clips" / "seq1"), "real"])
        w.writerow([str(tmp_path / "fakeseq"), "fake"])
    run = _run(tmp_path / "list.csv", tmp_path, frames=2, cache_dir=shared_cache)
    recs = run.results["samples"]
    assert [r["media_type"] for r in recs] == ["frames", "frames"]
    assert all(r["unit"] == "frame" and [f["index"] for f in r["frames"]] == [0, 2] for r in recs)
    levels = {r["level"]: (r["n_pos"], r["n_neg"]) for r in run.rows(section="overall")}
    assert levels == {"frame": (2, 2), "video": (1, 1)}
    assert run.value("roc_auc", level="video") == 1.0


# ------------------------------------------------------------------------------------------------
# Cache
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_ds(folder_ds) -> Dataset:
    """Two photos, the faceless photo, the corrupt file and the real video (7 face detections)."""
    keep = {"astronaut.png", "coffee.png", "broken.jpg", "clip_real.mp4"}
    return load_dataset(str(folder_ds)).filter(lambda s: Path(s.path).name in keep, name="small")


def test_cache_hit_skips_face_detection_and_decoding(small_ds, tmp_path, monkeypatch):
    from facetrust import io as fio
    from facetrust.faces.detect import YuNetDetector

    det_spy = _Spy(monkeypatch, YuNetDetector, "_detect")
    dec_spy = _Spy(monkeypatch, fio, "open_media")
    cold = _run(small_ds, tmp_path, "cold", detector="test_eval_blue_ctx", n_boot=0, report=False)
    assert det_spy.n == 2 + 1 + 4  # every readable photo and sampled frame, once
    # warm, needs-frame detector: frames are decoded again, faces come from the cache
    det_spy.n = dec_spy.n = 0
    warm_ctx = _run(small_ds, tmp_path, "warm_ctx", detector="test_eval_blue_ctx", n_boot=0, report=False)
    assert det_spy.n == 0 and dec_spy.n == 4  # the broken file's error is cached too
    assert [s["scores"] for s in warm_ctx.results["samples"]] == [s["scores"] for s in cold.results["samples"]]
    # warm, crop-only detector: crops were cached too, so nothing is decoded at all
    det_spy.n = dec_spy.n = 0
    warm_crop = _run(small_ds, tmp_path, "warm_crop", detector="test_eval_blue", n_boot=0, report=False)
    assert det_spy.n == 0 and dec_spy.n == 0
    t = warm_crop.results["timing"]
    assert t["scored_from_cached_crops"] == 4 and t["cache"]["hits"] == 5
    assert warm_crop.results["counts"]["error"] == 1 and warm_crop.results["counts"]["no_face"] == 1
    # and its scores equal a fresh, uncached run of the same detector
    fresh = _run(small_ds, tmp_path, "fresh", detector="test_eval_blue", use_cache=False, n_boot=0, report=False)
    got = {s["path"]: s["scores"] for s in warm_crop.results["samples"]}
    want = {s["path"]: s["scores"] for s in fresh.results["samples"]}
    assert got.keys() == want.keys() and sum(v is not None for v in want.values()) == 3
    for k in want:
        if want[k] is None:
            assert got[k] is None
        else:
            assert got[k]["test_eval_blue"] == pytest.approx(want[k]["test_eval_blue"], abs=1e-9)


def test_corrupted_cache_files_are_recomputed(small_ds, tmp_path, monkeypatch):
    from facetrust.faces.detect import YuNetDetector

    first = _run(small_ds, tmp_path, "first", n_boot=0, report=False)
    files = sorted((tmp_path / "cache").rglob("*.npz"))
    n_faces_files = sum(f.name.endswith(".faces.npz") for f in files)
    assert n_faces_files == 5 and any(".crops-64-0.1" in f.name for f in files)
    for i, f in enumerate(files):  # garbage, truncation, emptiness
        data = f.read_bytes()
        f.write_bytes([b"garbage" * 10, data[: len(data) // 2], b""][i % 3])
    spy = _Spy(monkeypatch, YuNetDetector, "_detect")
    again = _run(small_ds, tmp_path, "again", n_boot=0, report=False)
    stats = again.results["timing"]["cache"]
    assert stats["corrupt"] >= n_faces_files and stats["hits"] == 0
    assert spy.n == 7
    assert [s["scores"] for s in again.results["samples"]] == [s["scores"] for s in first.results["samples"]]
    spy.n = 0
    third = _run(small_ds, tmp_path, "third", n_boot=0, report=False)  # rewritten files are good again
    assert spy.n == 0 and third.results["timing"]["cache"]["corrupt"] == 0


# ------------------------------------------------------------------------------------------------
# Protocols
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def split_manifest(folder_ds, tmp_path_factory) -> Path:
    """A manifest over the photos with split, family and gender columns."""
    d = tmp_path_factory.mktemp("manifest")
    rows = [
        ("real/astronaut.png", "real", "real", "test", "female"),
        ("real/hopper.png", "real", "real", "test", "female"),
        ("real/astronaut_flip.png", "real", "real", "train", "female"),
        ("real/hopper_flip.png", "real", "real", "val", "female"),
        ("fake/tint/astronaut.png", "fake", "tint", "test", "female"),
        ("fake/tint/hopper.png", "fake", "tint", "train", "female"),
        ("fake/tint/astronaut_flip.png", "fake", "tint_flip", "test", "male"),
        ("fake/tint/hopper_flip.png", "fake", "tint_flip", "val", "male"),
    ]
    with open(d / "manifest.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label", "family", "split", "gender"])
        for p, lab, fam, split, g in rows:
            w.writerow([str(folder_ds / p), lab, "real" if lab == "real" else fam, split, g])
    return d / "manifest.csv"


def test_in_domain_scores_the_test_split_only(split_manifest, tmp_path, shared_cache):
    run = _run(split_manifest, tmp_path, cache_dir=shared_cache)
    assert run.results["dataset"]["selection"] == "split=test"
    assert run.results["dataset"]["n_evaluated"] == 4
    assert {s["split"] for s in run.results["samples"]} == {"test"}
    # a synth-style manifest: the family column is the per-kind key
    assert run.results["settings"]["kind_attr"] == "family"
    assert {r["kind"] for r in run.rows(section="per_kind")} == {"tint", "tint_flip", "real"}
    cross = _run(split_manifest, tmp_path, "cross", protocol="cross-dataset", trained_on="faces-train",
                 cache_dir=shared_cache)
    assert cross.results["protocol"]["trained_on"] == "faces-train"
    assert cross.results["metrics"][0]["metrics"] == run.results["metrics"][0]["metrics"]


def test_leave_one_family_out_folds_and_train_hook(split_manifest, tmp_path, shared_cache):
    run = _run(split_manifest, tmp_path, protocol="lofo", cache_dir=shared_cache)
    folds = {r["fold"]: r for r in run.rows(section="fold")}
    assert set(folds) == {"tint", "tint_flip"}
    assert (folds["tint"]["n_pos"], folds["tint"]["n_neg"]) == (1, 2)  # test-split fakes of the family vs test reals
    assert (folds["tint_flip"]["n_pos"], folds["tint_flip"]["n_neg"]) == (1, 2)

    seen = []

    def train_fn(train_samples):
        seen.append(train_samples)
        return "test_eval_blue_ctx"

    hooked = _run(split_manifest, tmp_path, "hooked", protocol="leave-one-family-out", train_fn=train_fn,
                  cache_dir=shared_cache)
    assert len(seen) == 2
    for fold_train, held in zip(seen, ("tint", "tint_flip")):
        assert {s.split for s in fold_train} <= {"train", "val"}  # never a test sample
        assert all(s.attrs.get("family") != held for s in fold_train if s.label == 1)
    rows = hooked.rows(section="fold")
    assert {r["scorer"] for r in rows} == {"test_eval_blue_ctx"}
    assert [f["trained_detector"] for f in hooked.results["folds"]] == ["test_eval_blue_ctx"] * 2


def test_fairness_groups_and_gaps(split_manifest, tmp_path, shared_cache):
    run = _run(split_manifest, tmp_path, protocol="fairness", cache_dir=shared_cache)
    assert run.results["fairness"]["attribute"] == "gender"
    groups = {r["group"]: r for r in run.rows(section="fairness")}
    assert set(groups) == {"female", "male"}
    assert (groups["female"]["n_pos"], groups["female"]["n_neg"]) == (1, 2)
    assert (groups["male"]["n_pos"], groups["male"]["n_neg"]) == (1, 0)
    gap = run.results["fairness"]["gaps"][0]
    # male has no reals: its AUC and FPR are undefined, so no AUC gap can be formed
    assert gap["max_gap_roc_auc"]["value"] is None and gap["max_gap_roc_auc"]["reason"]
    assert gap["max_gap_tpr"]["value"] is not None
    assert {s["attrs"]["gender"] for s in run.results["samples"]} == {"female", "male"}


def test_robustness_sweep_reports_drop_vs_clean(split_manifest, tmp_path, shared_cache):
    run = _run(split_manifest, tmp_path, protocol="robustness", perturbations=["blur:2", "jpeg:30"],
               cache_dir=shared_cache)
    rob = run.results["robustness"]
    assert rob["conditions"] == ["blur:2", "jpeg:30"]
    clean = run.value("roc_auc", level="image")
    for r in rob["summary"]:
        assert r["clean_roc_auc"] == clean
        assert r["drop"] == pytest.approx(clean - r["roc_auc"])
    conds = {s["condition"] for s in run.results["samples"]}
    assert conds == {"clean", "blur:2", "jpeg:30"}
    # the perturbed media were really scored differently
    by = {(Path(s["path"]).name, s["label"], s["condition"]): s["scores"] for s in run.results["samples"]}
    a = by[("astronaut.png", 1, "clean")]["test_eval_blue"]
    b = by[("astronaut.png", 1, "blur:2")]["test_eval_blue"]
    assert a != b
    page = (tmp_path / "run" / "report.html").read_text()
    assert "Robustness" in page and "jpeg:30" in page


# ------------------------------------------------------------------------------------------------
# CLI and leaderboard on real runs
# ------------------------------------------------------------------------------------------------


def test_cli_eval_and_leaderboard(folder_ds, tmp_path, capsys, shared_cache):
    from facetrust.cli import main

    out = tmp_path / "cli_out"
    rc = main(["eval", "--detector", "test_eval_blue", "--dataset", str(folder_ds), "--out", str(out),
               "--cache", str(shared_cache), "--frames", "4", "--n-boot", "10", "--kinds", "tint"])
    assert rc == 0
    res = json.loads((out / "results.json").read_text())
    assert res["settings"]["kinds"] == ["tint"]
    assert {s["kind"] for s in res["samples"]} == {"tint", "real", "clips"}  # reals kept: no real kind named
    assert (out / "report.html").is_file()
    printed = capsys.readouterr().out
    assert "ROC AUC" in printed and "tint" in printed

    assert main(["leaderboard", str(out), "--csv", str(tmp_path / "lb.csv")]) == 0
    rows = list(csv.DictReader(open(tmp_path / "lb.csv")))
    assert {r["level"] for r in rows} == {"image", "frame", "video"}
    img = next(r for r in rows if r["level"] == "image")
    assert float(img["roc_auc"]) == 1.0 and img["tint"] == "1.0"

    assert main(["eval", "--detector", "no_such_detector", "--dataset", str(folder_ds), "--out", str(out), "-q"]) == 2
    assert main(["eval", "--detector", "test_eval_blue", "--dataset", str(folder_ds), "--out", str(out),
                 "--protocol", "nonsense", "-q"]) == 2


@register_detector("test_eval_blue_strict")
class BlueCastStrict(BlueCast):
    """The blue cue shipped with its own operating point, as a trained detector's card has."""

    info = DetectorInfo(name="test_eval_blue_strict", version="0.1", crop=CropSpec(64, 0.1), catches="(test)",
                        default_threshold=0.55)


def test_default_threshold_is_the_one_scan_uses(folder_ds, tmp_path, shared_cache):
    run = _run(folder_ds, tmp_path, detector="test_eval_blue_strict", cache_dir=shared_cache)
    assert run.results["settings"]["threshold"] == 0.55  # the detector's, not a blanket 0.5
    ok = [s for s in run.results["samples"] if s["status"] == "ok" and s["unit"] == "image"]
    y = np.array([s["label"] for s in ok])
    p = np.array([s["scores"]["test_eval_blue_strict"] for s in ok])
    image = next(m for m in run.results["metrics"] if m["level"] == "image" and m["section"] == "overall")
    assert image["metrics"]["bpcer@image"]["value"] == pytest.approx(M.bpcer(y, p, 0.55).value)
    both = _run(folder_ds, tmp_path, name="both", detector=["test_eval_blue_strict", "test_eval_blue"],
                cache_dir=shared_cache)
    assert both.results["settings"]["threshold"] == 0.5  # several detectors: the fused 0.5, as in scan
    assert _run(folder_ds, tmp_path, name="set", detector="test_eval_blue_strict", threshold=0.7,
                cache_dir=shared_cache).results["settings"]["threshold"] == 0.7
