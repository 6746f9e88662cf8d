"""Scenario-harness throughput: trajectories per hour, everything over real HTTP.

    python bench/harness_throughput.py                          # 3 demo scenarios x 40, concurrency 24
    python bench/harness_throughput.py -n 100 -c 32 scenarios/
    git archive 946c209 | tar -x -C /tmp/before                 # a baseline: an older tree
    python bench/harness_throughput.py --baseline-tree /tmp/before --rounds 2 --section

Each twin runs as its own `dtu serve` process (in-memory SQLite), the example app as its own
process (`python -m examples.onboarding`), and the harness in a fifth: the same layout as a
user's `dtu up` + app + `dtu run`. Besides the rate, it measures the CPU time each process
spent per trajectory (from /proc), which says who the bottleneck is on a shared machine, and
the requests each twin answered per trajectory: the harness counts its own by destination and
kind (below every client it uses), the app's are what the twins journaled for the
trajectories' tenants less the harness's own API calls. The vendors' SDKs are imported before
the clock starts (the okta SDK's import alone is 3-4 s of CPU, once per process), and the
harness's loop is the one its tree's `dtu run` uses (`harness.aio.run`, if it has one).

With `--baseline-tree`, the same campaign runs with the harness and the app of that tree
(the twins stay those of `--twins-tree`, this tree by default), alternating with this tree's,
`--rounds` times each, in the same run. Writes bench/results/harness.json and, with
`--section`, the harness section of bench/RESULTS.md. Nothing asserts on time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import run  # noqa: E402  (bench/run.py: RESULTS.md splicing)

DEMO = [
    "scenarios/onboarding-happy-path.yaml",
    "scenarios/mention-help.yaml",
    "scenarios/offboarding-deactivate.yaml",
]
TICK = os.sysconf("SC_CLK_TCK")

# The harness side of one campaign, run in the tree under test (its `harness` package).
DRIVER = r"""
import asyncio, json, sys, time
from harness import model
from harness.campaign import run_campaign
from harness.runner import Runner
from harness.stats import summarize
from harness.universe import Universe
args = json.loads(sys.argv[1])
scenarios = model.load_all(args["scenarios"])
# the vendors' SDKs are imported before the clock starts, in both arms: importing the okta SDK
# alone takes 3-4 s of CPU, once per process, which is not a cost per trajectory
import harness.checks, harness.steps, jira, okta.client, okta.models, slack_sdk.web.async_client
# count the harness's own requests by destination (twin or app) and kind (control plane or API),
# below every client it uses: its aiohttp sessions (the SDKs share them) and requests (jira)
import collections, urllib.parse, aiohttp, requests
SENT = collections.Counter()
WHO = {urllib.parse.urlsplit(u).port: t for t, u in args["urls"].items()}
WHO[urllib.parse.urlsplit(args["app"]).port] = "app"
def count(method, url):
    parts = urllib.parse.urlsplit(str(url))
    SENT[WHO.get(parts.port, "other"), "control" if parts.path.startswith("/_dtu") else "api"] += 1
_aio = aiohttp.ClientSession._request
def _counted_aio(self, method, url, *a, **kw):
    count(method, url)
    return _aio(self, method, url, *a, **kw)
aiohttp.ClientSession._request = _counted_aio
_req = requests.Session.request
def _counted_req(self, method, url, *a, **kw):
    count(method, url)
    return _req(self, method, url, *a, **kw)
requests.Session.request = _counted_req
try:  # the harness's own HTTP/1.1 client, in a tree that has one
    from harness import http as _hh
    _ex = _hh._Connection.exchange
    async def _counted_ex(self, request, *a, **kw):
        port = self.transport.get_extra_info("peername")[1]
        path = request.split(b" ", 2)[1].decode("latin-1")
        SENT[WHO.get(port, "other"), "control" if path.startswith("/_dtu") else "api"] += 1
        return await _ex(self, request, *a, **kw)
    _hh._Connection.exchange = _counted_ex
except (ImportError, AttributeError):
    pass
async def go():
    u = Universe(args["urls"], app_url=args["app"])
    try:
        print("START", flush=True)
        cpu0 = time.process_time()
        result = await run_campaign(Runner(u), scenarios, trajectories=args["n"], concurrency=args["c"], seed=args["seed"])
        cpu = time.process_time() - cpu0
    finally:
        await u.aclose()
    s = summarize(result.traces)
    return {"trajectories": len(result.traces), "duration_s": result.duration_s, "cpu_s": cpu,
            "satisfaction": s["overall"]["satisfaction"], "latency_ms": s["overall"]["latency_ms"],
            "causes": [(c["scenario"], c["cause"], c["count"]) for c in s["causes"]],
            "sent": [[who, kind, n] for (who, kind), n in sorted(SENT.items())],
            "journaled": {t: sum(len(x["journal"].get(t) or []) for x in result.traces) for t in args["urls"]}}
try:  # the tree's own way of running the harness's loop (`dtu run`'s), if it has one
    from harness.aio import run as arun
except ImportError:
    arun = asyncio.run
print("END " + json.dumps(arun(go())), flush=True)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait(url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


@contextlib.contextmanager
def universe(twins_tree: Path, app_tree: Path) -> Iterator[tuple[dict[str, str], str, dict[str, int]]]:
    """Three `dtu serve` twins (from twins_tree) and the example app (from app_tree)."""
    procs: list[subprocess.Popen[bytes]] = []
    urls: dict[str, str] = {}
    pids: dict[str, int] = {}
    try:
        for twin in ("slack", "okta", "jira"):
            port = free_port()
            cmd = [sys.executable, "-m", "dtu.cli", "serve", twin, "--port", str(port), "--db", "sqlite://"]
            p = subprocess.Popen(cmd, cwd=twins_tree, stdout=subprocess.DEVNULL)
            procs.append(p)
            urls[twin], pids[twin] = f"http://127.0.0.1:{port}", p.pid
        for url in urls.values():
            wait(url + "/_dtu/health")
        app_port = free_port()
        env = {
            **os.environ,
            "SLACK_API_URL": urls["slack"] + "/api/",
            "OKTA_ORG_URL": urls["okta"],
            "JIRA_URL": urls["jira"],
            "PORT": str(app_port),
        }
        app = subprocess.Popen(
            [sys.executable, "-m", "examples.onboarding"],
            cwd=app_tree,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(app)
        pids["app"] = app.pid
        wait(f"http://127.0.0.1:{app_port}/health")
        yield urls, f"http://127.0.0.1:{app_port}", pids
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=10)


def load_average() -> list[float]:
    with contextlib.suppress(OSError):
        return [round(x, 2) for x in os.getloadavg()]
    return []


def campaign(tree: Path, twins_tree: Path, scenarios: list[str], n: int, c: int) -> dict[str, Any]:
    """One campaign with the harness and the app of `tree`; the rate and CPU per trajectory."""
    with universe(twins_tree, tree) as (urls, app, pids):
        spec = {"scenarios": scenarios, "urls": urls, "app": app, "n": n, "c": c, "seed": 0}
        before_load = load_average()
        driver = subprocess.Popen(
            [sys.executable, "-c", DRIVER, json.dumps(spec)], cwd=tree, stdout=subprocess.PIPE, text=True
        )
        assert driver.stdout is not None
        start: dict[str, float] = {}
        result: dict[str, Any] = {}
        for line in driver.stdout:
            if line.startswith("START"):
                start = {k: cpu_s(pid) for k, pid in pids.items()}
            elif line.startswith("END "):
                used = {k: cpu_s(pid) - start[k] for k, pid in pids.items()}
                result = json.loads(line[4:])
                used["harness"] = result.pop("cpu_s")
        driver.wait(timeout=60)
        if not result:
            raise SystemExit(f"the harness of {tree} did not finish (exit {driver.returncode})")
    done = result["trajectories"]
    result["trajectories_per_hour"] = round(done / result["duration_s"] * 3600)
    result["cpu_ms_per_trajectory"] = {k: round(v * 1000 / done, 1) for k, v in sorted(used.items())}
    result["cpu_ms_per_trajectory"]["total"] = round(sum(used.values()) * 1000 / done, 1)
    result["requests_per_trajectory"] = requests_per_trajectory(result, done)
    result["load_average_before"], result["load_average_after"] = before_load, load_average()
    result["duration_s"] = round(result["duration_s"], 2)
    return result


def requests_per_trajectory(result: dict[str, Any], done: int) -> dict[str, dict[str, float]]:
    """Requests each twin (and the app) took per trajectory: the harness's own, counted in the
    harness by destination and kind, and the app's API calls, which are what the twin journaled
    for the trajectory's tenant less the harness's own API calls (the control plane is never
    journaled, and only the harness calls it)."""
    sent: dict[tuple[str, str], int] = {(who, kind): n for who, kind, n in result.pop("sent", [])}
    journaled: dict[str, int] = result.pop("journaled", {})
    out: dict[str, dict[str, float]] = {}
    for twin, api_total in sorted(journaled.items()):
        control, api_harness = sent.get((twin, "control"), 0), sent.get((twin, "api"), 0)
        row = {
            "control": control,
            "api_harness": api_harness,
            "api_app": max(api_total - api_harness, 0),
            "total": control + max(api_total, api_harness),
        }
        out[twin] = {k: round(v / done, 2) for k, v in row.items()}
    out["app"] = {"from_harness": round(sent.get(("app", "api"), 0) / done, 2)}
    return out


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(runs, key=lambda r: r["trajectories_per_hour"])[len(runs) // 2]


def section(figures: dict[str, Any]) -> str:
    """The harness section of bench/RESULTS.md."""
    cur, base = figures["current"], figures.get("baseline")
    procs = ["harness", "slack", "okta", "jira", "app", "total"]
    lines = [
        "# Scenario harness throughput",
        "",
        f"`python bench/harness_throughput.py{' --baseline-tree ' + figures['baseline_tree'] if base else ''}"
        f"{' --twins-tree ' + figures['twins_tree'] if figures.get('twins_tree') else ''}"
        f" -n {figures['n']} -c {figures['c']}"
        f"{' --rounds ' + str(figures['rounds']) if figures['rounds'] > 1 else ''}`, {figures['when']}: the demo scenarios "
        f"({', '.join(figures['scenarios'])}), {figures['trajectories']} trajectories a campaign; three "
        "`dtu serve` twins (SQLite in memory), the example app and the harness, five processes, all "
        f"over HTTP, on {figures['machine']['cpus']} cores shared with other work (load average "
        f"{figures['machine']['load_average']}). {figures['rounds']} campaign(s) per arm, alternated in the "
        "same run; the table shows each arm's campaign with the median rate"
        + (" (of two, the higher)." if figures["rounds"] == 2 else "."),
        "",
        "| | trajectories/hour | satisfied | p50 / p95 ms | "
        + " | ".join(f"CPU ms/trajectory: {p}" for p in procs)
        + " |",
        "|---|---|---|---|" + "---|" * len(procs),
    ]
    for label, r in (("before (" + figures.get("baseline_label", "baseline") + ")", base), ("after", cur)):
        if r is None:
            continue
        cpu = r["cpu_ms_per_trajectory"]
        lines.append(
            f"| {label} | **{r['trajectories_per_hour']:,}** | {r['satisfaction'] * 100:.0f}% | "
            f"{r['latency_ms']['p50']:.0f} / {r['latency_ms']['p95']:.0f} | "
            + " | ".join(f"{cpu.get(p, 0):.0f}" for p in procs)
            + " |"
        )
    if all("requests_per_trajectory" in r for r in (base, cur) if r is not None):
        twins = ["slack", "okta", "jira"]
        lines += [
            "",
            "Requests per trajectory that each twin answered: total (the harness's control-plane "
            "calls + the harness's API calls + the app's API calls), and the harness's calls to the app:",
            "",
            "| | " + " | ".join(twins) + " | app (from the harness) |",
            "|---|" + "---|" * (len(twins) + 1),
        ]
        for label, r in (("before", base), ("after", cur)):
            if r is None:
                continue
            req = r["requests_per_trajectory"]
            lines.append(
                f"| {label} | "
                + " | ".join(
                    f"{req[t]['total']:.1f} ({req[t]['control']:.1f} + {req[t]['api_harness']:.1f} + "
                    f"{req[t]['api_app']:.1f})"
                    for t in twins
                )
                + f" | {req['app']['from_harness']:.1f} |"
            )
    every = [
        f"{label} {', '.join(format(r['trajectories_per_hour'], ',') for r in figures[label + '_runs'])}"
        for label in ("baseline", "current")
        if figures.get(label + "_runs")
    ]
    lines += ["", "Every campaign (trajectories/hour): " + "; ".join(every) + ".", ""]
    return "\n".join(lines) + "\n" + str(figures.get("notes", ""))


BEGIN, END = "<!-- harness:begin -->", "<!-- harness:end -->"


def write_section(text: str) -> None:
    """The harness section in bench/RESULTS.md, and in bench/results/harness.section.md (which
    bench/run.py appends when it rewrites RESULTS.md)."""
    wrapped = f"{BEGIN}\n\n{text.rstrip()}\n\n{END}\n"
    (ROOT / "bench/results/harness.section.md").write_text(wrapped, encoding="utf-8")
    run.splice_section(ROOT / "bench/RESULTS.md", BEGIN, END, wrapped)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenarios", nargs="*", default=DEMO)
    ap.add_argument("-n", type=int, default=40, help="trajectories per scenario")
    ap.add_argument("-c", type=int, default=24, help="concurrency")
    ap.add_argument("--rounds", type=int, default=1, help="campaigns per tree (the median is reported)")
    ap.add_argument("--baseline-tree", help="another source tree (e.g. git archive of an older commit)")
    ap.add_argument("--baseline-label", default="baseline", help="what the baseline is, for the table")
    ap.add_argument("--twins-tree", default=str(ROOT), help="the tree whose twins both arms use")
    ap.add_argument("--out", default=str(ROOT / "bench/results/harness.json"))
    ap.add_argument("--section", action="store_true", help="write the harness section of bench/RESULTS.md")
    ap.add_argument("--notes", default="", help="text appended to the section")
    args = ap.parse_args()
    twins_tree = Path(args.twins_tree).resolve()
    arms = [("current", ROOT)]
    if args.baseline_tree:
        arms.insert(0, ("baseline", Path(args.baseline_tree).resolve()))
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in arms}
    for _ in range(args.rounds):
        for name, tree in arms:
            r = campaign(tree, twins_tree, args.scenarios, args.n, args.c)
            runs[name].append(r)
            print(
                f"{name}: {r['trajectories_per_hour']:,}/hour, CPU ms/trajectory {r['cpu_ms_per_trajectory']}"
            )
    figures: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": load_average(),
        },
        "layout": "3 twins (dtu serve, SQLite memory) + example app + harness: 5 processes",
        "scenarios": [Path(s).stem for s in args.scenarios],
        "n": args.n,
        "c": args.c,
        "rounds": args.rounds,
        "twins_tree": args.twins_tree if Path(args.twins_tree).resolve() != ROOT else None,
        "trajectories": args.n * len(args.scenarios),
        "current": median_run(runs["current"]),
        "current_runs": runs["current"],
        "notes": args.notes,
    }
    if args.baseline_tree:
        figures.update(
            baseline=median_run(runs["baseline"]),
            baseline_runs=runs["baseline"],
            baseline_tree=args.baseline_tree,
            baseline_label=args.baseline_label,
        )
    Path(args.out).write_text(json.dumps(figures, indent=1) + "\n")
    text = section(figures)
    print(text)
    if args.section:
        write_section(text)


if __name__ == "__main__":
    main()
