"""OIDC / OAuth 2.0 authorization servers: the org server (`/oauth2/v1/...`, issuer = org URL)
and custom ones (`/oauth2/{id}/v1/...`, `default` built in, audience `api://default`).

https://developer.okta.com/docs/api/openapi/okta-oauth/oauth/ . Authorization code (with PKCE,
state and nonce; `prompt=none` with a session; a login page without one), refresh tokens with
rotation, client credentials, the resource owner password grant where the app allows it;
introspect, revoke, userinfo, logout, JWKS and discovery. ID and access tokens are RS256 JWTs
with Okta's claims, timed by the twin clock.
Divergences: one key set per org; the org server accepts a client secret for `okta.*` client
credentials (real Okta requires private_key_jwt there); no consent screens, no DPoP.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import jwt
from sqlalchemy import Connection, select, update

from dtu.context import TwinContext
from dtu.db import table
from twins.okta import constants, models
from twins.okta.errors import InvalidToken, OAuthError, OktaError, kept, not_found
from twins.okta.service import app_credentials, apps, authn, groups, keys, policies, syslog
from twins.okta.service.common import BASE62, iso

_APP = table(models.App)
_AS = table(models.AuthServer)
_TX = table(models.Transaction)
_TOKEN = table(models.OAuthToken)
_USER = table(models.User)
_ORG = table(models.Org)

OIDC_SCOPES = ("openid", "profile", "email", "address", "phone", "offline_access", "groups")


def tenant_of_client(conn: Connection, client_id: str) -> str | None:
    return conn.execute(select(_APP.c.tenant_id).where(_APP.c.client_id == client_id)).scalar()


def tenant_of_token(conn: Connection, token: str) -> str | None:
    return conn.execute(select(_TOKEN.c.tenant_id).where(_TOKEN.c.digest == _digest(token))).scalar()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def event_type(srv_id: str, name: str) -> str:
    """Okta's System Log names OAuth events `app.oauth2.as.<name>` for custom authorization
    servers and `app.oauth2.<name>` for the org server."""
    return f"app.oauth2.as.{name}" if srv_id != "org" else f"app.oauth2.{name}"


def _app_ref(app: Any) -> dict[str, Any]:
    return syslog.ref(app.id, "AppInstance", app.label, app.label)


def server(ctx: TwinContext, as_id: str | None) -> Any:
    row = ctx.conn.execute(
        select(_AS).where(_AS.c.tenant_id == ctx.tenant, _AS.c.id == (as_id or "org"))
    ).first()
    if row is None or row.status != "ACTIVE":
        raise not_found(as_id or "org", "AuthorizationServer")
    return row


def issuer(ctx: TwinContext, as_id: str | None) -> str:
    return ctx.base_url if as_id is None else f"{ctx.base_url}/oauth2/{as_id}"


def _prefix(ctx: TwinContext, as_id: str | None) -> str:
    return f"{ctx.base_url}/oauth2/v1" if as_id is None else f"{ctx.base_url}/oauth2/{as_id}/v1"


def discovery(
    ctx: TwinContext, *, as_id: str | None, client_id: str | None, oauth: bool = False
) -> dict[str, Any]:
    """The OpenID Connect (or RFC 8414) discovery document."""
    srv = server(ctx, as_id)
    p = _prefix(ctx, as_id)
    keys_uri = f"{p}/keys" + (f"?{urlencode({'client_id': client_id})}" if client_id else "")
    scopes = list(OIDC_SCOPES) + list(srv.scopes or [])
    doc: dict[str, Any] = {
        "issuer": issuer(ctx, as_id),
        "authorization_endpoint": f"{p}/authorize",
        "token_endpoint": f"{p}/token",
        "userinfo_endpoint": f"{p}/userinfo",
        "registration_endpoint": f"{ctx.base_url}/oauth2/v1/clients",
        "jwks_uri": keys_uri,
        "response_types_supported": [
            "code",
            "id_token",
            "code id_token",
            "code token",
            "id_token token",
            "code id_token token",
        ],
        "response_modes_supported": ["query", "fragment", "form_post", "okta_post_message"],
        "grant_types_supported": [
            "authorization_code",
            "implicit",
            "refresh_token",
            "password",
            "client_credentials",
        ],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": scopes,
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "client_secret_jwt",
            "private_key_jwt",
            "none",
        ],
        "claims_supported": [
            "iss",
            "ver",
            "sub",
            "aud",
            "iat",
            "exp",
            "jti",
            "auth_time",
            "amr",
            "idp",
            "nonce",
            "name",
            "nickname",
            "preferred_username",
            "given_name",
            "middle_name",
            "family_name",
            "email",
            "email_verified",
            "profile",
            "zoneinfo",
            "locale",
            "address",
            "phone_number",
            "picture",
            "website",
            "gender",
            "birthdate",
            "updated_at",
            "at_hash",
            "c_hash",
        ],
        "code_challenge_methods_supported": ["S256"],
        "introspection_endpoint": f"{p}/introspect",
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "client_secret_jwt",
            "private_key_jwt",
            "none",
        ],
        "revocation_endpoint": f"{p}/revoke",
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "client_secret_jwt",
            "private_key_jwt",
            "none",
        ],
        "end_session_endpoint": f"{p}/logout",
        "request_parameter_supported": True,
        "request_object_signing_alg_values_supported": ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512"],
    }
    if oauth:
        doc.pop("userinfo_endpoint", None)
        doc.pop("subject_types_supported", None)
        doc.pop("id_token_signing_alg_values_supported", None)
    return doc


# -- clients --------------------------------------------------------------------------------------


def client(ctx: TwinContext, client_id: str | None) -> Any:
    row = (
        ctx.conn.execute(
            select(_APP).where(_APP.c.tenant_id == ctx.tenant, _APP.c.client_id == client_id)
        ).first()
        if client_id
        else None
    )
    if row is None or row.status != "ACTIVE":
        raise OAuthError("invalid_client", "Invalid value for 'client_id' parameter.", status=401)
    return row


def authenticate_client(ctx: TwinContext, client_id: str | None, client_secret: str | None) -> Any:
    """client_secret_basic or client_secret_post."""
    app = client(ctx, client_id)
    if app.client_secret and not app_credentials.accepts(ctx, app, client_secret):
        raise OAuthError(
            "invalid_client", "The client secret supplied for a confidential client is invalid.", status=401
        )
    return app


def _allowed_scopes(ctx: TwinContext, srv: Any, app: Any, grant: str) -> set[str]:
    if grant == "client_credentials":
        return set(srv.scopes or []) if srv.id != "org" else set((app.settings or {}).get("scopes", []))
    if srv.id == "org":
        # The org server also mints user-context tokens for the `okta.*` scopes granted to the
        # app (e.g. `okta.users.read.self` for `/api/v1/users/me`).
        return set(OIDC_SCOPES) | set((app.settings or {}).get("scopes", []))
    return set(OIDC_SCOPES) | set(srv.scopes or [])


def _scopes(ctx: TwinContext, srv: Any, app: Any, grant: str, raw: str | None) -> list[str]:
    requested = [s for s in (raw or "").split() if s]
    if not requested:
        raise OAuthError(
            "invalid_scope",
            "The authorization server resource does not have any configured default "
            "scopes, 'scope' must be provided.",
        )
    allowed = _allowed_scopes(ctx, srv, app, grant)
    bad = [s for s in requested if s not in allowed]
    if bad:
        if grant == "client_credentials" and srv.id == "org":
            raise OAuthError("invalid_scope", f"The following scopes were not granted: {', '.join(bad)}")
        raise OAuthError(
            "invalid_scope", "One or more scopes are not configured for the authorization server resource."
        )
    return list(dict.fromkeys(requested))


def _grant_allowed(app: Any, grant: str) -> None:
    types = (app.settings or {}).get("grant_types", [])
    if grant not in types:
        raise OAuthError(
            "unauthorized_client",
            "The client is not authorized to use the provided grant type. "
            f"Configured grant types: [{', '.join(types)}].",
        )


# -- authorize ------------------------------------------------------------------------------------


def authorize(
    ctx: TwinContext, *, as_id: str | None, params: dict[str, str], sid: str | None
) -> dict[str, Any]:
    """GET /oauth2/{as}/v1/authorize. Answers {"redirect": url} or {"login": {...}} (no session),
    or raises for errors that cannot go back to the client (bad client_id or redirect_uri)."""
    srv = server(ctx, as_id)
    app = client(ctx, params.get("client_id"))
    redirect_uri = params.get("redirect_uri") or ""
    if redirect_uri not in (app.settings or {}).get("redirect_uris", []):
        raise OAuthError(
            "invalid_request",
            "The 'redirect_uri' parameter must be a Login redirect URI in the client "
            "app settings: https://help.okta.com/okta_help.htm?id=ext_Apps_App_Integration_Wizard-oidc",
        )
    state = params.get("state")

    def back(**kw: str | None) -> dict[str, Any]:
        q = {k: v for k, v in {**kw, "state": state}.items() if v is not None}
        return {"redirect": redirect_uri + ("&" if "?" in redirect_uri else "?") + urlencode(q)}

    def fail(error: str, description: str) -> dict[str, Any]:
        return back(error=error, error_description=description)

    if params.get("response_type") != "code":
        return fail(
            "unsupported_response_type",
            "The response type is not supported by the authorization server. "
            "Configured response types: [code].",
        )
    try:
        _grant_allowed(app, "authorization_code")
        scopes = _scopes(ctx, srv, app, "authorization_code", params.get("scope"))
    except OAuthError as err:
        return fail(err.error, err.text)
    if "openid" not in scopes and as_id is None:
        return fail("invalid_scope", "The authentication request has an invalid 'scope' parameter.")
    if not state:
        return fail("invalid_request", "The authentication request has an invalid 'state' parameter.")
    challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
    if challenge is not None and (method or "S256") != "S256":
        return fail("invalid_request", "The 'code_challenge_method' parameter must be 'S256'.")
    if challenge is not None and not (43 <= len(challenge) <= 128):
        return fail(
            "invalid_request", "The 'code_challenge' parameter must be between 43 and 128 characters long."
        )
    settings = app.settings or {}
    public = settings.get("token_endpoint_auth_method") == "none" or not app.client_secret
    if challenge is None and (public or settings.get("pkce_required")):
        # Public clients (browser, native) must use PKCE; so must confidential ones marked
        # `pkce_required`. https://developer.okta.com/docs/guides/implement-grant-type/authcodepkce/
        return fail(
            "invalid_request",
            "PKCE code challenge is required when the token endpoint authentication method is 'NONE'."
            if public
            else "PKCE code challenge is required by the client.",
        )
    session = authn.browser_session(ctx, sid)
    opened: str | None = None
    session_token = params.get("sessionToken")
    if session_token and params.get("prompt") != "login":
        # A one-time session token from /api/v1/authn becomes the browser's session here (the
        # custom sign-in flow: authn, then authorize with prompt=none and the token).
        try:
            tx = authn.redeem_session_token(ctx, session_token)
        except OktaError:
            tx = None
        if tx is not None:
            opened = authn.open_session(ctx, tx.user_id, (tx.data or {}).get("amr"))
            session = authn.browser_session(ctx, opened)
    prompt = params.get("prompt")
    if session is None or prompt == "login":
        if prompt == "none":
            return fail(
                "login_required", "The client specified not to prompt, but the user is not logged in."
            )
        return {"login": {"client": app.label}}
    max_age = params.get("max_age")
    if max_age is not None and max_age.isdigit() and ctx.now() - session.created > int(max_age):
        if prompt == "none":
            return fail(
                "login_required", "The client specified not to prompt, but the user is not logged in."
            )
        return {"login": {"client": app.label}}
    if not apps.is_assigned(ctx, app.id, session.user_id):
        # https://support.okta.com/help/s/article/The-user-is-not-assigned-to-this-application
        syslog.emit(
            ctx,
            event_type(srv.id, "authorize.code"),
            targets=[_app_ref(app)],
            display="OIDC authorization code request",
            result="FAILURE",
            reason="User is not assigned to the client application.",
            actor=_user_actor(ctx, session.user_id),
        )
        return fail("access_denied", "User is not assigned to the client application.")
    code = ctx.ids.token("auth-code", length=43, alphabet=BASE62 + "-_")
    ctx.conn.execute(
        _TX.insert().values(
            tenant_id=ctx.tenant,
            token=code,
            kind="code",
            user_id=session.user_id,
            expires_at=ctx.now() + constants.AUTH_CODE_TTL_S,
            used=False,
            data={
                "client_id": app.client_id,
                "redirect_uri": redirect_uri,
                "scopes": scopes,
                "nonce": params.get("nonce"),
                "challenge": challenge,
                "as": srv.id,
                "auth_time": int(session.last_password_verification or session.created),
                "amr": list(session.amr or ["pwd"]),
                "sid": session.id,
            },
        )
    )
    syslog.emit(
        ctx,
        event_type(srv.id, "authorize.code"),
        targets=[_app_ref(app)],
        display="OIDC authorization code request",
        actor=_user_actor(ctx, session.user_id),
    )
    out = back(code=code)
    if opened is not None:
        out["sid"] = opened
    return out


def login(ctx: TwinContext, *, username: str, password: str) -> dict[str, str]:
    """The login page's POST: {"sid"} (signed in), {"mfa": state token} (the password was right
    and the user has an ACTIVE factor: the hosted sign-in asks for it next, as Okta's does), or
    {"error"} (the message the page shows)."""
    try:
        status, user = authn.check_credentials(ctx, username, password)
    except Exception:
        return {"error": "Unable to sign in"}
    if status == "LOCKED_OUT":
        return {"error": "Your account is locked. Please contact your administrator."}
    if status == "PASSWORD_EXPIRED":
        return {"error": "Your password has expired."}
    try:
        step, _items = policies.next_step(ctx, user)
    except OktaError:
        return {"error": "Unable to sign in"}
    if step == "MFA_REQUIRED":
        return {"mfa": authn.start_mfa(ctx, user.id)}
    if step == "MFA_ENROLL":
        # The hosted sign-in has no enrollment pages yet: enroll through /api/v1/authn first.
        return {"error": "Set up multifactor authentication to continue."}
    return {"sid": authn.open_session(ctx, user.id)}


def login_mfa(ctx: TwinContext, *, state_token: str, passcode: str) -> dict[str, str]:
    """The hosted sign-in's second step (Google/Okta Verify TOTP): {"sid"} with an `mfa`
    session, {"error"} for a wrong passcode (the step stays open), or {"expired"} when the state
    token is spent, cancelled or expired (the page starts over)."""
    try:
        user = authn.check_second_factor(ctx, state_token=state_token, factor_id=None, passcode=passcode)
    except InvalidToken:
        return {"expired": "Your session has expired. Please try to sign in again."}
    except OktaError:
        return {"error": "Your code doesn't match our records. Please try again."}
    return {"sid": authn.open_session(ctx, user.id, ["pwd", "otp", "mfa"])}


def _user_actor(ctx: TwinContext, user_id: str | None) -> dict[str, Any] | None:
    if not user_id:
        return None
    row = ctx.conn.execute(
        select(_USER.c.id, _USER.c.profile).where(_USER.c.tenant_id == ctx.tenant, _USER.c.id == user_id)
    ).first()
    return syslog.user_ref(row) if row is not None else None


# -- tokens ---------------------------------------------------------------------------------------


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _groups_claim(ctx: TwinContext, app: Any, user_id: str, scopes: list[str]) -> list[str] | None:
    claim = (app.settings or {}).get("groups_claim")
    if "groups" not in scopes and not claim:
        return None
    names = [g["profile"]["name"] for g in groups.list_user_groups(ctx, user_id=user_id)]
    if claim:
        ftype, value = claim.get("filter_type", "REGEX"), str(claim.get("value", ".*"))
        import re

        tests: dict[str, Callable[[str], bool]] = {
            "STARTS_WITH": lambda n: n.startswith(value),
            "EQUALS": lambda n: n == value,
            "CONTAINS": lambda n: value in n,
            "REGEX": lambda n: re.fullmatch(value, n) is not None,
        }
        test = tests.get(ftype)
        names = [n for n in names if test is not None and test(n)]
    return names


def _profile_claims(user: Any, scopes: list[str]) -> dict[str, Any]:
    p = user.profile or {}
    out: dict[str, Any] = {}
    if "profile" in scopes:
        name = " ".join(x for x in (p.get("firstName"), p.get("lastName")) if x)
        out.update(
            {
                "name": name,
                "preferred_username": p.get("login"),
                "given_name": p.get("firstName"),
                "family_name": p.get("lastName"),
                "locale": p.get("locale", "en_US"),
                "zoneinfo": p.get("timezone", "America/Los_Angeles"),
                "updated_at": int(user.last_updated),
            }
        )
        if p.get("nickName"):
            out["nickname"] = p["nickName"]
    if "email" in scopes and p.get("email"):
        out.update({"email": p.get("email"), "email_verified": True})
    if "phone" in scopes and p.get("mobilePhone"):
        out["phone_number"] = p["mobilePhone"]
    if "address" in scopes:
        out["address"] = {
            k2: p[k1]
            for k1, k2 in (
                ("streetAddress", "street_address"),
                ("city", "locality"),
                ("state", "region"),
                ("zipCode", "postal_code"),
                ("countryCode", "country"),
            )
            if p.get(k1)
        }
    return out


def _sign(ctx: TwinContext, claims: dict[str, Any]) -> str:
    kid, key = keys.active(ctx)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def _issue(
    ctx: TwinContext,
    *,
    srv: Any,
    app: Any,
    user: Any | None,
    scopes: list[str],
    nonce: str | None,
    auth_time: int | None,
    refresh: bool,
    grant: str,
    code: str | None = None,
    amr: list[str] | None = None,
    family: str | None = None,
    refresh_token: str | None = None,
) -> dict[str, Any]:
    """Mint the tokens of one grant. `family` ties together every token descended from one
    authentication (a code, a password grant) for refresh token reuse detection; a STATIC
    app's refresh grant passes its `refresh_token` back instead of minting a new one."""
    now = int(ctx.now())
    family = family or code or ("FAM." + ctx.ids.token("token-family", length=24, alphabet=BASE62))
    actor = _user_actor(ctx, user.id if user else None)
    client_ref = _app_ref(app)
    iss = issuer(ctx, None if srv.id == "org" else srv.id)
    aud = (srv.audiences or ["api://default"])[0] if srv.id != "org" else ctx.base_url
    at_jti = "AT." + ctx.ids.token("at-jti", length=43, alphabet=BASE62 + "-_")
    at_claims: dict[str, Any] = {
        "ver": 1,
        "jti": at_jti,
        "iss": iss,
        "aud": aud,
        "iat": now,
        "exp": now + constants.ACCESS_TOKEN_TTL_S,
        "cid": app.client_id,
        "scp": scopes,
    }
    if user is not None:
        at_claims.update({"uid": user.id, "sub": (user.profile or {}).get("login"), "auth_time": auth_time})
    else:
        at_claims["sub"] = app.client_id
    if user is not None and srv.id != "org":
        g = _groups_claim(ctx, app, user.id, scopes)
        if g is not None:
            at_claims["groups"] = g
    access = _sign(ctx, at_claims)
    ctx.conn.execute(
        _TOKEN.insert().values(
            tenant_id=ctx.tenant,
            jti=at_jti,
            digest=_digest(access),
            kind="access",
            auth_server=srv.id,
            client_id=app.client_id,
            user_id=user.id if user else None,
            scopes=scopes,
            issued_at=now,
            expires_at=now + constants.ACCESS_TOKEN_TTL_S,
            revoked=False,
            data={"claims": at_claims, "code": code, "family": family},
        )
    )
    syslog.emit(
        ctx,
        event_type(srv.id, "token.grant.access_token"),
        targets=[client_ref, syslog.ref(at_jti, "access_token", None, "Access Token")],
        display="OAuth2 access token is granted",
        actor=actor,
        debug={"grantType": grant, "grantedScopes": " ".join(scopes)},
    )
    out: dict[str, Any] = {
        "token_type": "Bearer",
        "expires_in": constants.ACCESS_TOKEN_TTL_S,
        "access_token": access,
        "scope": " ".join(scopes),
    }
    if user is not None and "openid" in scopes:
        id_claims: dict[str, Any] = {
            "sub": user.id,
            "ver": 1,
            "iss": iss,
            "aud": app.client_id,
            "iat": now,
            "exp": now + constants.ID_TOKEN_TTL_S,
            "jti": "ID." + ctx.ids.token("id-jti", length=43, alphabet=BASE62),
            "amr": list(amr or ["pwd"]),
            "idp": ctx.conn.execute(select(_ORG.c.id).where(_ORG.c.tenant_id == ctx.tenant)).scalar(),
            "auth_time": auth_time,
            "at_hash": _b64url(hashlib.sha256(access.encode()).digest()[:16]),
            **_profile_claims(user, scopes),
        }
        if nonce:
            id_claims["nonce"] = nonce
        g = _groups_claim(ctx, app, user.id, scopes)
        if g is not None:
            id_claims["groups"] = g
        out["id_token"] = _sign(ctx, id_claims)
        syslog.emit(
            ctx,
            event_type(srv.id, "token.grant.id_token"),
            targets=[client_ref, syslog.ref(id_claims["jti"], "id_token", None, "ID Token")],
            display="OIDC id token is granted",
            actor=actor,
            debug={"grantType": grant},
        )
    if refresh_token is not None:
        out["refresh_token"] = refresh_token
    elif (
        refresh
        and user is not None
        and "offline_access" in scopes
        and "refresh_token" in (app.settings or {}).get("grant_types", [])
    ):
        rt = ctx.ids.token("refresh", length=43, alphabet=BASE62 + "-_")
        rt_jti = "RT." + ctx.ids.token("rt-jti", length=40, alphabet=BASE62)
        ctx.conn.execute(
            _TOKEN.insert().values(
                tenant_id=ctx.tenant,
                jti=rt_jti,
                digest=_digest(rt),
                kind="refresh",
                auth_server=srv.id,
                client_id=app.client_id,
                user_id=user.id,
                scopes=scopes,
                issued_at=now,
                expires_at=now + constants.REFRESH_TOKEN_TTL_S,
                revoked=False,
                data={
                    "auth_time": auth_time,
                    "code": code,
                    "amr": list(amr or ["pwd"]),
                    "family": family,
                },
            )
        )
        out["refresh_token"] = rt
        syslog.emit(
            ctx,
            event_type(srv.id, "token.grant.refresh_token"),
            targets=[client_ref, syslog.ref(rt_jti, "refresh_token", None, "Refresh Token")],
            display="OAuth2 refresh token is granted",
            actor=actor,
            debug={"grantType": grant},
        )
    return out


def _user(ctx: TwinContext, user_id: str) -> Any:
    return ctx.conn.execute(
        select(_USER).where(_USER.c.tenant_id == ctx.tenant, _USER.c.id == user_id)
    ).first()


def token(
    ctx: TwinContext,
    *,
    as_id: str | None,
    form: dict[str, str],
    client_id: str | None,
    client_secret: str | None,
) -> dict[str, Any]:
    """POST /oauth2/{as}/v1/token."""
    srv = server(ctx, as_id)
    app = authenticate_client(ctx, client_id, client_secret)
    grant = form.get("grant_type")
    if not grant:
        raise OAuthError(
            "invalid_request",
            "The token request must specify a 'grant_type'. Valid values: "
            "[authorization_code, password, refresh_token, client_credentials]",
        )
    if grant not in ("authorization_code", "refresh_token", "client_credentials", "password"):
        raise OAuthError(
            "unsupported_grant_type",
            "The authorization grant type is not supported by the "
            "authorization server. Configured grant types: "
            "[authorization_code, password, refresh_token, client_credentials].",
        )
    _grant_allowed(app, grant)
    if grant == "authorization_code":
        return _code_grant(ctx, srv, app, form)
    if grant == "refresh_token":
        return _refresh_grant(ctx, srv, app, form)
    if grant == "client_credentials":
        scopes = _scopes(ctx, srv, app, grant, form.get("scope"))
        return _issue(
            ctx,
            srv=srv,
            app=app,
            user=None,
            scopes=scopes,
            nonce=None,
            auth_time=None,
            refresh=False,
            grant=grant,
        )
    username, password = form.get("username"), form.get("password")
    scopes = _scopes(ctx, srv, app, grant, form.get("scope"))
    if not username or password is None:
        raise OAuthError("invalid_request", "The 'username' and 'password' parameters are required.")
    try:
        status, user = authn.check_credentials(ctx, username, password)
    except OktaError as err:
        invalid = OAuthError("invalid_grant", "The credentials provided were invalid.")
        raise (kept(invalid) if err.keep_writes else invalid) from None
    if status != "SUCCESS":
        raise OAuthError("invalid_grant", "The credentials provided were invalid.")
    try:
        step, _items = policies.next_step(ctx, user, prompt_enrolled=False)
    except OktaError:
        step = "DENY"
    if step != "SUCCESS":
        # The password grant has no second step: a sign-on policy that wants MFA refuses it.
        raise OAuthError(
            "access_denied",
            "Policy evaluation failed for this request, please check the policy configurations.",
        )
    if not apps.is_assigned(ctx, app.id, user.id):
        raise OAuthError("access_denied", "User is not assigned to the client application.")
    return _issue(
        ctx,
        srv=srv,
        app=app,
        user=user,
        scopes=scopes,
        nonce=None,
        auth_time=int(ctx.now()),
        refresh=True,
        grant=grant,
    )


def _code_grant(ctx: TwinContext, srv: Any, app: Any, form: dict[str, str]) -> dict[str, Any]:
    code = form.get("code")
    invalid = OAuthError("invalid_grant", "The authorization code is invalid or has expired.")
    if not code:
        raise OAuthError("invalid_request", "The 'code' parameter is required.")
    tx = ctx.conn.execute(
        select(_TX).where(_TX.c.tenant_id == ctx.tenant, _TX.c.token == code, _TX.c.kind == "code")
    ).first()
    if (
        tx is None
        or tx.expires_at <= ctx.now()
        or tx.data.get("client_id") != app.client_id
        or tx.data.get("as") != srv.id
    ):
        raise invalid
    if tx.used:
        # A replayed code: refused, and the tokens it already bought are revoked (RFC 6749 4.1.2).
        _revoke_family(ctx, code)
        raise kept(invalid)
    if form.get("redirect_uri") != tx.data.get("redirect_uri"):
        raise OAuthError(
            "invalid_grant",
            "The 'redirect_uri' does not match the redirection URI used in the authorization request.",
        )
    challenge = tx.data.get("challenge")
    verifier = form.get("code_verifier")
    if challenge is not None:
        if not verifier:
            raise OAuthError(
                "invalid_request",
                "PKCE code verifier is required when the parameter "
                "'code_challenge' was sent in the authorization request.",
            )
        if _b64url(hashlib.sha256(verifier.encode()).digest()) != challenge:
            raise OAuthError("invalid_grant", "PKCE verification failed.")
    elif verifier:
        raise OAuthError("invalid_request", "The 'code_verifier' parameter was not expected.")
    ctx.conn.execute(update(_TX).where(_TX.c.tenant_id == ctx.tenant, _TX.c.token == code).values(used=True))
    user = _user(ctx, tx.user_id)
    if user is None or user.status not in ("ACTIVE", "PASSWORD_EXPIRED"):
        raise invalid
    return _issue(
        ctx,
        srv=srv,
        app=app,
        user=user,
        scopes=list(tx.data["scopes"]),
        nonce=tx.data.get("nonce"),
        auth_time=tx.data.get("auth_time"),
        refresh=True,
        grant="authorization_code",
        code=code,
        amr=tx.data.get("amr"),
    )


def _revoke_family(ctx: TwinContext, family: str) -> None:
    """Revoke every token descended from one authentication (a replayed code, a reused
    refresh token)."""
    ctx.conn.execute(
        update(_TOKEN)
        .where(
            _TOKEN.c.tenant_id == ctx.tenant,
            (_TOKEN.c.data["family"].as_string() == family) | (_TOKEN.c.data["code"].as_string() == family),
        )
        .values(revoked=True)
    )


def _refresh_grant(ctx: TwinContext, srv: Any, app: Any, form: dict[str, str]) -> dict[str, Any]:
    """grant_type=refresh_token. A ROTATE app gets a new refresh token each time and the used
    one is spent, though it stays good for the app's `leeway` (30 s by default) so that a
    client that lost the answer can retry; used again after that, Okta sees token reuse: the
    request fails and every token of that authentication is revoked
    (`app.oauth2[.as].token.detect_reuse`). A STATIC app keeps its refresh token.
    https://developer.okta.com/docs/guides/refresh-tokens/main/#refresh-token-reuse-detection"""
    rt = form.get("refresh_token")
    invalid = OAuthError("invalid_grant", "The refresh token is invalid or expired.")
    if not rt:
        raise OAuthError("invalid_request", "The 'refresh_token' parameter is required.")
    row = ctx.conn.execute(
        select(_TOKEN).where(
            _TOKEN.c.tenant_id == ctx.tenant,
            _TOKEN.c.digest == _digest(rt),
            _TOKEN.c.kind == "refresh",
        )
    ).first()
    if (
        row is None
        or row.expires_at <= ctx.now()
        or row.client_id != app.client_id
        or row.auth_server != srv.id
    ):
        raise invalid
    data = dict(row.data or {})
    family = str(data.get("family") or data.get("code") or row.jti)
    rotation = apps.refresh_settings_of(app.settings or {})
    if row.revoked:
        rotated_at = data.get("rotated_at")
        if rotated_at is None:
            raise invalid  # revoked outright (revoke endpoint, user deactivated, replayed code)
        if ctx.now() - float(rotated_at) > rotation["leeway"]:
            _revoke_family(ctx, family)
            syslog.emit(
                ctx,
                event_type(srv.id, "token.detect_reuse"),
                targets=[_app_ref(app), syslog.ref(row.jti, "refresh_token", None, "Refresh Token")],
                display="Detected a reused refresh token",
                result="FAILURE",
                reason="Refresh token reuse detected",
                actor=_user_actor(ctx, row.user_id),
            )
            raise kept(invalid)
    scopes = list(row.scopes)
    if form.get("scope"):
        wanted = form["scope"].split()
        if any(s not in scopes for s in wanted):
            raise OAuthError("invalid_scope", "The requested scope is invalid, unknown, or malformed.")
        scopes = wanted
    user = _user(ctx, row.user_id)
    if user is None or user.status not in ("ACTIVE", "PASSWORD_EXPIRED"):
        raise invalid
    keep: str | None = None
    if rotation["rotation_type"] == "ROTATE":
        # The used refresh token is spent (good for the leeway only); a new one replaces it.
        if not row.revoked:
            ctx.conn.execute(
                update(_TOKEN)
                .where(_TOKEN.c.tenant_id == ctx.tenant, _TOKEN.c.jti == row.jti)
                .values(revoked=True, data={**data, "rotated_at": ctx.now()})
            )
    else:
        keep = rt
    return _issue(
        ctx,
        srv=srv,
        app=app,
        user=user,
        scopes=scopes,
        nonce=None,
        auth_time=data.get("auth_time"),
        refresh=True,
        grant="refresh_token",
        amr=data.get("amr"),
        family=family,
        refresh_token=keep,
    )


def _token_row(ctx: TwinContext, token: str) -> Any:
    return ctx.conn.execute(
        select(_TOKEN).where(_TOKEN.c.tenant_id == ctx.tenant, _TOKEN.c.digest == _digest(token))
    ).first()


def introspect(
    ctx: TwinContext,
    *,
    as_id: str | None,
    token: str | None,
    client_id: str | None,
    client_secret: str | None,
) -> dict[str, Any]:
    """POST /oauth2/{as}/v1/introspect: `{"active": false}` for anything not live."""
    srv = server(ctx, as_id)
    authenticate_client(ctx, client_id, client_secret)
    if not token:
        raise OAuthError("invalid_request", "The token parameter is required.")
    row = _token_row(ctx, token)
    if row is None or row.revoked or row.expires_at <= ctx.now() or row.auth_server != srv.id:
        return {"active": False}
    user = _user(ctx, row.user_id) if row.user_id else None
    out: dict[str, Any] = {
        "active": True,
        "scope": " ".join(row.scopes),
        "client_id": row.client_id,
        "exp": int(row.expires_at),
        "iat": int(row.issued_at),
        "iss": issuer(ctx, as_id),
        "token_type": "Bearer" if row.kind == "access" else "refresh_token",
    }
    if row.kind == "access":
        claims = (row.data or {}).get("claims", {})
        out.update({"aud": claims.get("aud"), "jti": row.jti, "sub": claims.get("sub")})
    if user is not None:
        out.update(
            {
                "username": (user.profile or {}).get("login"),
                "uid": user.id,
                "sub": (user.profile or {}).get("login"),
            }
        )
    return out


def revoke(
    ctx: TwinContext,
    *,
    as_id: str | None,
    token: str | None,
    client_id: str | None,
    client_secret: str | None,
) -> None:
    """POST /oauth2/{as}/v1/revoke: 200 even for unknown tokens (RFC 7009)."""
    server(ctx, as_id)
    app = authenticate_client(ctx, client_id, client_secret)
    if not token:
        raise OAuthError("invalid_request", "The token parameter is required.")
    row = _token_row(ctx, token)
    if row is not None and row.client_id == app.client_id and not row.revoked:
        ctx.conn.execute(
            update(_TOKEN)
            .where(_TOKEN.c.tenant_id == ctx.tenant, _TOKEN.c.jti == row.jti)
            .values(revoked=True)
        )
        kind = "refresh_token" if row.kind == "refresh" else "access_token"
        syslog.emit(
            ctx,
            event_type(row.auth_server, "token.revoke"),
            targets=[_app_ref(app), syslog.ref(row.jti, kind, None, kind.replace("_", " ").title())],
            display="OAuth2 token revocation request",
            actor=_user_actor(ctx, row.user_id),
        )


def userinfo(ctx: TwinContext, *, as_id: str | None, token: str | None) -> dict[str, Any]:
    """GET /oauth2/{as}/v1/userinfo with an access token that has `openid`."""
    srv = server(ctx, as_id)
    row = _token_row(ctx, token or "") if token else None
    if (
        row is None
        or row.kind != "access"
        or row.revoked
        or row.expires_at <= ctx.now()
        or row.auth_server != srv.id
        or not row.user_id
    ):
        raise OAuthError("invalid_token", "The access token is invalid.", status=401)
    if "openid" not in row.scopes:
        raise OAuthError(
            "insufficient_scope",
            "The access token must provide access to at least one of these "
            "scopes - profile, email, address or phone",
            status=403,
        )
    user = _user(ctx, row.user_id)
    if user is None:
        raise OAuthError("invalid_token", "The access token is invalid.", status=401)
    return {"sub": user.id, **_profile_claims(user, row.scopes)}


def _id_token_claims(ctx: TwinContext, srv: Any, hint: str) -> dict[str, Any]:
    """The claims of an `id_token_hint`: signed by one of the org's published keys and issued
    by this server; an expired one is still good for logout (Okta accepts it there)."""
    invalid = OAuthError("invalid_request", "The 'id_token_hint' parameter is invalid.")
    try:
        kid = jwt.get_unverified_header(hint).get("kid")
    except jwt.PyJWTError:
        raise invalid from None
    key = keys.public_key(ctx, kid) if isinstance(kid, str) else None
    if key is None:
        raise invalid
    try:
        claims: dict[str, Any] = jwt.decode(
            hint,
            key,
            algorithms=["RS256"],
            issuer=issuer(ctx, None if srv.id == "org" else srv.id),
            options={"verify_exp": False, "verify_aud": False},
        )
    except jwt.PyJWTError:
        raise invalid from None
    return claims


def logout(
    ctx: TwinContext,
    *,
    as_id: str | None,
    id_token_hint: str | None,
    post_logout_redirect_uri: str | None,
    state: str | None,
    sid: str | None,
) -> str | None:
    """GET or POST /oauth2/{as}/v1/logout: signs the user out (closes the browser session when
    its user is the hint's subject) and redirects to `post_logout_redirect_uri` when the app
    registered it (with `state`); without one the answer is a plain 200. The hint is required
    and must be an ID token of this server (400 otherwise).
    https://developer.okta.com/docs/api/openapi/okta-oauth/oauth/tag/OrgAS/#tag/OrgAS/operation/logout"""
    srv = server(ctx, as_id)
    if not id_token_hint:
        raise OAuthError("invalid_request", "The 'id_token_hint' parameter is required.")
    claims = _id_token_claims(ctx, srv, id_token_hint)
    app = client(ctx, claims.get("aud") if isinstance(claims.get("aud"), str) else None)
    if post_logout_redirect_uri and post_logout_redirect_uri not in (app.settings or {}).get(
        "post_logout_redirect_uris", []
    ):
        raise OAuthError(
            "invalid_request",
            "The 'post_logout_redirect_uri' parameter must be a Logout redirect "
            "URI in the client app settings.",
        )
    session = authn.browser_session(ctx, sid)
    if session is not None and session.user_id == claims.get("sub"):
        authn.close_session(ctx, session_id=session.id)
    if post_logout_redirect_uri:
        sep = "&" if "?" in post_logout_redirect_uri else "?"
        return post_logout_redirect_uri + (f"{sep}{urlencode({'state': state})}" if state else "")
    return None


def render_iso(ts: float) -> str | None:
    return iso(ts)
