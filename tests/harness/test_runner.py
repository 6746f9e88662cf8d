"""Real trajectories: the example app against live twins, satisfied, unsatisfied, faulted, replayed."""

from __future__ import annotations

import time
from typing import Any

from harness import model
from harness.runner import fingerprint, tenant_name
from tests.harness.conftest import campaign, one, scenario


def ops(trace: dict[str, Any], twin: str) -> list[str]:
    return [str(e["operation"]) for e in trace["journal"][twin]]


def test_happy_path_is_satisfied_with_a_cross_twin_trace(twin_urls: dict[str, str], app_url: str) -> None:
    t = one(twin_urls, app_url, "onboarding-happy-path")
    assert t["satisfied"], t["cause"]
    assert [c["id"] for c in t["checks"]] == [
        "one-ticket-for-manager",
        "invited-to-new-hires",
        "welcomed-once",
    ]
    assert all(c["ok"] and c["duration_ms"] >= 300 for c in t["checks"][2:])  # hold_s: 0.3
    # what the app did, as each twin journaled it for this trajectory's tenant alone
    assert {"createUser", "getUser"} <= set(ops(t, "okta"))
    assert {"createIssue", "findUsers"} <= set(ops(t, "jira"))
    assert {"users.lookupByEmail", "conversations.invite", "chat.postMessage"} <= set(ops(t, "slack"))
    assert all(
        e["tenant"] == t["tenant"] == tenant_name(t["id"]) for tw in t["journal"] for e in t["journal"][tw]
    )
    hooks = [d for d in t["deliveries"]["okta"] if d["kind"] == "event_hooks"]
    assert hooks and all(d["state"] == "delivered" for d in hooks)
    assert t["faults"] == [] and t["cause"] is None and t["duration_ms"] > 0


def test_broken_app_is_unsatisfied_and_says_which_check(
    twin_urls: dict[str, str], broken_app_url: str
) -> None:
    t = one(twin_urls, broken_app_url, "onboarding-happy-path", within_s=2.5)
    assert not t["satisfied"]
    failed = [c for c in t["checks"] if not c["ok"]]
    assert [c["id"] for c in failed] == ["invited-to-new-hires"]
    assert "is not in #new-hires" in failed[0]["detail"]
    assert t["cause"] == "check invited-to-new-hires failed"


def test_faults_hurt_only_the_app_without_resilience(
    twin_urls: dict[str, str], app_url: str, fragile_app_url: str
) -> None:
    names = ["rate-limits-mid-flow", "duplicate-okta-events", "slack-retry-handled-event"]
    good = campaign(twin_urls, app_url, [scenario(n) for n in names], concurrency=3).traces
    bad = campaign(twin_urls, fragile_app_url, [scenario(n, within_s=4) for n in names], concurrency=3).traces
    assert all(t["satisfied"] for t in good), [t["cause"] for t in good]
    assert all(t["faults"] for t in good)  # the faults fired, and the app coped
    causes = {t["scenario"]: t["cause"] for t in bad if not t["satisfied"]}
    assert "rate-limits-mid-flow" in causes and "create-issue-throttled" in causes["rate-limits-mid-flow"]
    assert "slack-retry-handled-event" in causes and "one-reply" in causes["slack-retry-handled-event"]
    throttled = [
        e
        for e in next(t for t in bad if t["scenario"] == "rate-limits-mid-flow")["journal"]["jira"]
        if e["fault"]
    ]
    assert throttled and throttled[0]["status"] == 429


def test_replay_by_id_gives_the_identical_trace(twin_urls: dict[str, str], app_url: str) -> None:
    s = scenario("offboarding-deactivate")
    first = one(twin_urls, app_url, "offboarding-deactivate", seed=7)
    again = campaign(twin_urls, app_url, [s], only=[first["id"]]).traces[0]
    assert again["id"] == first["id"] == "offboarding-deactivate~7~0" and again["tenant"] == first["tenant"]
    assert again["inputs"] == first["inputs"] and first["satisfied"]
    assert fingerprint(again) == fingerprint(first)
    other = one(twin_urls, app_url, "offboarding-deactivate", seed=8)
    assert other["inputs"] != first["inputs"]


def test_flakiness_replays_agree(twin_urls: dict[str, str], app_url: str) -> None:
    result = campaign(twin_urls, app_url, [scenario("mention-help")], n=2, replays=2)
    assert [f["identical"] and f["agree"] for f in result.flaky] == [True]


def test_python_escape_hatch(twin_urls: dict[str, str], app_url: str) -> None:
    s = model.parse(
        {
            "id": "python-hooks",
            "story": "escape hatch",
            "steps": [
                {
                    "id": "post",
                    "slack.post": {"as": "alice@example.com", "channel": "#general", "text": "py-1"},
                },
                {
                    "id": "mine",
                    "python": {"fn": "tests.harness.hooks:remember", "args": {"word": "${inputs.w}"}},
                },
            ],
            "inputs": {"w": {"value": "hello"}},
            "checks": [
                {
                    "id": "once",
                    "python": {"fn": "tests.harness.hooks:general_has_text", "args": {"text": "py-1"}},
                },
                {"id": "result", "step.result": {"step": "mine", "path": "word", "equals": "hello"}},
            ],
        }
    )
    (t,) = campaign(twin_urls, app_url, [s]).traces
    assert t["satisfied"], t
    assert t["steps"][1]["detail"].startswith("{'tenant': 'h")


def test_unreachable_app_is_a_clear_error_without_hanging(twin_urls: dict[str, str]) -> None:
    start = time.perf_counter()
    result = campaign(twin_urls, "http://127.0.0.1:9", [scenario("mention-help")], n=12, concurrency=4)
    assert time.perf_counter() - start < 15
    assert result.aborted and "infrastructure errors in a row" in result.aborted
    t = result.traces[0]
    assert (
        t["error_kind"] == "infrastructure" and "the app at http://127.0.0.1:9 is unreachable" in t["error"]
    )
    assert not t["satisfied"] and t["cause"].startswith("infrastructure: the app at")


def test_dead_twin_aborts_the_campaign_with_what_finished(twin_urls: dict[str, str], app_url: str) -> None:
    urls = {**twin_urls, "slack": "http://127.0.0.1:9"}
    result = campaign(urls, app_url, [scenario("mention-help")], n=30, concurrency=2)
    assert result.aborted and len(result.traces) < 30
    assert "slack twin unreachable" in result.traces[0]["error"]


def test_replay_over_a_kept_tenant_recreates_it(twin_urls: dict[str, str], app_url: str) -> None:
    import asyncio

    from harness.runner import Runner
    from harness.universe import Universe

    async def twice() -> tuple[dict[str, Any], dict[str, Any]]:
        u = Universe(twin_urls, app_url=app_url)
        try:
            runner = Runner(u, keep_tenants=True)
            s = scenario("mention-help")
            first = await runner.run(s, 5, 0)
            second = await runner.run(s, 5, 0)  # its tenant still exists: 409, dropped, made again
            runner.keep_tenants = False
            await runner._drop_named(first["tenant"], ["slack"])
            return first, second
        finally:
            await u.aclose()

    first, second = asyncio.run(twice())
    assert first["satisfied"] and second["satisfied"] and fingerprint(first) == fingerprint(second)


def test_named_tenants_are_validated_by_the_control_plane(twin_urls: dict[str, str]) -> None:
    import httpx

    bad = httpx.post(twin_urls["slack"] + "/_dtu/tenants", json={"tenant": "no spaces!"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "tenant"
    made = httpx.post(twin_urls["slack"] + "/_dtu/tenants", json={"tenant": "named-once"})
    again = httpx.post(twin_urls["slack"] + "/_dtu/tenants", json={"tenant": "named-once"})
    httpx.delete(twin_urls["slack"] + "/_dtu/tenants/named-once")
    assert made.status_code == 201 and made.json()["tenant"] == "named-once" and again.status_code == 409
