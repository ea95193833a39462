"""Issue 16: progress bars for synth and train, driven by a callback; none for --json/--quiet/pipes."""

from __future__ import annotations

import io
from contextlib import contextmanager

import pytest

from facetrust.progress_bar import format_metrics, progress_bar, progress_wanted


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_wanted_only_at_a_terminal_without_json_or_quiet():
    assert progress_wanted(stream=_Tty()) is True
    assert progress_wanted(stream=io.StringIO()) is False  # a pipe or a log file
    assert progress_wanted(quiet=True, stream=_Tty()) is False
    assert progress_wanted(json_output=True, stream=_Tty()) is False


def test_metrics_are_rounded_for_the_bar():
    assert format_metrics({"loss": 0.123456, "val_auc": 0.9, "deploy": None}) == "loss 0.123 · val_auc 0.900 · deploy n/a"
    assert format_metrics(None) == ""


def test_the_bar_is_driven_to_its_total_and_restarts_per_epoch():
    from rich.console import Console

    screen = _Tty()
    with progress_bar(True, Console(file=screen, force_terminal=True, width=120)) as update:
        for done in range(4):
            update("batches", done + 1, 4, {"loss": 1.0 / (done + 1)})
        update("epochs", 1, 2, {"loss": 0.25, "val_auc": 0.75})
        update("batches", 1, 4, {"loss": 0.5})  # the next epoch: the bar starts again
        tasks = {t.description: t for t in update.bars.tasks}
        assert tasks["epochs"].completed == 1 and tasks["epochs"].total == 2
        assert tasks["batches"].completed == 1 and tasks["batches"].fields["metrics"] == "loss 0.500"
        for done in range(1, 4):
            update("batches", done + 1, 4, {"loss": 0.2})
        assert tasks["batches"].finished
    assert "loss 0.200" in screen.getvalue() and "eta" in screen.getvalue()
    with progress_bar(False) as off:  # disabled: a callback that draws nothing
        assert off("x", 1, 1, None) is None and not hasattr(off, "bars")


def _recorder(calls: list):
    return lambda stage, done, total, metrics=None: calls.append((stage, done, total))


def test_train_cli_passes_a_progress_callback(monkeypatch, tmp_path, capsys):
    pytest.importorskip("torch")
    pytest.importorskip("yaml")
    import facetrust.progress_bar as pb
    import facetrust.train.loop as loop
    from facetrust.cli import main

    seen: list = []

    @contextmanager
    def fake_bar(enabled, console=None):
        seen.append(enabled)
        yield _recorder([])

    def fake_train(cfg, log=print, progress=None):
        assert callable(progress)
        progress(loop.EPOCH_STAGE, 1, 1, {"loss": 0.5})
        return tmp_path / "best.pt"

    monkeypatch.setattr(pb, "progress_bar", fake_bar)
    monkeypatch.setattr(loop, "train", fake_train)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"name: t\ndata: {tmp_path}\nout_dir: {tmp_path / 'runs'}\n")
    assert main(["train", "--config", str(cfg)]) == 0
    assert main(["train", "--config", str(cfg), "-q"]) == 0
    assert seen == [False, False]  # stdout is captured here, not a terminal; and -q
    assert "best checkpoint" in capsys.readouterr().out
