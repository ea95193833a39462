"""Dataset adapters, each on a tiny fabricated copy of its layout built in tmp_path.

File contents are never read by the adapters, so empty files stand in for images and videos.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from facetrust.eval.datasets import (
    Dataset,
    Sample,
    detect_format,
    load_celebdf,
    load_dataset,
    load_df40,
    load_dfdc,
    load_ffpp,
    load_folder,
    load_forgerynet,
    load_manifest,
    load_wild_dev,
    load_wilddeepfake,
    parse_label,
)


def touch(root: Path, *rels: str) -> None:
    for rel in rels:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"")


def by_name(ds: Dataset) -> dict[str, Sample]:
    return {Path(s.path).name: s for s in ds}


def reasons(ds: Dataset) -> dict[str, str]:
    return {Path(p).name: r for p, r in ds.skipped}


# ------------------------------------------------------------------ core types


def test_sample_validation_and_labels() -> None:
    with pytest.raises(ValueError):
        Sample("x.png", 2, "fake", "x")
    with pytest.raises(ValueError):
        Sample("x.png", 1, "fake", "x", media_type="audio")
    assert [parse_label(v) for v in ("REAL", "fake", "1", 0, "bonafide", "Attack", "maybe", None)] == [
        0, 1, 1, 0, 0, 1, None, None,
    ]


# ------------------------------------------------------------------ folder tree


def test_folder_tree(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "real/a.jpg",
        "real/ffhq/b.png",
        "fake/stylegan/c.png",
        "fake/deepfakes/vid1/000.png",
        "fake/deepfakes/vid1/001.png",
        "fake/x.mp4",
        "fake/notes.txt",
        "fake/.DS_Store",
        "fake/big.tar.gz",
    )
    ds = load_folder(tmp_path)
    assert ds.counts("label") == {0: 2, 1: 4}
    s = by_name(ds)
    assert s["a.jpg"].kind == "real" and s["b.png"].kind == "ffhq" and s["c.png"].kind == "stylegan"
    assert s["x.mp4"].kind == "fake" and s["x.mp4"].media_type == "video"
    assert s["000.png"].group == s["001.png"].group == "fake/deepfakes/vid1"  # frames of one video
    assert s["c.png"].group == "fake/stylegan/c.png"
    r = reasons(ds)
    assert "unsupported file type" in r["notes.txt"] and r["big.tar.gz"] == "archive not extracted"
    assert ".DS_Store" not in r
    assert detect_format(tmp_path) == "folder"


def test_folder_tree_with_categories(tmp_path: Path) -> None:
    touch(tmp_path, "car/0_real/a.png", "car/1_fake/b.png", "cat/1_fake/c.png")
    ds = load_folder(tmp_path)
    s = by_name(ds)
    assert (s["a.png"].label, s["b.png"].label, s["c.png"].kind) == (0, 1, "cat")
    assert s["b.png"].attrs["category"] == "car"
    assert detect_format(tmp_path) == "folder"
    with pytest.raises(ValueError):
        load_folder(tmp_path / "car" / "0_real")


# ------------------------------------------------------------------ manifest


def _write_manifest(root: Path) -> Path:
    touch(root, "img/a.png", "img/b.png", "img/c.png", "vid/d.mp4", "frames/e/000.png")
    m = root / "list.csv"
    m.write_text(
        "path,label,kind,group,split,method,segments\n"
        "img/a.png,REAL,,,test,,\n"
        "img/b.png,1,face-swap,v1,test,simswap,\"[[0, 5]]\"\n"
        "img/c.png,maybe,,,,,\n"
        "img/missing.png,fake,,,,,\n"
        "img/b.png,1,face-swap,v1,test,simswap,\n"
        "vid/d.mp4,fake,,,train,,\n"
        "frames/e,real,,,,,\n"
        ",1,,,,,\n",
        encoding="utf-8",
    )
    return m


def test_manifest_csv(tmp_path: Path) -> None:
    ds = load_manifest(_write_manifest(tmp_path))
    s = by_name(ds)
    assert set(s) == {"a.png", "b.png", "d.mp4", "e"}
    assert s["a.png"].label == 0 and s["a.png"].kind == "real" and s["a.png"].group == "img/a.png"
    assert s["b.png"].attrs == {"method": "simswap", "segments": [[0, 5]]}
    assert s["b.png"].group == "v1" and s["b.png"].split == "test"
    assert s["d.mp4"].media_type == "video" and s["e"].media_type == "frames"
    assert sorted(r for _, r in ds.skipped) == ["duplicate row", "empty path", "missing file", "unknown label 'maybe'"]
    assert detect_format(tmp_path / "list.csv") == "manifest"
    assert len(load_dataset(str(tmp_path / "list.csv"))) == 4
    assert len(load_dataset("manifest:" + str(tmp_path / "list.csv"))) == 4


def test_manifest_tsv_and_hash(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for root in (a, b):
        touch(root, "x.png", "y.png")
        (root / "m.tsv").write_text("relpath\tlabel\nx.png\t0\ny.png\t1\n", encoding="utf-8")
    da, db = load_manifest(a / "m.tsv"), load_manifest(b / "m.tsv")
    assert len(da) == 2 and da.manifest_hash == db.manifest_hash  # independent of where it lives
    (b / "m.tsv").write_text("relpath\tlabel\nx.png\t1\ny.png\t1\n", encoding="utf-8")
    assert load_manifest(b / "m.tsv").manifest_hash != da.manifest_hash
    (b / "bad.tsv").write_text("name\tclass\nx.png\t1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="path column"):
        load_manifest(b / "bad.tsv")


def test_manifest_parquet(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    touch(tmp_path, "x.png", "y.png")
    pq.write_table(pa.table({"path": ["x.png", "y.png", "z.png"], "label": [0, 1, 1]}), tmp_path / "m.parquet")
    ds = load_manifest(tmp_path / "m.parquet")
    assert ds.counts("label") == {0: 1, 1: 1} and reasons(ds) == {"z.png": "missing file"}


# ------------------------------------------------------------------ FaceForensics++


def _ffpp(root: Path) -> None:
    touch(
        root,
        "original_sequences/youtube/c23/videos/000.mp4",
        "original_sequences/youtube/c23/videos/003.mp4",
        "original_sequences/youtube/c23/videos/004.mp4",
        "manipulated_sequences/Deepfakes/c23/videos/000_003.mp4",
        "manipulated_sequences/Deepfakes/c23/videos/003_000.mp4",
        "manipulated_sequences/Deepfakes/c23/videos/readme.txt",
        "manipulated_sequences/Face2Face/c23/videos/000_003.mp4",
        "manipulated_sequences/FaceSwap/c23/videos/004_982.mp4",
        "manipulated_sequences/FaceSwap/c23/videos/weird.mp4",
        "manipulated_sequences/Deepfakes/c40/videos/000_003.mp4",
        "original_sequences/youtube/c40/videos/000.mp4",
        "manipulated_sequences/Deepfakes/c23/frames/000_003/000.png",
        "original_sequences/youtube/c23/frames/000/000.png",
    )
    (root / "splits").mkdir()
    (root / "splits" / "train.json").write_text(json.dumps([["000", "003"]]))
    (root / "splits" / "test.json").write_text(json.dumps([["004", "982"]]))


def test_ffpp(tmp_path: Path) -> None:
    _ffpp(tmp_path)
    ds = load_ffpp(tmp_path)
    got = {(s.attrs["method"], Path(s.path).stem): s for s in ds}
    assert set(got) == {
        ("original", "000"), ("original", "003"), ("original", "004"),
        ("Deepfakes", "000_003"), ("Deepfakes", "003_000"), ("Face2Face", "000_003"), ("FaceSwap", "004_982"),
    }
    assert got[("original", "003")].label == 0 and got[("original", "003")].kind == "real"
    df = got[("Deepfakes", "003_000")]
    assert (df.label, df.kind, df.split, df.attrs["target"], df.attrs["source_id"]) == (1, "face-swap", "train", "003", "000")
    assert got[("Face2Face", "000_003")].kind == "face-reenactment"
    assert got[("FaceSwap", "004_982")].split == "test" and got[("original", "004")].split == "test"
    assert all(s.attrs["source"] == "FF++" and s.attrs["compression"] == "c23" for s in ds)
    r = reasons(ds)
    assert r["readme.txt"].startswith("not a video") and "target" in r["weird.mp4"]
    assert sum("missing folder" in why for _, why in ds.skipped) == 2  # NeuralTextures, FaceShifter
    c40 = load_ffpp(tmp_path, compression="c40")
    assert len(c40) == 2 and {s.attrs["compression"] for s in c40} == {"c40"}
    train = load_ffpp(tmp_path, split="train")
    assert {s.split for s in train} == {"train"} and len(train) == 5
    frames = load_ffpp(tmp_path, media="frames", methods=["Deepfakes"])
    assert {s.media_type for s in frames} == {"frames"} and len(frames) == 2
    with pytest.raises(ValueError):
        load_ffpp(tmp_path, compression="c99")
    assert detect_format(tmp_path) == "ffpp"
    assert len(load_dataset(f"ffpp:{tmp_path}")) == len(load_dataset("FF++", root=tmp_path)) == len(ds)


def test_ffpp_split_requires_split_files(tmp_path: Path) -> None:
    touch(tmp_path, "original_sequences/youtube/c23/videos/000.mp4")
    assert load_ffpp(tmp_path).samples[0].split is None
    with pytest.raises(ValueError, match="splits"):
        load_ffpp(tmp_path, split="test")


# ------------------------------------------------------------------ Celeb-DF v2


def test_celebdf_test_list_label_1_means_real(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "Celeb-real/id0_0000.mp4",
        "Celeb-real/id1_0001.mp4",
        "YouTube-real/00000.mp4",
        "Celeb-synthesis/id0_id1_0000.mp4",
        "Celeb-synthesis/id1_id0_0001.mp4",
    )
    (tmp_path / "List_of_testing_videos.txt").write_text(
        "1 YouTube-real/00000.mp4\n"
        "0 Celeb-synthesis/id0_id1_0000.mp4\n"
        "1 Celeb-real/id1_0001.mp4\n"
        "1 Celeb-synthesis/id1_id0_0001.mp4\n"  # says real, folder says fake
        "0 Celeb-real/id9_0009.mp4\n"  # not on disk
        "garbage\n",
        encoding="utf-8",
    )
    ds = load_celebdf(tmp_path)
    s = by_name(ds)
    assert set(s) == {"id0_0000.mp4", "id1_0001.mp4", "00000.mp4", "id0_id1_0000.mp4"}
    assert (s["00000.mp4"].label, s["00000.mp4"].split) == (0, "test")
    assert (s["id0_id1_0000.mp4"].label, s["id0_id1_0000.mp4"].split) == (1, "test")
    assert s["id0_id1_0000.mp4"].attrs["source_id"] == "id1" and s["id0_id1_0000.mp4"].kind == "face-swap"
    assert (s["id0_0000.mp4"].split, s["id0_0000.mp4"].attrs["identity"]) == ("train", "id0")
    r = [why for _, why in ds.skipped]
    assert any(w.startswith("label conflict") for w in r)
    assert "listed in test list but missing" in r and any(w.startswith("malformed") for w in r)
    assert len(load_celebdf(tmp_path, split="test")) == 3
    assert detect_format(tmp_path) == "celebdf"


def test_celebdf_frame_folders(tmp_path: Path) -> None:
    touch(tmp_path, "Celeb-real/id0_0000/000.png", "Celeb-real/id0_0000/015.png", "Celeb-synthesis/videos/id0_id1_0000.mp4")
    (tmp_path / "List_of_testing_videos.txt").write_text("1 Celeb-real/id0_0000.mp4\n", encoding="utf-8")
    ds = load_celebdf(tmp_path)
    s = {x.group: x for x in ds}
    assert (s["id0_0000"].media_type, s["id0_0000"].split, s["id0_0000"].label) == ("frames", "test", 0)
    assert (s["id0_id1_0000"].media_type, s["id0_id1_0000"].split) == ("video", "train")
    assert reasons(ds) == {"YouTube-real": "missing folder"}


# ------------------------------------------------------------------ DFDC


def test_dfdc(tmp_path: Path) -> None:
    p0 = tmp_path / "dfdc_train_part_0"
    touch(p0, "a.mp4", "b.mp4", "e.mp4")
    (p0 / "metadata.json").write_text(
        json.dumps(
            {
                "a.mp4": {"label": "FAKE", "original": "b.mp4", "split": "train"},
                "b.mp4": {"label": "REAL", "split": "train"},
                "c.mp4": {"label": "FAKE", "original": "b.mp4", "split": "train"},
                "e.mp4": {"label": "UNKNOWN", "split": "train"},
            }
        )
    )
    (tmp_path / "dfdc_train_part_1").mkdir()
    (tmp_path / "dfdc_train_part_1" / "metadata.json").write_text("{not json")
    ds = load_dfdc(tmp_path)
    s = by_name(ds)
    assert (s["a.mp4"].label, s["a.mp4"].kind, s["a.mp4"].attrs["original"]) == (1, "face-swap", "b")
    assert s["a.mp4"].attrs["identity"] == s["b.mp4"].attrs["identity"] == "b"
    assert (s["b.mp4"].label, s["b.mp4"].split) == (0, "train")
    r = reasons(ds)
    assert r["c.mp4"] == "missing file" and "UNKNOWN" in r["e.mp4"] and "unreadable" in r["metadata.json"]
    assert detect_format(tmp_path) == "dfdc"


# ------------------------------------------------------------------ WildDeepfake


def test_wilddeepfake(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "real_test/1/real/1/0.png",
        "real_test/1/real/1/1.png",
        "fake_test/2/fake/5/0.png",
        "fake_test/3/real/7/0.png",  # a real sequence inside fake_test: conflict
        "fake_train/9/fake/1/0.png",
        "real_train/10.tar.gz",
    )
    ds = load_wilddeepfake(tmp_path)
    assert ds.counts("label") == {0: 1, 1: 2} and ds.counts("split") == {"test": 2, "train": 1}
    seq = {s.group: s for s in ds}
    assert seq["real_test/1/real/1"].media_type == "frames" and seq["real_test/1/real/1"].attrs["video_id"] == "1"
    assert sorted(ds.skip_reasons()) == ["archive not extracted", "label conflict: inside fake_test/ but under a 'real' folder"]
    frames = load_wilddeepfake(tmp_path, split="test", per_frame=True)
    assert len(frames) == 3 and {s.media_type for s in frames} == {"image"}
    assert len({s.group for s in frames}) == 2  # two frames share their sequence's group
    assert detect_format(tmp_path) == "wilddeepfake"


# ------------------------------------------------------------------ DF40 (assumed layout)


def test_df40(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "simswap/ff/frames/000/0.png",
        "simswap/ff/frames/000/1.png",
        "simswap/ff/masks/000/0.png",
        "fomm/cdf/frames/id0_0000/0.png",
        "StyleGAN2/ff/frames/x/0.png",
        "mystery/v/0.png",
        "heygen/clip.mp4",
        "real/ff/frames/000/0.png",
    )
    (tmp_path / "emptymethod").mkdir()
    ds = load_df40(tmp_path)
    kinds = {s.attrs["method"]: s.kind for s in ds}
    assert kinds == {
        "simswap": "face-swap", "fomm": "face-reenactment", "StyleGAN2": "face-synthesis",
        "mystery": "fake", "heygen": "face-reenactment", "real": "real",
    }
    assert ds.counts("label") == {1: 5, 0: 1}  # masks/ is not a sample
    sim = next(s for s in ds if s.attrs["method"] == "simswap")
    assert sim.attrs["subset"] == "ff" and sim.group == "simswap/ff/frames/000"
    assert reasons(ds) == {"emptymethod": "method folder without frames or videos"}
    assert len(load_df40(tmp_path, per_frame=True)) == 7
    assert detect_format(tmp_path) == "df40"


# ------------------------------------------------------------------ ForgeryNet (assumed mask mapping)


def test_forgerynet(tmp_path: Path) -> None:
    tr = tmp_path / "Training"
    touch(
        tr,
        "train_release/1/a/0001.jpg",
        "train_release/1/a/0002.jpg",
        "train_release/0/b/0001.jpg",
        "spatial_localize/train_mask_release/1/a/0001.jpg",
        "train_video_release/1/v1.mp4",
        "train_video_release/0/v2.mp4",
    )
    (tr / "image_list.txt").write_text(
        "train_release/1/a/0001.jpg 1 2 5\n"
        "train_release/0/b/0001.jpg 0 0 0\n"
        "train_release/1/c/missing.jpg 1 1 3\n"
        "train_release/1/a/0002.jpg x 1 1\n"
        "train_release/1/a/0002.jpg 1 1 1\n",
        encoding="utf-8",
    )
    (tr / "video_list.txt").write_text(
        "2 train_video_release/1/v1.mp4 0 10 1 10 20 0 1 1 3\n"
        "0 train_video_release/0/v2.mp4 0 0 0\n"
        "3 train_video_release/1/v3.mp4 0 10 1\n",
        encoding="utf-8",
    )
    ds = load_forgerynet(tmp_path)
    s = {Path(x.path).relative_to(tr).as_posix(): x for x in ds}
    a1 = s["train_release/1/a/0001.jpg"]
    assert (a1.label, a1.kind, a1.split, a1.attrs["triple_cls"]) == (1, "forgerynet-5", "train", "2")
    assert a1.attrs["mask_path"].endswith("spatial_localize/train_mask_release/1/a/0001.jpg")
    assert s["train_release/1/a/0002.jpg"].attrs["mask_path"] is None
    assert s["train_release/0/b/0001.jpg"].kind == "real"
    v1 = s["train_video_release/1/v1.mp4"]
    assert v1.media_type == "video" and v1.attrs["segments"] == [[0, 10]]
    assert v1.attrs["segments_all"] == [[0, 10, 1], [10, 30, 0]]
    assert s["train_video_release/0/v2.mp4"].attrs["segments"] == []
    why = sorted(r.split(":")[0] for _, r in ds.skipped)
    assert why == ["malformed line", "missing file", "unknown label 'x'"]
    assert detect_format(tmp_path / "Training") == "forgerynet"
    assert len(load_forgerynet(tmp_path, split="val")) == 0


# ------------------------------------------------------------------ wild-dev format (fabricated)

HEADER = "relpath\tlabel\tkind\tsource_repo\tpath_in_repo\tlicense\tbytes\timage_size\tcommit\tverified\tnote\tsha256\n"


def test_wild_dev_fabricated(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "raw/o__r/faces/1.jpg",
        "raw/o__r/faces/2.jpg",
        "raw/o__r/FF/DF/000_003/000.png",
        "raw/o__r/FF/DF/000_003/012.png",
        "raw/o__r/s/clip.mp4",
        "raw/o__r/s/clip_fr0.jpg",
        "raw/o__r/LICENSE",
    )
    rows = [
        ("raw/o__r/faces/1.jpg", "fake", "gan-face(StyleGAN2-like, boredhumans.com)", ""),
        ("raw/o__r/faces/2.jpg", "real", "real-photo(yonsei)", "exact-duplicate-of raw/o__r/faces/1.jpg"),
        ("raw/o__r/FF/DF/000_003/000.png", "fake", "video-frame-crop face-swap(FF++ Deepfakes)", ""),
        ("raw/o__r/FF/DF/000_003/012.png", "fake", "video-frame-crop face-swap(FF++ Deepfakes)", ""),
        ("raw/o__r/s/clip.mp4", "real", "video(FF++ original c23)", ""),
        ("raw/o__r/s/clip_fr0.jpg", "real", "video-frame(DFDC real)", ""),
        ("raw/o__r/LICENSE", "other", "license-text", ""),
        ("raw/o__r/gone.jpg", "fake", "photoshop(yonsei-mid)", ""),
        ("raw/o__r/faces/1.jpg", "maybe", "x", ""),
    ]
    (tmp_path / "MANIFEST.tsv").write_text(
        HEADER + "".join(f"{r}\t{lab}\t{k}\to/r\tp\tMIT\t0\t1x1\tc\tok\t{n}\th\n" for r, lab, k, n in rows),
        encoding="utf-8",
    )
    ds = load_wild_dev(tmp_path)
    s = by_name(ds)
    assert s["1.jpg"].kind == "gan-face" and s["1.jpg"].attrs["source"] == "boredhumans"
    assert s["2.jpg"].attrs["duplicate_of"] == "raw/o__r/faces/1.jpg" and s["2.jpg"].attrs["source"] == "yonsei"
    assert s["000.png"].kind == "face-swap" and s["000.png"].attrs["method"] == "Deepfakes"
    assert s["000.png"].group == s["012.png"].group == "raw/o__r/FF/DF/000_003"
    assert s["clip.mp4"].media_type == "video" and s["clip.mp4"].attrs["compression"] == "c23"
    assert s["clip.mp4"].group == s["clip_fr0.jpg"].group == "raw/o__r/s/clip"
    assert s["clip.mp4"].attrs["source"] == "FF++" and s["clip_fr0.jpg"].attrs["source"] == "DFDC"
    assert sorted(ds.skip_reasons()) == ["missing file", "not an evaluation sample (label other)", "unknown label 'maybe'"]
    assert len(load_wild_dev(tmp_path, drop_duplicates=True)) == len(ds) - 1
    assert detect_format(tmp_path) == detect_format(tmp_path / "MANIFEST.tsv") == "wild-dev"
    assert len(load_dataset(str(tmp_path))) == len(ds)
    assert len(load_dataset("wild-dev", root=tmp_path)) == len(ds)


def test_wild_dev_verify_sha256(tmp_path: Path) -> None:
    import hashlib

    touch(tmp_path, "a.jpg", "b.jpg")
    good = hashlib.sha256(b"").hexdigest()
    (tmp_path / "MANIFEST.tsv").write_text(
        HEADER + f"a.jpg\treal\treal-photo\to/r\tp\tl\t0\t-\tc\tok\t\t{good}\n"
        f"b.jpg\tfake\tphotoshop(x)\to/r\tp\tl\t0\t-\tc\tok\t\t{'0' * 64}\n",
        encoding="utf-8",
    )
    ds = load_wild_dev(tmp_path, verify_sha256=True)
    assert [Path(x.path).name for x in ds] == ["a.jpg"] and reasons(ds) == {"b.jpg": "sha256 mismatch"}


# ------------------------------------------------------------------ registry


def test_registry_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="neither a dataset name"):
        load_dataset("no-such-dataset")
    with pytest.raises(ValueError, match="needs root"):
        load_dataset("ffpp")
    (tmp_path / "stuff").mkdir()
    touch(tmp_path, "stuff/a.png")
    with pytest.raises(ValueError, match="unrecognised"):
        load_dataset(str(tmp_path / "stuff"))


def test_dataset_helpers(tmp_path: Path) -> None:
    _ffpp(tmp_path)
    ds = load_ffpp(tmp_path)
    fakes = ds.filter(lambda s: s.label == 1, name="ffpp-fakes")
    assert len(fakes) == 4 and fakes.name == "ffpp-fakes" and fakes.skipped == ds.skipped
    assert fakes.manifest_hash != ds.manifest_hash
    summ = ds.summary()
    assert summ["by_label"] == {"real": 3, "fake": 4} and summ["n_skipped"] == len(ds.skipped)
    assert ds.counts("method")["Deepfakes"] == 2  # attrs keys work as well


def test_moving_a_dataset_keeps_its_hash(tmp_path: Path) -> None:
    _ffpp(tmp_path / "one")
    shutil.copytree(tmp_path / "one", tmp_path / "two")
    assert load_ffpp(tmp_path / "one").manifest_hash == load_ffpp(tmp_path / "two").manifest_hash
