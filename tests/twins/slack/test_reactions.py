"""reactions.* through slack_sdk over HTTP."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from dtu.testing.plugin import Tenant
from tests.twins.slack.conftest import recorded_events, seed_request_url, slack_error


@pytest.fixture
def msg(bot: WebClient, general: str) -> str:
    return str(bot.chat_postMessage(channel=general, text="react to me")["ts"])


def test_add_then_get_shows_reaction(alice: WebClient, bob: WebClient, general: str, msg: str) -> None:
    alice.reactions_add(channel=general, timestamp=msg, name="thumbsup")
    bob.reactions_add(channel=general, timestamp=msg, name="thumbsup")
    bob.reactions_add(channel=general, timestamp=msg, name="eyes")
    got = alice.reactions_get(channel=general, timestamp=msg)
    assert got["type"] == "message" and got["channel"] == general
    assert got["message"]["reactions"] == [
        {"name": "thumbsup", "users": ["U0DTUALICE", "U0DTUBOB01"], "count": 2},
        {"name": "eyes", "users": ["U0DTUBOB01"], "count": 1},
    ]
    assert got["message"]["permalink"].endswith("/archives/" + general + "/p" + msg.replace(".", ""))


def test_reactions_show_in_history(bot: WebClient, alice: WebClient, general: str, msg: str) -> None:
    alice.reactions_add(channel=general, timestamp=msg, name="tada")
    top = bot.conversations_history(channel=general)["messages"][0]
    assert top["ts"] == msg and top["reactions"] == [{"name": "tada", "users": ["U0DTUALICE"], "count": 1}]


def test_colons_and_skin_tone_accepted(alice: WebClient, general: str, msg: str) -> None:
    alice.reactions_add(channel=general, timestamp=msg, name=":wave::skin-tone-3:")
    names = [r["name"] for r in alice.reactions_get(channel=general, timestamp=msg)["message"]["reactions"]]
    assert names == ["wave::skin-tone-3"]


def test_add_twice_already_reacted(alice: WebClient, general: str, msg: str) -> None:
    alice.reactions_add(channel=general, timestamp=msg, name="thumbsup")
    assert (
        slack_error(alice.reactions_add, channel=general, timestamp=msg, name="thumbsup") == "already_reacted"
    )


def test_add_invalid_name(alice: WebClient, general: str, msg: str) -> None:
    assert (
        slack_error(alice.reactions_add, channel=general, timestamp=msg, name="Not An Emoji!")
        == "invalid_name"
    )


def test_add_unknown_message(alice: WebClient, general: str) -> None:
    assert (
        slack_error(alice.reactions_add, channel=general, timestamp="1500000000.000001", name="thumbsup")
        == "message_not_found"
    )


def test_add_bad_timestamp(alice: WebClient, general: str) -> None:
    assert (
        slack_error(alice.reactions_add, channel=general, timestamp="yesterday", name="thumbsup")
        == "bad_timestamp"
    )


def test_add_unknown_channel(alice: WebClient, msg: str) -> None:
    assert (
        slack_error(alice.reactions_add, channel="C0NOTTHERE", timestamp=msg, name="thumbsup")
        == "channel_not_found"
    )


def test_add_in_archived_channel(alice: WebClient) -> None:
    channel = alice.conversations_create(name="old-stuff")["channel"]["id"]
    ts = alice.chat_postMessage(channel=channel, text="hi")["ts"]
    alice.conversations_archive(channel=channel)
    assert slack_error(alice.reactions_add, channel=channel, timestamp=ts, name="thumbsup") == "is_archived"


def test_add_too_many_reactions_per_person(alice: WebClient, general: str, msg: str) -> None:
    for i in range(23):
        alice.reactions_add(channel=general, timestamp=msg, name=f"emoji_{i}")
    assert (
        slack_error(alice.reactions_add, channel=general, timestamp=msg, name="one_more")
        == "too_many_reactions"
    )


def test_remove_own_reaction(alice: WebClient, general: str, msg: str) -> None:
    alice.reactions_add(channel=general, timestamp=msg, name="thumbsup")
    alice.reactions_remove(channel=general, timestamp=msg, name="thumbsup")
    assert "reactions" not in alice.reactions_get(channel=general, timestamp=msg)["message"]


def test_remove_someone_elses_reaction_no_reaction(
    alice: WebClient, bob: WebClient, general: str, msg: str
) -> None:
    alice.reactions_add(channel=general, timestamp=msg, name="thumbsup")
    assert slack_error(bob.reactions_remove, channel=general, timestamp=msg, name="thumbsup") == "no_reaction"


def test_get_without_item_no_item_specified(alice: WebClient) -> None:
    assert slack_error(alice.reactions_get) == "no_item_specified"


def test_get_full_lists_every_user(slack_tenant: Tenant, general: str, msg: str) -> None:
    people = [{"id": f"U0PEOPLE{i:02d}", "name": f"person{i}"} for i in range(52)]
    tokens = [
        {"token": f"xoxp-{slack_tenant.tenant}-{i}", "kind": "user", "user": p["id"]}
        for i, p in enumerate(people)
    ]
    slack_tenant.twin.control(
        "POST",
        "/seed",
        params={"tenant": slack_tenant.tenant},
        json={
            "users": people,
            "tokens": tokens,
            "channels": [
                {"id": general, "name": "general", "is_general": True, "members": [p["id"] for p in people]}
            ],
        },
    )
    for tok in tokens:
        WebClient(token=tok["token"], base_url=slack_tenant.api_url).reactions_add(
            channel=general, timestamp=msg, name="fire"
        )
    client = WebClient(token=slack_tenant.user_token, base_url=slack_tenant.api_url)
    short = client.reactions_get(channel=general, timestamp=msg)["message"]["reactions"][0]
    full = client.reactions_get(channel=general, timestamp=msg, full=True)["message"]["reactions"][0]
    assert short["count"] == full["count"] == 52
    assert len(short["users"]) < 52 and len(full["users"]) == 52


def test_list_newest_first_with_cursor(alice: WebClient, bot: WebClient, general: str) -> None:
    stamps = [bot.chat_postMessage(channel=general, text=f"m{i}")["ts"] for i in range(3)]
    for ts in stamps:
        alice.reactions_add(channel=general, timestamp=ts, name="eyes")
    first = alice.reactions_list(limit=2)
    assert [i["message"]["ts"] for i in first["items"]] == [stamps[2], stamps[1]]
    assert first["items"][0]["type"] == "message" and first["items"][0]["channel"] == general
    cursor = first["response_metadata"]["next_cursor"]
    second = alice.reactions_list(limit=2, cursor=cursor)
    assert [i["message"]["ts"] for i in second["items"]] == [stamps[0]]
    assert second["response_metadata"]["next_cursor"] == ""


def test_list_legacy_paging(alice: WebClient, bot: WebClient, general: str) -> None:
    for i in range(3):
        ts = bot.chat_postMessage(channel=general, text=f"m{i}")["ts"]
        alice.reactions_add(channel=general, timestamp=ts, name="eyes")
    page2 = alice.reactions_list(count=2, page=2)
    assert page2["paging"] == {"count": 2, "total": 3, "page": 2, "pages": 2}
    assert len(page2["items"]) == 1


def test_list_other_user_and_unknown_user(alice: WebClient, bob: WebClient, general: str, msg: str) -> None:
    bob.reactions_add(channel=general, timestamp=msg, name="heart")
    items = alice.reactions_list(user="U0DTUBOB01")["items"]
    assert [i["message"]["ts"] for i in items] == [msg]
    assert alice.reactions_list()["items"] == []
    assert slack_error(alice.reactions_list, user="U0NOBODY00") == "user_not_found"


def test_list_hides_private_channels_from_outsiders(alice: WebClient, bob: WebClient) -> None:
    secret = alice.conversations_create(name="secret", is_private=True)["channel"]["id"]
    ts = alice.chat_postMessage(channel=secret, text="shh")["ts"]
    alice.reactions_add(channel=secret, timestamp=ts, name="shushing_face")
    assert len(alice.reactions_list()["items"]) == 1
    assert bob.reactions_list(user="U0DTUALICE")["items"] == []


def test_token_without_write_scope_missing_scope(slack_tenant: Tenant, general: str, msg: str) -> None:
    slack_tenant.twin.control(
        "POST",
        "/seed",
        params={"tenant": slack_tenant.tenant},
        json={
            "tokens": [
                {
                    "token": f"xoxp-{slack_tenant.tenant}-ro",
                    "kind": "user",
                    "user": "U0DTUCAROL",
                    "scopes": ["reactions:read"],
                }
            ]
        },
    )
    client = WebClient(token=f"xoxp-{slack_tenant.tenant}-ro", base_url=slack_tenant.api_url)
    with pytest.raises(SlackApiError) as err:
        client.reactions_add(channel=general, timestamp=msg, name="thumbsup")
    assert err.value.response["error"] == "missing_scope"
    assert err.value.response["needed"] == "reactions:write"


def test_add_and_remove_raise_events(
    slack_tenant: Tenant, alice: WebClient, bot: WebClient, general: str
) -> None:
    seed_request_url(slack_tenant, ["reaction_added", "reaction_removed"])
    ts = bot.chat_postMessage(channel=general, text="watch me")["ts"]
    alice.reactions_add(channel=general, timestamp=ts, name="thumbsup")
    alice.reactions_remove(channel=general, timestamp=ts, name="thumbsup")
    added, removed = (
        recorded_events(slack_tenant, "reaction_added"),
        recorded_events(slack_tenant, "reaction_removed"),
    )
    assert len(added) == 1 and len(removed) == 1
    item = {"type": "message", "channel": general, "ts": ts}
    assert added[0]["user"] == "U0DTUALICE" and added[0]["reaction"] == "thumbsup"
    assert added[0]["item_user"] == "U0DTUBOT01" and added[0]["item"] == item
    assert removed[0]["reaction"] == "thumbsup" and removed[0]["item"] == item and removed[0]["event_ts"]


def test_no_event_where_the_bot_is_not_a_member(slack_tenant: Tenant, alice: WebClient) -> None:
    seed_request_url(slack_tenant, ["reaction_added"])
    random = next(c["id"] for c in alice.conversations_list()["channels"] if c["name"] == "random")
    ts = alice.chat_postMessage(channel=random, text="bot cannot see")["ts"]
    alice.reactions_add(channel=random, timestamp=ts, name="thumbsup")
    assert recorded_events(slack_tenant, "reaction_added") == []
