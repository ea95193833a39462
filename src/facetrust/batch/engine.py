"""Where a batch scans its files: ``local`` (this process, or ``--workers`` spawned processes) or ``ray``.

The engine options are declared once here (:class:`EngineSettings`, with :func:`facetrust.options.option`):
``facetrust batch`` makes its flags from them and :class:`facetrust.batch.BatchJob` takes them.
Whatever the engine, the driver process owns the ledger and writes every row; an engine only turns
inputs into :class:`~facetrust.batch.runner.Outcome` values.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..options import option, validate

ENGINES = ("local", "ray")


class EngineUnavailable(RuntimeError):
    """The engine could not start (Ray missing, no cluster at the address, a local Ray that failed)."""


@dataclass(frozen=True)
class EngineSettings:
    engine: str = option("local", "where files are scanned: 'local' processes, or 'ray' actors (pip install "
                         "'facetrust[ray]')", "str", choices=ENGINES)
    workers: int = option(1, "scanning processes (local) or Ray actors (ray), each loading the models once",
                          "int", minimum=1, metavar="N")
    ray_address: str | None = option(
        None, "--engine ray: the Ray cluster to join (not given: $RAY_ADDRESS; neither: a local Ray of "
        "--workers CPUs is started and stopped)", "str", metavar="ADDRESS")

    def __post_init__(self) -> None:
        validate(self)
        if self.ray_address is not None and self.engine != "ray":
            raise ValueError("--ray-address needs --engine ray")

    def cluster_address(self) -> str | None:
        """The Ray cluster to join: ``--ray-address``, else ``$RAY_ADDRESS``, else None (start one)."""
        return self.ray_address or os.environ.get("RAY_ADDRESS") or None
