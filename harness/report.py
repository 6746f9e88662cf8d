"""Reports: `report.json` (stable schema), `junit.xml` (one test case per scenario),
`report.html` (one self-contained file, inline SVG, no scripts from anywhere) and
`traces.jsonl` (every trace, one per line)."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from harness.campaign import CampaignResult
from harness.model import Scenario
from harness.stats import summarize

SCHEMA = "dtu-harness-report/1"


def build(result: CampaignResult, scenarios: list[Scenario], run: dict[str, Any]) -> dict[str, Any]:
    summary = summarize(result.traces)
    order = [p["name"] for p in run.get("fault_profiles") or []]
    files = {p["name"]: p.get("file") for p in run.get("fault_profiles") or []}
    summary["profiles"].sort(key=lambda p: order.index(p["name"]) if p["name"] in order else len(order))
    for prof in summary["profiles"]:
        prof["file"] = files.get(prof["name"])
    stories = {s.id: s.story.strip() for s in scenarios}
    for s in summary["scenarios"]:
        s["story"] = stories.get(s["id"], "")
    done = len(result.traces)
    examples: dict[str, Any] = {}
    by_id = {t["id"]: t for t in result.traces}
    for cause in summary["causes"]:
        examples.setdefault(cause["example"], by_id[cause["example"]])
    for err in summary["judge_errors"]:
        examples.setdefault(err["example"], by_id[err["example"]])
    if summary["slowest"]:
        examples.setdefault(summary["slowest"][0]["id"], by_id[summary["slowest"][0]["id"]])
    return {
        "schema": SCHEMA,
        "run": {
            **run,
            "started_at": result.started_at,
            "duration_s": round(result.duration_s, 3),
            "planned": result.planned,
            "completed": done,
            "aborted": result.aborted,
            "throughput_per_hour": round(done / result.duration_s * 3600, 1)
            if result.duration_s > 0
            else None,
        },
        **summary,
        "flaky": result.flaky,
        "examples": examples,
    }


def write_all(report: dict[str, Any], traces: list[dict[str, Any]], directory: str | Path) -> dict[str, Path]:
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out / "report.json",
        "junit": out / "junit.xml",
        "html": out / "report.html",
        "traces": out / "traces.jsonl",
    }
    paths["json"].write_text(json.dumps(report, indent=1, default=str, sort_keys=False), encoding="utf-8")
    paths["junit"].write_text(junit(report), encoding="utf-8")
    paths["html"].write_text(render_html(report, [t["duration_ms"] for t in traces]), encoding="utf-8")
    with paths["traces"].open("w", encoding="utf-8") as f:
        for t in traces:
            f.write(json.dumps(t, default=str) + "\n")
    return paths


def junit(report: dict[str, Any], min_satisfaction: float | None = None) -> str:
    """One <testcase> per scenario: it fails when any trajectory was unsatisfied (or, with a
    gate, when its satisfaction is below it), with the causes in the failure message."""
    gate = report["run"].get("min_satisfaction") if min_satisfaction is None else min_satisfaction
    suite = ET.Element(
        "testsuite",
        name="dtu-scenarios",
        tests=str(len(report["scenarios"])),
        time=f"{report['run']['duration_s']:.3f}",
    )
    failures = 0
    for s in report["scenarios"]:
        case = ET.SubElement(
            suite,
            "testcase",
            classname="scenarios",
            name=s["id"],
            time=f"{s['latency_ms']['p50'] / 1000:.3f}",
        )
        bad = s["satisfaction"] is None or (
            s["satisfaction"] < gate if gate is not None else s["satisfied"] < s["total"]
        )
        if bad:
            failures += 1
            causes = [c for c in report["causes"] if c["scenario"] == s["id"]]
            text = "\n".join(f"{c['count']}x {c['cause']} (example {c['example']})" for c in causes)
            failure = ET.SubElement(
                case,
                "failure",
                message=(
                    f"satisfaction {s['satisfied']}/{s['total']} (95% CI {s['ci95'][0]:.3f}-{s['ci95'][1]:.3f})"
                ),
            )
            failure.text = text
        out = ET.SubElement(case, "system-out")
        out.text = s.get("story", "")
    suite.set("failures", str(failures))
    if report["run"].get("aborted"):
        suite.set("errors", "1")
        err = ET.SubElement(suite, "system-err")
        err.text = str(report["run"]["aborted"])
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)


# -- HTML --------------------------------------------------------------------------------------

_CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%}td,th{padding:4px 8px;border-bottom:1px solid #eee;text-align:left;
vertical-align:top}.ok{color:#1a7f37}.bad{color:#cf222e}code,pre{font:12px ui-monospace,monospace}
pre{background:#f6f8fa;padding:8px;overflow:auto;max-height:420px}.big{font-size:28px;font-weight:600}
details{margin:6px 0}summary{cursor:pointer}"""


def _e(x: Any) -> str:
    return html.escape(str(x))


def _bar_chart(scenarios: list[dict[str, Any]]) -> str:
    """Satisfaction per scenario (bar) with its 95% interval (whisker)."""
    row, left, width = 22, 230, 520
    h = row * len(scenarios) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 60}" height="{h}" role="img">']
    for x in (0, 0.25, 0.5, 0.75, 1):
        gx = left + x * width
        parts.append(
            f'<line x1="{gx}" y1="0" x2="{gx}" y2="{h - 20}" stroke="#eee"/>'
            f'<text x="{gx}" y="{h - 5}" font-size="10" text-anchor="middle">{int(x * 100)}%</text>'
        )
    for i, s in enumerate(scenarios):
        y = i * row + 4
        p = s["satisfaction"] or 0.0
        lo, hi = s["ci95"]
        color = "#2da44e" if p >= 0.95 else "#d4a72c" if p >= 0.7 else "#cf222e"
        parts.append(
            f'<text x="{left - 6}" y="{y + 13}" font-size="11" text-anchor="end">{_e(s["id"])}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{p * width:.1f}" height="{row - 8}" fill="{color}"/>'
            f'<line x1="{left + lo * width:.1f}" y1="{y + row / 2}" x2="{left + hi * width:.1f}" '
            f'y2="{y + row / 2}" stroke="#222" stroke-width="1.5"/>'
            f'<text x="{left + width + 6}" y="{y + 13}" font-size="11">{p * 100:.0f}%</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _profiles_chart(profiles: list[dict[str, Any]], scenarios: list[str]) -> str:
    """Satisfaction under each fault profile: a bar with its 95% interval per profile, and one
    dot per scenario under it (where the profile hurts, and which scenario)."""
    if not profiles:
        return "<p>no trajectories</p>"
    row, left, width = 30, 230, 520
    h = row * len(profiles) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 60}" height="{h}" role="img">']
    for x in (0, 0.25, 0.5, 0.75, 1):
        gx = left + x * width
        parts.append(
            f'<line x1="{gx}" y1="0" x2="{gx}" y2="{h - 20}" stroke="#eee"/>'
            f'<text x="{gx}" y="{h - 5}" font-size="10" text-anchor="middle">{int(x * 100)}%</text>'
        )
    for i, prof in enumerate(profiles):
        y = i * row + 4
        p = prof["satisfaction"] or 0.0
        lo, hi = prof["ci95"]
        color = "#2da44e" if p >= 0.95 else "#d4a72c" if p >= 0.7 else "#cf222e"
        parts.append(
            f'<text x="{left - 6}" y="{y + 16}" font-size="11" text-anchor="end">{_e(prof["name"])}</text>'
            f'<rect x="{left}" y="{y + 4}" width="{p * width:.1f}" height="{row - 10}" fill="{color}" '
            f'opacity="0.8"><title>{_e(prof["name"])}: {prof["satisfied"]}/{prof["total"]}</title></rect>'
            f'<line x1="{left + lo * width:.1f}" y1="{y + row / 2}" x2="{left + hi * width:.1f}" '
            f'y2="{y + row / 2}" stroke="#222" stroke-width="1.5"/>'
            f'<text x="{left + width + 6}" y="{y + 16}" font-size="11">{p * 100:.0f}%</text>'
        )
        for sid in scenarios:
            cell = prof["scenarios"].get(sid)
            if cell is None or cell["satisfaction"] is None:
                continue
            parts.append(
                f'<circle cx="{left + cell["satisfaction"] * width:.1f}" cy="{y + row - 6}" r="2.5" '
                f'fill="#222"><title>{_e(sid)}: {cell["satisfied"]}/{cell["total"]}</title></circle>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _profiles_table(profiles: list[dict[str, Any]], scenarios: list[str]) -> str:
    head = "".join(f"<th>{_e(p['name'])}</th>" for p in profiles)
    rows = []
    for sid in scenarios:
        cells = []
        for p in profiles:
            c = p["scenarios"].get(sid)
            if c is None or c["satisfaction"] is None:
                cells.append("<td>–</td>")
                continue
            cls = "ok" if c["satisfied"] == c["total"] else "bad"
            cells.append(
                f"<td class='{cls}'>{c['satisfaction'] * 100:.0f}% <small>({c['satisfied']}/{c['total']})</small></td>"
            )
        rows.append(f"<tr><td>{_e(sid)}</td>{''.join(cells)}</tr>")
    total = "".join(
        f"<td><b>{(p['satisfaction'] or 0) * 100:.1f}%</b> <small>[{p['ci95'][0] * 100:.0f}–"
        f"{p['ci95'][1] * 100:.0f}%]</small></td>"
        for p in profiles
    )
    return (
        f"<table><tr><th>scenario</th>{head}</tr>{''.join(rows)}<tr><td><b>all</b></td>{total}</tr></table>"
    )


def _histogram(durations: list[float]) -> str:
    """Trajectory latency distribution (log-spaced buckets)."""
    if not durations:
        return "<p>no trajectories</p>"
    lo, hi = max(min(durations), 1.0), max(max(durations), 2.0)
    n = 20
    edges = [lo * (hi / lo) ** (i / n) for i in range(n + 1)]
    counts = [0] * n
    for d in durations:
        i = min(n - 1, max(0, int(n * math.log(max(d, lo) / lo) / math.log(hi / lo)) if hi > lo else 0))
        counts[i] += 1
    top = max(counts) or 1
    w, h, bw = 620, 180, 28
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h + 30}" role="img">']
    for i, c in enumerate(counts):
        bh = c / top * h
        parts.append(
            f'<rect x="{20 + i * bw}" y="{h - bh:.1f}" width="{bw - 3}" height="{bh:.1f}" fill="#0969da">'
            f"<title>{edges[i]:.0f}-{edges[i + 1]:.0f} ms: {c}</title></rect>"
        )
        if i % 4 == 0:
            parts.append(f'<text x="{20 + i * bw}" y="{h + 14}" font-size="10">{edges[i]:.0f}ms</text>')
    parts.append("</svg>")
    return "".join(parts)


def _causes_chart(causes: list[dict[str, Any]]) -> str:
    if not causes:
        return "<p class='ok'>no failures</p>"
    top = causes[:12]
    most = max(c["count"] for c in top)
    row, left, width = 22, 20, 300
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="{row * len(top) + 6}" role="img">'
    ]
    for i, c in enumerate(top):
        y = i * row
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{c["count"] / most * width:.1f}" height="{row - 8}" '
            f'fill="#cf222e"/><text x="{left + width + 8}" y="{y + 14}" font-size="11">'
            f"{c['count']}× {_e(c['scenario'])}: {_e(c['cause'][:110])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _trace_html(t: dict[str, Any]) -> str:
    rows = []
    for s in t["steps"]:
        rows.append(
            f"<tr><td>step</td><td>{_e(s['id'])}</td><td>{_e(s['action'])}</td>"
            f"<td class='{'ok' if s['ok'] else 'bad'}'>{'ok' if s['ok'] else 'FAILED'}</td>"
            f"<td>{s['started_ms']:.0f}+{s['duration_ms']:.0f} ms</td><td>{_e(s['error'] or s['detail'])}</td></tr>"
        )
    for c in t["checks"]:
        rows.append(
            f"<tr><td>check</td><td>{_e(c['id'])}</td><td>{_e(c['action'])}</td>"
            f"<td class='{'ok' if c['ok'] else 'bad'}'>{'held' if c['ok'] else 'FAILED'}</td>"
            f"<td>{c['started_ms']:.0f}+{c['duration_ms']:.0f} ms ({c['attempts']} polls)</td>"
            f"<td>{_e(c['error'] or c['detail'])}</td></tr>"
        )
    journal = "\n".join(
        f"{twin:6} #{e.get('seq')} {e.get('method')} {e.get('operation') or e.get('path')} -> {e.get('status')} "
        f"{e.get('latency_ms')}ms" + (f"  FAULT {e.get('fault')}" if e.get("fault") else "")
        for twin, entries in t["journal"].items()
        for e in entries
    )
    deliveries = "\n".join(
        f"{twin:6} {d.get('kind')} -> {d.get('target')} [{d.get('state')}] attempts="
        f"{[a.get('status') or a.get('error') for a in d.get('attempts') or []]}"
        + (f"  FAULT {d.get('fault')}" if d.get("fault") else "")
        for twin, items in t["deliveries"].items()
        for d in items
    )
    return (
        f"<details><summary><code>{_e(t['id'])}</code> — "
        f"<span class='{'ok' if t['satisfied'] else 'bad'}'>{'satisfied' if t['satisfied'] else 'unsatisfied'}</span>"
        f" in {t['duration_ms']:.0f} ms {('— ' + _e(t['cause'])) if t.get('cause') else ''}</summary>"
        f"<p>inputs: <code>{_e(json.dumps(t['inputs']))}</code> tenant <code>{_e(t['tenant'])}</code>"
        f"{'<br>error: ' + _e(t['error']) if t.get('error') else ''}</p>"
        f"<table><tr><th></th><th>id</th><th>action</th><th>outcome</th><th>when</th><th>detail</th></tr>"
        f"{''.join(rows)}</table>"
        f"{_judge_html(t.get('judge'))}"
        f"<p>Faults fired: {_e(json.dumps(t['faults'])) if t['faults'] else 'none'}</p>"
        f"<p>Requests to the twins (journal):</p><pre>{_e(journal) or '(none)'}</pre>"
        f"<p>Deliveries to the app:</p><pre>{_e(deliveries) or '(none)'}</pre></details>"
    )


def _judge_html(judge: dict[str, Any] | None) -> str:
    if not judge:
        return ""
    if judge.get("error"):
        return f"<p>Judge ({_e(judge.get('model'))}): <b class='bad'>no verdict</b>: {_e(judge['error'])}</p>"
    cls = "ok" if judge.get("verdict") == "satisfied" else "bad"
    return (
        f"<p>Judge ({_e(judge.get('model'))}): <b class='{cls}'>{_e(judge.get('verdict'))}</b>"
        f" — {_e(judge.get('reason') or '')}</p>"
    )


def _judge_section(report: dict[str, Any]) -> str:
    judge = report["run"].get("judge") or {}
    if judge.get("mode", "checks") == "checks":
        return ""
    rows = "".join(
        f"<tr><td>{e['count']}</td><td>{_e(e['scenario'])}</td><td>{_e(e['error'])}</td>"
        f"<td><a href='#{_e(e['example'])}'><code>{_e(e['example'])}</code></a></td></tr>"
        for e in report["judge_errors"]
    )
    errors = (
        f"<p class='bad'>{report['unjudged']} trajectories could not be judged (counted in no rate):</p>"
        f"<table><tr><th>n</th><th>scenario</th><th>judge error</th><th>example</th></tr>{rows}</table>"
        if report["unjudged"]
        else "<p class='ok'>every trajectory was judged</p>"
    )
    return (
        f"<h2>Judge</h2><p>mode <code>{_e(judge.get('mode'))}</code>, model <code>{_e(judge.get('model'))}</code>"
        f" at <code>{_e(judge.get('url'))}</code></p>{errors}"
    )


def render_html(report: dict[str, Any], durations: list[float]) -> str:
    o, run = report["overall"], report["run"]
    sat = o["satisfaction"]
    rows = "".join(
        f"<tr><td><b>{_e(s['id'])}</b><br><small>{_e(s['story'])}</small></td><td>{s['satisfied']}/{s['total']}</td>"
        f"<td>{(s['satisfaction'] or 0) * 100:.1f}%</td><td>{s['ci95'][0] * 100:.1f}–{s['ci95'][1] * 100:.1f}%</td>"
        f"<td>{s['latency_ms']['p50']:.0f} / {s['latency_ms']['p95']:.0f} ms</td></tr>"
        for s in report["scenarios"]
    )
    causes = "".join(
        f"<tr><td>{c['count']}</td><td>{_e(c['scenario'])}</td><td>{_e(c.get('profile') or 'none')}</td>"
        f"<td>{_e(c['cause'])}</td>"
        f"<td><a href='#{_e(c['example'])}'><code>{_e(c['example'])}</code></a></td></tr>"
        for c in report["causes"]
    )
    flaky = "".join(
        f"<tr><td><code>{_e(f['id'])}</code></td><td>{f['first']}</td><td>{f['replay']}</td>"
        f"<td class='{'ok' if f['identical'] else 'bad'}'>{'identical' if f['identical'] else _e(f['differs_in'])}</td></tr>"
        for f in report["flaky"]
    )
    slow = "".join(
        f"<tr><td><code>{_e(s['id'])}</code></td><td>{s['duration_ms']:.0f} ms</td>"
        f"<td>{'satisfied' if s['satisfied'] else 'unsatisfied'}</td></tr>"
        for s in report["slowest"]
    )
    examples = "".join(f"<div id='{_e(tid)}'>{_trace_html(t)}</div>" for tid, t in report["examples"].items())
    faults = run.get("faults") or "none"
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>DTU scenario report</title>
<style>{_CSS}</style></head><body>
<h1>Scenario satisfaction</h1>
<p class="big {"ok" if sat is not None and sat >= (run.get("min_satisfaction") or 0) else "bad"}">
{(sat or 0) * 100:.1f}% <small>({o["satisfied"]}/{o["total"]}, 95% CI {o["ci95"][0] * 100:.1f}–{o["ci95"][1] * 100:.1f}%)</small></p>
<p>{run["completed"]} of {run["planned"]} trajectories in {run["duration_s"]:.1f} s
({run.get("throughput_per_hour") or 0:.0f}/hour, concurrency {run.get("concurrency")}), seed {run.get("seed")},
fault profile <code>{_e(faults)}</code>, app <code>{_e(run.get("app_url"))}</code>
{'<br><b class="bad">Aborted: ' + _e(run["aborted"]) + "</b>" if run.get("aborted") else ""}</p>
<h2>Satisfaction per scenario (bar) with 95% Wilson interval (whisker)</h2>{_bar_chart(report["scenarios"])}
<table><tr><th>scenario</th><th>satisfied</th><th>rate</th><th>95% CI</th><th>p50 / p95</th></tr>{rows}</table>
<h2>Satisfaction under each fault profile (bar: all scenarios, with 95% interval; dots: each scenario)</h2>
{_profiles_chart(report["profiles"], [s["id"] for s in report["scenarios"]])}
{_profiles_table(report["profiles"], [s["id"] for s in report["scenarios"]])}
<h2>Failures by cause</h2>{_causes_chart(report["causes"])}
<table><tr><th>n</th><th>scenario</th><th>fault profile</th><th>cause</th><th>example trace</th></tr>{causes}</table>
{_judge_section(report)}
<h2>Latency distribution (trajectory duration)</h2>{_histogram(durations)}
<p>p50 {o["latency_ms"]["p50"]:.0f} ms, p95 {o["latency_ms"]["p95"]:.0f} ms, p99 {o["latency_ms"]["p99"]:.0f} ms</p>
<h2>Slowest trajectories</h2><table>{slow}</table>
<h2>Replays (flakiness)</h2>{"<table><tr><th>trajectory</th><th>first</th><th>replay</th><th>trace</th></tr>" + flaky + "</table>" if flaky else "<p>no replays run (use --replays N)</p>"}
<h2>Example traces (one per cause, and the slowest)</h2>{examples}
</body></html>"""
