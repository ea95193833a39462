"""facetrust batch: rows, duplicates by content, shards, --from-list and globs, Parquet, job settings."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from facetrust.batch import Shard, collect_entries, iter_rows, run_batch
from facetrust.batch import writer as batch_writer
from facetrust.cli import main
from facetrust.io import walk_sources


def _paths(out) -> list[str]:
    return [r["path"] for r in iter_rows(out)]


def test_every_file_gets_one_row_with_the_scan_schema(images, tmp_path, capsys):
    folder = images[0].parent
    (folder / "notes.txt").write_text("not media")
    missing = tmp_path / "missing.png"
    out = tmp_path / "out"
    rc = main(["batch", str(folder), str(missing), "--out", str(out), "-q"])
    assert rc == 3  # the missing file is an error row
    rows = list(iter_rows(out))
    assert sorted(r["path"] for r in rows) == sorted([str(p) for p in images] + [str(folder / "notes.txt"),
                                                                                 str(missing)])
    by_path = {r["path"]: r for r in rows}
    assert by_path[str(missing)]["verdict"] == "error" and by_path[str(missing)]["error_type"]
    assert by_path[str(folder / "notes.txt")]["verdict"] == "not_applicable"
    assert {"verdict", "fake_probability", "faces", "explanation", "sha256", "duplicate_of"} <= set(rows[0])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rows"] == len(rows) == summary["inputs"]
    assert sum(summary["verdicts"].values()) == len(rows)
    assert summary["error_types"] == {by_path[str(missing)]["error_type"]: 1}
    assert summary["this_run"]["scanned"] == len(rows) and summary["this_run"]["files_per_s"] > 0
    printed = capsys.readouterr().out
    assert "files/s" in printed and "error types:" in printed
    # a second run scans nothing and writes nothing
    size = (out / "results.jsonl").stat().st_size
    main(["batch", str(folder), str(missing), "--out", str(out), "-q"])
    assert (out / "results.jsonl").stat().st_size == size
    assert json.loads((out / "summary.json").read_text())["this_run"]["already_done"] == len(rows)


def test_duplicates_by_content_are_recorded_not_rescanned(images, tmp_path):
    folder = images[0].parent
    shutil.copyfile(images[0], folder / "copy_of_first.png")
    shutil.copyfile(images[0], folder / "zz_another_copy.png")
    out = tmp_path / "out"
    summary = run_batch(walk_sources([folder]), out)
    assert summary["this_run"]["duplicates"] == 2 and summary["duplicates"] == 2
    rows = {r["path"]: r for r in iter_rows(out)}
    # walk order: copy_of_first.png, img_000.png, ..., zz_another_copy.png; the first one met is scanned
    first = rows[str(folder / "copy_of_first.png")]
    assert first["duplicate_of"] is None and first["elapsed_s"] > 0
    for copy in (rows[str(images[0])], rows[str(folder / "zz_another_copy.png")]):
        assert copy["duplicate_of"] == first["path"] and copy["elapsed_s"] == 0.0
        assert copy["sha256"] == first["sha256"]
        assert copy["verdict"] == first["verdict"] and copy["fake_probability"] == first["fake_probability"]
        assert copy["faces"] == first["faces"]
    with sqlite3.connect(out / "ledger.sqlite") as db:
        n = db.execute("SELECT COUNT(*) FROM files WHERE duplicate_of IS NOT NULL").fetchone()[0]
    assert n == 2


def test_same_path_new_content_is_a_new_input(images, tmp_path):
    out = tmp_path / "out"
    run_batch(walk_sources([images[0]]), out)
    images[0].write_bytes(images[1].read_bytes())
    summary = run_batch(walk_sources([images[0]]), out)
    assert summary["this_run"]["scanned"] + summary["this_run"]["duplicates"] == 1
    assert len({r["sha256"] for r in iter_rows(out)}) == 2


def test_shards_partition_the_inputs(tmp_path):
    from batch_media import make_images

    paths = make_images(tmp_path / "many", 40)
    entries = walk_sources([tmp_path / "many"])
    shards = [Shard(i, 3).select(entries) for i in range(3)]
    names = [{str(e.path) for e in s} for s in shards]
    assert sum(len(s) for s in names) == 40 and set().union(*names) == {str(p) for p in paths}
    assert all(len(s) > 0 for s in names)
    # stable: the same split every time, whatever the order of the inputs
    assert [{str(e.path) for e in Shard(i, 3).select(reversed(entries))} for i in range(3)] == names


def test_two_shards_through_the_cli_cover_every_input_once(images, tmp_path):
    folder = images[0].parent
    for i in range(2):
        assert main(["batch", str(folder), "--out", str(tmp_path / f"s{i}"), "--shard", f"{i}/2", "-q"]) in (0, 1)
    seen = _paths(tmp_path / "s0") + _paths(tmp_path / "s1")
    assert sorted(seen) == sorted(str(p) for p in images)
    # a shard's folder belongs to that shard
    assert main(["batch", str(folder), "--out", str(tmp_path / "s0"), "--shard", "1/2", "-q"]) == 2


@pytest.mark.parametrize("bad", ["2/2", "1", "a/b", "0/0"])
def test_bad_shard_is_a_usage_error(bad, images, tmp_path):
    assert main(["batch", str(images[0]), "--out", str(tmp_path / "o"), "--shard", bad, "-q"]) == 2


def test_from_list_and_globs_go_through_the_walker(images, tmp_path):
    folder = images[0].parent
    sub = folder / "sub"
    sub.mkdir()
    shutil.copyfile(images[0], sub / "deep.jpg.png")
    (sub / "readme.md").write_text("x")
    listing = tmp_path / "paths.txt"
    listing.write_text(f"# the first two, a folder and a glob\n{images[0]}\n\n  {images[1]}  \n{sub}\n"
                       f"{folder}/img_00[45].png\n{tmp_path}/nothing-*.png\n")
    entries = collect_entries([], [str(listing)])
    got = [str(e.path) for e in entries]
    assert got == [str(images[0]), str(images[1]), str(sub / "deep.jpg.png"), str(sub / "readme.md"),
                   str(images[4]), str(images[5]), f"{tmp_path}/nothing-*.png"]
    assert [e.skip_reason is None for e in entries] == [True, True, True, False, True, True, True]
    # globs on the command line, '**' descending; repeats across INPUTS and lists are one input
    entries = collect_entries([f"{folder}/**/*.png", str(images[0])], [str(listing)])
    got = [str(e.path) for e in entries]
    assert len(got) == len(set(got)) and str(sub / "deep.jpg.png") in got and str(sub / "readme.md") in got
    out = tmp_path / "out"
    main(["batch", f"{folder}/*.png", "--from-list", str(listing), "--out", str(out), "-q"])
    rows = list(iter_rows(out))
    assert sorted(r["path"] for r in rows) == sorted(set([str(p) for p in images] + got))
    unmatched = next(r for r in rows if r["path"].endswith("nothing-*.png"))
    assert unmatched["verdict"] == "error"


def test_parquet_parts_hold_the_same_rows(images, tmp_path, monkeypatch):
    pq = pytest.importorskip("pyarrow.parquet")
    monkeypatch.setattr(batch_writer, "PARQUET_PART_ROWS", 4)
    out = tmp_path / "out"
    run_batch(walk_sources([images[0].parent]), out)
    table = pq.read_table(out / "parquet")
    rows = list(iter_rows(out))
    assert table.column("path").to_pylist() == [r["path"] for r in rows]
    assert table.column("verdict").to_pylist() == [r["verdict"] for r in rows]
    assert [json.loads(x) for x in table.column("row_json").to_pylist()] == rows
    assert len(list((out / "parquet").iterdir())) == 2  # 6 rows: a part of 4, then the last 2
    # an extra run adds parts only for new rows
    extra = images[0].parent / "extra.png"
    extra.write_bytes(b"not really a png")
    run_batch(walk_sources([images[0].parent]), out)
    table = pq.read_table(out / "parquet")
    assert table.num_rows == 7 and table.column("path").to_pylist()[-1] == str(extra)


def test_without_pyarrow_only_jsonl_is_written(images, tmp_path, monkeypatch):
    monkeypatch.setattr("facetrust.batch.runner.pyarrow_available", lambda: False)
    out = tmp_path / "out"
    summary = run_batch(walk_sources([images[0]]), out)
    assert not (out / "parquet").exists() and summary["outputs"]["parquet"] is None
    assert len(list(iter_rows(out))) == 1


def test_other_scan_options_into_the_same_folder_are_refused(images, tmp_path):
    out = tmp_path / "out"
    run_batch(walk_sources([images[0]]), out)
    with pytest.raises(ValueError, match="another --out"):
        run_batch(walk_sources([images[0]]), out, threshold=0.3)
    assert main(["batch", str(images[0]), "--out", str(out), "--threshold", "0.3", "-q"]) == 2


def test_a_folder_being_written_is_refused(images, tmp_path):
    import fcntl

    from facetrust.batch.runner import OutputLocked

    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(OutputLocked):
            run_batch(walk_sources([images[0]]), out)


def test_no_input_found(tmp_path):
    (tmp_path / "empty").mkdir()
    assert main(["batch", str(tmp_path / "empty"), "--out", str(tmp_path / "o"), "-q"]) == 4


def test_two_workers_give_the_rows_of_one(images, tmp_path):
    folder = images[0].parent
    shutil.copyfile(images[2], folder / "same_as_2.png")
    one = run_batch(walk_sources([folder]), tmp_path / "one")
    two = run_batch(walk_sources([folder]), tmp_path / "two", workers=2)
    assert two["this_run"]["workers"] == 2

    def comparable(out):
        rows = {r["path"]: r for r in iter_rows(out)}
        for r in rows.values():
            r.pop("elapsed_s")
            r.pop("duplicate_of")  # which copy is met first depends on the order workers finish
        return rows

    assert comparable(tmp_path / "two") == comparable(tmp_path / "one")
    assert two["verdicts"] == one["verdicts"] and two["rows"] == one["rows"] == len(images) + 1
    assert two["duplicates"] == 1


def test_engine_ray_without_ray_is_a_usage_error(images, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("facetrust.batch.ray_engine.ray_available", lambda: False)
    assert main(["batch", str(images[0]), "--out", str(tmp_path / "o"), "--engine", "ray", "-q"]) == 2
    assert "pip install 'facetrust[ray]'" in capsys.readouterr().err
    assert main(["batch", str(images[0]), "--out", str(tmp_path / "o"), "--workers", "0", "-q"]) == 2


def test_the_ray_address_is_the_flag_then_the_environment(monkeypatch):
    from facetrust.batch.engine import EngineSettings

    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.1:6379")
    assert EngineSettings(engine="ray").cluster_address() == "10.0.0.1:6379"
    assert EngineSettings(engine="ray", ray_address="10.0.0.2:6379").cluster_address() == "10.0.0.2:6379"
    monkeypatch.delenv("RAY_ADDRESS")
    assert EngineSettings(engine="ray").cluster_address() is None  # a local Ray is started


def test_scan_paths_walks_globs_and_lists_as_batch_does(images, tmp_path):
    from facetrust import api

    folder = images[0].parent
    listing = tmp_path / "paths.txt"
    listing.write_text(f"# two by name\n{images[0]}\n{images[1]}\n")
    pattern = f"{folder}/img_00[345].png"
    report = api.scan_paths([pattern], from_lists=[str(listing)])
    walked = [str(e.path) for e in collect_entries([pattern], [str(listing)])]
    assert [r.path for r in report.results] == walked
    assert walked == [str(images[i]) for i in (3, 4, 5, 0, 1)]
    # and batch's rows are those of the same inputs
    out = tmp_path / "out"
    main(["batch", pattern, "--from-list", str(listing), "--out", str(out), "-q"])
    assert sorted(_paths(out)) == sorted(walked)
    assert main(["scan", pattern, "-q", "--json", str(tmp_path / "scan.json")]) in (0, 1)
    assert sorted(r["path"] for r in json.loads((tmp_path / "scan.json").read_text())["results"]) == sorted(
        str(images[i]) for i in (3, 4, 5))
