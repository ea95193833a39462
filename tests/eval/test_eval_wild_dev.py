"""Adapters against the real shared/data/wild-dev folder (skipped when it is absent).

Only listing and labels are checked here; nothing is fitted or tuned on wild-dev.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from facetrust.eval.datasets import detect_format, load_dataset, load_dfdc, load_ffpp, load_wild_dev

REPO = Path(__file__).resolve().parents[2]
WILD = REPO.parent / "shared" / "data" / "wild-dev"

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not (WILD / "MANIFEST.tsv").is_file(), reason="../shared/data/wild-dev absent"),
]


def _manifest_rows() -> list[dict[str, str]]:
    with open(WILD / "MANIFEST.tsv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def test_counts_by_label_match_manifest() -> None:
    rows = _manifest_rows()
    want = Counter(r["label"] for r in rows)
    ds = load_wild_dev(WILD)
    assert ds.counts("label") == {0: want["real"], 1: want["fake"]}
    assert len(ds.skipped) == want["other"] + want["weights"]  # every listed file is present
    assert set(ds.skip_reasons()) <= {
        "not an evaluation sample (label other)",
        "not an evaluation sample (label weights)",
    }
    # the registry name and path auto-detection give the same list
    assert load_dataset("wild-dev").manifest_hash == ds.manifest_hash
    assert detect_format(WILD) == "wild-dev"


def test_kinds_sources_and_groups() -> None:
    rows = {r["relpath"]: r for r in _manifest_rows()}
    ds = load_wild_dev(WILD)
    kinds = Counter(s.kind for s in ds)
    for family in ("photoshop", "gan-face", "face-swap", "face-reenactment", "real-photo", "morph-average"):
        assert kinds[family] > 0, family
    for s in ds:
        rel = Path(s.path).relative_to(WILD.resolve()).as_posix()  # sample paths are resolved
        assert s.attrs["kind_full"] == rows[rel]["kind"]
        assert s.media_type == ("video" if rel.endswith(".mp4") else "image")
    sources = Counter((s.attrs["source"], s.label) for s in ds)
    # same-source comparison is possible: FF++ fakes and FF++ originals are both present
    assert sources[("FF++", 1)] > 0 and sources[("FF++", 0)] > 0
    assert sources[("yonsei", 1)] > 0 and sources[("yonsei", 0)] > 0
    # frame crops of one video share a group
    crops = [s for s in ds if s.attrs["kind_full"].startswith("video-frame-crop")]
    assert len({s.group for s in crops}) < len(crops)


def test_real_dfdc_and_ffpp_copies_inside_wild_dev() -> None:
    base = WILD / "raw" / "polimi-ispl__icpr2020dfdc" / "test" / "data"
    if not base.is_dir():
        pytest.skip("polimi test data not in this wild-dev copy")
    dfdc = load_dfdc(base / "dfdc")
    metas = [json.loads(p.read_text()) for p in sorted((base / "dfdc").glob("*/metadata.json"))]
    listed = sum(len(m) for m in metas)
    assert len(dfdc) + len(dfdc.skipped) == listed  # every metadata entry is a sample or a reason
    assert all(s.label == 1 and Path(s.path).is_file() for s in dfdc)
    assert set(dfdc.skip_reasons()) <= {"missing file"}

    splits = WILD / "raw" / "ondyari__FaceForensics" / "dataset" / "splits"
    ff = load_ffpp(base / "ffpp", splits_dir=splits)
    assert ff.counts("label") == {0: 3, 1: 4}
    test_pairs = json.loads((splits / "test.json").read_text())
    test_ids = {v for pair in test_pairs for v in pair}
    for s in ff:
        vid = s.group.split("_")[0]
        assert (s.split == "test") == (vid in test_ids)
