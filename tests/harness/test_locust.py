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

from harness import model
from harness.stats import summarize, wilson
from tests.harness.conftest import campaign, scenario

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
    # the same plan run by `dtu run`'s campaign in one process: the same trajectories, and the
    # same sums per scenario, overall and per cause
    alone = summarize(
        campaign(
            twin_urls,
            broken_app_url,
            [scenario("mention-help"), model.load(quick_happy_path(tmp_path))],
            n=3,
        ).traces
    )
    assert sorted(t["id"] for t in traces) == sorted(
        f"{s}~0~{i}" for s in ("mention-help", "onboarding-happy-path") for i in range(3)
    )
    assert [(s["id"], s["satisfied"], s["total"], s["ci95"]) for s in report["scenarios"]] == [
        (s["id"], s["satisfied"], s["total"], [round(x, 6) for x in s["ci95"]]) for s in alone["scenarios"]
    ]
    assert (overall["satisfied"], overall["total"]) == (
        alone["overall"]["satisfied"],
        alone["overall"]["total"],
    )
    assert [(c["scenario"], c["cause"], c["count"]) for c in report["causes"]] == [
        (c["scenario"], c["cause"], c["count"]) for c in alone["causes"]
    ]


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


def test_judge_and_replays_as_in_dtu_run(
    twin_urls: dict[str, str], app_url: str, llm_url: str, tmp_path: Path
) -> None:
    """`--dtu-judge` and `--dtu-replays` do what `dtu run`'s options do: every trajectory judged
    by the LLM as well as by its checks, and once the plan is done, one trajectory per
    scenario run again and compared."""

    def judged() -> int:  # the endpoint lives for the session: count this test's calls
        asked = httpx.get(llm_url.removesuffix("/v1") + "/_recorded").json()
        return sum(r["body"]["model"] == "json:held" for r in asked)

    before = judged()
    args = dtu_args(
        twin_urls,
        app_url,
        ["scenarios/mention-help.yaml", "scenarios/offboarding-deactivate.yaml"],
        2,
        "--dtu-judge",
        "both",
        "--dtu-judge-url",
        llm_url,
        "--dtu-judge-model",
        "json:held",  # satisfied when a check held: in both scenarios' traces
        "--dtu-replays",
        "5",
        "--dtu-report",
        str(tmp_path / "report"),
        "--dtu-min-satisfaction",
        "1",
    )
    code, out = finish(locust(*args, "--headless", "-u", "3", "-r", "3", "--run-time", "120s"))
    assert code == 0, out[-3000:]
    report = json.loads((tmp_path / "report/report.json").read_text())
    assert report["run"]["judge"] == {"mode": "both", "url": llm_url, "model": "json:held"}
    assert report["overall"]["satisfied"] == report["overall"]["total"] == 4 and report["unjudged"] == 0
    traces = [json.loads(x) for x in (tmp_path / "report/traces.jsonl").read_text().splitlines()]
    assert {(t["judge"]["verdict"], t["checks_satisfied"]) for t in traces} == {("satisfied", True)}
    flaky = report["flaky"]  # nothing failed: one satisfied trajectory per scenario, replayed
    assert sorted(f["scenario"] for f in flaky) == ["mention-help", "offboarding-deactivate"]
    assert all(f["agree"] and f["identical"] and f["first"] and f["replay"] for f in flaky), flaky
    assert judged() - before == 4 + 2, "every trajectory and every replay is judged"


def test_a_judge_that_cannot_answer_exits_2_with_the_trajectories_unjudged(
    twin_urls: dict[str, str], app_url: str, llm_url: str, tmp_path: Path
) -> None:
    base = dtu_args(twin_urls, app_url, ["scenarios/mention-help.yaml"], 1, "--dtu-judge", "llm")
    code, out = finish(
        locust(
            *base,
            "--dtu-judge-url",
            llm_url,
            "--dtu-judge-model",
            "500:x",
            "--dtu-report",
            str(tmp_path / "down"),
            *("--headless", "-u", "1", "-r", "1", "--run-time", "60s"),
        )
    )
    assert code == 2 and "1 trajectories could not be judged" in out, out[-3000:]
    report = json.loads((tmp_path / "down/report.json").read_text())
    assert report["unjudged"] == 1 and report["overall"]["total"] == 0
    assert "The server had an error" in report["judge_errors"][0]["error"]
    # the options are checked before anything runs, as `dtu run` checks them
    code, out = finish(locust(*base, "--headless", "-u", "1", "-r", "1", "--run-time", "30s"))
    assert code == 2 and "--dtu-judge llm needs --dtu-judge-url and --dtu-judge-model" in out


def test_distributed_replays_run_on_the_workers(
    twin_urls: dict[str, str], broken_app_url: str, tmp_path: Path
) -> None:
    """The master picks what to replay (the unsatisfied first, one per cause, then one
    satisfied per scenario), the workers run it, and the master compares fingerprints."""
    port = free_port()
    args = dtu_args(
        twin_urls,
        broken_app_url,
        ["scenarios/mention-help.yaml", quick_happy_path(tmp_path)],
        2,
        "--dtu-replays",
        "3",
    )
    master = locust(
        *args,
        *("--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)),
        *("--expect-workers", "2", "--headless", "-u", "2", "-r", "2", "--run-time", "150s"),
        *("--dtu-report", str(tmp_path / "report")),
    )
    workers = [
        locust(*args, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)) for _ in range(2)
    ]
    code, out = finish(master)
    worker_out = [finish(w, 30)[1] for w in workers]
    assert code == 0, out[-3000:]
    report = json.loads((tmp_path / "report/report.json").read_text())
    assert (report["overall"]["satisfied"], report["overall"]["total"]) == (2, 4)
    flaky = {f["scenario"]: f for f in report["flaky"]}
    assert sorted(flaky) == ["mention-help", "onboarding-happy-path"]
    assert flaky["onboarding-happy-path"]["first"] is False and flaky["mention-help"]["first"] is True
    assert all(f["agree"] for f in flaky.values()), report["flaky"]
    assert flaky["onboarding-happy-path"]["replay_cause"] == "check invited-to-new-hires failed"
    assert "dtu: 2 trajectories replayed, 0 disagree" in out
    assert all("Traceback" not in o for o in worker_out), worker_out
