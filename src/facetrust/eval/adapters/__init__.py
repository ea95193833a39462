"""Dataset adapters: each turns one on-disk layout into a :class:`~facetrust.eval.datasets.Dataset`.

Import them through :mod:`facetrust.eval.datasets`; layouts are documented in docs/datasets.md.
Each adapter module registers itself (name, aliases, layout predicate) with
:func:`~facetrust.eval.adapters._registry.register_adapter`.
"""

from ._core import Dataset, Sample, compute_manifest_hash, parse_label
from ._registry import DATASET_ADAPTERS, Layout, register_adapter
from .celebdf import load_celebdf
from .df40 import load_df40
from .dfdc import load_dfdc
from .ffpp import load_ffpp
from .forgerynet import load_forgerynet
from .generic import load_folder, load_manifest
from .wild_dev import load_wild_dev
from .wilddeepfake import load_wilddeepfake

__all__ = [
    "DATASET_ADAPTERS",
    "Dataset",
    "Layout",
    "Sample",
    "compute_manifest_hash",
    "parse_label",
    "register_adapter",
    "load_celebdf",
    "load_df40",
    "load_dfdc",
    "load_ffpp",
    "load_folder",
    "load_forgerynet",
    "load_manifest",
    "load_wild_dev",
    "load_wilddeepfake",
]
