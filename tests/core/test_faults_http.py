"""Every fault action, observed the way an agent would meet it: through slack_sdk over real
HTTP, and, for deliveries, at the app's request URL. Profiles are loaded per tenant
(`PUT /_dtu/faults?tenant=`) so tests never disturb each other."""

from __future__ import annotations

import http.client
import time
import urllib.error
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import (
    ConnectionErrorRetryHandler,
    FixedValueRetryIntervalCalculator,
    RateLimitErrorRetryHandler,
)

from dtu.testing.plugin import Tenant
from tests.core.conftest import Receiver, journal, put_faults, wait_for

# What urllib (slack_sdk's transport) raises when the server closes the connection on it.
CONNECTION_ERRORS = (ConnectionError, urllib.error.URLError, http.client.HTTPException)


def _faults(tenant: Tenant, *rules: dict[str, Any], seed: int = 0) -> None:
    put_faults(tenant.twin, tenant.tenant, *rules, seed=seed)


def _fired(tenant: Tenant) -> list[dict[str, Any]]:
    return [e["fault"] for e in journal(tenant.twin, tenant.tenant) if e["fault"] is not None]


def _on(operation: str, action: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": f"{action['kind']}-rule",
        "match": {"twin": "slack", "operation": operation},
        "action": action,
        **extra,
    }


# -- answered faults ----------------------------------------------------------------------------------


def test_rate_limit_is_slacks_429(slack_tenant: Tenant, bot: WebClient, general: str) -> None:
    _faults(slack_tenant, _on("chat.postMessage", {"kind": "rate_limit", "retry_after_s": 3}))
    with pytest.raises(SlackApiError) as err:
        bot.chat_postMessage(channel=general, text="throttled")
    resp = err.value.response
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "3"
    assert resp.data == {"ok": False, "error": "ratelimited"}
    assert slack_tenant.twin.state("messages", tenant=slack_tenant.tenant) == []  # nothing was written
    assert _fired(slack_tenant) == [{"rule": "rate_limit-rule", "kind": "rate_limit", "ordinal": 1}]


def test_rate_limit_retry_handler_gets_through(slack_tenant: Tenant, general: str) -> None:
    _faults(
        slack_tenant,
        _on("chat.postMessage", {"kind": "rate_limit", "retry_after_s": 1}, budget={"max_fires": 1}),
    )
    client = WebClient(
        token=slack_tenant.bot_token,
        base_url=slack_tenant.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    started = time.monotonic()
    posted = client.chat_postMessage(channel=general, text="eventually")
    assert posted["ok"] and time.monotonic() - started >= 1.0  # it honoured Retry-After
    statuses = [e["status"] for e in journal(slack_tenant.twin, slack_tenant.tenant)]
    assert statuses == [429, 200]
    assert [m["text"] for m in slack_tenant.twin.state("messages", tenant=slack_tenant.tenant)] == [
        "eventually"
    ]


def test_error_with_a_vendor_code(slack_tenant: Tenant, bot: WebClient, general: str) -> None:
    _faults(
        slack_tenant, _on("conversations.history", {"kind": "error", "status": 500, "code": "fatal_error"})
    )
    with pytest.raises(SlackApiError) as err:
        bot.conversations_history(channel=general)
    assert err.value.response.status_code == 500
    assert err.value.response["error"] == "fatal_error"
    assert _fired(slack_tenant)[0]["kind"] == "error"


def test_error_without_a_code_is_slacks_internal_error(slack_tenant: Tenant, bot: WebClient) -> None:
    _faults(slack_tenant, _on("auth.test", {"kind": "error", "status": 502}))
    with pytest.raises(SlackApiError) as err:
        bot.auth_test()
    assert err.value.response.status_code == 502 and err.value.response["error"] == "internal_error"


def test_outage_is_503_service_unavailable(slack_tenant: Tenant, bot: WebClient) -> None:
    _faults(slack_tenant, {"id": "down", "action": {"kind": "outage"}})
    for call in (bot.auth_test, bot.users_list, bot.conversations_list):
        with pytest.raises(SlackApiError) as err:
            call()
        assert err.value.response.status_code == 503
        assert err.value.response.data == {"ok": False, "error": "service_unavailable"}
    assert [f["ordinal"] for f in _fired(slack_tenant)] == [1, 2, 3]


def test_outage_window_on_the_tenant_clock(slack_tenant: Tenant, bot: WebClient) -> None:
    """at_s counts from the profile load on the twin clock: advancing it reaches the window."""
    twin = slack_tenant.twin
    twin.clock(tenant=slack_tenant.tenant, freeze=True)
    _faults(slack_tenant, {"id": "window", "when": {"at_s": 10, "for_s": 30}, "action": {"kind": "outage"}})
    assert bot.auth_test()["ok"]
    twin.clock(tenant=slack_tenant.tenant, advance_s=10)
    with pytest.raises(SlackApiError) as err:
        bot.auth_test()
    assert err.value.response.status_code == 503
    twin.clock(tenant=slack_tenant.tenant, advance_s=30)
    assert bot.auth_test()["ok"]


def test_delay_slows_the_answer(slack_tenant: Tenant, bot: WebClient) -> None:
    _faults(slack_tenant, _on("auth.test", {"kind": "delay", "ms": 300}))
    started = time.monotonic()
    assert bot.auth_test()["ok"]
    assert time.monotonic() - started >= 0.3
    [entry] = journal(slack_tenant.twin, slack_tenant.tenant)
    assert entry["status"] == 200 and entry["latency_ms"] >= 300 and entry["fault"]["kind"] == "delay"


# -- broken transport ---------------------------------------------------------------------------------


@pytest.mark.parametrize("action", [{"kind": "drop"}, {"kind": "timeout", "s": 0.2}])
def test_drop_and_timeout_close_the_connection(
    slack_tenant: Tenant, bot: WebClient, action: dict[str, Any]
) -> None:
    _faults(slack_tenant, _on("auth.test", action))
    started = time.monotonic()
    with pytest.raises(CONNECTION_ERRORS):
        bot.auth_test()
    if action["kind"] == "timeout":
        assert time.monotonic() - started >= 0.2
    [entry] = journal(slack_tenant.twin, slack_tenant.tenant)
    assert entry["fault"]["kind"] == action["kind"] and entry["status"] == 0  # no answer was sent


def test_connection_retry_handler_gets_through_a_single_drop(slack_tenant: Tenant) -> None:
    _faults(slack_tenant, _on("auth.test", {"kind": "drop"}, budget={"max_fires": 1}))
    client = WebClient(
        token=slack_tenant.bot_token,
        base_url=slack_tenant.api_url,
        retry_handlers=[
            ConnectionErrorRetryHandler(
                max_retry_count=1, interval_calculator=FixedValueRetryIntervalCalculator(0.01)
            )
        ],
    )
    assert client.auth_test()["ok"]
    assert [e["fault"] is not None for e in journal(slack_tenant.twin, slack_tenant.tenant)] == [True, False]


def test_truncate_cuts_the_body(slack_tenant: Tenant, bot: WebClient) -> None:
    _faults(slack_tenant, _on("auth.test", {"kind": "truncate", "bytes": 10}))
    with pytest.raises(http.client.IncompleteRead) as err:
        bot.auth_test()
    assert len(err.value.partial) == 10
    assert _fired(slack_tenant)[0]["kind"] == "truncate"


def test_truncate_seen_by_a_plain_http_client(slack_tenant: Tenant) -> None:
    _faults(slack_tenant, _on("auth.test", {"kind": "truncate", "bytes": 5}))
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(
            f"{slack_tenant.api_url}auth.test", headers={"authorization": f"Bearer {slack_tenant.bot_token}"}
        )


def test_malformed_body_is_not_json(slack_tenant: Tenant, bot: WebClient) -> None:
    _faults(slack_tenant, _on("auth.test", {"kind": "malformed"}))
    with pytest.raises(SlackApiError) as err:
        bot.auth_test()
    assert "non-JSON" in err.value.response["error"]
    raw = httpx.post(
        f"{slack_tenant.api_url}auth.test", headers={"authorization": f"Bearer {slack_tenant.bot_token}"}
    )
    with pytest.raises(ValueError):
        raw.json()
    assert [f["kind"] for f in _fired(slack_tenant)] == ["malformed", "malformed"]


# -- semantic faults ----------------------------------------------------------------------------------


def test_stale_reads_miss_young_messages_until_the_clock_moves(
    slack_tenant: Tenant, bot: WebClient, general: str
) -> None:
    bot.chat_postMessage(channel=general, text="old enough")
    slack_tenant.twin.clock(tenant=slack_tenant.tenant, advance_s=60)
    _faults(slack_tenant, _on("conversations.history", {"kind": "stale_reads", "lag_s": 30}))
    bot.chat_postMessage(channel=general, text="too young")
    assert [m["text"] for m in bot.conversations_history(channel=general)["messages"]] == ["old enough"]

    slack_tenant.twin.clock(tenant=slack_tenant.tenant, advance_s=30)
    assert [m["text"] for m in bot.conversations_history(channel=general)["messages"]] == [
        "too young",
        "old enough",
    ]
    assert {f["kind"] for f in _fired(slack_tenant)} == {"stale_reads"}


def test_real_limits_tier3_allows_50_calls_a_minute(
    slack_tenant: Tenant, bot: WebClient, general: str
) -> None:
    """conversations.history is tier 3 (50 per minute): the 51st call within the minute is
    refused with 429 and a Retry-After that reaches the next window."""
    twin = slack_tenant.twin
    twin.clock(tenant=slack_tenant.tenant, freeze=True, at=1_700_000_050.0)  # the minute ends at ..100
    _faults(slack_tenant, {"id": "limits", "action": {"kind": "real_limits"}})
    for _ in range(50):
        bot.conversations_history(channel=general, limit=1)
    with pytest.raises(SlackApiError) as err:
        bot.conversations_history(channel=general, limit=1)
    assert err.value.response.status_code == 429
    assert err.value.response["error"] == "ratelimited"
    assert err.value.response.headers["Retry-After"] == "50"
    assert bot.auth_test()["ok"]  # another method, another tier and counter

    twin.clock(tenant=slack_tenant.tenant, advance_s=50)
    assert bot.conversations_history(channel=general, limit=1)["ok"]
    statuses = [e["status"] for e in journal(twin, slack_tenant.tenant, operation="conversations.history")]
    assert statuses == [200] * 50 + [429, 200]


def test_same_seed_same_faults_over_http(slack_tenant: Tenant, bot: WebClient) -> None:
    """Replaying a trajectory (same tenant, same seed, same calls) meets the same faults."""
    rule = {"id": "coin", "probability": 0.5, "action": {"kind": "error", "status": 500}}

    def run() -> list[bool]:
        _faults(slack_tenant, rule, seed=99)
        outcome = []
        for _ in range(20):
            try:
                outcome.append(bool(bot.auth_test()["ok"]))
            except SlackApiError as err:
                assert err.response.status_code == 500
                outcome.append(False)
        return outcome

    first = run()
    slack_tenant.twin.reset(slack_tenant.tenant)  # same tenant id and credentials; faults dropped
    assert (
        slack_tenant.twin.control("GET", "/faults", params={"tenant": slack_tenant.tenant})["profile"] is None
    )
    assert run() == first
    assert True in first and False in first


# -- delivery faults ----------------------------------------------------------------------------------


def _on_events(action: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": f"events-{action['kind']}",
        "match": {"twin": "slack", "delivery": "events"},
        "action": action,
        **extra,
    }


def _event_texts(receiver: Receiver) -> list[str]:
    return [e["event"]["text"] for e in receiver.events()]


def test_delivery_drop(slack_tenant: Tenant, subscribed: Receiver, alice: WebClient, general: str) -> None:
    _faults(slack_tenant, _on_events({"kind": "drop"}, budget={"max_fires": 1}))
    alice.chat_postMessage(channel=general, text="lost")
    alice.chat_postMessage(channel=general, text="arrives")
    wait_for(lambda: subscribed.requests)
    assert _event_texts(subscribed) == ["arrives"]
    states = [
        (d["payload"]["event"]["text"], d["state"], d["fault"] and d["fault"]["kind"])
        for d in slack_tenant.twin.deliveries(tenant=slack_tenant.tenant)
    ]
    assert states == [("lost", "dropped", "drop"), ("arrives", "delivered", None)]


def test_delivery_duplicate(
    slack_tenant: Tenant, subscribed: Receiver, alice: WebClient, general: str
) -> None:
    _faults(slack_tenant, _on_events({"kind": "duplicate", "copies": 1}))
    alice.chat_postMessage(channel=general, text="twice")
    wait_for(lambda: len(subscribed.requests) >= 2)
    time.sleep(0.1)
    events = subscribed.events()
    assert len(events) == 2 and events[0] == events[1]  # same event_id: the app must deduplicate
    listed = slack_tenant.twin.deliveries(tenant=slack_tenant.tenant)
    assert len(listed) == 2 and len({d["id"] for d in listed}) == 2
    assert all(d["fault"]["kind"] == "duplicate" for d in listed)


def test_delivery_delay_follows_the_twin_clock(
    slack_tenant: Tenant, subscribed: Receiver, alice: WebClient, general: str
) -> None:
    twin = slack_tenant.twin
    twin.clock(tenant=slack_tenant.tenant, freeze=True)
    _faults(slack_tenant, _on_events({"kind": "delay", "ms": 60_000}))
    alice.chat_postMessage(channel=general, text="later")
    time.sleep(0.3)
    assert subscribed.requests == []
    [pending] = twin.deliveries(tenant=slack_tenant.tenant)
    assert pending["state"] == "pending" and pending["fault"]["kind"] == "delay"

    twin.clock(tenant=slack_tenant.tenant, advance_s=60)
    wait_for(lambda: subscribed.requests)
    assert _event_texts(subscribed) == ["later"]
    wait_for(lambda: twin.deliveries(tenant=slack_tenant.tenant)[0]["state"] == "delivered")


def test_delivery_reorder(slack_tenant: Tenant, subscribed: Receiver, alice: WebClient, general: str) -> None:
    twin = slack_tenant.twin
    twin.clock(tenant=slack_tenant.tenant, freeze=True)
    _faults(slack_tenant, _on_events({"kind": "reorder", "hold_ms": 5000}, budget={"max_fires": 1}))
    alice.chat_postMessage(channel=general, text="first")
    alice.chat_postMessage(channel=general, text="second")
    wait_for(lambda: subscribed.requests)
    twin.clock(tenant=slack_tenant.tenant, advance_s=5)
    wait_for(lambda: len(subscribed.requests) == 2)
    assert _event_texts(subscribed) == ["second", "first"]


def test_fault_point_reaches_the_twin_and_is_journaled(
    slack_tenant: Tenant, bot: WebClient, general: str
) -> None:
    point = next(iter(slack_tenant.twin.control("GET", "/operations")["fault_points"]))
    _faults(
        slack_tenant, _on("chat.postMessage", {"kind": "fault_point", "point": point, "params": {"n": 1}})
    )
    assert bot.chat_postMessage(channel=general, text="with a point")["ok"]
    assert _fired(slack_tenant) == [{"rule": "fault_point-rule", "kind": "fault_point", "ordinal": 1}]


def test_shipped_outage_window_profile_over_http(slack_tenant: Tenant, bot: WebClient) -> None:
    twin, params = slack_tenant.twin, {"tenant": slack_tenant.tenant}
    twin.clock(tenant=slack_tenant.tenant, freeze=True)
    text = (Path(__file__).resolve().parents[2] / "fault_profiles" / "outage-window.yaml").read_bytes()
    resp = twin.admin.put(
        "/_dtu/faults", params=params, content=text, headers={"content-type": "application/yaml"}
    )
    assert resp.status_code == 200, resp.text
    assert bot.auth_test()["ok"]
    twin.clock(tenant=slack_tenant.tenant, advance_s=10)
    with pytest.raises(SlackApiError) as err:
        bot.users_list()
    assert err.value.response["error"] == "service_unavailable"
    twin.clock(tenant=slack_tenant.tenant, advance_s=30)
    assert bot.users_list()["ok"]


def test_tenant_rules_fire_for_a_token_in_a_form_body(slack_tenant: Tenant, general: str) -> None:
    """A token sent as a form field (not a header) still tells the engine whose call it is,
    and the method still reads every field of the body."""
    _faults(
        slack_tenant,
        _on("chat.postMessage", {"kind": "rate_limit", "retry_after_s": 2}, budget={"max_fires": 1}),
    )
    form = {"token": slack_tenant.bot_token, "channel": general, "text": "from a form"}
    throttled = httpx.post(slack_tenant.api_url + "chat.postMessage", data=form)
    assert throttled.status_code == 429
    assert throttled.json() == {"ok": False, "error": "ratelimited"}
    posted = httpx.post(slack_tenant.api_url + "chat.postMessage", data=form)
    assert posted.status_code == 200 and posted.json()["ok"] is True
    assert [m["text"] for m in slack_tenant.twin.state("messages", tenant=slack_tenant.tenant)] == [
        "from a form"
    ]
    assert _fired(slack_tenant) == [{"rule": "rate_limit-rule", "kind": "rate_limit", "ordinal": 1}]
