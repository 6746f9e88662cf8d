"""The System Log: an event for every change (https://developer.okta.com/docs/reference/api/system-log/).

`emit` writes a LogEvent as Okta renders it (eventType, actor, client, outcome, target,
transaction, debugContext) and hands it to every active, verified event hook subscribed to its
type (https://developer.okta.com/docs/concepts/event-hooks/), after the transaction commits.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import bindparam, func, select

from dtu.context import TwinContext
from dtu.db import table
from dtu.delivery import Delivery, Signer
from dtu.sql import Prepared
from twins.okta import constants, models
from twins.okta.service.common import iso

_LOG = table(models.LogEvent)
_USER = table(models.User)
_HOOK = table(models.EventHook)
# Every write emits events: its statements are built once (dtu/sql.py).
_INSERT = Prepared(_LOG.insert(), columns=["tenant_id", "uuid", "seq", "published", "event_type", "event"])
_ACTOR = Prepared(
    select(_USER.c.id, _USER.c.profile).where(
        _USER.c.tenant_id == bindparam("tenant"), _USER.c.id == bindparam("id")
    )
)
_HOOKS = Prepared(
    select(_HOOK).where(
        _HOOK.c.tenant_id == bindparam("tenant"),
        _HOOK.c.status == "ACTIVE",
        _HOOK.c.verification_status == "VERIFIED",
    )
)

# Okta's legacy event types for the events the twin emits (what `legacyEventType` carries).
LEGACY = {
    "user.lifecycle.create": "core.user.config.user_creation.success",
    "user.lifecycle.activate": "core.user.config.user_activated",
    "user.lifecycle.deactivate": "core.user.config.user_deactivated",
    "user.lifecycle.suspend": "core.user.config.user_suspended",
    "user.lifecycle.unsuspend": "core.user.config.user_unsuspended",
    "user.lifecycle.delete.initiated": "core.user.config.user_deleted",
    "user.account.update_profile": "core.user.config.profile_update.success",
    "user.account.update_password": "core.user.config.password_update.success",
    "user.account.lock": "core.user_auth.account_locked",
    "user.account.unlock": "core.user.config.user_unlocked",
    "user.session.start": "core.user_auth.login_success",
    "group.user_membership.add": "core.user_group_member.user_add",
    "group.user_membership.remove": "core.user_group_member.user_remove",
}


def user_ref(row: Any) -> dict[str, Any]:
    """A User as an actor or target."""
    profile = row.profile or {}
    name = " ".join(x for x in (profile.get("firstName"), profile.get("lastName")) if x)
    return {
        "id": row.id,
        "type": "User",
        "alternateId": profile.get("login"),
        "displayName": name or None,
        "detailEntry": None,
    }


def ref(id_: str, type_: str, alternate_id: str | None, display: str | None) -> dict[str, Any]:
    return {
        "id": id_,
        "type": type_,
        "alternateId": alternate_id,
        "displayName": display,
        "detailEntry": None,
    }


def _actor(ctx: TwinContext) -> dict[str, Any]:
    p = ctx.principal
    user_id = getattr(p, "user_id", None)
    if user_id:
        # Cached per user (dtu/cache.py): an event emitted after a write to the org's users
        # reads them again.
        tenant = ctx.tenant
        found: dict[str, Any] | None = ctx.runtime.cache("okta.actor", _USER).get(
            (tenant, user_id), lambda: (tenant, _actor_ref(ctx, user_id))
        )
        if found is not None:
            return dict(found)
    client_id = getattr(p, "client_id", None)
    if client_id:
        return ref(client_id, "PublicClientApp", client_id, client_id)
    return ref("unknown", "system", "system@okta.com", "Okta System")


def _actor_ref(ctx: TwinContext, user_id: str) -> dict[str, Any] | None:
    row = _ACTOR.first(ctx.conn, {"tenant": ctx.tenant, "id": user_id})
    return None if row is None else user_ref(row)


def emit(
    ctx: TwinContext,
    event_type: str,
    *,
    targets: list[dict[str, Any]],
    display: str,
    result: str = "SUCCESS",
    reason: str | None = None,
    severity: str = "INFO",
    actor: dict[str, Any] | None = None,
    debug: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Record one System Log event and queue it to the subscribed event hooks."""
    p = ctx.principal
    now = ctx.now()
    seq = ctx.ids.next("log")
    uuid = ctx.ids.hex("log-uuid", 32)
    uuid = f"{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:32]}"
    request_id = getattr(p, "request_id", "") or ctx.ids.token("request-id", length=27)
    event: dict[str, Any] = {
        "actor": actor or _actor(ctx),
        "client": {
            "userAgent": {
                "rawUserAgent": getattr(p, "user_agent", "") or None,
                "os": "Unknown",
                "browser": "UNKNOWN",
            },
            "zone": "null",
            "device": "Unknown",
            "id": None,
            "ipAddress": getattr(p, "ip", None),
            "geographicalContext": None,
        },
        "device": None,
        "authenticationContext": {
            "authenticationProvider": None,
            "credentialProvider": None,
            "credentialType": None,
            "issuer": None,
            "interface": None,
            "authenticationStep": 0,
            "externalSessionId": None,
        },
        "displayMessage": display,
        "eventType": event_type,
        "outcome": {"result": result, "reason": reason},
        "published": iso(now),
        "securityContext": {"asNumber": None, "asOrg": None, "isp": None, "domain": None, "isProxy": None},
        "severity": severity,
        "debugContext": {"debugData": {"requestId": request_id, **(debug or {})}},
        "legacyEventType": LEGACY.get(event_type),
        "transaction": {"type": "WEB", "id": request_id, "detail": {}},
        "uuid": uuid,
        "version": "0",
        "request": {
            "ipChain": [
                {"ip": getattr(p, "ip", None), "geographicalContext": None, "version": "V4", "source": None}
            ]
        },
        "target": targets,
    }
    _INSERT.execute(
        ctx.conn,
        {
            "tenant_id": ctx.tenant,
            "uuid": uuid,
            "seq": seq,
            "published": now,
            "event_type": event_type,
            "event": event,
        },
    )
    _deliver(ctx, event)
    return event


def active_hooks(ctx: TwinContext) -> list[Any]:
    """The org's active, verified event hooks (cached per org: dtu/cache.py)."""
    tenant = ctx.tenant
    hooks: list[Any] = ctx.runtime.cache("okta.hooks", _HOOK).get(
        tenant, lambda: (tenant, _HOOKS.all(ctx.conn, {"tenant": tenant}))
    )
    return hooks


def _deliver(ctx: TwinContext, event: dict[str, Any]) -> None:
    for hook in active_hooks(ctx):
        if event["eventType"] not in (hook.events or []):
            continue
        config = (hook.channel or {}).get("config") or {}
        headers: dict[str, str] = {h["key"]: h["value"] for h in config.get("headers") or [] if h.get("key")}
        auth = config.get("authScheme") or {}
        if auth.get("key") and auth.get("value"):
            headers[auth["key"]] = auth["value"]
        event_id = ctx.ids.token("hook-event", length=20)
        body = {
            "eventType": "com.okta.event_hook",
            "eventTypeVersion": "1.0",
            "cloudEventsVersion": "0.1",
            "source": f"{ctx.base_url}/api/v1/eventHooks/{hook.id}",
            "eventId": event_id,
            "eventTime": event["published"],
            "contentType": "application/json",
            "data": {"events": [event]},
        }
        ctx.deliver(
            Delivery(
                tenant=ctx.tenant,
                kind="event_hooks",
                target=config.get("uri", ""),
                body=orjson.dumps(body),
                sign=_fixed_headers(headers),
                retry_after_s=list(constants.EVENT_HOOK_RETRIES_S),
                timeout_s=constants.EVENT_HOOK_TIMEOUT_S,
                meta={"type": event["eventType"], "hook": hook.id, "eventId": event_id},
            )
        )


def _fixed_headers(headers: dict[str, str]) -> Signer:
    """Okta does not sign event hook deliveries: it sends the hook's configured headers (and
    its authScheme header) as they are, on every attempt."""
    return lambda _body, _now: dict(headers)


def count(ctx: TwinContext) -> int:
    return int(
        ctx.conn.execute(
            select(func.count()).select_from(_LOG).where(_LOG.c.tenant_id == ctx.tenant)
        ).scalar()
        or 0
    )
