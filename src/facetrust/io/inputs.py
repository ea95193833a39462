"""What to scan, for every front door: paths, folders and globs, plus list files of them.

``facetrust scan``, ``facetrust batch``, :func:`facetrust.api.scan_paths` / :func:`~facetrust.api.iter_scan`
and the server's path scans all turn their inputs into :class:`~facetrust.io.SourceEntry` values here:
globs are expanded (``**`` descends), list files are read (one path or glob per line, ``#``
comments), then everything goes through :func:`facetrust.io.walk_sources`, so folders expand the same
way and every file met gets a row. A glob that matches nothing is kept as given, so it is reported
(an error row ``not found``) instead of vanishing.
"""

from __future__ import annotations

import glob
import os
from typing import Iterable, Iterator, Sequence

from .sources import SourceEntry, walk_sources


def read_list(path: str | os.PathLike) -> list[str]:
    """The paths of a list file: one per line, blank lines and ``#`` comments ignored (paths are
    taken as if given on the command line, relative to the current folder)."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\r\n")
            if line.strip() and not line.lstrip().startswith("#"):
                out.append(line.strip())
    return out


def has_glob(text: str) -> bool:
    """Whether ``text`` holds a glob character (``*``, ``?``, ``[``)."""
    return glob.has_magic(text)


def expand_globs(inputs: Iterable[str | os.PathLike]) -> Iterator[str]:
    """Each input, or the sorted paths its glob matches (``**`` descends); an existing path whose
    name holds ``*``, ``?`` or ``[`` is taken literally."""
    for raw in inputs:
        raw = os.fspath(raw)
        if has_glob(raw) and not os.path.lexists(raw):
            matches = sorted(glob.glob(raw, recursive=True))
            if matches:
                yield from matches
                continue
        yield raw


def collect_entries(
    inputs: Sequence[str | os.PathLike],
    from_lists: Sequence[str | os.PathLike] = (),
    *,
    recursive: bool = True,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> list[SourceEntry]:
    """Every input, in order, each once (the walker drops repeats)."""
    raw = list(inputs)
    for lst in from_lists:
        raw.extend(read_list(lst))
    return walk_sources(expand_globs(raw), recursive=recursive, include=include, exclude=exclude)


__all__ = ["collect_entries", "expand_globs", "has_glob", "read_list"]
