"""Shortcuts, external select menus (block_suggestion), App Home and clicks on ephemeral
messages, delivered to a real Bolt app over HTTP (request verification on) configured through
its manifest."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from dtu.testing.plugin import Tenant
from dtu.testing.receiver import AppServer
from tests.twins.slack.test_interactivity import TRIGGER

SHORTCUTS = [
    {"name": "New ticket", "type": "global", "callback_id": "new_ticket", "description": "File a ticket"},
    {"name": "Quote", "type": "message", "callback_id": "quote", "description": "Quote this message"},
]
TICKET_MODAL = {
    "type": "modal",
    "callback_id": "ticket",
    "title": {"type": "plain_text", "text": "Ticket"},
    "submit": {"type": "plain_text", "text": "File"},
    "blocks": [
        {
            "type": "input",
            "block_id": "project",
            "label": {"type": "plain_text", "text": "Project"},
            "element": {"type": "external_select", "action_id": "pick", "min_query_length": 2},
        }
    ],
}
MENU = [
    {"type": "section", "block_id": "s", "text": {"type": "mrkdwn", "text": "Pick a repo"}},
    {
        "type": "actions",
        "block_id": "repo",
        "elements": [
            {
                "type": "external_select",
                "action_id": "repo_pick",
                "placeholder": {"type": "plain_text", "text": "Repo"},
            }
        ],
    },
]


class Bolt:
    """A Bolt app on a free port, registered through apps.manifest.update (the twin makes the
    url_verification handshake with it) with shortcuts, options URL and App Home events."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.client = WebClient(token=tenant.bot_token, base_url=tenant.api_url)
        self.app = App(signing_secret=tenant.signing_secret, client=self.client, process_before_response=True)
        self.server = AppServer(SlackRequestHandler(self.app), wsgi=True).start()
        self.url = f"{self.server.url}/slack/events"
        self.received: list[dict[str, Any]] = []
        self.arrived = threading.Condition()
        scopes = ["chat:write", "commands", "channels:history"]
        WebClient(token=tenant.config_token, base_url=tenant.api_url).apps_manifest_update(
            app_id=tenant.app_id,
            manifest={
                "display_information": {"name": "DTU App"},
                "features": {"bot_user": {"display_name": "dtu-app"}, "shortcuts": SHORTCUTS},
                "oauth_config": {"scopes": {"bot": scopes}},
                "settings": {
                    "event_subscriptions": {"request_url": self.url, "bot_events": ["app_home_opened"]},
                    "interactivity": {
                        "is_enabled": True,
                        "request_url": self.url,
                        "message_menu_options_url": self.url,
                    },
                },
            },
        )

    def record(self, body: dict[str, Any]) -> None:
        with self.arrived:
            self.received.append(body)
            self.arrived.notify_all()

    def wait(self, count: int = 1) -> list[dict[str, Any]]:
        """What the app's listeners were handed, once `count` things arrived (5 s at most)."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout=5.0)
            assert len(self.received) >= count, f"the app received {self.received}"
            return list(self.received)

    def do(self, path: str, **body: Any) -> httpx.Response:
        return self.tenant.twin.admin.post(f"/_dtu/slack/{path}", json={"tenant": self.tenant.tenant, **body})


@pytest.fixture
def bolt(slack_tenant: Tenant) -> Iterator[Bolt]:
    served = Bolt(slack_tenant)
    yield served
    served.server.stop()


# -- shortcuts ---------------------------------------------------------------------------------


def test_global_shortcut_opens_a_modal(bolt: Bolt) -> None:
    @bolt.app.shortcut("new_ticket")
    def new_ticket(ack: Ack, shortcut: dict[str, Any], client: WebClient) -> None:
        ack()
        bolt.record(shortcut)
        client.views_open(trigger_id=shortcut["trigger_id"], view=TICKET_MODAL)

    result = bolt.do("shortcuts", user="bob@example.com", callback_id="new_ticket")
    assert result.status_code == 200 and result.json()["outcome"] == "acknowledged", result.text
    [shortcut] = bolt.received
    assert shortcut["type"] == "shortcut" and shortcut["callback_id"] == "new_ticket"
    assert (
        TRIGGER.match(shortcut["trigger_id"]) and "response_url" not in shortcut and "channel" not in shortcut
    )
    assert shortcut["user"]["id"] == "U0DTUBOB01" and shortcut["team"]["id"] == bolt.tenant.team_id
    [view] = bolt.tenant.twin.state("views", bolt.tenant.tenant, user_id="U0DTUBOB01")
    assert view["definition"]["callback_id"] == "ticket"


def test_message_shortcut_gets_the_message_and_a_response_url(bolt: Bolt, general: str) -> None:
    @bolt.app.shortcut("quote")
    def quote(ack: Ack, shortcut: dict[str, Any], respond: Respond) -> None:
        ack()
        bolt.record(shortcut)
        respond(text=f"> {shortcut['message']['text']}", response_type="in_channel")

    ts = WebClient(token=bolt.tenant.user_token, base_url=bolt.tenant.api_url).chat_postMessage(
        channel=general, text="ship it"
    )["ts"]
    result = bolt.do("shortcuts", user="U0DTUBOB01", callback_id="quote", channel=general, message_ts=ts)
    assert result.json()["outcome"] == "acknowledged", result.text
    [shortcut] = bolt.received
    assert shortcut["type"] == "message_action" and shortcut["message_ts"] == ts
    assert shortcut["message"]["text"] == "ship it" and shortcut["message"]["user"] == "U0DTUALICE"
    assert shortcut["channel"] == {"id": general, "name": "general"}
    assert shortcut["response_url"].startswith(f"{bolt.tenant.url}/actions/")
    assert bolt.client.conversations_history(channel=general, limit=1)["messages"][0]["text"] == "> ship it"


def test_shortcut_refusals(bolt: Bolt, general: str) -> None:
    assert bolt.do("shortcuts", user="U0DTUBOB01", callback_id="nope").status_code == 404
    # A message shortcut is not a global one, and the other way round.
    assert bolt.do("shortcuts", user="U0DTUBOB01", callback_id="quote").status_code == 404
    ts = bolt.client.chat_postMessage(channel=general, text="x")["ts"]
    assert (
        bolt.do(
            "shortcuts", user="U0DTUBOB01", callback_id="new_ticket", channel=general, message_ts=ts
        ).status_code
        == 404
    )
    assert (
        bolt.do(
            "shortcuts", user="U0DTUBOB01", callback_id="quote", channel=general, message_ts="1.5"
        ).status_code
        == 404
    )
    assert bolt.tenant.twin.deliveries(bolt.tenant.tenant, kind="interactivity") == []


def test_shortcut_the_app_does_not_acknowledge(bolt: Bolt) -> None:
    result = bolt.do(
        "shortcuts", user="U0DTUBOB01", callback_id="new_ticket"
    )  # no listener: Bolt answers 404
    assert result.json()["outcome"] == "failed" and result.json()["error_shown"] == "dispatch_failed"


# -- block_suggestion --------------------------------------------------------------------------


def test_external_select_in_a_modal_loads_options_from_the_app(bolt: Bolt) -> None:
    @bolt.app.shortcut("new_ticket")
    def new_ticket(ack: Ack, shortcut: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=shortcut["trigger_id"], view=TICKET_MODAL)

    @bolt.app.options("pick")
    def options(ack: Ack, body: dict[str, Any]) -> None:
        bolt.record(body)
        names = ["api", "apps", "web"]
        ack(
            options=[
                {"text": {"type": "plain_text", "text": n}, "value": n}
                for n in names
                if n.startswith(body["value"])
            ]
        )

    bolt.do("shortcuts", user="U0DTUBOB01", callback_id="new_ticket")
    [view] = bolt.tenant.twin.state("views", bolt.tenant.tenant, user_id="U0DTUBOB01")
    short = bolt.do("options", user="U0DTUBOB01", view_id=view["id"], action_id="pick", value="a")
    assert short.json()["outcome"] == "too_short" and short.json()["delivery_id"] is None
    typed = bolt.do("options", user="U0DTUBOB01", view_id=view["id"], action_id="pick", value="ap")
    assert typed.json()["outcome"] == "options", typed.text
    assert [o["value"] for o in typed.json()["options"]] == ["api", "apps"]
    [body] = bolt.received
    assert body["type"] == "block_suggestion" and body["value"] == "ap" and body["block_id"] == "project"
    assert body["container"] == {"type": "view", "view_id": view["id"]} and body["view"]["id"] == view["id"]
    # The person picks one of them and submits: the choice is an option object in the state.
    submitted = bolt.do(
        "views/submit",
        user="U0DTUBOB01",
        view_id=view["id"],
        values={"project": {"pick": {"selected_option": "apps"}}},
    )
    state = submitted.json()["payload"]["view"]["state"]["values"]
    assert state["project"]["pick"]["selected_option"]["value"] == "apps"


def test_external_select_in_a_message(bolt: Bolt, general: str) -> None:
    @bolt.app.options("repo_pick")
    def options(ack: Ack, body: dict[str, Any]) -> None:
        bolt.record(body)
        ack(
            option_groups=[
                {
                    "label": {"type": "plain_text", "text": "Repos"},
                    "options": [{"text": {"type": "plain_text", "text": "dtu"}, "value": "dtu"}],
                }
            ]
        )

    ts = bolt.client.chat_postMessage(channel=general, text="Pick", blocks=MENU)["ts"]
    typed = bolt.do(
        "options", user="U0DTUCAROL", channel=general, message_ts=ts, action_id="repo_pick", value="dtu"
    )
    assert typed.json()["option_groups"][0]["options"][0]["value"] == "dtu", typed.text
    [body] = bolt.received
    assert body["container"]["type"] == "message" and body["container"]["message_ts"] == ts
    assert body["channel"]["id"] == general and body["message"]["ts"] == ts


def test_options_the_app_answers_badly(bolt: Bolt, general: str) -> None:
    @bolt.app.options("repo_pick")
    def options(ack: Ack) -> None:
        ack(options=[{"value": "no text"}])

    ts = bolt.client.chat_postMessage(channel=general, text="Pick", blocks=MENU)["ts"]
    typed = bolt.do(
        "options", user="U0DTUCAROL", channel=general, message_ts=ts, action_id="repo_pick", value="abc"
    )
    assert typed.json()["outcome"] == "failed" and typed.json()["options"] == []
    buttons = bolt.do(
        "options", user="U0DTUCAROL", channel=general, message_ts=ts, action_id="nope", value="abc"
    )
    assert buttons.status_code == 404


# -- App Home ----------------------------------------------------------------------------------


def test_app_home_opened_reaches_the_app_with_the_published_view(bolt: Bolt) -> None:
    @bolt.app.event("app_home_opened")
    def home(event: dict[str, Any], client: WebClient) -> None:
        if event["tab"] == "home" and "view" not in event:
            client.views_publish(
                user_id=event["user"],
                view={
                    "type": "home",
                    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Welcome"}}],
                },
            )
        bolt.record(event)  # once published: the person opens the tab again only then

    first = bolt.do("home", user="U0DTUBOB01")
    assert first.status_code == 200 and first.json()["event_sent"] is True and first.json()["view"] is None
    [event] = bolt.wait(1)
    assert event["type"] == "app_home_opened" and event["user"] == "U0DTUBOB01" and event["tab"] == "home"
    dm = bolt.client.conversations_info(channel=event["channel"])["channel"]
    assert dm["is_im"] is True and dm["user"] == "U0DTUBOB01"
    second = bolt.do("home", user="U0DTUBOB01")
    assert second.json()["view"]["blocks"][0]["text"]["text"] == "Welcome"
    assert second.json()["channel"] == event["channel"]
    assert bolt.wait(2)[1]["view"]["type"] == "home"


def test_app_home_opened_is_not_sent_to_apps_that_do_not_subscribe(slack_tenant: Tenant) -> None:
    opened = slack_tenant.twin.admin.post(
        "/_dtu/slack/home", json={"tenant": slack_tenant.tenant, "user": "U0DTUBOB01", "tab": "messages"}
    )
    assert opened.json()["event_sent"] is False and opened.json()["tab"] == "messages"
    assert slack_tenant.twin.deliveries(slack_tenant.tenant, kind="events") == []
    bad = slack_tenant.twin.admin.post(
        "/_dtu/slack/home", json={"tenant": slack_tenant.tenant, "user": "U0DTUBOB01", "tab": "x"}
    )
    assert bad.status_code == 400


# -- clicks on ephemeral messages --------------------------------------------------------------


def test_click_on_an_ephemeral_message_and_replace_it(bolt: Bolt, general: str) -> None:
    @bolt.app.action("approve")
    def approve(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        bolt.record(body)
        respond(text="Approved", replace_original=True)

    buttons = [
        {
            "type": "actions",
            "block_id": "b",
            "elements": [
                {"type": "button", "action_id": "approve", "text": {"type": "plain_text", "text": "OK"}}
            ],
        }
    ]
    ts = bolt.client.chat_postEphemeral(channel=general, user="U0DTUBOB01", text="Approve?", blocks=buttons)[
        "message_ts"
    ]
    # Only the person who sees it can click it.
    assert (
        bolt.do(
            "actions", user="U0DTUCAROL", channel=general, message_ts=ts, action_id="approve", ephemeral=True
        ).status_code
        == 404
    )
    result = bolt.do(
        "actions", user="U0DTUBOB01", channel=general, message_ts=ts, action_id="approve", ephemeral=True
    )
    assert result.json()["outcome"] == "acknowledged", result.text
    [body] = bolt.received
    assert body["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": general,
        "is_ephemeral": True,
    }
    assert "message" not in body and body["response_url"]
    [shown] = bolt.tenant.twin.state("ephemeral", bolt.tenant.tenant, user_id="U0DTUBOB01")
    assert shown["text"] == "Approved" and shown["blocks"] is None
    assert all(
        m["text"] != "Approved" for m in bolt.client.conversations_history(channel=general)["messages"]
    )


def test_delete_an_ephemeral_message_through_its_response_url(bolt: Bolt, general: str) -> None:
    @bolt.app.action("dismiss")
    def dismiss(ack: Ack, respond: Respond) -> None:
        ack()
        respond(delete_original=True)

    blocks = [
        {
            "type": "actions",
            "elements": [
                {"type": "button", "action_id": "dismiss", "text": {"type": "plain_text", "text": "Dismiss"}}
            ],
        }
    ]
    ts = bolt.client.chat_postEphemeral(channel=general, user="U0DTUBOB01", text="Tip", blocks=blocks)[
        "message_ts"
    ]
    bolt.do("actions", user="U0DTUBOB01", channel=general, message_ts=ts, action_id="dismiss", ephemeral=True)
    assert bolt.tenant.twin.state("ephemeral", bolt.tenant.tenant, user_id="U0DTUBOB01") == []
