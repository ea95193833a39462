"""``in-domain`` and ``cross-dataset``: the clean test-split rows only, no extra section."""

from __future__ import annotations

from ..protocols import ProtocolRun, register_protocol


@register_protocol("in-domain", aliases=("in_domain", "indomain"),
                   description="test split (all samples when the dataset has no split), scored as is")
def in_domain(run: ProtocolRun) -> None:
    """The clean rows the runner built are the whole result."""


@register_protocol("cross-dataset", aliases=("cross_dataset",),
                   description="as in-domain, on a dataset the detector was not trained on (trained_on recorded)")
def cross_dataset(run: ProtocolRun) -> None:
    """Mechanically in-domain; ``trained_on`` labels the run."""
