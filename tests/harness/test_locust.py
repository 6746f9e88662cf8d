"""The runner as a locust User: `locust -f harness/locust.py` (headless, distributed, web UI)
runs real trajectories against the session's twins and the example app, over HTTP.

Locust runs in its own processes (it monkey-patches the standard library with gevent), which
reach the twins and the app that this test process serves. Every process is bounded in time."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.stats import wilson

LOCUSTFILE = "harness/locust.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def dtu_args(urls: dict[str, str], app: str, scenarios: list[str], n: int, *extra: str) -> list[str]:
    return [
        "-f",
        LOCUSTFILE,
        "--dtu-scenarios",
        ",".join(scenarios),
        "--dtu-trajectories",
        str(n),
        "--dtu-app-url",
        app,
        "--dtu-twins",
        ",".join(f"{t}={u}" for t, u in urls.items()),
        *extra,
    ]


def locust(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "locust", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(proc: subprocess.Popen[str], timeout_s: float = 150) -> tuple[int, str]:
    try:
        out, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"locust did not finish in {timeout_s:g}s:\n{out[-3000:]}")
    return proc.returncode, out


def stats(path: Path) -> dict[str, dict[str, Any]]:
    """Locust's own statistics (`--json-file`), by request name."""
    return {row["name"]: row for row in json.loads(path.read_text())}


def quick_happy_path(tmp_path: Path) -> str:
    """The happy path with short deadlines: on the broken app its failure comes sooner."""
    quick = tmp_path / "quick-happy-path.yaml"
    quick.write_text(
        Path("scenarios/onboarding-happy-path.yaml").read_text().replace("within_s: 10", "within_s: 2.5")
    )
    return str(quick)


def test_headless_runs_the_plan_under_two_fault_profiles(
    twin_urls: dict[str, str], app_url: str, tmp_path: Path
) -> None:
    args = dtu_args(
        twin_urls,
        app_url,
        ["scenarios/mention-help.yaml"],
        2,
        "--dtu-faults",
        "none,fault_profiles/slack-rate-limited.yaml",
        "--dtu-seed",
        "4",
        "--dtu-report",
        str(tmp_path / "report"),
        "--dtu-min-satisfaction",
        "0.9",
    )
    code, out = finish(
        locust(
            *args,
            "--headless",
            "-u",
            "3",
            "-r",
            "3",
            "--run-time",
            "120s",
            "--json-file",
            str(tmp_path / "s"),
        )
    )
    assert code == 0, out[-3000:]
    report = json.loads((tmp_path / "report/report.json").read_text())
    assert (
        report["run"]["runner"] == "locust"
        and report["overall"]["satisfied"] == report["overall"]["total"] == 4
    )
    assert [(p["name"], p["total"]) for p in report["profiles"]] == [("none", 2), ("slack-rate-limited", 2)]
    ids = sorted(json.loads(x)["id"] for x in (tmp_path / "report/traces.jsonl").read_text().splitlines())
    assert ids == [f"mention-help@{p}~4~{i}" for p in ("none", "slack-rate-limited") for i in (0, 1)]
    rows = stats(tmp_path / "s.json")  # locust's own statistics: one request per trajectory
    assert (
        rows["mention-help@none"]["num_requests"]
        == rows["mention-help@slack-rate-limited"]["num_requests"]
        == 2
    )
    assert all(r["num_failures"] == 0 and r["method"] == "trajectory" for r in rows.values())


def test_distributed_campaign_sums_satisfaction_across_workers(
    twin_urls: dict[str, str], broken_app_url: str, tmp_path: Path
) -> None:
    port = free_port()
    args = dtu_args(twin_urls, broken_app_url, ["scenarios/mention-help.yaml", quick_happy_path(tmp_path)], 3)
    master = locust(
        *args,
        "--master",
        "--master-bind-host",
        "127.0.0.1",
        "--master-bind-port",
        str(port),
        "--expect-workers",
        "2",
        "--headless",
        "-u",
        "4",
        "-r",
        "4",
        "--run-time",
        "150s",
        "--json-file",
        str(tmp_path / "s"),
        "--dtu-report",
        str(tmp_path / "report"),
        "--dtu-min-satisfaction",
        "0.9",
    )
    workers = [
        locust(*args, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)) for _ in range(2)
    ]
    code, out = finish(master)
    for w in workers:
        finish(w, 30)
    assert code == 1, out[-3000:]  # half the users unsatisfied: below the 0.9 gate
    report = json.loads((tmp_path / "report/report.json").read_text())
    overall = report["overall"]
    assert (overall["satisfied"], overall["total"]) == (3, 6) and report["run"]["workers"] == 2
    assert overall["ci95"] == [round(x, 6) for x in wilson(3, 6)]
    traces = [json.loads(x) for x in (tmp_path / "report/traces.jsonl").read_text().splitlines()]
    assert len({t["id"] for t in traces}) == 6 and {t["worker"] for t in traces} == {0, 1}
    (cause,) = report["causes"]
    assert cause["count"] == 3 and cause["checks"] == ["invited-to-new-hires"]
    example = report["examples"][cause["example"]]
    assert example["journal"]["okta"], "a worker sends one full trace per cause"
    rows = stats(tmp_path / "s.json")  # locust summed the workers' statistics the same way
    assert {n: (r["num_requests"], r["num_failures"]) for n, r in rows.items()} == {
        "mention-help": (3, 0),
        "onboarding-happy-path": (3, 3),
    }


def test_web_ui_shows_trajectories(twin_urls: dict[str, str], app_url: str, tmp_path: Path) -> None:
    port = free_port()
    args = dtu_args(twin_urls, app_url, ["scenarios/mention-help.yaml"], 2, "--dtu-report", str(tmp_path))
    proc = locust(
        *args, "--web-host", "127.0.0.1", "--web-port", str(port), "--autostart", "-u", "2", "-r", "2"
    )
    try:
        deadline = time.monotonic() + 90
        seen: dict[str, Any] = {}
        while time.monotonic() < deadline and proc.poll() is None:  # the UI's own figures
            try:
                seen = httpx.get(f"http://127.0.0.1:{port}/stats/requests", timeout=5).json()
            except (httpx.HTTPError, ValueError):
                seen = {}
            if seen.get("state") == "stopped" and (tmp_path / "report.json").exists():
                break
            time.sleep(0.2)
        row = next(s for s in seen["stats"] if s["name"] == "mention-help")
        assert row["method"] == "trajectory" and row["num_requests"] == 2 and row["num_failures"] == 0
        assert seen["state"] == "stopped", "the plan done, the run stops and the web UI stays"
        assert json.loads((tmp_path / "report.json").read_text())["overall"]["satisfied"] == 2
    finally:
        proc.terminate()
        finish(proc, 30)


def test_unreachable_app_ends_the_campaign_with_exit_2(twin_urls: dict[str, str], tmp_path: Path) -> None:
    args = dtu_args(twin_urls, "http://127.0.0.1:9", ["scenarios/mention-help.yaml"], 2)
    code, out = finish(
        locust(*args, "--headless", "-u", "2", "-r", "2", "--run-time", "60s", "--dtu-report", str(tmp_path))
    )
    assert code == 2 and "the app at http://127.0.0.1:9 is unreachable" in out
    assert json.loads((tmp_path / "report.json").read_text())["run"]["aborted"]
