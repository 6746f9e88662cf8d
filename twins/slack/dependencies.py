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

import builtins
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import orjson
from sqlalchemy import Connection, bindparam, select
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from dtu.asgi import RawRequest, send_bytes
from dtu.context import TwinContext
from dtu.db import table
from dtu.ratelimit import Limit
from dtu.runtime import TwinRuntime
from twins.slack import catalog, constants, models
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
    rate_limited,
)

T = TypeVar("T")
_TOKEN = table(models.Token)
_USER = table(models.User)
_APP = table(models.App)
_TEAM = table(models.Team)
# Every authenticated call runs these: built once (building a statement costs more than running it).
_PRINCIPAL = (
    select(
        _TOKEN.c.tenant_id,
        _TOKEN.c.kind,
        _TOKEN.c.user_id,
        _TOKEN.c.app_id,
        _TOKEN.c.scopes,
        _TOKEN.c.revoked,
        _USER.c.deleted,
        _USER.c.is_admin,
        _USER.c.team_id,
        _APP.c.bot_id,
    )
    .select_from(_TOKEN)
    .outerjoin(_USER, (_USER.c.tenant_id == _TOKEN.c.tenant_id) & (_USER.c.id == _TOKEN.c.user_id))
    .outerjoin(_APP, (_APP.c.tenant_id == _TOKEN.c.tenant_id) & (_APP.c.id == _TOKEN.c.app_id))
    .where(_TOKEN.c.token == bindparam("token"))
)
_TEAM_OF_TENANT = select(_TEAM.c.id).where(_TEAM.c.tenant_id == bindparam("tenant"))


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

    def str(
        self, name: str, default: str | None = None, *, missing: type[SlackError] | str | None = None
    ) -> str | None:
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

    def req(self, name: builtins.str, missing: type[SlackError] | builtins.str) -> builtins.str:
        value = self.str(name, missing=missing)
        assert value is not None
        return value

    def bool(self, name: builtins.str, default: bool = False) -> bool:
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

    def int(self, name: builtins.str, default: int | None = None) -> int | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise InvalidArguments(messages=[f"[ERROR] expected an integer for `{name}`"])
        try:
            return int(value)
        except (TypeError, ValueError):
            raise InvalidArguments(messages=[f"[ERROR] expected an integer for `{name}`"]) from None

    def json(self, name: builtins.str, *, error: builtins.str = "invalid_arguments") -> Any:
        """A structured argument: a JSON string in form bodies, the value itself in JSON bodies."""
        value = self.raw.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                parsed = orjson.loads(value)
            except orjson.JSONDecodeError:
                raise SlackError(error, messages=[f"[ERROR] `{name}` is not valid JSON"]) from None
            if too_deep(parsed):
                raise SlackError(error, messages=[f"[ERROR] `{name}` is nested too deeply"])
            return parsed
        return value

    def list(self, name: builtins.str) -> list[builtins.str]:
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
        return await self.runtime.unit(
            self.principal.tenant, fn, **_ctx_extra(self.principal, self.base_url, self.state)
        )


def _ctx_extra(principal: Principal | None, base_url: str, state: dict[str, Any]) -> dict[str, Any]:
    return {
        "principal": principal,
        "base_url": base_url,
        "stale_lag_s": state.get("dtu.stale_lag_s"),
        "points": state.get("dtu.points", {}),
        "real_limits": bool(state.get("dtu.real_limits")),
    }


def base_url(request: Request | RawRequest, runtime: TwinRuntime) -> str:
    """The twin as the client reached it (URLs it hands out must come back here)."""
    if runtime.settings.public_url:
        return runtime.settings.public_url.rstrip("/")
    host = request.headers.get("host") or "127.0.0.1"
    return f"{request.scope.get('scheme', 'http')}://{host}"


# "Valid charset names are: utf-8 iso-8859-1" (the `invalid_charset` error of every method).
_CHARSETS = {"utf-8": "utf-8", "utf8": "utf-8", "iso-8859-1": "latin-1"}


def _charset(params: str) -> str:
    """The body's encoding from the Content-Type parameters; Slack refuses other charsets."""
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            encoding = _CHARSETS.get(value.strip().strip('"').lower())
            if encoding is None:
                raise SlackError("invalid_charset")
            return encoding
    return "utf-8"


# Nesting the twin accepts in JSON arguments: Block Kit and manifests stay far below it, and
# anything deeper could not be written back out (orjson stops at 255 levels).
MAX_JSON_DEPTH = 64


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True if lists and objects nest deeper than `limit` (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


async def read_args(request: RawRequest) -> tuple[dict[str, Any], bool]:
    """Arguments from the query string and the body; True if the body was JSON. NUL characters
    are dropped from every argument: PostgreSQL text cannot hold them, and the twin must answer
    alike on every store (an id with a NUL in it then simply matches nothing)."""
    args, is_json = await _read_args(request)
    if await _may_hold_nul(request):
        args = _without_nul(args)
    return args, is_json


async def _may_hold_nul(request: RawRequest) -> bool:
    """Whether any argument can hold a NUL: as a raw byte, `%00` in a query or form, `\\u0000` in
    JSON, or anything in multipart (parts are decoded). Most calls skip the walk of every value."""
    if request.headers.get("content-type", "").lower().startswith("multipart/"):
        return True
    raw = request.scope.get("query_string", b"")
    if request.method == "POST":
        raw += await request.body()
    return b"\x00" in raw or b"%00" in raw or b"\\u0000" in raw


async def _read_args(request: RawRequest) -> tuple[dict[str, Any], bool]:
    args: dict[str, Any] = request.query()
    if request.method != "POST":
        return args, False
    mime, _, params = request.headers.get("content-type", "").partition(";")
    mime = mime.strip().lower()
    if mime == "multipart/form-data":
        try:
            form = await request.form()
        except Exception:
            raise InvalidFormData() from None
        for key, value in form.multi_items():
            args[key] = value if isinstance(value, str) else await value.read()
        return args, False
    encoding = _charset(params)
    body = await request.body()
    if not body:
        return args, False
    if mime == "application/json":
        try:
            data = orjson.loads(body if encoding == "utf-8" else body.decode(encoding))
        except orjson.JSONDecodeError:
            raise SlackError("invalid_json") from None
        if not isinstance(data, dict):
            raise SlackError("json_not_object")
        if too_deep(data):
            raise SlackError("invalid_json")
        args.update(data)
        return args, True
    if mime in ("application/x-www-form-urlencoded", "text/plain"):
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError:
            raise SlackError("invalid_charset") from None
        try:
            args.update(parse_qsl(text, keep_blank_values=True, strict_parsing=False, encoding=encoding))
        except ValueError:
            raise InvalidFormData() from None
        return args, False
    if not mime:
        raise SlackError("missing_post_type")
    raise InvalidPostType()


def lookup_principal(conn: Connection, token: str) -> Principal:
    row = conn.execute(_PRINCIPAL, {"token": token}).first()
    if row is None:
        raise InvalidAuth()
    if row.revoked:
        raise TokenRevoked()
    if row.deleted:
        raise AccountInactive()
    team_id = row.team_id
    if team_id is None:
        team_id = conn.execute(_TEAM_OF_TENANT, {"tenant": row.tenant_id}).scalar_one()
    return Principal(
        token=token,
        kind=row.kind,
        tenant=row.tenant_id,
        team_id=team_id,
        user_id=row.user_id,
        app_id=row.app_id,
        bot_id=row.bot_id if row.kind == "bot" else None,
        scopes=frozenset(row.scopes or ()),
        is_admin=bool(row.is_admin),
    )


def _keyed(principal: Principal) -> tuple[str, Principal]:
    return principal.tenant, principal


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


def enforce_tier(runtime: TwinRuntime, principal: Principal | None, info: catalog.MethodInfo) -> None:
    """Slack's rate-limit tiers, when a fault profile's `real_limits` rule is on: calls per
    minute per method, per workspace, per app (a token's app; a token without one counts for
    its user). https://docs.slack.dev/apis/web-api/rate-limits"""
    per_minute = constants.TIER_PER_MINUTE.get(info.tier or "")
    if per_minute is None:
        return
    tenant = principal.tenant if principal is not None else None
    caller = (principal.app_id or principal.user_id) if principal is not None else None
    limit = Limit(f"tier:{caller}:{info.name}", per_minute, 60.0)
    verdict = runtime.limiter.hit(tenant, limit, runtime.clocks.now(tenant))
    if not verdict.allowed:
        raise rate_limited(verdict.retry_after_s)


def bearer(headers: Any) -> str | None:
    auth = headers.get("authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return None


async def web_api(scope: Scope, receive: Receive, send: Send) -> None:
    """`/api/<method>`, served ahead of FastAPI's routing (`TwinSpec.direct`)."""
    name = scope["path"][5:]
    if scope["method"] not in ("GET", "POST", "HEAD"):
        raise InvalidPostType(status=200)  # what the adapter answers to a 405
    if "/" in name:
        raise UnknownMethod(extra={"req_method": name})
    body, headers = await handle(RawRequest(scope, receive), name)
    await send_bytes(send, 200, body, JSON, headers.items())


async def handle(request: RawRequest, name: str) -> tuple[bytes, dict[str, str]]:
    """A Web API call: arguments, token, scopes, the method in one unit of work; the answer's
    body and headers."""
    runtime: TwinRuntime = request.app.state.dtu
    registered = METHODS.get(name)
    if registered is None:
        raise UnknownMethod(extra={"req_method": name})
    raw, is_json = await read_args(request)
    state = request.scope.setdefault("state", {})
    principal: Principal | None = None
    headers: dict[str, str] = {}
    token: str | None = None
    if registered.needs_auth:
        token = bearer(request.headers) or (None if is_json else raw.get("token"))
        if not token or not isinstance(token, str):
            raise NotAuthed()
    info = catalog.info(name)
    assert info is not None

    principals = runtime.cache("slack.principal", _TOKEN, _USER, _APP, _TEAM)
    limited = bool(state.get("dtu.real_limits"))
    if limited and token is None:
        enforce_tier(runtime, None, info)

    def authenticate(conn: Connection, token: str) -> Principal:
        principal: Principal = principals.get(token, lambda: _keyed(lookup_principal(conn, token)))
        state["dtu.tenant"] = principal.tenant
        accepted = check_scopes(principal, info)
        headers.update(
            {"x-oauth-scopes": ",".join(sorted(principal.scopes)), "x-accepted-oauth-scopes": accepted}
        )
        if limited:
            enforce_tier(runtime, principal, info)
        return principal

    args = Args(raw)
    url = base_url(request, runtime)
    fn = registered.fn
    if registered.is_async:
        if token is not None:
            principal = (
                runtime.store.run_sync(lambda conn: authenticate(conn, token))
                if runtime.store.is_sqlite
                else await runtime.store.run(lambda conn: authenticate(conn, token))
            )
        assert principal is not None or not registered.needs_auth
        result = await fn(Call(runtime, principal, args, url, state))  # type: ignore[arg-type]
    elif token is not None:
        # The token is read in the method's own transaction: one begin/commit per call, not two.
        def resolve(conn: Connection) -> tuple[str, dict[str, Any]]:
            principal = authenticate(conn, token)
            return principal.tenant, _ctx_extra(principal, url, state)

        result = await runtime.unit_resolving(resolve, lambda ctx: fn(ctx, args))
    else:
        result = await runtime.unit("default", lambda ctx: fn(ctx, args), **_ctx_extra(None, url, state))
    body = {"ok": True}
    body.update(result)
    return orjson.dumps(body), headers
