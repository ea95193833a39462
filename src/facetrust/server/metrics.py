"""Prometheus metrics of one app (its own registry, so two apps in one process never collide)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
_SCAN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, store, pool) -> None:
        self.registry = r = CollectorRegistry()
        self.requests = Counter("facetrust_http_requests", "HTTP requests answered",
                                ["method", "route", "status"], registry=r)
        self.latency = Histogram("facetrust_http_request_duration_seconds", "HTTP request latency",
                                 ["route"], buckets=_LATENCY_BUCKETS, registry=r)
        self.scans = Counter("facetrust_scans", "scans finished by this process", ["kind", "verdict"], registry=r)
        self.scan_seconds = Histogram("facetrust_scan_duration_seconds", "time a worker spent on one scan",
                                      ["kind"], buckets=_SCAN_BUCKETS, registry=r)
        self.rejected = Counter("facetrust_requests_rejected", "requests refused before scanning",
                                ["reason"], registry=r)
        self.busy = Gauge("facetrust_workers_busy", "scans running in this process", registry=r)
        self.busy.set_function(lambda: pool.busy)
        self.queued = Gauge("facetrust_scans_in_state", "scans in the store by status", ["status"], registry=r)
        self._store = store

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def scan_finished(self, kind: str, verdict: str, seconds: float) -> None:
        self.scans.labels(kind, verdict).inc()
        self.scan_seconds.labels(kind).observe(seconds)

    def render(self) -> bytes:
        for status, n in self._store.counts_by_status().items():  # read at scrape time, from the shared store
            self.queued.labels(status).set(n)
        return generate_latest(self.registry)
