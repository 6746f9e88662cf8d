"""How an Okta API request becomes a service call: credentials, scopes, bodies, responses.

Management API calls carry `Authorization: SSWS <api token>` (the okta SDK sends `SSWS<token>`
with no space, which real Okta accepts too) or `Bearer <access token>` minted by the org
authorization server with `okta.*` scopes. Routes are thin: they authenticate, parse, and run
one service function in a unit of work (`await call(request, principal, fn)`).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote

import orjson
from sqlalchemy import Connection, bindparam, select
from starlette.requests import Request
from starlette.responses import Response

from dtu.cache import TenantCache
from dtu.context import TwinContext
from dtu.db import table
from dtu.errors import TwinError
from dtu.runtime import TwinRuntime
from dtu.sql import Prepared
from twins.okta import models
from twins.okta.errors import (
    JSON,
    Forbidden,
    InvalidToken,
    MalformedBody,
    MediaTypeMismatch,
    OAuthError,
    OktaError,
)

T = TypeVar("T")
_API_TOKEN = table(models.ApiToken)
_OAUTH_TOKEN = table(models.OAuthToken)
_USER = table(models.User)
# Every Management API call with an API token reads this (built once; see dtu/sql.py).
_SSWS = Prepared(
    select(_API_TOKEN.c.tenant_id, _API_TOKEN.c.user_id, _USER.c.status)
    .select_from(_API_TOKEN)
    .outerjoin(_USER, (_USER.c.tenant_id == _API_TOKEN.c.tenant_id) & (_USER.c.id == _API_TOKEN.c.user_id))
    .where(_API_TOKEN.c.token == bindparam("token"))
)


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API token's admin, an OAuth client (with `okta.*` scopes), or nobody
    (OIDC endpoints authenticate clients themselves)."""

    tenant: str
    kind: str  # ssws | oauth | anonymous
    user_id: str | None = None
    client_id: str | None = None
    scopes: frozenset[str] | None = None  # None: every scope (API tokens)
    request_id: str = ""
    ip: str = "127.0.0.1"
    user_agent: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def allows(self, scope: str) -> bool:
        if self.scopes is None:
            return True
        if scope in self.scopes:
            return True
        # A `manage` scope grants its `read` operations too (`okta.users.manage.self` covers
        # `okta.users.read.self`).
        if scope.endswith(".read.self"):
            return scope[: -len(".read.self")] + ".manage.self" in self.scopes
        return scope.endswith(".read") and scope[:-5] + ".manage" in self.scopes


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_authorization(value: str | None) -> tuple[str, str] | None:
    """(scheme, credential) from `SSWS x`, `SSWSx`, `Bearer x` or `Bearerx` (the SDK's spelling)."""
    if not value:
        return None
    text = value.strip()
    for scheme in ("SSWS", "Bearer"):
        if text[: len(scheme)].lower() == scheme.lower():
            cred = text[len(scheme) :].strip()
            return (scheme, cred) if cred else None
    return None


# What identifies the org of a request that carries no API token or access token, for the
# core's per-tenant fault rules (real_limits included): an OAuth client (Basic auth, a form or
# query `client_id`), an Authn state token, or a user's activation / recovery token.
CLIENT, STATE, USER_TOKEN = "client_id:", "stateToken:", "userToken:"


def credential_of_scope(headers: Any, query_string: bytes = b"") -> str | None:
    for key, value in headers:
        if key == b"authorization":
            text = value.decode("latin-1")
            if text[:6].lower() == "basic ":
                try:
                    raw = base64.b64decode(text[6:].strip()).decode()
                except (ValueError, UnicodeDecodeError):
                    return None
                return CLIENT + unquote(raw.partition(":")[0])
            parsed = parse_authorization(text)
            return parsed[1] if parsed else None
    if query_string:
        client_id = parse_qs(query_string.decode("latin-1")).get("client_id")
        if client_id:
            return CLIENT + client_id[0]
    return None


def credential_in_body(scope: Any, body: bytes) -> str | None:
    """The org's handle in a POST body without an Authorization header: a form `client_id`
    (token, introspect, revoke, authorize; the hosted sign-in pages' `authorize_query`) or an
    Authn JSON body's `stateToken`, `token` or `recoveryToken`."""
    path = str(scope.get("path", ""))
    if path.startswith("/api/v1/authn"):
        try:
            data = orjson.loads(body or b"{}")
        except orjson.JSONDecodeError:
            return None
        if not isinstance(data, dict):
            return None
        for key, prefix in (("stateToken", STATE), ("token", USER_TOKEN), ("recoveryToken", USER_TOKEN)):
            value = data.get(key)
            if isinstance(value, str) and value:
                return prefix + value
        return None
    if path.startswith("/oauth2/"):
        form = parse_qs(body.decode("utf-8", "replace"))
        if form.get("client_id"):
            return CLIENT + form["client_id"][0]
        query = form.get("authorize_query")
        if query:
            client_id = parse_qs(query[0]).get("client_id")
            return CLIENT + client_id[0] if client_id else None
    return None


def tenant_of_credential(conn: Connection, credential: str) -> str | None:
    if credential.startswith(CLIENT):
        from twins.okta.service import oauth

        return oauth.tenant_of_client(conn, credential[len(CLIENT) :])
    if credential.startswith(STATE):
        from twins.okta.service import authn

        return authn.tenant_of_state_token(conn, credential[len(STATE) :])
    if credential.startswith(USER_TOKEN):
        from twins.okta.service import authn

        return authn.tenant_of_user_token(conn, credential[len(USER_TOKEN) :])
    tenant = conn.execute(select(_API_TOKEN.c.tenant_id).where(_API_TOKEN.c.token == credential)).scalar()
    if tenant is None:
        tenant = conn.execute(
            select(_OAUTH_TOKEN.c.tenant_id).where(_OAUTH_TOKEN.c.digest == digest(credential))
        ).scalar()
    return tenant


def _principals(runtime: TwinRuntime) -> TenantCache[str, Principal | None]:
    """API token -> its principal (None: its admin is deactivated or suspended). Any write to
    the org's API tokens or users drops the org's entries (dtu/cache.py)."""
    return runtime.cache("okta.principal", _API_TOKEN, _USER)


def _ssws(conn: Connection, credential: str) -> tuple[str, Principal | None]:
    """An API token's org and admin; None for a token whose admin is deactivated or suspended
    (Okta deactivates their tokens). An unknown token raises: nothing is cached for it."""
    row = _SSWS.first(conn, {"token": credential})
    if row is None:
        raise InvalidToken()
    if row.status in ("DEPROVISIONED", "SUSPENDED"):
        return row.tenant_id, None
    return row.tenant_id, Principal(tenant=row.tenant_id, kind="ssws", user_id=row.user_id)


def _lookup(conn: Connection, scheme: str, credential: str, runtime: TwinRuntime) -> Principal:
    if scheme == "SSWS":
        principal: Principal | None = _principals(runtime).get(credential, lambda: _ssws(conn, credential))
        if principal is None:
            raise InvalidToken()
        return principal
    tok = conn.execute(select(_OAUTH_TOKEN).where(_OAUTH_TOKEN.c.digest == digest(credential))).first()
    # Only the org authorization server's access tokens are good for the Management API.
    if (
        tok is None
        or tok.kind != "access"
        or tok.revoked
        or tok.auth_server != "org"
        or tok.expires_at <= runtime.clocks.now(tok.tenant_id)
    ):
        raise InvalidToken()
    return Principal(
        tenant=tok.tenant_id,
        kind="oauth",
        user_id=tok.user_id,
        client_id=tok.client_id,
        scopes=frozenset(tok.scopes),
    )


class _Miss(Exception):
    """The principal is not cached: look it up in a unit of work."""


def _miss() -> tuple[str, Principal | None]:
    raise _Miss


def _cached(runtime: TwinRuntime, scheme: str, credential: str) -> Principal | None:
    """The API token's principal if the cache holds it (no unit of work, no thread hop)."""
    if scheme != "SSWS":
        return None
    try:
        principal = _principals(runtime).get(credential, _miss)
    except _Miss:
        return None
    if principal is None:
        raise InvalidToken()
    return principal


async def authenticate(request: Request, scope: str | None = None, *alternatives: str) -> Principal:
    """The caller of a Management API operation, checked for `scope` (or any of `alternatives`,
    e.g. `okta.users.read.self` for `/users/me`); E0000011 / E0000006."""
    runtime: TwinRuntime = request.app.state.dtu
    parsed = parse_authorization(request.headers.get("authorization"))
    if parsed is None:
        raise InvalidToken()
    scheme, credential = parsed
    principal = _cached(runtime, scheme, credential)
    if principal is None:
        if runtime.store.is_sqlite:
            principal = runtime.store.run_sync(lambda conn: _lookup(conn, scheme, credential, runtime))
        else:
            principal = await runtime.store.run(lambda conn: _lookup(conn, scheme, credential, runtime))
    state = request.scope.setdefault("state", {})
    state["dtu.tenant"] = principal.tenant
    if scope is not None and not any(principal.allows(s) for s in (scope, *alternatives)):
        raise Forbidden(
            headers={
                "WWW-Authenticate": f'Bearer realm="IdpMyAccountAPI", error="insufficient_scope", '
                f'error_description="The access token provided does not '
                f'contain the required scopes.", resource="{request.url.path}"'
            }
        )
    return _with_request(principal, request)


def _with_request(principal: Principal, request: Request) -> Principal:
    state = request.scope.get("state", {})
    return Principal(
        tenant=principal.tenant,
        kind=principal.kind,
        user_id=principal.user_id,
        client_id=principal.client_id,
        scopes=principal.scopes,
        request_id=state.get("okta.request_id", ""),
        ip=request.client.host if request.client else "127.0.0.1",
        user_agent=request.headers.get("user-agent", ""),
    )


def anonymous(request: Request, tenant: str) -> Principal:
    request.scope.setdefault("state", {})["dtu.tenant"] = tenant
    return _with_request(Principal(tenant=tenant, kind="anonymous"), request)


def base_url(request: Request) -> str:
    """The org URL as the client reached it (Okta's links and issuers name it)."""
    runtime: TwinRuntime = request.app.state.dtu
    if runtime.settings.public_url:
        return runtime.settings.public_url.rstrip("/")
    host = request.headers.get("host") or "127.0.0.1"
    scope = request.scope
    scheme = scope.get("scheme", "http")
    if scope.get("server") is None or scheme not in ("http", "https"):
        scheme = request.url.scheme  # what Starlette's URL makes of an unusual scope
    return f"{scheme}://{host}"


def ctx_extra(principal: Principal | None, request: Request) -> dict[str, Any]:
    state = request.scope.get("state", {})
    return {
        "principal": principal,
        "base_url": base_url(request),
        "stale_lag_s": state.get("dtu.stale_lag_s"),
        "points": state.get("dtu.points", {}),
        "real_limits": bool(state.get("dtu.real_limits")),
    }


async def call(request: Request, principal: Principal, fn: Callable[[TwinContext], T]) -> T:
    """Run `fn` in one unit of work. An error marked `kept` (errors.kept) still commits the
    unit's writes and is raised after the commit; any other error rolls the unit back."""
    runtime: TwinRuntime = request.app.state.dtu

    def work(ctx: TwinContext) -> tuple[T | None, TwinError | None]:
        try:
            return fn(ctx), None
        except (OktaError, OAuthError) as err:
            if err.keep_writes:
                return None, err
            raise

    result, err = await runtime.unit(principal.tenant, work, **ctx_extra(principal, request))
    if err is not None:
        raise err
    return result  # type: ignore[return-value]


async def json_body(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The JSON object body; E0000003 when it is not one, E0000019 when it comes with a
    Content-Type other than JSON (no Content-Type is taken as JSON, as curl users rely on)."""
    raw = await request.body()
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if raw.strip() and media and media != "application/json" and not media.endswith("+json"):
        raise MediaTypeMismatch()
    if not raw.strip():
        if required:
            raise MalformedBody()
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise MalformedBody() from None
    if not isinstance(data, dict):
        raise MalformedBody()
    return data


def okta_json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type=JSON, headers=headers)


def no_content() -> Response:
    return Response(status_code=204)


def query_bool(request: Request, name: str, default: bool | None = None) -> bool | None:
    from twins.okta.errors import validation

    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    low = raw.lower()
    if low in ("true", "false"):
        return low == "true"
    raise validation(name, f"{name}: The value must be true or false.")
