"""chat.* through slack_sdk over HTTP."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError


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
