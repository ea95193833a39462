from __future__ import annotations

import gc
import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facetrust.errors import CorruptMediaError, EmptyFileError, MediaError, UnsupportedMediaError
from facetrust.io import FrameSampler, Media, expand_sources, open_media, sample_indices, sniff_media_type


def png_bytes(a: np.ndarray | None = None) -> bytes:
    a = np.full((8, 8, 3), 100, np.uint8) if a is None else a
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "PNG")
    return buf.getvalue()


def pil_bytes(fmt: str, mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (8, 8), 0).save(buf, fmt)
    return buf.getvalue()


# --------------------------------------------------------------------------- sniffing


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF"])
def test_sniff_images(fmt):
    assert sniff_media_type(pil_bytes(fmt)) == "image"


@pytest.mark.parametrize("fmt,ext", [("mp4", "mp4"), ("mov", "mov"), ("matroska", "mkv"), ("webm", "webm"),
                                     ("avi", "avi"), ("mpegts", "ts"), ("flv", "flv"), ("asf", "wmv"),
                                     ("mpeg", "mpg")])
def test_sniff_videos_written_by_ffmpeg(tmp_path, make_video, fmt, ext):
    av = pytest.importorskip("av")
    codec = {"webm": "libvpx", "flv": "flv", "mp4": None}.get(fmt, "mpeg4")
    if codec and codec not in av.codecs_available:
        pytest.skip(f"{codec} not available")
    p = make_video(tmp_path / f"v.{ext}", 6, fmt=fmt, codec=codec)
    assert sniff_media_type(p) == "video"
    renamed = p.rename(tmp_path / "v.jpg")  # the name does not matter
    assert sniff_media_type(renamed) == "video"


def test_sniff_edge_cases(tmp_path):
    assert sniff_media_type(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1") == "image"
    assert sniff_media_type(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic") == "image"
    assert sniff_media_type(b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00M4A isom") == "video"  # refused on open
    assert sniff_media_type(b"RIFF\x24\x00\x00\x00WAVEfmt ") is None
    assert sniff_media_type(b"BM is also how some text starts, padded out" * 3) is None
    assert sniff_media_type(b"GIF is a word too") is None
    assert sniff_media_type(b"G" + b"x" * 400) is None  # one 0x47 is not a transport stream
    assert sniff_media_type(b"") is None
    assert sniff_media_type(b"hello world") is None
    p = tmp_path / "a.png"
    p.write_bytes(png_bytes())
    assert sniff_media_type(p) == sniff_media_type(str(p)) == "image"


# --------------------------------------------------------------------------- expansion


def touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_expand_sources_directories(tmp_path):
    root = tmp_path / "in"
    for rel in ["b.jpg", "a.PNG", "notes.txt", "clip.mp4", ".hidden.jpg", "sub/c.webp", "sub/deep/d.mov",
                ".git/e.jpg", "sub/.cache/f.png", "z/raw.cr2"]:
        touch(root / rel)
    got = [p.relative_to(root).as_posix() for p in expand_sources([root])]
    assert got == ["a.PNG", "b.jpg", "clip.mp4", "sub/c.webp", "sub/deep/d.mov"]
    assert got == [p.relative_to(root).as_posix() for p in expand_sources([str(root)])]  # deterministic
    flat = [p.name for p in expand_sources([root], recursive=False)]
    assert flat == ["a.PNG", "b.jpg", "clip.mp4"]
    inc = [p.relative_to(root).as_posix() for p in expand_sources([root], include=["sub/*"])]
    assert inc == ["sub/c.webp", "sub/deep/d.mov"]
    inc = [p.name for p in expand_sources([root], include=["*.jpg", "*.mov"])]  # basename match too
    assert inc == ["b.jpg", "d.mov"]
    exc = [p.name for p in expand_sources([root], exclude=["sub/deep/*", "*.mp4"])]
    assert exc == ["a.PNG", "b.jpg", "c.webp"]


def test_expand_sources_keeps_explicit_files_and_dedupes(tmp_path):
    root = tmp_path / "in"
    a = touch(root / "a.jpg")
    txt = touch(root / "readme.txt")
    missing = tmp_path / "gone.mp4"
    got = expand_sources([missing, txt, root, a, str(missing)])
    # files as given (even missing / unsupported) so they are reported, never silently dropped
    assert got == [missing, txt, a]


# --------------------------------------------------------------------------- open_media


def test_open_image_path_bytes_array(tmp_path):
    a = np.random.default_rng(0).integers(0, 256, (10, 14, 3), dtype=np.uint8)
    p = tmp_path / "x.png"
    p.write_bytes(png_bytes(a))
    for src, label in [(p, str(p)), (str(p), str(p)), (p.read_bytes(), "<bytes>"), (a, "<array>")]:
        m = open_media(src)
        assert isinstance(m, Media) and m.kind == "image" and m.source == label
        assert (m.width, m.height) == (14, 10)
        frames = list(m.frames())
        assert len(frames) == 1 and frames[0].index == 0 and frames[0].time_s is None
        np.testing.assert_array_equal(frames[0].image, a)


def test_content_decides_kind_not_extension(tmp_path, mp4_40, frame_index):
    fake_video = tmp_path / "really_png.mp4"
    fake_video.write_bytes(png_bytes())
    assert open_media(fake_video).kind == "image"
    fake_image = tmp_path / "really_video.jpg"
    fake_image.write_bytes(mp4_40.read_bytes())
    m = open_media(fake_image, sampler=FrameSampler("every", 10))
    assert m.kind == "video" and m.n_frames == 40 and m.fps == pytest.approx(25)
    assert [frame_index(f.image) for f in m.frames()] == [0, 10, 20, 30]


def test_open_video_path_resamples_each_pass(mp4_40, frame_index):
    m = open_media(mp4_40, sampler=FrameSampler("uniform", 4))
    assert (m.kind, m.width, m.height, m.n_frames) == ("video", 128, 96, 40)
    expected = sample_indices(FrameSampler("uniform", 4), 40, 25.0)
    assert [f.index for f in m.frames()] == expected
    assert [frame_index(f.image) for f in m.frames()] == expected  # second pass: fresh selector
    assert [f.index for f in open_media(mp4_40).frames()] == sample_indices(FrameSampler(), 40, 25.0)


def test_open_video_bytes_spools_and_cleans_up(mp4_40, frame_index):
    m = open_media(mp4_40.read_bytes(), sampler=FrameSampler("fps", 5))
    assert m.kind == "video" and m.source == "<bytes>"
    tmp = m._path
    assert tmp is not None and os.path.exists(tmp)
    it = m.frames()
    del m
    gc.collect()
    assert os.path.exists(tmp)  # still in use by the iterator
    assert [frame_index(f.image) for f in it] == [0, 5, 10, 15, 20, 25, 30, 35]
    del it
    gc.collect()
    assert not os.path.exists(tmp)
    with open_media(mp4_40.read_bytes()) as m2:
        tmp2 = m2._path
    assert not os.path.exists(tmp2)
    with pytest.raises(MediaError):
        list(m2.frames())


def test_open_media_typed_errors(tmp_path, mp4_40, make_audio_only):
    with pytest.raises(MediaError, match="not found"):
        open_media(tmp_path / "nope.jpg")
    empty = touch(tmp_path / "empty.mp4", b"")
    with pytest.raises(EmptyFileError):
        open_media(empty)
    with pytest.raises(EmptyFileError):
        open_media(b"")
    text = touch(tmp_path / "letter.jpg", b"Dear reader,\n" * 40)
    with pytest.raises(UnsupportedMediaError):
        open_media(text)
    noext = touch(tmp_path / "blob", os.urandom(3000))
    with pytest.raises(UnsupportedMediaError):
        open_media(noext)
    garbage = touch(tmp_path / "garbage.mp4", np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(UnsupportedMediaError):
        open_media(garbage)
    jpeg = io.BytesIO()
    Image.fromarray(np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(jpeg, "JPEG")
    cut = touch(tmp_path / "cut.png", jpeg.getvalue()[:1500])  # wrong name and truncated
    with pytest.raises(CorruptMediaError):
        open_media(cut)  # images decode eagerly: damage shows at open time
    cut_mp4 = touch(tmp_path / "cut.mp4", mp4_40.read_bytes()[:3000])
    with pytest.raises(CorruptMediaError):
        open_media(cut_mp4)
    with pytest.raises(UnsupportedMediaError):
        open_media(make_audio_only(tmp_path / "song.m4a"))
    with pytest.raises(UnsupportedMediaError):
        open_media(np.zeros((3, 3, 7), np.uint8))


def test_package_import_is_light():
    import subprocess
    import sys

    src = Path(__file__).resolve().parents[2] / "src"
    code = "import sys, facetrust.io; print('av' in sys.modules, 'PIL' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(src)), timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


def test_video_bytes_errors_name_the_input_and_leave_no_temp_file(tmp_path, mp4_40, monkeypatch):
    import tempfile

    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    with pytest.raises(CorruptMediaError) as e:
        open_media(mp4_40.read_bytes()[:3000])  # ftyp intact, rest cut off
    assert "<bytes>" in str(e.value) and str(spool) not in str(e.value)
    assert list(spool.iterdir()) == []
