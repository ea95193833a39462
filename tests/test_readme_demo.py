"""Issue 16: the README's demo block is the demo's output. The test runs the demo's own scan
(facetrust.demo.scan_samples, the code `facetrust demo` runs) on the demo's samples and checks every
row, the threshold, the model version and the "caught" line of README.md's ``demo-results`` block, so
that text must change when the model does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"<!-- demo-results\b[^>]*-->(.*?)<!-- /demo-results -->", re.S)
HEADER = "| sample | truth | p(fake) | verdict | above the threshold (video) |"
NONE = "–"  # the table's "no probability"


@dataclass
class Claim:
    sample: str
    truth: str
    p_fake: float | None
    verdict: str  # real | fake | not_applicable | error
    outcome: str | None  # "missed" / "caught" for forgeries
    segments: list[tuple[float, float]]


@dataclass
class Block:
    threshold: float
    model: str
    version: str
    caught: str
    rows: list[Claim]


def parse_block(text: str) -> Block:
    """The README's demo block; AssertionError (naming the line) when it is not in the expected form."""
    found = BLOCK.findall(text)
    assert len(found) == 1, "README.md needs exactly one <!-- demo-results --> ... <!-- /demo-results --> block"
    body = found[0]
    head = re.search(r"Operating threshold: \*\*([0-9.]+)\*\* \((\w+) v(\w+)\)\. Forgeries caught at it: \*\*([^*]+)\*\*\.",
                     body)
    assert head, "the block's first line: 'Operating threshold: **T** (Model vN). Forgeries caught at it: **...**.'"
    lines = [ln.strip() for ln in body.splitlines() if ln.strip().startswith("|")]
    assert lines[0] == HEADER and set(lines[1].replace("|", "")) <= set("-: "), lines[:2]
    rows = []
    for ln in lines[2:]:
        cells = [c.strip() for c in ln.strip("|").split("|")]
        assert len(cells) == 5, ln
        sample, truth, p, verdict, segs = cells
        m = re.fullmatch(r"(real|fake|not_applicable|error)(?: \((missed|caught)\))?", verdict)
        assert m, f"verdict cell {verdict!r}"
        spans = [tuple(float(x) for x in s.removesuffix(" s").split("–")) for s in segs.split(", ") if s]
        rows.append(Claim(sample, truth, None if p == NONE else float(p), m.group(1), m.group(2), spans))
    return Block(float(head.group(1)), head.group(2), head.group(3), head.group(4), rows)


def test_the_parser_reads_the_block_and_refuses_a_changed_layout():
    good = ("<!-- demo-results: x -->\nOperating threshold: **0.930** (ForensicNet v4). Forgeries caught at it: "
            f"**none**.\n\n{HEADER}\n|---|---|---:|---|---|\n| a.mp4 | forged | 0.929 | real (missed) | 3.65–3.95 s |\n"
            "| b.jpg | text file | – | error | |\n<!-- /demo-results -->")
    b = parse_block(good)
    assert (b.threshold, b.model, b.version, b.caught) == (0.93, "ForensicNet", "4", "none")
    assert b.rows[0] == Claim("a.mp4", "forged", 0.929, "real", "missed", [(3.65, 3.95)])
    assert b.rows[1].p_fake is None and b.rows[1].segments == []
    with pytest.raises(AssertionError):
        parse_block(good.replace("| real (missed) |", "| probably fine |"))
    with pytest.raises(AssertionError):
        parse_block(good.replace("Operating threshold", "Threshold"))


@pytest.fixture(scope="module")
def demo_report(demo_media):
    from facetrust.demo import scan_samples

    return scan_samples(list(demo_media.values()))


def test_readme_demo_block_is_the_demos_output(demo_report):
    from facetrust.demo import SAMPLE_TRUTH
    from facetrust.detectors import DEFAULT_DETECTORS, create_detector

    block = parse_block(README.read_text(encoding="utf-8"))
    results = {Path(r.path).name: r for r in demo_report.results}
    assert [c.sample for c in block.rows] == list(results), "one row per demo sample, in the demo's order"
    info = create_detector(DEFAULT_DETECTORS[0]).info
    assert block.model.lower() == info.name, block.model
    assert block.version == info.version, f"the block names v{block.version}; the shipped model is v{info.version}"
    thresholds = {r.threshold for r in demo_report.results}
    assert len(thresholds) == 1 and block.threshold == pytest.approx(thresholds.pop(), abs=0.0005)
    caught = []
    for claim in block.rows:
        r = results[claim.sample]
        assert claim.truth == SAMPLE_TRUTH[claim.sample], claim.sample
        assert claim.verdict == r.verdict, f"{claim.sample}: README says {claim.verdict}, the demo gives {r.verdict}"
        if claim.p_fake is None:
            assert r.fake_probability is None, claim.sample
        else:  # as printed: 3 decimals
            assert r.fake_probability == pytest.approx(claim.p_fake, abs=0.0005), (
                f"{claim.sample}: README says {claim.p_fake:.3f}, the demo gives {r.fake_probability:.3f}")
        forged = claim.truth.startswith("forged")
        expected_outcome = None if not forged else "caught" if r.verdict == "fake" else "missed"
        assert claim.outcome == expected_outcome, claim.sample
        if forged and r.verdict == "fake":
            caught.append(claim.sample)
        spans = [tuple(s) for t in r.tracks for s in t.segments]  # above-threshold stretches, seconds
        assert len(claim.segments) == len(spans), f"{claim.sample}: segments {spans}"
        for said, got in zip(claim.segments, spans):
            assert said == pytest.approx(got, abs=0.005), claim.sample
    assert block.caught == (", ".join(caught) if caught else "none")
