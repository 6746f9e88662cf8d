"""bookmarks.* through slack_sdk over HTTP."""

from __future__ import annotations

import re

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.twins.slack.conftest import slack_error


def test_add_returns_the_bookmark(bot: WebClient, general: str) -> None:
    made = bot.bookmarks_add(
        channel_id=general, title="Runbook", type="link", link="https://example.com/run", emoji=":books:"
    )["bookmark"]
    assert re.fullmatch(r"Bk[0-9A-Z]{10}", made["id"])
    assert made["channel_id"] == general and made["title"] == "Runbook" and made["type"] == "link"
    assert made["link"] == "https://example.com/run" and made["emoji"] == ":books:"
    assert made["last_updated_by_user_id"] == "U0DTUBOT01" and made["date_updated"] == 0
    assert made["date_created"] > 0 and made["rank"]


def test_list_in_creation_order(alice: WebClient, general: str) -> None:
    ids = [
        alice.bookmarks_add(channel_id=general, title=f"b{i}", type="link", link=f"https://example.com/{i}")[
            "bookmark"
        ]["id"]
        for i in range(3)
    ]
    listed = alice.bookmarks_list(channel_id=general)["bookmarks"]
    assert [b["id"] for b in listed] == ids
    assert [b["rank"] for b in listed] == sorted(b["rank"] for b in listed)


def test_bookmarks_belong_to_one_channel(alice: WebClient, general: str) -> None:
    alice.bookmarks_add(channel_id=general, title="here", type="link", link="https://example.com")
    other = alice.conversations_create(name="elsewhere")["channel"]["id"]
    assert alice.bookmarks_list(channel_id=other)["bookmarks"] == []


def test_add_invalid_link(alice: WebClient, general: str) -> None:
    assert (
        slack_error(alice.bookmarks_add, channel_id=general, title="x", type="link", link="ftp://example.com")
        == "invalid_link"
    )


def test_add_link_type_without_link(alice: WebClient, general: str) -> None:
    assert slack_error(alice.bookmarks_add, channel_id=general, title="x", type="link") == "invalid_link"


def test_add_invalid_type(alice: WebClient, general: str) -> None:
    assert (
        slack_error(
            alice.bookmarks_add, channel_id=general, title="x", type="spreadsheet", link="https://example.com"
        )
        == "invalid_bookmark_type"
    )


def test_add_invalid_emoji(alice: WebClient, general: str) -> None:
    assert (
        slack_error(
            alice.bookmarks_add,
            channel_id=general,
            title="x",
            type="link",
            link="https://example.com",
            emoji="books",
        )
        == "invalid_emoji"
    )


def test_add_without_title_invalid_arguments(alice: WebClient, general: str) -> None:
    with pytest.raises(SlackApiError) as err:
        alice.bookmarks_add(channel_id=general, title="", type="link", link="https://example.com")
    assert err.value.response["error"] == "invalid_arguments"
    assert err.value.response["response_metadata"]["messages"] == ["[ERROR] missing required field: title"]


def test_add_unknown_channel(alice: WebClient) -> None:
    assert (
        slack_error(
            alice.bookmarks_add, channel_id="C0NOTTHERE", title="x", type="link", link="https://example.com"
        )
        == "channel_not_found"
    )


def test_private_channel_hidden_from_outsiders(alice: WebClient, bob: WebClient) -> None:
    secret = alice.conversations_create(name="bm-secret", is_private=True)["channel"]["id"]
    alice.bookmarks_add(channel_id=secret, title="x", type="link", link="https://example.com")
    assert slack_error(bob.bookmarks_list, channel_id=secret) == "channel_not_found"


def test_edit_changes_given_fields(alice: WebClient, bob: WebClient, general: str) -> None:
    made = alice.bookmarks_add(channel_id=general, title="old", type="link", link="https://example.com/a")
    edited = bob.bookmarks_edit(channel_id=general, bookmark_id=made["bookmark"]["id"], title="new")[
        "bookmark"
    ]
    assert edited["title"] == "new" and edited["link"] == "https://example.com/a"
    assert edited["last_updated_by_user_id"] == "U0DTUBOB01" and edited["date_updated"] > 0
    assert alice.bookmarks_list(channel_id=general)["bookmarks"][0]["title"] == "new"


def test_edit_invalid_link(alice: WebClient, general: str) -> None:
    made = alice.bookmarks_add(channel_id=general, title="x", type="link", link="https://example.com")
    assert (
        slack_error(
            alice.bookmarks_edit, channel_id=general, bookmark_id=made["bookmark"]["id"], link="example.com"
        )
        == "invalid_link"
    )


def test_edit_unknown_bookmark_not_found(alice: WebClient, general: str) -> None:
    assert (
        slack_error(alice.bookmarks_edit, channel_id=general, bookmark_id="Bk0000000000", title="x")
        == "not_found"
    )


def test_remove(alice: WebClient, general: str) -> None:
    made = alice.bookmarks_add(channel_id=general, title="x", type="link", link="https://example.com")
    alice.bookmarks_remove(channel_id=general, bookmark_id=made["bookmark"]["id"])
    assert alice.bookmarks_list(channel_id=general)["bookmarks"] == []
    assert (
        slack_error(alice.bookmarks_remove, channel_id=general, bookmark_id=made["bookmark"]["id"])
        == "not_found"
    )


def test_remove_from_the_wrong_channel_not_found(alice: WebClient, general: str) -> None:
    made = alice.bookmarks_add(channel_id=general, title="x", type="link", link="https://example.com")
    other = alice.conversations_create(name="bm-other")["channel"]["id"]
    assert (
        slack_error(alice.bookmarks_remove, channel_id=other, bookmark_id=made["bookmark"]["id"])
        == "not_found"
    )
