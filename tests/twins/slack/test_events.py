"""The Events API as a plain HTTP receiver sees it: envelopes, signatures, retries, faults."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from dtu.testing.plugin import Tenant
from dtu.testing.receiver import Received, Receiver

APP, BOT_USER = "A0DTUAPP01", "U0DTUBOT01"
SCOPES = ["channels:history", "channels:read", "app_mentions:read", "files:read", "chat:write"]


def subscribe(tenant: Tenant, url: str, events: list[str]) -> None:
    """Point the default app's Events API subscription at `url`, as an app developer would."""
    config = WebClient(token=tenant.config_token, base_url=tenant.api_url)
    config.apps_manifest_update(
        app_id=APP,
        manifest={
            "display_information": {"name": "DTU App"},
            "features": {"bot_user": {"display_name": "dtu-app"}},
            "oauth_config": {"scopes": {"bot": SCOPES}},
            "settings": {"event_subscriptions": {"request_url": url, "bot_events": events}},
        },
    )


@pytest.fixture
def app_url(slack_tenant: Tenant) -> Iterator[Receiver]:
    """A receiver subscribed to message.channels, app_mention, channel_created and file_shared."""
    with Receiver() as receiver:
        subscribe(
            slack_tenant, receiver.url, ["message.channels", "app_mention", "channel_created", "file_shared"]
        )
        yield receiver


def _settled(tenant: Tenant, timeout_s: float = 5.0) -> dict[str, Any]:
    """The tenant's one events delivery, once the twin has given up on it or delivered it."""
    deadline = time.monotonic() + timeout_s
    while True:
        (delivery,) = tenant.twin.deliveries(tenant=tenant.tenant, kind="events")
        if delivery["state"] != "pending" or time.monotonic() > deadline:
            return delivery
        time.sleep(0.02)


def _attempted(tenant: Tenant, attempts: int, timeout_s: float = 5.0) -> None:
    """Wait until the tenant's one events delivery has recorded `attempts` attempts."""
    deadline = time.monotonic() + timeout_s
    while True:
        (delivery,) = tenant.twin.deliveries(tenant=tenant.tenant, kind="events")
        if len(delivery["attempts"]) >= attempts or time.monotonic() > deadline:
            return
        time.sleep(0.01)


def _events(receiver: Receiver, kind: str, count: int = 1, timeout_s: float = 5.0) -> list[Received]:
    return receiver.wait_for(lambda r: r.is_event and r.event_type == kind, count=count, timeout_s=timeout_s)


def test_message_event_envelope(
    app_url: Receiver, alice: WebClient, general: str, slack_tenant: Tenant
) -> None:
    posted = alice.chat_postMessage(channel=general, text="hello events")
    (got,) = _events(app_url, "message")
    body = got.payload
    assert body["type"] == "event_callback" and body["api_app_id"] == APP
    assert body["team_id"] == slack_tenant.team_id and body["event_id"].startswith("Ev")
    assert body["token"] == "dtu-verification-token" and isinstance(body["event_time"], int)
    assert body["authorizations"][0]["user_id"] == BOT_USER and body["authorizations"][0]["is_bot"] is True
    event = body["event"]
    assert (event["channel"], event["user"], event["text"], event["ts"]) == (
        general,
        "U0DTUALICE",
        "hello events",
        posted["ts"],
    )
    assert event["channel_type"] == "channel" and event["event_ts"] == posted["ts"]


def test_deliveries_are_signed_with_the_signing_secret(
    app_url: Receiver, alice: WebClient, general: str, slack_tenant: Tenant
) -> None:
    alice.chat_postMessage(channel=general, text="signed")
    (got,) = _events(app_url, "message")
    assert SignatureVerifier(slack_tenant.signing_secret).is_valid_request(got.body, got.headers)
    assert abs(int(got.headers["x-slack-request-timestamp"]) - time.time()) < 60
    assert not SignatureVerifier("another-secret").is_valid_request(got.body, got.headers)


def test_only_subscribed_events_are_sent(slack_tenant: Tenant, alice: WebClient, general: str) -> None:
    with Receiver() as receiver:
        subscribe(slack_tenant, receiver.url, ["app_mention"])
        alice.chat_postMessage(channel=general, text="no mention here")
        alice.chat_postMessage(channel=general, text=f"<@{BOT_USER}> ping")
        (mention,) = _events(receiver, "app_mention")
    assert mention.payload["event"]["text"] == f"<@{BOT_USER}> ping"
    sent = slack_tenant.twin.deliveries(tenant=slack_tenant.tenant, kind="events")
    assert [d["meta"]["type"] for d in sent] == ["app_mention"]


def test_no_events_from_conversations_without_the_bot(
    app_url: Receiver, alice: WebClient, slack_tenant: Tenant
) -> None:
    random = next(c["id"] for c in alice.conversations_list()["channels"] if c["name"] == "random")
    alice.chat_postMessage(channel=random, text="bot is not here")
    assert slack_tenant.twin.deliveries(tenant=slack_tenant.tenant, kind="events") == []


def test_channel_created_reaches_the_app_without_membership(app_url: Receiver, alice: WebClient) -> None:
    made = alice.conversations_create(name="brand-new")["channel"]
    (got,) = _events(app_url, "channel_created")
    assert got.payload["event"]["channel"]["id"] == made["id"]
    assert got.payload["event"]["channel"]["name"] == "brand-new"


def test_file_share_raises_message_and_file_shared(app_url: Receiver, alice: WebClient, general: str) -> None:
    file_id = alice.files_upload_v2(
        channel=general, content="report", filename="r.txt", initial_comment="the report"
    )["file"]["id"]
    (message,) = _events(app_url, "message")
    assert message.payload["event"]["subtype"] == "file_share"
    assert message.payload["event"]["text"] == "the report"
    assert [f["id"] for f in message.payload["event"]["files"]] == [file_id]
    (shared,) = _events(app_url, "file_shared")
    assert shared.payload["event"]["file_id"] == file_id and shared.payload["event"]["channel_id"] == general


def test_failed_delivery_is_retried_on_slacks_schedule(
    app_url: Receiver, alice: WebClient, general: str, slack_tenant: Tenant
) -> None:
    """Retries: about at once, then after 1 minute, then 5 minutes (twin clock), then given up."""
    app_url.set(status=500)
    alice.chat_postMessage(channel=general, text="flaky")
    first, retry1 = _events(app_url, "message", count=2)
    assert first.retry_num is None and "x-slack-retry-reason" not in first.headers
    assert (retry1.retry_num, retry1.headers["x-slack-retry-reason"]) == (1, "http_error")
    _attempted(slack_tenant, 2)
    time.sleep(0.2)
    assert len(_events(app_url, "message")) == 2  # the next retry waits a minute
    slack_tenant.twin.clock(tenant=slack_tenant.tenant, advance_s=61)
    retry2 = _events(app_url, "message", count=3)[2]
    assert retry2.retry_num == 2
    # The receiver sees a request before the twin has read its answer and scheduled the next
    # retry: move the clock only once the twin has recorded the attempt.
    _attempted(slack_tenant, 3)
    slack_tenant.twin.clock(tenant=slack_tenant.tenant, advance_s=301)
    retry3 = _events(app_url, "message", count=4)[3]
    assert retry3.retry_num == 3
    assert len({r.payload["event_id"] for r in (first, retry1, retry2, retry3)}) == 1
    slack_tenant.twin.clock(tenant=slack_tenant.tenant, advance_s=3600)
    delivery = _settled(slack_tenant)
    assert delivery["state"] == "failed" and len(delivery["attempts"]) == 4


def test_retry_after_a_timeout_says_http_timeout(app_url: Receiver, alice: WebClient, general: str) -> None:
    """An app has 3 seconds to answer."""

    def slow_first(request: Received) -> tuple[int, bytes] | None:
        if request.is_event and request.retry_num is None:
            time.sleep(3.3)
        return 200, b""

    app_url.set(respond=slow_first)
    alice.chat_postMessage(channel=general, text="slow")
    _, retry = _events(app_url, "message", count=2, timeout_s=10)
    assert (retry.retry_num, retry.headers["x-slack-retry-reason"]) == (1, "http_timeout")


def test_x_slack_no_retry_stops_retries(
    app_url: Receiver, alice: WebClient, general: str, slack_tenant: Tenant
) -> None:
    app_url.set(status=500, headers={"X-Slack-No-Retry": "1"})
    alice.chat_postMessage(channel=general, text="do not retry")
    _events(app_url, "message")
    delivery = _settled(slack_tenant)
    assert delivery["state"] == "failed" and len(delivery["attempts"]) == 1


def test_duplicate_fault_delivers_the_same_event_twice(
    app_url: Receiver, alice: WebClient, general: str, slack_tenant: Tenant
) -> None:
    slack_tenant.twin.set_faults(
        {
            "rules": [
                {
                    "id": "dup",
                    "match": {"twin": "slack", "delivery": "events"},
                    "action": {"kind": "duplicate"},
                }
            ]
        },
        tenant=slack_tenant.tenant,
    )
    alice.chat_postMessage(channel=general, text="twice")
    first, second = _events(app_url, "message", count=2)
    assert first.payload["event_id"] == second.payload["event_id"]
    assert first.payload == second.payload


def test_duplicate_delivery_fault_point_targets_one_operation(
    app_url: Receiver, alice: WebClient, general: str, slack_tenant: Tenant
) -> None:
    """The fault point duplicates the events of the matched calls only (here chat.update)."""
    slack_tenant.twin.set_faults(
        {
            "rules": [
                {
                    "id": "dup-updates",
                    "match": {"twin": "slack", "operation": "chat.update"},
                    "action": {"kind": "fault_point", "point": "slack.events.duplicate_delivery"},
                }
            ]
        },
        tenant=slack_tenant.tenant,
    )
    ts = alice.chat_postMessage(channel=general, text="once")["ts"]
    alice.chat_update(channel=general, ts=ts, text="twice")
    changed = app_url.wait_for(
        lambda r: r.is_event and r.payload["event"].get("subtype") == "message_changed",
        count=2,
        timeout_s=5.0,
    )
    assert changed[0].payload["event_id"] == changed[1].payload["event_id"]
    plain = [
        r
        for r in app_url.requests
        if r.is_event and r.event_type == "message" and "subtype" not in r.payload["event"]
    ]
    assert len(plain) == 1
