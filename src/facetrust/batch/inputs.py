"""What a batch scans: INPUTS and ``--from-list`` lines (paths, folders or globs), then ``--shard``.

Globs are expanded here and everything goes through :func:`facetrust.io.walk_sources`, the walker of
``facetrust scan``: folders expand the same way and every file met gets a row. A glob that matches
nothing is kept as given, so it is reported (an error row ``not found``) instead of vanishing.
"""

from __future__ import annotations

import glob
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from ..io import SourceEntry, walk_sources


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


def _has_magic(text: str) -> bool:
    return glob.has_magic(text)


def expand_globs(inputs: Iterable[str]) -> Iterator[str]:
    """Each input, or the sorted paths its glob matches (``**`` descends); an existing path whose
    name holds ``*``, ``?`` or ``[`` is taken literally."""
    for raw in inputs:
        if _has_magic(raw) and not os.path.lexists(raw):
            matches = sorted(glob.glob(raw, recursive=True))
            if matches:
                yield from matches
                continue
        yield raw


def collect_entries(
    inputs: Sequence[str],
    from_lists: Sequence[str] = (),
    *,
    recursive: bool = True,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> list[SourceEntry]:
    """Every input of the job, in order, each once (the walker drops repeats)."""
    raw = list(inputs)
    for lst in from_lists:
        raw.extend(read_list(lst))
    return walk_sources(expand_globs(raw), recursive=recursive, include=include, exclude=exclude)


@dataclass(frozen=True)
class Shard:
    """``--shard I/N``: this process takes the inputs whose path hashes to I modulo N (0 <= I < N).

    The hash is of the path as the walker gives it (as typed, or under the folder as typed), so N
    processes given the same INPUTS from the same folder split them without overlap or gap.
    """

    index: int = 0
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> "Shard":
        try:
            i, n = (int(x) for x in text.split("/"))
        except ValueError:
            raise ValueError(f"--shard takes I/N (e.g. 0/4), got {text!r}") from None
        if n < 1 or not 0 <= i < n:
            raise ValueError(f"--shard I/N needs 0 <= I < N, got {text!r}")
        return cls(i, n)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, path: str | Path) -> bool:
        if self.count == 1:
            return True
        digest = hashlib.blake2b(os.fspath(path).encode("utf-8", "surrogateescape"), digest_size=8).digest()
        return int.from_bytes(digest, "big") % self.count == self.index

    def select(self, entries: Iterable[SourceEntry]) -> list[SourceEntry]:
        return [e for e in entries if self.owns(e.path)]
