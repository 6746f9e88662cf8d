"""A real slack_bolt app, served over HTTP, registered through apps.manifest.update.

Bolt's request verification stays on: every event must carry a valid signature, and the
request URL handshake goes through Bolt's own url_verification handling.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from slack_bolt import App
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dtu.testing.plugin import Tenant
from dtu.testing.receiver import AppServer

APP, BOT_USER = "A0DTUAPP01", "U0DTUBOT01"
EVENTS = ["message.channels", "app_mention", "reaction_added", "member_joined_channel", "channel_created"]
SCOPES = ["channels:history", "channels:read", "app_mentions:read", "reactions:read", "chat:write"]


def register(tenant: Tenant, url: str, *, events: list[str] = EVENTS) -> None:
    WebClient(token=tenant.config_token, base_url=tenant.api_url).apps_manifest_update(
        app_id=APP,
        manifest={
            "display_information": {"name": "DTU App"},
            "features": {"bot_user": {"display_name": "dtu-app"}},
            "oauth_config": {"scopes": {"bot": SCOPES}},
            "settings": {"event_subscriptions": {"request_url": url, "bot_events": events}},
        },
    )


@dataclass
class Seen:
    """What the Bolt listeners were handed, by listener name."""

    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def add(self, name: str, event: dict[str, Any]) -> None:
        with self.cond:
            self.items.setdefault(name, []).append(event)
            self.cond.notify_all()

    def wait(self, name: str, predicate: Any = None, timeout_s: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        with self.cond:
            while True:
                for event in self.items.get(name, []):
                    if predicate is None or predicate(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"Bolt's {name} listener saw nothing matching; saw {self.items}")
                self.cond.wait(left)


def build_app(tenant: Tenant, seen: Seen, *, signing_secret: str | None = None) -> App:
    app = App(
        client=WebClient(token=tenant.bot_token, base_url=tenant.api_url),
        signing_secret=signing_secret or tenant.signing_secret,
    )

    @app.message("hello")
    def greet(message: dict[str, Any], say: Any) -> None:
        seen.add("message", message)
        say(f"hi <@{message['user']}>")

    @app.event("message")
    def other_messages(event: dict[str, Any]) -> None:
        seen.add("other_message", event)

    @app.event("app_mention")
    def mentioned(event: dict[str, Any], body: dict[str, Any]) -> None:
        seen.add("app_mention", {**event, "_event_id": body["event_id"]})

    @app.event("reaction_added")
    def reacted(event: dict[str, Any]) -> None:
        seen.add("reaction_added", event)

    @app.event("member_joined_channel")
    def joined(event: dict[str, Any]) -> None:
        seen.add("member_joined_channel", event)

    @app.event("channel_created")
    def created(event: dict[str, Any]) -> None:
        seen.add("channel_created", event)

    return app


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def bolt(slack_tenant: Tenant, seen: Seen) -> Iterator[str]:
    """A Bolt app on a WSGI server, registered as the default app's events request URL."""
    with AppServer(SlackRequestHandler(build_app(slack_tenant, seen)), wsgi=True) as server:
        url = server.url + "/slack/events"
        register(slack_tenant, url)
        yield url


def test_bolt_passes_the_url_verification_handshake(bolt: str, slack_tenant: Tenant) -> None:
    (check,) = slack_tenant.twin.deliveries(tenant=slack_tenant.tenant, kind="url_verification")
    assert check["target"] == bolt and check["state"] == "delivered"
    assert (
        check["attempts"][0]["status"] == 200
        and check["payload"]["challenge"] in check["attempts"][0]["response_body"]
    )


def test_a_bolt_app_with_the_wrong_signing_secret_fails_the_handshake(
    slack_tenant: Tenant, seen: Seen
) -> None:
    app = build_app(slack_tenant, seen, signing_secret="not-the-apps-secret")
    with AppServer(SlackRequestHandler(app), wsgi=True) as server, pytest.raises(SlackApiError) as err:
        register(slack_tenant, server.url + "/slack/events")
    assert err.value.response["error"] == "invalid_manifest"
    assert err.value.response["errors"][0]["pointer"] == "/settings/event_subscriptions/request_url"
    assert "401" in err.value.response["errors"][0]["message"]


def _history_has(client: WebClient, channel: str, text: str, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if text in [m["text"] for m in client.conversations_history(channel=channel, limit=5)["messages"]]:
            return True
        time.sleep(0.05)
    return False


def test_message_reaches_app_message_and_say_answers(
    bolt: str, seen: Seen, alice: WebClient, general: str
) -> None:
    posted = alice.chat_postMessage(channel=general, text="hello bolt")
    message = seen.wait("message")
    assert (message["ts"], message["user"], message["channel"]) == (posted["ts"], "U0DTUALICE", general)
    assert _history_has(alice, general, "hi <@U0DTUALICE>")


def test_app_mention_reaches_bolt(bolt: str, seen: Seen, alice: WebClient, general: str) -> None:
    posted = alice.chat_postMessage(channel=general, text=f"<@{BOT_USER}> what is the status?")
    mention = seen.wait("app_mention")
    assert mention["ts"] == posted["ts"] and mention["user"] == "U0DTUALICE"
    assert mention["_event_id"].startswith("Ev")


def test_reaction_added_reaches_bolt(bolt: str, seen: Seen, alice: WebClient, general: str) -> None:
    ts = alice.chat_postMessage(channel=general, text="react to me")["ts"]
    alice.reactions_add(channel=general, timestamp=ts, name="tada")
    reaction = seen.wait("reaction_added")
    assert reaction["reaction"] == "tada" and reaction["user"] == "U0DTUALICE"
    assert reaction["item"] == {"type": "message", "channel": general, "ts": ts}


def test_member_joined_channel_reaches_bolt(bolt: str, seen: Seen, alice: WebClient) -> None:
    room = alice.conversations_create(name="bolt-room")["channel"]["id"]
    alice.conversations_invite(channel=room, users=BOT_USER)
    alice.conversations_invite(channel=room, users="U0DTUBOB01")
    joined = seen.wait("member_joined_channel", lambda e: e["user"] == "U0DTUBOB01")
    assert joined["channel"] == room and joined["inviter"] == "U0DTUALICE"


def test_channel_created_reaches_bolt(bolt: str, seen: Seen, alice: WebClient) -> None:
    made = alice.conversations_create(name="announcements")["channel"]
    created = seen.wait("channel_created")
    assert created["channel"]["id"] == made["id"] and created["channel"]["creator"] == "U0DTUALICE"


def test_bolt_ignores_its_own_messages(
    bolt: str, seen: Seen, bot: WebClient, alice: WebClient, general: str, slack_tenant: Tenant
) -> None:
    """Bolt drops events from its own bot user: the twin must label them with its bot_id."""
    bot.chat_postMessage(channel=general, text="hello from the bot itself")
    deadline = time.monotonic() + 5
    while not any(
        d["state"] == "delivered"
        for d in slack_tenant.twin.deliveries(tenant=slack_tenant.tenant, kind="events")
    ):
        assert time.monotonic() < deadline, "the bot's own message was never delivered"
        time.sleep(0.02)
    alice.chat_postMessage(channel=general, text="hello after")
    assert seen.wait("message")["text"] == "hello after"
    assert [m["text"] for m in seen.items["message"]] == ["hello after"]


def test_async_bolt_app_on_asgi(slack_tenant: Tenant, alice: WebClient, general: str) -> None:
    """AsyncApp behind Bolt's Starlette adapter, on uvicorn, with AsyncWebClient (aiohttp)."""
    got: list[dict[str, Any]] = []
    app = AsyncApp(
        client=AsyncWebClient(token=slack_tenant.bot_token, base_url=slack_tenant.api_url),
        signing_secret=slack_tenant.signing_secret,
    )

    @app.message("ping")
    async def pong(message: dict[str, Any], say: Any) -> None:
        got.append(message)
        await say("pong")

    handler = AsyncSlackRequestHandler(app)

    async def endpoint(request: Request) -> Response:
        return await handler.handle(request)

    web = Starlette(routes=[Route("/slack/events", endpoint=endpoint, methods=["POST"])])
    with AppServer(web) as server:
        register(slack_tenant, server.url + "/slack/events", events=["message.channels"])
        alice.chat_postMessage(channel=general, text="ping")
        assert _history_has(alice, general, "pong")
    assert got[0]["text"] == "ping"
