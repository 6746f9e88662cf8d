"""auth.test, team.info, bots.info, users.* through slack_sdk (sync and async clients)."""

from __future__ import annotations

import asyncio

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from dtu.testing.plugin import Tenant


def test_auth_test_bot_and_user(bot: WebClient, alice: WebClient, slack_tenant: Tenant) -> None:
    as_bot = bot.auth_test()
    assert as_bot["bot_id"] == "B0DTUBOT01" and as_bot["user_id"] == "U0DTUBOT01"
    assert as_bot["team_id"] == slack_tenant.team_id
    assert as_bot["user_id"] == slack_tenant.bot_user_id  # handed out with the tenant
    assert as_bot.headers.get("x-oauth-scopes")
    as_user = alice.auth_test()
    assert as_user["user"] == "alice" and "bot_id" not in as_user.data


def test_bad_tokens(slack_tenant: Tenant) -> None:
    with pytest.raises(SlackApiError) as err:
        WebClient(token="xoxb-nope", base_url=slack_tenant.api_url).auth_test()
    assert err.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as err:
        WebClient(base_url=slack_tenant.api_url).users_list()
    assert err.value.response["error"] == "not_authed"


def test_tenants_are_isolated(bot: WebClient, slack_tenant: Tenant, general: str) -> None:
    other = slack_tenant.twin.create_tenant()
    try:
        other_bot = WebClient(token=other["credentials"]["bot_token"], base_url=slack_tenant.api_url)
        bot.chat_postMessage(channel=general, text="only here")
        assert other_bot.auth_test()["team_id"] != slack_tenant.team_id
        assert other_bot.conversations_history(channel=general)["messages"] == []
    finally:
        slack_tenant.twin.delete_tenant(other["tenant"])


def test_team_and_bot_info(bot: WebClient, slack_tenant: Tenant) -> None:
    team = bot.team_info()["team"]
    assert team["id"] == slack_tenant.team_id and team["name"] == "DTU Workspace"
    info = bot.bots_info(bot="B0DTUBOT01")["bot"]
    assert info["app_id"] == "A0DTUAPP01" and info["user_id"] == "U0DTUBOT01"
    with pytest.raises(SlackApiError) as err:
        bot.bots_info(bot="B0NOPE")
    assert err.value.response["error"] == "bot_not_found"


def test_users_list_paginates_and_shows_emails(bot: WebClient) -> None:
    first = bot.users_list(limit=2)
    second = bot.users_list(limit=2, cursor=first["response_metadata"]["next_cursor"])
    ids = [u["id"] for u in first["members"] + second["members"]]
    assert len(ids) == len(set(ids)) == 4
    assert second["response_metadata"]["next_cursor"] == ""
    alice = next(u for u in first["members"] + second["members"] if u["name"] == "alice")
    assert alice["profile"]["email"] == "alice@example.com" and alice["is_admin"] is True


def test_users_info_and_lookup(bot: WebClient) -> None:
    assert bot.users_info(user="U0DTUBOB01")["user"]["real_name"] == "Bob Brown"
    assert bot.users_lookupByEmail(email="CAROL@example.com")["user"]["id"] == "U0DTUCAROL"
    with pytest.raises(SlackApiError) as err:
        bot.users_lookupByEmail(email="nobody@example.com")
    assert err.value.response["error"] == "users_not_found"
    with pytest.raises(SlackApiError) as err:
        bot.users_info(user="U0NOBODY00")
    assert err.value.response["error"] == "user_not_found"


def test_profile_and_presence(alice: WebClient, bot: WebClient) -> None:
    assert alice.users_profile_get()["profile"]["real_name"] == "Alice Anderson"
    assert bot.users_getPresence(user="U0DTUALICE")["presence"] == "active"
    alice.users_setPresence(presence="away")
    assert bot.users_getPresence(user="U0DTUALICE")["presence"] == "away"
    mine = alice.users_getPresence(user="U0DTUALICE")
    assert mine["manual_away"] is True and mine["online"] is False
    with pytest.raises(SlackApiError) as err:
        alice.users_setPresence(presence="busy")
    assert err.value.response["error"] == "invalid_presence"


def test_async_client_iterates_pages(slack_tenant: Tenant) -> None:
    async def run() -> list[str]:
        client = AsyncWebClient(token=slack_tenant.bot_token, base_url=slack_tenant.api_url)
        names: list[str] = []
        async for page in await client.users_list(limit=1):
            names += [u["name"] for u in page["members"]]
        return names

    assert sorted(asyncio.run(run())) == ["alice", "bob", "carol", "dtu-app"]


def test_sync_client_iterates_pages(bot: WebClient) -> None:
    names = [u["name"] for page in bot.users_list(limit=1) for u in page["members"]]
    assert sorted(names) == ["alice", "bob", "carol", "dtu-app"]
