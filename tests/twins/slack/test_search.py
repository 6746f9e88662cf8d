"""search.messages through slack_sdk over HTTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk import WebClient

from dtu.testing.plugin import Tenant
from tests.twins.slack.conftest import slack_error


def _texts(client: WebClient, query: str, **kwargs: Any) -> list[str]:
    return [m["text"] for m in client.search_messages(query=query, **kwargs)["messages"]["matches"]]


@pytest.fixture
def random(alice: WebClient) -> str:
    return next(str(c["id"]) for c in alice.conversations_list()["channels"] if c["name"] == "random")


def test_bot_token_not_allowed(bot: WebClient) -> None:
    assert slack_error(bot.search_messages, query="anything") == "not_allowed_token_type"


def test_empty_query_no_query(alice: WebClient) -> None:
    assert slack_error(alice.search_messages, query="") == "no_query"


def test_match_shape(slack_tenant: Tenant, alice: WebClient, bob: WebClient, general: str) -> None:
    ts = bob.chat_postMessage(channel=general, text="The meaning of life is 42")["ts"]
    found = alice.search_messages(query="meaning")
    assert found["query"] == "meaning"
    match = found["messages"]["matches"][0]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", match["iid"])
    assert match["team"] == slack_tenant.team_id and match["type"] == "message"
    assert match["user"] == "U0DTUBOB01" and match["username"] == "bob"
    assert match["ts"] == ts and match["text"] == "The meaning of life is 42"
    assert match["permalink"].endswith(f"/archives/{general}/p{ts.replace('.', '')}")
    channel = match["channel"]
    assert channel["id"] == general and channel["name"] == "general"
    assert channel["is_channel"] is True and channel["is_private"] is False and channel["is_mpim"] is False
    assert found["messages"]["total"] == 1


def test_all_words_case_insensitive(alice: WebClient, general: str) -> None:
    for text in ("Deploy the API today", "deploy tomorrow", "API docs"):
        alice.chat_postMessage(channel=general, text=text)
    assert _texts(alice, "api DEPLOY") == ["Deploy the API today"]


def test_whole_words_only(alice: WebClient, general: str) -> None:
    alice.chat_postMessage(channel=general, text="concatenate the strings")
    alice.chat_postMessage(channel=general, text="my cat sleeps")
    alice.chat_postMessage(channel=general, text="category theory")
    assert _texts(alice, "cat") == ["my cat sleeps"]
    assert sorted(_texts(alice, "cat*")) == ["category theory", "my cat sleeps"]


def test_quoted_phrase(alice: WebClient, general: str) -> None:
    alice.chat_postMessage(channel=general, text="please review the release notes")
    alice.chat_postMessage(channel=general, text="notes on the release")
    assert _texts(alice, '"release notes"') == ["please review the release notes"]


def test_excluded_word(alice: WebClient, general: str) -> None:
    alice.chat_postMessage(channel=general, text="lunch at noon")
    alice.chat_postMessage(channel=general, text="lunch cancelled")
    assert _texts(alice, "lunch -cancelled") == ["lunch at noon"]


def test_in_channel_forms(alice: WebClient, general: str, random: str) -> None:
    alice.chat_postMessage(channel=general, text="status update general")
    alice.chat_postMessage(channel=random, text="status update random")
    for modifier in ("in:#random", "in:random", f"in:<#{random}>", f"in:<#{random}|random>", f"in:{random}"):
        assert _texts(alice, f"status {modifier}") == ["status update random"], modifier


def test_in_unknown_channel_finds_nothing(alice: WebClient, general: str) -> None:
    alice.chat_postMessage(channel=general, text="status")
    assert alice.search_messages(query="status in:#nowhere")["messages"]["total"] == 0


def test_from_user_forms(alice: WebClient, bob: WebClient, general: str) -> None:
    alice.chat_postMessage(channel=general, text="standup notes from alice")
    bob.chat_postMessage(channel=general, text="standup notes from bob")
    for modifier in ("from:@bob", "from:bob", "from:<@U0DTUBOB01>", "from:U0DTUBOB01"):
        assert _texts(alice, f"standup {modifier}") == ["standup notes from bob"], modifier
    assert _texts(bob, "standup from:me") == ["standup notes from bob"]


def test_modifiers_alone(alice: WebClient, bob: WebClient, general: str, random: str) -> None:
    bob.chat_postMessage(channel=general, text="one")
    bob.chat_postMessage(channel=random, text="two")
    assert _texts(alice, "from:@bob in:#general") == ["one"]


def test_date_modifiers_use_the_searchers_day(slack_tenant: Tenant, alice: WebClient, general: str) -> None:
    # 05:00 UTC on 16 Jan is still 15 Jan in Los Angeles, alice's time zone.
    evening = datetime(2030, 1, 16, 5, 0, tzinfo=UTC).timestamp()
    slack_tenant.twin.clock(tenant=slack_tenant.tenant, at=evening)
    alice.chat_postMessage(channel=general, text="report one")
    slack_tenant.twin.clock(tenant=slack_tenant.tenant, advance_s=2 * 86400)
    alice.chat_postMessage(channel=general, text="report two")
    assert _texts(alice, "report on:2030-01-15") == ["report one"]
    assert _texts(alice, "report before:2030-01-16") == ["report one"]
    assert _texts(alice, "report after:2030-01-15") == ["report two"]
    assert _texts(alice, "report during:2030-01", sort="timestamp", sort_dir="asc") == [
        "report one",
        "report two",
    ]


def test_private_conversations_only_for_members(alice: WebClient, bob: WebClient, general: str) -> None:
    secret = alice.conversations_create(name="search-secret", is_private=True)["channel"]["id"]
    alice.chat_postMessage(channel=secret, text="launch codes")
    bob.chat_postMessage(channel=general, text="launch party")
    assert sorted(_texts(alice, "launch")) == ["launch codes", "launch party"]
    assert _texts(bob, "launch") == ["launch party"]


def test_direct_messages_only_for_their_members(
    slack_tenant: Tenant, alice: WebClient, bob: WebClient
) -> None:
    dm = alice.conversations_open(users="U0DTUBOB01")["channel"]["id"]
    alice.chat_postMessage(channel=dm, text="dinner tonight?")
    match = bob.search_messages(query="dinner in:@alice")["messages"]["matches"][0]
    assert match["channel"]["id"] == dm and match["channel"]["is_im"] is True
    assert match["channel"]["name"] == "U0DTUALICE"
    carol = WebClient(token=slack_tenant.user_tokens["carol@example.com"], base_url=slack_tenant.api_url)
    assert carol.search_messages(query="dinner")["messages"]["total"] == 0


def test_ephemeral_never_found(bot: WebClient, alice: WebClient, general: str) -> None:
    bot.chat_postEphemeral(channel=general, user="U0DTUALICE", text="secret whisper")
    assert alice.search_messages(query="whisper")["messages"]["total"] == 0


def test_sort_by_timestamp_both_ways(alice: WebClient, general: str) -> None:
    for text in ("alpha note", "beta note", "gamma note"):
        alice.chat_postMessage(channel=general, text=text)
    assert _texts(alice, "note", sort="timestamp") == ["gamma note", "beta note", "alpha note"]
    assert _texts(alice, "note", sort="timestamp", sort_dir="asc") == [
        "alpha note",
        "beta note",
        "gamma note",
    ]


def test_sort_by_score(alice: WebClient, general: str) -> None:
    alice.chat_postMessage(channel=general, text="bug bug bug in prod")
    alice.chat_postMessage(channel=general, text="one bug")
    assert _texts(alice, "bug") == ["bug bug bug in prod", "one bug"]


def test_legacy_paging(alice: WebClient, general: str) -> None:
    for i in range(5):
        alice.chat_postMessage(channel=general, text=f"ticket {i}")
    page = alice.search_messages(query="ticket", count=2, page=2, sort="timestamp")["messages"]
    assert [m["text"] for m in page["matches"]] == ["ticket 2", "ticket 1"]
    assert page["paging"] == {"count": 2, "total": 5, "page": 2, "pages": 3}
    assert page["pagination"] == {
        "total_count": 5,
        "page": 2,
        "per_page": 2,
        "page_count": 3,
        "first": 3,
        "last": 4,
    }
    last = alice.search_messages(query="ticket", count=2, page=3)["messages"]
    assert len(last["matches"]) == 1 and last["pagination"]["last"] == 5


def test_count_defaults_to_20_and_caps_at_100(alice: WebClient, general: str) -> None:
    alice.chat_postMessage(channel=general, text="x")
    assert alice.search_messages(query="x")["messages"]["paging"]["count"] == 20
    assert alice.search_messages(query="x", count=500)["messages"]["paging"]["count"] == 100


def test_cursor_paging(alice: WebClient, general: str) -> None:
    for i in range(3):
        alice.chat_postMessage(channel=general, text=f"item {i}")
    first = alice.search_messages(query="item", count=2, cursor="*", sort="timestamp")["messages"]
    assert [m["text"] for m in first["matches"]] == ["item 2", "item 1"]
    cursor = first["pagination"]["next_cursor"]
    second = alice.search_messages(query="item", count=2, cursor=cursor, sort="timestamp")["messages"]
    assert [m["text"] for m in second["matches"]] == ["item 0"]
    assert second["pagination"]["next_cursor"] == ""


def test_has_pin(alice: WebClient, general: str) -> None:
    ts = alice.chat_postMessage(channel=general, text="decision made")["ts"]
    alice.chat_postMessage(channel=general, text="decision pending")
    alice.pins_add(channel=general, timestamp=ts)
    assert _texts(alice, "decision has:pin") == ["decision made"]
