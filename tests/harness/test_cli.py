"""`dtu run`: reports, the CI gate, replays by id, and its errors (bad scenario, app gone)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from dtu.cli import main
from harness.stats import wilson


def twin_args(urls: dict[str, str]) -> list[str]:
    return [x for t, u in urls.items() for x in ("--twin", f"{t}={u}")]


def run(urls: dict[str, str], *args: str) -> int:
    return main(["run", *args, *twin_args(urls), "-q"])


def test_reports_and_gate_pass(
    twin_urls: dict[str, str], app_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(
        twin_urls,
        "scenarios/mention-help.yaml",
        "scenarios/onboarding-happy-path.yaml",
        "--app-url",
        app_url,
        "-n",
        "2",
        "-c",
        "4",
        "--seed",
        "3",
        "--report",
        str(tmp_path),
        "--min-satisfaction",
        "0.9",
    )
    assert code == 0, capsys.readouterr()
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["schema"] == "dtu-harness-report/1"
    assert report["overall"]["satisfied"] == report["overall"]["total"] == 4
    assert [s["id"] for s in report["scenarios"]] == ["mention-help", "onboarding-happy-path"]
    assert report["scenarios"][0]["ci95"][0] > 0.15 and report["run"]["throughput_per_hour"] > 0
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "0"
    assert [c.get("name") for c in suite.iter("testcase")] == ["mention-help", "onboarding-happy-path"]
    page = (tmp_path / "report.html").read_text()
    assert (
        page.count("<svg") == 3
        and "no failures" in page
        and "<script" not in page
        and "http://" not in page.split("</style>")[0]
    )
    assert len((tmp_path / "traces.jsonl").read_text().splitlines()) == 4
    out = capsys.readouterr().out
    assert "satisfaction 100.0% (4/4" in out


def test_gate_fails_below_min_satisfaction(
    twin_urls: dict[str, str], broken_app_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quick = tmp_path / "quick.yaml"  # the project scenario with short deadlines: the failure comes sooner
    quick.write_text(
        Path("scenarios/onboarding-happy-path.yaml").read_text().replace("within_s: 10", "within_s: 2.5")
    )
    code = run(
        twin_urls,
        str(quick),
        "--app-url",
        broken_app_url,
        "-n",
        "1",
        "--report",
        str(tmp_path),
        "--min-satisfaction",
        "0.95",
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "below --min-satisfaction 0.95" in err
    report = json.loads((tmp_path / "report.json").read_text())
    (cause,) = report["causes"]
    assert cause["checks"] == ["invited-to-new-hires"] and cause["example"] in report["examples"]
    failure = ET.parse(tmp_path / "junit.xml").getroot().find("testcase/failure")
    assert failure is not None and "invited-to-new-hires" in (failure.text or "")
    assert "invited-to-new-hires" in (tmp_path / "report.html").read_text()


def test_replay_runs_exactly_that_trajectory(twin_urls: dict[str, str], app_url: str, tmp_path: Path) -> None:
    tid = "mention-help~11~5"
    assert run(twin_urls, "scenarios/", "--app-url", app_url, "--replay", tid, "--report", str(tmp_path)) == 0
    traces = [json.loads(x) for x in (tmp_path / "traces.jsonl").read_text().splitlines()]
    assert [t["id"] for t in traces] == [tid] and traces[0]["satisfied"]


def test_bad_scenario_exits_2_with_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: bad\nstory: s\nsteps:\n  - slack.post: {as: bob@example.com, channel: 1}\nchecks: []\n"
    )
    assert main(["run", str(bad), "--report", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:4: slack.post: text: Field required" in err and f"{bad}:5: checks" in err


def test_unreachable_app_exits_2_with_a_partial_report(
    twin_urls: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start = time.perf_counter()
    code = run(
        twin_urls, "scenarios/mention-help.yaml", "--app-url", "http://127.0.0.1:9", "--report", str(tmp_path)
    )
    assert code == 2 and time.perf_counter() - start < 15
    assert "the app at http://127.0.0.1:9 is unreachable" in capsys.readouterr().err
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["run"]["aborted"] and report["overall"]["total"] == 0


def test_app_cmd_starts_the_app_with_the_twins_urls(twin_urls: dict[str, str], tmp_path: Path) -> None:
    code = run(
        twin_urls,
        "scenarios/mention-help.yaml",
        "--app-cmd",
        f"{sys.executable} -m examples.onboarding",
        "--app-env",
        "ONBOARDING_RESILIENT=1",
        "-n",
        "1",
        "--report",
        str(tmp_path),
    )
    assert code == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["overall"]["satisfied"] == 1 and report["run"]["app_url"].startswith("http://127.0.0.1:")


def test_several_fault_profiles_chart_and_replay(
    twin_urls: dict[str, str], fragile_app_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same plan under no faults and under a profile: satisfaction per profile in the JSON
    and the HTML chart, ids that name their profile, and a replay of one of them."""
    quick = tmp_path / "mention.yaml"  # the app without idempotency replies twice: fails sooner
    quick.write_text(Path("scenarios/mention-help.yaml").read_text() + "    within_s: 3\n")
    profiles = ["--faults", "none", "--faults", "fault_profiles/slack-rate-limited.yaml"]
    code = run(
        twin_urls,
        str(quick),
        "--app-url",
        fragile_app_url,
        "-n",
        "2",
        *profiles,
        "--report",
        str(tmp_path / "r"),
    )
    assert code == 0, capsys.readouterr()  # no gate
    report = json.loads((tmp_path / "r/report.json").read_text())
    assert [(p["name"], p["satisfied"], p["total"]) for p in report["profiles"]] == [
        ("none", 2, 2),
        ("slack-rate-limited", 0, 2),
    ]
    limited = report["profiles"][1]
    assert limited["file"] == "fault_profiles/slack-rate-limited.yaml" and limited["faults_fired"] >= 2
    assert limited["scenarios"]["mention-help"]["ci95"] == [round(x, 6) for x in wilson(0, 2)]
    (cause,) = report["causes"]
    assert cause["profile"] == "slack-rate-limited" and cause["faults"] == ["events-duplicated"]
    assert cause["example"] == "mention-help@slack-rate-limited~0~0"
    page = (tmp_path / "r/report.html").read_text()
    assert "Satisfaction under each fault profile" in page and "slack-rate-limited</text>" in page
    out = capsys.readouterr().out
    assert "under each fault profile:" in out and "mention-help (under slack-rate-limited)" in out
    # the failing trajectory, replayed by its id, under its profile
    code = run(
        twin_urls,
        str(quick),
        "--app-url",
        fragile_app_url,
        *profiles,
        "--replay",
        cause["example"],
        "--report",
        str(tmp_path / "again"),
    )
    (again,) = [json.loads(x) for x in (tmp_path / "again/traces.jsonl").read_text().splitlines()]
    assert (
        again["id"] == cause["example"]
        and again["profile"] == "slack-rate-limited"
        and not again["satisfied"]
    )
    # a replay id naming a profile that was not given, and two profiles with one name: exit 2
    assert run(twin_urls, str(quick), "--replay", cause["example"], "--report", str(tmp_path / "x")) == 2
    assert "give the fault profile 'slack-rate-limited'" in capsys.readouterr().err
    twice = ["--faults", "fault_profiles/slack-rate-limited.yaml"] * 2
    assert run(twin_urls, str(quick), *twice, "--report", str(tmp_path / "y")) == 2
    assert "two fault profiles are named slack-rate-limited" in capsys.readouterr().err
