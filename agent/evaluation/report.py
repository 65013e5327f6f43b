"""The report of a run: DIR/metrics.json, a self-contained DIR/report.html and DIR/report.md.

The HTML page needs nothing from the network: inline CSS, charts drawn here as inline SVG
(accuracy by type, latency histogram). Every question, answer, tool argument and error is
HTML-escaped. The Markdown file is the summary to paste into a pull request.
"""

from __future__ import annotations

import json
import logging
from html import escape
from pathlib import Path
from typing import Any

from .metrics import compute_metrics, rescore
from .runner import METRICS, RESULTS, RUN, _write_json, read_results

logger = logging.getLogger(__name__)

REPORT_HTML, REPORT_MD = "report.html", "report.md"
WORST = 25
COLUMNS: list[tuple[str, str, str]] = [  # (metric key, header, format: pct | s | n | f)
    ("n", "n", "n"), ("errors", "errors", "n"), ("accuracy", "accuracy", "pct"),
    ("list_precision", "list P", "pct"), ("list_recall", "list R", "pct"),
    ("recall@1", "R@1", "pct"), ("recall@5", "R@5", "pct"), ("recall@10", "R@10", "pct"), ("mrr", "MRR", "f"),
    ("citations_valid", "cites retrieved", "pct"), ("cited_in_index", "cites in index", "pct"),
    ("tool_call_validity", "valid calls", "pct"), ("latency_p50_s", "p50 s", "s"), ("latency_p95_s", "p95 s", "s"),
    ("tokens_in_mean", "tokens in", "n"), ("tokens_out_mean", "tokens out", "n"), ("flip_rate", "flip rate", "pct"),
]
CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:3px 7px;text-align:right;vertical-align:top}th{background:#f3f3f3}
td.l,th.l{text-align:left}.fail{border:1px solid #ddd;border-left:4px solid #c0392b;padding:.5em 1em;margin:1em 0}
.err{color:#c0392b}pre{white-space:pre-wrap;background:#f8f8f8;padding:.4em;margin:.3em 0}code{font-size:12px}
.muted{color:#777}svg text{font:12px sans-serif}"""


def fmt(value: Any, kind: str) -> str:
    """A metric as table text ('-' when undefined)."""
    if value is None:
        return "-"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "s":
        return f"{value:.2f}"
    if kind == "n":
        return f"{value:,.0f}"
    return f"{value:.3f}"


def bar_chart(values: dict[str, float | None], width: int = 480, bar_h: int = 22) -> str:
    """Horizontal bars of fractions 0..1 as inline SVG (accuracy by type)."""
    items = [(k, v) for k, v in values.items() if v is not None]
    if not items:
        return '<p class="muted">no scored questions</p>'
    left, plot = 90, width - 150
    rows = []
    for i, (label, value) in enumerate(items):
        y = 10 + i * (bar_h + 8)
        rows.append(f'<text x="{left - 8}" y="{y + bar_h * 0.7:.0f}" text-anchor="end">{escape(label)}</text>'
                    f'<rect x="{left}" y="{y}" width="{plot}" height="{bar_h}" fill="#eee"/>'
                    f'<rect x="{left}" y="{y}" width="{plot * value:.1f}" height="{bar_h}" fill="#2e86c1"/>'
                    f'<text x="{left + plot + 6}" y="{y + bar_h * 0.7:.0f}">{100 * value:.1f}%</text>')
    height = 20 + len(items) * (bar_h + 8)
    return (f'<svg width="{width}" height="{height}" role="img" '
            f'aria-label="accuracy by type">{"".join(rows)}</svg>')


def histogram(values: list[float], bins: int = 12, width: int = 480, height: int = 180) -> str:
    """A histogram of latencies (seconds) as inline SVG."""
    if not values:
        return '<p class="muted">no answered questions</p>'
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - lo) / span * bins))] += 1
    top, left, base = max(counts), 40, height - 30
    bar_w = (width - left - 10) / bins
    parts = [f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#999"/>',
             f'<text x="{left - 6}" y="14" text-anchor="end">{top}</text>',
             f'<text x="{left}" y="{height - 10}">{lo:.2f} s</text>',
             f'<text x="{width - 10}" y="{height - 10}" text-anchor="end">{hi:.2f} s</text>']
    for i, c in enumerate(counts):
        h = (base - 10) * c / top
        parts.append(f'<rect x="{left + i * bar_w + 1:.1f}" y="{base - h:.1f}" width="{bar_w - 2:.1f}" '
                     f'height="{h:.1f}" fill="#27ae60"><title>{c}</title></rect>')
    return (f'<svg width="{width}" height="{height}" role="img" '
            f'aria-label="latency histogram">{"".join(parts)}</svg>')


def worst_failures(records: list[dict[str, Any]], limit: int = WORST) -> list[dict[str, Any]]:
    """Errored questions first, then wrong ones by how far off they were (lowest partial score first)."""
    failed = [r for r in records if r.get("error") or (r.get("score") or {}).get("correct") is False]

    def badness(r: dict[str, Any]) -> tuple[int, float, float]:
        s = r.get("score") or {}
        partial = s.get("list_recall") if s.get("list_recall") is not None else s.get("recall@10") or 0.0
        return (0 if r.get("error") else 1, partial, -float(r.get("latency_s") or 0))

    return sorted(failed, key=badness)[:limit]


def _metrics_table(metrics: dict[str, Any]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for _, h, _ in COLUMNS)
    rows = []
    for label, m in [*metrics["by_type"].items(), ("all", metrics["overall"])]:
        cells = "".join(f"<td>{fmt(m.get(k), kind)}</td>" for k, _, kind in COLUMNS)
        rows.append(f'<tr><th class="l">{escape(label)}</th>{cells}</tr>')
    return f'<table><tr><th class="l">type</th>{head}</tr>{"".join(rows)}</table>'


def _run_table(run: dict[str, Any] | None) -> str:
    if not run:
        return '<p class="muted">no run.json</p>'
    c = run.get("config", {})
    manifest = run.get("index_manifest") or {}
    rows = [("questions", f"{c.get('input_path')} ({c.get('n_questions')} valid, sha256 {str(c.get('input_sha256'))[:12]})"),
            ("model", f"{c.get('backend')} / {c.get('model') or 'default'}" + (f" @ {c['base_url']}" if c.get("base_url") else "")),
            ("settings", f"max steps {c.get('max_steps')}, self-consistency {c.get('self_consistency')}, seed {c.get('seed')}"),
            ("code", f"litmol {run.get('litmol_version')}, git {run.get('git_commit') or '-'}"
                     + (" (uncommitted changes)" if run.get("git_dirty") else "")),
            ("index", f"{manifest.get('name', '-')} build {manifest.get('build_id', '-')}, {manifest.get('count', '-')} articles"
             if manifest else "none"),
            ("when", f"{run.get('started')} → {run.get('finished') or '-'} ({run.get('status')}, "
                     f"{len(run.get('sessions') or [])} session(s))"),
            ("skipped lines", ", ".join(str(i["line"]) for i in run.get("skipped_invalid") or []) or "none")]
    return "<table>" + "".join(f'<tr><th class="l">{escape(k)}</th><td class="l">{escape(str(v))}</td></tr>'
                               for k, v in rows) + "</table>"


def _failure_html(r: dict[str, Any]) -> str:
    s = r.get("score") or {}
    calls = "".join(f"<li><code>{escape(c['name'])}({escape(json.dumps(c.get('args'), ensure_ascii=False))})</code> "
                    f"{'ok' if c.get('ok') else '<span class=err>failed</span>'}"
                    f"{'' if c.get('valid', True) else ' <span class=err>invalid arguments</span>'}</li>"
                    for c in r.get("tool_calls") or [])
    facts = [f"type {r['type']}", f"gold {json.dumps(r.get('gold'), ensure_ascii=False)}"]
    if r.get("gold_pmids"):
        facts.append(f"gold PMIDs {', '.join(r['gold_pmids'])}; R@10 {fmt(s.get('recall@10'), 'pct')}")
    if s.get("list_recall") is not None:
        facts.append(f"list P {fmt(s['list_precision'], 'pct')} R {fmt(s['list_recall'], 'pct')}")
    facts.append(f"{r.get('latency_s', 0):.2f} s")
    retrieved = ", ".join(r.get("retrieved_pmids") or []) or "none"
    error = f'<p class="err">error: {escape(r["error"])}</p>' if r.get("error") else ""
    answer = f'<pre>{escape(r["answer"])}</pre>' if r.get("answer") else ""
    return (f'<div class="fail"><strong>{escape(r["id"])}</strong>: {escape(r["question"])}<br>'
            f'<span class="muted">{escape("; ".join(facts))}</span>{error}'
            f'{answer}{f"<div>tool calls:</div><ol>{calls}</ol>" if calls else "<div>tool calls: none</div>"}'
            f'<div class="muted">retrieved: {escape(retrieved)}</div></div>')


def render_html(run: dict[str, Any] | None, metrics: dict[str, Any], records: list[dict[str, Any]],
                label: str = "") -> str:
    """The self-contained report page."""
    accuracy = {t: m["accuracy"] for t, m in metrics["by_type"].items()}
    latencies = [float(r["latency_s"]) for r in records if r.get("error") is None and r.get("latency_s") is not None]
    failures = worst_failures(records)
    title = f"litmol eval: {label}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title><style>{CSS}</style></head>
<body><h1>{escape(title)}</h1>
<h2>Run</h2>{_run_table(run)}
<h2>Metrics</h2>{_metrics_table(metrics)}
<h2>Accuracy by type</h2>{bar_chart(accuracy)}
<h2>Latency (answered questions)</h2>{histogram(latencies)}
<h2>Worst failures ({len(failures)} shown)</h2>{"".join(_failure_html(r) for r in failures) or "<p>none</p>"}
<h2>Definitions</h2><dl>{"".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in metrics["definitions"].items())}</dl>
</body></html>
"""


def _md_cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render_markdown(run: dict[str, Any] | None, metrics: dict[str, Any], records: list[dict[str, Any]],
                    label: str = "") -> str:
    """A pull-request-sized summary: what ran, the metrics table, the ten worst failures."""
    c = (run or {}).get("config", {})
    cols = COLUMNS[:11] + COLUMNS[11:14]
    lines = [f"## litmol eval: `{label}`", "",
             f"{c.get('backend', '?')} / {c.get('model') or 'default'}, max steps {c.get('max_steps', '?')}, "
             f"git {(run or {}).get('git_commit') or '-'}, {metrics['overall']['n']} questions", "",
             "| type | " + " | ".join(h for _, h, _ in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for label, m in [*metrics["by_type"].items(), ("**all**", metrics["overall"])]:
        lines.append(f"| {label} | " + " | ".join(fmt(m.get(k), kind) for k, _, kind in cols) + " |")
    failures = worst_failures(records, 10)
    if failures:
        lines += ["", "### Worst failures", ""]
        for r in failures:
            what = f"error: {r['error']}" if r.get("error") else f"answer: {r.get('answer') or ''}"
            lines.append(f"- `{r['id']}` ({r['type']}) {_md_cell(r['question'])} — {_md_cell(what)[:200]}")
    return "\n".join(lines) + "\n"


def write_report(out_dir: str | Path) -> dict[str, Any]:
    """Rescore DIR/results.jsonl, write DIR/metrics.json, report.html and report.md; return the metrics."""
    out_dir = Path(out_dir)
    results = out_dir / RESULTS
    if not results.exists():
        raise FileNotFoundError(f"{out_dir} has no {RESULTS}; run `litmol eval run FILE --out {out_dir}` first")
    records = [rescore(r) for r in read_results(results)]
    run = json.loads((out_dir / RUN).read_text(encoding="utf-8")) if (out_dir / RUN).exists() else None
    metrics = compute_metrics(records)
    c = (run or {}).get("config", {})
    metrics = {"run": {k: c.get(k) for k in ("input_path", "input_sha256", "backend", "model", "max_steps")}
               | {"git_commit": (run or {}).get("git_commit"), "status": (run or {}).get("status")}} | metrics
    _write_json(out_dir / METRICS, metrics)
    label = c.get("input_path") or out_dir.name
    (out_dir / REPORT_HTML).write_text(render_html(run, metrics, records, label), encoding="utf-8")
    (out_dir / REPORT_MD).write_text(render_markdown(run, metrics, records, label), encoding="utf-8")
    return metrics
