"""Slack's real rate limits (a fault profile's `real_limits` rule): per-method tiers counted per
workspace and per app, chat.postMessage's one-a-second per channel, and slack_sdk's own
RateLimitErrorRetryHandler (sync and async) waiting out `Retry-After` until the call succeeds."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from dtu.testing.plugin import Tenant

OTHER_APP = {
    "id": "A0OTHERAPP",
    "name": "Other App",
    "bot_id": "B0OTHERBOT",
    "bot_user": {"id": "U0OTHERBOT", "name": "other-app", "real_name": "Other App"},
    "bot_token": "xoxb-other-app-token",
    "signing_secret": "other-signing-secret",
}


def _journal(tenant: Tenant, operation: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = tenant.twin.control(
        "GET", "/journal", params={"tenant": tenant.tenant, "operation": operation}
    )["entries"]
    return entries


def _limits_on(tenant: Tenant) -> None:
    """Freeze the tenant clock one second before a minute ends, then turn real limits on."""
    now = tenant.twin.clock(tenant=tenant.tenant)["now"]
    tenant.twin.clock(tenant=tenant.tenant, freeze=True, at=(int(now) // 60 + 2) * 60 - 1)
    tenant.twin.set_faults(
        {"version": 1, "name": "real", "rules": [{"id": "limits", "action": {"kind": "real_limits"}}]},
        tenant=tenant.tenant,
    )


def _other_bot(tenant: Tenant) -> WebClient:
    """A second app in the workspace, with its own bot token."""
    tenant.twin.control("POST", "/seed", params={"tenant": tenant.tenant}, json={"apps": [OTHER_APP]})
    return WebClient(token=OTHER_APP["bot_token"], base_url=tenant.api_url)


def _status(call: Any, **kwargs: Any) -> tuple[int, str | None]:
    try:
        call(**kwargs)
    except SlackApiError as err:
        assert err.response.data == {"ok": False, "error": "ratelimited"}
        return err.response.status_code, err.response.headers.get("Retry-After")
    return 200, None


def test_tier_2_allows_20_calls_a_minute_per_app(slack_tenant: Tenant, bot: WebClient) -> None:
    other = _other_bot(slack_tenant)
    _limits_on(slack_tenant)
    assert [_status(bot.users_list, limit=1)[0] for _ in range(20)] == [200] * 20
    assert _status(bot.users_list, limit=1) == (429, "1")  # the minute ends in a second
    assert _status(other.users_list, limit=1) == (200, None)  # another app: its own count
    assert _status(bot.conversations_list, limit=1) == (200, None)  # another method too
    slack_tenant.twin.clock(tenant=slack_tenant.tenant, advance_s=1)
    assert _status(bot.users_list, limit=1) == (200, None)


def test_tier_1_allows_one_call_a_minute(slack_tenant: Tenant) -> None:
    config = WebClient(token=slack_tenant.config_token, base_url=slack_tenant.api_url)
    manifest = config.apps_manifest_export(app_id=slack_tenant.app_id)["manifest"]
    _limits_on(slack_tenant)
    assert _status(config.apps_manifest_update, app_id=slack_tenant.app_id, manifest=manifest)[0] == 200
    assert _status(config.apps_manifest_update, app_id=slack_tenant.app_id, manifest=manifest) == (429, "1")
    assert _status(config.apps_manifest_export, app_id=slack_tenant.app_id)[0] == 200  # tier 3


def test_post_message_one_a_second_per_channel_per_app(
    slack_tenant: Tenant, bot: WebClient, general: str
) -> None:
    other = _other_bot(slack_tenant)
    slack_tenant.twin.control(
        "POST",
        "/seed",
        params={"tenant": slack_tenant.tenant},
        json={"channels": [{"id": general, "name": "general", "members": ["U0OTHERBOT"]}]},
    )
    _limits_on(slack_tenant)
    assert [_status(bot.chat_postMessage, channel=general, text="burst")[0] for _ in range(5)] == [200] * 5
    status, retry_after = _status(bot.chat_postMessage, channel=general, text="too many")
    assert status == 429 and retry_after is not None and int(retry_after) >= 1
    assert _status(bot.chat_postMessage, channel="C0DTURANDM", text="another channel")[0] == 200
    assert _status(other.chat_postMessage, channel=general, text="another app")[0] == 200
    texts = [m["text"] for m in slack_tenant.twin.state("messages", tenant=slack_tenant.tenant)]
    assert "too many" not in texts and texts.count("burst") == 5


def _advance_after_429(tenant: Tenant, operation: str) -> threading.Thread:
    """Move the twin clock past the window once the twin has answered `operation` with a 429,
    as time passing would (the retry handler sleeps Retry-After in real seconds)."""

    def run() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if any(e["status"] == 429 for e in _journal(tenant, operation)):
                tenant.twin.clock(tenant=tenant.tenant, advance_s=1)
                return
            time.sleep(0.02)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_rate_limit_retry_handler_retries_to_success(slack_tenant: Tenant, bot: WebClient) -> None:
    _limits_on(slack_tenant)
    for _ in range(20):
        bot.users_list(limit=1)
    patient = WebClient(
        token=slack_tenant.bot_token,
        base_url=slack_tenant.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=3)],
    )
    mover = _advance_after_429(slack_tenant, "users.list")
    assert patient.users_list(limit=1)["ok"]
    mover.join()
    statuses = [e["status"] for e in _journal(slack_tenant, "users.list")]
    assert statuses[:20] == [200] * 20 and 429 in statuses[20:] and statuses[-1] == 200


def test_async_rate_limit_retry_handler_retries_to_success(slack_tenant: Tenant) -> None:
    _limits_on(slack_tenant)

    async def run() -> dict[str, Any]:
        client = AsyncWebClient(
            token=slack_tenant.bot_token,
            base_url=slack_tenant.api_url,
            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=3)],
        )
        for _ in range(20):
            await client.conversations_list(limit=1)
        mover = _advance_after_429(slack_tenant, "conversations.list")
        answer = await client.conversations_list(limit=1)
        mover.join()
        return answer.data  # type: ignore[return-value]

    assert asyncio.run(run())["ok"] is True
    statuses = [e["status"] for e in _journal(slack_tenant, "conversations.list")]
    assert 429 in statuses and statuses[-1] == 200


@pytest.mark.parametrize("method", ["users.list", "conversations.history"])
def test_without_the_rule_nothing_is_limited(slack_tenant: Tenant, bot: WebClient, method: str) -> None:
    for _ in range(60):
        assert bot.api_call(method, params={"channel": "C0DTUGENRL", "limit": 1})["ok"]
