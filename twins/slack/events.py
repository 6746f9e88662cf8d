"""The Events API: what Slack POSTs to an app's request URL, signed, and retried.

https://docs.slack.dev/apis/events-api/ . An app receives an `event_callback` for each event
type it subscribes to (its manifest's `settings.event_subscriptions.bot_events`), for
conversations its bot user is a member of (workspace events such as `team_join` and
`channel_created` go to every subscriber). Deliveries are signed like every Slack request
(https://docs.slack.dev/authentication/verifying-requests-from-slack) and retried three
times (about now, 1 min, 5 min) with `X-Slack-Retry-Num` and `X-Slack-Retry-Reason`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import orjson
from sqlalchemy import Row, bindparam, select

from dtu.context import TwinContext
from dtu.db import table
from dtu.delivery import Delivery
from twins.slack import constants, models
from twins.slack.service import common

if TYPE_CHECKING:
    from dtu.runtime import TwinRuntime

APP = table(models.App)

# Events bound to a conversation reach an app only when its bot user is a member there.
CHANNEL_EVENTS = {
    "message",
    "app_mention",
    "reaction_added",
    "reaction_removed",
    "member_joined_channel",
    "member_left_channel",
    "pin_added",
    "pin_removed",
    "channel_archive",
    "channel_unarchive",
    "channel_rename",
    "group_archive",
    "group_unarchive",
    "group_rename",
    "file_shared",
}

# Events an app may subscribe to (manifest `bot_events`), each with the scopes that allow it
# (any one suffices). https://docs.slack.dev/reference/events
EVENT_SCOPES: dict[str, tuple[str, ...]] = {
    "app_home_opened": (),
    "app_mention": ("app_mentions:read",),
    "app_rate_limited": (),
    "app_uninstalled": (),
    "assistant_thread_context_changed": (),
    "assistant_thread_started": (),
    "call_rejected": (),
    "channel_archive": ("channels:read",),
    "channel_created": ("channels:read",),
    "channel_deleted": ("channels:read",),
    "channel_history_changed": ("channels:history", "groups:history"),
    "channel_id_changed": (),
    "channel_left": ("channels:read",),
    "channel_rename": ("channels:read",),
    "channel_shared": ("channels:read", "groups:read"),
    "channel_unarchive": ("channels:read",),
    "channel_unshared": ("channels:read", "groups:read"),
    "dnd_updated_user": ("dnd:read",),
    "email_domain_changed": ("team:read",),
    "emoji_changed": ("emoji:read",),
    "file_change": ("files:read",),
    "file_created": ("files:read",),
    "file_deleted": ("files:read",),
    "file_public": ("files:read",),
    "file_shared": ("files:read",),
    "file_unshared": ("files:read",),
    "function_executed": (),
    "group_archive": ("groups:read",),
    "group_close": ("groups:read",),
    "group_deleted": ("groups:read",),
    "group_history_changed": ("groups:history",),
    "group_left": ("groups:read",),
    "group_open": ("groups:read",),
    "group_rename": ("groups:read",),
    "group_unarchive": ("groups:read",),
    "im_close": ("im:read",),
    "im_created": ("im:read",),
    "im_history_changed": ("im:history",),
    "im_open": ("im:read",),
    "link_shared": ("links:read",),
    "member_joined_channel": ("channels:read", "groups:read", "mpim:read"),
    "member_left_channel": ("channels:read", "groups:read"),
    "message.app_home": (),
    "message.channels": ("channels:history",),
    "message.groups": ("groups:history",),
    "message.im": ("im:history",),
    "message.mpim": ("mpim:history",),
    "message_metadata_deleted": ("metadata.message:read",),
    "message_metadata_posted": ("metadata.message:read",),
    "message_metadata_updated": ("metadata.message:read",),
    "pin_added": ("pins:read",),
    "pin_removed": ("pins:read",),
    "reaction_added": ("reactions:read",),
    "reaction_removed": ("reactions:read",),
    "shared_channel_invite_accepted": (),
    "shared_channel_invite_approved": (),
    "shared_channel_invite_declined": (),
    "shared_channel_invite_received": (),
    "star_added": ("stars:read",),
    "star_removed": ("stars:read",),
    "subteam_created": ("usergroups:read",),
    "subteam_members_changed": ("usergroups:read",),
    "subteam_self_added": ("usergroups:read",),
    "subteam_self_removed": ("usergroups:read",),
    "subteam_updated": ("usergroups:read",),
    "team_access_granted": (),
    "team_access_revoked": (),
    "team_domain_change": ("team:read",),
    "team_join": ("users:read",),
    "team_rename": ("team:read",),
    "tokens_revoked": (),
    "user_change": ("users:read",),
    "user_huddle_changed": ("users:read",),
    "user_profile_changed": ("users:read",),
    "user_status_changed": ("users:read",),
}


def signature_headers(secret: str) -> Callable[[bytes, float], dict[str, str]]:
    """Sign as Slack does: v0=HMAC-SHA256(secret, "v0:{ts}:{body}").

    The delivery engine passes wall-clock time, not the twin clock: the receiving app checks
    the timestamp against its own clock (5-minute window), which a frozen or advanced twin
    clock must not break."""

    def sign(body: bytes, wall_now: float) -> dict[str, str]:
        ts = str(int(wall_now))
        digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}

    return sign


def retry_headers(number: int, reason: str) -> dict[str, str]:
    return {"X-Slack-Retry-Num": str(number), "X-Slack-Retry-Reason": reason}


def subscription_name(event_type: str, conversation_kind: str | None) -> str:
    """`message` events are subscribed per conversation kind (message.channels, message.im...)."""
    if event_type != "message":
        return event_type
    return {
        "channel": "message.channels",
        "group": "message.groups",
        "im": "message.im",
        "mpim": "message.mpim",
    }.get(conversation_kind or "channel", "message.channels")


# Built once: every message posted asks it (bound per call, compiled once).
_SUBSCRIBED_APPS = select(APP).where(APP.c.tenant_id == bindparam("tenant"), APP.c.request_url.is_not(None))


def _subscribers(ctx: TwinContext, subscription: str) -> list[Row[Any]]:
    tenant = ctx.tenant
    rows: list[Row[Any]] = ctx.runtime.cache("slack.subscribed_apps", APP).get(
        tenant, lambda: (tenant, ctx.conn.execute(_SUBSCRIBED_APPS, {"tenant": tenant}).all())
    )
    return [r for r in rows if subscription in (r.bot_events or [])]


def emit(
    ctx: TwinContext,
    event: dict[str, Any],
    *,
    channel_id: str | None = None,
    conversation_kind: str | None = None,
) -> None:
    """Queue `event` for every app that subscribes to it and may see it (after commit)."""
    event_type = event["type"]
    subscription = subscription_name(event_type, conversation_kind)
    apps = _subscribers(ctx, subscription)
    if not apps:
        return
    team = common.team_id(ctx)
    now = ctx.now()
    event.setdefault("event_ts", event.get("ts") or common.micros_to_ts(int(now * 1_000_000)))
    for app in apps:
        if (
            channel_id is not None
            and event_type in CHANNEL_EVENTS
            and not common.is_member(ctx, channel_id, app.bot_user_id)
        ):
            continue
        deliver_event(ctx, app, team, event, now)


def deliver_event(ctx: TwinContext, app: Row[Any], team: str, event: dict[str, Any], now: float) -> None:
    event_id = "Ev" + ctx.ids.token("event", length=10)
    envelope = {
        "token": app.verification_token,
        "team_id": team,
        "context_team_id": team,
        "context_enterprise_id": None,
        "api_app_id": app.id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(now),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team,
                "user_id": app.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-" + ctx.ids.hex("event-context", 40),
    }
    # The `slack.events.duplicate_delivery` fault point: Slack delivers at least once.
    copies = 2 if ctx.point("slack.events.duplicate_delivery") is not None else 1
    for _ in range(copies):
        ctx.deliver(
            Delivery(
                tenant=ctx.tenant,
                kind="events",
                target=app.request_url,
                body=orjson.dumps(envelope),
                sign=signature_headers(app.signing_secret),
                retry_after_s=list(constants.EVENT_RETRIES_S),
                retry_headers=retry_headers,
                timeout_s=constants.EVENT_TIMEOUT_S,
                meta={
                    "type": event["type"],
                    "event_id": event_id,
                    "app_id": app.id,
                    "subtype": event.get("subtype"),
                    "channel": event.get("channel"),
                },
            )
        )


def message_event(ctx: TwinContext, conv: Row[Any], message: dict[str, Any]) -> None:
    """A new message: `message` (with `channel_type`) and, for mentioned bots, `app_mention`."""
    channel_type = {"channel": "channel", "group": "group", "im": "im", "mpim": "mpim"}[conv.kind]
    event = {**message, "channel": conv.id, "event_ts": message["ts"], "channel_type": channel_type}
    event.pop("reactions", None)
    emit(ctx, event, channel_id=conv.id, conversation_kind=conv.kind)
    text = message.get("text") or ""
    if "<@" in text and not message.get("subtype"):
        for app in _subscribers(ctx, "app_mention"):
            if f"<@{app.bot_user_id}>" in text and common.is_member(ctx, conv.id, app.bot_user_id):
                mention = {
                    "type": "app_mention",
                    "user": message.get("user"),
                    "text": text,
                    "ts": message["ts"],
                    "channel": conv.id,
                    "event_ts": message["ts"],
                    "team": message.get("team"),
                }
                for key in ("blocks", "thread_ts", "client_msg_id"):
                    if key in message:
                        mention[key] = message[key]
                deliver_event(ctx, app, common.team_id(ctx), mention, ctx.now())


# -- request URL verification ------------------------------------------------------------------


def _echoed_challenge(body: str | None) -> str | None:
    """Slack accepts the challenge as plain text, `challenge=` form data or `{"challenge": ...}`."""
    if body is None:
        return None
    text = body.strip()
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        value = data.get("challenge")
        return value if isinstance(value, str) else None
    if isinstance(data, str):
        return data
    form = parse_qs(text)
    if "challenge" in form:
        return form["challenge"][0]
    return text


async def verify_request_url(
    runtime: TwinRuntime,
    *,
    tenant: str,
    app_id: str,
    url: str,
    verification_token: str,
    signing_secret: str,
    challenge: str,
) -> str | None:
    """Slack's `url_verification` handshake, made when an app's events request URL is set.

    https://docs.slack.dev/reference/events/url_verification . The request is signed like any
    event and journaled as a `url_verification` delivery; the app has 3 s to answer 200 with
    the challenge. Answers None on success, else the message Slack shows for the failure."""
    body = orjson.dumps({"token": verification_token, "challenge": challenge, "type": "url_verification"})
    delivery = Delivery(
        tenant=tenant,
        kind="url_verification",
        target=url,
        body=body,
        sign=signature_headers(signing_secret),
        timeout_s=constants.EVENT_TIMEOUT_S,
        meta={"type": "url_verification", "app_id": app_id},
    )
    attempt = await runtime.deliveries.send_now(delivery)
    problem: str | None = None
    if attempt.status is None:
        problem = (
            f"Your request URL could not be reached ({attempt.error}). Update your URL to receive a new "
            "request and challenge value."
        )
    elif attempt.status >= 300:
        problem = (
            f"Your request URL gave us a {attempt.status} error. Update your URL to receive a new request "
            "and challenge value."
        )
    elif _echoed_challenge(attempt.response_body) != challenge:
        problem = "Your URL didn't respond with the value of the `challenge` parameter."
    if problem is not None:
        delivery.state = "failed"
    return problem
