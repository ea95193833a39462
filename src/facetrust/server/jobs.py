"""The bounded worker pool. The database is the queue, so a job survives any crash of the process.

Workers claim the oldest queued scan under a lease, renew the lease while they scan, and write the
result. A sweeper re-queues scans whose lease ran out (their worker died: ``kill -9``, power loss)
until ``max_attempts``, then fails them with a reason, so no scan is lost or stuck "running".
Each worker thread has its own :class:`Scanner`: face detectors keep per-call state and are not
shared between threads.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .artifacts import save_scan_artifacts
from .config import ServerConfig

log = logging.getLogger(__name__)

RETENTION_EVERY_S = 3600.0
PROGRESS_EVERY_S = 0.5


class LeaseLost(RuntimeError):
    """Another worker took the scan over (our lease expired): stop and drop the result."""


@dataclass
class _Progress:
    done: int = 0
    total: int | None = None


class WorkerPool:
    def __init__(self, store, media, config: ServerConfig, metrics=None) -> None:
        self.store, self.media, self.config, self.metrics = store, media, config, metrics
        # host:pid:boot identifies this process's leases in the database (several servers may share PostgreSQL)
        self.node = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listeners: dict[str, list[Callable[[], None]]] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self.busy = 0  # scans running in this process
        self._last_purge = 0.0
        self.mean_scan_s = 1.0  # running mean of scan time, for the Retry-After estimate (a prior until a scan ends)
        self._scans_timed = 0

    def record_scan_time(self, seconds: float) -> None:
        """The first measured scan replaces the prior (a 1 s guess would skew Retry-After for the
        first several scans); later ones enter an exponential moving average."""
        with self._lock:
            first = self._scans_timed == 0
            self.mean_scan_s = seconds if first else 0.8 * self.mean_scan_s + 0.2 * seconds
            self._scans_timed += 1

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self.sweep()  # scans orphaned by a crash before this start
        for k in range(self.config.workers):
            t = threading.Thread(target=self._work, args=(f"{self.node}:w{k}", lane_kinds(k, self.config.workers)),
                                 name=f"facetrust-worker-{k}", daemon=True)
            t.start()
            self._threads.append(t)
        t = threading.Thread(target=self._sweep_loop, name="facetrust-sweeper", daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.notify()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()

    def notify(self) -> None:
        with self._wake:
            self._wake.notify_all()

    # -- waiting for one scan (synchronous image requests) ---------------------------------
    def on_finished(self, scan_id: str, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (from a worker thread) once this process finishes ``scan_id``; returns an undo."""
        with self._lock:
            self._listeners.setdefault(scan_id, []).append(callback)

        def remove() -> None:
            with self._lock:
                cbs = self._listeners.get(scan_id, [])
                if callback in cbs:
                    cbs.remove(callback)
                if not cbs:
                    self._listeners.pop(scan_id, None)

        return remove

    def _finished(self, scan_id: str) -> None:
        with self._lock:
            callbacks = self._listeners.pop(scan_id, [])
        for cb in callbacks:
            try:
                cb()
            except Exception:  # a waiter's callback must never kill a worker
                log.exception("finish callback failed")

    # -- housekeeping -----------------------------------------------------------------------
    def sweep(self) -> None:
        requeued, failed = self.store.recover_expired(max_attempts=self.config.max_attempts)
        if requeued or failed:
            log.warning("recovered interrupted scans: %d re-queued, %d failed", len(requeued), len(failed))
            self.notify()
        for scan_id in failed:
            self._finished(scan_id)
        now = time.time()
        if now - self._last_purge >= RETENTION_EVERY_S:
            self._last_purge = now
            n = self.media.purge(older_than_s=self.config.retention_s, keep=self.store.media_in_use())
            if n:
                log.info("retention: deleted %d media file(s)", n)

    def _sweep_loop(self) -> None:
        every = max(0.5, self.config.lease_s / 3)
        while not self._stop.wait(every):
            try:
                self.sweep()
            except Exception:
                log.exception("sweeper failed; retrying")

    # -- the workers -----------------------------------------------------------------------
    def _scanner(self, options: dict):
        from ..pipeline import ScanOptions, Scanner

        cache = getattr(self._local, "scanners", None)
        if cache is None:
            cache = self._local.scanners = {}
        opts = ScanOptions(**options)
        if opts not in cache:
            if len(cache) >= 4:  # bound the models a thread keeps loaded
                cache.pop(next(iter(cache)))
            cache[opts] = Scanner(opts)
        return cache[opts]

    def _work(self, worker: str, kinds: tuple[str, ...] | None) -> None:
        while not self._stop.is_set():
            try:
                rec = self.store.claim_next(worker=worker, lease_s=self.config.lease_s, kinds=kinds)
            except Exception:
                log.exception("claiming a scan failed; retrying")
                rec = None
                self._stop.wait(1.0)
            if rec is None:
                with self._wake:
                    self._wake.wait(1.0)  # also polls: other servers may queue scans in a shared database
                continue
            with self._lock:
                self.busy += 1
            try:
                self._run(rec, worker)
            finally:
                with self._lock:
                    self.busy -= 1
                self._finished(rec.id)

    def _run(self, rec, worker: str) -> None:
        from .. import api
        from ..report.schema import to_json_dict

        t0 = time.perf_counter()
        progress = _Progress()
        lost = threading.Event()
        done = threading.Event()

        def beat() -> bool:  # renews the lease and records progress; False once another worker took over
            ok = self.store.heartbeat(rec.id, worker=worker, lease_s=self.config.lease_s,
                                      progress=_fraction(progress), frames_done=progress.done,
                                      frames_total=progress.total)
            if not ok:
                lost.set()
            return ok

        def renew() -> None:  # the lease is kept by time, not by frames: one slow frame must not lose it
            every = self.config.lease_s / 4
            while not done.wait(every):
                try:
                    if not beat():
                        return
                except Exception:
                    log.exception("heartbeat failed")

        last_write = [time.monotonic()]

        def on_progress(n_done: int, total: int | None) -> None:
            progress.done, progress.total = n_done, total
            if lost.is_set():
                raise LeaseLost(rec.id)
            if time.monotonic() - last_write[0] >= PROGRESS_EVERY_S:  # the page polls about twice a second
                last_write[0] = time.monotonic()
                if not beat():
                    raise LeaseLost(rec.id)

        keeper = threading.Thread(target=renew, name=f"lease-{rec.id[:8]}", daemon=True)
        keeper.start()
        try:
            if not rec.media_path or not Path(rec.media_path).is_file():
                self.store.fail(rec.id, worker=worker, error_type="media_gone",
                                error="the media file is no longer on the server (retention or deleted)")
                return
            options = {**self.config.default_options, **rec.options}
            result = self._scanner(options).scan(rec.media_path, progress=on_progress)
            if lost.is_set():
                log.warning("scan %s: lease lost, result dropped", rec.id)
                return
            name = display_name(rec)
            result.path = name  # the client's name, not the store's hash path
            report = api.make_report([result], **options)
            save_scan_artifacts(result, self.media.artifact_dir(rec.id))
            # Error messages and explanations name the file they read: the store's path, mapped back here.
            report_json = client_names(to_json_dict(report), rec.media_path, name)
            if self.store.finish(rec.id, worker=worker, result=report_json, verdict=result.verdict,
                                 fake_probability=result.fake_probability, frames=len(result.frames)):
                elapsed = time.perf_counter() - t0
                self.record_scan_time(elapsed)
                if self.metrics:
                    self.metrics.scan_finished(rec.kind, result.verdict, elapsed)
        except Exception as exc:  # never let one scan take the worker down
            log.exception("scan %s failed", rec.id)
            error = client_names(f"{type(exc).__name__}: {exc}", rec.media_path, display_name(rec))
            self.store.fail(rec.id, worker=worker, error_type="internal_error", error=error)
            if self.metrics:
                self.metrics.scan_finished(rec.kind, "failed", time.perf_counter() - t0)
        finally:
            done.set()
            keeper.join(1.0)


def display_name(rec) -> str:
    """What the client calls the media: the upload's file name, or the server-side path it named."""
    return rec.filename or "upload"


def client_names(value: Any, stored_path: str | None, name: str) -> Any:
    """``value`` (a JSON-like tree or a string) with the store's path of the media replaced by ``name``,
    so no answer shows the server's storage layout (``.../media/c4/ab/<sha256>``)."""
    if not stored_path:
        return value
    if isinstance(value, str):
        return value.replace(stored_path, name) if stored_path in value else value
    if isinstance(value, dict):
        return {k: client_names(v, stored_path, name) for k, v in value.items()}
    if isinstance(value, list):
        return [client_names(v, stored_path, name) for v in value]
    return value


def lane_kinds(k: int, workers: int) -> tuple[str, ...] | None:
    """What worker ``k`` may claim. With two or more workers the first takes images only, so a
    synchronous image never waits behind long videos; the others take whatever is oldest."""
    return ("image",) if workers >= 2 and k == 0 else None


def _fraction(p: _Progress) -> float | None:
    if p.total:
        return min(1.0, p.done / p.total)
    return None
