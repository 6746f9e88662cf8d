"""chat.* through slack_sdk over HTTP."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from dtu.testing.plugin import Tenant
from tests.twins.slack.conftest import slack_error


def test_post_message_then_history_shows_it(bot: WebClient, general: str) -> None:
    posted = bot.chat_postMessage(channel=general, text="hello world")
    assert posted["ok"] and posted["channel"] == general
    history = bot.conversations_history(channel=general)
    assert history["messages"][0]["ts"] == posted["ts"]
    assert history["messages"][0]["text"] == "hello world"
    assert history["messages"][0]["bot_id"] == bot.auth_test()["bot_id"]


def test_post_message_without_text_fails_no_text(bot: WebClient, general: str) -> None:
    with pytest.raises(SlackApiError) as err:
        bot.chat_postMessage(channel=general)
    assert err.value.response["error"] == "no_text"


def test_post_message_unknown_channel(bot: WebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        bot.chat_postMessage(channel="C0NOTTHERE", text="x")
    assert err.value.response["error"] == "channel_not_found"


def test_ts_unique_and_increasing(bot: WebClient, general: str) -> None:
    stamps = [bot.chat_postMessage(channel=general, text=str(i))["ts"] for i in range(20)]
    assert stamps == sorted(stamps) and len(set(stamps)) == 20


def test_thread_reply_updates_parent(bot: WebClient, alice: WebClient, general: str) -> None:
    parent = bot.chat_postMessage(channel=general, text="parent")["ts"]
    alice.chat_postMessage(channel=general, text="r1", thread_ts=parent)
    last = bot.chat_postMessage(channel=general, text="r2", thread_ts=parent)["ts"]
    replies = bot.conversations_replies(channel=general, ts=parent)["messages"]
    assert [m["text"] for m in replies] == ["parent", "r1", "r2"]
    assert replies[0]["reply_count"] == 2
    assert replies[0]["latest_reply"] == last
    assert len(replies[0]["reply_users"]) == 2
    top = [m["text"] for m in bot.conversations_history(channel=general)["messages"]]
    assert "r1" not in top and "parent" in top


def test_update_edits_own_message_only(bot: WebClient, alice: WebClient, general: str) -> None:
    ts = bot.chat_postMessage(channel=general, text="draft")["ts"]
    updated = bot.chat_update(channel=general, ts=ts, text="final")
    assert updated["text"] == "final" and updated["message"]["edited"]["user"] == "U0DTUBOT01"
    assert bot.conversations_history(channel=general, limit=1)["messages"][0]["text"] == "final"
    assert slack_error(alice.chat_update, channel=general, ts=ts, text="hijack") == "cant_update_message"
    assert slack_error(bot.chat_update, channel=general, ts="1.000001", text="x") == "message_not_found"
    assert slack_error(bot.chat_update, channel=general, ts=ts, text="x" * 40_001) == "msg_too_long"


def test_post_truncates_overlong_text(bot: WebClient, general: str) -> None:
    posted = bot.chat_postMessage(channel=general, text="y" * 40_010)
    assert len(posted["message"]["text"]) == 40_000


def test_delete_own_and_admin_deletes_any(
    bot: WebClient, alice: WebClient, bob: WebClient, general: str
) -> None:
    mine = bob.chat_postMessage(channel=general, text="bob's")["ts"]
    assert slack_error(bot.chat_delete, channel=general, ts=mine) == "cant_delete_message"
    assert alice.chat_delete(channel=general, ts=mine)["ts"] == mine  # alice is a workspace admin
    assert slack_error(bob.chat_delete, channel=general, ts=mine) == "message_not_found"


def test_deleting_a_parent_with_replies_leaves_a_tombstone(bot: WebClient, general: str) -> None:
    parent = bot.chat_postMessage(channel=general, text="parent")["ts"]
    reply = bot.chat_postMessage(channel=general, text="reply", thread_ts=parent)["ts"]
    bot.chat_delete(channel=general, ts=parent)
    thread = bot.conversations_replies(channel=general, ts=parent)["messages"]
    assert thread[0]["subtype"] == "tombstone" and thread[1]["ts"] == reply
    bot.chat_delete(channel=general, ts=reply)
    assert all(m["ts"] != parent for m in bot.conversations_history(channel=general)["messages"])


def test_deleting_a_reply_updates_the_parent(bot: WebClient, alice: WebClient, general: str) -> None:
    parent = bot.chat_postMessage(channel=general, text="p")["ts"]
    bot.chat_postMessage(channel=general, text="r1", thread_ts=parent)
    r2 = alice.chat_postMessage(channel=general, text="r2", thread_ts=parent)["ts"]
    alice.chat_delete(channel=general, ts=r2)
    head = bot.conversations_replies(channel=general, ts=parent)["messages"][0]
    assert head["reply_count"] == 1 and head["reply_users"] == ["U0DTUBOT01"]


def test_reply_to_a_reply_joins_the_thread_and_broadcast_shows_in_channel(
    bot: WebClient, general: str
) -> None:
    parent = bot.chat_postMessage(channel=general, text="root")["ts"]
    first = bot.chat_postMessage(channel=general, text="a", thread_ts=parent)["ts"]
    nested = bot.chat_postMessage(channel=general, text="b", thread_ts=first)
    assert nested["message"]["thread_ts"] == parent
    bot.chat_postMessage(channel=general, text="loud", thread_ts=parent, reply_broadcast=True)
    top = bot.conversations_history(channel=general)["messages"]
    assert top[0]["text"] == "loud" and top[0]["subtype"] == "thread_broadcast"


def test_invalid_blocks_are_refused_with_pointers(bot: WebClient, general: str) -> None:
    with pytest.raises(SlackApiError) as err:
        bot.chat_postMessage(channel=general, text="x", blocks=[{"type": "section"}])
    assert err.value.response["error"] == "invalid_blocks"
    assert "json-pointer:/blocks/0/text" in err.value.response["response_metadata"]["messages"][0]
    with pytest.raises(SlackApiError) as err:
        bot.chat_postMessage(channel=general, text="x", blocks=[{"type": "divider"}] * 51)
    assert err.value.response["error"] == "invalid_blocks"
    ok = bot.chat_postMessage(
        channel=general,
        text="fallback",
        blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Go"},
                        "action_id": "go",
                        "value": "1",
                    }
                ],
            },
        ],
    )
    assert ok["message"]["blocks"][1]["elements"][0]["action_id"] == "go"


def test_post_ephemeral_needs_a_member(bot: WebClient, general: str, slack_tenant: Tenant) -> None:
    shown = bot.chat_postEphemeral(channel=general, user="U0DTUBOB01", text="only you")
    assert shown["message_ts"]
    assert all(m["text"] != "only you" for m in bot.conversations_history(channel=general)["messages"])
    stored = slack_tenant.twin.state("ephemeral", tenant=slack_tenant.tenant)
    assert stored[-1]["user_id"] == "U0DTUBOB01" and stored[-1]["text"] == "only you"
    priv = WebClient(token=slack_tenant.user_token, base_url=slack_tenant.api_url)
    cid = priv.conversations_create(name="tiny")["channel"]["id"]
    priv.conversations_invite(channel=cid, users="U0DTUBOT01")
    assert (
        slack_error(bot.chat_postEphemeral, channel=cid, user="U0DTUBOB01", text="x") == "user_not_in_channel"
    )


def test_permalink_and_me_message(bot: WebClient, alice: WebClient, general: str) -> None:
    ts = bot.chat_postMessage(channel=general, text="link me")["ts"]
    link = bot.chat_getPermalink(channel=general, message_ts=ts)["permalink"]
    assert link.endswith(f"/archives/{general}/p{ts.replace('.', '')}")
    me = alice.chat_meMessage(channel=general, text="waves")
    assert bot.conversations_history(channel=general, limit=1)["messages"][0]["subtype"] == "me_message"
    assert me["ts"]


def test_scheduled_message_posts_when_the_clock_reaches_it(
    bot: WebClient, general: str, slack_tenant: Tenant
) -> None:
    twin = slack_tenant.twin
    now = twin.clock(tenant=slack_tenant.tenant)["now"]
    scheduled = bot.chat_scheduleMessage(channel=general, text="later", post_at=int(now) + 3600)
    listed = bot.chat_scheduledMessages_list()["scheduled_messages"]
    assert [s["id"] for s in listed] == [scheduled["scheduled_message_id"]]
    assert all(m["text"] != "later" for m in bot.conversations_history(channel=general)["messages"])
    twin.clock(tenant=slack_tenant.tenant, advance_s=3601)
    assert bot.conversations_history(channel=general, limit=1)["messages"][0]["text"] == "later"
    assert bot.chat_scheduledMessages_list()["scheduled_messages"] == []


def test_scheduled_message_errors_and_delete(bot: WebClient, general: str, slack_tenant: Tenant) -> None:
    now = int(slack_tenant.twin.clock(tenant=slack_tenant.tenant)["now"])
    assert (
        slack_error(bot.chat_scheduleMessage, channel=general, text="x", post_at=now - 10) == "time_in_past"
    )
    assert (
        slack_error(bot.chat_scheduleMessage, channel=general, text="x", post_at=now + 121 * 86400)
        == "time_too_far"
    )
    sid = bot.chat_scheduleMessage(channel=general, text="x", post_at=now + 600)["scheduled_message_id"]
    bot.chat_deleteScheduledMessage(channel=general, scheduled_message_id=sid)
    assert (
        slack_error(bot.chat_deleteScheduledMessage, channel=general, scheduled_message_id=sid)
        == "invalid_scheduled_message_id"
    )


def test_bot_without_chat_write_public_needs_membership(slack_tenant: Tenant) -> None:
    slack_tenant.twin.control(
        "POST",
        "/seed",
        params={"tenant": slack_tenant.tenant},
        json={
            "tokens": [
                {
                    "token": "xoxb-narrow",
                    "kind": "bot",
                    "user": "U0DTUBOT01",
                    "app": "A0DTUAPP01",
                    "scopes": ["chat:write", "channels:read"],
                }
            ]
        },
    )
    narrow = WebClient(token="xoxb-narrow", base_url=slack_tenant.api_url)
    random_id = next(c["id"] for c in narrow.conversations_list()["channels"] if c["name"] == "random")
    assert slack_error(narrow.chat_postMessage, channel=random_id, text="x") == "not_in_channel"
    with pytest.raises(SlackApiError) as err:
        narrow.conversations_history(channel=random_id)
    assert err.value.response["error"] == "missing_scope"
    assert err.value.response["needed"] and "chat:write" in err.value.response["provided"]
