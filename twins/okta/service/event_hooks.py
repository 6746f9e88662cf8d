"""Event hooks: where Okta POSTs the System Log events an org subscribes to.

https://developer.okta.com/docs/api/openapi/okta-management/management/tag/EventHook/ and
https://developer.okta.com/docs/concepts/event-hooks/ . A new hook is ACTIVE and UNVERIFIED;
Okta delivers nothing until the one-time verification succeeds: a GET to the hook URI with an
`X-Okta-Verification-Challenge` header (and the hook's own headers), answered 200 with
`{"verification": <challenge>}`. Only INACTIVE hooks can be deleted. `authScheme.value` is
write-only: Okta never returns it. Delivery itself lives in `service/syslog.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import bindparam, delete, select, update

from dtu.context import TwinContext
from dtu.db import table
from dtu.sql import Prepared
from twins.okta import models
from twins.okta.errors import Forbidden, OktaError, not_found, validation
from twins.okta.service import syslog
from twins.okta.service.common import BASE62, href, iso, okta_id

_HOOK = table(models.EventHook)
# What registering and verifying a hook runs, built once (dtu/sql.py).
_BY_ID = Prepared(
    select(_HOOK).where(_HOOK.c.tenant_id == bindparam("tenant"), _HOOK.c.id == bindparam("id"))
)
_ACTIVE_IDS = Prepared(
    select(_HOOK.c.id).where(_HOOK.c.tenant_id == bindparam("tenant"), _HOOK.c.status == "ACTIVE")
)
_INSERT = Prepared(
    _HOOK.insert(),
    columns=[
        "tenant_id",
        "id",
        "name",
        "status",
        "verification_status",
        "events",
        "channel",
        "created",
        "last_updated",
        "seq",
    ],
)
_VERIFIED = Prepared(
    update(_HOOK)
    .where(_HOOK.c.tenant_id == bindparam("k_tenant"), _HOOK.c.id == bindparam("k_id"))
    .values(verification_status="VERIFIED", last_updated=bindparam("v_now"))
)
_EVENT_TYPE = re.compile(r"^[a-z][a-zA-Z0-9_]*(\.[a-zA-Z0-9_]+)+$")
MAX_HOOKS = (
    25  # https://developer.okta.com/docs/concepts/event-hooks/#event-hook-limits (active hooks per org)
)


def render(ctx: TwinContext, row: Any) -> dict[str, Any]:
    channel = dict(row.channel or {})
    config = dict(channel.get("config") or {})
    auth = config.get("authScheme")
    if isinstance(auth, dict):
        config["authScheme"] = {k: v for k, v in auth.items() if k != "value"}
    base = f"/api/v1/eventHooks/{row.id}"
    links: dict[str, Any] = {
        "self": href(ctx, base, hints={"allow": ["GET", "PUT", "DELETE"]}),
        "verify": href(ctx, base + "/lifecycle/verify", hints={"allow": ["POST"]}),
    }
    if row.status == "ACTIVE":
        links["deactivate"] = href(ctx, base + "/lifecycle/deactivate", hints={"allow": ["POST"]})
    else:
        links["activate"] = href(ctx, base + "/lifecycle/activate", hints={"allow": ["POST"]})
    return {
        "id": row.id,
        "status": row.status,
        "verificationStatus": row.verification_status,
        "name": row.name,
        "description": (row.channel or {}).get("_description"),
        "created": iso(row.created),
        "createdBy": (row.channel or {}).get("_createdBy"),
        "lastUpdated": iso(row.last_updated),
        "events": {"type": "EVENT_TYPE", "items": list(row.events or []), "filter": None},
        "channel": {
            "type": channel.get("type", "HTTP"),
            "version": channel.get("version", "1.0.0"),
            "config": {k: v for k, v in config.items()},
        },
        "_links": links,
    }


def find(ctx: TwinContext, hook_id: str) -> Any:
    row = _BY_ID.first(ctx.conn, {"tenant": ctx.tenant, "id": hook_id})
    if row is None:
        raise not_found(hook_id, "EventHook")
    return row


def _ref(row: Any) -> dict[str, Any]:
    return syslog.ref(row.id, "EventHook", row.name, row.name)


def _parse(body: dict[str, Any], current: Any | None) -> dict[str, Any]:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise validation("name", "name: The field cannot be left blank")
    if len(name) > 255:
        raise validation("name", "name: The field is too long")
    events = body.get("events")
    if not isinstance(events, dict):
        raise validation("events", "events: The field cannot be left blank")
    if events.get("type") != "EVENT_TYPE":
        raise validation("events", "events.type: The only supported type is EVENT_TYPE")
    items = events.get("items")
    if not isinstance(items, list) or not items:
        raise validation("events", "events.items: At least one event type must be subscribed")
    bad = [i for i in items if not isinstance(i, str) or not _EVENT_TYPE.match(i)]
    if bad:
        raise validation("events", f"events.items: Invalid event type(s): {bad[0]}")
    channel = body.get("channel")
    if not isinstance(channel, dict):
        raise validation("channel", "channel: The field cannot be left blank")
    if channel.get("type", "HTTP") != "HTTP":
        raise validation("channel", "channel.type: The only supported type is HTTP")
    if channel.get("version", "1.0.0") != "1.0.0":
        raise validation("channel", "channel.version: The only supported version is 1.0.0")
    config = channel.get("config")
    if not isinstance(config, dict):
        raise validation("channel", "channel.config: The field cannot be left blank")
    uri = config.get("uri")
    if not isinstance(uri, str) or not re.match(r"^https?://[^\s/]+", uri):
        raise validation("uri", "channel.config.uri: The URI must be a valid HTTPS URL")
    headers = config.get("headers") or []
    if not isinstance(headers, list) or not all(
        isinstance(h, dict) and isinstance(h.get("key"), str) and isinstance(h.get("value"), str)
        for h in headers
    ):
        raise validation("headers", "channel.config.headers: Each header must have a key and a value")
    auth = config.get("authScheme")
    stored_auth: dict[str, Any] | None = None
    if auth is not None:
        if not isinstance(auth, dict) or auth.get("type", "HEADER") != "HEADER" or not auth.get("key"):
            raise validation("authScheme", "channel.config.authScheme: The only supported type is HEADER")
        value = auth.get("value")
        if value is None and current is not None:
            # A replace that omits the (write-only) secret keeps it.
            value = ((current.channel or {}).get("config") or {}).get("authScheme", {}).get("value")
        stored_auth = {"type": "HEADER", "key": auth["key"], "value": value}
    out_config: dict[str, Any] = {
        "uri": uri,
        "headers": [{"key": h["key"], "value": h["value"]} for h in headers],
        "method": "POST",
    }
    if stored_auth is not None:
        out_config["authScheme"] = stored_auth
    return {
        "name": name.strip(),
        "events": list(dict.fromkeys(items)),
        "channel": {"type": "HTTP", "version": "1.0.0", "config": out_config},
        "description": body.get("description") if isinstance(body.get("description"), str) else None,
    }


def create_hook(ctx: TwinContext, *, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v1/eventHooks: ACTIVE, UNVERIFIED."""
    fields = _parse(body, None)
    active = _ACTIVE_IDS.all(ctx.conn, {"tenant": ctx.tenant})
    if len(active) >= MAX_HOOKS:
        raise validation(
            "eventHook", f"eventHook: The maximum number of active event hooks ({MAX_HOOKS}) was reached"
        )
    now = ctx.now()
    hook_id = okta_id(ctx, "who", "event-hook")
    channel = {
        **fields["channel"],
        "_description": fields["description"],
        "_createdBy": getattr(ctx.principal, "user_id", None),
    }
    _INSERT.execute(
        ctx.conn,
        {
            "tenant_id": ctx.tenant,
            "id": hook_id,
            "name": fields["name"],
            "status": "ACTIVE",
            "verification_status": "UNVERIFIED",
            "events": fields["events"],
            "channel": channel,
            "created": now,
            "last_updated": now,
            "seq": ctx.ids.next("event-hook-seq"),
        },
    )
    row = find(ctx, hook_id)
    syslog.emit(ctx, "event_hook.created", targets=[_ref(row)], display="Event hook created")
    return render(ctx, row)


def replace_hook(ctx: TwinContext, *, hook_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """PUT /api/v1/eventHooks/{id}: a new URI must be verified again."""
    row = find(ctx, hook_id)
    fields = _parse(body, row)
    old_uri = ((row.channel or {}).get("config") or {}).get("uri")
    channel = {
        **fields["channel"],
        "_description": fields["description"],
        "_createdBy": (row.channel or {}).get("_createdBy"),
    }
    verification = row.verification_status if fields["channel"]["config"]["uri"] == old_uri else "UNVERIFIED"
    ctx.conn.execute(
        update(_HOOK)
        .where(_HOOK.c.tenant_id == ctx.tenant, _HOOK.c.id == row.id)
        .values(
            name=fields["name"],
            events=fields["events"],
            channel=channel,
            verification_status=verification,
            last_updated=ctx.now(),
        )
    )
    row = find(ctx, hook_id)
    syslog.emit(ctx, "event_hook.updated", targets=[_ref(row)], display="Event hook updated")
    return render(ctx, row)


def get_hook(ctx: TwinContext, *, hook_id: str) -> dict[str, Any]:
    return render(ctx, find(ctx, hook_id))


def list_hooks(ctx: TwinContext) -> list[dict[str, Any]]:
    """GET /api/v1/eventHooks: every hook of the org (not paged, as in Okta)."""
    rows = ctx.conn.execute(select(_HOOK).where(_HOOK.c.tenant_id == ctx.tenant).order_by(_HOOK.c.seq)).all()
    return [render(ctx, r) for r in rows]


def set_status(ctx: TwinContext, *, hook_id: str, active: bool) -> dict[str, Any]:
    row = find(ctx, hook_id)
    status = "ACTIVE" if active else "INACTIVE"
    if row.status != status:
        ctx.conn.execute(
            update(_HOOK)
            .where(_HOOK.c.tenant_id == ctx.tenant, _HOOK.c.id == row.id)
            .values(status=status, last_updated=ctx.now())
        )
        syslog.emit(
            ctx,
            "event_hook.activated" if active else "event_hook.deactivated",
            targets=[_ref(row)],
            display="Event hook activated" if active else "Event hook deactivated",
        )
    return render(ctx, find(ctx, hook_id))


def delete_hook(ctx: TwinContext, *, hook_id: str) -> None:
    """DELETE /api/v1/eventHooks/{id}: INACTIVE hooks only (403 otherwise)."""
    row = find(ctx, hook_id)
    if row.status != "INACTIVE":
        raise Forbidden(causes=["An event hook must be INACTIVE before it can be deleted."])
    ctx.conn.execute(delete(_HOOK).where(_HOOK.c.tenant_id == ctx.tenant, _HOOK.c.id == row.id))
    syslog.emit(ctx, "event_hook.deleted", targets=[_ref(row)], display="Event hook deleted")


# -- verification ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Challenge:
    """What the verification request needs, read in one unit of work before the HTTP call."""

    hook_id: str
    name: str
    uri: str
    headers: dict[str, str]
    challenge: str
    timeout: bool  # the `okta.event_hooks.verify_timeout` fault point is on


def plan_verification(ctx: TwinContext, *, hook_id: str) -> Challenge:
    row = find(ctx, hook_id)
    config = (row.channel or {}).get("config") or {}
    headers = {h["key"]: h["value"] for h in config.get("headers") or [] if h.get("key")}
    auth = config.get("authScheme") or {}
    if auth.get("key") and auth.get("value"):
        headers[auth["key"]] = auth["value"]
    challenge = ctx.ids.token("hook-challenge", length=40, alphabet=BASE62 + "-_")
    return Challenge(
        hook_id=row.id,
        name=row.name,
        uri=config.get("uri", ""),
        headers={
            "User-Agent": "Okta-Integrations",
            "Accept": "application/json",
            **headers,
            "X-Okta-Verification-Challenge": challenge,
        },
        challenge=challenge,
        timeout=ctx.point("okta.event_hooks.verify_timeout") is not None,
    )


def answered(challenge: Challenge, status: int | None, body: str | None) -> bool:
    """Whether the hook answered the handshake: 200 and `{"verification": <challenge>}`."""
    if challenge.timeout or status is None or not 200 <= status < 300 or not body:
        return False
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return isinstance(data, dict) and data.get("verification") == challenge.challenge


def finish_verification(ctx: TwinContext, *, challenge: Challenge, ok: bool) -> dict[str, Any]:
    row = find(ctx, challenge.hook_id)
    if not ok:
        raise OktaError(
            "Api validation failed: eventHook",
            causes=[f"Unable to verify event hook. Hook {row.name} execution failed"],
        )
    _VERIFIED.execute(ctx.conn, {"k_tenant": ctx.tenant, "k_id": row.id, "v_now": ctx.now()})
    syslog.emit(ctx, "event_hook.verified", targets=[_ref(row)], display="Event hook verified")
    return render(ctx, find(ctx, challenge.hook_id))
