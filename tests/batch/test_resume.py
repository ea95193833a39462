"""kill -9 mid-way, then re-run: one row per input, every input present, finished files not re-scanned."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from facetrust.batch import iter_rows
from facetrust.batch.ledger import Ledger
from facetrust.batch.writer import ledger_row, reconcile

from batch_media import make_images

SRC = Path(__file__).resolve().parents[2] / "src"


def _batch_cmd(folder: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "facetrust", "batch", str(folder), "--out", str(out), "-q", "--json"]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def _complete_lines(path: Path) -> list[bytes]:
    if not path.exists():
        return []
    return [line for line in path.read_bytes().splitlines(keepends=True) if line.endswith(b"\n")]


def test_kill_9_mid_run_then_resume(tmp_path):
    inputs = make_images(tmp_path / "in", 30)
    out = tmp_path / "out"
    jsonl = out / "results.jsonl"
    proc = subprocess.Popen(_batch_cmd(tmp_path / "in", out), env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while len(_complete_lines(jsonl)) < 8 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, f"batch ended before it could be killed: {proc.communicate()}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _complete_lines(jsonl)
    n_before = len(before)
    assert 8 <= n_before < 30

    done = subprocess.run(_batch_cmd(tmp_path / "in", out), env=_env(), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode in (0, 1, 3), done.stderr
    summary = json.loads(done.stdout)
    after = _complete_lines(jsonl)
    rows = [json.loads(line) for line in after]
    # exactly one row per input, every input present
    assert sorted(r["path"] for r in rows) == sorted(str(p) for p in inputs)
    assert len(after) == 30 and jsonl.read_bytes().endswith(b"\n")
    # the rows written before the kill are kept as they were, and those files were not scanned again
    assert after[:n_before] == before
    run = summary["this_run"]
    assert run["already_done"] == n_before
    assert run["scanned"] + run["duplicates"] == 30 - n_before
    with sqlite3.connect(out / "ledger.sqlite") as db:
        by_run = dict(db.execute("SELECT run, COUNT(*) FROM files GROUP BY run").fetchall())
        runs = db.execute("SELECT run, scanned, already_done FROM runs ORDER BY run").fetchall()
    assert by_run == {1: n_before, 2: 30 - n_before}
    assert [r[0] for r in runs] == [1, 2] and runs[1][1:] == (30 - n_before, n_before)
    assert summary["rows"] == 30 and sum(summary["verdicts"].values()) == 30


def _row(path: str, sha: str, verdict: str = "real") -> bytes:
    return (json.dumps({"path": path, "sha256": sha, "verdict": verdict, "fake_probability": 0.1}) + "\n").encode()


def test_reconcile_adopts_unindexed_rows_and_drops_torn_and_repeated_ones(tmp_path):
    ledger = Ledger(tmp_path)
    ledger.start_run()
    jsonl = tmp_path / "results.jsonl"
    first = _row("a.png", "aa")
    jsonl.write_bytes(first)
    ledger.add(ledger_row(json.loads(first), 0))
    ledger.commit(len(first))
    # a killed run wrote b, then a again (cannot happen, but must not survive), then c, then tore d
    tail = _row("b.png", "bb") + _row("a.png", "aa") + _row("c.png", "cc") + _row("d.png", "dd")[:-9]
    with open(jsonl, "ab") as fh:
        fh.write(tail)
    ledger.start_run()
    adopted, dropped = reconcile(tmp_path, ledger)
    assert adopted == 2 and dropped > 0
    lines = jsonl.read_bytes().splitlines(keepends=True)
    assert [json.loads(x)["path"] for x in lines] == ["a.png", "b.png", "c.png"]
    assert ledger.is_done("b.png", "bb") and ledger.is_done("c.png", "cc") and not ledger.is_done("d.png", "dd")
    assert ledger.jsonl_offset == jsonl.stat().st_size
    # offsets point at the rows
    off = ledger.db.execute("SELECT row_offset FROM files WHERE path = 'c.png'").fetchone()[0]
    with open(jsonl, "rb") as fh:
        fh.seek(off)
        assert json.loads(fh.readline())["path"] == "c.png"
    # a second reconcile has nothing to do
    assert reconcile(tmp_path, ledger) == (0, 0)
    ledger.close()
    assert [r["path"] for r in iter_rows(tmp_path)] == ["a.png", "b.png", "c.png"]


def test_an_interrupted_run_keeps_its_rows_once(images, tmp_path, monkeypatch):
    """KeyboardInterrupt mid-run: the rows written are kept, adopted on the next run, never doubled."""
    from facetrust.batch import run_batch
    from facetrust.io import walk_sources

    out = tmp_path / "out"
    seen = []

    def stop_after_three(outcome):
        seen.append(outcome.path)
        if len(seen) == 3:
            raise KeyboardInterrupt

    entries = walk_sources([images[0].parent])
    try:
        run_batch(entries, out, on_advance=stop_after_three)
    except KeyboardInterrupt:
        pass
    assert len(_complete_lines(out / "results.jsonl")) == 3
    summary = run_batch(entries, out)
    assert summary["this_run"]["adopted_after_crash"] + summary["this_run"]["already_done"] >= 3
    assert summary["this_run"]["scanned"] + summary["this_run"]["duplicates"] == len(images) - 3
    assert sorted(r["path"] for r in iter_rows(out)) == sorted(str(p) for p in images)
