"""REST service under load: many clients posting one face image (synchronous answers) for a while.

Starts ``facetrust serve`` on loopback (SQLite in a temp dir), makes a ~50 KB JPEG of a face
(skimage's astronaut), then ``--clients`` asyncio clients each post it in a loop for ``--duration``
seconds and record, per request, the status code and latency. A client answered 429 waits the
``Retry-After`` it was given (``--no-backoff`` retries at once). Prints throughput, latency
percentiles of the 200s, counts per answer, and the server's RSS sampled every second (the first
sample is the idle server; a warm-up of 2 x workers requests that loads the models is not counted);
plus a baseline from the same run: the image scanned in-process by ``facetrust.api.scan`` in one
calling thread (ONNX Runtime may still use several cores inside a call).

Scenarios: ``default`` uses the server's queue (``--queue-size``, default the server's 32): with
50 clients and 2 workers some must be refused (429). ``large`` uses a queue that holds every client:
no 429, longer waits. ``both`` (default) runs one then the other and prints a table.

    PYTHONPATH=src .venv/bin/python benchmarks/server_load.py [--clients 50] [--duration 60] [--workers 2]

The clients run on the same machine as the server and take some of its CPU; figures are for
loopback, so network costs are absent.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Server settings the environment would override: the benchmark sets them with flags only.

@dataclass
class Answer:
    outcome: str  # "200", "202", "429", "500", ... or "timeout" / "conn_error"
    latency_s: float
    retry_after: str | None = None
    verdict: str | None = None


@dataclass
class RunResult:
    scenario: str
    queue_size: int
    wall_s: float
    answers: list[Answer]
    rss_mb: list[float] = field(default_factory=list)

    def count(self, pred) -> int:
        return sum(1 for a in self.answers if pred(a.outcome))

    @property
    def ok(self) -> list[Answer]:
        return [a for a in self.answers if a.outcome == "200"]

    @property
    def throughput(self) -> float:
        return len(self.ok) / self.wall_s

    def percentiles_ms(self) -> tuple[float, float, float]:
        lat = [a.latency_s * 1000 for a in self.ok]
        if not lat:
            return (float("nan"),) * 3
        p50, p90, p99 = np.percentile(lat, [50, 90, 99])
        return float(p50), float(p90), float(p99)


def make_image(path: Path, target_bytes: int = 50_000) -> bytes:
    """The astronaut as a JPEG of about ``target_bytes`` (the highest quality not above it)."""
    import cv2
    import skimage.data

    bgr = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)
    for quality in range(95, 30, -1):
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok and len(buf) <= target_bytes:
            break
    data = buf.tobytes()
    path.write_bytes(data)
    return data


@dataclass
class Baseline:
    scan_ms: float  # facetrust.api.scan alone (median)
    worker_ms: float  # scan + the files a server worker writes: preview frames and heatmaps (median)
    spread_ms: tuple[float, float]  # p10..p90 of scan_ms: how steady the machine was
    verdict: str


def baseline(path: Path, min_s: float = 10.0, min_n: int = 10) -> Baseline:
    """Per-image wall ms in this one thread, after a warm-up scan that loads the models.

    Scan-only and scan+files alternate, so both see the same machine load; medians, so a burst
    from another process does not move the figure much.
    """
    from facetrust import api
    from facetrust.server.artifacts import save_scan_artifacts

    verdict = api.scan(str(path)).verdict
    scan, worker = [], []
    with tempfile.TemporaryDirectory() as tmp:
        t_end = time.perf_counter() + min_s
        while len(scan) < min_n or time.perf_counter() < t_end:
            t0 = time.perf_counter()
            api.scan(str(path))
            t1 = time.perf_counter()
            result = api.scan(str(path))
            api.make_report([result])
            save_scan_artifacts(result, Path(tmp))  # what a worker writes per scan
            t2 = time.perf_counter()
            scan.append(t1 - t0)
            worker.append(t2 - t1)
    p10, p90 = np.percentile(scan, [10, 90]) * 1000
    return Baseline(1000 * float(np.median(scan)), 1000 * float(np.median(worker)), (p10, p90), verdict)


def _rss_mb(pid: int) -> float | None:
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss / 2**20
    except ImportError:
        pass
    except Exception:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def warm_up(base: str, token: str, image: bytes, workers: int) -> None:
    """Not counted: each worker thread loads its models on its first scan."""
    import httpx

    def post() -> None:
        httpx.post(f"{base}/v1/scans", files={"file": ("warm.jpg", image, "image/jpeg")},
                   headers={"Authorization": f"Bearer {token}"}, timeout=120).raise_for_status()

    threads = [threading.Thread(target=post) for _ in range(2 * workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def sample_rss(pid: int, stop: threading.Event, out: list[float]) -> None:
    while True:
        rss = _rss_mb(pid)
        if rss is not None:
            out.append(rss)
        if stop.wait(1.0):
            return


async def load(base: str, token: str, image: bytes, clients: int, duration: float, timeout: float,
               backoff: bool) -> tuple[list[Answer], float]:
    import httpx

    answers: list[Answer] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    t_start = time.perf_counter()
    t_end = t_start + duration

    async def client(http: httpx.AsyncClient) -> None:
        while time.perf_counter() < t_end:
            t0 = time.perf_counter()
            try:
                r = await http.post("/v1/scans", files={"file": ("astronaut.jpg", image, "image/jpeg")})
            except httpx.TimeoutException:
                answers.append(Answer("timeout", time.perf_counter() - t0))
                continue
            except httpx.TransportError:
                answers.append(Answer("conn_error", time.perf_counter() - t0))
                await asyncio.sleep(0.5)
                continue
            latency = time.perf_counter() - t0
            verdict = r.json().get("verdict") if r.status_code == 200 else None
            answers.append(Answer(str(r.status_code), latency, r.headers.get("retry-after"), verdict))
            if r.status_code == 429 and backoff:
                wait = float(r.headers.get("retry-after") or 1)
                await asyncio.sleep(max(0.0, min(wait, t_end - time.perf_counter())))

    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"},
                                 timeout=timeout, limits=limits) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    return answers, time.perf_counter() - t_start


def run_scenario(name: str, queue_size: int | None, args, image: bytes) -> RunResult:
    from facetrust.server.config import ServerConfig
    from facetrust.server.process import ServerProcess

    token = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix=f"facetrust-load-{name}-") as tmp:
        flags = ["--workers", str(args.workers)] + (["--queue-size", str(queue_size)] if queue_size is not None else [])
        server = ServerProcess(Path(tmp), token, *flags)
        rss: list[float] = []
        stop = threading.Event()
        try:
            server.wait_ready()
            sampler = threading.Thread(target=sample_rss, args=(server.proc.pid, stop, rss), daemon=True)
            sampler.start()
            time.sleep(1.0)  # one idle sample before the load
            warm_up(server.base, token, image, args.workers)
            answers, wall = asyncio.run(load(server.base, token, image, args.clients, args.duration,
                                             args.timeout, not args.no_backoff))
            time.sleep(1.5)  # one sample after the load
        finally:
            stop.set()
            server.stop(20)
    return RunResult(name, queue_size or ServerConfig().queue_size, wall, answers, rss)


def print_run(r: RunResult, args, base_ms: float) -> None:
    outcomes = Counter(a.outcome for a in r.answers)
    n429 = [a for a in r.answers if a.outcome == "429"]
    with_ra = [a for a in n429 if a.retry_after]
    p50, p90, p99 = r.percentiles_ms()
    base_tp = 1000.0 / base_ms
    print(f"\n== scenario {r.scenario}: {args.clients} clients, {args.workers} workers, queue_size {r.queue_size}, "
          f"{args.duration:g} s (ran {r.wall_s:.1f} s with the last answers)")
    print(f"requests total        {len(r.answers)}")
    print(f"throughput            {r.throughput:.2f} successful scans/s")
    print(f"latency of 200s (ms)  p50 {p50:.0f}   p90 {p90:.0f}   p99 {p99:.0f}")
    print(f"status 200            {outcomes['200']}")
    print(f"status 202            {outcomes['202']}   (slower than the server's sync timeout)")
    print(f"status 429            {outcomes['429']}")
    print(f"status 5xx            {r.count(lambda o: o.isdigit() and o.startswith('5'))}")
    other = {o: n for o, n in outcomes.items() if o.isdigit() and o not in ("200", "202", "429") and o[0] != "5"}
    if other:
        print(f"other statuses        {other}")
    print(f"client timeouts       {outcomes['timeout']}")
    print(f"connection errors     {outcomes['conn_error']}")
    if n429:
        values = sorted(int(a.retry_after) for a in with_ra if a.retry_after.isdigit())
        span = f" (values {values[0]}..{values[-1]} s)" if values else ""
        print(f"429 with Retry-After  {len(with_ra)}/{len(n429)}{span}")
    else:
        print("429 with Retry-After  - (no 429)")
    print(f"verdicts in 200s      {dict(Counter(a.verdict for a in r.ok))}")
    if r.rss_mb:
        print(f"server RSS (MB)       start {r.rss_mb[0]:.0f}   peak {max(r.rss_mb):.0f}   end {r.rss_mb[-1]:.0f}"
              f"   ({len(r.rss_mb)} samples)")
    print(f"vs in-process         {r.throughput / base_tp:.2f}x the single-thread throughput ({base_tp:.2f}/s)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load per scenario")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--queue-size", type=int, default=None,
                    help="queue of the default scenario (default: the server's default)")
    ap.add_argument("--scenario", choices=["default", "large", "both"], default="both")
    ap.add_argument("--timeout", type=float, default=120.0, help="client timeout per request (s)")
    ap.add_argument("--no-backoff", action="store_true", help="retry a 429 at once instead of after Retry-After")
    ap.add_argument("--baseline-s", type=float, default=10.0, help="seconds of in-process baseline scans")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="facetrust-load-") as tmp:
        path = Path(tmp) / "astronaut.jpg"
        image = make_image(path)
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} before the run; "
              f"image {path.name} {len(image) / 1000:.1f} KB (512x512 JPEG)")
        # The baseline runs first, alone, so no server competes with it for the CPUs.
        base = baseline(path, min_s=args.baseline_s)
        base_ms = base.scan_ms
        print(f"baseline: facetrust.api.scan in-process, one calling thread: {base.scan_ms:.1f} ms/image median "
              f"(p10 {base.spread_ms[0]:.0f}, p90 {base.spread_ms[1]:.0f}) = {1000 / base.scan_ms:.2f} images/s, "
              f"verdict {base.verdict}")
        print(f"          + the files a worker saves (preview, heatmaps): {base.worker_ms:.1f} ms/image "
              f"({1000 / base.worker_ms:.2f} images/s)")

    scenarios = {"default": args.queue_size, "large": max(2 * args.clients, args.queue_size or 0)}
    names = ["default", "large"] if args.scenario == "both" else [args.scenario]
    results = []
    for name in names:
        r = run_scenario(name, scenarios[name], args, image)
        print_run(r, args, base_ms)
        results.append(r)

    print(f"\n{'scenario':<9} {'queue':>5} {'reqs':>6} {'ok/s':>6} {'x1thr':>6} {'p50 ms':>7} {'p90 ms':>7} "
          f"{'p99 ms':>7} {'200':>5} {'202':>4} {'429':>5} {'5xx':>4} {'t/o':>4} {'RSS peak':>8}")
    for r in results:
        p50, p90, p99 = r.percentiles_ms()
        outcomes = Counter(a.outcome for a in r.answers)
        n5xx = r.count(lambda o: o.isdigit() and o.startswith("5"))
        errors = outcomes["timeout"] + outcomes["conn_error"]
        peak = f"{max(r.rss_mb):.0f} MB" if r.rss_mb else "-"
        print(f"{r.scenario:<9} {r.queue_size:>5} {len(r.answers):>6} {r.throughput:>6.2f} "
              f"{r.throughput * base_ms / 1000:>6.2f} {p50:>7.0f} {p90:>7.0f} {p99:>7.0f} {outcomes['200']:>5} "
              f"{outcomes['202']:>4} {outcomes['429']:>5} {n5xx:>4} {errors:>4} {peak:>8}")
    print(f"in-process baseline: {base_ms:.1f} ms/image (median) in one thread = {1000 / base_ms:.2f} images/s; "
          f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
