"""Defect 1 of issue 13: a header that lies about its frame count cannot hang a scan, and every media
item has a wall-clock budget after which it ends as a typed error."""

from __future__ import annotations

import io
import math
import struct
import time

import numpy as np
import pytest

from facetrust.io import FrameSampler, probe_video, sample_indices
from facetrust.io.sampling import count_sampled
from facetrust.pipeline import ScanOptions, Scanner

N_REAL_FRAMES = 10


def _tiny_mp4() -> bytes:
    import av

    buf = io.BytesIO()
    rng = np.random.default_rng(0)
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for _ in range(N_REAL_FRAMES):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def _poison(data: bytes, claimed_frames: int) -> bytes:
    """``data`` with the first stts entry's sample_count patched to ``claimed_frames``."""
    out = bytearray(data)
    at = out.find(b"stts")
    assert at > 0 and struct.unpack(">I", out[at + 8 : at + 12])[0] >= 1  # one entry or more
    struct.pack_into(">I", out, at + 12, claimed_frames)  # size, 'stts', version/flags, count, [count, delta]
    return bytes(out)


@pytest.fixture(scope="module", params=[2**31 - 1, 2**32 - 1])
def poison_mp4(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("poison") / f"stts_{request.param}.mp4"
    path.write_bytes(_poison(_tiny_mp4(), request.param))
    return path


def test_the_crafted_header_does_claim_the_huge_count(poison_mp4):
    import av

    with av.open(str(poison_mp4)) as c:
        assert c.streams.video[0].frames >= 2**31 - 1  # the lie reaches FFmpeg
    info = probe_video(poison_mp4)
    assert info.n_frames is None or info.n_frames <= poison_mp4.stat().st_size  # not trusted


@pytest.mark.parametrize("options", [{}, {"every": 1}, {"fps": 5.0}, {"frames": 4}])
def test_a_poison_video_is_scanned_in_seconds_from_what_decodes(poison_mp4, options):
    scanner = Scanner(ScanOptions(detectors=("noise_residual",), **options))
    t0 = time.monotonic()
    result = scanner.scan(str(poison_mp4))
    assert time.monotonic() - t0 < 15  # was 171 s (2**31 - 1) and ~9 min (2**32 - 1)
    assert result.error_type is None, result.error
    assert result.verdict == "not_applicable"  # noise: no face
    want = sample_indices(ScanOptions(**options).sampler(), N_REAL_FRAMES, 10.0)
    assert [f.index for f in result.frames] == want  # sampled over the 10 real frames


def test_count_sampled_matches_the_frame_walk_and_is_constant_time():
    samplers = [FrameSampler(), FrameSampler("uniform", 5), FrameSampler("every", 3), FrameSampler("all"),
                FrameSampler("fps", 1.0), FrameSampler("fps", 2.5), FrameSampler("fps", 24.0)]
    for n in [0, 1, 2, 7, 40, 99, 250]:
        for fps in [None, 10.0, 25.0, 29.97]:
            for s in samplers:
                assert count_sampled(s, n, fps) == len(sample_indices(s, n, fps)), (s, n, fps)
    t0 = time.monotonic()
    assert count_sampled(FrameSampler("every", 1), 2**32 - 1, 10.0) == 2**32 - 1
    assert count_sampled(FrameSampler("fps", 1.0), 2**31 - 1, 10.0) == math.floor((2**31 - 2) / 10 + 1e-3) + 1
    assert len(sample_indices(FrameSampler(), 2**31 - 1, 10.0)) == 16
    assert time.monotonic() - t0 < 1


def test_a_media_past_its_budget_ends_as_a_typed_error(demo_media):
    video = str(demo_media["hopper_half_forged.mp4"])
    result = Scanner(ScanOptions(detectors=("noise_residual",), every=1, media_budget_s=1e-6)).scan(video)
    assert result.verdict == "error" and result.error_type == "budget_exceeded"
    assert "budget" in result.error and result.faces == []
    ok = Scanner(ScanOptions(detectors=("noise_residual",), frames=2)).scan(video)  # default budget
    assert ok.error_type is None and len(ok.frames) == 2


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "60", True])
def test_the_budget_must_be_a_positive_number(bad):
    with pytest.raises(ValueError, match="media_budget_s"):
        ScanOptions(media_budget_s=bad)


def test_the_cli_sets_the_budget(demo_media, tmp_path):
    import json

    from facetrust.cli import EXIT_ERRORS, EXIT_USAGE, main

    out = tmp_path / "r.json"
    video = str(demo_media["hopper_half_forged.mp4"])
    code = main(["scan", video, "--detector", "noise_residual", "--every", "1", "--media-budget", "1e-6",
                 "--json", str(out), "-q"])
    assert code == EXIT_ERRORS
    report = json.loads(out.read_text())
    assert report["results"][0]["error_type"] == "budget_exceeded"
    assert report["settings"]["media_budget_s"] == 1e-6
    assert main(["scan", video, "--media-budget", "0", "-q"]) == EXIT_USAGE
