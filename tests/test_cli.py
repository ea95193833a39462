import csv
import json
import subprocess
import sys

from facetrust.cli import EXIT_ERRORS, EXIT_FAKE, EXIT_NO_INPUT, EXIT_OK, main


def test_scan_writes_json_csv_html_and_exit_code(tmp_path, demo_media):
    folder = demo_media["astronaut.png"].parent
    out = tmp_path / "r"
    code = main(["scan", str(folder), "--frames", "4", "--json", f"{out}.json", "--csv", f"{out}.csv",
                 "--html", f"{out}.html", "-q"])
    data = json.loads((tmp_path / "r.json").read_text())
    results = data["results"]
    assert len(results) == len(demo_media)
    for r in results:
        assert {"path", "verdict", "fake_probability", "faces", "error"} <= set(r)
        assert r["verdict"] in ("real", "fake", "not_applicable", "error")
    verdicts = {r["path"].rsplit("/", 1)[-1]: r["verdict"] for r in results}
    assert verdicts["not_an_image.jpg"] == "error" and verdicts["coffee_no_face.png"] == "not_applicable"
    expected = EXIT_FAKE if "fake" in verdicts.values() else EXIT_ERRORS
    assert code == expected
    rows = list(csv.DictReader(open(tmp_path / "r.csv")))
    assert len(rows) == len(results)
    assert "<html" in (tmp_path / "r.html").read_text().lower()


def test_exit_codes(tmp_path, demo_media):
    astro = str(demo_media["astronaut.png"])
    assert main(["scan", astro, "--threshold", "0", "-q"]) == EXIT_FAKE
    assert main(["scan", astro, "--threshold", "1", "-q"]) in (EXIT_OK, EXIT_FAKE)
    assert main(["scan", str(demo_media["coffee_no_face.png"]), "-q"]) == EXIT_OK
    assert main(["scan", str(demo_media["not_an_image.jpg"]), "-q"]) == EXIT_ERRORS
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["scan", str(empty), "-q"]) == EXIT_NO_INPUT


def test_detectors_lists_the_registry(capsys):
    assert main(["detectors", "--json"]) == 0
    names = {d["name"] for d in json.loads(capsys.readouterr().out)}
    assert {"noise_residual", "spectral"} <= names


def test_extract_writes_aligned_crops(tmp_path, demo_media):
    assert main(["extract", str(demo_media["astronaut.png"]), "--out", str(tmp_path), "--size", "96"]) == 0
    crops = list(tmp_path.glob("*.png"))
    assert len(crops) == 1


def test_module_entry_point_runs():
    res = subprocess.run([sys.executable, "-m", "facetrust", "--version"], capture_output=True, text=True)
    assert res.returncode == 0 and "facetrust" in res.stdout


def test_import_is_lazy():
    code = "import sys, facetrust; print(any(m in sys.modules for m in ('cv2', 'av', 'matplotlib', 'yuface')))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "False"
