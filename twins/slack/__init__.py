"""The Slack twin: the Web API at `/api/<method>`, the Events API, interactivity and webhooks.

The reference twin: every other twin has the same file set in the same roles.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import Connection, select
from starlette.types import Scope

from dtu.db import table
from dtu.runtime import TwinRuntime
from dtu.twin import TwinSpec
from twins.slack import models, seed
from twins.slack.dependencies import METHODS
from twins.slack.errors import SlackErrorAdapter
from twins.slack.fault_points import FAULT_POINTS
from twins.slack.openapi import openapi
from twins.slack.routes import router
from twins.slack.routes.oauth import web_api as oauth_web_api


def _operation_of(scope: Scope) -> str | None:
    path: str = scope["path"]
    return path[5:] if path.startswith("/api/") else None


def _credential_of(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"authorization":
            text = value.decode("latin-1")
            return text[7:].strip() if text[:7].lower() == "bearer " else None
    return None


def _credential_in_body(scope: Scope, body: bytes) -> str | None:
    """A form body's `token` (slack_sdk sends it so when the token is not in the header)."""
    for key, value in scope.get("headers", ()):
        if key == b"content-type":
            if value.split(b";")[0].strip().lower() != b"application/x-www-form-urlencoded":
                return None
            break
    else:
        return None
    try:
        tokens = parse_qs(body.decode("utf-8"), keep_blank_values=False).get("token")
    except (UnicodeDecodeError, ValueError):
        return None
    return tokens[0] if tokens else None


def _tenant_of_credential(conn: Connection, token: str) -> str | None:
    t = table(models.Token)
    return conn.execute(select(t.c.tenant_id).where(t.c.token == token)).scalar()


async def _tick(runtime: TwinRuntime) -> None:
    """Post scheduled messages whose time has come on each tenant's clock."""
    from twins.slack.service import chat

    tenants = await runtime.store.run(chat.pending_tenants)
    for tenant in tenants:
        await runtime.unit(tenant, chat.due_scheduled)


def _admin_routers() -> list[Any]:
    from twins.slack.interactions import hooks_router
    from twins.slack.interactions import router as interactions_router

    return [interactions_router, hooks_router]


TWIN = TwinSpec(
    name="slack",
    default_port=7103,
    error_adapter=SlackErrorAdapter(),
    routers=[router],
    tables=models.TABLES,
    default_fixture=seed.default_fixture,
    load_fixture=seed.load_fixture,
    credentials=seed.credentials,
    credential_of=_credential_of,
    credential_in_body=_credential_in_body,
    tenant_of_credential=_tenant_of_credential,
    operations=frozenset(METHODS),
    collections=models.COLLECTIONS,
    operation_of=_operation_of,
    fault_points=FAULT_POINTS,
    deliveries=frozenset({"events", "interactivity", "url_verification"}),
    # Slack's tiers count per method, workspace and app: `dependencies.enforce_tier` applies them
    # once the token is known, when the `real_limits` rule has marked the request.
    tick=_tick,
    admin_routers=_admin_routers(),
    universe=seed.universe_fixture,
    openapi=openapi,
    direct=("/api/", oauth_web_api),  # web_api, plus oauth.v2.access's Basic credentials
    description="A behavioral clone of the Slack Web API (https://docs.slack.dev/apis/web-api/).",
)
