"""Importing this module registers every detector shipped with facetrust."""

from . import forensicnet, noise_residual, spectral  # noqa: F401
