"""The dataset adapter registry and what layout detection sees of a path.

Each adapter module registers its loader with :func:`register_adapter`, declaring its aliases and,
when its layout can be recognised, a ``detect`` predicate over a :class:`Layout`. The predicates
are tried in ``detect_order`` (lowest first) by :func:`facetrust.eval.datasets.detect_format`, so a
new adapter is one new module in this package (or an installed package's ``facetrust.datasets``
entry point) and never an edit of the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ...registry import Registry
from ._core import Dataset


@dataclass(frozen=True)
class Layout:
    """A path as layout detection sees it: the path, whether it is a file, its children's names."""

    path: Path
    is_file: bool
    children: frozenset[str]

    @classmethod
    def of(cls, path: Path) -> "Layout":
        if path.is_file():
            return cls(path, True, frozenset())
        return cls(path, False, frozenset(c.name for c in path.iterdir()))

    def child_dirs(self) -> list[Path]:
        return [self.path / c for c in sorted(self.children) if (self.path / c).is_dir()]


DATASET_ADAPTERS: Registry[Callable[..., Dataset]] = Registry(
    "dataset adapter", packages=("facetrust.eval.adapters",), entry_point_group="facetrust.datasets",
    ignore_case=True,
)


def register_adapter(
    name: str,
    *,
    aliases: tuple[str, ...] = (),
    detect: Callable[[Layout], bool] | None = None,
    detect_order: int = 100,
    target: str = "root",
    target_optional: bool = False,
    summary: str = "",
) -> Callable[[Callable[..., Dataset]], Callable[..., Dataset]]:
    """Decorator for a loader ``load(target, **options) -> Dataset``.

    ``target``: the keyword a caller may give the location under (``"root"``, or ``"path"`` for a
    single file); ``target_optional``: the loader finds a default location itself. ``detect``:
    recognises the layout (tried in ``detect_order``; the built-ins use 0-90, so a new adapter with
    the default 100 is tried after them).
    """
    return DATASET_ADAPTERS.register(
        name, aliases=aliases, detect=detect, detect_order=detect_order, target=target,
        target_optional=target_optional, summary=summary,
    )
