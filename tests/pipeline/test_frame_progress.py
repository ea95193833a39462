"""Per-frame progress for videos (issue 15): one callback (facetrust.pipeline.ProgressFn) through
the pipeline, drawn by ``scan`` and ``batch``; the server's job status is covered in tests/server."""

from __future__ import annotations

import pytest

import facetrust


@pytest.fixture()
def video(demo_media):
    return demo_media["hopper_half_forged.mp4"]


def test_the_callback_counts_every_sampled_frame_up_to_the_total(video):
    calls = []
    r = facetrust.scan(str(video), frames=5, progress=lambda n, total: calls.append((n, total)))
    assert r.verdict != "error" and len(r.frames) == 5
    assert calls == [(i, 5) for i in range(1, 6)]


def test_an_image_reports_its_one_frame(demo_media):
    calls = []
    facetrust.scan(str(demo_media["grace_hopper.jpg"]), progress=lambda n, total: calls.append((n, total)))
    assert calls == [(1, None)]


def _spy_progress(monkeypatch) -> list[dict]:
    """Every update of a Rich progress task whose description is the frames bar."""
    from rich.progress import Progress

    seen: list[dict] = []
    real = Progress.update

    def update(self, task_id, **kw):
        if self._tasks[task_id].description.strip() == "frames":
            seen.append(kw)
        return real(self, task_id, **kw)

    monkeypatch.setattr(Progress, "update", update)
    return seen


def test_scan_cli_shows_the_frames_of_the_current_video(video, demo_media, tmp_path, monkeypatch):
    from facetrust.cli import main

    seen = _spy_progress(monkeypatch)
    code = main(["scan", str(video), str(demo_media["grace_hopper.jpg"]), "--frames", "4", "-q",
                 "--json", str(tmp_path / "r.json")])
    assert code in (0, 1)
    shown = [kw for kw in seen if kw.get("visible")]
    assert [kw["completed"] for kw in shown] == [1, 2, 3, 4] and {kw["total"] for kw in shown} == {4}


def test_batch_passes_frame_progress_through(video, tmp_path, monkeypatch):
    from facetrust.batch.runner import BatchJob
    from facetrust.io import walk_sources

    calls = []
    job = BatchJob(tmp_path / "out", {"frames": 3}, parquet=False)
    summary = job.run(walk_sources([str(video)]), on_frames=lambda n, total: calls.append((n, total)))
    assert summary["this_run"]["scanned"] == 1
    assert calls == [(1, 3), (2, 3), (3, 3)]

    from facetrust.cli import main

    seen = _spy_progress(monkeypatch)
    assert main(["batch", str(video), "--out", str(tmp_path / "cli"), "--frames", "3", "-q", "--no-parquet"]) in (0, 1)
    assert [kw["completed"] for kw in seen if kw.get("visible")] == [1, 2, 3]
