"""Media input: images, videos and frame sampling, all as RGB uint8 ``(H, W, 3)`` arrays.

Importing this package is cheap (numpy only); Pillow and PyAV are imported when first used.
"""

from __future__ import annotations

from .image import DEFAULT_MAX_PIXELS, image_size, load_image
from .sampling import FrameSampler, FrameSelector, sample_indices
from .sources import (
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    Media,
    SourceEntry,
    expand_sources,
    open_media,
    walk_sources,
)
from .sniff import sniff_media_type
from .video import Frame, VideoInfo, count_video_frames, iter_video_frames, probe_video

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "Frame",
    "FrameSampler",
    "FrameSelector",
    "Media",
    "SourceEntry",
    "VideoInfo",
    "count_video_frames",
    "expand_sources",
    "image_size",
    "iter_video_frames",
    "load_image",
    "open_media",
    "probe_video",
    "sample_indices",
    "sniff_media_type",
    "walk_sources",
]
