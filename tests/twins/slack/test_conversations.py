"""conversations.* through slack_sdk over HTTP."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from dtu.testing.plugin import Tenant
from tests.twins.slack.conftest import slack_error

BOB, CAROL, BOT = "U0DTUBOB01", "U0DTUCAROL", "U0DTUBOT01"


def test_create_then_info_and_list(alice: WebClient) -> None:
    made = alice.conversations_create(name="proj-apollo")["channel"]
    assert made["name"] == "proj-apollo" and made["is_channel"] and made["is_member"]
    assert made["id"].startswith("C")
    info = alice.conversations_info(channel=made["id"], include_num_members=True)["channel"]
    assert info["num_members"] == 1 and info["creator"] == "U0DTUALICE"
    names = [c["name"] for c in alice.conversations_list()["channels"]]
    assert "proj-apollo" in names and "general" in names


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "invalid_name_required"),
        ("x" * 81, "invalid_name_maxlength"),
        ("Has Caps", "invalid_name_specials"),
        ("bad!name", "invalid_name_specials"),
        ("general", "name_taken"),
    ],
)
def test_create_rejects_bad_names(alice: WebClient, name: str, error: str) -> None:
    assert slack_error(alice.conversations_create, name=name) == error


def test_private_channel_is_invisible_to_non_members(alice: WebClient, bob: WebClient) -> None:
    secret = alice.conversations_create(name="secret", is_private=True)["channel"]["id"]
    assert slack_error(bob.conversations_info, channel=secret) == "channel_not_found"
    listed = [c["id"] for c in bob.conversations_list(types="public_channel,private_channel")["channels"]]
    assert secret not in listed
    alice.conversations_invite(channel=secret, users=BOB)
    assert bob.conversations_info(channel=secret)["channel"]["is_private"] is True


def test_list_paginates_with_cursor_and_types(alice: WebClient) -> None:
    for i in range(7):
        alice.conversations_create(name=f"page-{i}")
    seen: list[str] = []
    cursor = None
    while True:
        page = alice.conversations_list(limit=3, cursor=cursor)
        seen += [c["name"] for c in page["channels"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 9  # general, random, page-0..6
    assert slack_error(alice.conversations_list, types="nonsense") == "invalid_types"
    assert slack_error(alice.conversations_list, cursor="garbage") == "invalid_cursor"


def test_history_bounds_and_paging(bot: WebClient, general: str) -> None:
    stamps = [bot.chat_postMessage(channel=general, text=f"m{i}")["ts"] for i in range(5)]
    window = bot.conversations_history(channel=general, oldest=stamps[1], latest=stamps[3])["messages"]
    assert [m["text"] for m in window] == ["m2"]
    inclusive = bot.conversations_history(channel=general, oldest=stamps[1], latest=stamps[3], inclusive=True)
    assert [m["text"] for m in inclusive["messages"]] == ["m3", "m2", "m1"]
    first = bot.conversations_history(channel=general, limit=2)
    assert first["has_more"] is True and [m["text"] for m in first["messages"]] == ["m4", "m3"]
    second = bot.conversations_history(
        channel=general, limit=2, cursor=first["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in second["messages"]] == ["m2", "m1"]


def test_bot_must_be_member_to_read_history(bot: WebClient, alice: WebClient) -> None:
    random_id = next(c["id"] for c in alice.conversations_list()["channels"] if c["name"] == "random")
    assert slack_error(bot.conversations_history, channel=random_id) == "not_in_channel"
    bot.conversations_join(channel=random_id)
    assert bot.conversations_history(channel=random_id)["ok"]


def test_join_posts_channel_join_and_warns_when_already_in(bot: WebClient, alice: WebClient) -> None:
    random_id = next(c["id"] for c in alice.conversations_list()["channels"] if c["name"] == "random")
    joined = bot.conversations_join(channel=random_id)
    assert joined["channel"]["is_member"] is True
    again = bot.conversations_join(channel=random_id)
    assert again["warning"] == "already_in_channel"
    latest = alice.conversations_history(channel=random_id, limit=1)["messages"][0]
    assert latest["subtype"] == "channel_join" and latest["user"] == BOT


def test_invite_kick_members(alice: WebClient) -> None:
    cid = alice.conversations_create(name="team")["channel"]["id"]
    alice.conversations_invite(channel=cid, users=f"{BOB},{CAROL}")
    assert sorted(alice.conversations_members(channel=cid)["members"]) == sorted(["U0DTUALICE", BOB, CAROL])
    assert slack_error(alice.conversations_invite, channel=cid, users=BOB) == "already_in_channel"
    assert slack_error(alice.conversations_invite, channel=cid, users="U0NOBODY00") == "user_not_found"
    assert slack_error(alice.conversations_invite, channel=cid, users="U0DTUALICE") == "cant_invite_self"
    alice.conversations_kick(channel=cid, user=BOB)
    assert BOB not in alice.conversations_members(channel=cid)["members"]
    assert slack_error(alice.conversations_kick, channel=cid, user=BOB) == "not_in_channel"
    assert slack_error(alice.conversations_kick, channel=cid, user="U0DTUALICE") == "cant_kick_self"


def test_members_paginate(alice: WebClient) -> None:
    cid = alice.conversations_create(name="crowd")["channel"]["id"]
    alice.conversations_invite(channel=cid, users=f"{BOB},{CAROL},{BOT}")
    first = alice.conversations_members(channel=cid, limit=2)
    rest = alice.conversations_members(channel=cid, limit=2, cursor=first["response_metadata"]["next_cursor"])
    assert len(first["members"]) == 2 and len(rest["members"]) == 2
    assert not set(first["members"]) & set(rest["members"])
    assert rest["response_metadata"]["next_cursor"] == ""


def test_archive_blocks_posting_and_unarchive_restores(alice: WebClient) -> None:
    cid = alice.conversations_create(name="old-project")["channel"]["id"]
    alice.conversations_archive(channel=cid)
    assert alice.conversations_info(channel=cid)["channel"]["is_archived"] is True
    assert slack_error(alice.chat_postMessage, channel=cid, text="x") == "is_archived"
    assert slack_error(alice.conversations_archive, channel=cid) == "already_archived"
    alice.conversations_unarchive(channel=cid)
    assert alice.chat_postMessage(channel=cid, text="back")["ok"]
    assert slack_error(alice.conversations_unarchive, channel=cid) == "not_archived"
    excluded = [c["id"] for c in alice.conversations_list(exclude_archived=True)["channels"]]
    assert cid in excluded


def test_general_cannot_be_left_archived_or_kicked_from(alice: WebClient, general: str) -> None:
    assert slack_error(alice.conversations_archive, channel=general) == "cant_archive_general"
    assert slack_error(alice.conversations_leave, channel=general) == "cant_leave_general"
    assert slack_error(alice.conversations_kick, channel=general, user=BOB) == "cant_kick_from_general"


def test_leave_when_not_member(alice: WebClient, bob: WebClient) -> None:
    cid = alice.conversations_create(name="solo")["channel"]["id"]
    with pytest.raises(SlackApiError) as err:
        bob.conversations_leave(channel=cid)
    assert err.value.response["not_in_channel"] is True
    bob.conversations_join(channel=cid)
    assert bob.conversations_leave(channel=cid)["ok"]


def test_rename_topic_purpose(alice: WebClient) -> None:
    cid = alice.conversations_create(name="before")["channel"]["id"]
    renamed = alice.conversations_rename(channel=cid, name="after")["channel"]
    assert renamed["name"] == "after" and renamed["previous_names"] == ["before"]
    assert slack_error(alice.conversations_rename, channel=cid, name="general") == "name_taken"
    topic = alice.conversations_setTopic(channel=cid, topic="Ship it")["channel"]["topic"]
    assert topic["value"] == "Ship it" and topic["creator"] == "U0DTUALICE"
    purpose = alice.conversations_setPurpose(channel=cid, purpose="Why we exist")["channel"]["purpose"]
    assert purpose["value"] == "Why we exist"
    subtypes = [m.get("subtype") for m in alice.conversations_history(channel=cid)["messages"]]
    assert {"channel_name", "channel_topic", "channel_purpose"} <= set(subtypes)
    assert slack_error(alice.conversations_setTopic, channel=cid, topic="x" * 251) == "too_long"


def test_open_im_and_mpim_and_close(bot: WebClient, alice: WebClient) -> None:
    im = bot.conversations_open(users=BOB)["channel"]["id"]
    assert im.startswith("D")
    again = bot.conversations_open(users=BOB, return_im=True)
    assert again["channel"]["id"] == im and again["already_open"] is True
    assert again["channel"]["is_im"] is True and again["channel"]["user"] == BOB
    bot.chat_postMessage(channel=im, text="psst")
    assert bot.conversations_history(channel=im)["messages"][0]["text"] == "psst"
    mpim = alice.conversations_open(users=f"{BOB},{CAROL}")["channel"]["id"]
    assert alice.conversations_info(channel=mpim)["channel"]["is_mpim"] is True
    assert sorted(alice.conversations_members(channel=mpim)["members"]) == sorted(["U0DTUALICE", BOB, CAROL])
    assert bot.conversations_close(channel=im)["ok"]
    assert bot.conversations_close(channel=im)["already_closed"] is True
    assert slack_error(alice.api_call, api_method="conversations.open") == "users_list_not_supplied"


def test_post_to_user_id_opens_dm(bot: WebClient) -> None:
    posted = bot.chat_postMessage(channel=BOB, text="hello bob")
    assert posted["channel"].startswith("D")
    assert bot.conversations_open(users=BOB)["channel"]["id"] == posted["channel"]


def test_mark_moves_read_cursor(alice: WebClient, general: str) -> None:
    ts = alice.chat_postMessage(channel=general, text="read me")["ts"]
    alice.conversations_mark(channel=general, ts=ts)
    assert alice.conversations_info(channel=general)["channel"]["last_read"] == ts
    assert slack_error(alice.conversations_mark, channel=general, ts="nope") == "invalid_timestamp"


def test_users_conversations(bot: WebClient, alice: WebClient, slack_tenant: Tenant) -> None:
    mine = [c["name"] for c in bot.users_conversations()["channels"]]
    assert mine == ["general"]
    alice.conversations_create(name="private-ops", is_private=True)
    listed = [
        c["name"] for c in alice.users_conversations(types="public_channel,private_channel")["channels"]
    ]
    assert "private-ops" in listed and "general" in listed


def test_replies_of_unknown_thread(bot: WebClient, general: str) -> None:
    assert slack_error(bot.conversations_replies, channel=general, ts="1.000001") == "thread_not_found"
