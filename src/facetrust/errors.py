"""Typed errors. Each carries a stable ``code`` that lands in ``MediaResult.error_type``."""

from __future__ import annotations


class FacetrustError(Exception):
    """Base class of every error facetrust raises on purpose."""

    code = "error"


class MediaError(FacetrustError):
    """The media could not be turned into frames."""

    code = "media_error"


class EmptyFileError(MediaError):
    code = "empty_file"


class UnsupportedMediaError(MediaError):
    """Not an image or video we can decode (e.g. a text file named .jpg, an unknown codec)."""

    code = "unsupported_media"


class CorruptMediaError(MediaError):
    """Recognised container/format, but the bytes are damaged or truncated."""

    code = "corrupt_media"


class DecompressionBombError(MediaError):
    """Declared pixel count above the configured limit; refused before decoding."""

    code = "decompression_bomb"


class FileTooLargeError(MediaError):
    code = "file_too_large"


class NoDecodableFramesError(MediaError):
    code = "no_decodable_frames"


class BudgetExceededError(FacetrustError):
    """One media item ran past its wall-clock budget (``ScanOptions.media_budget_s``); its partial
    results are dropped, the batch goes on."""

    code = "budget_exceeded"


class DetectorError(FacetrustError):
    code = "detector_error"


class UnknownDetectorError(DetectorError, KeyError):
    code = "unknown_detector"

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown detector"


class WeightIntegrityError(DetectorError):
    """A weight file failed its sha256 check: never run a partial or tampered model."""

    code = "weight_integrity"


class ModelCardError(DetectorError, ValueError):
    """A model card path that is missing, unreadable or not in the ForensicNet card format."""

    code = "model_card"
