"""Every Web API method of the issue's list through slack_sdk's AsyncWebClient (aiohttp), with
its retry handlers installed, success and error paths: the async client must see exactly what
the sync one sees."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from dtu.testing.plugin import Tenant

GENERAL, RANDOM = "C0DTUGENRL", "C0DTURANDM"
ALICE, BOB, CAROL, BOT = "U0DTUALICE", "U0DTUBOB01", "U0DTUCAROL", "U0DTUBOT01"


def _client(tenant: Tenant, token: str) -> AsyncWebClient:
    return AsyncWebClient(
        token=token,
        base_url=tenant.api_url,
        retry_handlers=[AsyncConnectionErrorRetryHandler(), AsyncRateLimitErrorRetryHandler()],
    )


async def _error(call: Awaitable[Any]) -> str:
    try:
        await call
    except SlackApiError as err:
        return str(err.response["error"])
    raise AssertionError("the call succeeded")


def test_identity_and_people(slack_tenant: Tenant) -> None:
    async def run() -> None:
        bot, alice = (
            _client(slack_tenant, slack_tenant.bot_token),
            _client(slack_tenant, slack_tenant.user_token),
        )
        assert (await bot.auth_test())["bot_id"] == "B0DTUBOT01"
        assert (await bot.api_test(foo="bar"))["args"]["foo"] == "bar"
        assert (await bot.team_info())["team"]["id"] == slack_tenant.team_id
        assert (await bot.bots_info(bot="B0DTUBOT01"))["bot"]["user_id"] == BOT
        assert await _error(bot.bots_info(bot="B000NOPE")) == "bot_not_found"
        names = [m["name"] async for page in await bot.users_list(limit=2) for m in page["members"]]
        assert {"alice", "bob", "carol", "dtu-app"} <= set(names)
        assert (await bot.users_info(user=BOB))["user"]["name"] == "bob"
        assert await _error(bot.users_info(user="U000NOPE")) == "user_not_found"
        assert (await bot.users_lookupByEmail(email="carol@example.com"))["user"]["id"] == CAROL
        assert await _error(bot.users_lookupByEmail(email="nobody@example.com")) == "users_not_found"
        assert (await alice.users_profile_get())["profile"]["real_name"] == "Alice Anderson"
        await alice.users_setPresence(presence="away")
        assert (await alice.users_getPresence(user=ALICE))["presence"] == "away"
        assert await _error(alice.users_setPresence(presence="busy")) == "invalid_presence"
        assert [c["id"] for c in (await bot.users_conversations())["channels"]] == [GENERAL]
        assert await _error(_client(slack_tenant, "xoxb-unknown").auth_test()) == "invalid_auth"
        assert await _error(AsyncWebClient(base_url=slack_tenant.api_url).auth_test()) == "not_authed"

    asyncio.run(run())


def test_conversations(slack_tenant: Tenant) -> None:
    async def run() -> None:
        alice, bob = (
            _client(slack_tenant, slack_tenant.user_token),
            _client(slack_tenant, slack_tenant.user_tokens["bob@example.com"]),
        )
        room = (await alice.conversations_create(name="async-room"))["channel"]["id"]
        assert await _error(alice.conversations_create(name="async-room")) == "name_taken"
        listed = await alice.conversations_list(types="public_channel", exclude_archived=True, limit=1)
        ids = [c["id"] async for page in listed for c in page["channels"]]
        assert {GENERAL, RANDOM, room} <= set(ids)
        assert (await alice.conversations_info(channel=room))["channel"]["name"] == "async-room"
        await alice.conversations_invite(channel=room, users=BOB)
        assert sorted((await alice.conversations_members(channel=room))["members"]) == [ALICE, BOB]
        await alice.conversations_kick(channel=room, user=BOB)
        await bob.conversations_join(channel=room)
        await bob.conversations_leave(channel=room)
        await alice.conversations_rename(channel=room, name="async-room-2")
        await alice.conversations_setTopic(channel=room, topic="topic")
        await alice.conversations_setPurpose(channel=room, purpose="purpose")
        ts = (await alice.chat_postMessage(channel=room, text="hello"))["ts"]
        await alice.chat_postMessage(channel=room, text="reply", thread_ts=ts)
        history = await alice.conversations_history(channel=room, oldest=ts, inclusive=True)
        assert [m["text"] for m in history["messages"]] == ["hello"]
        replies = await alice.conversations_replies(channel=room, ts=ts)
        assert [m["text"] for m in replies["messages"]] == ["hello", "reply"]
        await alice.conversations_mark(channel=room, ts=ts)
        await alice.conversations_archive(channel=room)
        assert await _error(alice.chat_postMessage(channel=room, text="x")) == "is_archived"
        await alice.conversations_unarchive(channel=room)
        dm = (await alice.conversations_open(users=BOB))["channel"]["id"]
        assert (await alice.conversations_close(channel=dm))["ok"]
        assert await _error(alice.conversations_history(channel="C000NOPE")) == "channel_not_found"
        assert await _error(alice.conversations_history(channel=GENERAL, cursor="bogus")) == "invalid_cursor"
        bot = _client(slack_tenant, slack_tenant.bot_token)
        assert await _error(bot.conversations_history(channel=RANDOM)) == "not_in_channel"

    asyncio.run(run())


def test_messages(slack_tenant: Tenant) -> None:
    async def run() -> None:
        bot, alice = (
            _client(slack_tenant, slack_tenant.bot_token),
            _client(slack_tenant, slack_tenant.user_token),
        )
        posted = await bot.chat_postMessage(
            channel=GENERAL,
            text="fallback",
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}],
            attachments=[{"text": "att", "fallback": "att"}],
            mrkdwn=False,
        )
        ts = posted["ts"]
        assert posted["message"]["blocks"][0]["type"] == "section"
        assert await _error(bot.chat_postMessage(channel=GENERAL, text="")) == "no_text"
        assert await _error(bot.chat_postMessage(channel=GENERAL, text="x", blocks=[{"type": "nope"}])) == (
            "invalid_blocks"
        )
        assert (await bot.chat_update(channel=GENERAL, ts=ts, text="edited"))["text"] == "edited"
        assert await _error(alice.chat_update(channel=GENERAL, ts=ts, text="mine?")) == "cant_update_message"
        assert await _error(bot.chat_update(channel=GENERAL, ts=ts, text="x" * 40_001)) == "msg_too_long"
        assert (await bot.chat_postEphemeral(channel=GENERAL, user=BOB, text="psst"))["message_ts"]
        link = (await bot.chat_getPermalink(channel=GENERAL, message_ts=ts))["permalink"]
        assert link.endswith("/archives/C0DTUGENRL/p" + ts.replace(".", ""))
        assert (await alice.chat_meMessage(channel=GENERAL, text="waves"))["ok"]
        now = int((await bot.api_test())["ok"] and slack_tenant.twin.clock(tenant=slack_tenant.tenant)["now"])
        scheduled = await bot.chat_scheduleMessage(channel=GENERAL, text="later", post_at=now + 600)
        pending = (await bot.chat_scheduledMessages_list(channel=GENERAL))["scheduled_messages"]
        assert [p["id"] for p in pending] == [scheduled["scheduled_message_id"]]
        await bot.chat_deleteScheduledMessage(
            channel=GENERAL, scheduled_message_id=scheduled["scheduled_message_id"]
        )
        assert await _error(bot.chat_scheduleMessage(channel=GENERAL, text="x", post_at=now - 5)) == (
            "time_in_past"
        )
        await bot.chat_delete(channel=GENERAL, ts=ts)
        assert await _error(bot.chat_delete(channel=GENERAL, ts=ts)) == "message_not_found"

    asyncio.run(run())


def test_reactions_pins_bookmarks(slack_tenant: Tenant) -> None:
    async def run() -> None:
        alice = _client(slack_tenant, slack_tenant.user_token)
        ts = (await alice.chat_postMessage(channel=GENERAL, text="pin me"))["ts"]
        await alice.reactions_add(channel=GENERAL, timestamp=ts, name="eyes")
        assert (
            await _error(alice.reactions_add(channel=GENERAL, timestamp=ts, name="eyes")) == "already_reacted"
        )
        got = await alice.reactions_get(channel=GENERAL, timestamp=ts)
        assert got["message"]["reactions"] == [{"name": "eyes", "users": [ALICE], "count": 1}]
        assert [i["message"]["ts"] for i in (await alice.reactions_list())["items"]] == [ts]
        await alice.reactions_remove(channel=GENERAL, timestamp=ts, name="eyes")
        await alice.pins_add(channel=GENERAL, timestamp=ts)
        assert [i["message"]["ts"] for i in (await alice.pins_list(channel=GENERAL))["items"]] == [ts]
        await alice.pins_remove(channel=GENERAL, timestamp=ts)
        assert await _error(alice.pins_remove(channel=GENERAL, timestamp=ts)) == "no_pin"
        mark = await alice.bookmarks_add(
            channel_id=GENERAL, title="Docs", type="link", link="https://example.com"
        )
        bookmark = mark["bookmark"]["id"]
        assert [b["id"] for b in (await alice.bookmarks_list(channel_id=GENERAL))["bookmarks"]] == [bookmark]
        await alice.bookmarks_remove(channel_id=GENERAL, bookmark_id=bookmark)
        assert await _error(alice.bookmarks_remove(channel_id=GENERAL, bookmark_id=bookmark)) == "not_found"

    asyncio.run(run())


def test_files(slack_tenant: Tenant) -> None:
    async def run() -> None:
        alice = _client(slack_tenant, slack_tenant.user_token)
        uploaded = await alice.files_upload_v2(channel=GENERAL, content="async bytes", filename="a.txt")
        file_id = uploaded["file"]["id"]
        info = await alice.files_info(file=file_id)
        assert info["file"]["size"] == len("async bytes") and info["file"]["name"] == "a.txt"
        assert [f["id"] for f in (await alice.files_list())["files"]] == [file_id]
        await alice.files_delete(file=file_id)
        assert await _error(alice.files_info(file=file_id)) == "file_deleted"
        assert (
            await _error(alice.files_getUploadURLExternal(filename="x.txt", length=0)) == "missing_argument"
        )

    asyncio.run(run())


def test_usergroups_views_search_and_manifests(slack_tenant: Tenant) -> None:
    async def run() -> None:
        bot, alice = (
            _client(slack_tenant, slack_tenant.bot_token),
            _client(slack_tenant, slack_tenant.user_token),
        )
        group = (await alice.usergroups_create(name="Oncall", handle="oncall"))["usergroup"]["id"]
        await alice.usergroups_users_update(usergroup=group, users=[ALICE, BOB])
        assert (await alice.usergroups_users_list(usergroup=group))["users"] == [ALICE, BOB]
        await alice.usergroups_update(usergroup=group, name="On call")
        assert [g["name"] for g in (await alice.usergroups_list())["usergroups"]] == ["On call"]
        assert await _error(alice.usergroups_create(name="On call")) == "name_already_exists"
        home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]}
        view = (await bot.views_publish(user_id=ALICE, view=home))["view"]
        updated = await bot.views_update(view_id=view["id"], view=home, hash=view["hash"])
        assert updated["view"]["id"] == view["id"]
        modal = {"type": "modal", "title": {"type": "plain_text", "text": "Hi"}, "blocks": []}
        assert await _error(bot.views_open(trigger_id="1.2.3", view=modal)) == "invalid_trigger_id"
        assert await _error(bot.views_push(trigger_id="1.2.3", view=modal)) == "invalid_trigger_id"
        await alice.chat_postMessage(channel=GENERAL, text="async search target")
        found = await alice.search_messages(query="target in:#general from:me")
        assert [m["text"] for m in found["messages"]["matches"]] == ["async search target"]
        assert await _error(bot.search_messages(query="target")) == "not_allowed_token_type"
        config = _client(slack_tenant, slack_tenant.config_token)
        manifest = (await config.apps_manifest_export(app_id=slack_tenant.app_id))["manifest"]
        assert (await config.apps_manifest_validate(manifest=manifest, app_id=slack_tenant.app_id))["ok"]
        made = await config.apps_manifest_create(manifest={"display_information": {"name": "Async App"}})
        assert made["app_id"].startswith("A")
        await config.apps_manifest_update(
            app_id=made["app_id"], manifest={"display_information": {"name": "B"}}
        )
        assert await _error(config.apps_manifest_export(app_id="A000NOPE")) == "invalid_app_id"

    asyncio.run(run())
