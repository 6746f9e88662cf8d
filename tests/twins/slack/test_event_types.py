"""Every Events API event the twin raises, as a slack_bolt app (request verification on) gets
it over HTTP: messages and their subtypes (edits, deletions, thread replies), mentions,
reactions, membership, channel creation and archiving, people joining the workspace; and
Slack's retries, which the app sees in `X-Slack-Retry-Num` / `X-Slack-Retry-Reason`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from dtu.testing.plugin import Tenant
from dtu.testing.receiver import AppServer
from tests.twins.slack.test_bolt import APP, BOT_USER, Seen

EVENTS = [
    "message.channels",
    "app_mention",
    "reaction_added",
    "reaction_removed",
    "member_joined_channel",
    "member_left_channel",
    "channel_created",
    "channel_archive",
    "team_join",
]
SCOPES = [
    "channels:history",
    "channels:read",
    "app_mentions:read",
    "reactions:read",
    "users:read",
    "chat:write",
]
TYPES = [
    "message",
    "app_mention",
    "reaction_added",
    "reaction_removed",
    "member_joined_channel",
    "member_left_channel",
    "channel_created",
    "channel_archive",
    "team_join",
]


def _app(tenant: Tenant, seen: Seen) -> App:
    app = App(
        client=WebClient(token=tenant.bot_token, base_url=tenant.api_url),
        signing_secret=tenant.signing_secret,
    )

    @app.middleware
    def fail_once(request: BoltRequest, next: Any) -> BoltResponse | None:
        """The app is down for the first delivery of a message saying "fail once"."""
        event = (request.body or {}).get("event") or {}
        retry = request.headers.get("x-slack-retry-num")
        if event.get("text") == "fail once" and not retry:
            seen.add("failed", event)
            return BoltResponse(status=500, body="down")
        if retry:
            seen.add(
                "retried",
                {
                    **event,
                    "_num": retry[0],
                    "_reason": request.headers["x-slack-retry-reason"][0],
                    "_event_id": request.body["event_id"],
                },
            )
        return next()  # type: ignore[no-any-return]

    def listener(kind: str) -> Any:
        def record(event: dict[str, Any], body: dict[str, Any]) -> None:
            seen.add(kind, {**event, "_event_id": body["event_id"]})

        return record

    for kind in TYPES:
        app.event(kind)(listener(kind))
    return app


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def bolt(slack_tenant: Tenant, seen: Seen) -> Iterator[str]:
    with AppServer(SlackRequestHandler(_app(slack_tenant, seen)), wsgi=True) as server:
        url = server.url + "/slack/events"
        WebClient(token=slack_tenant.config_token, base_url=slack_tenant.api_url).apps_manifest_update(
            app_id=APP,
            manifest={
                "display_information": {"name": "DTU App"},
                "features": {"bot_user": {"display_name": "dtu-app"}},
                "oauth_config": {"scopes": {"bot": SCOPES}},
                "settings": {"event_subscriptions": {"request_url": url, "bot_events": EVENTS}},
            },
        )
        yield url


def test_a_plain_message(bolt: str, seen: Seen, alice: WebClient, general: str) -> None:
    posted = alice.chat_postMessage(channel=general, text="plain words")
    event = seen.wait("message", lambda e: e.get("ts") == posted["ts"])
    assert "subtype" not in event and event["channel_type"] == "channel"
    assert (event["user"], event["text"], event["event_ts"]) == ("U0DTUALICE", "plain words", posted["ts"])


def test_an_edit_is_message_changed(bolt: str, seen: Seen, alice: WebClient, general: str) -> None:
    ts = alice.chat_postMessage(channel=general, text="frist")["ts"]
    alice.chat_update(channel=general, ts=ts, text="first")
    event = seen.wait("message", lambda e: e.get("subtype") == "message_changed")
    assert event["hidden"] is True and event["channel"] == general
    assert event["message"]["ts"] == ts and event["message"]["text"] == "first"
    assert event["message"]["edited"]["user"] == "U0DTUALICE"
    assert event["previous_message"]["text"] == "frist"


def test_a_deletion_is_message_deleted(bolt: str, seen: Seen, alice: WebClient, general: str) -> None:
    ts = alice.chat_postMessage(channel=general, text="oops")["ts"]
    alice.chat_delete(channel=general, ts=ts)
    event = seen.wait("message", lambda e: e.get("subtype") == "message_deleted")
    assert event["deleted_ts"] == ts and event["hidden"] is True
    assert event["previous_message"]["text"] == "oops" and event["channel"] == general


def test_a_thread_reply(bolt: str, seen: Seen, alice: WebClient, bob: WebClient, general: str) -> None:
    parent = alice.chat_postMessage(channel=general, text="question?")["ts"]
    reply = bob.chat_postMessage(channel=general, text="answer", thread_ts=parent)["ts"]
    event = seen.wait("message", lambda e: e.get("ts") == reply)
    assert event["thread_ts"] == parent and event["parent_user_id"] == "U0DTUALICE"
    assert "subtype" not in event
    broadcast = bob.chat_postMessage(
        channel=general, text="also here", thread_ts=parent, reply_broadcast=True
    )
    event = seen.wait("message", lambda e: e.get("ts") == broadcast["ts"])
    assert event["subtype"] == "thread_broadcast" and event["thread_ts"] == parent


def test_a_mention(bolt: str, seen: Seen, alice: WebClient, general: str) -> None:
    posted = alice.chat_postMessage(channel=general, text=f"<@{BOT_USER}> status?")
    event = seen.wait("app_mention")
    assert (event["ts"], event["user"], event["channel"]) == (posted["ts"], "U0DTUALICE", general)


def test_reactions_added_and_removed(bolt: str, seen: Seen, alice: WebClient, general: str) -> None:
    ts = alice.chat_postMessage(channel=general, text="vote")["ts"]
    alice.reactions_add(channel=general, timestamp=ts, name="thumbsup")
    alice.reactions_remove(channel=general, timestamp=ts, name="thumbsup")
    for kind in ("reaction_added", "reaction_removed"):
        event = seen.wait(kind)
        assert event["reaction"] == "thumbsup" and event["user"] == "U0DTUALICE"
        assert event["item"] == {"type": "message", "channel": general, "ts": ts}
        assert event["item_user"] == "U0DTUALICE"


def test_members_joining_and_leaving(bolt: str, seen: Seen, alice: WebClient, bob: WebClient) -> None:
    room = alice.conversations_create(name="comings-and-goings")["channel"]["id"]
    alice.conversations_invite(channel=room, users=f"{BOT_USER},U0DTUBOB01")
    joined = seen.wait("member_joined_channel", lambda e: e["user"] == "U0DTUBOB01")
    assert (joined["channel"], joined["channel_type"], joined["inviter"]) == (room, "C", "U0DTUALICE")
    bob.conversations_leave(channel=room)
    left = seen.wait("member_left_channel", lambda e: e["user"] == "U0DTUBOB01")
    assert left["channel"] == room and left["channel_type"] == "C"
    alice.conversations_kick(channel=room, user=BOT_USER)  # the app hears of its own removal
    gone = seen.wait("member_left_channel", lambda e: e["user"] == BOT_USER)
    assert gone["channel"] == room
    # The system messages are message events with their subtypes.
    seen.wait("message", lambda e: e.get("subtype") == "channel_join" and e["user"] == "U0DTUBOB01")
    seen.wait("message", lambda e: e.get("subtype") == "channel_leave" and e["user"] == "U0DTUBOB01")


def test_channel_created_and_archived(bolt: str, seen: Seen, alice: WebClient) -> None:
    made = alice.conversations_create(name="short-lived")["channel"]
    created = seen.wait("channel_created")
    assert created["channel"]["id"] == made["id"] and created["channel"]["name"] == "short-lived"
    alice.conversations_invite(channel=made["id"], users=BOT_USER)
    alice.conversations_archive(channel=made["id"])
    archived = seen.wait("channel_archive")
    assert archived == {**archived, "channel": made["id"], "user": "U0DTUALICE"}


def test_a_person_joining_the_workspace_is_team_join(
    bolt: str, seen: Seen, slack_tenant: Tenant, general: str
) -> None:
    joined = slack_tenant.twin.control(
        "POST",
        "/slack/users",
        json={"tenant": slack_tenant.tenant, "email": "dana@example.com", "real_name": "Dana Diaz"},
    )
    event = seen.wait("team_join")
    assert event["user"]["id"] == joined["user"]["id"] and event["user"]["name"] == "dana"
    assert event["user"]["real_name"] == "Dana Diaz" and event["user"]["is_bot"] is False
    # They land in #general, and their new token works.
    dana = WebClient(token=joined["token"], base_url=slack_tenant.api_url)
    assert dana.auth_test()["user_id"] == joined["user"]["id"]
    seen.wait(
        "member_joined_channel", lambda e: e["user"] == joined["user"]["id"] and e["channel"] == general
    )
    bot = WebClient(token=slack_tenant.bot_token, base_url=slack_tenant.api_url)
    assert bot.users_lookupByEmail(email="dana@example.com")["user"]["id"] == joined["user"]["id"]


def test_joining_twice_or_without_an_email_is_refused(slack_tenant: Tenant) -> None:
    admin = slack_tenant.twin.admin
    path = "/_dtu/slack/users"
    again = admin.post(path, json={"tenant": slack_tenant.tenant, "email": "alice@example.com"})
    assert again.status_code == 409 and "already a member" in again.text
    missing = admin.post(path, json={"tenant": slack_tenant.tenant})
    assert missing.status_code == 400 and "email" in missing.text
    taken = admin.post(path, json={"tenant": slack_tenant.tenant, "email": "bob@elsewhere.org"})
    assert taken.status_code == 409 and "bob" in taken.text


def test_a_failed_delivery_is_retried_with_the_retry_headers(
    bolt: str, seen: Seen, alice: WebClient, general: str
) -> None:
    alice.chat_postMessage(channel=general, text="fail once")
    failed = seen.wait("failed")
    retried = seen.wait("retried")
    assert retried["_num"] == "1" and retried["_reason"] == "http_error"
    assert retried["ts"] == failed["ts"]
    event = seen.wait("message", lambda e: e.get("text") == "fail once")
    assert event["_event_id"] == retried["_event_id"]  # the same event, delivered again
