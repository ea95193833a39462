"""Importing this module registers every detector shipped with facetrust."""

from . import noise_residual, spectral  # noqa: F401
