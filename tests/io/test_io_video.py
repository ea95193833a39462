from __future__ import annotations

import logging
import struct
import weakref

import numpy as np
import pytest

from facetrust.errors import (
    CorruptMediaError,
    DecompressionBombError,
    EmptyFileError,
    MediaError,
    NoDecodableFramesError,
    UnsupportedMediaError,
)
from facetrust.io import FrameSampler, VideoInfo, iter_video_frames, probe_video, sample_indices
from facetrust.io.video import count_video_frames

av = pytest.importorskip("av")

RED = np.array([220, 30, 30])


def check_frames(frames, expected_indices, frame_index, fps=25.0):
    assert [f.index for f in frames] == expected_indices
    for f in frames:
        assert f.image.dtype == np.uint8 and f.image.shape == (96, 128, 3) and f.image.flags["C_CONTIGUOUS"]
        assert frame_index(f.image) == f.index  # the pixels really are that frame
        assert np.abs(f.image[-16:-4, 4:28].reshape(-1, 3).mean(0) - RED).max() < 20  # RGB order
        assert f.time_s == pytest.approx(f.index / fps, abs=1e-3)


def test_probe(mp4_40):
    info = probe_video(mp4_40)
    assert (info.width, info.height) == (128, 96)
    assert info.fps == pytest.approx(25.0)
    assert info.n_frames == 40 and info.n_frames_exact
    assert info.duration_s == pytest.approx(1.6, abs=0.05)
    assert info.codec in ("h264", "mpeg4") and info.rotation == 0


@pytest.mark.parametrize("sampler", [FrameSampler("uniform", 8), FrameSampler("uniform", 100), FrameSampler("every", 7),
                                     FrameSampler("every", 1), FrameSampler("fps", 5), FrameSampler("fps", 60),
                                     FrameSampler("all")])
def test_stream_yields_exactly_the_sampled_frames(mp4_40, frame_index, sampler):
    frames = list(iter_video_frames(mp4_40, sampler))
    expected = sample_indices(sampler, 40, 25.0)
    check_frames(frames, expected, frame_index)


def test_matroska_without_frame_count_uses_counting_pass(tmp_path, make_video, frame_index):
    p = make_video(tmp_path / "clip.mkv", 33, fmt="matroska")
    info = probe_video(p)
    assert not info.n_frames_exact  # Matroska headers carry no frame count: an estimate
    assert count_video_frames(p) == 33
    frames = list(iter_video_frames(p, FrameSampler("uniform", 5), info=info))
    check_frames(frames, sample_indices(FrameSampler("uniform", 5), 33, 25.0), frame_index)


def test_variable_frame_rate_fps_sampling_uses_timestamps(tmp_path, make_video, frame_index):
    times_ms = [0, 40, 80, 300, 310, 320, 900, 1000, 1450, 1460, 2100]
    p = make_video(tmp_path / "vfr.mp4", 0, times_ms=times_ms)
    frames = list(iter_video_frames(p, FrameSampler("fps", 2)))
    assert [f.index for f in frames] == [0, 6, 7, 10]
    assert [round(f.time_s, 3) for f in frames] == [0.0, 0.9, 1.0, 2.1]
    assert [frame_index(f.image) for f in frames] == [0, 6, 7, 10]


def test_display_rotation_is_applied(tmp_path, make_video, frame_index):
    p = make_video(tmp_path / "portrait.mp4", 6, rotation=90)
    info = probe_video(p)
    assert info.rotation == 90 and (info.width, info.height) == (96, 128)
    frames = list(iter_video_frames(p, FrameSampler("all")))
    assert all(f.image.shape == (128, 96, 3) for f in frames)
    # rotated 90 degrees counter-clockwise for display: turning it back recovers the drawn frame
    assert [frame_index(np.rot90(f.image, -1)) for f in frames] == list(range(6))


def _zero_packets(path, first_bad: int) -> None:
    """Overwrite the payload of every video packet from decode-order position `first_bad` on."""
    with av.open(str(path)) as c:
        spans = [(p.pos, p.size) for p in c.demux(c.streams.video[0]) if p.size > 0]
    data = bytearray(path.read_bytes())
    for pos, size in spans[first_bad:]:
        data[pos : pos + size] = bytes(size)
    path.write_bytes(bytes(data))


def test_done_stops_decoding_before_a_damaged_tail(tmp_path, make_video, frame_index, caplog):
    p = make_video(tmp_path / "tail.mp4", 60, options={"movflags": "faststart"}, codec="mpeg4")
    _zero_packets(p, 30)
    info = probe_video(p)
    caplog.set_level(logging.WARNING, logger="facetrust.io.video")
    # every 4th of the first 20 frames: decoding must stop at frame 16 and never reach packet 30
    short = VideoInfo(info.width, info.height, info.fps, 20, info.duration_s, info.codec)
    frames = list(iter_video_frames(p, FrameSampler("uniform", 5), info=short))
    check_frames(frames, [2, 6, 10, 14, 18], frame_index)
    assert not caplog.records
    # control: reading everything does hit the damage, stops there with a warning, raises nothing
    frames = list(iter_video_frames(p, FrameSampler("all")))
    assert 20 <= len(frames) <= 30 and [f.index for f in frames] == list(range(len(frames)))
    assert any("decode error" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("codec", ["mpeg4", "libx264"])
def test_no_decodable_frames(tmp_path, make_video, codec):
    if codec not in av.codecs_available:
        pytest.skip(f"{codec} encoder not in this PyAV build")
    p = make_video(tmp_path / "dead.mp4", 20, codec=codec)
    _zero_packets(p, 0)
    with av.open(str(p)) as c:  # the container itself is intact
        assert c.streams.video[0].frames == 20
    try:
        info = probe_video(p)  # H.264 keeps the frame size in the header
    except NoDecodableFramesError:  # MPEG-4 part 2: only a decoded frame would tell it
        info = VideoInfo(128, 96, 25.0, 20, 0.8, codec)
    for sampler in (FrameSampler("all"), FrameSampler("uniform", 4)):
        with pytest.raises(NoDecodableFramesError) as e:
            list(iter_video_frames(p, sampler, info=info))
        assert e.value.code == "no_decodable_frames"


def test_truncated_mp4_moov_at_end_is_corrupt(tmp_path, mp4_40):
    p = tmp_path / "cut.mp4"
    p.write_bytes(mp4_40.read_bytes()[: mp4_40.stat().st_size // 2])
    with pytest.raises(CorruptMediaError):
        probe_video(p)


def test_truncated_faststart_mp4_yields_what_is_there(tmp_path, make_video, frame_index):
    p = make_video(tmp_path / "fs.mp4", 40, options={"movflags": "faststart"}, noise=True)
    cut = tmp_path / "fs_cut.mp4"
    cut.write_bytes(p.read_bytes()[: int(p.stat().st_size * 0.6)])
    info = probe_video(cut)
    assert info.n_frames == 40  # the header still promises all of them
    frames = list(iter_video_frames(cut, FrameSampler("all"), info=info))
    assert 5 < len(frames) < 40
    assert [frame_index(f.image) for f in frames] == [f.index for f in frames]
    # uniform sampling trusts the (over-)count: the bins past the real end are simply missing
    uni = list(iter_video_frames(cut, FrameSampler("uniform", 8), info=info))
    assert [f.index for f in uni] == [i for i in sample_indices(FrameSampler("uniform", 8), 40, 25) if i < len(frames)]


def test_overstated_count_still_yields_a_frame(mp4_40, frame_index):
    info = probe_video(mp4_40)
    fake = VideoInfo(info.width, info.height, info.fps, 4000, info.duration_s, info.codec)
    frames = list(iter_video_frames(mp4_40, FrameSampler("uniform", 2), info=fake))  # wants 1000 and 3000
    assert [f.index for f in frames] == [39] and frame_index(frames[0].image) == 39


def test_bad_files(tmp_path, make_audio_only):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(EmptyFileError):
        probe_video(empty)
    with pytest.raises(MediaError, match="not found"):
        probe_video(tmp_path / "missing.mp4")
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(UnsupportedMediaError):
        probe_video(garbage)
    audio = make_audio_only(tmp_path / "sound.mp4")
    with pytest.raises(UnsupportedMediaError, match="no video stream"):
        probe_video(audio)
    with pytest.raises(UnsupportedMediaError):
        list(iter_video_frames(audio, FrameSampler("all")))


def test_frame_size_limit(mp4_40):
    with pytest.raises(DecompressionBombError):
        probe_video(mp4_40, max_pixels=128 * 96 - 1)
    info = probe_video(mp4_40)
    with pytest.raises(DecompressionBombError):  # also enforced per decoded frame
        next(iter(iter_video_frames(mp4_40, FrameSampler("all"), info=info, max_pixels=1000)))
    assert probe_video(mp4_40, max_pixels=128 * 96).width == 128


def test_streaming_keeps_no_reference_to_earlier_frames(tmp_path, make_video, frame_index):
    p = make_video(tmp_path / "long.mp4", 300, fps=30)
    refs = []
    n = 0
    for frame in iter_video_frames(p, FrameSampler("all")):
        refs.append(weakref.ref(frame.image))
        assert frame_index(frame.image) == frame.index
        n += 1
        if n >= 3:  # only the frame in hand may be alive; no gc.collect(): no hidden cycles either
            assert all(r() is None for r in refs[:-2])
    assert n == 300
    del frame
    assert sum(r() is not None for r in refs) == 0


def test_abandoned_iterator_closes_the_file(mp4_40):
    it = iter_video_frames(mp4_40, FrameSampler("all"))
    first = next(it)
    assert first.index == 0
    it.close()  # the container is closed in the generator's finally
    with pytest.raises(StopIteration):
        next(it)


def test_mp4_box_layout_sanity(mp4_40):
    """The fixture really is a default (moov-at-end) MP4, which the truncation test relies on."""
    data = mp4_40.read_bytes()
    boxes, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        boxes.append(kind)
        pos += size if size else len(data)
    assert boxes.index(b"mdat") < boxes.index(b"moov")
