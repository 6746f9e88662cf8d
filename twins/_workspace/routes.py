"""The OAuth wire, served by every Google twin: `/token` (as oauth2.googleapis.com), `/revoke`,
`/tokeninfo` and `/oauth2/v3/tokeninfo` (as www.googleapis.com)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from dtu.runtime import TwinRuntime
from twins._workspace import oauth
from twins._workspace.errors import JSON, OAuthError

router = APIRouter()
OPERATIONS = frozenset({"oauth2.token", "oauth2.tokeninfo", "oauth2.revoke"})


async def _form(request: Request) -> dict[str, str]:
    raw = await request.body()
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        try:
            data = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            raise OAuthError("invalid_request", "Invalid JSON payload received.") from None
        form = {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    else:
        form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    for key, value in request.query_params.items():
        form.setdefault(key, value)
    return form


def _answer(body: dict[str, Any]) -> Response:
    return Response(
        orjson.dumps(body), media_type=JSON, headers={"Cache-Control": "no-cache, no-store, max-age=0"}
    )


async def _tenant(request: Request, find: Any) -> tuple[TwinRuntime, str | None]:
    runtime: TwinRuntime = request.app.state.dtu
    tenant: str | None = await runtime.store.run(find)
    if tenant is not None:
        request.scope.setdefault("state", {})["dtu.tenant"] = tenant
    return runtime, tenant


@router.post("/token", operation_id="oauth2.token")
@router.post("/oauth2/v4/token", operation_id="oauth2.token")
async def token(request: Request) -> Response:
    form = await _form(request)
    grant = form.get("grant_type", "")
    if grant not in (oauth.JWT_BEARER, "refresh_token"):
        raise OAuthError("unsupported_grant_type", f"Invalid grant_type: {grant}")
    runtime, tenant = await _tenant(request, lambda conn: oauth.tenant_of_grant(conn, form))
    if tenant is None:
        if grant == oauth.JWT_BEARER:
            raise OAuthError("invalid_grant", "Invalid grant: account not found")
        if form.get("client_id") and form.get("client_secret"):
            raise OAuthError("invalid_grant", "Bad Request")
        raise OAuthError("invalid_client", "The OAuth client was not found.", status=401)
    return _answer(await runtime.unit(tenant, lambda ctx: oauth.token_grant(ctx, form=form)))


@router.get("/tokeninfo", operation_id="oauth2.tokeninfo")
@router.post("/tokeninfo", operation_id="oauth2.tokeninfo")
@router.get("/oauth2/v3/tokeninfo", operation_id="oauth2.tokeninfo")
@router.post("/oauth2/v3/tokeninfo", operation_id="oauth2.tokeninfo")
async def tokeninfo(request: Request) -> Response:
    form = await _form(request) if request.method == "POST" else dict(request.query_params)
    token = form.get("access_token", "")
    runtime, tenant = await _tenant(request, lambda conn: oauth.tenant_of_token(conn, token))
    if tenant is None:
        raise OAuthError("invalid_token", "Invalid Value")
    return _answer(await runtime.unit(tenant, lambda ctx: oauth.tokeninfo(ctx, token=token)))


@router.post("/revoke", operation_id="oauth2.revoke")
async def revoke(request: Request) -> Response:
    form = await _form(request)
    token = form.get("token", "")
    runtime, tenant = await _tenant(request, lambda conn: oauth.tenant_of_token(conn, token))
    if tenant is None:
        raise OAuthError("invalid_token", "Token expired or revoked")
    await runtime.unit(tenant, lambda ctx: oauth.revoke(ctx, token=token))
    return _answer({})
