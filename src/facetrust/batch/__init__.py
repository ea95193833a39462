"""``facetrust batch``: resumable, shardable scans of many files, streamed to a folder.

:func:`run_batch` is the Python form; :mod:`.inputs` (what to scan), :mod:`.ledger` (what is done),
:mod:`.writer` (results.jsonl and Parquet parts), :mod:`.runner` (the loop), :mod:`.cli` (the command).
"""

from __future__ import annotations

from .inputs import Shard, collect_entries, read_list
from .runner import BatchJob, Outcome, run_batch
from .writer import iter_rows

__all__ = ["BatchJob", "Outcome", "Shard", "collect_entries", "iter_rows", "read_list", "run_batch"]
