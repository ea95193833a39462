"""A :class:`VerifyReport` as one JSON file or one small self-contained HTML page (no scripts, no URLs)."""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path

import cv2
import numpy as np

from ..report.json_io import atomic_write_text
from .verify import VerifyReport, VerifiedFace


def write_verify_json(report: VerifyReport, path: str | os.PathLike) -> Path:
    return atomic_write_text(path, json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n")


def _thumbnail(face: VerifiedFace | None) -> str:
    if face is None or face.chip is None:
        return "<div class='none'>no face</div>"
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(np.ascontiguousarray(face.chip), cv2.COLOR_RGB2BGR))
    return f"<img alt='face' src='data:image/jpeg;base64,{base64.b64encode(buf.tobytes()).decode()}'>" if ok else ""


def _fmt(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _morph_rows(report: VerifyReport) -> list[tuple[str, str]]:
    m = report.morph
    if m is None:
        return [("morph check", "-")]
    if m.status != "ok":
        return [("morph check", f"{m.status}: {m.error}")]

    def verdict(p, t, flagged) -> str:
        return f"{'morph' if flagged else 'bona fide'} (p(morph) {_fmt(p)}, threshold {t:.3f})"

    return [("morph, probe alone (S-MAD)", verdict(m.smad_probability, m.smad_threshold, m.smad_flagged)),
            ("morph, probe vs reference (D-MAD)", verdict(m.dmad_probability, m.dmad_threshold, m.dmad_flagged))]


def render_verify_html(report: VerifyReport) -> str:
    e = html.escape
    scan = report.probe_scan
    rows = [
        ("status", report.status),
        ("decision", report.decision or "-"),
        ("same-person probability", _fmt(report.same_person_probability)),
        ("euclidean distance", f"{_fmt(report.euclidean_distance, 4)} (same person if <= {report.threshold:.4f})"),
        ("cosine distance", _fmt(report.cosine_distance, 4)),
        ("probe forgery scan", "-" if scan is None else f"{scan.verdict} (p(fake) {_fmt(scan.fake_probability)})"),
        *_morph_rows(report),
        ("accepted", "yes" if report.accepted else "no"),
        ("reason", report.reason or report.error or "-"),
        ("embedding", f"{report.embedding_model}, calibration {report.calibration}"),
    ]
    table = "".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in rows)
    colour = "#1e8449" if report.accepted else ("#c0392b" if report.status == "ok" else "#7f8c8d")
    explanation = "" if scan is None else f"<p>{e(scan.explanation)}</p>"
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>facetrust verify</title>
<style>body{{font-family:sans-serif;margin:2em}}th{{text-align:left;padding-right:1em}}
.faces{{display:flex;gap:2em}}.faces img{{width:150px;height:150px}}.none{{width:150px;height:150px;background:#eee}}
h1 span{{color:{colour}}}</style></head><body>
<h1>facetrust verify: <span>{e(report.decision or report.status)}</span></h1>
<div class="faces"><figure>{_thumbnail(report.probe_face)}<figcaption>probe: {e(report.probe)}</figcaption></figure>
<figure>{_thumbnail(report.reference_face)}<figcaption>reference: {e(report.reference)}</figcaption></figure></div>
<table>{table}</table>{explanation}
<p>The probability is calibrated at equal priors ({e(report.calibration)}; data and figures in docs/verify.md).</p>
</body></html>
"""


def write_verify_html(report: VerifyReport, path: str | os.PathLike) -> Path:
    return atomic_write_text(path, render_verify_html(report))
