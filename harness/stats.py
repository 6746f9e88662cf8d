"""Satisfaction with a confidence interval, and summaries of a set of traces."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal


def wilson(successes: int, total: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion (Wilson 1927): good at small n and at
    0% or 100%, where the normal approximation collapses to a point. (0, 1) when total is 0."""
    if total <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= total:
        raise ValueError("0 <= successes <= total")
    p = successes / total
    z2 = z * z
    denom = 1 + z2 / total
    centre = (p + z2 / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 100]); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def rate(satisfied: int, total: int) -> dict[str, Any]:
    lo, hi = wilson(satisfied, total)
    return {
        "satisfied": satisfied,
        "total": total,
        "satisfaction": satisfied / total if total else None,
        "ci95": [round(lo, 6), round(hi, 6)],
    }


def summarize(traces: list[dict[str, Any]]) -> dict[str, Any]:
    """Overall and per-scenario satisfaction, causes with an example, latency, slowest.
    Trajectories the judge could not judge count in no rate: they are listed apart."""
    unjudged = [t for t in traces if t.get("unjudged")]
    judge_errors: dict[tuple[str, str], dict[str, Any]] = {}
    for t in unjudged:
        jkey = (t["scenario"], t.get("cause") or "judge error")
        judge_errors.setdefault(
            jkey, {"scenario": t["scenario"], "error": jkey[1], "count": 0, "example": t["id"]}
        )["count"] += 1
    traces = [t for t in traces if not t.get("unjudged")]
    by_scenario: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in traces:
        by_scenario[t["scenario"]].append(t)
    causes: dict[tuple[str, str, str], dict[str, Any]] = {}
    for t in traces:
        if t["satisfied"]:
            continue
        key = (t["scenario"], t.get("profile") or "", t["cause"] or "unknown")
        entry = causes.setdefault(
            key,
            {
                "scenario": t["scenario"],
                "profile": t.get("profile"),
                "cause": key[2],
                "count": 0,
                "example": t["id"],
                "faults": sorted({str(f.get("rule")) for f in t["faults"]}),
                "checks": [c["id"] for c in t["checks"] if not c["ok"]],
                "steps": [s["id"] for s in t["steps"] if not s["ok"]],
                "error": t.get("error"),
            },
        )
        entry["count"] += 1
    scenarios = []
    for sid, items in by_scenario.items():
        durations = [t["duration_ms"] for t in items]
        sat = sum(1 for t in items if t["satisfied"])
        checks: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for t in items:
            for c in t["checks"]:
                checks[c["id"]][1] += 1
                checks[c["id"]][0] += 1 if c["ok"] else 0
        scenarios.append(
            {
                "id": sid,
                **rate(sat, len(items)),
                "latency_ms": {
                    "p50": percentile(durations, 50),
                    "p95": percentile(durations, 95),
                    "max": max(durations) if durations else 0.0,
                },
                "checks": {cid: {"passed": v[0], "evaluated": v[1]} for cid, v in checks.items()},
                "faults_fired": sum(len(t["faults"]) for t in items),
            }
        )
    by_profile: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in traces:
        by_profile[t.get("profile") or "none"].append(t)
    profiles = []
    for name, items in by_profile.items():
        per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for t in items:
            per[t["scenario"]][1] += 1
            per[t["scenario"]][0] += 1 if t["satisfied"] else 0
        profiles.append(
            {
                "name": name,
                **rate(sum(1 for t in items if t["satisfied"]), len(items)),
                "faults_fired": sum(len(t["faults"]) for t in items),
                "scenarios": {sid: rate(v[0], v[1]) for sid, v in sorted(per.items())},
            }
        )
    durations = [t["duration_ms"] for t in traces]
    slowest = sorted(traces, key=lambda t: t["duration_ms"], reverse=True)[:10]
    return {
        "overall": {
            **rate(sum(1 for t in traces if t["satisfied"]), len(traces)),
            "latency_ms": {
                "p50": percentile(durations, 50),
                "p95": percentile(durations, 95),
                "p99": percentile(durations, 99),
                "max": max(durations) if durations else 0.0,
            },
        },
        "scenarios": sorted(scenarios, key=lambda s: s["id"]),
        "profiles": profiles,
        "unjudged": len(unjudged),
        "judge_errors": sorted(judge_errors.values(), key=lambda e: (-e["count"], e["scenario"])),
        "causes": sorted(causes.values(), key=lambda c: (-c["count"], c["scenario"], c["cause"])),
        "slowest": [
            {
                "id": t["id"],
                "scenario": t["scenario"],
                "duration_ms": t["duration_ms"],
                "satisfied": t["satisfied"],
            }
            for t in slowest
        ],
    }
