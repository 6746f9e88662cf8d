"""Apps: OIDC app integrations (web, browser, native, service), their user and group assignments.

https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Application/ ,
.../tag/ApplicationUsers/ and .../tag/ApplicationGroups/ . An OIDC app's `client_id` is its
app id unless the caller chose one; confidential clients get a generated secret. Apps are
deleted only once INACTIVE (E0000056). A user is assigned to an app directly (scope USER) or
through a group assigned to it (scope GROUP); the authorization servers refuse users who are
neither (`access_denied`, "User is not assigned to the client application.").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, select, update

from dtu.context import TwinContext
from dtu.db import table
from twins.okta import models
from twins.okta.errors import AppDeleteForbidden, OktaError, not_found, validation
from twins.okta.service import groups, query, syslog
from twins.okta.service.common import BASE62, decode_after, encode_after, href, iso, okta_id

_APP = table(models.App)
_APP_USER = table(models.AppUser)
_APP_GROUP = table(models.AppGroup)
_GROUP = table(models.Group)
_MEMBER = table(models.GroupMember)
_USER = table(models.User)
_KEY = table(models.SigningKey)

GRANT_TYPES = frozenset(
    {
        "authorization_code",
        "implicit",
        "password",
        "refresh_token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:token-exchange",
        "urn:ietf:params:oauth:grant-type:saml2-bearer",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    }
)
RESPONSE_TYPES = frozenset({"code", "token", "id_token"})
APPLICATION_TYPES = frozenset({"web", "native", "browser", "service"})
AUTH_METHODS = frozenset(
    {"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"}
)
# https://developer.okta.com/docs/guides/implement-grant-type/ : which grants each app type may use.
ALLOWED_GRANTS = {
    "web": {"authorization_code", "implicit", "refresh_token", "client_credentials", "password"},
    "browser": {"authorization_code", "implicit", "refresh_token"},
    "native": {
        "authorization_code",
        "implicit",
        "refresh_token",
        "password",
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:token-exchange",
    },
    "service": {"client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"},
}
GROUPS_CLAIM_FILTERS = frozenset({"STARTS_WITH", "EQUALS", "CONTAINS", "REGEX"})


# -- reading --------------------------------------------------------------------------------------


def _kid(ctx: TwinContext) -> str | None:
    return ctx.conn.execute(
        select(_KEY.c.kid).where(_KEY.c.tenant_id == ctx.tenant, _KEY.c.status == "ACTIVE")
    ).scalar()


def _links(ctx: TwinContext, row: Any, link_name: str, link_href: str) -> dict[str, Any]:
    """An app's `_links`: its app link, assignments, logo, self and the lifecycle move it allows."""
    base = f"/api/v1/apps/{row.id}"
    links: dict[str, Any] = {
        "appLinks": [{"name": link_name, "href": link_href, "type": "text/html"}],
        "groups": href(ctx, base + "/groups"),
        "logo": [
            {"name": "medium", "href": f"{ctx.base_url}/assets/img/logos/default.png", "type": "image/png"}
        ],
        "users": href(ctx, base + "/users"),
        "self": href(ctx, base),
    }
    if row.status == "ACTIVE":
        links["deactivate"] = href(ctx, base + "/lifecycle/deactivate")
    else:
        links["activate"] = href(ctx, base + "/lifecycle/activate")
    return links


def render(ctx: TwinContext, row: Any) -> dict[str, Any]:
    """An OpenIdConnectApplication as the Apps API returns it (other sign-on modes: `_render_other`)."""
    if row.sign_on_mode != "OPENID_CONNECT":
        return _render_other(ctx, row)
    s = dict(row.settings or {})
    app_type = s.get("type", "web")
    oauth_client: dict[str, Any] = {
        "client_uri": s.get("client_uri"),
        "logo_uri": s.get("logo_uri"),
        "redirect_uris": list(s.get("redirect_uris", [])),
        "post_logout_redirect_uris": list(s.get("post_logout_redirect_uris", [])),
        "response_types": list(s.get("response_types") or _default_response_types(s.get("grant_types", []))),
        "grant_types": list(s.get("grant_types", [])),
        "application_type": app_type,
        "consent_method": s.get("consent_method", "REQUIRED"),
        "issuer_mode": s.get("issuer_mode", "DYNAMIC"),
        "idp_initiated_login": {"mode": "DISABLED", "default_scope": []},
        "wildcard_redirect": "DISABLED",
    }
    if s.get("initiate_login_uri"):
        oauth_client["initiate_login_uri"] = s["initiate_login_uri"]
    if s.get("groups_claim"):
        oauth_client["groups_claim"] = dict(s["groups_claim"])
    if "refresh_token" in s.get("grant_types", []):
        oauth_client["refresh_token"] = refresh_settings_of(s)
    credentials: dict[str, Any] = {
        "userNameTemplate": {"template": "${source.login}", "type": "BUILT_IN"},
        "signing": {"kid": _kid(ctx)},
        "oauthClient": {
            "autoKeyRotation": True,
            "client_id": row.client_id,
            "token_endpoint_auth_method": s.get("token_endpoint_auth_method", "client_secret_basic"),
            "pkce_required": bool(s.get("pkce_required", app_type in ("browser", "native"))),
        },
    }
    if row.client_secret:
        credentials["oauthClient"]["client_secret"] = row.client_secret
    links = _links(ctx, row, "oidc_client_link", f"{ctx.base_url}/home/oidc_client/{row.id}/aln5z7uhkbM")
    out: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "label": row.label,
        "status": row.status,
        "lastUpdated": iso(row.last_updated),
        "created": iso(row.created),
        "accessibility": {"selfService": False, "errorRedirectUrl": None, "loginRedirectUrl": None},
        "visibility": {
            "autoLaunch": False,
            "autoSubmitToolbar": False,
            "hide": {"iOS": app_type == "service", "web": app_type == "service"},
            "appLinks": {"oidc_client_link": app_type != "service"},
        },
        "features": [],
        "signOnMode": row.sign_on_mode,
        "credentials": credentials,
        "settings": {
            "app": {},
            "notifications": {
                "vpn": {"network": {"connection": "DISABLED"}, "message": None, "helpUrl": None}
            },
            "manualProvisioning": False,
            "implicitAssignment": False,
            "notes": {"admin": None, "enduser": None},
            "oauthClient": oauth_client,
        },
        "_links": links,
    }
    if s.get("profile") is not None:
        out["profile"] = s["profile"]
    return out


_LINK_NAMES = {"BOOKMARK": "login", "BASIC_AUTH": "login"}


def _render_other(ctx: TwinContext, row: Any) -> dict[str, Any]:
    """A BookmarkApplication, BasicAuthApplication or SamlApplication."""
    s = dict(row.settings or {})
    base = f"/api/v1/apps/{row.id}"
    link_name = _LINK_NAMES.get(row.sign_on_mode, f"{row.name}_link")
    credentials: dict[str, Any] = {
        "userNameTemplate": {"template": "${source.login}", "type": "BUILT_IN"},
        "signing": {"kid": s["signing_kid"]} if s.get("signing_kid") else {},
    }
    if row.sign_on_mode == "BASIC_AUTH":
        credentials.update(scheme="EDIT_USERNAME_AND_PASSWORD", revealPassword=False)
    links = _links(ctx, row, link_name, f"{ctx.base_url}/home/{row.name}/{row.id}/{link_name}")
    settings: dict[str, Any] = {
        "app": dict(s.get("app") or {}),
        "notifications": {"vpn": {"network": {"connection": "DISABLED"}, "message": None, "helpUrl": None}},
        "manualProvisioning": False,
        "implicitAssignment": False,
        "notes": {"admin": None, "enduser": None},
    }
    if row.sign_on_mode == "SAML_2_0":
        settings["signOn"] = dict(s.get("signOn") or {})
        links["metadata"] = href(ctx, base + "/sso/saml/metadata", type="application/xml")
    out: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "label": row.label,
        "status": row.status,
        "lastUpdated": iso(row.last_updated),
        "created": iso(row.created),
        "accessibility": {"selfService": False, "errorRedirectUrl": None, "loginRedirectUrl": None},
        "visibility": {
            "autoSubmitToolbar": False,
            "hide": {"iOS": False, "web": False},
            "appLinks": {link_name: True},
        },
        "features": [],
        "signOnMode": row.sign_on_mode,
        "credentials": credentials,
        "settings": settings,
        "_links": links,
    }
    return out


def find(ctx: TwinContext, app_id: str) -> Any:
    row = ctx.conn.execute(select(_APP).where(_APP.c.tenant_id == ctx.tenant, _APP.c.id == app_id)).first()
    if row is None:
        raise not_found(app_id, "AppInstance")
    return row


def _app_ref(row: Any) -> dict[str, Any]:
    return syslog.ref(row.id, "AppInstance", row.label, row.label)


def get_app(ctx: TwinContext, *, app_id: str) -> dict[str, Any]:
    """GET /api/v1/apps/{appId}."""
    return render(ctx, find(ctx, app_id))


# -- writing --------------------------------------------------------------------------------------


def _default_response_types(grants: list[str]) -> list[str]:
    out = []
    if "authorization_code" in grants:
        out.append("code")
    if "implicit" in grants:
        out.extend(["token", "id_token"])
    if not out and "client_credentials" in grants:
        out.append("token")
    return out or ["code"]


def _object(value: Any) -> dict[str, Any]:
    """An optional nested object of the body; Okta ignores one that is not a JSON object."""
    return value if isinstance(value, dict) else {}


def _str_list(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise validation(name, f"{name}: The field must be an array of strings")
    return list(dict.fromkeys(value))


def _parse(ctx: TwinContext, body: dict[str, Any], current: Any | None) -> dict[str, Any]:
    """The stored fields of an OIDC app from an Application body (create or full replace)."""
    sign_on = body.get("signOnMode")
    name = body.get("name")
    if current is None:
        if not sign_on:
            raise validation("signOnMode", "signOnMode: The field cannot be left blank")
        if sign_on != "OPENID_CONNECT":
            raise validation(
                "signOnMode", f"signOnMode: The sign-on mode {sign_on} is not supported by this org"
            )
        if name not in (None, "oidc_client"):
            raise validation("name", f"name: No app named {name} is available to this org")
    elif name not in (None, current.name):
        raise validation("name", "name: The app name cannot be changed")
    label = body.get("label")
    if not isinstance(label, str) or not label.strip():
        raise validation("label", "label: The field cannot be left blank")
    if len(label) > 100:
        raise validation("label", "label: The field is too long")
    settings = body.get("settings")
    oc = settings.get("oauthClient") if isinstance(settings, dict) else None
    if not isinstance(oc, dict):
        raise validation("settings", "settings.oauthClient: The field cannot be left blank")
    app_type = oc.get("application_type") or "web"
    if app_type not in APPLICATION_TYPES:
        raise validation(
            "application_type", f"application_type: '{app_type}' is not a valid application type"
        )
    grants = _str_list(oc.get("grant_types"), "grant_types") or (
        ["client_credentials"] if app_type == "service" else ["authorization_code"]
    )
    bad = [g for g in grants if g not in GRANT_TYPES]
    if bad:
        raise validation("grant_types", f"grant_types: '{bad[0]}' is not a valid grant type")
    refused = [g for g in grants if g not in ALLOWED_GRANTS[app_type]]
    if refused:
        raise validation(
            "grant_types",
            f"grant_types: Client of type '{app_type}' does not support the '{refused[0]}' grant type.",
        )
    responses = _str_list(oc.get("response_types"), "response_types") or _default_response_types(grants)
    bad = [r for r in responses if r not in RESPONSE_TYPES]
    if bad:
        raise validation("response_types", f"response_types: '{bad[0]}' is not a valid response type")
    if "authorization_code" in grants and "code" not in responses:
        raise validation(
            "response_types",
            "response_types: 'code' response type is required for the 'authorization_code' grant type.",
        )
    if "code" in responses and "authorization_code" not in grants:
        raise validation(
            "grant_types",
            "grant_types: 'authorization_code' grant type is required for the 'code' response type.",
        )
    if (
        ("token" in responses or "id_token" in responses)
        and app_type != "service"
        and "implicit" not in grants
    ):
        raise validation(
            "grant_types", "grant_types: 'implicit' grant type is required for the 'token' response types."
        )
    redirects = _str_list(oc.get("redirect_uris"), "redirect_uris")
    if ("authorization_code" in grants or "implicit" in grants) and not redirects:
        raise validation(
            "redirect_uris",
            "redirect_uris: 'redirect_uris' must be specified when the 'authorization_code' or "
            "'implicit' grant type is used.",
        )
    for uri in redirects + _str_list(oc.get("post_logout_redirect_uris"), "post_logout_redirect_uris"):
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:/?/?\S+$", uri) or "#" in uri:
            raise validation("redirect_uris", f"redirect_uris: '{uri}' is not a valid redirect URI")
    consent = oc.get("consent_method") or "REQUIRED"
    if consent not in ("REQUIRED", "TRUSTED"):
        raise validation("consent_method", f"consent_method: '{consent}' is not a valid consent method")
    creds = _object(body.get("credentials"))
    occ = _object(creds.get("oauthClient"))
    cur_settings = dict(current.settings or {}) if current is not None else {}
    method = (
        occ.get("token_endpoint_auth_method")
        or cur_settings.get("token_endpoint_auth_method")
        or ("none" if app_type == "browser" else "client_secret_basic")
    )
    if method not in AUTH_METHODS:
        raise validation(
            "token_endpoint_auth_method",
            f"token_endpoint_auth_method: '{method}' is not a valid token endpoint auth method",
        )
    if app_type == "browser" and method != "none":
        raise validation(
            "token_endpoint_auth_method",
            "token_endpoint_auth_method: Browser apps must use 'none' as their token endpoint auth method.",
        )
    if app_type == "service" and method == "none":
        raise validation(
            "token_endpoint_auth_method",
            "token_endpoint_auth_method: Service apps cannot be public clients.",
        )
    refresh = _refresh_settings(oc.get("refresh_token"), cur_settings.get("refresh_token"), app_type)
    claim = oc.get("groups_claim")
    if claim is not None:
        if not isinstance(claim, dict):
            raise validation("groups_claim", "groups_claim: The field must be an object")
        ftype = claim.get("filter_type", "REGEX")
        if ftype not in GROUPS_CLAIM_FILTERS:
            raise validation(
                "groups_claim", f"groups_claim.filter_type: '{ftype}' is not a valid filter type"
            )
        value = str(claim.get("value", ".*"))
        if ftype == "REGEX":
            try:
                re.compile(value)
            except re.error:
                raise validation(
                    "groups_claim", "groups_claim.value: The regular expression is invalid"
                ) from None
        claim = {"type": "FILTER", "name": claim.get("name", "groups"), "filter_type": ftype, "value": value}
    profile = body.get("profile")
    if profile is not None and not isinstance(profile, dict):
        raise validation("profile", "profile: The field must be an object")
    return {
        "label": label.strip(),
        "client_id": occ.get("client_id"),
        "client_secret": occ.get("client_secret"),
        "settings": {
            **cur_settings,
            "type": app_type,
            "redirect_uris": redirects,
            "post_logout_redirect_uris": _str_list(
                oc.get("post_logout_redirect_uris"), "post_logout_redirect_uris"
            ),
            "grant_types": grants,
            "response_types": responses,
            "consent_method": consent,
            "issuer_mode": oc.get("issuer_mode") or cur_settings.get("issuer_mode", "DYNAMIC"),
            "initiate_login_uri": oc.get("initiate_login_uri"),
            "client_uri": oc.get("client_uri"),
            "logo_uri": oc.get("logo_uri"),
            "token_endpoint_auth_method": method,
            "pkce_required": occ.get(
                "pkce_required", cur_settings.get("pkce_required", app_type in ("browser", "native"))
            ),
            "groups_claim": claim,
            "profile": profile,
            "refresh_token": refresh,
        },
    }


def refresh_settings_of(settings: dict[str, Any]) -> dict[str, Any]:
    """An OIDC app's refresh token behaviour: `rotation_type` ROTATE (a new refresh token at
    every use; the previous one stays good for `leeway` seconds) or STATIC. Okta's default is
    ROTATE for single-page (browser) apps and STATIC for every other client."""
    stored = settings.get("refresh_token")
    if isinstance(stored, dict) and stored.get("rotation_type") in ("ROTATE", "STATIC"):
        return {"rotation_type": stored["rotation_type"], "leeway": int(stored.get("leeway", 30))}
    return {"rotation_type": "ROTATE" if settings.get("type") == "browser" else "STATIC", "leeway": 30}


def _refresh_settings(raw: Any, current: Any, app_type: str) -> dict[str, Any]:
    """`settings.oauthClient.refresh_token` of a create or replace (E0000001 when malformed);
    left out, a replace keeps what the app had."""
    if raw is None:
        return refresh_settings_of({"refresh_token": current, "type": app_type})
    if not isinstance(raw, dict):
        raise validation("refresh_token", "refresh_token: The field must be an object")
    rotation = raw.get("rotation_type")
    if rotation not in ("ROTATE", "STATIC"):
        raise validation(
            "refresh_token", "refresh_token.rotation_type: The value must be one of ROTATE, STATIC"
        )
    leeway = raw.get("leeway", 30)
    if isinstance(leeway, bool) or not isinstance(leeway, int) or not 0 <= leeway <= 60:
        raise validation("refresh_token", "refresh_token.leeway: The value must be between 0 and 60")
    return {"rotation_type": rotation, "leeway": leeway}


def _secret(ctx: TwinContext) -> str:
    return ctx.ids.token("client-secret", length=64, alphabet=BASE62 + "-_")


def _client_id_taken(ctx: TwinContext, client_id: str, exclude: str | None = None) -> bool:
    row = ctx.conn.execute(
        select(_APP.c.id).where(_APP.c.tenant_id == ctx.tenant, _APP.c.client_id == client_id)
    ).first()
    return row is not None and row.id != exclude


def _url(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise validation(name, f"{name}: The field cannot be left blank")
    if not re.match(r"^https?://\S+$", value.strip()):
        raise validation(name, f"{name}: '{value}' is not a valid URL")
    return value.strip()


SAML_SIGNATURES = ("RSA_SHA256", "RSA_SHA1")
SAML_DIGESTS = ("SHA256", "SHA1")
NAME_ID_FORMATS = frozenset(
    {
        "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
        "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        "urn:oasis:names:tc:SAML:1.1:nameid-format:x509SubjectName",
        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
        "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
    }
)
OTHER_MODES = {"BOOKMARK": "bookmark", "BASIC_AUTH": "template_basic_auth", "SAML_2_0": None}


def _saml_sign_on(body: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """`settings.signOn` of a custom SAML 2.0 app: ACS URL and audience required, Okta's defaults
    for the rest (recipient and destination default to the ACS URL)."""
    given = {**current, **body}
    acs = _url(given.get("ssoAcsUrl"), "ssoAcsUrl")
    audience = given.get("audience")
    if not isinstance(audience, str) or not audience.strip():
        raise validation("audience", "audience: The field cannot be left blank")
    out = {
        "defaultRelayState": given.get("defaultRelayState") or "",
        "ssoAcsUrl": acs,
        "idpIssuer": given.get("idpIssuer") or "http://www.okta.com/${org.externalKey}",
        "audience": audience.strip(),
        "recipient": given.get("recipient") or acs,
        "destination": given.get("destination") or acs,
        "subjectNameIdTemplate": given.get("subjectNameIdTemplate") or "${user.userName}",
        "subjectNameIdFormat": given.get("subjectNameIdFormat")
        or "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
        "responseSigned": given.get("responseSigned", True),
        "assertionSigned": given.get("assertionSigned", True),
        "signatureAlgorithm": given.get("signatureAlgorithm") or "RSA_SHA256",
        "digestAlgorithm": given.get("digestAlgorithm") or "SHA256",
        "honorForceAuthn": given.get("honorForceAuthn", True),
        "authnContextClassRef": given.get("authnContextClassRef")
        or "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
        "spIssuer": given.get("spIssuer"),
        "requestCompressed": given.get("requestCompressed", False),
        "attributeStatements": given.get("attributeStatements") or [],
    }
    if out["signatureAlgorithm"] not in SAML_SIGNATURES:
        raise validation(
            "signatureAlgorithm", "signatureAlgorithm: The value must be RSA_SHA256 or RSA_SHA1."
        )
    if out["digestAlgorithm"] not in SAML_DIGESTS:
        raise validation("digestAlgorithm", "digestAlgorithm: The value must be SHA256 or SHA1.")
    if out["subjectNameIdFormat"] not in NAME_ID_FORMATS:
        raise validation(
            "subjectNameIdFormat", "subjectNameIdFormat: The value is not a valid name ID format."
        )
    for flag in ("responseSigned", "assertionSigned", "honorForceAuthn", "requestCompressed"):
        if not isinstance(out[flag], bool):
            raise validation(flag, f"{flag}: The value must be a boolean.")
    statements = out["attributeStatements"]
    if not isinstance(statements, list) or not all(
        isinstance(a, dict)
        and isinstance(a.get("name"), str)
        and a.get("type", "EXPRESSION") in ("EXPRESSION", "GROUP")
        for a in statements
    ):
        raise validation(
            "attributeStatements", "attributeStatements: Each statement needs a name and a type."
        )
    return out


def _parse_other(ctx: TwinContext, body: dict[str, Any], current: Any | None) -> dict[str, Any]:
    """Stored fields of a BOOKMARK, BASIC_AUTH or SAML_2_0 app."""
    mode = body.get("signOnMode") if current is None else current.sign_on_mode
    if current is not None and body.get("signOnMode") not in (None, mode):
        raise validation("signOnMode", "signOnMode: The sign-on mode cannot be changed")
    expected = OTHER_MODES[str(mode)]
    name = body.get("name")
    if current is None and name not in (None, expected) and not (expected is None and name is None):
        raise validation("name", f"name: No app named {name} is available to this org")
    if current is not None and name not in (None, current.name):
        raise validation("name", "name: The app name cannot be changed")
    label = body.get("label")
    if not isinstance(label, str) or not label.strip():
        raise validation("label", "label: The field cannot be left blank")
    if len(label) > 100:
        raise validation("label", "label: The field is too long")
    settings = _object(body.get("settings"))
    app = _object(settings.get("app"))
    cur = dict(current.settings or {}) if current is not None else {}
    out: dict[str, Any] = {k: v for k, v in cur.items() if k in ("signing_kid", "external_key")}
    if mode == "BOOKMARK":
        request = app.get("requestIntegration", False)
        if not isinstance(request, bool):
            raise validation("requestIntegration", "requestIntegration: The value must be a boolean.")
        out["app"] = {"requestIntegration": request, "url": _url(app.get("url"), "url")}
    elif mode == "BASIC_AUTH":
        out["app"] = {"url": _url(app.get("url"), "url"), "authURL": _url(app.get("authURL"), "authURL")}
    else:
        out["app"] = {k: v for k, v in app.items() if isinstance(k, str)}
        out["signOn"] = _saml_sign_on(_object(settings.get("signOn")), {})
    return {"label": label.strip(), "settings": out, "mode": mode}


def _saml_name(ctx: TwinContext, label: str) -> str:
    """A custom SAML app's name: `<org subdomain>_<label>_<n>` (Okta names them so)."""
    from twins.okta.service.app_credentials import _subdomain

    slug = re.sub(r"[^a-z0-9]+", "", label.lower())[:40] or "app"
    prefix = f"{_subdomain(ctx)}_{slug}_"
    taken = set(
        ctx.conn.execute(
            select(_APP.c.name).where(_APP.c.tenant_id == ctx.tenant, _APP.c.name.like(prefix + "%"))
        ).scalars()
    )
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


def _create_other(ctx: TwinContext, body: dict[str, Any], activate: bool) -> dict[str, Any]:
    from twins.okta.service import app_credentials

    fields = _parse_other(ctx, body, None)
    mode = fields["mode"]
    now = ctx.now()
    app_id = okta_id(ctx, "0oa", "app")
    settings = fields["settings"]
    name = OTHER_MODES[mode] or _saml_name(ctx, fields["label"])
    if mode == "SAML_2_0":
        settings["external_key"] = okta_id(ctx, "exk", "app-external-key")
        settings["signing_kid"] = app_credentials.create_key(ctx, app_id)
    ctx.conn.execute(
        _APP.insert().values(
            tenant_id=ctx.tenant,
            id=app_id,
            name=name,
            label=fields["label"],
            status="ACTIVE" if activate else "INACTIVE",
            sign_on_mode=mode,
            client_id=None,
            client_secret=None,
            settings=settings,
            created=now,
            last_updated=now,
            seq=ctx.ids.next("app-seq"),
            written_at=now,
        )
    )
    row = find(ctx, app_id)
    syslog.emit(ctx, "application.lifecycle.create", targets=[_app_ref(row)], display="Add application")
    if activate:
        syslog.emit(
            ctx, "application.lifecycle.activate", targets=[_app_ref(row)], display="Activate application"
        )
    return render(ctx, row)


def create_app(ctx: TwinContext, *, body: dict[str, Any], activate: bool) -> dict[str, Any]:
    """POST /api/v1/apps: an OIDC, bookmark, basic auth or custom SAML 2.0 app, ACTIVE unless
    `activate=false`."""
    if body.get("signOnMode") in OTHER_MODES:
        return _create_other(ctx, body, activate)
    fields = _parse(ctx, body, None)
    now = ctx.now()
    app_id = okta_id(ctx, "0oa", "app")
    client_id = fields["client_id"] or app_id
    if not isinstance(client_id, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]{1,100}", client_id):
        raise validation("client_id", "client_id: The client_id is invalid")
    if _client_id_taken(ctx, client_id):
        raise validation(
            "client_id", "client_id: An object with this field already exists in the current organization"
        )
    method = fields["settings"]["token_endpoint_auth_method"]
    secret = None
    if method in ("client_secret_basic", "client_secret_post", "client_secret_jwt"):
        secret = fields["client_secret"] or _secret(ctx)
    ctx.conn.execute(
        _APP.insert().values(
            tenant_id=ctx.tenant,
            id=app_id,
            name="oidc_client",
            label=fields["label"],
            status="ACTIVE" if activate else "INACTIVE",
            sign_on_mode="OPENID_CONNECT",
            client_id=client_id,
            client_secret=secret,
            settings=fields["settings"],
            created=now,
            last_updated=now,
            seq=ctx.ids.next("app-seq"),
            written_at=now,
        )
    )
    row = find(ctx, app_id)
    syslog.emit(ctx, "application.lifecycle.create", targets=[_app_ref(row)], display="Add application")
    if activate:
        syslog.emit(
            ctx, "application.lifecycle.activate", targets=[_app_ref(row)], display="Activate application"
        )
    return render(ctx, row)


def replace_app(ctx: TwinContext, *, app_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """PUT /api/v1/apps/{appId}: a full replace; the client id stays, a given secret replaces it."""
    from twins.okta.service import app_credentials

    row = find(ctx, app_id)
    if row.sign_on_mode != "OPENID_CONNECT":
        other = _parse_other(ctx, body, row)
        now = ctx.now()
        ctx.conn.execute(
            update(_APP)
            .where(_APP.c.tenant_id == ctx.tenant, _APP.c.id == row.id)
            .values(label=other["label"], settings=other["settings"], last_updated=now, written_at=now)
        )
        row = find(ctx, app_id)
        syslog.emit(
            ctx, "application.lifecycle.update", targets=[_app_ref(row)], display="Update application"
        )
        return render(ctx, row)
    fields = _parse(ctx, body, row)
    if fields["client_id"] not in (None, row.client_id):
        raise validation("client_id", "client_id: The client_id cannot be changed")
    method = fields["settings"]["token_endpoint_auth_method"]
    secret = row.client_secret
    if method in ("client_secret_basic", "client_secret_post", "client_secret_jwt"):
        secret = fields["client_secret"] or secret or _secret(ctx)
    else:
        secret = None
    app_credentials.replaced(ctx, row, secret)
    now = ctx.now()
    ctx.conn.execute(
        update(_APP)
        .where(_APP.c.tenant_id == ctx.tenant, _APP.c.id == row.id)
        .values(
            label=fields["label"],
            client_secret=secret,
            settings=fields["settings"],
            last_updated=now,
            written_at=now,
        )
    )
    row = find(ctx, app_id)
    syslog.emit(ctx, "application.lifecycle.update", targets=[_app_ref(row)], display="Update application")
    return render(ctx, row)


def set_status(ctx: TwinContext, *, app_id: str, active: bool) -> None:
    """POST /api/v1/apps/{appId}/lifecycle/activate|deactivate (idempotent, as in Okta)."""
    row = find(ctx, app_id)
    status = "ACTIVE" if active else "INACTIVE"
    if row.status == status:
        return
    now = ctx.now()
    ctx.conn.execute(
        update(_APP)
        .where(_APP.c.tenant_id == ctx.tenant, _APP.c.id == row.id)
        .values(status=status, last_updated=now, written_at=now)
    )
    syslog.emit(
        ctx,
        "application.lifecycle.activate" if active else "application.lifecycle.deactivate",
        targets=[_app_ref(row)],
        display="Activate application" if active else "Deactivate application",
    )


def delete_app(ctx: TwinContext, *, app_id: str) -> None:
    """DELETE /api/v1/apps/{appId}: only INACTIVE apps (E0000056); assignments go with it."""
    row = find(ctx, app_id)
    if row.status != "INACTIVE":
        raise AppDeleteForbidden(causes=["Cannot delete an active application"])
    t = ctx.tenant
    ctx.conn.execute(delete(_APP_USER).where(_APP_USER.c.tenant_id == t, _APP_USER.c.app_id == row.id))
    ctx.conn.execute(delete(_APP_GROUP).where(_APP_GROUP.c.tenant_id == t, _APP_GROUP.c.app_id == row.id))
    ctx.conn.execute(delete(_APP).where(_APP.c.tenant_id == t, _APP.c.id == row.id))
    from twins.okta.service import app_credentials

    app_credentials.drop(ctx, row.id)
    syslog.emit(ctx, "application.lifecycle.delete", targets=[_app_ref(row)], display="Delete application")


def _expand_user(expand: str | None, node: query.Node | None) -> str | None:
    """`expand=user/{userId}`, which Okta takes only beside `filter=user.id eq "{userId}"`."""
    if not expand:
        return None
    user_id = expand[5:] if expand.startswith("user/") else ""
    wanted = query.Compare("user.id", "eq", user_id, "string")

    def has(n: query.Node | None) -> bool:
        if isinstance(n, query.Compare):
            return n.path == "user.id" and n.op == "eq" and str(n.value).lower() == user_id.lower()
        if isinstance(n, query.BoolOp):
            return n.op == "and" and (has(n.left) or has(n.right))
        return False

    if not user_id or not has(node):
        raise validation(
            "expand",
            f"expand: '{expand}' is supported only as user/{{userId}} with the filter {wanted.path} eq "
            '"{userId}" for the same user.',
        )
    return user_id


def list_apps(
    ctx: TwinContext,
    *,
    q: str | None,
    filter_: str | None,
    limit: int,
    after: str | None,
    expand: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """GET /api/v1/apps: `q` (label or name prefix), `filter` (status, name, id, user.id,
    group.id, credentials.signing.kid), `expand=user/{userId}` (`_embedded.user`: that user's
    app assignment, with `filter=user.id eq "{userId}"`)."""
    matcher: Callable[[Any, dict[str, Any]], bool] | None = None
    node = query.parse(filter_, query.APP_FILTER) if filter_ else None
    expand_user = _expand_user(expand, node)
    if node is not None:

        def matcher(row: Any, rec: dict[str, Any]) -> bool:
            def get(path: str) -> Any:
                if path == "user.id":
                    return list(assigned_user_ids(ctx, row.id))
                if path == "group.id":
                    return _group_ids(ctx, row.id)
                return query.getter(rec)(path)

            return query.matches(node, get)

    needle = q.lower() if q else None
    filters = {"q": q, "filter": filter_, "expand": expand}
    key = decode_after(after, filters)
    stmt = select(_APP).where(_APP.c.tenant_id == ctx.tenant)
    vb = ctx.visible_before()
    if vb is not None:
        stmt = stmt.where(_APP.c.written_at <= vb)
    if key is not None:
        stmt = stmt.where(_APP.c.seq > int(key[0]))
    items: list[tuple[int, dict[str, Any]]] = []
    for row in ctx.conn.execute(stmt.order_by(_APP.c.seq)):
        if needle and not (row.label.lower().startswith(needle) or row.name.lower().startswith(needle)):
            continue
        rec = render(ctx, row)
        if matcher is None or matcher(row, rec):
            items.append((row.seq, rec))
        if len(items) > limit:
            break
    page = items[:limit]
    if expand_user is not None:
        for _, rec in page:
            app = find(ctx, rec["id"])
            scope = assigned_user_ids(ctx, app.id).get(expand_user)
            if scope is not None:
                link = _app_user_link(ctx, app.id, expand_user)
                rec["_embedded"] = {"user": _render_app_user(ctx, app, _user(ctx, expand_user), scope, link)}
    return [r for _, r in page], encode_after([page[-1][0]], filters) if len(items) > limit else None


# -- assignments ----------------------------------------------------------------------------------


def _group_ids(ctx: TwinContext, app_id: str) -> list[str]:
    return list(
        ctx.conn.execute(
            select(_APP_GROUP.c.group_id)
            .where(_APP_GROUP.c.tenant_id == ctx.tenant, _APP_GROUP.c.app_id == app_id)
            .order_by(_APP_GROUP.c.seq)
        ).scalars()
    )


def assigned_user_ids(ctx: TwinContext, app_id: str) -> dict[str, str]:
    """{user id: scope} of everyone assigned to the app: directly (USER) or via a group (GROUP)."""
    out: dict[str, str] = {}
    for uid in ctx.conn.execute(
        select(_APP_USER.c.user_id)
        .where(_APP_USER.c.tenant_id == ctx.tenant, _APP_USER.c.app_id == app_id)
        .order_by(_APP_USER.c.seq)
    ).scalars():
        out[uid] = "USER"
    gids = _group_ids(ctx, app_id)
    if gids:
        for uid in ctx.conn.execute(
            select(_MEMBER.c.user_id)
            .where(_MEMBER.c.tenant_id == ctx.tenant, _MEMBER.c.group_id.in_(gids))
            .order_by(_MEMBER.c.seq)
        ).scalars():
            out.setdefault(uid, "GROUP")
    return out


def is_assigned(ctx: TwinContext, app_id: str, user_id: str) -> bool:
    """Whether the user may sign in to the app (direct or group assignment)."""
    direct = ctx.conn.execute(
        select(_APP_USER.c.user_id).where(
            _APP_USER.c.tenant_id == ctx.tenant, _APP_USER.c.app_id == app_id, _APP_USER.c.user_id == user_id
        )
    ).first()
    if direct is not None:
        return True
    gids = _group_ids(ctx, app_id)
    return bool(gids) and set(gids) & set(groups.user_group_ids(ctx, user_id)) != set()


def _user(ctx: TwinContext, user_id: str) -> Any:
    row = ctx.conn.execute(
        select(_USER).where(_USER.c.tenant_id == ctx.tenant, _USER.c.id == user_id)
    ).first()
    if row is None:
        raise not_found(user_id, "User")
    return row


def _render_app_user(ctx: TwinContext, app: Any, user: Any, scope: str, link: Any | None) -> dict[str, Any]:
    created = link.created if link is not None else user.created
    return {
        "id": user.id,
        "externalId": None,
        "created": iso(created),
        "lastUpdated": iso(link.created if link is not None else user.last_updated),
        "scope": scope,
        "status": "ACTIVE" if user.status != "DEPROVISIONED" else "INACTIVE",
        "statusChanged": iso(created),
        "passwordChanged": None,
        "syncState": "DISABLED",
        "credentials": {
            "userName": (link.profile or {}).get("__userName")
            if link is not None and (link.profile or {}).get("__userName")
            else (user.profile or {}).get("login")
        },
        "profile": {
            k: v
            for k, v in ((link.profile if link is not None else None) or {}).items()
            if not k.startswith("__")
        },
        "_links": {
            "app": href(ctx, f"/api/v1/apps/{app.id}"),
            "user": href(ctx, f"/api/v1/users/{user.id}"),
        },
    }


def _app_user_link(ctx: TwinContext, app_id: str, user_id: str) -> Any:
    return ctx.conn.execute(
        select(_APP_USER).where(
            _APP_USER.c.tenant_id == ctx.tenant, _APP_USER.c.app_id == app_id, _APP_USER.c.user_id == user_id
        )
    ).first()


def assign_user(ctx: TwinContext, *, app_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v1/apps/{appId}/users: assign a user (with an app profile); again = update."""
    app = find(ctx, app_id)
    uid = body.get("id")
    if not isinstance(uid, str) or not uid:
        raise validation("id", "id: The field cannot be left blank")
    user = _user(ctx, uid)
    profile = body.get("profile") or {}
    if not isinstance(profile, dict):
        raise validation("profile", "profile: The field must be an object")
    creds = _object(body.get("credentials"))
    stored = dict(profile)
    if isinstance(creds.get("userName"), str) and creds["userName"]:
        stored["__userName"] = creds["userName"]
    link = _app_user_link(ctx, app.id, user.id)
    if link is None:
        ctx.conn.execute(
            _APP_USER.insert().values(
                tenant_id=ctx.tenant,
                app_id=app.id,
                user_id=user.id,
                scope="USER",
                profile=stored,
                created=ctx.now(),
                seq=ctx.ids.next("app-user-seq"),
            )
        )
        syslog.emit(
            ctx,
            "application.user_membership.add",
            targets=[syslog.user_ref(user), _app_ref(app)],
            display="Add user to application membership",
        )
    else:
        ctx.conn.execute(
            update(_APP_USER)
            .where(
                _APP_USER.c.tenant_id == ctx.tenant,
                _APP_USER.c.app_id == app.id,
                _APP_USER.c.user_id == user.id,
            )
            .values(profile={**(link.profile or {}), **stored})
        )
        syslog.emit(
            ctx,
            "application.user_membership.update",
            targets=[syslog.user_ref(user), _app_ref(app)],
            display="Update user's application membership",
        )
    return _render_app_user(ctx, app, user, "USER", _app_user_link(ctx, app.id, user.id))


def update_app_user(ctx: TwinContext, *, app_id: str, user_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v1/apps/{appId}/users/{userId}: merge the app profile / userName."""
    app = find(ctx, app_id)
    user = _user(ctx, user_id)
    link = _app_user_link(ctx, app.id, user.id)
    if link is None:
        raise not_found(user_id, "AppUser")
    return assign_user(ctx, app_id=app_id, body={**body, "id": user.id})


def get_app_user(ctx: TwinContext, *, app_id: str, user_id: str) -> dict[str, Any]:
    """GET /api/v1/apps/{appId}/users/{userId}: direct or group assignment."""
    app = find(ctx, app_id)
    scope = assigned_user_ids(ctx, app.id).get(user_id)
    if scope is None:
        raise not_found(user_id, "AppUser")
    return _render_app_user(ctx, app, _user(ctx, user_id), scope, _app_user_link(ctx, app.id, user_id))


def unassign_user(ctx: TwinContext, *, app_id: str, user_id: str) -> None:
    """DELETE /api/v1/apps/{appId}/users/{userId}: a direct assignment only."""
    app = find(ctx, app_id)
    link = _app_user_link(ctx, app.id, user_id)
    if link is None:
        if user_id in assigned_user_ids(ctx, app.id):
            raise OktaError(
                "Api validation failed: userId",
                causes=["Users assigned to an application through a group cannot be unassigned directly."],
            )
        raise not_found(user_id, "AppUser")
    ctx.conn.execute(
        delete(_APP_USER).where(
            _APP_USER.c.tenant_id == ctx.tenant, _APP_USER.c.app_id == app.id, _APP_USER.c.user_id == user_id
        )
    )
    user = _user(ctx, user_id)
    syslog.emit(
        ctx,
        "application.user_membership.remove",
        targets=[syslog.user_ref(user), _app_ref(app)],
        display="Remove user from application membership",
    )


def list_app_users(
    ctx: TwinContext, *, app_id: str, q: str | None, limit: int, after: str | None, expand_user: bool
) -> tuple[list[dict[str, Any]], str | None]:
    """GET /api/v1/apps/{appId}/users: direct and group assignments, `q` on names and emails."""
    from twins.okta.service import users

    app = find(ctx, app_id)
    filters = {"app": app.id, "q": q}
    key = decode_after(after, filters)
    assigned = assigned_user_ids(ctx, app.id)
    rows = (
        ctx.conn.execute(
            select(_USER)
            .where(_USER.c.tenant_id == ctx.tenant, _USER.c.id.in_(list(assigned)))
            .order_by(_USER.c.seq)
        ).all()
        if assigned
        else []
    )
    needle = (q or "").lower()
    out: list[tuple[int, dict[str, Any]]] = []
    for row in rows:
        if key is not None and row.seq <= int(key[0]):
            continue
        p = row.profile or {}
        if needle and not any(str(p.get(f) or "").lower().startswith(needle) for f in ("login", "email")):
            continue
        rec = _render_app_user(ctx, app, row, assigned[row.id], _app_user_link(ctx, app.id, row.id))
        if expand_user:
            rec["_embedded"] = {"user": users.render(ctx, row)}
        out.append((row.seq, rec))
        if len(out) > limit:
            break
    page = out[:limit]
    return [r for _, r in page], encode_after([page[-1][0]], filters) if len(out) > limit else None


def _render_group_assignment(ctx: TwinContext, app: Any, row: Any) -> dict[str, Any]:
    return {
        "id": row.group_id,
        "lastUpdated": iso(row.created),
        "priority": row.priority,
        "profile": {},
        "_links": {
            "app": href(ctx, f"/api/v1/apps/{app.id}"),
            "group": href(ctx, f"/api/v1/groups/{row.group_id}"),
        },
    }


def _group_link(ctx: TwinContext, app_id: str, group_id: str) -> Any:
    return ctx.conn.execute(
        select(_APP_GROUP).where(
            _APP_GROUP.c.tenant_id == ctx.tenant,
            _APP_GROUP.c.app_id == app_id,
            _APP_GROUP.c.group_id == group_id,
        )
    ).first()


def assign_group(ctx: TwinContext, *, app_id: str, group_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """PUT /api/v1/apps/{appId}/groups/{groupId}: assign (or re-prioritise) a group."""
    app = find(ctx, app_id)
    group = groups.find(ctx, group_id)
    priority = body.get("priority")
    if priority is not None and (not isinstance(priority, int) or isinstance(priority, bool) or priority < 0):
        raise validation("priority", "priority: The value must be a non-negative integer")
    link = _group_link(ctx, app.id, group.id)
    if link is None:
        ctx.conn.execute(
            _APP_GROUP.insert().values(
                tenant_id=ctx.tenant,
                app_id=app.id,
                group_id=group.id,
                priority=priority if priority is not None else len(_group_ids(ctx, app.id)),
                created=ctx.now(),
                seq=ctx.ids.next("app-group-seq"),
            )
        )
        syslog.emit(
            ctx,
            "group.application_assignment.add",
            targets=[
                _app_ref(app),
                syslog.ref(group.id, "UserGroup", group.profile.get("name"), group.profile.get("name")),
            ],
            display="Add assigned application to group",
        )
    elif priority is not None:
        ctx.conn.execute(
            update(_APP_GROUP)
            .where(
                _APP_GROUP.c.tenant_id == ctx.tenant,
                _APP_GROUP.c.app_id == app.id,
                _APP_GROUP.c.group_id == group.id,
            )
            .values(priority=priority)
        )
    return _render_group_assignment(ctx, app, _group_link(ctx, app.id, group.id))


def get_group_assignment(ctx: TwinContext, *, app_id: str, group_id: str) -> dict[str, Any]:
    app = find(ctx, app_id)
    link = _group_link(ctx, app.id, group_id)
    if link is None:
        raise not_found(group_id, "ApplicationGroupAssignment")
    return _render_group_assignment(ctx, app, link)


def unassign_group(ctx: TwinContext, *, app_id: str, group_id: str) -> None:
    """DELETE /api/v1/apps/{appId}/groups/{groupId}."""
    app = find(ctx, app_id)
    link = _group_link(ctx, app.id, group_id)
    if link is None:
        raise not_found(group_id, "ApplicationGroupAssignment")
    ctx.conn.execute(
        delete(_APP_GROUP).where(
            _APP_GROUP.c.tenant_id == ctx.tenant,
            _APP_GROUP.c.app_id == app.id,
            _APP_GROUP.c.group_id == group_id,
        )
    )
    group = groups.find(ctx, group_id)
    syslog.emit(
        ctx,
        "group.application_assignment.remove",
        targets=[
            _app_ref(app),
            syslog.ref(group.id, "UserGroup", group.profile.get("name"), group.profile.get("name")),
        ],
        display="Remove assigned application from group",
    )


def list_group_assignments(
    ctx: TwinContext, *, app_id: str, q: str | None, limit: int, after: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """GET /api/v1/apps/{appId}/groups: in assignment order; `q` on the group name."""
    app = find(ctx, app_id)
    filters = {"app": app.id, "q": q}
    key = decode_after(after, filters)
    stmt = (
        select(_APP_GROUP, _GROUP.c.profile)
        .select_from(_APP_GROUP)
        .join(_GROUP, (_GROUP.c.tenant_id == _APP_GROUP.c.tenant_id) & (_GROUP.c.id == _APP_GROUP.c.group_id))
        .where(_APP_GROUP.c.tenant_id == ctx.tenant, _APP_GROUP.c.app_id == app.id)
    )
    if key is not None:
        stmt = stmt.where(_APP_GROUP.c.seq > int(key[0]))
    needle = (q or "").lower()
    out: list[Any] = []
    for row in ctx.conn.execute(stmt.order_by(_APP_GROUP.c.seq)):
        if needle and not str((row.profile or {}).get("name", "")).lower().startswith(needle):
            continue
        out.append(row)
        if len(out) > limit:
            break
    page = out[:limit]
    nxt = encode_after([page[-1].seq], filters) if len(out) > limit else None
    return [_render_group_assignment(ctx, app, r) for r in page], nxt


def list_group_apps(ctx: TwinContext, *, group_id: str) -> list[dict[str, Any]]:
    """GET /api/v1/groups/{groupId}/apps: the apps the group is assigned to."""
    groups.find(ctx, group_id)
    rows = ctx.conn.execute(
        select(_APP)
        .select_from(_APP_GROUP)
        .join(_APP, (_APP.c.tenant_id == _APP_GROUP.c.tenant_id) & (_APP.c.id == _APP_GROUP.c.app_id))
        .where(_APP_GROUP.c.tenant_id == ctx.tenant, _APP_GROUP.c.group_id == group_id)
        .order_by(_APP.c.seq)
    ).all()
    return [render(ctx, r) for r in rows]
