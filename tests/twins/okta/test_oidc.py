"""The OIDC authorization servers, driven by authlib (the relying party) and checked with PyJWT."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlparse

import httpx
import jwt
import pytest
from authlib.integrations.requests_client import OAuth2Session as OAuth2Client
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from dtu.testing.plugin import Tenant

REDIRECT = "http://localhost:8765/callback"


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action") or ""
        if tag == "input" and a.get("name"):
            self.fields[str(a["name"])] = a.get("value") or ""


def _discovery(t: Tenant, server: str = "default") -> dict[str, Any]:
    path = (
        "/.well-known/openid-configuration"
        if server == "org"
        else f"/oauth2/{server}/.well-known/openid-configuration"
    )
    return httpx.get(t.url + path, params={"client_id": t.client_id}).json()


def _login(
    t: Tenant,
    meta: dict[str, Any],
    scope: str = "openid profile email offline_access",
    username: str = "alice@example.com",
    password: str = "Dtu-Passw0rd!",
    browser: httpx.Client | None = None,
    **extra: Any,
) -> tuple[OAuth2Client, dict[str, Any], str, str]:
    """Run the authorization-code + PKCE login like a browser: follow redirects, fill in the
    login page, stop at the app's redirect URI. Returns (client, state data, callback URL, verifier)."""
    client = OAuth2Client(
        t.client_id, t.client_secret, scope=scope, redirect_uri=REDIRECT, code_challenge_method="S256"
    )
    verifier = "v" * 20 + "-dtu-pkce-verifier-" + "x" * 30
    nonce = "n-0S6_WzA2Mj"
    url, state = client.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **extra
    )
    own = browser is None
    browser = browser or httpx.Client()
    try:
        resp = browser.get(url)
        hops = 0
        while True:
            hops += 1
            assert hops < 10
            if resp.status_code == 302:
                location = urljoin(str(resp.url), resp.headers["location"])
                if location.startswith(REDIRECT):
                    return client, {"state": state, "nonce": nonce}, location, verifier
                resp = browser.get(location)
                continue
            assert resp.status_code in (200, 401), resp.text
            form = _Form()
            form.feed(resp.text)
            assert form.action, resp.text
            data = {**form.fields, "username": username, "password": password}
            resp = browser.post(urljoin(str(resp.url), form.action), data=data)
            if resp.status_code == 401:
                raise AssertionError("login refused: " + re.sub(r"<[^>]+>", " ", resp.text))
    finally:
        if own:
            browser.close()


def _tokens(t: Tenant, meta: dict[str, Any], **kw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    client, data, callback, verifier = _login(t, meta, **kw)
    token = client.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    return dict(token), data


def _verify_id_token(meta: dict[str, Any], token: dict[str, Any], t: Tenant, nonce: str) -> dict[str, Any]:
    """Verify the ID token's signature with the twin's JWKS, then its claims as an OIDC RP must."""
    keyset = KeySet.import_key_set(httpx.get(meta["jwks_uri"]).json())
    decoded = jose_jwt.decode(token["id_token"], keyset, algorithms=["RS256"])
    registry = jose_jwt.JWTClaimsRegistry(
        leeway=120,
        iss={"essential": True, "value": meta["issuer"]},
        aud={"essential": True, "value": t.client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
        iat={"essential": True},
    )
    registry.validate(decoded.claims)
    import base64
    import hashlib

    at_hash = base64.urlsafe_b64encode(hashlib.sha256(token["access_token"].encode()).digest()[:16]).rstrip(
        b"="
    )
    assert decoded.claims["at_hash"] == at_hash.decode()
    return dict(decoded.claims)


def test_discovery_documents(okta_tenant: Tenant) -> None:
    meta = _discovery(okta_tenant)
    assert meta["issuer"] == okta_tenant.url + "/oauth2/default"
    assert meta["jwks_uri"].startswith(okta_tenant.url + "/oauth2/default/v1/keys")
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
    org = _discovery(okta_tenant, "org")
    assert org["issuer"] == okta_tenant.url and org["token_endpoint"] == okta_tenant.url + "/oauth2/v1/token"


def test_unknown_authorization_server_is_404(okta_tenant: Tenant) -> None:
    r = httpx.get(okta_tenant.url + "/oauth2/ausnope/.well-known/openid-configuration")
    assert r.status_code == 404 and r.json()["errorCode"] == "E0000007"


def test_authorization_code_pkce_login_and_id_token(okta_tenant: Tenant) -> None:
    meta = _discovery(okta_tenant)
    token, data = _tokens(okta_tenant, meta)
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600
    assert set(token["scope"].split()) == {"openid", "profile", "email", "offline_access"}
    claims = _verify_id_token(meta, token, okta_tenant, data["nonce"])
    assert claims["sub"].startswith("00u") and claims["email"] == "alice@example.com"
    assert claims["aud"] == okta_tenant.client_id and claims["ver"] == 1 and claims["amr"] == ["pwd"]
    assert claims["jti"].startswith("ID.") and "auth_time" in claims


def test_access_token_verifies_with_pyjwt(okta_tenant: Tenant) -> None:
    meta = _discovery(okta_tenant)
    token, _ = _tokens(okta_tenant, meta)
    signing_key = jwt.PyJWKClient(meta["jwks_uri"]).get_signing_key_from_jwt(token["access_token"])
    claims = jwt.decode(
        token["access_token"],
        signing_key.key,
        algorithms=["RS256"],
        audience="api://default",
        issuer=meta["issuer"],
    )
    assert claims["cid"] == okta_tenant.client_id and claims["sub"] == "alice@example.com"
    assert claims["uid"].startswith("00u") and "openid" in claims["scp"] and claims["jti"].startswith("AT.")


def test_userinfo(okta_tenant: Tenant) -> None:
    meta = _discovery(okta_tenant)
    token, _ = _tokens(okta_tenant, meta)
    r = httpx.get(meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {token['access_token']}"})
    assert r.status_code == 200 and r.json()["preferred_username"] == "alice@example.com"
    bad = httpx.get(meta["userinfo_endpoint"], headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_token"
    assert "WWW-Authenticate" in bad.headers


def test_replayed_code_is_invalid_grant(okta_tenant: Tenant) -> None:
    meta = _discovery(okta_tenant)
    client, _, callback, verifier = _login(okta_tenant, meta)
    client.fetch_token(meta["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    code = parse_qs(urlparse(callback).query)["code"][0]
    r = httpx.post(
        meta["token_endpoint"],
        auth=(okta_tenant.client_id, okta_tenant.client_secret),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_bad_pkce_verifier_is_invalid_grant(okta_tenant: Tenant) -> None:
    meta = _discovery(okta_tenant)
    _, _, callback, _ = _login(okta_tenant, meta)
    code = parse_qs(urlparse(callback).query)["code"][0]
    r = httpx.post(
        meta["token_endpoint"],
        auth=(okta_tenant.client_id, okta_tenant.client_secret),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": "w" * 50,
        },
    )
    assert r.status_code == 400 and r.json() == {
        "error": "invalid_grant",
        "error_description": "PKCE verification failed.",
    }


def test_expired_code(okta_tenant: Tenant) -> None:
    meta = _discovery(okta_tenant)
    _, _, callback, verifier = _login(okta_tenant, meta)
    okta_tenant.twin.clock(tenant=okta_tenant.tenant, advance_s=301)
    code = parse_qs(urlparse(callback).query)["code"][0]
    r = httpx.post(
        meta["token_endpoint"],
        auth=(okta_tenant.client_id, okta_tenant.client_secret),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_wrong_password_shows_login_page_again(okta_tenant: Tenant) -> None:
    with pytest.raises(AssertionError, match="Unable to sign in"):
        _login(okta_tenant, _discovery(okta_tenant), password="wrong-Passw0rd")


def test_prompt_none_without_session_is_login_required(okta_tenant: Tenant) -> None:
    meta = _discovery(okta_tenant)
    client = OAuth2Client(
        okta_tenant.client_id, okta_tenant.client_secret, scope="openid", redirect_uri=REDIRECT
    )
    url, state = client.create_authorization_url(meta["authorization_endpoint"], prompt="none", nonce="n")
    r = httpx.get(url)
    assert r.status_code == 302
    q = parse_qs(urlparse(r.headers["location"]).query)
    assert q["error"] == ["login_required"] and q["state"] == [state]


def test_prompt_none_with_session_skips_login(okta_tenant: Tenant) -> None:
    meta = _discovery(okta_tenant)
    with httpx.Client() as browser:
        _login(okta_tenant, meta, browser=browser)
        client = OAuth2Client(
            okta_tenant.client_id, okta_tenant.client_secret, scope="openid", redirect_uri=REDIRECT
        )
        url, _ = client.create_authorization_url(meta["authorization_endpoint"], prompt="none", nonce="n")
        r = browser.get(url)
        assert r.status_code == 302 and "code=" in r.headers["location"]


def test_unregistered_redirect_uri_is_refused(okta_tenant: Tenant) -> None:
    meta = _discovery(okta_tenant)
    r = httpx.get(
        meta["authorization_endpoint"],
        params={
            "client_id": okta_tenant.client_id,
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": "http://evil/cb",
            "state": "s",
        },
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


def test_refresh_token_rotation(okta_tenant: Tenant) -> None:
    meta = _discovery(okta_tenant)
    token, _ = _tokens(okta_tenant, meta)
    auth = (okta_tenant.client_id, okta_tenant.client_secret)
    first = httpx.post(
        meta["token_endpoint"],
        auth=auth,
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
    )
    assert first.status_code == 200 and first.json()["refresh_token"] != token["refresh_token"]
    # The spent token stays good for the app's leeway (30 s), for a client that lost the answer.
    retry = httpx.post(
        meta["token_endpoint"],
        auth=auth,
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
    )
    assert retry.status_code == 200
    okta_tenant.twin.clock(tenant=okta_tenant.tenant, advance_s=31)
    again = httpx.post(
        meta["token_endpoint"],
        auth=auth,
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_introspect_and_revoke(okta_tenant: Tenant) -> None:
    meta = _discovery(okta_tenant)
    token, _ = _tokens(okta_tenant, meta)
    auth = (okta_tenant.client_id, okta_tenant.client_secret)
    live = httpx.post(meta["introspection_endpoint"], auth=auth, data={"token": token["access_token"]}).json()
    assert (
        live["active"] is True
        and live["username"] == "alice@example.com"
        and live["client_id"] == okta_tenant.client_id
    )
    assert (
        httpx.post(meta["revocation_endpoint"], auth=auth, data={"token": token["access_token"]}).status_code
        == 200
    )
    assert httpx.post(
        meta["introspection_endpoint"], auth=auth, data={"token": token["access_token"]}
    ).json() == {"active": False}


def test_access_token_expires_on_twin_clock(okta_tenant: Tenant) -> None:
    meta = _discovery(okta_tenant)
    token, _ = _tokens(okta_tenant, meta)
    okta_tenant.twin.clock(tenant=okta_tenant.tenant, advance_s=3601)
    auth = (okta_tenant.client_id, okta_tenant.client_secret)
    assert httpx.post(
        meta["introspection_endpoint"], auth=auth, data={"token": token["access_token"]}
    ).json() == {"active": False}


def test_wrong_client_secret_is_invalid_client(okta_tenant: Tenant) -> None:
    meta = _discovery(okta_tenant)
    r = httpx.post(
        meta["token_endpoint"],
        auth=(okta_tenant.client_id, "nope"),
        data={"grant_type": "client_credentials", "scope": "dtu.read"},
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_grant_not_allowed_for_app(okta_tenant: Tenant) -> None:
    meta = _discovery(okta_tenant)
    r = httpx.post(
        meta["token_endpoint"],
        auth=(okta_tenant.client_id, okta_tenant.client_secret),
        data={
            "grant_type": "password",
            "username": "alice@example.com",
            "password": "Dtu-Passw0rd!",
            "scope": "openid",
        },
    )
    assert r.status_code == 400 and r.json()["error"] == "unauthorized_client"
    bogus = httpx.post(
        meta["token_endpoint"],
        auth=(okta_tenant.client_id, okta_tenant.client_secret),
        data={"grant_type": "magic"},
    )
    assert bogus.status_code == 400 and bogus.json()["error"] == "unsupported_grant_type"


def test_client_credentials_custom_scope(okta_tenant: Tenant) -> None:
    okta_tenant.twin.control(
        "POST",
        "/seed",
        params={"tenant": okta_tenant.tenant},
        json={
            "apps": [
                {
                    "id": "0oaworker00000000001",
                    "label": "Worker",
                    "type": "service",
                    "client_id": "worker-" + okta_tenant.tenant,
                    "client_secret": "worker-secret",
                    "grant_types": ["client_credentials"],
                }
            ]
        },
    )
    meta = _discovery(okta_tenant)
    client = OAuth2Client("worker-" + okta_tenant.tenant, "worker-secret", scope="dtu.read")
    token = client.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    claims = jwt.decode(
        token["access_token"],
        jwt.PyJWKClient(meta["jwks_uri"]).get_signing_key_from_jwt(token["access_token"]).key,
        algorithms=["RS256"],
        audience="api://default",
    )
    assert (
        claims["scp"] == ["dtu.read"]
        and claims["sub"] == "worker-" + okta_tenant.tenant
        and "uid" not in claims
    )
    bad = httpx.post(
        meta["token_endpoint"],
        auth=("worker-" + okta_tenant.tenant, "worker-secret"),
        data={"grant_type": "client_credentials", "scope": "openid"},
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_scope"


def test_service_app_token_calls_management_api(okta_tenant: Tenant) -> None:
    org = _discovery(okta_tenant, "org")
    r = httpx.post(
        org["token_endpoint"],
        auth=(okta_tenant.service_client_id, okta_tenant.service_client_secret),
        data={"grant_type": "client_credentials", "scope": "okta.users.read"},
    )
    assert r.status_code == 200
    at = r.json()["access_token"]
    users = httpx.get(okta_tenant.url + "/api/v1/users", headers={"Authorization": f"Bearer {at}"})
    assert users.status_code == 200 and len(users.json()) == 3
    denied = httpx.get(okta_tenant.url + "/api/v1/groups", headers={"Authorization": f"Bearer {at}"})
    assert denied.status_code == 403 and denied.json()["errorCode"] == "E0000006"


def test_groups_claim(okta_tenant: Tenant) -> None:
    meta = _discovery(okta_tenant, "org")
    token, _data = _tokens(okta_tenant, meta, scope="openid groups", username="bob@example.com")
    claims = jwt.decode(token["id_token"], options={"verify_signature": False})
    assert sorted(claims["groups"]) == ["Engineering", "Everyone"]


def test_key_rotation_keeps_old_tokens_verifiable(okta_tenant: Tenant) -> None:
    meta = _discovery(okta_tenant)
    token, _ = _tokens(okta_tenant, meta)
    old_kid = jwt.get_unverified_header(token["access_token"])["kid"]
    new_kid = okta_tenant.twin.control("POST", "/okta/keys/rotate", params={"tenant": okta_tenant.tenant})[
        "kid"
    ]
    published = [k["kid"] for k in httpx.get(meta["jwks_uri"]).json()["keys"]]
    assert published == [new_kid, old_kid]
    fresh, _ = _tokens(okta_tenant, meta)
    assert jwt.get_unverified_header(fresh["access_token"])["kid"] == new_kid
    client = jwt.PyJWKClient(meta["jwks_uri"])
    for t in (token, fresh):
        jwt.decode(
            t["access_token"],
            client.get_signing_key_from_jwt(t["access_token"]).key,
            algorithms=["RS256"],
            audience="api://default",
        )
