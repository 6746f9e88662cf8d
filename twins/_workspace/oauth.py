"""Google OAuth 2.0 for the Google twins: the token endpoint, tokeninfo, bearer checks.

https://developers.google.com/identity/protocols/oauth2/service-account#httprest and
https://developers.google.com/identity/protocols/oauth2/web-server#offline . The token
endpoint (`oauth2.googleapis.com/token`) takes the service-account JWT-bearer grant exactly as
google-auth sends it (an RS256 assertion signed with the key file's private key, `iss` the
client email, `aud` the token URI, `scope`, and `sub` for domain-wide delegation) and refresh
grants. Access tokens carry scopes and expire after an hour of the twin clock.

Divergence: the assertion's `iat`/`exp` are checked for shape (`exp` after `iat`, at most an
hour apart) but not against the twin clock, because google-auth stamps them with the wall
clock while tests move the twin clock to expire tokens.
"""

from __future__ import annotations

from typing import Any

import jwt
from sqlalchemy import insert, select
from starlette.types import Scope

from dtu.context import TwinContext
from dtu.db import table
from twins._workspace import common, models
from twins._workspace.errors import OAuthError, invalid_credentials

TOKEN_LIFETIME_S = 3600
_T = table(models.Token)
_SA = table(models.ServiceAccount)
_P = table(models.Principal)
_C = table(models.OAuthClient)

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
AUTH = "https://www.googleapis.com/auth/"
ALL_SCOPES = sorted(
    {
        AUTH + s
        for s in (
            "drive",
            "drive.appdata",
            "drive.file",
            "drive.metadata",
            "drive.metadata.readonly",
            "drive.photos.readonly",
            "drive.readonly",
            "drive.scripts",
            "drive.apps.readonly",
            "drive.meet.readonly",
            "spreadsheets",
            "spreadsheets.readonly",
            "documents",
            "documents.readonly",
            "cloud-platform",
            "userinfo.email",
            "userinfo.profile",
        )
    }
)


def _valid_scope(scope: str) -> bool:
    return scope.startswith(AUTH) or scope in ("openid", "email", "profile")


# -- tenant resolution (before a unit of work exists) ----------------------------------------------


def _bearer(value: str) -> str | None:
    scheme, _, rest = value.partition(" ")
    return rest.strip() or None if scheme.lower() in ("bearer", "oauth") else None


def credential_of(scope: Scope) -> str | None:
    """The access token of a request: `Authorization: Bearer`, or the `access_token` /
    `oauth_token` query parameters (every Google API takes both)."""
    for key, raw in scope.get("headers", ()):
        if key == b"authorization":
            return _bearer(raw.decode("latin-1"))
    query: str = scope.get("query_string", b"").decode("latin-1")
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name in ("access_token", "oauth_token") and value:
            return value
    return None


def tenant_of_token(conn: Any, token: str) -> str | None:
    return conn.execute(select(_T.c.tenant_id).where(_T.c.token == token)).scalar()  # type: ignore[no-any-return]


def tenant_of_service_account(conn: Any, client_email: str) -> str | None:
    tenant: str | None = conn.execute(
        select(_SA.c.tenant_id).where(_SA.c.client_email == client_email).order_by(_SA.c.tenant_id)
    ).scalar()
    return tenant


def tenant_of_grant(conn: Any, form: dict[str, str]) -> str | None:
    """The tenant a token request speaks for: the assertion's issuer, or the refresh token's."""
    if form.get("grant_type") == JWT_BEARER:
        try:
            claims = jwt.decode(form.get("assertion", ""), options={"verify_signature": False})
        except jwt.PyJWTError:
            return None
        iss = claims.get("iss")
        return tenant_of_service_account(conn, iss) if isinstance(iss, str) else None
    if form.get("grant_type") == "refresh_token":
        return tenant_of_token(conn, form.get("refresh_token", ""))
    return None


# -- bearer checks ---------------------------------------------------------------------------------


def authenticate(ctx: TwinContext, token: str) -> common.Caller:
    """The caller behind an access token; Google's 401 when it is unknown, revoked or expired."""
    row = ctx.conn.execute(select(_T).where(_T.c.tenant_id == ctx.tenant, _T.c.token == token)).first()
    if (
        row is None
        or row.kind != "access"
        or row.revoked
        or (row.expires_at is not None and row.expires_at <= ctx.now())
    ):
        raise invalid_credentials()
    kind = ctx.conn.execute(
        select(_P.c.kind).where(_P.c.tenant_id == ctx.tenant, _P.c.email == row.email)
    ).scalar()
    return common.Caller(
        tenant=ctx.tenant,
        email=row.email,
        scopes=frozenset(row.scopes),
        domain=common.customer_domain(ctx),
        token=token,
        is_service_account=kind == "service_account",
    )


def _issue(ctx: TwinContext, *, email: str, scopes: list[str], client_id: str) -> dict[str, Any]:
    token = common.access_token(ctx)
    ctx.conn.execute(
        insert(_T).values(
            tenant_id=ctx.tenant,
            token=token,
            kind="access",
            email=email,
            client_id=client_id,
            scopes=scopes,
            expires_at=ctx.now() + TOKEN_LIFETIME_S,
            revoked=False,
        )
    )
    return {"access_token": token, "expires_in": TOKEN_LIFETIME_S - 1, "token_type": "Bearer"}


# -- the token endpoint ------------------------------------------------------------------------------


def token_grant(ctx: TwinContext, *, form: dict[str, str]) -> dict[str, Any]:
    """`POST /token`: RFC 6749 section 4 grants, as oauth2.googleapis.com answers them."""
    grant = form.get("grant_type")
    if not grant:
        raise OAuthError("unsupported_grant_type", "Invalid grant_type: ")
    if grant == JWT_BEARER:
        return jwt_bearer_grant(ctx, assertion=form.get("assertion", ""))
    if grant == "refresh_token":
        return refresh_grant(
            ctx,
            refresh_token=form.get("refresh_token", ""),
            client_id=form.get("client_id", ""),
            client_secret=form.get("client_secret", ""),
            scope=form.get("scope"),
        )
    raise OAuthError("unsupported_grant_type", f"Invalid grant_type: {grant}")


def jwt_bearer_grant(ctx: TwinContext, *, assertion: str) -> dict[str, Any]:
    """The service-account grant: verify the RS256 assertion with the account's public key;
    with `sub`, impersonate that user if the admin granted domain-wide delegation."""
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise OAuthError(
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
            "reasonable timeframe. Check your iat and exp values in the JWT claim.",
        ) from None
    sa = ctx.conn.execute(
        select(_SA).where(_SA.c.tenant_id == ctx.tenant, _SA.c.client_email == unverified.get("iss"))
    ).first()
    if sa is None:
        raise OAuthError("invalid_grant", "Invalid grant: account not found")
    if header.get("alg") != "RS256":
        raise OAuthError("invalid_grant", "Invalid JWT Signature.")
    try:
        claims = jwt.decode(
            assertion,
            sa.public_key,
            algorithms=["RS256"],
            options={"verify_aud": False, "verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.PyJWTError:
        raise OAuthError("invalid_grant", "Invalid JWT Signature.") from None
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int | float) or not isinstance(exp, int | float) or exp <= iat or exp - iat > 3600:
        raise OAuthError(
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
            "reasonable timeframe. Check your iat and exp values in the JWT claim.",
        )
    aud = claims.get("aud")
    if not isinstance(aud, str) or not aud.rstrip("/").endswith("/token"):
        raise OAuthError("invalid_grant", "Invalid JWT: Failed audience check.")
    scopes = str(claims.get("scope") or "").split()
    if not scopes or not all(_valid_scope(s) for s in scopes):
        raise OAuthError("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
    subject = claims.get("sub")
    email = sa.client_email
    if subject and subject != sa.client_email:
        if not sa.delegation_scopes or not set(scopes) <= set(sa.delegation_scopes):
            raise OAuthError(
                "unauthorized_client",
                "Client is unauthorized to retrieve access tokens using this "
                "method, or client not authorized for any of the scopes requested.",
                status=401,
            )
        user = ctx.conn.execute(
            select(_P).where(
                _P.c.tenant_id == ctx.tenant, _P.c.email == str(subject).lower(), _P.c.kind == "user"
            )
        ).first()
        if user is None:
            raise OAuthError("invalid_grant", "Invalid email or User ID")
        email = user.email
    return _issue(ctx, email=email, scopes=scopes, client_id=sa.client_id)


def refresh_grant(
    ctx: TwinContext, *, refresh_token: str, client_id: str, client_secret: str, scope: str | None
) -> dict[str, Any]:
    """The refresh grant of an installed or web app (google.oauth2.credentials.Credentials)."""
    client = ctx.conn.execute(
        select(_C).where(_C.c.tenant_id == ctx.tenant, _C.c.client_id == client_id)
    ).first()
    if client is None:
        raise OAuthError("invalid_client", "The OAuth client was not found.", status=401)
    if client.client_secret != client_secret:
        raise OAuthError("invalid_client", "Unauthorized", status=401)
    row = ctx.conn.execute(
        select(_T).where(_T.c.tenant_id == ctx.tenant, _T.c.token == refresh_token)
    ).first()
    if row is None or row.kind != "refresh" or row.revoked or row.client_id != client_id:
        raise OAuthError("invalid_grant", "Bad Request")
    scopes = list(row.scopes)
    if scope:
        wanted = scope.split()
        if not set(wanted) <= set(scopes):
            raise OAuthError(
                "invalid_scope",
                "Some requested scopes were invalid. {invalid=["
                + ", ".join(sorted(set(wanted) - set(scopes)))
                + "]}",
            )
        scopes = wanted
    out = _issue(ctx, email=row.email, scopes=scopes, client_id=client_id)
    out["scope"] = " ".join(scopes)
    return out


def tokeninfo(ctx: TwinContext, *, token: str) -> dict[str, Any]:
    """`GET /tokeninfo?access_token=`: what Google knows of a token, or 400 invalid_token."""
    row = ctx.conn.execute(select(_T).where(_T.c.tenant_id == ctx.tenant, _T.c.token == token)).first()
    if (
        row is None
        or row.kind != "access"
        or row.revoked
        or (row.expires_at is not None and row.expires_at <= ctx.now())
    ):
        raise OAuthError("invalid_token", "Invalid Value")
    principal = ctx.conn.execute(
        select(_P).where(_P.c.tenant_id == ctx.tenant, _P.c.email == row.email)
    ).first()
    sub = principal.permission_id if principal is not None else row.email
    expires_in = int(row.expires_at - ctx.now()) if row.expires_at is not None else 315_360_000
    return {
        "azp": row.client_id or sub,
        "aud": row.client_id or sub,
        "sub": sub,
        "scope": " ".join(row.scopes),
        "exp": str(int(ctx.now()) + expires_in),
        "expires_in": str(expires_in),
        "email": row.email,
        "email_verified": "true",
        "access_type": "online",
    }


def revoke(ctx: TwinContext, *, token: str) -> None:
    """`POST /revoke?token=`: revoking a refresh token revokes the grant's access tokens too."""
    row = ctx.conn.execute(select(_T).where(_T.c.tenant_id == ctx.tenant, _T.c.token == token)).first()
    if row is None or row.revoked:
        raise OAuthError("invalid_token", "Token expired or revoked")
    stmt = _T.update().where(_T.c.tenant_id == ctx.tenant)
    if row.kind == "refresh":
        stmt = stmt.where(_T.c.email == row.email, _T.c.client_id == row.client_id)
    else:
        stmt = stmt.where(_T.c.token == token)
    ctx.conn.execute(stmt.values(revoked=True))
