"""Verification: is the probe photo the same person as the reference photo, and is the probe forged?

:func:`verify_pair` never raises for bad input: an image that cannot be read gives status ``error``
(typed ``error_type``), an image without a usable face gives ``not_applicable`` with the reason. The
probe's forgery scan is the normal :class:`facetrust.pipeline.Scanner` result (``probe_scan``); the
morphing-attack check (``morph``: S-MAD on the probe, D-MAD against the reference) is
:class:`.morph_check.MorphCheck`.
"""

from __future__ import annotations

import datetime as _dt
import logging
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..errors import FacetrustError
from ..report.schema import MediaResult, _plain
from .calibration import Calibration, load_calibration
from .embedding import EMBEDDING_MODEL, EmbeddingOutcome, distances, load_embedder
from .morph_check import MorphCheck, check_morph

if TYPE_CHECKING:
    from ..pipeline import Scanner

VerifyStatus = Literal["ok", "not_applicable", "error"]
Decision = Literal["same_person", "different_person"]
SCHEMA = "facetrust.verify/1"
log = logging.getLogger(__name__)


@dataclass
class VerifiedFace:
    """The face of one image that was compared."""

    box: list[float]  # x0, y0, x1, y1 image pixels
    score: float
    quality: dict[str, Any]
    faces_found: int
    chip: np.ndarray | None = field(default=None, repr=False)  # in memory only (HTML thumbnail)


@dataclass
class VerifyReport:
    probe: str
    reference: str
    status: VerifyStatus
    decision: Decision | None = None
    same_person_probability: float | None = None  # calibrated, at equal priors
    euclidean_distance: float | None = None
    cosine_distance: float | None = None
    threshold: float = 0.0  # euclidean distance: same person when distance <= threshold
    accepted: bool = False  # same person, the probe's forgery scan says real and D-MAD does not flag a morph
    reason: str | None = None  # why not_applicable
    error: str | None = None
    error_type: str | None = None
    probe_face: VerifiedFace | None = None
    reference_face: VerifiedFace | None = None
    probe_scan: MediaResult | None = None
    probe_liveness: MediaResult | None = None  # the probe scanned by the ``liveness`` PAD detector
    morph: MorphCheck | None = None  # S-MAD of the probe, D-MAD of the probe against the reference
    embedding_model: str = EMBEDDING_MODEL
    calibration: str = ""
    elapsed_s: float = 0.0
    created: str = ""
    schema: str = SCHEMA

    def to_dict(self) -> dict[str, Any]:
        out = _plain(self)
        for key in ("probe_face", "reference_face"):
            if out[key] is not None:
                out[key].pop("chip", None)
        return out


def _name(source) -> str:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "<bytes>"
    if isinstance(source, np.ndarray):
        return "<array>"
    return str(source)


def _face(outcome: EmbeddingOutcome) -> VerifiedFace | None:
    e = outcome.embedding
    if e is None:
        return None
    return VerifiedFace([float(v) for v in e.box], e.score, e.quality.as_dict(), e.faces_found, e.chip)


def _embed(source, scanner: Scanner, keep_chip: bool) -> tuple[EmbeddingOutcome, np.ndarray]:
    """(the embedding outcome, the decoded image); raises the typed media errors; a video is not a photo to compare."""
    from ..errors import UnsupportedMediaError
    from ..io import open_media

    media = open_media(source, max_pixels=scanner.options.max_pixels)
    if media.kind != "image":
        raise UnsupportedMediaError("verification compares still images; this input is a video")
    image = next(iter(media.frames())).image
    return load_embedder().embed(image, scanner.face_detector, scanner.quality_gate, keep_chip=keep_chip), image


@lru_cache(maxsize=2)
def _liveness_scanner(options) -> Scanner:
    """A scanner with the same face settings that runs the ``liveness`` detector at its threshold."""
    from dataclasses import replace

    from ..pipeline import Scanner

    return Scanner(replace(options, detectors=("liveness",), detector_weights=None, threshold=None))


def verify_pair(probe, reference, *, scanner: Scanner, calibration: Calibration | None = None,
                keep_chips: bool = False) -> VerifyReport:
    """Compare the most prominent plausible face of ``probe`` and ``reference`` (paths, bytes or RGB arrays).

    ``scanner`` supplies the face detector, the quality gate and the probe's forgery scan.
    """
    t0 = time.perf_counter()
    cal = calibration or load_calibration()
    report = VerifyReport(_name(probe), _name(reference), "ok", threshold=cal.threshold, calibration=cal.source,
                          created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    report.probe_scan = scanner.scan(probe)
    report.probe_liveness = _liveness_scanner(scanner.options).scan(probe)
    outcomes, images = {}, {}
    for role, source in (("probe", probe), ("reference", reference)):
        try:
            outcomes[role], images[role] = _embed(source, scanner, keep_chips)
        except FacetrustError as exc:
            report.status, report.error, report.error_type = "error", f"{role}: {exc}", exc.code
            break
        except Exception as exc:  # a bug or a library failure is reported like the scan reports it
            log.exception("internal error while verifying the %s", role)
            report.status, report.error = "error", f"{role}: {type(exc).__name__}: {exc}"
            report.error_type = "internal_error"
            break
    if report.status == "ok":
        report.probe_face, report.reference_face = _face(outcomes["probe"]), _face(outcomes["reference"])
        missing = [f"{role}: {o.reason}" for role, o in outcomes.items() if o.embedding is None]
        if missing:
            report.status, report.reason = "not_applicable", "; ".join(missing)
        else:
            euclidean, cosine = distances(outcomes["probe"].embedding.vector, outcomes["reference"].embedding.vector)
            report.euclidean_distance, report.cosine_distance = euclidean, cosine
            report.same_person_probability = cal.probability(euclidean)
            report.decision = "same_person" if cal.same_person(euclidean) else "different_person"
            report.morph = check_morph(images["probe"], outcomes["probe"].embedding.face,
                                       images["reference"], outcomes["reference"].embedding.face)
            # only a probe its forgery scan calls real is accepted (fake, error, not_applicable are not),
            # and only when D-MAD (the probe against the trusted reference) ran and does not flag a morph
            report.accepted = (report.decision == "same_person" and report.probe_scan.verdict == "real"
                               and report.morph.dmad_flagged is False)
    report.elapsed_s = time.perf_counter() - t0
    return report
