"""Biometrics: identity verification of a probe photo against a reference photo (``facetrust verify``).

:func:`verify_pair` (the engine of ``facetrust.verify``) embeds the most prominent plausible face of
each image with dlib's 128-d ResNet (:mod:`.embedding`), turns their distance into a calibrated
same-person probability (:mod:`.calibration`) and adds the probe's forgery scan (:mod:`.verify`);
:mod:`.render` writes the report as JSON or HTML.
"""

from __future__ import annotations

from .verify import VerifiedFace, VerifyReport, verify_pair

__all__ = ["VerifiedFace", "VerifyReport", "verify_pair"]
