"""The family interface and registry.

A family is a class with a ``name`` and a ``generate`` method, decorated with
:func:`register_family`. Every module in ``facetrust.synth.families`` is imported on first use,
and third-party packages can add families through the ``facetrust.synth_families`` entry-point
group, so a new family never requires touching the writer, the CLI, training or the other
families (:class:`facetrust.registry.Registry`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from ..registry import Registry
from .types import FaceSource, SynthResult

SYNTH_FAMILIES: Registry[type["Family"]] = Registry(
    "synthesis family", packages=("facetrust.synth.families",), entry_point_group="facetrust.synth_families"
)
_REGISTRY = SYNTH_FAMILIES._entries  # name -> entry; popped by tests that register a throw-away family


class Family(ABC):
    """One way of manufacturing a sample from genuine faces.

    ``label`` is 1 for forgeries; 0 marks a post-processing family (``perturb``) that the writer
    applies to real and fake samples alike. ``partner`` says whether a second identity is
    ``"required"`` (swap, morph), ``"optional"`` (region_edit) or unused (``"none"``).
    Keyword options given at construction override the family's defaults (see each family).
    ``head_order`` places a forgery family in ForensicNet's family head: the built-ins keep the
    order of the shipped models' heads, a new family (default) comes after them, by name.
    """

    name: ClassVar[str] = ""
    label: ClassVar[int] = 1
    partner: ClassVar[str] = "none"
    defaults: ClassVar[dict] = {}
    head_order: ClassVar[int] = 1000
    # False for a family whose samples are imported, never made by the writer (``generated``: real
    # generator outputs from `facetrust corpus`); it is still a class of the family head.
    synthesised: ClassVar[bool] = True

    def __init__(self, **options) -> None:
        unknown = set(options) - set(self.defaults)
        if unknown:
            raise ValueError(f"family {self.name!r} has no option(s) {sorted(unknown)}; known: {sorted(self.defaults)}")
        self.options = {**self.defaults, **options}

    @abstractmethod
    def generate(
        self, target: FaceSource, rng: np.random.Generator, partner: FaceSource | None = None
    ) -> SynthResult:
        """Make one sample; raise :class:`~facetrust.synth.types.SkipSample` when impossible."""


def register_family(cls: type[Family]) -> type[Family]:
    """Class decorator: make ``cls`` available under ``cls.name``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    if cls.name in _REGISTRY and _REGISTRY[cls.name].obj is not cls:
        raise ValueError(f"family {cls.name!r} registered twice")
    return SYNTH_FAMILIES.add(cls.name, cls, label=cls.label, partner=cls.partner)


def available_families() -> list[str]:
    """Names of every registered family (forgeries and post-processing), sorted."""
    return SYNTH_FAMILIES.names()


def forgery_families() -> list[str]:
    """Families the writer can make (imported-only families such as ``generated`` are left out)."""
    return [e.name for e in SYNTH_FAMILIES.entries() if e.obj.label == 1 and e.obj.synthesised]


def training_families() -> tuple[str, ...]:
    """``("real", *forgery families)`` in family-head order (see :attr:`Family.head_order`)."""
    fakes = sorted((e.obj for e in SYNTH_FAMILIES.entries() if e.obj.label == 1), key=lambda c: (c.head_order, c.name))
    return ("real", *(c.name for c in fakes))


def family_class(name: str) -> type[Family]:
    if name not in SYNTH_FAMILIES:
        raise ValueError(f"unknown synthesis family {name!r}; available: {available_families()}")
    return SYNTH_FAMILIES.get(name)


def get_family(name: str, **options) -> Family:
    """An instance of family ``name`` with ``options`` overriding its defaults."""
    return family_class(name)(**options)
