"""Identity groups and splits: deterministic, by identity, pinned folders, no person in two splits."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from facetrust.synth import SplitPolicy, generate, read_manifest
from facetrust.synth.splits import DEFAULT_PINS, group_for, load_identities


def test_split_is_deterministic_by_group_and_seed():
    pol = SplitPolicy(seed=3)
    groups = [f"photo:{i}" for i in range(4000)]
    first = [pol.assign(g, "utk") for g in groups]
    assert first == [SplitPolicy(seed=3).assign(g, "utk") for g in groups]
    counts = Counter(first)
    assert abs(counts["train"] / 4000 - 0.8) < 0.03 and abs(counts["val"] / 4000 - 0.1) < 0.02
    other = [SplitPolicy(seed=4).assign(g, "utk") for g in groups]
    assert other != first


def test_pinned_folders_go_to_their_split():
    pol = SplitPolicy()
    assert DEFAULT_PINS == {"celeba_align_89x109": "train", "celeba_crops_facemask12k": "train"}
    assert {pol.assign(f"id:celeba:{i}", "celeba_align_89x109") for i in range(200)} == {"train"}
    assert {pol.assign(f"photo:{i}", "celeba_crops_facemask12k") for i in range(200)} == {"train"}
    assert SplitPolicy(pinned={}).assign("x", "celeba_align_89x109") in {"train", "val", "test"}
    with pytest.raises(ValueError):
        SplitPolicy(fractions={"train": -1.0})


def test_identities_from_details_tsv_and_identities_tsv(tmp_path):
    root = tmp_path / "faces-train"
    (root / "images").mkdir(parents=True)
    (root / "DETAILS.tsv").write_text(
        "relpath\tsource\tlabel_from_source\n"
        "images/celeba_align_89x109/000001.jpg\tceleba_align_89x109\tceleba:2880\n"
        "images/utkface_crop_part1/1_0_0_x.jpg\tutkface_crop_part1\tutk:age=1,gender=0,race=0\n"
    )
    ids = load_identities(root)
    assert ids == {"images/celeba_align_89x109/000001.jpg": "celeba:2880"}  # UTK labels are not ids
    assert load_identities(root / "images") == {"celeba_align_89x109/000001.jpg": "celeba:2880"}
    assert group_for("images/celeba_align_89x109/000001.jpg", ids) == "id:celeba:2880"
    assert group_for("images/utkface_crop_part1/1_0_0_x.jpg", ids) == "photo:images/utkface_crop_part1/1_0_0_x.jpg"
    (root / "identities.tsv").write_text("a.jpg\tbob\nb.jpg\tbob\n")
    assert load_identities(root) == {"a.jpg": "bob", "b.jpg": "bob"}


def test_no_identity_in_two_splits_and_partners_from_the_same_split(faces_dir, tmp_path):
    """Photos of one identity share a split; every partner comes from the sample's split."""
    (faces_dir / "identities.tsv").write_text("astronaut.png\teileen\nastronaut_wide.png\teileen\n")
    try:
        out = tmp_path / "ds"
        pol = SplitPolicy(fractions={"train": 0.5, "test": 0.5}, pinned={}, seed=0)
        generate(faces_dir, out, split=pol, families=("swap", "region_edit"), perturb_prob=0.0)
    finally:
        (faces_dir / "identities.tsv").unlink()
    rows = read_manifest(out / "manifest.csv")
    split_of = defaultdict(set)
    for r in rows:
        split_of[r["identity_group"]].add(r["split"])
        assert r["path"].startswith(f"images/{r['split']}/")
    assert all(len(s) == 1 for s in split_of.values())
    assert split_of["id:eileen"] and len({r["source_path"] for r in rows if r["identity_group"] == "id:eileen"}) == 2
    for r in rows:
        if r["partner_group"]:
            assert r["partner_group"] != r["identity_group"]
            assert split_of[r["partner_group"]] == {r["split"]}


@pytest.mark.shared_data
def test_faces_train_groups_and_pins(shared_faces):
    from facetrust.synth import SynthConfig, prepare_sources

    records, skipped, n = prepare_sources(shared_faces, SynthConfig(), limit=40)
    assert n > 20000 and len(records) + sum(skipped.values()) == 40
    for r in records:
        if r.folder == "celeba_align_89x109":
            assert r.group.startswith("id:celeba:") and r.split == "train"
        elif r.folder == "celeba_crops_facemask12k":
            assert r.split == "train"
        else:
            assert r.group == f"photo:{r.relpath}"
    assert {r.folder for r in records} >= {"celeba_align_89x109", "utkface_crop_part1"}


def test_list_images_follows_linked_folders_once(tmp_path):
    from facetrust.synth.sources import list_images

    data = tmp_path / "data" / "utk"
    data.mkdir(parents=True)
    for name in ("a.jpg", "b.PNG", "notes.txt"):
        (data / name).write_bytes(b"x")
    root = tmp_path / "root"
    root.mkdir()
    (root / "utk").symlink_to(data, target_is_directory=True)  # a tree assembled from links
    (data / "loop").symlink_to(data, target_is_directory=True)  # a cycle must not recurse forever
    assert list_images(root) == ["utk/a.jpg", "utk/b.PNG"]
