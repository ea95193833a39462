"""generated: whole images from a real generator (GAN, diffusion), imported, never synthesised here.

Samples of this family come from committed recipes of public generator outputs
(``facetrust corpus build`` -> ``corpus faces`` -> ``synth --per-face 0`` -> ``corpus mark-generated``):
the writer does not make them, since no generator is available offline. The family exists so the
family head has a class for whole-image synthesis and reports can name it.
"""

from __future__ import annotations

import numpy as np

from ..registry import Family, register_family
from ..types import FaceSource, SkipSample, SynthResult


@register_family
class Generated(Family):
    name = "generated"
    head_order = 7
    synthesised = False

    def generate(self, target: FaceSource, rng: np.random.Generator, partner: FaceSource | None = None) -> SynthResult:
        raise SkipSample("generated samples are imported from generator outputs (facetrust corpus), not synthesised")
