"""``--engine ray``: the files of a batch scanned by Ray actors, each loading the models once.

The driver (the ``facetrust batch`` process) keeps the ledger: it hashes each input and asks the
ledger whether it is done or a copy of a recorded row, exactly as the local engine does, and sends
only the rest to the actors, at most :data:`IN_FLIGHT_PER_ACTOR` per actor at a time (so memory
does not grow with the number of inputs). Actors return rows; the driver writes them. An actor needs
no access to the output folder, only to the inputs, at the same paths (a shared filesystem on a
cluster) and facetrust installed.

Without a cluster address (``--ray-address``, ``$RAY_ADDRESS``) a local Ray of ``--workers`` CPUs is
started, with no dashboard and no usage reporting, and stopped at the end.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable, Iterator

from ..io import SourceEntry
from .engine import EngineSettings, EngineUnavailable

IN_FLIGHT_PER_ACTOR = 2  # one scanning, one queued: no actor waits for the driver between files

RAY_MISSING = "--engine ray needs Ray: pip install 'facetrust[ray]'"


def ray_available() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def require_ray() -> None:
    if not ray_available():
        raise ValueError(RAY_MISSING)


class ScanActor:
    """One Ray worker: loads the models once, then scans the inputs it is sent. ``prepare`` and
    ``scan`` are :func:`facetrust.batch.runner.prepare_worker` and ``scan_outcome`` (given, not
    imported: the runner imports this module; Ray sends module functions by name)."""

    def __init__(self, scan_options: dict[str, Any], prepare: Callable, scan: Callable) -> None:
        prepare(scan_options)
        self.scan_options, self._scan = scan_options, scan

    def scan(self, entry: SourceEntry, sha: str):
        return self._scan(entry, sha, self.scan_options)


def connect(settings: EngineSettings) -> bool:
    """Join the cluster, or start a local Ray; True when this call started Ray (and must stop it)."""
    import ray

    if ray.is_initialized():  # a caller of the Python API already chose its cluster
        return False
    address = settings.cluster_address()
    common = dict(logging_level=logging.WARNING, log_to_driver=False, configure_logging=True)
    try:
        if address:
            ray.init(address=address, **common)
        else:
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # offline: nothing is reported
            # "local": a new Ray even if `ray start` left a cluster recorded on this machine
            ray.init(address="local", num_cpus=settings.workers, include_dashboard=False, **common)
    except Exception as exc:  # Ray raises ConnectionError, TimeoutError or a bare Exception
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise EngineUnavailable(f"--engine ray: could not start {where}: {exc}") from exc
    return True


def ray_outcomes(entries: list[SourceEntry], ledger, scan_options: dict[str, Any], settings: EngineSettings,
                 *, precheck: Callable, prepare: Callable, scan: Callable) -> Iterator:
    """The outcome of every input, in the order they finish (as ``--workers`` locally); ``precheck``
    runs in the driver against its ledger, ``prepare`` and ``scan`` in the actors (see :class:`ScanActor`)."""
    import ray

    started = connect(settings)
    actors: list = []
    try:
        remote_actor = ray.remote(num_cpus=1)(ScanActor)
        actors = [remote_actor.remote(scan_options, prepare, scan) for _ in range(settings.workers)]
        load = {i: 0 for i in range(len(actors))}  # calls in flight per actor
        pending: dict = {}  # object ref -> actor index

        def finished(block: bool) -> Iterator:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=None if block else 0)
            for ref in ready:
                load[pending.pop(ref)] -= 1
                yield ray.get(ref)

        for entry in entries:
            known, sha = precheck(entry, ledger)  # the driver's ledger decides what is left
            if known is not None:
                yield known
                continue
            while len(pending) >= IN_FLIGHT_PER_ACTOR * len(actors):
                yield from finished(block=True)
            i = min(load, key=load.get)
            pending[actors[i].scan.remote(entry, sha)] = i
            load[i] += 1
            yield from finished(block=False)
        while pending:
            yield from finished(block=True)
    finally:
        for actor in actors:
            ray.kill(actor)
        if started:
            ray.shutdown()
