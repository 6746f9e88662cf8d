"""Scenario-harness throughput: trajectories per hour, everything over real HTTP.

    python bench/harness_throughput.py                    # 3 demo scenarios x 40, concurrency 24
    python bench/harness_throughput.py -n 100 -c 32 scenarios/

Each twin runs as its own `dtu serve` process (in-memory SQLite), the example app as its own
process (`python -m examples.onboarding`), and the harness in this one: the same layout as a
user's `dtu up` + app + `dtu run`. Writes bench/results/harness.json (the run's report summary,
the machine, and what else was using the CPU). Nothing asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
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

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [
    p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"
]  # bench/okta.py is not the SDK
sys.path.insert(0, str(ROOT))

from harness import model  # noqa: E402
from harness.campaign import run_campaign  # noqa: E402
from harness.runner import Runner  # noqa: E402
from harness.stats import summarize  # noqa: E402
from harness.universe import Universe  # noqa: E402

DEMO = [
    "scenarios/onboarding-happy-path.yaml",
    "scenarios/mention-help.yaml",
    "scenarios/offboarding-deactivate.yaml",
]


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


@contextlib.contextmanager
def universe() -> Iterator[tuple[dict[str, str], str]]:
    procs: list[subprocess.Popen[bytes]] = []
    urls: dict[str, str] = {}
    try:
        for twin in ("slack", "okta", "jira"):
            port = free_port()
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "dtu.cli",
                        "serve",
                        twin,
                        "--port",
                        str(port),
                        "--db",
                        "sqlite://",
                    ],
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                )
            )
            urls[twin] = f"http://127.0.0.1:{port}"
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
        procs.append(subprocess.Popen([sys.executable, "-m", "examples.onboarding"], cwd=ROOT, env=env))
        app = f"http://127.0.0.1:{app_port}"
        wait(app + "/health")
        yield urls, app
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenarios", nargs="*", default=DEMO)
    ap.add_argument("-n", type=int, default=40)
    ap.add_argument("-c", type=int, default=24)
    ap.add_argument("--out", default=str(ROOT / "bench/results/harness.json"))
    args = ap.parse_args()
    os.chdir(ROOT)
    scenarios = model.load_all(args.scenarios)
    with universe() as (urls, app):

        async def go() -> dict[str, object]:
            u = Universe(urls, app_url=app)
            try:
                before = load_average()
                result = await run_campaign(
                    Runner(u), scenarios, trajectories=args.n, concurrency=args.c, seed=0
                )
                summary = summarize(result.traces)
                return {
                    "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "machine": {
                        "cpus": os.cpu_count(),
                        "python": platform.python_version(),
                        "load_average_before": before,
                        "load_average_after": load_average(),
                    },
                    "layout": "3 twins (dtu serve, SQLite memory) + example app + harness: 5 processes",
                    "scenarios": [s.id for s in scenarios],
                    "trajectories": len(result.traces),
                    "concurrency": args.c,
                    "duration_s": round(result.duration_s, 2),
                    "trajectories_per_hour": round(len(result.traces) / result.duration_s * 3600),
                    "satisfaction": summary["overall"]["satisfaction"],
                    "latency_ms": summary["overall"]["latency_ms"],
                    "causes": [(c["scenario"], c["cause"], c["count"]) for c in summary["causes"]],
                }
            finally:
                await u.aclose()

        figures = asyncio.run(go())
    Path(args.out).write_text(json.dumps(figures, indent=1) + "\n")
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
