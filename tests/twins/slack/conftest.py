"""Slack contract tests: slack_sdk clients pointed at a fresh tenant of a live twin."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

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


def slack_error(call: Any, **kwargs: Any) -> str:
    """The Slack error code a failing slack_sdk call raises."""
    with pytest.raises(SlackApiError) as err:
        call(**kwargs)
    return str(err.value.response["error"])


def seed_request_url(tenant: Tenant, events: list[str], url: str = "http://127.0.0.1:9/slack/events") -> None:
    """Give the default app a request URL and subscriptions through a fixture (no handshake).
    Nobody need listen there: the twin records every delivery it attempts."""
    app = {
        "id": tenant.app_id,
        "name": "DTU App",
        "bot_id": "B0DTUBOT01",
        "bot_user": {"id": "U0DTUBOT01", "name": "dtu-app", "real_name": "DTU App"},
        "bot_token": tenant.bot_token,
        "signing_secret": tenant.signing_secret,
        "request_url": url,
        "bot_events": events,
    }
    tenant.twin.control("POST", "/seed", params={"tenant": tenant.tenant}, json={"apps": [app]})


def recorded_events(tenant: Tenant, kind: str) -> list[dict[str, Any]]:
    """The `event` of every Events API delivery of this type the twin made for the tenant."""
    return [
        d["payload"]["event"]
        for d in tenant.twin.deliveries(tenant=tenant.tenant, kind="events")
        if d["meta"]["type"] == kind
    ]
