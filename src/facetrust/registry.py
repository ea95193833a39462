"""One registry shape for every pluggable kind: detectors, face backends, synth families, dataset
adapters, eval protocols and training backbones.

A registry maps a canonical name (plus optional aliases) to an object and its metadata. Objects join
with the :meth:`Registry.register` decorator in the module that defines them; the registry finds
those modules itself (*discovery*) the first time it is asked anything:

- every module of the registry's packages is imported (``pkgutil``; names starting with ``_`` are
  helpers and skipped), so a new built-in is one new file in the right folder;
- every entry point of the registry's group is loaded, so an installed package adds its own. An
  entry point may name the object itself (registered under the entry point's name) or a module
  that registers on import.

This module imports nothing from facetrust: any stage may use it.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import threading
import types
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Iterable, Mapping, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered object, its aliases and its metadata."""

    name: str
    obj: T
    aliases: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def module(self) -> str:
        return getattr(self.obj, "__module__", "") or ""

    @property
    def summary(self) -> str:
        """``metadata["summary"]``, else the first line of the object's docstring, else its module's."""
        module = sys.modules.get(self.module)
        texts = (self.metadata.get("summary"), getattr(self.obj, "__doc__", None), getattr(module, "__doc__", None))
        for text in texts:
            if text and text.strip():
                return text.strip().splitlines()[0].strip()
        return ""


class Registry(Generic[T]):
    """Names -> objects for one kind of plug-in (see the module docstring).

    ``kind`` names the plug-in in messages ("detector", "dataset adapter", ...). ``error`` is the
    exception raised for an unknown name (it must accept one message argument). With
    ``ignore_case`` names and aliases are matched case-insensitively (and stripped).
    """

    def __init__(
        self,
        kind: str,
        *,
        packages: Iterable[str] = (),
        entry_point_group: str | None = None,
        error: type[Exception] = ValueError,
        ignore_case: bool = False,
    ) -> None:
        self.kind = kind
        self.packages = tuple(packages)
        self.entry_point_group = entry_point_group
        self.error = error
        self.ignore_case = ignore_case
        self._entries: dict[str, Entry[T]] = {}
        self._aliases: dict[str, str] = {}
        self._discovered = False
        self._lock = threading.RLock()

    # -- registering ---------------------------------------------------------------------------
    def _key(self, name: str) -> str:
        return name.strip().lower() if self.ignore_case else name

    def add(self, name: str, obj: T, *, aliases: Iterable[str] = (), **metadata: Any) -> T:
        """Register ``obj`` under ``name``; re-registering the same object is a no-op."""
        key = self._key(name)
        aliases = tuple(self._key(a) for a in aliases)
        with self._lock:
            old = self._entries.get(key)
            if old is not None:
                if old.obj is obj:
                    return obj
                raise ValueError(f"{self.kind} {name!r} is already registered (by {old.module or old.obj!r})")
            for alias in (key, *aliases):
                owner = self._aliases.get(alias)
                if owner is not None or (alias != key and alias in self._entries):
                    raise ValueError(f"{self.kind} name {alias!r} already belongs to {owner or alias!r}")
            self._entries[key] = Entry(key, obj, aliases, dict(metadata))
            for alias in aliases:
                self._aliases[alias] = key
        return obj

    def register(self, name: str | None = None, *, aliases: Iterable[str] = (), **metadata: Any) -> Callable[[T], T]:
        """Decorator: ``@REGISTRY.register("name", aliases=(...), key=value)``.

        Without ``name`` the object's own ``name`` attribute is used (synth families).
        """

        def wrap(obj: T) -> T:
            label = name if name is not None else getattr(obj, "name", "")
            if not label:
                raise ValueError(f"{getattr(obj, '__name__', obj)!r} has no {self.kind} name")
            return self.add(label, obj, aliases=aliases, **metadata)

        return wrap

    def unregister(self, name: str) -> None:
        """Remove ``name`` and its aliases (a plug-in's tests clean up after themselves)."""
        key = self._key(name)
        with self._lock:
            entry = self._entries.pop(key, None)
            for alias in entry.aliases if entry else ():
                self._aliases.pop(alias, None)

    # -- discovery -----------------------------------------------------------------------------
    def discover(self) -> None:
        """Import the packages' modules and load the entry points (once)."""
        with self._lock:
            if self._discovered:
                return
            self._discovered = True  # before importing: the modules' own register calls re-enter
            try:
                for package in self.packages:
                    pkg = importlib.import_module(package)
                    for mod in pkgutil.iter_modules(getattr(pkg, "__path__", [])):
                        if not mod.name.startswith("_"):
                            importlib.import_module(f"{package}.{mod.name}")
            except BaseException:
                self._discovered = False  # a built-in failing to import is an error every time, not once
                raise
            if self.entry_point_group:
                self._load_entry_points()

    def _load_entry_points(self) -> None:
        from importlib.metadata import entry_points

        for ep in entry_points(group=self.entry_point_group):
            try:
                obj = ep.load()
            except Exception as exc:  # a broken plug-in must not take the built-ins down with it
                warnings.warn(f"{self.kind} plug-in {ep.name!r} ({ep.value}) failed to load: {exc}", stacklevel=2)
                continue
            known = any(e.obj is obj for e in self._entries.values())
            if not isinstance(obj, types.ModuleType) and not known and self._key(ep.name) not in self._entries:
                self.add(ep.name, obj)

    # -- looking up ----------------------------------------------------------------------------
    def resolve(self, name: str) -> str:
        """The canonical name for ``name`` or one of its aliases (raises ``error`` if unknown)."""
        self.discover()
        key = self._key(name)
        key = self._aliases.get(key, key)
        if key not in self._entries:
            raise self.error(f"unknown {self.kind} {name!r}; available: {', '.join(self.names()) or 'none'}")
        return key

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        self.discover()
        key = self._key(name)
        return self._aliases.get(key, key) in self._entries

    def entry(self, name: str) -> Entry[T]:
        return self._entries[self.resolve(name)]

    def get(self, name: str) -> T:
        return self.entry(name).obj

    def names(self) -> list[str]:
        """Canonical names, sorted."""
        self.discover()
        return sorted(self._entries)

    def entries(self) -> list[Entry[T]]:
        """Every entry, sorted by name."""
        self.discover()
        return [self._entries[n] for n in sorted(self._entries)]

    def aliases(self) -> dict[str, str]:
        """alias -> canonical name."""
        self.discover()
        return dict(self._aliases)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self._entries)} registered)"
