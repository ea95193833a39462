"""Videos -> a stream of sampled RGB frames, one at a time (PyAV / FFmpeg).

The whole video is never held in memory: packets are demuxed and decoded sequentially (FFmpeg's own
threading), each decoded frame is offered to a :class:`~facetrust.io.sampling.FrameSelector`, only the
wanted ones are converted to RGB (the costly step), and decoding stops as soon as no later frame can be
wanted. ``av`` is imported lazily so ``import facetrust.io`` stays cheap.

Frame times (``Frame.time_s``) are seconds from the first decoded frame. Display rotation stored in the
container (phone videos) is applied, so frames come out the way a player shows them.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..errors import (
    CorruptMediaError,
    DecompressionBombError,
    MediaError,
    NoDecodableFramesError,
    UnsupportedMediaError,
)
from .budget import Deadline
from .image import DEFAULT_MAX_DECODED_BYTES, DEFAULT_MAX_PIXELS, check_media_file
from .sampling import FrameSampler

log = logging.getLogger(__name__)

# Packets whose decode may fail before the first frame comes out (a stream cut mid-GOP, a damaged
# first packet) before the video is declared undecodable.
MAX_LEADING_DECODE_ERRORS = 64
# Packets probe_video reads looking for the first frame (to learn the display rotation).
_PROBE_MAX_PACKETS = 64
# RGB bytes of one video frame: a quarter of an image's decoded-byte limit, because the decoder's
# output, the two frames decoded ahead and the one being analysed are in memory together (a
# 100 MP PNG-in-MOV video peaked at 2.5 GB). 33 MP: 8K UHD (7680x4320) still fits.
MAX_FRAME_BYTES = DEFAULT_MAX_DECODED_BYTES // 4


@dataclass
class VideoInfo:
    """What the container header says about the (first) video stream.

    ``width``/``height`` are as displayed (after ``rotation``). ``n_frames`` is the container's count,
    else ``duration_s * fps`` rounded (then ``n_frames_exact`` is False), else None.
    """

    width: int
    height: int
    fps: float | None
    n_frames: int | None
    duration_s: float | None
    codec: str
    rotation: int = 0  # degrees counter-clockwise applied to decoded frames (0, 90, 180, 270)
    n_frames_exact: bool = True


@dataclass
class Frame:
    """One decoded frame: its decode-order ``index`` (0-based), time in seconds, RGB uint8 image."""

    index: int
    time_s: float | None
    image: np.ndarray


def _av():
    import av

    return av


def _open_container(path: os.PathLike | str):
    av = _av()
    p = check_media_file(path)
    try:
        return av.open(str(p), mode="r", metadata_errors="ignore")
    except av.FFmpegError as exc:
        from .sniff import sniff_media_type

        if sniff_media_type(p) == "video":
            raise CorruptMediaError(f"{p}: damaged or truncated video container ({exc})") from None
        raise UnsupportedMediaError(f"{p}: not a supported video format") from None
    except OSError as exc:  # unreadable file
        raise MediaError(f"{p}: cannot open ({exc})") from None


def _video_stream(container, label: str):
    av = _av()
    attached = int(av.stream.Disposition.attached_pic)
    for stream in container.streams.video:
        # Cover art in audio files is a one-picture "video" stream: not a video.
        if int(stream.disposition) & attached:
            continue
        if stream.codec_context is None:
            raise UnsupportedMediaError(f"{label}: no decoder for the video codec")
        return stream
    raise UnsupportedMediaError(f"{label}: no video stream")


def _rate(stream) -> float | None:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and float(rate) > 0:
            return float(rate)
    return None


def _normalised_rotation(degrees: float | int | None) -> int:
    """Nearest multiple of 90 in [0, 360); arbitrary angles are not applied."""
    if not degrees:
        return 0
    return int(round(float(degrees) / 90.0)) % 4 * 90


def _check_pixels(w: int, h: int, max_pixels: int, label: str) -> None:
    if w * h > max_pixels:
        raise DecompressionBombError(
            f"{label}: video frames of {w}x{h} = {w * h} pixels exceed the limit of {max_pixels}"
        )
    if w * h * 3 > MAX_FRAME_BYTES:
        raise DecompressionBombError(
            f"{label}: video frames of {w}x{h} need {w * h * 3} bytes each as RGB, above the limit of "
            f"{MAX_FRAME_BYTES} (several frames are in memory at once; possible decompression bomb)"
        )


def _first_frame(container, stream):
    """The first decodable frame, or None (errors here are left to the real decoding pass)."""
    av = _av()
    try:
        for n_packets, packet in enumerate(container.demux(stream)):
            try:
                frames = packet.decode()
            except av.FFmpegError:
                frames = []
            if frames:
                return frames[0]
            if n_packets >= _PROBE_MAX_PACKETS:
                return None
    except av.FFmpegError:
        return None
    return None


def probe_video(path: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> VideoInfo:
    """Read the header (and decode one frame, for the display rotation) of ``path``."""
    label = str(path)
    container = _open_container(path)
    try:
        stream = _video_stream(container, label)
        cc = stream.codec_context
        w, h = int(cc.width or 0), int(cc.height or 0)
        _check_pixels(w, h, max_pixels, label)  # header dims: refuse before decoding anything
        fps = _rate(stream)
        duration_s = None
        if stream.duration is not None and stream.time_base is not None:
            duration_s = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration_s = container.duration / _av().time_base
        if duration_s is not None and duration_s <= 0:
            duration_s = None
        n_frames: int | None = int(stream.frames) if stream.frames and stream.frames > 0 else None
        # Every coded frame takes at least a byte, so a count above the file size is a lie (a poison
        # 'stts' claims 2**31 - 1 frames): sampling then counts what actually demuxes instead.
        max_frames = max(1, os.path.getsize(path))
        if n_frames is not None and n_frames > max_frames:
            log.warning("%s: header claims %d frames in %d bytes; not trusted", label, n_frames, max_frames)
            n_frames = None
        exact = n_frames is not None
        if n_frames is None and duration_s is not None and fps is not None:
            n_frames = max(1, round(duration_s * fps))
            if n_frames > max_frames:
                n_frames = None
        rotation = 0
        first = _first_frame(container, stream)
        if first is not None:
            w, h = first.width, first.height  # headers can omit or misstate these (e.g. MPEG-TS)
            _check_pixels(w, h, max_pixels, label)
            rotation = _normalised_rotation(first.rotation)
        if w <= 0 or h <= 0:  # no size in the header and no frame decodes to tell it
            raise NoDecodableFramesError(f"{label}: no frame size and no decodable frame")
        if rotation in (90, 270):
            w, h = h, w
        return VideoInfo(
            width=w,
            height=h,
            fps=fps,
            n_frames=n_frames,
            duration_s=duration_s,
            codec=cc.name,
            rotation=rotation,
            n_frames_exact=exact,
        )
    finally:
        container.close()


def count_video_frames(path: str | os.PathLike, *, deadline: Deadline | None = None) -> int:
    """Exact number of video packets (= frames for all common codecs), by demuxing without decoding."""
    av = _av()
    label = str(path)
    container = _open_container(path)
    try:
        stream = _video_stream(container, label)
        n = 0
        try:
            for packet in container.demux(stream):
                if packet.size > 0:
                    n += 1
                if deadline is not None:
                    deadline.check(f"counting frames, {n} so far")
        except av.FFmpegError as exc:  # damaged tail: count what could be read
            log.warning("%s: demux error after %d packets while counting frames: %s", label, n, exc)
        return n
    finally:
        container.close()


def _to_rgb(frame) -> np.ndarray:
    kwargs = {}
    if frame.color_range:  # tagged full/limited range; untagged -> swscale's default (limited for YUV)
        kwargs["src_color_range"] = frame.color_range
    rgb = frame.to_ndarray(format="rgb24", **kwargs)
    k = _normalised_rotation(frame.rotation) // 90
    if k:
        rgb = np.rot90(rgb, k)  # np.rot90 turns counter-clockwise, like the display matrix angle
    return np.ascontiguousarray(rgb)


def iter_video_frames(
    path: str | os.PathLike,
    sampler: FrameSampler,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    info: VideoInfo | None = None,
    deadline: Deadline | None = None,
) -> Iterator[Frame]:
    """Yield the frames of ``path`` that ``sampler`` picks, in order, one at a time.

    Uniform sampling needs a frame count: an exact container count is used as is, otherwise a cheap
    demux-only counting pass runs first. Decode errors after frames were yielded end the stream with a
    warning; before any frame was decoded they raise :class:`NoDecodableFramesError`, and between
    (decoded but nothing sampled yet) :class:`CorruptMediaError`. If the count overstated the video so
    that no sampled index exists, the last decoded frame is yielded so a short video is never empty.
    A ``deadline`` is checked between packets (:class:`~facetrust.errors.BudgetExceededError`).
    """
    if info is None:
        info = probe_video(path, max_pixels=max_pixels)
    n_frames: int | None = None
    if sampler.needs_frame_count():
        n_frames = info.n_frames if info.n_frames_exact else None
        if n_frames is None:
            n_frames = count_video_frames(path, deadline=deadline)
    selector = sampler.select(n_frames, info.fps)
    return _decode(path, selector, info, max_pixels, deadline)


def _decode(path, selector, info: VideoInfo, max_pixels: int, deadline: Deadline | None) -> Iterator[Frame]:
    av = _av()
    label = str(path)
    if selector.done(-1):  # only when the frame count is 0
        raise NoDecodableFramesError(f"{label}: the video has no frames")
    container = _open_container(path)
    try:
        stream = _video_stream(container, label)
        stream.thread_type = "AUTO"
        index = 0  # frames decoded so far
        yielded = 0
        leading_errors = 0
        origin: float | None = None
        last = None  # the latest decoded av frame: fallback when nothing was sampled
        packets = container.demux(stream)
        while True:
            if deadline is not None:
                deadline.check(f"decoding, {index} frames so far")
            try:
                packet = next(packets)
                frames = packet.decode()
            except StopIteration:
                break
            except av.FFmpegError as exc:
                if index == 0:
                    leading_errors += 1
                    if leading_errors <= MAX_LEADING_DECODE_ERRORS:
                        continue
                    raise NoDecodableFramesError(f"{label}: no frame could be decoded ({exc})") from None
                if yielded == 0:
                    raise CorruptMediaError(
                        f"{label}: decoding failed after frame {index - 1}, before any sampled frame ({exc})"
                    ) from None
                log.warning("%s: decode error after frame %d, stopping: %s", label, index - 1, exc)
                return
            for frame in frames:
                _check_pixels(frame.width, frame.height, max_pixels, label)
                t = frame.time
                if t is not None:
                    if origin is None:
                        origin = t
                    t = t - origin
                elif info.fps:
                    t = index / info.fps
                if selector.wants(index, t):
                    yield Frame(index=index, time_s=t, image=_to_rgb(frame))
                    yielded += 1
                    last = None
                else:
                    last = (index, t, frame)
                index += 1
                if selector.done(index - 1):
                    return
        if index == 0:
            raise NoDecodableFramesError(f"{label}: no frame could be decoded")
        if yielded == 0 and last is not None:
            log.info("%s: frame count overstated (%d decoded); using the last frame", label, index)
            yield Frame(index=last[0], time_s=last[1], image=_to_rgb(last[2]))
    finally:
        container.close()
