"""How a Slack Web API call becomes a service call: body parsing, token, scopes, dispatch.

Slack is RPC over HTTP: `/api/<method>`, GET or POST, arguments in the query, a form body
(`application/x-www-form-urlencoded` or multipart) or a JSON body (token then only in the
`Authorization` header). One route serves every method: a table lookup is cheaper than
matching a hundred route patterns, and the OpenAPI document is generated from the catalog.

A method is a thin function registered with `@slack_method("chat.postMessage")`; sync
functions run in one unit of work as `fn(ctx, args)`, async ones get the `Call` (for the few
that must talk to the app before writing, such as request URL verification).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import orjson
from sqlalchemy import Connection, select
from starlette.requests import Request
from starlette.responses import Response

from dtu.context import TwinContext
from dtu.runtime import TwinRuntime
from twins.slack import catalog, models
from twins.slack.errors import (
    JSON,
    AccountInactive,
    InvalidArguments,
    InvalidAuth,
    InvalidFormData,
    InvalidPostType,
    MissingScope,
    NotAllowedTokenType,
    NotAuthed,
    SlackError,
    TokenRevoked,
    UnknownMethod,
)

T = TypeVar("T")
_TOKEN = models.Token.__table__
_USER = models.User.__table__
_APP = models.App.__table__
_TEAM = models.Team.__table__


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's kind, its user (the bot user for bot tokens) and scopes."""

    token: str
    kind: str  # bot | user | configuration
    tenant: str
    team_id: str
    user_id: str | None
    app_id: str | None
    bot_id: str | None
    scopes: frozenset[str]
    is_admin: bool = False

    @property
    def is_bot(self) -> bool:
        return self.kind == "bot"


class Args:
    """A method's arguments as Slack reads them: strings, or JSON values from JSON bodies."""

    __slots__ = ("raw",)

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def __contains__(self, name: str) -> bool:
        return name in self.raw and self.raw[name] not in (None, "")

    def str(self, name: str, default: str | None = None, *, missing: type[SlackError] | str | None = None) -> str | None:
        value = self.raw.get(name)
        if value is None or value == "":
            if missing is not None:
                raise missing() if isinstance(missing, type) else SlackError(missing)
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        if not isinstance(value, str):
            raise InvalidArguments(messages=[f"[ERROR] expected a string for `{name}`"])
        return value

    def req(self, name: str, missing: type[SlackError] | str) -> str:
        value = self.str(name, missing=missing)
        assert value is not None
        return value

    def bool(self, name: str, default: bool = False) -> bool:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes"):
            return True
        if text in ("0", "false", "no"):
            return False
        raise InvalidArguments(messages=[f"[ERROR] expected a boolean for `{name}`"])

    def int(self, name: str, default: int | None = None) -> int | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise InvalidArguments(messages=[f"[ERROR] expected an integer for `{name}`"])
        try:
            return int(value)
        except (TypeError, ValueError):
            raise InvalidArguments(messages=[f"[ERROR] expected an integer for `{name}`"]) from None

    def json(self, name: str, *, error: str = "invalid_arguments") -> Any:
        """A structured argument: a JSON string in form bodies, the value itself in JSON bodies."""
        value = self.raw.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                raise SlackError(error, messages=[f"[ERROR] `{name}` is not valid JSON"]) from None
        return value

    def list(self, name: str) -> list[str]:
        """Comma-separated ids (`users=U1,U2`) or a JSON array."""
        value = self.raw.get(name)
        if value is None or value == "":
            return []
        if isinstance(value, list):
            return [str(v) for v in value]
        if isinstance(value, str) and value.lstrip().startswith("["):
            parsed = self.json(name)
            if isinstance(parsed, list):
                return [str(v) for v in parsed]
        return [part.strip() for part in str(value).split(",") if part.strip()]


SyncMethod = Callable[[TwinContext, Args], dict[str, Any]]
AsyncMethod = Callable[["Call"], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Registered:
    name: str
    fn: Any
    is_async: bool
    needs_auth: bool


METHODS: dict[str, Registered] = {}


def slack_method(name: str, *, auth: bool = True) -> Callable[[T], T]:
    """Register a Web API method. The name must exist in Slack's catalog."""
    if catalog.info(name) is None:
        raise ValueError(f"{name} is not a Slack Web API method")

    def register(fn: T) -> T:
        METHODS[name] = Registered(name, fn, inspect.iscoroutinefunction(fn), auth)
        return fn

    return register


@dataclass
class Call:
    """An authenticated call in flight, for async methods."""

    runtime: TwinRuntime
    principal: Principal
    args: Args
    base_url: str
    state: dict[str, Any]

    async def unit(self, fn: Callable[[TwinContext], T]) -> T:
        return await self.runtime.unit(self.principal.tenant, fn, **_ctx_extra(self.principal, self.base_url, self.state))


def _ctx_extra(principal: Principal | None, base_url: str, state: dict[str, Any]) -> dict[str, Any]:
    return {
        "principal": principal, "base_url": base_url, "stale_lag_s": state.get("dtu.stale_lag_s"),
        "points": state.get("dtu.points", {}), "real_limits": bool(state.get("dtu.real_limits")),
    }


def base_url(request: Request, runtime: TwinRuntime) -> str:
    """The twin as the client reached it (URLs it hands out must come back here)."""
    if runtime.settings.public_url:
        return runtime.settings.public_url.rstrip("/")
    host = request.headers.get("host") or "127.0.0.1"
    return f"{request.url.scheme}://{host}"


async def read_args(request: Request) -> tuple[dict[str, Any], bool]:
    """Arguments from the query string and the body; True if the body was JSON."""
    args: dict[str, Any] = dict(request.query_params)
    if request.method != "POST":
        return args, False
    ctype = request.headers.get("content-type", "")
    mime = ctype.split(";", 1)[0].strip().lower()
    if mime == "multipart/form-data":
        try:
            form = await request.form()
        except Exception:
            raise InvalidFormData() from None
        for key, value in form.multi_items():
            args[key] = value if isinstance(value, str) else await value.read()
        return args, False
    body = await request.body()
    if not body:
        return args, False
    if mime == "application/json":
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise SlackError("invalid_json") from None
        if not isinstance(data, dict):
            raise SlackError("json_not_object")
        args.update(data)
        return args, True
    if mime in ("application/x-www-form-urlencoded", "text/plain"):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise SlackError("invalid_charset") from None
        try:
            args.update(parse_qsl(text, keep_blank_values=True, strict_parsing=False))
        except ValueError:
            raise InvalidFormData() from None
        return args, False
    if not mime:
        raise SlackError("missing_post_type")
    raise InvalidPostType()


def lookup_principal(conn: Connection, token: str) -> Principal:
    row = conn.execute(
        select(_TOKEN.c.tenant_id, _TOKEN.c.kind, _TOKEN.c.user_id, _TOKEN.c.app_id, _TOKEN.c.scopes,
               _TOKEN.c.revoked, _USER.c.deleted, _USER.c.is_admin, _USER.c.team_id, _APP.c.bot_id)
        .select_from(_TOKEN)
        .outerjoin(_USER, (_USER.c.tenant_id == _TOKEN.c.tenant_id) & (_USER.c.id == _TOKEN.c.user_id))
        .outerjoin(_APP, (_APP.c.tenant_id == _TOKEN.c.tenant_id) & (_APP.c.id == _TOKEN.c.app_id))
        .where(_TOKEN.c.token == token)
    ).first()
    if row is None:
        raise InvalidAuth()
    if row.revoked:
        raise TokenRevoked()
    if row.deleted:
        raise AccountInactive()
    team_id = row.team_id
    if team_id is None:
        team_id = conn.execute(select(_TEAM.c.id).where(_TEAM.c.tenant_id == row.tenant_id)).scalar_one()
    return Principal(token=token, kind=row.kind, tenant=row.tenant_id, team_id=team_id, user_id=row.user_id,
                     app_id=row.app_id, bot_id=row.bot_id if row.kind == "bot" else None,
                     scopes=frozenset(row.scopes or ()), is_admin=bool(row.is_admin))


def check_scopes(principal: Principal, info: catalog.MethodInfo) -> str:
    """Raise Slack's token-type and scope errors; answer the accepted scopes header."""
    if not info.scopes:
        return ""
    needed = info.scopes.get(principal.kind)
    if needed is None:
        raise NotAllowedTokenType()
    if needed and not any(s in principal.scopes for s in needed):
        raise MissingScope(extra={"needed": ",".join(needed), "provided": ",".join(sorted(principal.scopes))})
    return ",".join(needed)


def bearer(headers: Any) -> str | None:
    auth = headers.get("authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return None


async def handle(request: Request) -> Response:
    """The endpoint behind `/api/{method}`."""
    runtime: TwinRuntime = request.app.state.dtu
    name = request.path_params["method"]
    registered = METHODS.get(name)
    if registered is None:
        raise UnknownMethod()
    raw, is_json = await read_args(request)
    state = request.scope.setdefault("state", {})
    principal: Principal | None = None
    headers: dict[str, str] = {}
    if registered.needs_auth:
        token = bearer(request.headers) or (None if is_json else raw.get("token"))
        if not token or not isinstance(token, str):
            raise NotAuthed()
        principal = runtime.store.run_sync(lambda conn: lookup_principal(conn, token)) if runtime.store.is_sqlite \
            else await runtime.store.run(lambda conn: lookup_principal(conn, token))
        state["dtu.tenant"] = principal.tenant
        info = catalog.info(name)
        assert info is not None
        accepted = check_scopes(principal, info)
        headers = {"x-oauth-scopes": ",".join(sorted(principal.scopes)), "x-accepted-oauth-scopes": accepted}
    args = Args(raw)
    url = base_url(request, runtime)
    if registered.is_async:
        assert principal is not None or not registered.needs_auth
        result = await registered.fn(Call(runtime, principal, args, url, state))  # type: ignore[arg-type]
    else:
        tenant = principal.tenant if principal is not None else "default"
        fn = registered.fn
        result = await runtime.unit(tenant, lambda ctx: fn(ctx, args), **_ctx_extra(principal, url, state))
    body = {"ok": True}
    body.update(result)
    return Response(orjson.dumps(body), media_type=JSON, headers=headers)
