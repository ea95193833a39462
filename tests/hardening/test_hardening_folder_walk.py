"""Defect 5 of issue 13: every file under a folder gets a row; --include can add extensions."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facetrust.cli import main
from facetrust.io import walk_sources


def _image_bytes(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((40, 60, 3), 90, np.uint8)).save(buf, fmt)
    return buf.getvalue()


def _ts_bytes() -> bytes:
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mpegts") as out:
        stream = out.add_stream("mpeg2video", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        rng = np.random.default_rng(0)
        for _ in range(10):  # noise, so the stream is long enough for FFmpeg's MPEG-TS probe
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


@pytest.fixture
def folder(tmp_path) -> Path:
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    (root / "anim.gif").write_bytes(_image_bytes("GIF"))
    (root / "sub" / "clip.ts").write_bytes(_ts_bytes())
    (root / "photo.jpg").write_bytes(_image_bytes("JPEG"))
    (root / "renamed.dat").write_bytes(_image_bytes("PNG"))  # a PNG under an unknown name
    (root / "notes.txt").write_text("hello\n")
    (root / "app.ts").write_text("export const x: number = 1;\n")  # TypeScript, not MPEG-TS
    (root / "sensor.raw").write_bytes(b"\x00" * 64)
    (root / ".DS_Store").write_bytes(b"hidden on purpose")
    return root


def test_every_visible_file_gets_an_entry_with_a_reason_when_skipped(folder):
    entries = {e.path.relative_to(folder).as_posix(): e.skip_reason for e in walk_sources([folder])}
    assert set(entries) == {"anim.gif", "sub/clip.ts", "photo.jpg", "renamed.dat", "notes.txt", "app.ts",
                            "sensor.raw"}
    for scanned in ("anim.gif", "sub/clip.ts", "photo.jpg", "renamed.dat"):
        assert entries[scanned] is None, scanned
    for skipped in ("notes.txt", "app.ts", "sensor.raw"):
        assert entries[skipped] and "not a media file" in entries[skipped]


def test_include_scans_an_extension_the_walk_would_skip(folder):
    entries = walk_sources([folder], include=["*.raw"])
    assert [(e.path.name, e.skip_reason) for e in entries] == [("sensor.raw", None)]


def test_a_fifo_and_a_linked_folder_are_named_not_read(tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    (tmp_path / "elsewhere").mkdir()
    try:
        os.mkfifo(root / "pipe.jpg")
        (root / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    except (AttributeError, OSError):
        pytest.skip("fifos / symlinks not supported here")
    reasons = {e.path.name: e.skip_reason for e in walk_sources([root])}  # must not block on the fifo
    assert reasons == {"pipe.jpg": "not a regular file", "link": "link to a folder, not followed"}
    flat = {e.path.name: e.skip_reason for e in walk_sources([root], recursive=False)}
    assert flat == {"pipe.jpg": "not a regular file"}  # no sub-folder is part of a flat walk


def test_cli_scan_writes_a_row_for_every_file(folder, tmp_path):
    out = tmp_path / "r.json"
    main(["scan", str(folder), "--detector", "noise_residual", "--json", str(out), "-q"])
    rows = {Path(r["path"]).relative_to(folder).as_posix(): r for r in json.loads(out.read_text())["results"]}
    assert len(rows) == 7
    assert rows["anim.gif"]["media_type"] == "image" and rows["anim.gif"]["verdict"] == "not_applicable"
    assert rows["sub/clip.ts"]["media_type"] == "video" and rows["sub/clip.ts"]["error_type"] is None
    assert rows["renamed.dat"]["media_type"] == "image"
    for name in ("notes.txt", "app.ts", "sensor.raw"):
        assert rows[name]["verdict"] == "not_applicable" and rows[name]["reason"].startswith("skipped: ")
        assert rows[name]["error_type"] is None
