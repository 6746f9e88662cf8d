"""The LLM judge: verdicts read robustly, real trajectories judged through a local
OpenAI-compatible endpoint, and a judge that cannot answer reported as such (never as an
unsatisfied user)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from dtu.cli import main
from harness.judge import JudgeError, describe, parse_verdict
from tests.harness.conftest import campaign, scenario
from tests.harness.test_cli import run

INVITED = "conversations.invite -> 200"  # what the stub looks for: the app invited the new hire


@pytest.mark.parametrize(
    ("answer", "satisfied", "reason"),
    [
        ('{"verdict": "satisfied", "reason": "all good"}', True, "all good"),
        ('Sure.\n```json\n{"verdict": "unsatisfied", "reason": "no invite"}\n```', False, "no invite"),
        ('My answer: {"verdict": "SATISFIED", "reason": "ok"} (final)', True, "ok"),
        ("VERDICT: unsatisfied\nREASON: the ticket was opened twice", False, "the ticket was opened twice"),
        ('{"satisfied": false, "reason": "x"}', False, "x"),
        ('{"note": {"a": 1}} then {"verdict": "satisfied"}', True, ""),
    ],
)
def test_verdicts_are_read_robustly(answer: str, satisfied: bool, reason: str) -> None:
    v = parse_verdict(answer)
    assert (v.satisfied, v.reason) == (satisfied, reason)


@pytest.mark.parametrize(
    "answer",
    [
        "",
        "It went fine, I think.",
        '{"verdict": "maybe"}',
        '{"verdict": "satisfied"} {"verdict": "unsatisfied"}',
        "VERDICT: satisfied\nVERDICT: unsatisfied",
    ],
)
def test_no_verdict_or_two_verdicts_is_a_judge_error(answer: str) -> None:
    with pytest.raises(JudgeError):
        parse_verdict(answer)


def test_the_judge_reads_the_story_and_a_bounded_trace() -> None:
    trace = {
        "id": "s~0~0",
        "scenario": "s",
        "inputs": {"email": "a@example.com"},
        "steps": [{"id": "post", "action": "slack.post", "ok": True, "detail": "{}"}],
        "checks": [{"id": "c", "action": "slack.message", "ok": False, "detail": "0 messages"}],
        "faults": [{"twin": "slack", "rule": "r1", "action": "rate_limit"}],
        "journal": {
            "slack": [
                {"method": "POST", "operation": "chat.postMessage", "status": 429, "fault": {"rule": "r1"}}
            ]
            * 500
        },
        "deliveries": {"slack": [{"kind": "events", "state": "delivered", "attempts": [{"status": 200}]}]},
    }
    text = describe("The user gets an answer.", trace, limit=3000)
    assert text.startswith("User story: The user gets an answer.")
    assert "c [slack.message] FAILED: 0 messages" in text and "slack:r1(rate_limit)" in text
    assert "chat.postMessage -> 429 FAULT:r1" in text and len(text) <= 3100 and text.endswith("(trace cut)")


def test_llm_judge_over_real_trajectories(
    twin_urls: dict[str, str], app_url: str, broken_app_url: str, llm_url: str
) -> None:
    happy = scenario("onboarding-happy-path")
    good = campaign(twin_urls, app_url, [happy], judge=(llm_url, f"json:{INVITED}"), judge_mode="llm")
    (t,) = good.traces
    assert t.get("judge") and t["satisfied"] and t["judge"]["verdict"] == "satisfied", (
        t["cause"],
        t.get("traceback"),
    )
    assert t["checks_satisfied"]
    assert t["judge"]["model"] == f"json:{INVITED}" and t["judge"]["error"] is None
    # the broken app never invites: the judge sees it in the trace (and so do the checks)
    happy = scenario("onboarding-happy-path", within_s=3)  # the broken app fails: sooner
    bad = campaign(
        twin_urls, broken_app_url, [happy], judge=(llm_url, f"chatty:{INVITED}"), judge_mode="both"
    )
    (t,) = bad.traces
    assert not t["satisfied"] and t["judge"]["verdict"] == "unsatisfied"
    assert t["cause"].startswith("llm judge: unsatisfied") and "invited-to-new-hires" in t["cause"]
    # llm alone: the judge decides even where every check held
    strict = campaign(
        twin_urls, app_url, [scenario("mention-help")], judge=(llm_url, f"lines:{INVITED}"), judge_mode="llm"
    )
    (t,) = strict.traces
    assert (
        t["checks_satisfied"] and not t["satisfied"] and t["judge"]["reason"].startswith("the trace does not")
    )
    sent = httpx.get(llm_url.removesuffix("/v1") + "/_recorded").json()
    asked = next(r["body"] for r in sent if r["body"]["model"] == f"json:{INVITED}")
    assert asked["temperature"] == 0 and [m["role"] for m in asked["messages"]] == ["system", "user"]
    user = asked["messages"][1]["content"]
    assert user.startswith("User story: When IT creates and activates a new hire in Okta")
    assert "okta POST createUser -> 200" in user and "okta event_hooks [delivered]" in user
    assert httpx.get(llm_url + "/models").json()["error"]["type"] == "invalid_request_error"


def test_judge_errors_are_reported_not_counted_as_unsatisfied(
    twin_urls: dict[str, str], app_url: str, llm_url: str
) -> None:
    s = scenario("mention-help")
    for model, url, said in [
        ("500:x", llm_url, "answered 500: The server had an error"),
        ("garbage:x", llm_url, "no verdict in the judge's answer"),
        ("401:x", llm_url, "answered 401: Incorrect API key"),
        ("json:x", "http://127.0.0.1:9/v1", "the judge endpoint is unreachable"),
    ]:
        (t,) = campaign(twin_urls, app_url, [s], judge=(url, model), judge_mode="llm").traces
        assert t["unjudged"] and t["error_kind"] == "judge" and said in t["judge"]["error"], (
            model,
            t["judge"],
        )
        assert t["checks_satisfied"] and t["cause"].startswith("judge: ")


def test_cli_judge_gate_and_report(
    twin_urls: dict[str, str],
    app_url: str,
    llm_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DTU_TEST_JUDGE_KEY", "sk-test")
    args = ["scenarios/mention-help.yaml", "--app-url", app_url, "-n", "2", "--judge", "llm"]
    code = run(
        twin_urls,
        *args,
        "--judge-url",
        llm_url + "/chat/completions",
        "--judge-model",
        "401:reply",  # needs the key from --judge-key-env; "reply" is in every mention-help trace
        "--judge-key-env",
        "DTU_TEST_JUDGE_KEY",
        "--report",
        str(tmp_path / "ok"),
        "--min-satisfaction",
        "1",
    )
    assert code == 0, capsys.readouterr()
    report = json.loads((tmp_path / "ok/report.json").read_text())
    assert report["run"]["judge"]["mode"] == "llm" and report["unjudged"] == 0
    assert report["overall"]["satisfied"] == 2
    assert "Judge (401:reply): <b class='ok'>satisfied</b>" in (tmp_path / "ok/report.html").read_text()
    # the endpoint fails: exit 2, the trajectories listed as not judged, none counted as unsatisfied
    code = run(
        twin_urls,
        *args,
        "--judge-url",
        llm_url,
        "--judge-model",
        "500:x",
        "--report",
        str(tmp_path / "down"),
    )
    err = capsys.readouterr().err
    assert code == 2 and "2 trajectories could not be judged" in err
    report = json.loads((tmp_path / "down/report.json").read_text())
    assert report["unjudged"] == 2 and report["overall"]["total"] == 0 and report["causes"] == []
    assert (
        report["judge_errors"][0]["count"] == 2 and report["judge_errors"][0]["example"] in report["examples"]
    )
    assert "could not be judged" in (tmp_path / "down/report.html").read_text()
    # options checked before anything runs
    assert (
        main(["run", "scenarios/mention-help.yaml", "--judge", "llm", "--report", str(tmp_path / "x")]) == 2
    )
    assert "--judge llm needs --judge-url and --judge-model" in capsys.readouterr().err
