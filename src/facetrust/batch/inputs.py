"""What a batch scans: INPUTS and ``--from-list`` lines (paths, folders or globs), then ``--shard``.

The inputs are walked by :func:`facetrust.io.inputs.collect_entries`, the one walker of every front
door (``scan``, ``batch``, the API's ``scan_paths``, the server's path scans); this module adds the shard.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..io import SourceEntry
from ..io.inputs import collect_entries, expand_globs, read_list

__all__ = ["Shard", "collect_entries", "expand_globs", "read_list"]


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
