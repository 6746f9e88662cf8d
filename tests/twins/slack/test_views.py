"""views.* (modals and App Home) and the modal lifecycle, through slack_sdk and a real Bolt app.

Trigger ids come the way apps get them: a simulated person runs a slash command or clicks,
and the twin hands the Bolt app (served over HTTP, request verification on) a fresh trigger_id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from dtu.testing.plugin import Tenant
from dtu.testing.receiver import AppServer


def modal(title: str = "Deploy", callback_id: str = "deploy_form", **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Go"},
        "blocks": [
            {
                "type": "input",
                "block_id": "service",
                "label": {"type": "plain_text", "text": "Service"},
                "element": {"type": "plain_text_input", "action_id": "name"},
            },
            {
                "type": "input",
                "block_id": "env",
                "optional": True,
                "label": {"type": "plain_text", "text": "Env"},
                "element": {
                    "type": "static_select",
                    "action_id": "pick",
                    "options": [{"text": {"type": "plain_text", "text": "Prod"}, "value": "prod"}],
                },
            },
            {
                "type": "actions",
                "block_id": "more",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "details",
                        "text": {"type": "plain_text", "text": "Details"},
                    }
                ],
            },
        ],
        **extra,
    }


def home() -> dict[str, Any]:
    return {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Welcome home"}}],
    }


# -- a Bolt app served over HTTP ---------------------------------------------------------------


class Bolt:
    """A Bolt app on a free port, configured as the tenant's app (interactivity, /deploy)."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.client = WebClient(token=tenant.bot_token, base_url=tenant.api_url)
        self.app = App(signing_secret=tenant.signing_secret, client=self.client, process_before_response=True)
        self.server = AppServer(SlackRequestHandler(self.app), wsgi=True).start()
        self.url = f"{self.server.url}/slack/events"
        self.received: list[Any] = []
        self.acks_deploy = False
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
        return self.tenant.twin.admin.post(f"/_dtu/slack/{path}", json={"tenant": self.tenant.tenant, **body})

    def trigger(self, channel: str, user: str = "U0DTUBOB01") -> str:
        """A fresh trigger_id, as handed to the app with a /deploy command."""
        if not self.acks_deploy:
            self.acks_deploy = True

            @self.app.command("/deploy")
            def deploy(ack: Ack) -> None:
                ack()

        result = self.do("commands", user=user, channel=channel, command="/deploy", text="")
        return str(result.json()["trigger_id"])

    def view(self, view_id: str) -> dict[str, Any]:
        return self.tenant.twin.state("views", self.tenant.tenant, id=view_id)[0]


@pytest.fixture
def bolt(slack_tenant: Tenant) -> Iterator[Bolt]:
    served = Bolt(slack_tenant)
    yield served
    served.stop()


def _error(call: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as err:
        call()
    data: dict[str, Any] = err.value.response.data
    return data


# -- views.open --------------------------------------------------------------------------------


def test_bolt_opens_a_modal_with_the_commands_trigger(bolt: Bolt, general: str) -> None:
    @bolt.app.command("/deploy")
    def deploy(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        bolt.received.append(client.views_open(trigger_id=body["trigger_id"], view=modal())["view"])

    bolt.do("commands", user="U0DTUBOB01", channel=general, command="/deploy", text="")
    opened = bolt.received[0]
    stored = bolt.view(opened["id"])
    assert stored["user_id"] == "U0DTUBOB01" and stored["is_open"] and stored["type"] == "modal"


def test_views_open_answers_the_view_object(bolt: Bolt, bot: WebClient, general: str) -> None:
    view = bot.views_open(trigger_id=bolt.trigger(general), view=modal())["view"]
    assert view["id"].startswith("V") and len(view["id"]) == 11
    assert view["root_view_id"] == view["id"] and view["previous_view_id"] is None
    assert (view["type"], view["callback_id"], view["private_metadata"]) == ("modal", "deploy_form", "")
    assert view["state"] == {"values": {}} and view["hash"]
    assert view["title"] == {"type": "plain_text", "text": "Deploy", "emoji": True}
    assert view["app_id"] == bolt.tenant.app_id and view["bot_id"] == bot.auth_test()["bot_id"]
    assert view["team_id"] == bolt.tenant.team_id == view["app_installed_team_id"]
    assert view["blocks"][1]["optional"] is True and view["blocks"][0]["optional"] is False


def test_blocks_without_ids_get_ids(bolt: Bolt, bot: WebClient, general: str) -> None:
    blocks = [
        {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "A"}}]}
    ]
    view = bot.views_open(trigger_id=bolt.trigger(general), view=modal() | {"blocks": blocks})["view"]
    assert view["blocks"][0]["block_id"] and view["blocks"][0]["elements"][0]["action_id"]


def test_a_trigger_opens_one_view_only(bolt: Bolt, bot: WebClient, general: str) -> None:
    trigger = bolt.trigger(general)
    bot.views_open(trigger_id=trigger, view=modal())
    assert _error(lambda: bot.views_open(trigger_id=trigger, view=modal()))["error"] == "exchanged_trigger_id"


def test_a_trigger_expires_after_3_seconds(bolt: Bolt, bot: WebClient, general: str) -> None:
    trigger = bolt.trigger(general)
    bolt.tenant.twin.clock(bolt.tenant.tenant, advance_s=4)
    assert _error(lambda: bot.views_open(trigger_id=trigger, view=modal()))["error"] == "expired_trigger_id"


@pytest.mark.parametrize("trigger", ["not-a-trigger", "12345.98765.abcd2358fdea"])
def test_unknown_trigger_is_invalid_trigger_id(bot: WebClient, trigger: str) -> None:
    assert _error(lambda: bot.views_open(trigger_id=trigger, view=modal()))["error"] == "invalid_trigger_id"


def test_title_over_24_characters_is_invalid_arguments(bolt: Bolt, bot: WebClient, general: str) -> None:
    data = _error(lambda: bot.views_open(trigger_id=bolt.trigger(general), view=modal(title="x" * 25)))
    assert data["error"] == "invalid_arguments"
    assert data["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]


def test_invalid_blocks_point_into_the_view(bolt: Bolt, bot: WebClient, general: str) -> None:
    view = modal() | {"blocks": [{"type": "section"}]}
    data = _error(lambda: bot.views_open(trigger_id=bolt.trigger(general), view=view))
    assert data["error"] == "invalid_arguments"
    assert any("[json-pointer:/view/blocks/0/text]" in m for m in data["response_metadata"]["messages"])


def test_private_metadata_over_3000_characters(bolt: Bolt, bot: WebClient, general: str) -> None:
    view = modal(private_metadata="m" * 3001)
    data = _error(lambda: bot.views_open(trigger_id=bolt.trigger(general), view=view))
    assert data["error"] == "invalid_arguments"
    assert "[json-pointer:/view/private_metadata]" in data["response_metadata"]["messages"][0]


def test_a_home_view_cannot_be_opened_as_a_modal(bolt: Bolt, bot: WebClient, general: str) -> None:
    data = _error(lambda: bot.views_open(trigger_id=bolt.trigger(general), view=home()))
    assert data["error"] == "invalid_arguments"


def test_external_id_is_unique(bolt: Bolt, bot: WebClient, general: str) -> None:
    bot.views_open(trigger_id=bolt.trigger(general), view=modal(external_id="deploy-1"))
    again = _error(
        lambda: bot.views_open(trigger_id=bolt.trigger(general), view=modal(external_id="deploy-1"))
    )
    assert again["error"] == "duplicate_external_id"


# -- views.update ------------------------------------------------------------------------------


def test_update_changes_the_hash_and_a_stale_hash_conflicts(bolt: Bolt, bot: WebClient, general: str) -> None:
    first = bot.views_open(trigger_id=bolt.trigger(general), view=modal())["view"]
    second = bot.views_update(view_id=first["id"], hash=first["hash"], view=modal(title="Deploy 2"))["view"]
    assert second["id"] == first["id"] and second["hash"] != first["hash"]
    assert second["title"]["text"] == "Deploy 2"
    stale = _error(
        lambda: bot.views_update(view_id=first["id"], hash=first["hash"], view=modal(title="Deploy 3"))
    )
    assert stale["error"] == "hash_conflict"


def test_update_by_external_id(bolt: Bolt, bot: WebClient, general: str) -> None:
    opened = bot.views_open(trigger_id=bolt.trigger(general), view=modal(external_id="ext-7"))["view"]
    updated = bot.views_update(external_id="ext-7", view=modal(title="Again", external_id="ext-7"))["view"]
    assert updated["id"] == opened["id"] and updated["external_id"] == "ext-7"


def test_update_of_an_unknown_view_is_not_found(bot: WebClient) -> None:
    assert _error(lambda: bot.views_update(view_id="V0000000000", view=modal()))["error"] == "not_found"


# -- views.publish -----------------------------------------------------------------------------


def test_publish_home_tab_then_republish_with_hash(bot: WebClient) -> None:
    first = bot.views_publish(user_id="U0DTUBOB01", view=home())["view"]
    assert first["type"] == "home" and first["close"] is None and first["submit"] is None
    assert first["blocks"][0]["text"] == {"type": "mrkdwn", "text": "Welcome home", "verbatim": False}
    second = bot.views_publish(user_id="U0DTUBOB01", view=home(), hash=first["hash"])["view"]
    assert second["id"] == first["id"] and second["hash"] != first["hash"]
    stale = _error(lambda: bot.views_publish(user_id="U0DTUBOB01", view=home(), hash=first["hash"]))
    assert stale["error"] == "hash_conflict"


def test_publish_with_a_user_token_is_not_allowed(alice: WebClient) -> None:
    data = _error(lambda: alice.views_publish(user_id="U0DTUBOB01", view=home()))
    assert data["error"] == "not_allowed_token_type"


def test_publish_to_an_unknown_user_is_invalid_arguments(bot: WebClient) -> None:
    assert (
        _error(lambda: bot.views_publish(user_id="U0NOBODY00", view=home()))["error"] == "invalid_arguments"
    )


# -- views.push --------------------------------------------------------------------------------


def test_push_from_a_click_in_the_modal_up_to_three_views(bolt: Bolt, bot: WebClient, general: str) -> None:
    root = bot.views_open(trigger_id=bolt.trigger(general), view=modal())["view"]

    @bolt.app.action("details")
    def details(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        try:
            bolt.received.append(
                client.views_push(trigger_id=body["trigger_id"], view=modal(title="More"))["view"]
            )
        except SlackApiError as exc:
            bolt.received.append(exc.response["error"])

    top = root
    for _ in range(3):
        bolt.do("actions", user="U0DTUBOB01", view_id=top["id"], action_id="details")
        if isinstance(bolt.received[-1], dict):
            top = bolt.received[-1]
    pushed, last = bolt.received[:2], bolt.received[2]
    assert [v["root_view_id"] for v in pushed] == [root["id"], root["id"]]
    assert pushed[0]["previous_view_id"] == root["id"] and pushed[1]["previous_view_id"] == pushed[0]["id"]
    assert last == "push_limit_reached"


def test_push_needs_a_trigger_from_a_modal(bolt: Bolt, bot: WebClient, general: str) -> None:
    assert (
        _error(lambda: bot.views_push(trigger_id=bolt.trigger(general), view=modal()))["error"] == "not_found"
    )


def test_click_in_a_modal_carries_the_view_and_its_state(bolt: Bolt, bot: WebClient, general: str) -> None:
    opened = bot.views_open(trigger_id=bolt.trigger(general), view=modal())["view"]

    @bolt.app.action("details")
    def details(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        bolt.received.append(body)

    bolt.do(
        "actions",
        user="U0DTUBOB01",
        view_id=opened["id"],
        action_id="details",
        values={"service": {"name": {"value": "api"}}},
    )
    body = bolt.received[0]
    assert body["container"] == {"type": "view", "view_id": opened["id"]} and "response_url" not in body
    assert body["view"]["state"]["values"]["service"]["name"] == {"type": "plain_text_input", "value": "api"}


# -- the modal lifecycle -----------------------------------------------------------------------


def test_submission_carries_the_values_and_an_empty_ack_closes(
    bolt: Bolt, bot: WebClient, general: str
) -> None:
    opened = bot.views_open(trigger_id=bolt.trigger(general), view=modal())["view"]

    @bolt.app.view("deploy_form")
    def submitted(ack: Ack, view: dict[str, Any], body: dict[str, Any]) -> None:
        bolt.received.append((body["type"], view["state"]["values"]))
        ack()

    result = bolt.do(
        "views/submit",
        user="U0DTUBOB01",
        view_id=opened["id"],
        values={"service": {"name": {"value": "api"}}, "env": {"pick": {"selected_option": "prod"}}},
    )
    kind, values = bolt.received[0]
    assert kind == "view_submission" and values["service"]["name"] == {
        "type": "plain_text_input",
        "value": "api",
    }
    assert values["env"]["pick"]["selected_option"]["value"] == "prod"
    assert result.json()["outcome"] == "closed" and not bolt.view(opened["id"])["is_open"]


def test_errors_response_action_keeps_the_modal_open(bolt: Bolt, bot: WebClient, general: str) -> None:
    opened = bot.views_open(trigger_id=bolt.trigger(general), view=modal())["view"]

    @bolt.app.view("deploy_form")
    def submitted(ack: Ack) -> None:
        ack(response_action="errors", errors={"service": "No such service"})

    result = bolt.do(
        "views/submit",
        user="U0DTUBOB01",
        view_id=opened["id"],
        values={"service": {"name": {"value": "nope"}}},
    )
    assert result.json()["outcome"] == "errors" and result.json()["errors"] == {"service": "No such service"}
    assert bolt.view(opened["id"])["is_open"]


def test_required_input_left_empty_never_reaches_the_app(bolt: Bolt, bot: WebClient, general: str) -> None:
    opened = bot.views_open(trigger_id=bolt.trigger(general), view=modal())["view"]

    @bolt.app.view("deploy_form")
    def submitted(ack: Ack) -> None:
        bolt.received.append("called")
        ack()

    result = bolt.do("views/submit", user="U0DTUBOB01", view_id=opened["id"], values={})
    assert result.json()["outcome"] == "blocked" and "service" in result.json()["errors"]
    assert bolt.received == []


def test_update_response_action_replaces_the_view(bolt: Bolt, bot: WebClient, general: str) -> None:
    opened = bot.views_open(trigger_id=bolt.trigger(general), view=modal())["view"]

    @bolt.app.view("deploy_form")
    def submitted(ack: Ack) -> None:
        ack(response_action="update", view=modal(title="Deploying", callback_id="progress"))

    result = bolt.do(
        "views/submit",
        user="U0DTUBOB01",
        view_id=opened["id"],
        values={"service": {"name": {"value": "api"}}},
    )
    assert result.json()["outcome"] == "updated"
    assert (
        result.json()["view"]["id"] == opened["id"] and result.json()["view"]["title"]["text"] == "Deploying"
    )


def test_push_then_clear_closes_the_whole_modal(bolt: Bolt, bot: WebClient, general: str) -> None:
    opened = bot.views_open(trigger_id=bolt.trigger(general), view=modal())["view"]

    @bolt.app.view("deploy_form")
    def first(ack: Ack) -> None:
        ack(response_action="push", view=modal(title="Confirm", callback_id="confirm"))

    @bolt.app.view("confirm")
    def second(ack: Ack) -> None:
        ack(response_action="clear")

    pushed = bolt.do(
        "views/submit",
        user="U0DTUBOB01",
        view_id=opened["id"],
        values={"service": {"name": {"value": "api"}}},
    ).json()
    assert pushed["outcome"] == "pushed" and pushed["view"]["previous_view_id"] == opened["id"]
    cleared = bolt.do(
        "views/submit",
        user="U0DTUBOB01",
        view_id=pushed["view"]["id"],
        values={"service": {"name": {"value": "api"}}},
    ).json()
    assert cleared["outcome"] == "cleared"
    assert not bolt.view(opened["id"])["is_open"] and not bolt.view(pushed["view"]["id"])["is_open"]


def test_closing_a_modal_with_notify_on_close_sends_view_closed(
    bolt: Bolt, bot: WebClient, general: str
) -> None:
    opened = bot.views_open(trigger_id=bolt.trigger(general), view=modal(notify_on_close=True))["view"]

    @bolt.app.view_closed("deploy_form")
    def closed(ack: Ack, body: dict[str, Any]) -> None:
        bolt.received.append(body)
        ack()

    result = bolt.do("views/close", user="U0DTUBOB01", view_id=opened["id"])
    assert result.json()["outcome"] == "cleared"
    assert bolt.received[0]["type"] == "view_closed" and bolt.received[0]["view"]["id"] == opened["id"]
    assert bolt.received[0]["is_cleared"] is False and not bolt.view(opened["id"])["is_open"]


def test_only_the_user_shown_the_modal_submits_it(bolt: Bolt, bot: WebClient, general: str) -> None:
    opened = bot.views_open(trigger_id=bolt.trigger(general, user="U0DTUBOB01"), view=modal())["view"]
    result = bolt.do("views/submit", user="U0DTUCAROL", view_id=opened["id"], values={})
    assert result.status_code == 403
