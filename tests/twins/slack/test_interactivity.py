"""Slash commands, clicks, response_url and incoming webhooks, through a real Bolt app.

The Bolt app runs over HTTP with request verification on: a payload the twin signed wrongly
would never reach a listener.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from dtu.testing.plugin import Tenant
from dtu.testing.receiver import AppServer

TRIGGER = re.compile(r"^\d+\.\d+\.[0-9a-f]+$")
BUTTONS = [
    {"type": "section", "block_id": "ask", "text": {"type": "mrkdwn", "text": "Deploy?"}},
    {
        "type": "actions",
        "block_id": "choices",
        "elements": [
            {
                "type": "button",
                "action_id": "approve",
                "text": {"type": "plain_text", "text": "Approve"},
                "value": "42",
            },
            {
                "type": "static_select",
                "action_id": "env",
                "placeholder": {"type": "plain_text", "text": "Env"},
                "options": [
                    {"text": {"type": "plain_text", "text": "Prod"}, "value": "prod"},
                    {"text": {"type": "plain_text", "text": "Staging"}, "value": "staging"},
                ],
            },
        ],
    },
]


# -- a Bolt app served over HTTP ---------------------------------------------------------------


class Bolt:
    """A Bolt app on a free port, configured as the tenant's app (interactivity and commands)."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.client = WebClient(token=tenant.bot_token, base_url=tenant.api_url)
        self.app = App(signing_secret=tenant.signing_secret, client=self.client, process_before_response=True)
        self.server = AppServer(SlackRequestHandler(self.app), wsgi=True).start()
        self.url = f"{self.server.url}/slack/events"
        self.received: list[dict[str, Any]] = []
        app_row = tenant.twin.state("apps", tenant.tenant)[0]
        bot_user = tenant.twin.state("users", tenant.tenant, id=app_row["bot_user_id"])[0]
        tenant.twin.control(
            "POST",
            "/seed",
            params={"tenant": tenant.tenant},
            json={
                "apps": [
                    {
                        "id": app_row["id"],
                        "name": app_row["name"],
                        "bot_id": app_row["bot_id"],
                        "bot_user": {
                            "id": bot_user["id"],
                            "name": bot_user["name"],
                            "real_name": bot_user["real_name"],
                        },
                        "bot_token": tenant.bot_token,
                        "signing_secret": tenant.signing_secret,
                        "interactivity_url": self.url,
                        "slash_commands": [{"command": "/deploy", "url": self.url, "description": "Deploy"}],
                    }
                ]
            },
        )

    def stop(self) -> None:
        self.server.stop()

    def do(self, path: str, **body: Any) -> httpx.Response:
        """A simulated person's action through the control plane."""
        return self.tenant.twin.admin.post(f"/_dtu/slack/{path}", json={"tenant": self.tenant.tenant, **body})


@pytest.fixture
def bolt(slack_tenant: Tenant) -> Iterator[Bolt]:
    served = Bolt(slack_tenant)
    yield served
    served.stop()


def _posted_with_buttons(bot: WebClient, channel: str) -> str:
    return str(bot.chat_postMessage(channel=channel, text="Deploy?", blocks=BUTTONS)["ts"])


# -- slash commands ----------------------------------------------------------------------------


def test_slash_command_reaches_the_app_with_slacks_fields(bolt: Bolt, general: str) -> None:
    @bolt.app.command("/deploy")
    def deploy(ack: Ack, body: dict[str, Any]) -> None:
        bolt.received.append(body)
        ack()

    result = bolt.do("commands", user="bob@example.com", channel=general, command="/deploy", text="api v2")
    assert result.status_code == 200 and result.json()["outcome"] == "acknowledged"
    body = bolt.received[0]
    assert body["command"] == "/deploy" and body["text"] == "api v2"
    assert body["user_id"] == "U0DTUBOB01" and body["user_name"] == "bob"
    assert body["channel_id"] == general and body["channel_name"] == "general"
    assert body["team_id"] == bolt.tenant.team_id and body["api_app_id"] == bolt.tenant.app_id
    assert TRIGGER.match(body["trigger_id"]) and body["trigger_id"] == result.json()["trigger_id"]
    assert body["response_url"].startswith(f"{bolt.tenant.url}/commands/{bolt.tenant.team_id}/")
    [delivery] = bolt.tenant.twin.deliveries(bolt.tenant.tenant, kind="interactivity")
    assert delivery["id"] == result.json()["delivery_id"] and delivery["state"] == "delivered"


def test_slash_command_text_answer_is_ephemeral_to_the_user(bolt: Bolt, bot: WebClient, general: str) -> None:
    @bolt.app.command("/deploy")
    def deploy(ack: Ack) -> None:
        ack("Deploying now")

    result = bolt.do("commands", user="U0DTUBOB01", channel=general, command="/deploy", text="")
    assert result.json()["outcome"] == "ephemeral"
    shown = bolt.tenant.twin.state("ephemeral", bolt.tenant.tenant, user_id="U0DTUBOB01")
    assert [e["text"] for e in shown] == ["Deploying now"]
    assert all(m["text"] != "Deploying now" for m in bot.conversations_history(channel=general)["messages"])


def test_slash_command_in_channel_answer_is_posted_by_the_app(
    bolt: Bolt, bot: WebClient, general: str
) -> None:
    @bolt.app.command("/deploy")
    def deploy(ack: Ack) -> None:
        ack(text="Deployed api", response_type="in_channel")

    result = bolt.do("commands", user="U0DTUBOB01", channel=general, command="/deploy", text="api")
    assert result.json()["outcome"] == "in_channel"
    latest = bot.conversations_history(channel=general)["messages"][0]
    assert latest["text"] == "Deployed api" and latest["bot_id"] == bot.auth_test()["bot_id"]


def test_slash_command_not_answered_in_3s_is_operation_timeout(bolt: Bolt, general: str) -> None:
    @bolt.app.command("/deploy")
    def deploy(ack: Ack) -> None:
        time.sleep(3.3)
        ack()

    result = bolt.do("commands", user="U0DTUBOB01", channel=general, command="/deploy", text="")
    assert result.json()["outcome"] == "failed" and result.json()["error"] == "operation_timeout"
    shown = bolt.tenant.twin.state("ephemeral", bolt.tenant.tenant, user_id="U0DTUBOB01")
    assert shown[0]["text"] == '/deploy failed with the error "operation_timeout"'


def test_unknown_slash_command_is_refused(bolt: Bolt, general: str) -> None:
    result = bolt.do("commands", user="U0DTUBOB01", channel=general, command="/nope", text="")
    assert result.status_code == 404 and "/nope" in result.json()["error"]["message"]


def test_respond_in_channel_through_the_response_url(bolt: Bolt, bot: WebClient, general: str) -> None:
    @bolt.app.command("/deploy")
    def deploy(ack: Ack, respond: Respond) -> None:
        ack()
        bolt.received.append({"status": respond(text="Done: api", response_type="in_channel").status_code})

    bolt.do("commands", user="U0DTUBOB01", channel=general, command="/deploy", text="api")
    assert bolt.received == [{"status": 200}]
    assert bot.conversations_history(channel=general)["messages"][0]["text"] == "Done: api"


def test_respond_defaults_to_an_ephemeral_message(bolt: Bolt, general: str) -> None:
    @bolt.app.command("/deploy")
    def deploy(ack: Ack, respond: Respond) -> None:
        ack()
        respond("only you can see this")

    bolt.do("commands", user="U0DTUBOB01", channel=general, command="/deploy", text="")
    shown = bolt.tenant.twin.state("ephemeral", bolt.tenant.tenant, user_id="U0DTUBOB01")
    assert [(e["text"], e["source"]) for e in shown] == [("only you can see this", "response_url")]


def test_response_url_takes_five_uses(bolt: Bolt, general: str) -> None:
    @bolt.app.command("/deploy")
    def deploy(ack: Ack) -> None:
        ack()

    url = bolt.do("commands", user="U0DTUBOB01", channel=general, command="/deploy", text="").json()[
        "response_url"
    ]
    hook = WebhookClient(url)
    assert [hook.send(text=f"step {i}").status_code for i in range(5)] == [200] * 5
    sixth = hook.send(text="step 6")
    assert (sixth.status_code, sixth.body) == (404, "Used url")


def test_response_url_expires_after_30_minutes(bolt: Bolt, general: str) -> None:
    @bolt.app.command("/deploy")
    def deploy(ack: Ack) -> None:
        ack()

    url = bolt.do("commands", user="U0DTUBOB01", channel=general, command="/deploy", text="").json()[
        "response_url"
    ]
    bolt.tenant.twin.clock(bolt.tenant.tenant, advance_s=30 * 60 + 1)
    late = WebhookClient(url).send(text="too late")
    assert (late.status_code, late.body) == (404, "Expired url")


# -- clicks in messages ------------------------------------------------------------------------


def test_button_click_delivers_block_actions(bolt: Bolt, bot: WebClient, general: str) -> None:
    ts = _posted_with_buttons(bot, general)

    @bolt.app.action("approve")
    def approve(ack: Ack, body: dict[str, Any]) -> None:
        bolt.received.append(body)
        ack()

    result = bolt.do("actions", user="alice@example.com", channel=general, message_ts=ts, action_id="approve")
    assert result.status_code == 200 and result.json()["outcome"] == "acknowledged"
    body = bolt.received[0]
    assert body["type"] == "block_actions" and body["user"]["id"] == "U0DTUALICE"
    assert body["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": general,
        "is_ephemeral": False,
    }
    assert body["message"]["ts"] == ts and body["channel"] == {"id": general, "name": "general"}
    action = body["actions"][0]
    assert (action["action_id"], action["block_id"], action["value"], action["type"]) == (
        "approve",
        "choices",
        "42",
        "button",
    )
    assert TRIGGER.match(body["trigger_id"])
    assert body["response_url"].startswith(f"{bolt.tenant.url}/actions/{bolt.tenant.team_id}/")


def test_select_choice_carries_the_option(bolt: Bolt, bot: WebClient, general: str) -> None:
    ts = _posted_with_buttons(bot, general)

    @bolt.app.action("env")
    def env(ack: Ack, action: dict[str, Any]) -> None:
        bolt.received.append(action)
        ack()

    bolt.do(
        "actions",
        user="U0DTUBOB01",
        channel=general,
        message_ts=ts,
        action_id="env",
        selected_option="staging",
    )
    assert bolt.received[0]["selected_option"]["value"] == "staging"
    assert bolt.received[0]["selected_option"]["text"]["text"] == "Staging"


def test_choice_not_among_the_options_is_refused(bolt: Bolt, bot: WebClient, general: str) -> None:
    ts = _posted_with_buttons(bot, general)
    result = bolt.do(
        "actions", user="U0DTUBOB01", channel=general, message_ts=ts, action_id="env", selected_option="qa"
    )
    assert result.status_code == 400


def test_click_on_an_element_the_message_lacks_is_refused(bolt: Bolt, bot: WebClient, general: str) -> None:
    ts = _posted_with_buttons(bot, general)
    result = bolt.do("actions", user="U0DTUBOB01", channel=general, message_ts=ts, action_id="reject")
    assert result.status_code == 404 and result.json()["error"]["field"] == "action_id"


def test_respond_replace_original_updates_the_message(bolt: Bolt, bot: WebClient, general: str) -> None:
    ts = _posted_with_buttons(bot, general)

    @bolt.app.action("approve")
    def approve(ack: Ack, respond: Respond) -> None:
        ack()
        respond(text="Approved by alice", replace_original=True)

    bolt.do("actions", user="U0DTUALICE", channel=general, message_ts=ts, action_id="approve")
    message = bot.conversations_history(channel=general, latest=ts, inclusive=True, limit=1)["messages"][0]
    assert message["ts"] == ts and message["text"] == "Approved by alice" and "blocks" not in message


def test_respond_delete_original_removes_the_message(bolt: Bolt, bot: WebClient, general: str) -> None:
    ts = _posted_with_buttons(bot, general)

    @bolt.app.action("approve")
    def approve(ack: Ack, respond: Respond) -> None:
        ack()
        respond(delete_original=True)

    bolt.do("actions", user="U0DTUALICE", channel=general, message_ts=ts, action_id="approve")
    assert all(m["ts"] != ts for m in bot.conversations_history(channel=general)["messages"])


def test_click_without_a_listener_is_recorded_as_failed(bolt: Bolt, bot: WebClient, general: str) -> None:
    ts = _posted_with_buttons(bot, general)
    result = bolt.do("actions", user="U0DTUALICE", channel=general, message_ts=ts, action_id="approve")
    assert result.json()["outcome"] == "failed" and result.json()["status"] == 404


# -- incoming webhooks -------------------------------------------------------------------------


def _webhook(tenant: Tenant, channel: str) -> str:
    made = tenant.twin.control("POST", "/slack/webhooks", json={"tenant": tenant.tenant, "channel": channel})
    return str(made["incoming_webhook"]["url"])


def test_incoming_webhook_posts_as_the_app(slack_tenant: Tenant, bot: WebClient, general: str) -> None:
    url = _webhook(slack_tenant, general)
    assert url.startswith(f"{slack_tenant.url}/services/{slack_tenant.team_id}/B")
    sent = WebhookClient(url).send(text="build green")
    assert (sent.status_code, sent.body) == (200, "ok")
    latest = bot.conversations_history(channel=general)["messages"][0]
    assert latest["text"] == "build green" and latest["bot_id"] == bot.auth_test()["bot_id"]


def test_incoming_webhook_without_text_is_no_text(slack_tenant: Tenant, general: str) -> None:
    sent = WebhookClient(_webhook(slack_tenant, general)).send_dict({"unfurl_links": False})
    assert (sent.status_code, sent.body) == (400, "no_text")


def test_incoming_webhook_with_a_broken_body_is_invalid_payload(slack_tenant: Tenant, general: str) -> None:
    sent = httpx.post(
        _webhook(slack_tenant, general), content=b"{nope", headers={"content-type": "application/json"}
    )
    assert (sent.status_code, sent.text) == (400, "invalid_payload")


def test_incoming_webhook_into_an_archived_channel(slack_tenant: Tenant, alice: WebClient) -> None:
    channel = alice.conversations_create(name="releases")["channel"]["id"]
    url = _webhook(slack_tenant, channel)
    alice.conversations_archive(channel=channel)
    sent = WebhookClient(url).send(text="too late")
    assert (sent.status_code, sent.body) == (410, "channel_is_archived")


def test_incoming_webhook_with_a_wrong_secret_is_invalid_token(slack_tenant: Tenant, general: str) -> None:
    url = _webhook(slack_tenant, general)
    sent = WebhookClient(url[:-4] + "XXXX").send(text="hi")
    assert (sent.status_code, sent.body) == (403, "invalid_token")


def test_incoming_webhook_from_a_fixture(slack_tenant: Tenant, bot: WebClient, general: str) -> None:
    created = slack_tenant.twin.control(
        "POST",
        "/seed",
        params={"tenant": slack_tenant.tenant},
        json={"incoming_webhooks": [{"channel": general}]},
    )["created"]
    sent = WebhookClient(f"{slack_tenant.url}/{created['incoming_webhooks'][0]}").send(text="from a fixture")
    assert (sent.status_code, sent.body) == (200, "ok")
    assert bot.conversations_history(channel=general)["messages"][0]["text"] == "from a fixture"
