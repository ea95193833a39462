"""``facetrust serve`` in a child process on a free loopback port (integration tests, benchmarks).

Only flags configure the child: the ``FACETRUST_*`` settings of the caller's environment are
removed, so a shell's ``FACETRUST_DB_URL`` cannot redirect a test's store.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from .config import ENV_VARS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """Start with ``token`` and extra ``serve`` flags; logs go to ``log`` (default data_dir/server.log)."""

    def __init__(self, data_dir: str | os.PathLike, token: str, *args: str, log: str | os.PathLike | None = None):
        import facetrust

        data_dir = Path(data_dir)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = Path(log) if log is not None else data_dir / "server.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in ENV_VARS.values()}
        env["FACETRUST_TOKEN"] = token
        src = str(Path(facetrust.__file__).resolve().parents[1])  # the same facetrust the caller imports
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
        cmd = [sys.executable, "-m", "facetrust.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--data-dir", str(data_dir), "--log-level", "warning", *args]
        with open(self.log, "wb") as fh:
            self.proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT)

    def log_tail(self, n: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-n:] if self.log.exists() else "(no log)"

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until ``/healthz`` answers 200; RuntimeError (with the log's tail) if it exits or times out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not answer /healthz within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
