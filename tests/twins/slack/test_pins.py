"""pins.* through slack_sdk over HTTP."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient

from dtu.testing.plugin import Tenant
from tests.twins.slack.conftest import recorded_events, seed_request_url, slack_error


@pytest.fixture
def msg(alice: WebClient, general: str) -> str:
    return str(alice.chat_postMessage(channel=general, text="pin me")["ts"])


def test_add_then_list(bot: WebClient, general: str, msg: str) -> None:
    bot.pins_add(channel=general, timestamp=msg)
    items = bot.pins_list(channel=general)["items"]
    assert len(items) == 1
    item = items[0]
    assert item["type"] == "message" and item["channel"] == general and item["created_by"] == "U0DTUBOT01"
    assert isinstance(item["created"], int)
    assert item["message"]["ts"] == msg and item["message"]["text"] == "pin me"
    assert item["message"]["pinned_to"] == [general]
    assert item["message"]["permalink"].endswith("/p" + msg.replace(".", ""))


def test_list_newest_pin_first(slack_tenant: Tenant, alice: WebClient, general: str) -> None:
    first = alice.chat_postMessage(channel=general, text="one")["ts"]
    second = alice.chat_postMessage(channel=general, text="two")["ts"]
    alice.pins_add(channel=general, timestamp=second)
    slack_tenant.twin.clock(tenant=slack_tenant.tenant, advance_s=5)
    alice.pins_add(channel=general, timestamp=first)
    assert [i["message"]["ts"] for i in alice.pins_list(channel=general)["items"]] == [first, second]


def test_pinned_message_shows_pinned_to_in_history(bot: WebClient, general: str, msg: str) -> None:
    bot.pins_add(channel=general, timestamp=msg)
    top = bot.conversations_history(channel=general)["messages"][0]
    assert top["ts"] == msg and top["pinned_to"] == [general]


def test_add_twice_already_pinned(alice: WebClient, general: str, msg: str) -> None:
    alice.pins_add(channel=general, timestamp=msg)
    assert slack_error(alice.pins_add, channel=general, timestamp=msg) == "already_pinned"


def test_add_unknown_message(alice: WebClient, general: str) -> None:
    assert slack_error(alice.pins_add, channel=general, timestamp="1500000000.000001") == "message_not_found"


def test_add_without_timestamp_no_item_specified(alice: WebClient, general: str) -> None:
    assert slack_error(alice.pins_add, channel=general, timestamp="") == "no_item_specified"


def test_add_bad_timestamp(alice: WebClient, general: str) -> None:
    assert slack_error(alice.pins_add, channel=general, timestamp="not-a-ts") == "bad_timestamp"


def test_add_unknown_channel(alice: WebClient, msg: str) -> None:
    assert slack_error(alice.pins_add, channel="C0NOTTHERE", timestamp=msg) == "channel_not_found"


def test_bot_outside_the_channel_not_in_channel(alice: WebClient, bot: WebClient) -> None:
    random = next(c["id"] for c in alice.conversations_list()["channels"] if c["name"] == "random")
    ts = alice.chat_postMessage(channel=random, text="x")["ts"]
    assert slack_error(bot.pins_add, channel=random, timestamp=ts) == "not_in_channel"


def test_remove(alice: WebClient, general: str, msg: str) -> None:
    alice.pins_add(channel=general, timestamp=msg)
    alice.pins_remove(channel=general, timestamp=msg)
    assert alice.pins_list(channel=general)["items"] == []


def test_remove_unpinned_no_pin(alice: WebClient, general: str, msg: str) -> None:
    assert slack_error(alice.pins_remove, channel=general, timestamp=msg) == "no_pin"


def test_remove_unknown_message(alice: WebClient, general: str) -> None:
    assert (
        slack_error(alice.pins_remove, channel=general, timestamp="1500000000.000001") == "message_not_found"
    )


def test_list_private_channel_hidden_from_outsiders(alice: WebClient, bob: WebClient) -> None:
    secret = alice.conversations_create(name="pins-secret", is_private=True)["channel"]["id"]
    assert alice.pins_list(channel=secret)["items"] == []
    assert slack_error(bob.pins_list, channel=secret) == "channel_not_found"


def test_deleted_message_loses_its_pin(alice: WebClient, general: str, msg: str) -> None:
    alice.pins_add(channel=general, timestamp=msg)
    alice.chat_delete(channel=general, ts=msg)
    assert alice.pins_list(channel=general)["items"] == []


def test_add_and_remove_raise_events(slack_tenant: Tenant, alice: WebClient, general: str, msg: str) -> None:
    seed_request_url(slack_tenant, ["pin_added", "pin_removed"])
    alice.pins_add(channel=general, timestamp=msg)
    alice.pins_remove(channel=general, timestamp=msg)
    added, removed = recorded_events(slack_tenant, "pin_added"), recorded_events(slack_tenant, "pin_removed")
    assert len(added) == 1 and len(removed) == 1
    assert added[0]["user"] == "U0DTUALICE" and added[0]["channel_id"] == general
    assert added[0]["item"]["type"] == "message" and added[0]["item"]["message"]["ts"] == msg
    assert added[0]["item_user"] == "U0DTUALICE" and added[0]["pin_count"] == 1
    assert removed[0]["channel_id"] == general and removed[0]["has_pins"] is False
    assert removed[0]["item"]["message"]["ts"] == msg and removed[0]["pin_count"] == 0
