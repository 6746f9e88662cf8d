"""Slack contract tests: slack_sdk clients pointed at a fresh tenant of a live twin."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient

from dtu.testing.plugin import Tenant


@pytest.fixture
def bot(slack_tenant: Tenant) -> WebClient:
    """The default app's bot token (xoxb)."""
    return WebClient(token=slack_tenant.bot_token, base_url=slack_tenant.api_url)


@pytest.fixture
def alice(slack_tenant: Tenant) -> WebClient:
    """Alice's user token (xoxp): a workspace admin."""
    return WebClient(token=slack_tenant.user_token, base_url=slack_tenant.api_url)


@pytest.fixture
def bob(slack_tenant: Tenant) -> WebClient:
    return WebClient(token=slack_tenant.user_tokens["bob@example.com"], base_url=slack_tenant.api_url)


@pytest.fixture
def general(bot: WebClient) -> str:
    """The id of #general (the bot is a member there)."""
    for channel in bot.conversations_list()["channels"]:
        if channel["name"] == "general":
            return str(channel["id"])
    raise AssertionError("no #general")
