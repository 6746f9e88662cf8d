"""How a Drive REST call becomes a service call: bearer token, scopes, unit of work, JSON out.

Google takes `Authorization: Bearer <access token>` (or the `access_token`/`oauth_token` query
parameters). No credential is 401 "Login Required", an unknown or expired token 401
`authError`, and a token without any of the method's discovery scopes 403
`insufficientPermissions` (`ACCESS_TOKEN_SCOPE_INSUFFICIENT`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import orjson
from starlette.requests import Request
from starlette.responses import Response

from dtu.context import TwinContext
from dtu.runtime import TwinRuntime
from twins._workspace import oauth
from twins._workspace.common import Caller
from twins._workspace.errors import JSON, insufficient_scopes, invalid_credentials, login_required
from twins._workspace.oauth import credential_of
from twins.gdrive import discovery
from twins.gdrive.errors import GoogleError, invalid_value
from twins.gdrive.service import quota

T = TypeVar("T")


def base_url(request: Request, runtime: TwinRuntime) -> str:
    """The twin as the client reached it (upload and discovery URLs must come back here)."""
    if runtime.settings.public_url:
        return runtime.settings.public_url.rstrip("/")
    host = request.headers.get("host") or "127.0.0.1"
    return f"{request.url.scheme}://{host}"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=JSON, headers=headers)


async def unit(request: Request, method_id: str, fn: Callable[[TwinContext], T]) -> T:
    """Authenticate the caller, check the method's scopes, run `fn(ctx)` in one unit of work
    (ctx.principal is the `Caller`)."""
    runtime: TwinRuntime = request.app.state.dtu
    token = credential_of(request.scope)
    if token is None:
        raise login_required()
    tenant = runtime.tenant_for(token)
    if tenant is None:
        raise invalid_credentials()
    state = request.scope.setdefault("state", {})
    state["dtu.tenant"] = tenant
    needed = discovery.scopes(method_id)
    all_drives = any(
        request.query_params.get(name, "").strip().lower() in ("true", "1")
        for name in ("supportsAllDrives", "supportsTeamDrives")
    )

    def work(ctx: TwinContext) -> T:
        caller: Caller = oauth.authenticate(ctx, token)
        if needed and not (needed & caller.scopes):
            raise insufficient_scopes("drive.googleapis.com", method_id)
        ctx.principal = replace(caller, all_drives=all_drives)
        quota.charge(ctx, caller.email)
        return fn(ctx)

    return await runtime.unit(
        tenant,
        work,
        base_url=base_url(request, runtime),
        stale_lag_s=state.get("dtu.stale_lag_s"),
        points=state.get("dtu.points", {}),
        real_limits=bool(state.get("dtu.real_limits")),
    )


async def run(
    request: Request, method_id: str, fn: Callable[[TwinContext], Any], *, status: int = 200
) -> Response:
    """`unit`, answered as JSON (204 with no body when `fn` returns None)."""
    result = await unit(request, method_id, fn)
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(status_code=204)
    return json_response(result, status)


# -- parameters ------------------------------------------------------------------------------------


def param_bool(request: Request, name: str, default: bool = False) -> bool:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    text = value.strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise GoogleError(
        f"Invalid value '{value}'. Values must be one of: [true, false]",
        status=400,
        reason="invalidParameter",
        location=name,
        location_type="parameter",
    )


def param_int(
    request: Request,
    name: str,
    default: int | None = None,
    *,
    low: int | None = None,
    high: int | None = None,
) -> int | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise GoogleError(
            f"Invalid value '{value}'. Values must be an integer.",
            status=400,
            reason="invalidParameter",
            location=name,
            location_type="parameter",
        ) from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise GoogleError(
            f"Invalid value '{value}'. Values must be within the range: [{low}, {high}]",
            status=400,
            reason="invalidParameter",
            location=name,
            location_type="parameter",
        )
    return number


def param_list(request: Request, name: str) -> list[str]:
    out: list[str] = []
    for value in request.query_params.getlist(name):
        out.extend(p.strip() for p in value.split(",") if p.strip())
    return out


async def json_body(request: Request) -> dict[str, Any]:
    """The JSON request body: Google's 400 `parseError` when it is not JSON, `{}` when empty."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise GoogleError("Invalid JSON payload received.", status=400, reason="parseError") from None
    if not isinstance(data, dict):
        raise invalid_value(message="Invalid JSON payload received. Expected an object.")
    return data
