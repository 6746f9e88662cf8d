"""App credentials: OAuth client secrets (rotation), SAML signing keys and the SAML IdP metadata.

https://developer.okta.com/docs/api/openapi/okta-management/management/tag/ApplicationSSOCredentialOAuth2ClientAuth/ :
an OIDC app holds up to two client secrets; any ACTIVE one authenticates the client, so a new
secret can be rolled out before the old one is deactivated and deleted (only INACTIVE secrets
can be deleted, and the last ACTIVE one cannot be deactivated).
https://developer.okta.com/docs/api/openapi/okta-management/management/tag/ApplicationSSOCredentialKey/ and
.../tag/ApplicationSSO/ : a SAML app signs with its own key credential (`credentials.signing.kid`),
an RSA key with a self-signed X.509 certificate, published in the app's IdP metadata.
Divergence: the RSA key material of app keys is made once per seed (a pure-Python prime search)
and shared by all apps; each app has its own kid and certificate.
"""

from __future__ import annotations

import base64
import hashlib
import html
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import delete, select, update

from dtu.context import TwinContext
from dtu.db import table
from twins.okta import models
from twins.okta.errors import OktaError, not_found, validation
from twins.okta.service import keys, syslog
from twins.okta.service.common import BASE62, href, iso, okta_id

_APP = table(models.App)
_SECRET = table(models.ClientSecret)
_KEY = table(models.AppKey)
_ORG = table(models.Org)
SECRET_METHODS = ("client_secret_basic", "client_secret_post", "client_secret_jwt")
MAX_SECRETS = 2
CERT_YEARS = 10


def new_secret(ctx: TwinContext) -> str:
    return ctx.ids.token("client-secret", length=64, alphabet=BASE62 + "-_")


# -- client secrets -------------------------------------------------------------------------------


def _rows(ctx: TwinContext, app_id: str) -> list[Any]:
    return list(
        ctx.conn.execute(
            select(_SECRET)
            .where(_SECRET.c.tenant_id == ctx.tenant, _SECRET.c.app_id == app_id)
            .order_by(_SECRET.c.seq)
        ).all()
    )


def _materialize(ctx: TwinContext, app: Any) -> list[Any]:
    """The app's secret objects; an app made with one secret gets its object on first use."""
    rows = _rows(ctx, app.id)
    if not rows and app.client_secret:
        ctx.conn.execute(
            _SECRET.insert().values(
                tenant_id=ctx.tenant,
                id=okta_id(ctx, "ocs", "client-secret-id"),
                app_id=app.id,
                secret=app.client_secret,
                status="ACTIVE",
                created=app.created,
                last_updated=app.created,
                seq=ctx.ids.next("client-secret-seq"),
            )
        )
        rows = _rows(ctx, app.id)
    return rows


def _sync(ctx: TwinContext, app_id: str) -> None:
    """The app object shows the newest ACTIVE secret."""
    active = [r for r in _rows(ctx, app_id) if r.status == "ACTIVE"]
    if active:
        ctx.conn.execute(
            update(_APP)
            .where(_APP.c.tenant_id == ctx.tenant, _APP.c.id == app_id)
            .values(client_secret=active[-1].secret)
        )


def accepts(ctx: TwinContext, app: Any, secret: str | None) -> bool:
    """Whether `secret` authenticates the client: any ACTIVE secret object, else the app's one."""
    rows = _rows(ctx, app.id)
    if not rows:
        return bool(secret == app.client_secret)
    return any(r.status == "ACTIVE" and r.secret == secret for r in rows)


def replaced(ctx: TwinContext, app: Any, new: str | None) -> None:
    """A full replace of the app set a new secret: it takes the place of the current one."""
    if new is None or new == app.client_secret:
        return
    ctx.conn.execute(
        update(_SECRET)
        .where(
            _SECRET.c.tenant_id == ctx.tenant,
            _SECRET.c.app_id == app.id,
            _SECRET.c.secret == app.client_secret,
        )
        .values(secret=new, last_updated=ctx.now())
    )


def _render_secret(ctx: TwinContext, app_id: str, row: Any) -> dict[str, Any]:
    base = f"/api/v1/apps/{app_id}/credentials/secrets/{row.id}"
    links: dict[str, Any] = {}
    if row.status == "ACTIVE":
        links["deactivate"] = href(ctx, base + "/lifecycle/deactivate", hints={"allow": ["POST"]})
    else:
        links["activate"] = href(ctx, base + "/lifecycle/activate", hints={"allow": ["POST"]})
        links["delete"] = href(ctx, base, hints={"allow": ["DELETE"]})
    digest = hashlib.sha256(row.secret.encode()).digest()[:16]
    return {
        "id": row.id,
        "status": row.status,
        "client_secret": row.secret,
        "secret_hash": base64.urlsafe_b64encode(digest).rstrip(b"=").decode(),
        "created": iso(row.created),
        "lastUpdated": iso(row.last_updated),
        "_links": links,
    }


def _oidc_app(ctx: TwinContext, app_id: str) -> Any:
    from twins.okta.service import apps

    app = apps.find(ctx, app_id)
    if app.sign_on_mode != "OPENID_CONNECT":
        raise not_found(app_id, "OAuth2Client")
    return app


def _secret_row(ctx: TwinContext, app: Any, secret_id: str) -> Any:
    row = next((r for r in _materialize(ctx, app) if r.id == secret_id), None)
    if row is None:
        raise not_found(secret_id, "OAuth2ClientSecret")
    return row


def _log_secret(ctx: TwinContext, event: str, app: Any, secret_id: str, display: str) -> None:
    """`app.oauth2.credentials.lifecycle.*`: the app and the client secret are the targets."""
    syslog.emit(
        ctx,
        event,
        targets=[
            syslog.ref(app.id, "AppInstance", app.label, app.label),
            syslog.ref(secret_id, "ClientSecret", None, "Client secret"),
        ],
        display=display,
    )


def _mediated(cause: str) -> OktaError:
    return OktaError("Api validation failed: OAuth2ClientSecretMediated", causes=[cause])


def list_secrets(ctx: TwinContext, *, app_id: str) -> list[dict[str, Any]]:
    app = _oidc_app(ctx, app_id)
    return [_render_secret(ctx, app.id, r) for r in _materialize(ctx, app)]


def get_secret(ctx: TwinContext, *, app_id: str, secret_id: str) -> dict[str, Any]:
    app = _oidc_app(ctx, app_id)
    return _render_secret(ctx, app.id, _secret_row(ctx, app, secret_id))


def create_secret(ctx: TwinContext, *, app_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST .../credentials/secrets: a new ACTIVE secret (system-made, or `client_secret` of
    14-100 printable ASCII characters, 32+ for client_secret_jwt); at most two secrets."""
    app = _oidc_app(ctx, app_id)
    method = (app.settings or {}).get("token_endpoint_auth_method", "client_secret_basic")
    if method not in SECRET_METHODS:
        raise validation(
            "client_secret", f"'client_secret' can't be used when 'token_endpoint_auth_method' is '{method}'."
        )
    rows = _materialize(ctx, app)
    if len(rows) >= MAX_SECRETS:
        raise _mediated("You've reached the maximum number of client secrets per client.")
    secret = body.get("client_secret")
    if secret is None:
        secret = new_secret(ctx)
    elif not isinstance(secret, str) or not all(0x20 <= ord(c) <= 0x7E for c in secret):
        raise validation(
            "client_secret", "client_secret: ''client_secret'' must only contain printable ASCII: [x20-x7E]+"
        )
    elif len(secret) > 100:
        raise validation(
            "client_secret", "client_secret: 'client_secret' can't be more than '100' characters long."
        )
    elif method == "client_secret_jwt" and len(secret) < 32:
        raise validation(
            "client_secret",
            "client_secret: 'client_secret' must be at least '32' characters long when "
            "'token_endpoint_auth_method' is 'client_secret_jwt'.",
        )
    elif len(secret) < 14:
        raise validation(
            "client_secret", "client_secret: 'client_secret' must be at least '14' characters long."
        )
    status = body.get("status", "ACTIVE")
    if status not in ("ACTIVE", "INACTIVE"):
        raise validation("status", "status: The value must be ACTIVE or INACTIVE.")
    now = ctx.now()
    sid = okta_id(ctx, "ocs", "client-secret-id")
    ctx.conn.execute(
        _SECRET.insert().values(
            tenant_id=ctx.tenant,
            id=sid,
            app_id=app.id,
            secret=secret,
            status=status,
            created=now,
            last_updated=now,
            seq=ctx.ids.next("client-secret-seq"),
        )
    )
    _sync(ctx, app.id)
    _log_secret(ctx, "app.oauth2.credentials.lifecycle.create", app, sid, "Create client secret")
    return _render_secret(ctx, app.id, _secret_row(ctx, app, sid))


def set_secret_status(ctx: TwinContext, *, app_id: str, secret_id: str, active: bool) -> dict[str, Any]:
    """.../lifecycle/activate|deactivate; the only ACTIVE secret cannot be deactivated."""
    app = _oidc_app(ctx, app_id)
    row = _secret_row(ctx, app, secret_id)
    if not active and row.status == "ACTIVE":
        others = [r for r in _rows(ctx, app.id) if r.status == "ACTIVE" and r.id != row.id]
        if not others:
            raise _mediated("You can't deactivate the only active client secret.")
    ctx.conn.execute(
        update(_SECRET)
        .where(_SECRET.c.tenant_id == ctx.tenant, _SECRET.c.id == row.id)
        .values(status="ACTIVE" if active else "INACTIVE", last_updated=ctx.now())
    )
    _sync(ctx, app.id)
    if active:
        _log_secret(ctx, "app.oauth2.credentials.lifecycle.activate", app, row.id, "Activate client secret")
    else:
        _log_secret(
            ctx, "app.oauth2.credentials.lifecycle.deactivate", app, row.id, "Deactivate client secret"
        )
    return _render_secret(ctx, app.id, _secret_row(ctx, app, secret_id))


def delete_secret(ctx: TwinContext, *, app_id: str, secret_id: str) -> None:
    app = _oidc_app(ctx, app_id)
    row = _secret_row(ctx, app, secret_id)
    if row.status == "ACTIVE":
        raise _mediated("You can't delete an active client secret. Deactivate the secret before deleting it.")
    ctx.conn.execute(delete(_SECRET).where(_SECRET.c.tenant_id == ctx.tenant, _SECRET.c.id == row.id))
    _log_secret(ctx, "app.oauth2.credentials.lifecycle.delete", app, row.id, "Delete client secret")


def drop(ctx: TwinContext, app_id: str) -> None:
    """The app is deleted: its secrets and keys go with it."""
    ctx.conn.execute(delete(_SECRET).where(_SECRET.c.tenant_id == ctx.tenant, _SECRET.c.app_id == app_id))
    ctx.conn.execute(delete(_KEY).where(_KEY.c.tenant_id == ctx.tenant, _KEY.c.app_id == app_id))


# -- signing keys ---------------------------------------------------------------------------------


def _subdomain(ctx: TwinContext) -> str:
    return str(
        ctx.conn.execute(select(_ORG.c.subdomain).where(_ORG.c.tenant_id == ctx.tenant)).scalar() or "dtu"
    )


def create_key(ctx: TwinContext, app_id: str) -> str:
    """A new signing key credential for the app: RSA 2048 with a self-signed X.509 certificate
    (valid ten years, SHA-256 with RSA), as Okta makes for SAML apps."""
    kid = ctx.ids.token("app-kid", length=43, alphabet=BASE62 + "-_")
    key = keys._private_key(f"okta-app-key:{ctx.runtime.settings.seed}")
    now = ctx.now()
    start = datetime.fromtimestamp(int(now), UTC)
    end = start.replace(year=start.year + CERT_YEARS)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "California"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, "San Francisco"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Okta"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "SSOProvider"),
            x509.NameAttribute(NameOID.COMMON_NAME, _subdomain(ctx)),
            x509.NameAttribute(NameOID.EMAIL_ADDRESS, "info@okta.com"),
        ]
    )
    serial = int.from_bytes(hashlib.sha256(f"{ctx.tenant}:{app_id}:{kid}".encode()).digest()[:12], "big")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(end)
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    ctx.conn.execute(
        _KEY.insert().values(
            tenant_id=ctx.tenant,
            kid=kid,
            app_id=app_id,
            private_pem=pem,
            cert_der_b64=base64.b64encode(der).decode(),
            created=now,
            expires_at=end.timestamp(),
        )
    )
    return kid


def _key_rows(ctx: TwinContext, app_id: str) -> list[Any]:
    return list(
        ctx.conn.execute(
            select(_KEY)
            .where(_KEY.c.tenant_id == ctx.tenant, _KEY.c.app_id == app_id)
            .order_by(_KEY.c.created, _KEY.c.kid)
        ).all()
    )


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def render_key(row: Any) -> dict[str, Any]:
    """A JSON Web Key with its certificate chain (`x5c`) and thumbprint."""
    der = base64.b64decode(row.cert_der_b64)
    key = x509.load_der_x509_certificate(der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    pub = key.public_numbers()
    return {
        "kty": "RSA",
        "created": iso(row.created),
        "lastUpdated": iso(row.created),
        "expiresAt": iso(row.expires_at),
        "x5c": [row.cert_der_b64],
        "e": _b64url(pub.e.to_bytes((pub.e.bit_length() + 7) // 8, "big")),
        "n": _b64url(pub.n.to_bytes((pub.n.bit_length() + 7) // 8, "big")),
        "kid": row.kid,
        "use": "sig",
        "x5t#S256": _b64url(hashlib.sha256(der).digest()),
    }


def list_keys(ctx: TwinContext, *, app_id: str) -> list[dict[str, Any]]:
    from twins.okta.service import apps

    app = apps.find(ctx, app_id)
    return [render_key(r) for r in _key_rows(ctx, app.id)]


def get_key(ctx: TwinContext, *, app_id: str, kid: str) -> dict[str, Any]:
    from twins.okta.service import apps

    app = apps.find(ctx, app_id)
    row = next((r for r in _key_rows(ctx, app.id) if r.kid == kid), None)
    if row is None:
        raise not_found(kid, "JsonWebKey")
    return render_key(row)


# -- SAML metadata --------------------------------------------------------------------------------

_METADATA = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity}">'
    '<md:IDPSSODescriptor WantAuthnRequestsSigned="false" '
    'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
    '<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
    "<ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
    "</md:KeyDescriptor>"
    "<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>"
    "<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>"
    '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{sso}"/>'
    '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{sso}"/>'
    "</md:IDPSSODescriptor></md:EntityDescriptor>"
)


def saml_metadata(ctx: TwinContext, *, app_id: str, kid: str | None) -> str:
    """GET /api/v1/apps/{appId}/sso/saml/metadata: the IdP metadata of a SAML 2.0 app (its
    entity id, signing certificate and SSO endpoints); `kid` picks another of its keys."""
    from twins.okta.service import apps

    app = apps.find(ctx, app_id)
    if app.sign_on_mode != "SAML_2_0":
        raise not_found(app_id, "SamlApplication")
    rows = _key_rows(ctx, app.id)
    signing = (app.settings or {}).get("signing_kid")
    row = next((r for r in rows if r.kid == (kid or signing)), None)
    if row is None:
        raise not_found(kid or app.id, "JsonWebKey")
    external = (app.settings or {}).get("external_key", app.id)
    return _METADATA.format(
        entity=html.escape(f"http://www.okta.com/{external}", quote=True),
        cert=row.cert_der_b64,
        sso=html.escape(f"{ctx.base_url}/app/{app.name}/{external}/sso/saml", quote=True),
    )
