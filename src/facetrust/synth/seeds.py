"""Deterministic per-sample seeds.

Every random choice for a sample comes from a generator seeded by a hash of (global seed, source
id, family, k). Worker count, scheduling order and which other samples exist therefore never
change a sample's bytes.
"""

from __future__ import annotations

import hashlib

import numpy as np


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from any printable parts (stable across processes and Python versions)."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") >> 1


def rng_for(*parts: object) -> np.random.Generator:
    return np.random.default_rng(derive_seed(*parts))


def stable_fraction(*parts: object) -> float:
    """A uniform number in [0, 1) fixed by ``parts`` (used for split assignment and ordering)."""
    return derive_seed(*parts) / float(1 << 63)
