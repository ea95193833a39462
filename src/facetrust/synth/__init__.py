"""Forgery synthesis engine: labelled fakes with pixel masks, manufactured from genuine faces.

Families (one module each under ``facetrust.synth.families``; add one with
:func:`register_family`): self_blend, swap, region_edit, morph, inpaint, resynth, and perturb
(post-processing applied to real and fake alike). See docs/synth.md.

Python API::

    from facetrust.synth import generate, available_families
    summary = generate("faces-train", "out", families=("self_blend", "swap", "perturb"), per_face=2)
"""

from .registry import (
    SYNTH_FAMILIES,
    Family,
    available_families,
    forgery_families,
    get_family,
    register_family,
    training_families,
)
from .splits import SplitPolicy
from .types import FaceSource, SkipSample, SynthResult
from .writer import RunSummary, SynthConfig, generate, prepare_sources, read_manifest

__all__ = [
    "SYNTH_FAMILIES",
    "FaceSource",
    "Family",
    "RunSummary",
    "SkipSample",
    "SplitPolicy",
    "SynthConfig",
    "SynthResult",
    "available_families",
    "forgery_families",
    "generate",
    "get_family",
    "prepare_sources",
    "read_manifest",
    "register_family",
    "training_families",
]
