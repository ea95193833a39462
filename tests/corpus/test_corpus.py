"""Corpus recipes: committed recipes are valid and guard-clean; build extracts and verifies bytes."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from facetrust.corpus import RecipeRow, build_corpus, read_recipe, write_recipe

REPO = Path(__file__).resolve().parents[2]
RECIPES = sorted((REPO / "recipes").glob("*.tsv"))
GUARD = REPO.parent / "shared" / "tools" / "eval_guard.py"


def test_committed_recipes_parse_and_name_their_sources():
    assert RECIPES, "recipes/*.tsv are committed"
    for path in RECIPES:
        rows = read_recipe(path)
        assert rows, path
        for r in rows:  # every row can be rebuilt byte-exactly and says where it came from
            assert len(r.commit) == 40 and len(r.sha256) == 64 and r.bytes > 0 and r.terms
            assert r.label == "fake" or not r.generator


@pytest.mark.shared_data
def test_eval_guard_passes_every_committed_recipe():
    if not GUARD.is_file():
        pytest.skip("../shared/tools/eval_guard.py is absent")
    for path in RECIPES:
        out = subprocess.run([sys.executable, str(GUARD), "--recipe", str(path)], capture_output=True, text=True)
        assert out.returncode == 0, f"{path.name}: {out.stdout}{out.stderr}"
        assert " 0 blocked" in out.stdout


def _git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin"})


@pytest.fixture()
def snapshot(tmp_path, astronaut):
    """A public-repository snapshot laid out as the fetch tool does: MIRROR/owner+name/repo (bare)."""
    work = tmp_path / "work"
    (work / "img").mkdir(parents=True)
    ok, buf = cv2.imencode(".png", cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR))
    (work / "img" / "astronaut.png").write_bytes(buf.tobytes())
    (work / "img" / "noise.png").write_bytes(
        cv2.imencode(".png", np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8))[1].tobytes())
    _git("init", "-q", cwd=work)
    _git("add", ".", cwd=work)
    _git("commit", "-qm", "media", cwd=work)
    mirror = tmp_path / "mirror"
    _git("clone", "-q", "--bare", str(work), str(mirror / "someone+faces" / "repo"), cwd=tmp_path)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=work, capture_output=True, text=True).stdout.strip()
    rows = []
    for name in ("astronaut.png", "noise.png"):
        data = (work / "img" / name).read_bytes()
        blob = subprocess.run(["git", "rev-parse", f"HEAD:img/{name}"], cwd=work, capture_output=True,
                              text=True).stdout.strip()
        rows.append(RecipeRow(source_repo="someone/faces", commit=commit, path=f"img/{name}", blob=blob,
                              sha256=hashlib.sha256(data).hexdigest(), bytes=len(data), label="real",
                              kind="camera-photo", group=name, terms="test media made here"))
    return mirror, rows


def test_build_extracts_verifies_and_reuses(snapshot, tmp_path):
    mirror, rows = snapshot
    recipe = tmp_path / "r.tsv"
    write_recipe(recipe, rows)
    assert read_recipe(recipe) == sorted(rows, key=lambda r: r.local_path)
    report = build_corpus(recipe, mirror, tmp_path / "out", guard=None)
    assert report.ok and len(report.built) == 2 and report.reused == 0
    for r in rows:
        data = (tmp_path / "out" / "files" / r.local_path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == r.sha256
    assert len(read_recipe(tmp_path / "out" / "manifest.tsv")) == 2
    again = build_corpus(recipe, mirror, tmp_path / "out", guard=None)
    assert again.reused == 2 and again.ok


def test_build_reports_wrong_bytes_and_missing_snapshots(snapshot, tmp_path):
    mirror, rows = snapshot
    bad = [RecipeRow(**{**r.__dict__, "sha256": "0" * 64}) if i == 0 else r for i, r in enumerate(rows)]
    bad.append(RecipeRow(**{**rows[0].__dict__, "source_repo": "nobody/none", "path": "x.png"}))
    recipe = tmp_path / "bad.tsv"
    write_recipe(recipe, bad)
    report = build_corpus(recipe, mirror, tmp_path / "out", guard=None)
    assert not report.ok
    assert report.mismatched == [bad[0].local_path]
    assert len(report.missing) == 1 and "nobody" in report.missing[0]
    assert not (tmp_path / "out" / "files" / bad[0].local_path).exists()  # never written unverified


def test_recipe_rows_are_validated():
    base = dict(source_repo="a/b", commit="0" * 40, path="p.jpg", blob="1" * 40, sha256="2" * 64, bytes=1,
                label="fake", kind="generated-gan", group="g", generator="StyleGAN2", terms="MIT")
    RecipeRow(**base)
    with pytest.raises(ValueError, match="generator"):
        RecipeRow(**{**base, "generator": ""})
    with pytest.raises(ValueError, match="label"):
        RecipeRow(**{**base, "label": "maybe"})
    with pytest.raises(ValueError, match="group"):
        RecipeRow(**{**base, "group": ""})


def test_build_drops_what_the_guard_blocks(snapshot, tmp_path):
    """A stand-in guard that blocks one file by name: the file is removed and listed."""
    mirror, rows = snapshot
    guard = tmp_path / "guard.py"
    guard.write_text("class Guard:\n"
                     "    def repo_blocked(self, repo):\n        return False\n"
                     "    def check_file(self, path):\n        return 'eval copy' if 'noise' in str(path) else None\n")
    recipe = tmp_path / "r.tsv"
    write_recipe(recipe, rows)
    report = build_corpus(recipe, mirror, tmp_path / "out", guard=guard)
    assert report.blocked == ["someone+faces/img/noise.png"]
    assert [r.path for r in report.built] == ["img/astronaut.png"]
    assert not (tmp_path / "out" / "files" / "someone+faces" / "img" / "noise.png").exists()
    assert [r.path for r in read_recipe(tmp_path / "out" / "manifest.tsv")] == ["img/astronaut.png"]


def test_face_crops_keep_native_resolution_and_groups(snapshot, tmp_path, astronaut):
    from facetrust.corpus import FaceCropSettings, extract_face_crops
    from facetrust.corpus.faces import context_crop

    mirror, rows = snapshot
    recipe = tmp_path / "r.tsv"
    write_recipe(recipe, rows)
    build_corpus(recipe, mirror, tmp_path / "corpus", guard=None)
    res = extract_face_crops(tmp_path / "corpus", tmp_path / "faces", FaceCropSettings(), guard=None)
    assert res["crops"] == 1 and not res["failed"]  # the astronaut's face; the noise image has none
    ids = list(csv.reader(open(tmp_path / "faces" / "identities.tsv"), delimiter="\t"))
    assert ids[0][0].startswith("someone+faces/") and ids[0][1] == "someone+faces:astronaut.png"
    crop = cv2.imread(str(tmp_path / "faces" / ids[0][0]))
    assert 150 < crop.shape[0] == crop.shape[1] <= FaceCropSettings().max_side  # not up-sampled
    # a box at the image corner is completed by mirroring, never by black borders
    c = context_crop(astronaut, np.array([0, 0, 40, 40]), FaceCropSettings())
    assert c.shape[:2] == (96, 96) and c.min() >= 0 and (c.reshape(-1, 3).sum(1) == 0).mean() < 0.05


def _crop_folder(d, images) -> list[dict]:
    """A synth folder of genuine-labelled crops (what `synth --per-face 0` writes), rows returned."""
    from facetrust.synth.writer import MANIFEST_COLUMNS

    (d / "images").mkdir(parents=True)
    rows = []
    for i, img in enumerate(images):
        cv2.imwrite(str(d / "images" / f"{i}.png"), img)
        row = dict.fromkeys(MANIFEST_COLUMNS, "")
        row.update(sample_id=str(i), path=f"images/{i}.png", label=0, family="real", split="train", seed=0,
                   width=img.shape[1], height=img.shape[0], outside_frac=0.0, source_path=f"repo/fake__{i}.png",
                   identity_group=str(i))
        rows.append(row)
    _write_rows(d, rows)
    return rows


def _write_rows(d, rows) -> None:
    from facetrust.synth.writer import MANIFEST_COLUMNS

    with open(d / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS)
        w.writeheader()
        w.writerows(rows)


def test_mark_generated_relabels_crops_and_refuses_forgery_folders(tmp_path):
    from facetrust.corpus.generated import GENERATED, mark_generated
    from facetrust.synth.writer import read_manifest

    d = tmp_path / "gen"
    rows = _crop_folder(d, [np.full((32, 32, 3), 100, np.uint8)] * 3)
    labels = tmp_path / "labels.tsv"
    labels.write_text("relpath\tgroup\tlabel\tkind\tgenerator\n" + "".join(
        f"repo/fake__{i}.png\t{i}\t{'fake' if i else 'real'}\tgenerated-gan\tG\n" for i in range(3)))
    with pytest.raises(ValueError, match="not declared fake"):
        mark_generated(d, labels)
    assert mark_generated(d) == 3
    out = read_manifest(d / "manifest.csv")
    assert {(r["label"], r["family"]) for r in out} == {(1, GENERATED)}
    assert cv2.imread(str(d / out[0]["mask_path"]), cv2.IMREAD_GRAYSCALE).min() == 255
    rows[0].update(family="swap", label=1)
    _write_rows(d, rows)
    with pytest.raises(ValueError, match="forgery"):
        mark_generated(d)


def test_mark_generated_can_drop_crops_with_figure_grid_gaps(tmp_path):
    from facetrust.corpus.generated import has_grid_edge, mark_generated
    from facetrust.synth.writer import read_manifest

    rng = np.random.default_rng(0)
    face = rng.integers(60, 200, (64, 64, 3), dtype=np.uint8)
    gap = face.copy()
    gap[:, 50:53] = 5  # the black gap between two tiles of a figure
    dark_corner = face.copy()
    dark_corner[:20, :20] = 0  # dark, but no full line: kept
    assert has_grid_edge(gap) and not has_grid_edge(face) and not has_grid_edge(dark_corner)
    d = tmp_path / "gen"
    _crop_folder(d, [face, gap, dark_corner])
    assert mark_generated(d, drop_grid_edges=True) == 2
    assert [r["sample_id"] for r in read_manifest(d / "manifest.csv")] == ["0", "2"]


def test_cli_builds_a_recipe(snapshot, tmp_path):
    mirror, rows = snapshot
    recipe = tmp_path / "r.tsv"
    write_recipe(recipe, rows)
    out = subprocess.run([sys.executable, "-m", "facetrust", "corpus", "build", "--recipe", str(recipe),
                          "--mirror-root", str(mirror), "--out", str(tmp_path / "c"), "--guard", "none"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["built"] == 2
