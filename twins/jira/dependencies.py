"""How a Jira REST call becomes a service call: credentials, API flavour, body, unit of work.

Jira Cloud takes `Authorization: Basic base64(email:api_token)` (what both Python clients
send) or `Authorization: Bearer <token>`; anything else, or nothing, is 401. The same
services answer `/rest/api/3` (ADF rich text), `/rest/api/2` and `/rest/api/latest` (wiki
markup) and `/rest/agile/1.0` (v2 formats).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, bindparam, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from dtu.context import TwinContext
from dtu.db import table
from dtu.runtime import TwinRuntime
from dtu.sql import Prepared
from twins.jira import models
from twins.jira.errors import JSON, JiraError, NotAuthenticated
from twins.jira.service import common
from twins.jira.service.common import Principal

T = TypeVar("T")
_TOKEN = table(models.Token)
_USER = table(models.User)


def parse_authorization(value: str | None) -> tuple[str | None, str] | None:
    """(email or None for bearer, token), or None if absent or unreadable."""
    if not value or "\x00" in value:
        return None
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(rest.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        email, sep, token = decoded.partition(":")
        return (email, token) if sep and token and "\x00" not in decoded else None
    if scheme.lower() == "bearer" and rest.strip():
        return None, rest.strip()
    return None


def credential_of(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"authorization":
            parsed = parse_authorization(value.decode("latin-1"))
            return parsed[1] if parsed else None
    return None


def tenant_of_credential(conn: Connection, token: str) -> str | None:
    return conn.execute(select(_TOKEN.c.tenant_id).where(_TOKEN.c.token == token)).scalar()


def api_version(request: Request) -> str:
    path = request.url.path
    return "3" if path.startswith("/rest/api/3/") else "2"


def base_url(request: Request, runtime: TwinRuntime) -> str:
    if runtime.settings.public_url:
        return runtime.settings.public_url.rstrip("/")
    host = request.headers.get("host") or "127.0.0.1"
    return f"{request.url.scheme}://{host}"


def _principal(ctx: TwinContext, email: str | None, token: str, version: str) -> Principal:
    row = common.cached(
        ctx,
        "jira.principal",
        token,
        lambda: _PRINCIPAL.first(ctx.conn, {"tenant": ctx.tenant, "token": token}),
    )
    if row is None or not row.active or (email is not None and row.email != email.strip().lower()):
        raise NotAuthenticated()
    return Principal(ctx.tenant, row.account_id, row.email, bool(row.is_admin), version, oauth=email is None)


_PRINCIPAL = Prepared(
    select(_USER)
    .select_from(
        _TOKEN.join(
            _USER, (_USER.c.tenant_id == _TOKEN.c.tenant_id) & (_USER.c.account_id == _TOKEN.c.account_id)
        )
    )
    .where(_TOKEN.c.tenant_id == bindparam("tenant"), _TOKEN.c.token == bindparam("token"))
)


async def run(
    request: Request, fn: Callable[[TwinContext], T], *, status: int = 200, version: str | None = None
) -> Response:
    """Authenticate, run `fn(ctx)` in one unit of work, answer JSON (204 when it returns None)."""
    result = await run_raw(request, fn, version=version)
    if result is None and status in (200, 204):
        return Response(status_code=204)
    return Response(orjson.dumps(result), status_code=status, media_type=JSON)


async def run_raw(request: Request, fn: Callable[[TwinContext], T], *, version: str | None = None) -> T:
    runtime: TwinRuntime = request.app.state.dtu
    creds = parse_authorization(request.headers.get("authorization"))
    if creds is None:
        raise NotAuthenticated()
    email, token = creds
    tenant = runtime.tenant_for(token)
    if tenant is None:
        raise NotAuthenticated()
    state = request.scope.setdefault("state", {})
    state["dtu.tenant"] = tenant
    ver = version or api_version(request)

    def work(ctx: TwinContext) -> T:
        ctx.principal = _principal(ctx, email, token, ver)
        return fn(ctx)

    return await runtime.unit(
        tenant,
        work,
        base_url=base_url(request, runtime),
        stale_lag_s=state.get("dtu.stale_lag_s"),
        points=state.get("dtu.points", {}),
        real_limits=bool(state.get("dtu.real_limits")),
    )


async def body(request: Request) -> Any:
    """The JSON body, with Jira's (Jackson's) 400 for unreadable input."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise JiraError(f"Unexpected character: the request body is not valid JSON ({exc.msg})") from None
    return without_nul(data) if b"\\u0000" in raw else data


def without_nul(value: Any) -> Any:
    """The value with NUL characters dropped from every string: PostgreSQL text cannot hold
    them, and the twin answers alike on every store (see app.py for the path and query)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    return value


async def body_object(request: Request) -> dict[str, Any]:
    data = await body(request)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise JiraError("Can not deserialize instance of the request out of a non-object token")
    return data


def multi(request: Request, name: str) -> list[str] | None:
    """A list parameter: repeated (`fields=a&fields=b`) or comma-separated (`fields=a,b`)."""
    values = request.query_params.getlist(name)
    if not values:
        return None
    out: list[str] = []
    for v in values:
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return out


def int_param(request: Request, name: str, default: int | None = None) -> int | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise JiraError(f"The '{name}' parameter must be an integer.") from None
    if not -(2**63) <= number < 2**63:  # Java's long
        raise JiraError(f"The '{name}' parameter must be an integer.")
    return number


def bool_param(request: Request, name: str, default: bool = False) -> bool:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    return value.lower() == "true"
