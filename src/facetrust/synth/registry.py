"""The family interface and registry.

A family is a class with a ``name`` and a ``generate`` method, decorated with
:func:`register_family`. Every module in ``facetrust.synth.families`` is imported on first use,
and third-party packages can add families through the ``facetrust.synth_families`` entry-point
group, so a new family never requires touching the writer, the CLI or the other families.
"""

from __future__ import annotations

import importlib
import pkgutil
from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from .types import FaceSource, SynthResult

_REGISTRY: dict[str, type["Family"]] = {}
_DISCOVERED = False


class Family(ABC):
    """One way of manufacturing a sample from genuine faces.

    ``label`` is 1 for forgeries; 0 marks a post-processing family (``perturb``) that the writer
    applies to real and fake samples alike. ``partner`` says whether a second identity is
    ``"required"`` (swap, morph), ``"optional"`` (region_edit) or unused (``"none"``).
    Keyword options given at construction override the family's defaults (see each family).
    """

    name: ClassVar[str] = ""
    label: ClassVar[int] = 1
    partner: ClassVar[str] = "none"
    defaults: ClassVar[dict] = {}

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
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"family {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def _discover() -> None:
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True
    from . import families

    for mod in pkgutil.iter_modules(families.__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{families.__name__}.{mod.name}")
    try:
        from importlib.metadata import entry_points

        for ep in entry_points(group="facetrust.synth_families"):
            ep.load()  # the module registers its families on import
    except Exception:  # pragma: no cover - a broken plug-in must not break the built-ins
        pass


def available_families() -> list[str]:
    """Names of every registered family (forgeries and post-processing), sorted."""
    _discover()
    return sorted(_REGISTRY)


def forgery_families() -> list[str]:
    _discover()
    return sorted(n for n, c in _REGISTRY.items() if c.label == 1)


def family_class(name: str) -> type[Family]:
    _discover()
    if name not in _REGISTRY:
        raise ValueError(f"unknown synthesis family {name!r}; available: {available_families()}")
    return _REGISTRY[name]


def get_family(name: str, **options) -> Family:
    """An instance of family ``name`` with ``options`` overriding its defaults."""
    return family_class(name)(**options)
