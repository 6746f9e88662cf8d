"""OIDC / OAuth 2.0 endpoints of the org server (`/oauth2/v1/...`) and custom servers
(`/oauth2/{authorizationServerId}/v1/...`), discovery, and the small login page."""

from __future__ import annotations

import base64
import html
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlencode

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from dtu.context import TwinContext
from dtu.runtime import TwinRuntime
from twins.okta.dependencies import anonymous, call, okta_json, parse_authorization
from twins.okta.errors import OAuthError
from twins.okta.service import keys, oauth

router = APIRouter()
T = TypeVar("T")
DEFAULT_TENANT = "default"


async def _tenant(
    request: Request, lookup: Callable[[Any], str | None], *, missing: OAuthError | None
) -> str:
    runtime: TwinRuntime = request.app.state.dtu
    tenant = await runtime.store.run(lookup)
    if tenant is None:
        if missing is not None:
            raise missing
        tenant = DEFAULT_TENANT
    return tenant


async def _run(request: Request, tenant: str, fn: Callable[[TwinContext], T]) -> T:
    return await call(request, anonymous(request, tenant), fn)


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", "replace")
    return dict(parse_qsl(body, keep_blank_values=True))


def _client_auth(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    """client_secret_basic (Authorization: Basic) or client_secret_post (form)."""
    header = request.headers.get("authorization", "")
    if header[:6].lower() == "basic ":
        try:
            raw = base64.b64decode(header[6:].strip()).decode()
        except (ValueError, UnicodeDecodeError):
            raise OAuthError("invalid_client", "Client authentication failed.", status=401) from None
        cid, _, secret = raw.partition(":")
        return unquote(cid), unquote(secret)
    return form.get("client_id"), form.get("client_secret")


async def _client_tenant(request: Request, client_id: str | None) -> str:
    invalid = OAuthError("invalid_client", "Invalid value for 'client_id' parameter.", status=401)
    if not client_id:
        raise invalid
    return await _tenant(request, lambda conn: oauth.tenant_of_client(conn, client_id), missing=invalid)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-cache, no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _both(
    method: str,
    path: str,
    org_op: str,
    custom_op: str,
    handler: Callable[[Request, str | None], Awaitable[Response]],
    *,
    hidden: bool = False,
) -> None:
    """Serve `handler` for the org server (`/oauth2/v1{path}`, as_id None) and for custom
    servers (`/oauth2/{authorizationServerId}/v1{path}`), under their own operation ids."""

    async def org(request: Request) -> Response:
        return await handler(request, None)

    async def custom(request: Request, authorizationServerId: str) -> Response:
        return await handler(request, authorizationServerId)

    for route_path, endpoint, op in (
        (f"/oauth2/v1{path}", org, org_op),
        (f"/oauth2/{{authorizationServerId}}/v1{path}", custom, custom_op),
    ):
        router.add_api_route(
            route_path, endpoint, methods=[method], operation_id=op, include_in_schema=not hidden
        )


async def _client_form(request: Request) -> tuple[dict[str, str], str | None, str | None, str]:
    """(form, client_id, client_secret, tenant) of a client-authenticated POST (token,
    introspect, revoke): the client's id names the org."""
    form = await _form(request)
    cid, secret = _client_auth(request, form)
    return form, cid, secret, await _client_tenant(request, cid)


# -- discovery and keys ---------------------------------------------------------------------------


async def _query_client_tenant(request: Request) -> tuple[str | None, str]:
    """(client_id, tenant) of a public GET: `?client_id=` names the org, else the default one."""
    cid = request.query_params.get("client_id")
    tenant = await _tenant(
        request, lambda conn: oauth.tenant_of_client(conn, cid) if cid else None, missing=None
    )
    return cid, tenant


async def _discovery(request: Request, as_id: str | None, oauth_doc: bool = False) -> Response:
    cid, tenant = await _query_client_tenant(request)
    return okta_json(
        await _run(
            request, tenant, lambda ctx: oauth.discovery(ctx, as_id=as_id, client_id=cid, oauth=oauth_doc)
        )
    )


@router.get("/.well-known/openid-configuration", operation_id="getWellKnownOpenIDConfiguration")
async def org_discovery(request: Request) -> Response:
    return await _discovery(request, None)


@router.get(
    "/oauth2/{authorizationServerId}/.well-known/openid-configuration",
    operation_id="getWellKnownOpenIDConfigurationCustomAS",
)
async def custom_discovery(request: Request, authorizationServerId: str) -> Response:
    return await _discovery(request, authorizationServerId)


@router.get(
    "/oauth2/{authorizationServerId}/.well-known/oauth-authorization-server",
    operation_id="getWellKnownOAuthConfigurationCustomAS",
)
async def custom_oauth_discovery(request: Request, authorizationServerId: str) -> Response:
    return await _discovery(request, authorizationServerId, oauth_doc=True)


async def _keys(request: Request, as_id: str | None) -> Response:
    _cid, tenant = await _query_client_tenant(request)

    def work(ctx: TwinContext) -> dict[str, Any]:
        oauth.server(ctx, as_id)
        return keys.jwks(ctx)

    response = okta_json(await _run(request, tenant, work))
    response.headers["Cache-Control"] = "max-age=3832304, must-revalidate"
    return response


# -- authorize and the login page -----------------------------------------------------------------

_LOGIN = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>DTU Okta - Sign In</title></head>
<body><main><h1>Sign in to {client}</h1>{error}
<form id="okta-signin" method="post" action="{action}">
<input type="hidden" name="authorize_query" value="{query}">
<label for="username">Username</label><input id="username" name="username" type="text" autocomplete="username">
<label for="password">Password</label><input id="password" name="password" type="password">
<button id="okta-signin-submit" type="submit">Sign In</button>
</form></main></body></html>"""


_MFA = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>DTU Okta - Verify</title></head>
<body><main><h1>Verify it's you with a security method</h1>
<p>Enter a code from your authenticator app.</p>{error}
<form id="okta-mfa-verify" method="post" action="{action}">
<input type="hidden" name="authorize_query" value="{query}">
<input type="hidden" name="stateToken" value="{state}">
<label for="passCode">Enter Code</label><input id="passCode" name="passCode" type="text" inputmode="numeric" autocomplete="one-time-code">
<button id="okta-mfa-verify-submit" type="submit">Verify</button>
</form></main></body></html>"""


def _mfa_page(
    as_id: str | None, query: str, state: str, error: str | None = None, status: int = 200
) -> Response:
    """The hosted sign-in's second step: a TOTP passcode for the state token's user."""
    action = f"/oauth2/{as_id}/v1/authorize/verify" if as_id else "/oauth2/v1/authorize/verify"
    page = _MFA.format(
        action=action,
        query=html.escape(query, quote=True),
        state=html.escape(state, quote=True),
        error=f'<p class="error" role="alert">{html.escape(error)}</p>' if error else "",
    )
    return _no_store(HTMLResponse(page, status_code=status))


def _signed_in(as_id: str | None, query: str, sid: str) -> Response:
    """Back to /authorize with the new `sid` cookie: it now answers with the code."""
    base = f"/oauth2/{as_id}/v1/authorize" if as_id else "/oauth2/v1/authorize"
    response = RedirectResponse(f"{base}?{query}", status_code=302)
    response.set_cookie("sid", sid, httponly=True, path="/", samesite="lax")
    return _no_store(response)


def _login_page(
    request: Request, as_id: str | None, client: str, query: str, error: str | None = None, status: int = 200
) -> Response:
    action = f"/oauth2/{as_id}/v1/authorize/login" if as_id else "/oauth2/v1/authorize/login"
    page = _LOGIN.format(
        client=html.escape(client),
        action=action,
        query=html.escape(query, quote=True),
        error=f'<p class="error" role="alert">{html.escape(error)}</p>' if error else "",
    )
    return _no_store(HTMLResponse(page, status_code=status))


async def _authorize(request: Request, as_id: str | None, params: dict[str, str]) -> Response:
    tenant = await _client_tenant(request, params.get("client_id"))
    sid = request.cookies.get("sid")
    result = await _run(
        request, tenant, lambda ctx: oauth.authorize(ctx, as_id=as_id, params=params, sid=sid)
    )
    if "redirect" in result:
        response = _no_store(RedirectResponse(result["redirect"], status_code=302))
        if "sid" in result:
            response.set_cookie("sid", result["sid"], httponly=True, path="/", samesite="lax")
        return response
    query = urlencode({k: v for k, v in params.items() if k != "sessionToken"})
    return _login_page(request, as_id, result["login"]["client"], query)


async def _sign_in_form(request: Request) -> tuple[dict[str, str], str, dict[str, str], str]:
    """(form, authorize query, its params, tenant) of a hosted sign-in page's POST."""
    form = await _form(request)
    query = form.get("authorize_query", "")
    params = dict(parse_qsl(query))
    return form, query, params, await _client_tenant(request, params.get("client_id"))


async def _login(request: Request, as_id: str | None) -> Response:
    form, query, params, tenant = await _sign_in_form(request)
    username, password = form.get("username", ""), form.get("password", "")
    result = await _run(request, tenant, lambda ctx: oauth.login(ctx, username=username, password=password))
    if "mfa" in result:
        return _mfa_page(as_id, query, result["mfa"])
    if "sid" not in result:
        return _login_page(request, as_id, params.get("client_id", ""), query, result.get("error"), 401)
    return _signed_in(as_id, query, result["sid"])


async def _verify(request: Request, as_id: str | None) -> Response:
    form, query, params, tenant = await _sign_in_form(request)
    state, passcode = form.get("stateToken", ""), form.get("passCode", "")
    result = await _run(
        request, tenant, lambda ctx: oauth.login_mfa(ctx, state_token=state, passcode=passcode)
    )
    if "sid" in result:
        return _signed_in(as_id, query, result["sid"])
    if "expired" in result:
        return _login_page(request, as_id, params.get("client_id", ""), query, result["expired"], 401)
    return _mfa_page(as_id, query, state, result["error"], 401)


# -- token, introspect, revoke, userinfo, logout --------------------------------------------------


async def _token(request: Request, as_id: str | None) -> Response:
    form, cid, secret, tenant = await _client_form(request)
    result = await _run(
        request,
        tenant,
        lambda ctx: oauth.token(ctx, as_id=as_id, form=form, client_id=cid, client_secret=secret),
    )
    return _no_store(okta_json(result))


async def _introspect(request: Request, as_id: str | None) -> Response:
    form, cid, secret, tenant = await _client_form(request)
    return okta_json(
        await _run(
            request,
            tenant,
            lambda ctx: oauth.introspect(
                ctx, as_id=as_id, token=form.get("token"), client_id=cid, client_secret=secret
            ),
        )
    )


async def _revoke(request: Request, as_id: str | None) -> Response:
    form, cid, secret, tenant = await _client_form(request)
    await _run(
        request,
        tenant,
        lambda ctx: oauth.revoke(
            ctx, as_id=as_id, token=form.get("token"), client_id=cid, client_secret=secret
        ),
    )
    return Response(status_code=200)


async def _userinfo(request: Request, as_id: str | None) -> Response:
    parsed = parse_authorization(request.headers.get("authorization"))
    token = parsed[1] if parsed and parsed[0] == "Bearer" else None
    invalid = OAuthError("invalid_token", "The access token is invalid.", status=401)
    if token is None:
        raise invalid
    tenant = await _tenant(request, lambda conn: oauth.tenant_of_token(conn, token), missing=invalid)
    return okta_json(await _run(request, tenant, lambda ctx: oauth.userinfo(ctx, as_id=as_id, token=token)))


async def _logout(request: Request, as_id: str | None) -> Response:
    qp = dict(request.query_params) if request.method == "GET" else await _form(request)
    hint = qp.get("id_token_hint")
    cid = qp.get("client_id")
    if hint and not cid:
        import jwt

        try:
            aud = jwt.decode(hint, options={"verify_signature": False}).get("aud")
        except jwt.PyJWTError:
            raise OAuthError("invalid_request", "The 'id_token_hint' parameter is invalid.") from None
        cid = aud if isinstance(aud, str) else None
    tenant = await _tenant(
        request, lambda conn: oauth.tenant_of_client(conn, cid) if cid else None, missing=None
    )
    sid = request.cookies.get("sid")
    target = await _run(
        request,
        tenant,
        lambda ctx: oauth.logout(
            ctx,
            as_id=as_id,
            id_token_hint=hint,
            post_logout_redirect_uri=qp.get("post_logout_redirect_uri"),
            state=qp.get("state"),
            sid=sid,
        ),
    )
    response: Response = RedirectResponse(target, status_code=302) if target else Response(status_code=200)
    response.delete_cookie("sid", path="/")
    return response


async def _authorize_get(request: Request, as_id: str | None) -> Response:
    return await _authorize(request, as_id, dict(request.query_params))


async def _authorize_post(request: Request, as_id: str | None) -> Response:
    return await _authorize(request, as_id, await _form(request))


_both("GET", "/keys", "oauthKeys", "oauthKeysCustomAS", _keys)
_both("GET", "/authorize", "authorize", "authorizeCustomAS", _authorize_get)
_both("POST", "/authorize", "authorizeWithPost", "authorizeCustomASWithPost", _authorize_post)
_both("POST", "/authorize/verify", "mfa-verify", "mfa-verify-custom-as", _verify, hidden=True)
_both(
    "POST", "/authorize/login", "primary-authenticate", "primary-authenticate-custom-as", _login, hidden=True
)
_both("POST", "/token", "token", "tokenCustomAS", _token)
_both("POST", "/introspect", "introspect", "introspectCustomAS", _introspect)
_both("POST", "/revoke", "revoke", "revokeCustomAS", _revoke)
_both("GET", "/userinfo", "userinfo", "userinfoCustomAS", _userinfo)
_both("GET", "/logout", "logout", "logoutCustomAS", _logout)
_both("POST", "/logout", "logoutWithPost", "logoutCustomASWithPost", _logout)

__all__ = ["router"]
