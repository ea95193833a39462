"""Self-contained HTML report of an evaluation run (results JSON in, one HTML file out).

Inline CSS, charts as base64 PNGs drawn with matplotlib's Agg canvas (no pyplot state), every text
from the results escaped. Sections: run facts, counts and skips, overall metrics per scorer and
level, ROC curves (overall and per kind, labelled with their level), per-kind and same-source
tables with bootstrap CIs, reliability diagrams, robustness chart and table, fairness table,
leave-one-family-out folds, shortcut audit. The report is built from the results document alone, so it can be
re-rendered from a saved ``results.json`` (``write_report(json.load(...), path)``).
"""

from __future__ import annotations

import base64
import html
import io
import os
from pathlib import Path
from typing import Any, Iterable

LEVEL_ORDER = ("image", "frame", "video", "track")

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1d232a;max-width:1400px}
h1{font-size:1.5em;margin-bottom:.2em}
h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccd;padding-bottom:.2em}
h3{font-size:1.02em;margin:1em 0 .3em}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:.86em}
th,td{border:1px solid #d5d9e0;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#eef1f6}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.null{color:#a33}.muted{color:#667}.lvl{font-weight:600;color:#245}
.figs{display:flex;flex-wrap:wrap;gap:10px}.figs figure{margin:0}figcaption{font-size:.8em;color:#445}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;font-size:.9em}
dl.facts dt{font-weight:600}dl.facts dd{margin:0;word-break:break-all}
.note{background:#f6f8fb;border-left:3px solid #89a;padding:6px 10px;font-size:.88em}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "—"
    if isinstance(v, (int, float)):
        return f"{v:.{digits}f}" if isinstance(v, float) else str(v)
    return _e(v)


def _metric_cell(row: dict[str, Any], metric: str, ci: bool = True) -> str:
    key = f"{metric}@{row['level']}"
    m = row.get("metrics", {}).get(key)
    if m is None:
        return '<td class="num muted">—</td>'
    if m.get("value") is None:
        return f'<td class="num null" title="{_e(m.get("reason"))}">null ({_e(m.get("reason"))})</td>'
    text = _fmt(m["value"])
    c = row.get("ci", {}).get(key) if ci else None
    if c and c.get("low") is not None:
        text += f' <span class="muted">[{_fmt(c["low"])}, {_fmt(c["high"])}]</span>'
    elif c and c.get("reason"):
        return f'<td class="num" title="{_e(c["reason"])}">{text} <span class="muted">[no CI]</span></td>'
    return f'<td class="num">{text}</td>'


def _counts_cells(row: dict[str, Any]) -> str:
    """Fakes and reals; at frame level also the groups (videos) they come from: the CI resamples
    groups, so few groups make a wide or degenerate interval."""
    out = ""
    for n, g in (("n_pos", "n_groups_pos"), ("n_neg", "n_groups_neg")):
        text = str(row.get(n))
        if row.get("level") == "frame" and row.get(g) is not None:
            text += f' <span class="muted">({row[g]} grp)</span>'
        out += f"<td class='num'>{text}</td>"
    return out


def _table(head: Iterable[str], body: Iterable[str]) -> str:
    ths = "".join(f"<th>{_e(h)}</th>" for h in head)
    rows = "".join(body)
    return f"<table><thead><tr>{ths}</tr></thead><tbody>{rows}</tbody></table>"


def _level_key(level: str) -> int:
    return LEVEL_ORDER.index(level) if level in LEVEL_ORDER else len(LEVEL_ORDER)


def _sorted_rows(rows: list[dict[str, Any]], scorers: list[str]) -> list[dict[str, Any]]:
    order = {s: i for i, s in enumerate(scorers)}
    return sorted(rows, key=lambda r: (order.get(r["scorer"], 99), _level_key(r["level"])))


# ----------------------------------------------------------------------------------------------
# Charts
# ----------------------------------------------------------------------------------------------


def _figure(w: float, h: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), dpi=90)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _img(b64: str, caption: str) -> str:
    return (f'<figure><img alt="{_e(caption)}" src="data:image/png;base64,{b64}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def roc_chart(overall: dict[str, Any], per_kind: list[dict[str, Any]]) -> str | None:
    """ROC of one scorer at one level: the overall curve plus one per kind."""
    curves = [(f"all (AUC {_fmt(_auc(overall))})", overall.get("roc"), "black", 2.2, "-")] if overall.get("roc") else []
    for r in per_kind:  # fake kinds solid, real kinds (all fakes vs that real kind) dashed
        if r.get("roc"):
            style = "--" if r.get("kind_label") == "real" else "-"
            curves.append((f"{r['subset']} (AUC {_fmt(_auc(r))})", r["roc"], None, 1.2, style))
    if not curves:
        return None
    fig = _figure(5.2, 4.4)
    ax = fig.add_subplot(1, 1, 1)
    for label, roc, colour, lw, style in curves:
        ax.plot(roc["fpr"], roc["tpr"], label=label[:60], color=colour, lw=lw, ls=style)
    ax.plot([0, 1], [0, 1], ":", color="grey", lw=1)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("false positive rate (reals flagged)")
    ax.set_ylabel("true positive rate (fakes caught)")
    ax.set_title(f"ROC, {overall['scorer'][:40]}, level = {overall['level']}", fontsize=9)
    ax.legend(loc="lower right", fontsize=6)
    return _png(fig)


def reliability_chart(row: dict[str, Any]) -> str | None:
    """The reliability diagram of an overall row (drawn by metrics.plot_reliability)."""
    from .metrics import CalibrationResult, MetricResult, ReliabilityBin, plot_reliability

    rel = row.get("reliability")
    if not rel or not any(b["count"] for b in rel["bins"]):
        return None
    e = rel["ece"]
    calib = CalibrationResult(
        MetricResult(e["value"], e.get("reason"), e.get("n_pos", 0), e.get("n_neg", 0)),
        [ReliabilityBin(**b) for b in rel["bins"]],
        rel["mode"],
        rel.get("mce"),
    )
    buf = io.BytesIO()
    title = f"{row['scorer'][:30]} @ {row['level']} (ECE {_fmt(e['value'])})"
    plot_reliability(calib, buf, title=title)  # type: ignore[arg-type]  # savefig takes a file object
    return base64.b64encode(buf.getvalue()).decode("ascii")


def robustness_chart(summary: list[dict[str, Any]], level: str, scorers: list[str]) -> str | None:
    """AUC vs strength, one panel per perturbation, one line per scorer (clean AUC at the left)."""
    rows = [r for r in summary if r["level"] == level]
    perts = list(dict.fromkeys(r["perturbation"] for r in rows))
    if not perts:
        return None
    fig = _figure(3.0 * len(perts), 3.0)
    for i, p in enumerate(perts):
        ax = fig.add_subplot(1, len(perts), i + 1)
        for sc in scorers:
            pts = [r for r in rows if r["perturbation"] == p and r["scorer"] == sc]
            if not pts:
                continue
            labels = ["clean"] + [f"{r['strength']:g}" for r in pts]
            ys = [pts[0]["clean_roc_auc"]] + [r["roc_auc"] for r in pts]
            ys = [float("nan") if v is None else v for v in ys]
            ax.plot(range(len(labels)), ys, marker="o", label=sc[:30])
            ax.set_xticks(range(len(labels)))
            ax.set_xticklabels(labels, fontsize=7)
        ax.set_ylim(0, 1)
        ax.axhline(0.5, color="grey", ls=":", lw=1)
        ax.set_title(f"{p} ({level} AUC)", fontsize=9)
        if i == 0:
            ax.set_ylabel("ROC AUC")
            ax.legend(fontsize=6, loc="lower left")
    return _png(fig)


def _auc(row: dict[str, Any]) -> float | None:
    return row.get("metrics", {}).get(f"roc_auc@{row['level']}", {}).get("value")


# ----------------------------------------------------------------------------------------------
# Sections
# ----------------------------------------------------------------------------------------------


def _facts(res: dict[str, Any]) -> str:
    ds, pr, st = res.get("dataset", {}), res.get("protocol", {}), res.get("settings", {})
    dets = ", ".join(f"{d['name']} {d['version']}" for d in res.get("detectors", []))
    items = [
        ("detectors", dets),
        ("scorers", ", ".join(res.get("scorers", []))),
        ("dataset", f"{ds.get('name')} ({ds.get('n_evaluated')} of {ds.get('n_samples')} samples evaluated: "
                    f"{ds.get('selection')})"),
        ("manifest hash", ds.get("manifest_hash")),
        ("protocol", f"{pr.get('name')}: {pr.get('description')}"),
        ("trained on", pr.get("trained_on")),
        ("git commit", f"{res.get('git_commit')}{' (dirty tree)' if res.get('git_dirty') else ''}"),
        ("created", res.get("created")),
        ("sampler / faces", f"{st.get('sampler')}; {st.get('face_detector')}; max {st.get('max_faces')} faces"),
        ("threshold", f"{st.get('threshold')} (fixed; {pr.get('rule')})"),
        ("CIs", f"{st.get('n_boot')} bootstrap replicates, {100 * (1 - (st.get('ci_alpha') or 0.05)):g}% "
                f"percentile; frame level resamples whole groups"),
    ]
    t = res.get("timing", {})
    if t:
        items.append(("timing", f"total {_fmt(t.get('total_s'), 1)} s, {_fmt(t.get('per_sample_ms'), 1)} ms/sample; "
                                f"cache {t.get('cache')}"))
    dl = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items if v is not None)
    levels = st.get("levels", {})
    lv = "".join(f"<li><span class='lvl'>{_e(k)}</span>: {_e(v)}</li>" for k, v in levels.items())
    return f'<dl class="facts">{dl}</dl><div class="note">Levels<ul>{lv}</ul></div>'


def _counts(res: dict[str, Any]) -> str:
    c = res.get("counts", {})
    out = [f"<p>{_e(c.get('samples'))} samples evaluated: {_e(c.get('scored'))} scored, "
           f"{_e(c.get('no_face'))} without a face, {_e(c.get('error'))} unreadable; "
           f"{_e(c.get('frames_without_face_in_scored_samples'))} sampled frames without a face in scored samples.</p>"]
    body = []
    for kind, k in c.get("by_kind", {}).items():
        label = {0: "real", 1: "fake"}.get(k.get("label"), k.get("label"))
        errs = ", ".join(f"{code}: {n}" for code, n in k.get("errors", {}).items())
        body.append(f"<tr><td>{_e(kind)}</td><td>{_e(label)}</td><td class='num'>{k['samples']}</td>"
                    f"<td class='num'>{k['scored']}</td><td class='num'>{k['no_face']}</td>"
                    f"<td class='num'>{k['error']}</td><td>{_e(errs)}</td></tr>")
    out.append(_table(["kind", "label", "samples", "scored", "no face", "unreadable", "error codes"], body))
    return "".join(out)


def _skipped(res: dict[str, Any]) -> str:
    sk = res.get("skipped", {})
    body = [f"<tr><td>dataset loading</td><td>{_e(r)}</td><td class='num'>{n}</td></tr>"
            for r, n in sk.get("dataset", {}).items()]
    body += [f"<tr><td>run</td><td>{_e(r)}</td><td class='num'>{n}</td></tr>"
             for r, n in sk.get("run", {}).items() if n]
    out = _table(["stage", "reason", "count"], body) if body else "<p>Nothing skipped.</p>"
    items = sk.get("run_items", []) + [[p, r, ""] for p, r in sk.get("dataset_items", [])]
    if items:
        lis = "".join(f"<tr><td>{_e(p)}</td><td>{_e(code)}</td><td>{_e(msg)}</td></tr>" for p, code, msg in items)
        table = _table(["path", "reason", "detail"], [lis])
        out += f"<details><summary>{len(items)} skipped item(s)</summary>{table}</details>"
    return out


_MAIN = ("roc_auc", "average_precision", "eer", "ece")


def _overall_table(rows: list[dict[str, Any]], threshold: Any) -> str:
    head = ["scorer", "level", "fakes", "reals", "ROC AUC", "AP", "EER", "ECE", f"acc@{threshold}",
            "bal. acc", "TPR@1%FPR", "TPR@5%FPR", "TPR@10%FPR"]
    body = []
    for r in rows:
        cells = "".join(_metric_cell(r, m) for m in _MAIN)
        cells += "".join(_metric_cell(r, m, ci=False) for m in ("accuracy", "balanced_accuracy", "tpr_at_fpr_0.01",
                                                                 "tpr_at_fpr_0.05", "tpr_at_fpr_0.1"))
        body.append(f"<tr><td>{_e(r['scorer'])}</td><td class='lvl'>{_e(r['level'])}</td>"
                    f"{_counts_cells(r)}{cells}</tr>")
    return _table(head, body)


def _kind_table(rows: list[dict[str, Any]], with_source: bool = False) -> str:
    head = ["scorer", "level", "comparison", "fakes", "reals", "ROC AUC", "AP", "EER", "ECE",
            "mean p(fake) fakes", "mean p(fake) reals"]
    body = []
    for r in rows:
        cells = "".join(_metric_cell(r, m) for m in _MAIN)
        body.append(f"<tr><td>{_e(r['scorer'])}</td><td class='lvl'>{_e(r['level'])}</td><td>{_e(r['subset'])}</td>"
                    f"{_counts_cells(r)}{cells}"
                    f"<td class='num'>{_fmt(r.get('mean_score_fake'))}</td>"
                    f"<td class='num'>{_fmt(r.get('mean_score_real'))}</td></tr>")
    return _table(head, body)


def _robustness(res: dict[str, Any], scorers: list[str]) -> str:
    rob = res.get("robustness")
    if not rob:
        return ""
    summary = rob.get("summary", [])
    out = ["<h2>Robustness</h2><p>Each perturbation is applied to the decoded frame before face detection "
           "(deterministic levels, facetrust.eval.robustness). Drop = clean AUC − perturbed AUC.</p>"]
    levels = sorted({r["level"] for r in summary}, key=_level_key)
    figs = [robustness_chart(summary, lv, scorers) for lv in levels]
    out.append('<div class="figs">' + "".join(_img(f, f"robustness, level = {lv}") for f, lv in zip(figs, levels) if f)
               + "</div>")
    body = [f"<tr><td>{_e(r['scorer'])}</td><td class='lvl'>{_e(r['level'])}</td><td>{_e(r['condition'])}</td>"
            f"<td class='num'>{r['n_pos']}</td><td class='num'>{r['n_neg']}</td>"
            f"<td class='num'>{_fmt(r['clean_roc_auc'])}</td>"
            f"<td class='num'>{_fmt(r['roc_auc'])}</td><td class='num'>{_fmt(r['drop'])}</td></tr>"
            for r in sorted(summary, key=lambda r: (scorers.index(r["scorer"]) if r["scorer"] in scorers else 99,
                                                    _level_key(r["level"])))]
    out.append(_table(["scorer", "level", "condition", "fakes", "reals", "clean AUC", "AUC", "drop"], body))
    return "".join(out)


def _fairness(res: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    fair = res.get("fairness")
    if not fair:
        return ""
    out = ["<h2>Fairness</h2>"]
    if not fair.get("attribute"):
        return out[0] + f"<p class='null'>{_e(fair.get('reason'))}</p>"
    out.append(f"<p>Group attribute: <b>{_e(fair['attribute'])}</b>. FPR = reals flagged (BPCER), TPR = fakes caught "
               f"(1 − APCER), both at the fixed threshold.</p>")
    body = []
    for r in rows:
        m = r["metrics"]
        bp = m.get(f"bpcer@{r['level']}", {}).get("value")
        ap = m.get(f"apcer@{r['level']}", {}).get("value")
        body.append(f"<tr><td>{_e(r['scorer'])}</td><td class='lvl'>{_e(r['level'])}</td><td>{_e(r['group'])}</td>"
                    f"<td class='num'>{r['n_pos']}</td><td class='num'>{r['n_neg']}</td>{_metric_cell(r, 'roc_auc')}"
                    f"<td class='num'>{_fmt(bp)}</td><td class='num'>{_fmt(None if ap is None else 1 - ap)}</td></tr>")
    out.append(_table(["scorer", "level", "group", "fakes", "reals", "ROC AUC", "FPR", "TPR"], body))
    gbody = []
    for g in fair.get("gaps", []):
        cells = ""
        for m in ("roc_auc", "fpr", "tpr"):
            x = g.get(f"max_gap_{m}", {})
            if x.get("value") is None:
                cells += f"<td class='null'>null ({_e(x.get('reason'))})</td>"
            else:
                between = _e(" vs ".join(x["between"]))
                cells += f"<td class='num'>{_fmt(x['value'])} <span class='muted'>({between})</span></td>"
        gbody.append(f"<tr><td>{_e(g['scorer'])}</td><td class='lvl'>{_e(g['level'])}</td>{cells}</tr>")
    gaps = _table(["scorer", "level", "AUC gap", "FPR gap", "TPR gap"], gbody)
    out.append("<h3>Largest gap between groups</h3>" + gaps)
    return "".join(out)


def _folds(res: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    folds = res.get("folds")
    if folds is None:
        return ""
    out = ["<h2>Leave-one-family-out</h2><p>Per held-out family: its fakes vs every real of the test split.</p>"]
    info = "".join(f"<tr><td>{_e(f['held_out'])}</td><td class='num'>{f['n_test']}</td>"
                   f"<td class='num'>{f['n_train']}</td>"
                   f"<td>{_e(f.get('trained_detector') or 'training-free (scored as is)')}</td></tr>" for f in folds)
    out.append(_table(["held-out family", "test samples", "train/val samples", "detector"], [info]))
    body = [f"<tr><td>{_e(r['fold'])}</td><td>{_e(r['scorer'])}</td><td class='lvl'>{_e(r['level'])}</td>"
            f"<td class='num'>{r['n_pos']}</td><td class='num'>{r['n_neg']}</td>"
            + "".join(_metric_cell(r, m) for m in ("roc_auc", "average_precision", "eer")) + "</tr>" for r in rows]
    out.append(_table(["held-out family", "scorer", "level", "fakes", "reals", "ROC AUC", "AP", "EER"], body))
    return "".join(out)


def _audit_auc_cell(a: dict[str, Any]) -> str:
    if a.get("value") is None:
        return f"<td class='null'>null ({_e(a.get('reason'))})</td>"
    text = _fmt(a["value"])
    if a.get("low") is not None:
        text += f" <span class='muted'>[{_fmt(a['low'])}, {_fmt(a['high'])}]</span>"
    else:
        text += f" <span class='muted' title='{_e(a.get('reason'))}'>[no CI]</span>"
    style = " style='background:#fbe3e3;font-weight:600'" if a.get("flagged") else ""
    return f"<td class='num'{style}>{text}</td>"


def _shortcut_audit(res: dict[str, Any]) -> str:
    """The shortcut-audit section (facetrust.eval.sections.shortcut_audit); '' when the run has none."""
    sa = res.get("shortcut_audit")
    if not sa:
        return ""
    out = [f"<h2>Shortcut audit</h2><p>One unit per scored sample ({sa['n_units']}). {_e(sa['rule'])}; "
           f"flagged cells are shaded. {sa.get('n_tests', 0)} AUCs with an interval: at this many, a flag or two "
           f"can be chance.</p>"]
    if sa["flags"]:
        out.append("<p class='note'><b>Flagged:</b><br>" + "<br>".join(_e(f) for f in sa["flags"]) + "</p>")
    else:
        out.append("<p class='note'>Nothing flagged.</p>")
    out.append("<h3>Nuisances measured</h3>")
    out.append(_table(["nuisance", "measured", "genuine", "fake", "what", "not analysed"], [
        f"<tr><td>{_e(n['name'])}</td><td class='num'>{n['n_measured']}</td><td class='num'>{n['n_genuine']}</td>"
        f"<td class='num'>{n['n_fake']}</td><td>{_e(n['description'])}</td>"
        f"<td class='muted'>{_e('; '.join(x for x in (n['genuine_reason'], n['dataset_reason']) if x))}</td></tr>"
        for n in sa["nuisances"]]))
    out.append("<h3>Data: the nuisance alone as a real-vs-fake score</h3>")
    out.append(_table(["nuisance", "category", "fakes", "reals", "fakes / reals (share or median)", "AUC"], [
        f"<tr><td>{_e(r['nuisance'])}</td><td>{_e(r['category'] or '')}</td><td class='num'>{r['n_fake']}</td>"
        f"<td class='num'>{r['n_real']}</td><td class='num'>"
        + (f"{_fmt(r['fake_share'])} / {_fmt(r['real_share'])}" if r["category"] is not None
           else f"{r['median_fake']:.4g} / {r['median_real']:.4g}")
        + f"</td>{_audit_auc_cell(r['auc'])}</tr>" for r in sa["dataset"]]))
    out.append(f"<h3>Detector: genuine bucket vs other genuine</h3><p>Mean score and share flagged at the threshold "
               f"({_fmt(sa.get('threshold'))}) for the bucket (and the other genuine samples).</p>")
    out.append(_table(["scorer", "nuisance", "bucket", "genuine in bucket", "other genuine", "mean score",
                       "flagged", "AUC"], [
        f"<tr><td>{_e(r['scorer'])}</td><td>{_e(r['nuisance'])}</td><td>{_e(r['bucket'])}</td>"
        f"<td class='num'>{r['n_bucket']}</td><td class='num'>{r['n_rest']}</td>"
        f"<td class='num'>{_fmt(r['mean_score'])} <span class='muted'>({_fmt(r['mean_score_rest'])})</span></td>"
        f"<td class='num'>{_fmt(r['flag_rate'])}</td>{_audit_auc_cell(r['auc'])}</tr>" for r in sa["genuine_vs_genuine"]]))
    return "".join(out)


def render_report(res: dict[str, Any]) -> str:
    """The report as one HTML string."""
    scorers = list(res.get("scorers", []))
    rows = res.get("metrics", [])
    sec = lambda name: _sorted_rows([r for r in rows if r["section"] == name], scorers)  # noqa: E731
    overall, per_kind, same_src = sec("overall"), sec("per_kind"), sec("same_source")
    title = (f"facetrust eval: {', '.join(d['name'] for d in res.get('detectors', []))} on "
             f"{res.get('dataset', {}).get('name')} ({res.get('protocol', {}).get('name')})")
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>"
             f"<style>{_CSS}</style></head><body><h1>{_e(title)}</h1>", _facts(res)]
    parts.append("<h2>Counts</h2>" + _counts(res))
    parts.append("<h2>Overall</h2>")
    if overall:
        parts.append("<p>Values with 95% bootstrap CIs in brackets; <span class='null'>null</span> = undefined, "
                     "with the reason (e.g. a class with no samples).</p>")
        parts.append(_overall_table(overall, res.get("settings", {}).get("threshold")))
    else:
        parts.append("<p class='null'>No sample could be scored, so no metric is defined.</p>")
    figs = []
    for o in overall:
        kinds = [r for r in per_kind if r["scorer"] == o["scorer"] and r["level"] == o["level"]]
        b64 = roc_chart(o, kinds)
        if b64:
            figs.append(_img(b64, f"ROC: {o['scorer']}, level = {o['level']}"))
    if figs:
        parts.append("<h2>ROC curves</h2><div class='figs'>" + "".join(figs) + "</div>")
    if per_kind:
        parts.append("<h2>Per kind</h2><p>A fake kind is compared with all reals of the level, a real kind with "
                     "all fakes of the level.</p>" + _kind_table(per_kind))
    if same_src:
        parts.append("<h2>Same-source comparison</h2><p>Fakes of a kind vs the reals of the same source "
                     "(e.g. FF++ manipulations vs FF++ originals): removes source/compression differences.</p>"
                     + _kind_table(same_src))
    rel = [(reliability_chart(o), o) for o in overall]
    rel_figs = [_img(b, f"reliability: {o['scorer']}, level = {o['level']}") for b, o in rel if b]
    if rel_figs:
        parts.append("<h2>Reliability</h2><p>Predicted fake probability vs observed fraction of fakes per bin "
                     "(15 equal-width bins).</p><div class='figs'>" + "".join(rel_figs) + "</div>")
    parts.append(_robustness(res, scorers))
    parts.append(_fairness(res, sec("fairness")))
    parts.append(_folds(res, sorted(sec("fold"), key=lambda r: str(r.get("fold")))))
    parts.append(_shortcut_audit(res))
    parts.append("<h2>Skipped</h2>" + _skipped(res))
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p)


def write_report(results: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write :func:`render_report` to ``path``; returns the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_report(results), encoding="utf-8")
    return p


__all__ = ["render_report", "reliability_chart", "robustness_chart", "roc_chart", "write_report"]
