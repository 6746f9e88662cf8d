"""Details Slack apps lean on: history and replies time windows, DMs and group DMs opened
every way conversations.open allows, read cursors, username/icon overrides only where the
token allows them, scopes per conversation kind, and search's relative dates."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient

from dtu.testing.plugin import Tenant
from tests.twins.slack.conftest import slack_error

BOB, CAROL, BOT = "U0DTUBOB01", "U0DTUCAROL", "U0DTUBOT01"


@pytest.fixture
def carol(slack_tenant: Tenant) -> WebClient:
    return WebClient(token=slack_tenant.user_tokens["carol@example.com"], base_url=slack_tenant.api_url)


def _texts(answer: dict[str, object]) -> list[str]:
    return [m["text"] for m in answer["messages"]]  # type: ignore[attr-defined, index]


# -- conversations.history / replies windows ---------------------------------------------------


def test_history_oldest_latest_inclusive(alice: WebClient, general: str) -> None:
    ts = [alice.chat_postMessage(channel=general, text=f"m{i}")["ts"] for i in range(6)]
    # oldest alone: newer messages, newest first; paging walks back towards oldest
    first = alice.conversations_history(channel=general, oldest=ts[1], limit=2)
    assert _texts(first.data) == ["m5", "m4"] and first["has_more"] is True
    assert first["oldest"] == ts[1]
    rest = alice.conversations_history(
        channel=general, oldest=ts[1], limit=2, cursor=first["response_metadata"]["next_cursor"]
    )
    assert _texts(rest.data) == ["m3", "m2"]
    assert rest["has_more"] is False
    # latest alone: older messages; inclusive takes the message at latest itself
    assert _texts(alice.conversations_history(channel=general, latest=ts[2]).data) == ["m1", "m0"]
    inclusive = alice.conversations_history(channel=general, latest=ts[2], inclusive=True)
    assert _texts(inclusive.data) == ["m2", "m1", "m0"] and inclusive["latest"] == ts[2]
    # a ts in another form ("1700000000.5") reads as the same instant
    assert _texts(alice.conversations_history(channel=general, oldest=ts[4], inclusive=True).data) == [
        "m5",
        "m4",
    ]
    # inclusive without bounds changes nothing
    assert _texts(alice.conversations_history(channel=general, inclusive=True).data)[:2] == ["m5", "m4"]
    assert slack_error(alice.conversations_history, channel=general, oldest="soon") == "invalid_ts_oldest"
    assert slack_error(alice.conversations_history, channel=general, latest="-1") == "invalid_ts_latest"


def test_replies_windows_and_the_parent(alice: WebClient, bob: WebClient, general: str) -> None:
    parent = alice.chat_postMessage(channel=general, text="thread")["ts"]
    replies = [bob.chat_postMessage(channel=general, text=f"r{i}", thread_ts=parent)["ts"] for i in range(3)]
    assert _texts(alice.conversations_replies(channel=general, ts=parent).data) == [
        "thread",
        "r0",
        "r1",
        "r2",
    ]
    window = alice.conversations_replies(channel=general, ts=parent, oldest=replies[0], latest=replies[2])
    assert _texts(window.data) == ["r1"]
    window = alice.conversations_replies(
        channel=general, ts=parent, oldest=replies[0], latest=replies[2], inclusive=True
    )
    assert _texts(window.data) == ["r0", "r1", "r2"]
    head = alice.conversations_replies(channel=general, ts=replies[1])["messages"][0]
    assert head["ts"] == parent and head["reply_count"] == 3 and head["reply_users"] == [BOB]
    assert head["latest_reply"] == replies[2] and head["reply_users_count"] == 1
    system = alice.conversations_history(channel="C0DTUGENRL", limit=1)["messages"][0]["ts"]
    assert slack_error(alice.conversations_replies, channel=general, ts="1.000001") == "thread_not_found"
    assert alice.conversations_replies(channel=general, ts=system)["messages"][0]["ts"] == system


# -- conversations.open / close / mark -------------------------------------------------------


def test_open_a_dm_every_way(alice: WebClient, bob: WebClient) -> None:
    assert alice.conversations_open(users=BOB, prevent_creation=True).data == {
        "ok": True,
        "no_op": True,
        "channel": {},
    }
    opened = alice.conversations_open(users=BOB)
    dm = opened["channel"]["id"]
    assert dm.startswith("D") and opened["channel"] == {"id": dm} and "already_open" not in opened
    full = bob.conversations_open(users="U0DTUALICE", return_im=True)["channel"]  # the same DM
    assert full["id"] == dm and full["is_im"] is True and full["user"] == "U0DTUALICE"
    again = alice.conversations_open(users=BOB)
    assert again["already_open"] is True and again["no_op"] is True and again["channel"]["id"] == dm
    by_channel = alice.conversations_open(channel=dm, return_im=True)
    assert by_channel["channel"]["id"] == dm and by_channel["channel"]["is_open"] is True
    assert alice.conversations_close(channel=dm)["ok"]
    reopened = alice.conversations_open(users=BOB)
    assert reopened["channel"]["id"] == dm and "already_open" not in reopened
    assert slack_error(alice.conversations_open, users="U000NOBODY") == "user_not_found"
    assert (
        slack_error(alice.conversations_open, channel="C0DTUGENRL") == "method_not_supported_for_channel_type"
    )
    assert (
        slack_error(alice.conversations_close, channel="C0DTUGENRL")
        == "method_not_supported_for_channel_type"
    )


def test_open_a_group_dm(alice: WebClient, bob: WebClient, carol: WebClient, slack_tenant: Tenant) -> None:
    mpim = alice.conversations_open(users=f"{BOB},{CAROL}", return_im=True)["channel"]
    assert mpim["id"].startswith("G") and mpim["is_mpim"] is True and mpim["is_private"] is True
    assert mpim["name"] == "mpdm-alice--bob--carol-1"
    same = carol.conversations_open(users=f"U0DTUALICE,{BOB}")  # the same people: the same group DM
    assert same["channel"]["id"] == mpim["id"]
    alice.chat_postMessage(channel=mpim["id"], text="all three")
    assert _texts(bob.conversations_history(channel=mpim["id"]).data) == ["all three"]
    outsider = WebClient(token=slack_tenant.bot_token, base_url=slack_tenant.api_url)
    assert slack_error(outsider.conversations_history, channel=mpim["id"]) == "channel_not_found"
    nine = ",".join(f"U{i:010d}" for i in range(9))
    slack_tenant.twin.control(
        "POST",
        "/seed",
        params={"tenant": slack_tenant.tenant},
        json={"users": [{"id": f"U{i:010d}", "name": f"p{i}"} for i in range(9)]},
    )
    assert slack_error(alice.conversations_open, users=nine) == "too_many_users"


def test_mark_moves_each_persons_read_cursor(alice: WebClient, bob: WebClient, general: str) -> None:
    first = alice.chat_postMessage(channel=general, text="one")["ts"]
    second = alice.chat_postMessage(channel=general, text="two")["ts"]
    alice.conversations_mark(channel=general, ts=second)
    bob.conversations_mark(channel=general, ts=first)
    assert alice.conversations_info(channel=general)["channel"]["last_read"] == second
    assert bob.conversations_info(channel=general)["channel"]["last_read"] == first
    dm = alice.conversations_open(users=BOB)["channel"]["id"]
    ts = bob.chat_postMessage(channel=dm, text="hi")["ts"]
    alice.conversations_mark(channel=dm, ts=ts)
    assert alice.conversations_open(channel=dm, return_im=True)["channel"]["last_read"] == ts
    assert slack_error(alice.conversations_mark, channel="C000NOWHERE", ts=ts) == "channel_not_found"
    assert slack_error(alice.conversations_mark, channel=general, ts="") == "invalid_timestamp"


# -- username and icon overrides -------------------------------------------------------------


def test_overrides_need_chat_write_customize(slack_tenant: Tenant, bot: WebClient, alice: WebClient) -> None:
    custom = bot.chat_postMessage(
        channel="C0DTUGENRL", text="as a robot", username="Robo", icon_emoji=":robot_face:"
    )["message"]
    assert custom["username"] == "Robo" and custom["icons"] == {"emoji": ":robot_face:"}
    assert custom["subtype"] == "bot_message" and custom["bot_id"] == "B0DTUBOT01"
    pictured = bot.chat_postMessage(
        channel="C0DTUGENRL", text="pictured", icon_url="https://example.com/robot.png"
    )["message"]
    assert pictured["icons"] == {"image_64": "https://example.com/robot.png"} and "username" not in pictured
    # A bot token without chat:write.customize posts as itself; so does a person's token.
    slack_tenant.twin.control(
        "POST",
        "/seed",
        params={"tenant": slack_tenant.tenant},
        json={
            "apps": [
                {
                    "id": "A0PLAINAPP",
                    "name": "Plain App",
                    "bot_id": "B0PLAINBOT",
                    "bot_user": {"id": "U0PLAINBOT", "name": "plain-app"},
                    "bot_token": "xoxb-plain-app-token",
                    "signing_secret": "plain-secret",
                    "bot_scopes": ["chat:write", "chat:write.public"],
                }
            ]
        },
    )
    plain = WebClient(token="xoxb-plain-app-token", base_url=slack_tenant.api_url)
    own = plain.chat_postMessage(channel="C0DTUGENRL", text="plainly", username="Robo", icon_emoji=":x:")
    assert "username" not in own["message"] and "icons" not in own["message"]
    assert "subtype" not in own["message"] and own["message"]["bot_id"] == "B0PLAINBOT"
    person = alice.chat_postMessage(channel="C0DTUGENRL", text="me", username="Robo", icon_emoji=":x:")
    assert "username" not in person["message"] and "icons" not in person["message"]
    shown = {m["text"]: m for m in alice.conversations_history(channel="C0DTUGENRL", limit=4)["messages"]}
    assert shown["as a robot"]["username"] == "Robo" and "username" not in shown["plainly"]


# -- scopes per conversation kind ------------------------------------------------------------


def test_history_needs_the_scope_of_the_conversations_kind(slack_tenant: Tenant, alice: WebClient) -> None:
    slack_tenant.twin.control(
        "POST",
        "/seed",
        params={"tenant": slack_tenant.tenant},
        json={
            "tokens": [
                {
                    "token": "xoxp-dms-only",
                    "kind": "user",
                    "user": "U0DTUALICE",
                    "app": "A0DTUAPP01",
                    "scopes": ["im:history", "im:read", "im:write", "chat:write"],
                }
            ]
        },
    )
    dms_only = WebClient(token="xoxp-dms-only", base_url=slack_tenant.api_url)
    dm = alice.conversations_open(users=BOB)["channel"]["id"]
    assert dms_only.conversations_history(channel=dm)["ok"]
    assert dms_only.conversations_info(channel=dm)["ok"]
    for call in (dms_only.conversations_history, dms_only.conversations_info, dms_only.conversations_members):
        err = slack_error(call, channel="C0DTUGENRL")
        assert err == "missing_scope"
    raw = slack_tenant.twin.admin.get(
        f"{slack_tenant.api_url}conversations.history",
        params={"channel": "C0DTUGENRL"},
        headers={"authorization": "Bearer xoxp-dms-only"},
    ).json()
    assert raw["needed"] == "channels:history"
    assert raw["provided"] == "chat:write,im:history,im:read,im:write"
    listed = slack_tenant.twin.admin.get(
        f"{slack_tenant.api_url}conversations.list",
        params={"types": "im"},
        headers={"authorization": "Bearer xoxp-dms-only"},
    ).json()
    assert listed["ok"] is True and [c["id"] for c in listed["channels"]] == [dm]
    refused = slack_tenant.twin.admin.get(
        f"{slack_tenant.api_url}conversations.list",
        params={"types": "public_channel,im"},
        headers={"authorization": "Bearer xoxp-dms-only"},
    ).json()
    assert refused == {**refused, "ok": False, "error": "missing_scope", "needed": "channels:read"}


# -- search: relative dates -------------------------------------------------------------------


def test_search_on_today_and_yesterday(slack_tenant: Tenant, alice: WebClient, general: str) -> None:
    twin, tenant = slack_tenant.twin, slack_tenant.tenant
    twin.clock(tenant=tenant, freeze=True, at=1_767_355_200.0)  # 2026-01-02 12:00 UTC, 04:00 in LA
    alice.chat_postMessage(channel=general, text="standup notes friday")
    twin.clock(tenant=tenant, advance_s=24 * 3600)
    alice.chat_postMessage(channel=general, text="standup notes saturday")

    def found(query: str) -> list[str]:
        return [
            m["text"]
            for m in alice.search_messages(query=query, sort="timestamp", sort_dir="asc")["messages"][
                "matches"
            ]
        ]

    assert found("standup on:today") == ["standup notes saturday"]
    assert found("standup on:yesterday") == ["standup notes friday"]
    assert found("standup before:today") == ["standup notes friday"]
    assert found("standup during:january") == ["standup notes friday", "standup notes saturday"]
    assert found("standup during:december") == []
    assert found("standup on:2026-01-02") == ["standup notes friday"]


# -- markdown_text ----------------------------------------------------------------------------


def test_markdown_text_stands_for_text_and_blocks(bot: WebClient, general: str) -> None:
    posted = bot.chat_postMessage(channel=general, markdown_text="**Deploy** done")
    message = posted["message"]
    assert message["text"] == "**Deploy** done"
    assert [b["type"] for b in message["blocks"]] == ["markdown"]
    assert message["blocks"][0]["text"] == "**Deploy** done"
    edited = bot.chat_update(channel=general, ts=posted["ts"], markdown_text="_Deploy_ undone")
    assert edited["message"]["blocks"][0]["text"] == "_Deploy_ undone"
    assert slack_error(bot.chat_postMessage, channel=general, text="t", markdown_text="m") == (
        "markdown_text_conflict"
    )
    assert slack_error(bot.chat_postMessage, channel=general, markdown_text="m" * 12_001) == "msg_too_long"
