"""OIDC edge cases the happy path does not reach: PKCE for public clients, replayed codes and
wrong redirect URIs at the token endpoint, refresh token rotation (ROTATE with its leeway and
reuse detection, STATIC), userinfo by scope, introspect/revoke of refresh tokens, prompt and
max_age at authorize, and logout. The relying party is authlib (plus httpx for raw wire checks);
PyJWT checks what the tokens say.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
import pytest
from authlib.integrations.requests_client import OAuth2Session
from okta.models import ApplicationGroupAssignment, OpenIdConnectApplication

from dtu.testing.plugin import Tenant
from tests.twins.okta.conftest import Sdk
from tests.twins.okta.test_oidc import REDIRECT, _discovery, _login, _tokens

EVERYONE = "00gdtueveryone000001"


def _app(sdk: Sdk, app_type: str, **extra: Any) -> SimpleNamespace:
    """An OIDC app made through the okta SDK and assigned to Everyone; its client credentials."""
    method = "none" if app_type == "browser" else "client_secret_basic"
    body: dict[str, Any] = {
        "name": "oidc_client",
        "label": f"{app_type} app",
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": method}},
        "settings": {
            "oauthClient": {
                "application_type": app_type,
                "redirect_uris": [REDIRECT],
                "post_logout_redirect_uris": ["http://localhost:8765/bye"],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                **extra,
            }
        },
    }
    app = sdk.create_application(OpenIdConnectApplication.from_dict(body))
    sdk.assign_group_to_application(app.id, EVERYONE, ApplicationGroupAssignment())
    oc = app.credentials.oauth_client
    return SimpleNamespace(app=app, client_id=oc.client_id, client_secret=oc.client_secret)


def _as(t: Tenant, client: SimpleNamespace) -> SimpleNamespace:
    """The tenant, seen with another client's credentials (what `_login` expects)."""
    return SimpleNamespace(
        url=t.url,
        tenant=t.tenant,
        twin=t.twin,
        client_id=client.client_id,
        client_secret=client.client_secret,
    )


def _post(meta: dict[str, Any], endpoint: str, auth: Any, **data: str) -> httpx.Response:
    return httpx.post(meta[endpoint], auth=auth, data=data)


def _refresh(meta: dict[str, Any], auth: Any, token: str, **data: str) -> httpx.Response:
    return _post(meta, "token_endpoint", auth, grant_type="refresh_token", refresh_token=token, **data)


def _active(meta: dict[str, Any], auth: Any, token: str) -> bool:
    return bool(_post(meta, "introspection_endpoint", auth, token=token).json()["active"])


# -- PKCE -----------------------------------------------------------------------------------------


def test_public_client_must_use_pkce(okta_tenant: Tenant, sdk: Sdk) -> None:
    spa = _app(sdk, "browser")
    assert spa.client_secret is None
    assert spa.app.settings.oauth_client.refresh_token.rotation_type.value == "ROTATE"
    meta = _discovery(okta_tenant)
    r = httpx.get(
        meta["authorization_endpoint"],
        params={
            "client_id": spa.client_id,
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": REDIRECT,
            "state": "s1",
        },
    )
    assert r.status_code == 302
    q = parse_qs(urlparse(r.headers["location"]).query)
    assert q["error"] == ["invalid_request"] and q["state"] == ["s1"]
    assert "PKCE code challenge is required" in q["error_description"][0]
    plain = httpx.get(
        meta["authorization_endpoint"],
        params={
            "client_id": spa.client_id,
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": REDIRECT,
            "state": "s1",
            "code_challenge": "x" * 43,
            "code_challenge_method": "plain",
        },
    )
    assert parse_qs(urlparse(plain.headers["location"]).query)["error"] == ["invalid_request"]
    # With S256 the public client signs in and redeems the code with its verifier alone.
    _client, _, callback, verifier = _login(_as(okta_tenant, spa), meta, scope="openid offline_access")  # type: ignore[arg-type]
    code = parse_qs(urlparse(callback).query)["code"][0]
    no_verifier = httpx.post(
        meta["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "client_id": spa.client_id,
            "code": code,
            "redirect_uri": REDIRECT,
        },
    )
    assert no_verifier.status_code == 400 and no_verifier.json()["error"] == "invalid_request"
    token = httpx.post(
        meta["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "client_id": spa.client_id,
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200, token.text
    assert (
        jwt.decode(token.json()["access_token"], options={"verify_signature": False})["cid"] == spa.client_id
    )


# -- the code at the token endpoint ---------------------------------------------------------------


def test_wrong_redirect_uri_at_the_token_endpoint(okta_tenant: Tenant) -> None:
    meta = _discovery(okta_tenant)
    _, _, callback, verifier = _login(okta_tenant, meta)
    code = parse_qs(urlparse(callback).query)["code"][0]
    auth = (okta_tenant.client_id, okta_tenant.client_secret)
    r = _post(
        meta,
        "token_endpoint",
        auth,
        grant_type="authorization_code",
        code=code,
        redirect_uri="http://localhost:8765/elsewhere",
        code_verifier=verifier,
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert "redirect_uri" in r.json()["error_description"]
    missing = _post(meta, "token_endpoint", auth, grant_type="authorization_code", redirect_uri=REDIRECT)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    no_grant = _post(meta, "token_endpoint", auth, code=code)
    assert no_grant.status_code == 400 and no_grant.json()["error"] == "invalid_request"


def test_replayed_code_revokes_what_it_bought(okta_tenant: Tenant, sdk: Sdk) -> None:
    meta = _discovery(okta_tenant)
    client, _, callback, verifier = _login(okta_tenant, meta)
    first = client.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    auth = (okta_tenant.client_id, okta_tenant.client_secret)
    assert _active(meta, auth, first["access_token"]) and _active(meta, auth, first["refresh_token"])
    code = parse_qs(urlparse(callback).query)["code"][0]
    replay = _post(
        meta,
        "token_endpoint",
        auth,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=verifier,
    )
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert not _active(meta, auth, first["access_token"]) and not _active(meta, auth, first["refresh_token"])
    assert _refresh(meta, auth, first["refresh_token"]).json()["error"] == "invalid_grant"


# -- refresh tokens -------------------------------------------------------------------------------


def test_refresh_reuse_after_the_leeway_revokes_the_family(okta_tenant: Tenant, sdk: Sdk) -> None:
    meta = _discovery(okta_tenant)
    token, _ = _tokens(okta_tenant, meta)
    auth = (okta_tenant.client_id, okta_tenant.client_secret)
    second = _refresh(meta, auth, token["refresh_token"]).json()
    third = _refresh(meta, auth, second["refresh_token"]).json()
    assert len({token["refresh_token"], second["refresh_token"], third["refresh_token"]}) == 3
    okta_tenant.twin.clock(tenant=okta_tenant.tenant, advance_s=45)
    reused = _refresh(meta, auth, token["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    # Every token of that sign-in is gone: the newest refresh token and the access tokens.
    for t in (third["refresh_token"], third["access_token"], second["access_token"]):
        assert not _active(meta, auth, t)
    assert _refresh(meta, auth, third["refresh_token"]).json()["error"] == "invalid_grant"
    (event,) = sdk.list_log_events(filter='eventType eq "app.oauth2.as.token.detect_reuse"')
    assert event.outcome.result == "FAILURE" and event.actor.alternate_id == "alice@example.com"
    # Another sign-in is untouched.
    fresh, _ = _tokens(okta_tenant, meta)
    assert _refresh(meta, auth, fresh["refresh_token"]).status_code == 200


def test_static_refresh_tokens_stay(okta_tenant: Tenant, sdk: Sdk) -> None:
    web = _app(sdk, "web")
    assert web.app.settings.oauth_client.refresh_token.rotation_type.value == "STATIC"
    meta = _discovery(okta_tenant)
    token, _ = _tokens(_as(okta_tenant, web), meta)  # type: ignore[arg-type]
    auth = (web.client_id, web.client_secret)
    for _ in range(3):
        again = _refresh(meta, auth, token["refresh_token"])
        assert again.status_code == 200 and again.json()["refresh_token"] == token["refresh_token"]
    narrower = _refresh(meta, auth, token["refresh_token"], scope="openid")
    assert narrower.json()["scope"] == "openid" and "id_token" in narrower.json()
    wider = _refresh(meta, auth, token["refresh_token"], scope="openid groups")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    other = _refresh(meta, (okta_tenant.client_id, okta_tenant.client_secret), token["refresh_token"])
    assert other.status_code == 400 and other.json()["error"] == "invalid_grant"


def test_rotation_settings_are_validated(sdk: Sdk, http: httpx.Client) -> None:
    app_id = _app(sdk, "web").app.id
    body = http.get(f"/api/v1/apps/{app_id}").json()
    body["settings"]["oauthClient"]["refresh_token"] = {"rotation_type": "ROTATE", "leeway": 5}
    replaced = http.put(f"/api/v1/apps/{body['id']}", json=body)
    assert replaced.json()["settings"]["oauthClient"]["refresh_token"] == {
        "rotation_type": "ROTATE",
        "leeway": 5,
    }
    for bad in ({"rotation_type": "SOMETIMES"}, {"rotation_type": "ROTATE", "leeway": 61}):
        body["settings"]["oauthClient"]["refresh_token"] = bad
        r = http.put(f"/api/v1/apps/{body['id']}", json=body)
        assert r.status_code == 400 and r.json()["errorCode"] == "E0000001"


def test_introspect_and_revoke_refresh_tokens(okta_tenant: Tenant, sdk: Sdk) -> None:
    meta = _discovery(okta_tenant)
    token, _ = _tokens(okta_tenant, meta)
    auth = (okta_tenant.client_id, okta_tenant.client_secret)
    info = _post(meta, "introspection_endpoint", auth, token=token["refresh_token"]).json()
    assert (
        info["active"] and info["token_type"] == "refresh_token" and info["username"] == "alice@example.com"
    )
    other = _app(sdk, "web")
    # Another client cannot revoke this client's token (RFC 7009 still answers 200).
    assert (
        _post(
            meta, "revocation_endpoint", (other.client_id, other.client_secret), token=token["refresh_token"]
        ).status_code
        == 200
    )
    assert _active(meta, auth, token["refresh_token"])
    assert _post(meta, "revocation_endpoint", auth, token=token["refresh_token"]).status_code == 200
    assert not _active(meta, auth, token["refresh_token"])
    assert _refresh(meta, auth, token["refresh_token"]).json()["error"] == "invalid_grant"
    assert _post(meta, "revocation_endpoint", auth, token="never-issued").status_code == 200
    bad = _post(meta, "introspection_endpoint", (okta_tenant.client_id, "wrong"), token=token["access_token"])
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    missing = _post(meta, "revocation_endpoint", auth)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"


# -- userinfo -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "present", "absent"),
    [
        ("openid", {"sub"}, {"email", "name", "preferred_username"}),
        ("openid email", {"sub", "email", "email_verified"}, {"name", "preferred_username"}),
        ("openid profile", {"sub", "name", "preferred_username", "given_name"}, {"email"}),
    ],
)
def test_userinfo_claims_follow_the_scopes(
    okta_tenant: Tenant, scope: str, present: set[str], absent: set[str]
) -> None:
    meta = _discovery(okta_tenant)
    token, _ = _tokens(okta_tenant, meta, scope=scope)
    info = httpx.get(meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {token['access_token']}"})
    assert info.status_code == 200
    assert present <= set(info.json()) and not (absent & set(info.json()))
    assert info.json()["sub"] == jwt.decode(token["id_token"], options={"verify_signature": False})["sub"]


def test_userinfo_refuses_tokens_it_cannot_use(okta_tenant: Tenant) -> None:
    meta = _discovery(okta_tenant)
    worker = httpx.post(
        meta["token_endpoint"],
        auth=(okta_tenant.client_id, okta_tenant.client_secret),
        data={"grant_type": "client_credentials", "scope": "dtu.read"},
    )
    assert worker.json()["error"] == "unauthorized_client"  # the web app has no client_credentials
    token, _ = _tokens(okta_tenant, meta)
    org = _discovery(okta_tenant, "org")
    # A token of another authorization server is not this one's.
    wrong_server = httpx.get(
        org["userinfo_endpoint"], headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert wrong_server.status_code == 401 and wrong_server.json()["error"] == "invalid_token"
    okta_tenant.twin.clock(tenant=okta_tenant.tenant, advance_s=3601)
    expired = httpx.get(
        meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert expired.status_code == 401 and expired.json()["error"] == "invalid_token"


# -- authorize: prompt and max_age ----------------------------------------------------------------


def test_prompt_login_and_max_age_ask_again(okta_tenant: Tenant) -> None:
    meta = _discovery(okta_tenant)
    with httpx.Client() as browser:
        _login(okta_tenant, meta, browser=browser)
        client = OAuth2Session(
            okta_tenant.client_id, okta_tenant.client_secret, scope="openid", redirect_uri=REDIRECT
        )
        url, _ = client.create_authorization_url(
            meta["authorization_endpoint"],
            prompt="login",
            nonce="n",
            code_challenge="c" * 43,
            code_challenge_method="S256",
        )
        page = browser.get(url)
        assert page.status_code == 200 and 'id="okta-signin"' in page.text
        okta_tenant.twin.clock(tenant=okta_tenant.tenant, advance_s=120)
        url, state = client.create_authorization_url(
            meta["authorization_endpoint"], prompt="none", max_age="60", nonce="n"
        )
        r = browser.get(url)
        q = parse_qs(urlparse(r.headers["location"]).query)
        assert q["error"] == ["login_required"] and q["state"] == [state]
        url, _ = client.create_authorization_url(
            meta["authorization_endpoint"], prompt="none", max_age="600", nonce="n"
        )
        assert "code=" in browser.get(url).headers["location"]


# -- logout ---------------------------------------------------------------------------------------


def test_logout_ends_the_session_and_redirects(okta_tenant: Tenant, sdk: Sdk) -> None:
    meta = _discovery(okta_tenant)
    with httpx.Client() as browser:
        client, _, callback, verifier = _login(okta_tenant, meta, browser=browser)
        token = client.fetch_token(
            meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
        )
        bye = "http://localhost:8765/"
        unregistered = browser.get(
            meta["end_session_endpoint"],
            params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": "http://evil.example/"},
        )
        assert unregistered.status_code == 400 and unregistered.json()["error"] == "invalid_request"
        forged = token["id_token"][:-4] + ("AAAA" if not token["id_token"].endswith("AAAA") else "BBBB")
        bad = browser.get(meta["end_session_endpoint"], params={"id_token_hint": forged})
        assert bad.status_code == 400 and bad.json()["error"] == "invalid_request"
        assert browser.get(meta["end_session_endpoint"]).status_code == 400  # the hint is required
        # An expired ID token is still a good hint.
        okta_tenant.twin.clock(tenant=okta_tenant.tenant, advance_s=3700)
        out = browser.get(
            meta["end_session_endpoint"],
            params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": bye, "state": "st8"},
        )
        assert out.status_code == 302 and out.headers["location"] == bye + "?state=st8"
        client2 = OAuth2Session(
            okta_tenant.client_id, okta_tenant.client_secret, scope="openid", redirect_uri=REDIRECT
        )
        url, _ = client2.create_authorization_url(meta["authorization_endpoint"], prompt="none", nonce="n")
        after = browser.get(url)
        assert parse_qs(urlparse(after.headers["location"]).query)["error"] == ["login_required"]
    assert [e.event_type for e in sdk.list_log_events(filter='eventType eq "user.session.end"')] == [
        "user.session.end"
    ]


def test_logout_with_post(okta_tenant: Tenant) -> None:
    meta = _discovery(okta_tenant, "org")
    with httpx.Client() as browser:
        client, _, callback, verifier = _login(okta_tenant, meta, browser=browser, scope="openid")
        token = client.fetch_token(
            meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
        )
        r = browser.post(meta["end_session_endpoint"], data={"id_token_hint": token["id_token"]})
        assert r.status_code == 200
        client2 = OAuth2Session(
            okta_tenant.client_id, okta_tenant.client_secret, scope="openid", redirect_uri=REDIRECT
        )
        url, _ = client2.create_authorization_url(meta["authorization_endpoint"], prompt="none", nonce="n")
        assert "login_required" in browser.get(url).headers["location"]


def test_expired_or_revoked_access_tokens_lose_the_management_api(okta_tenant: Tenant) -> None:
    t = okta_tenant
    auth = (t.service_client_id, t.service_client_secret)
    org = _discovery(t, "org")

    def token() -> str:
        r = httpx.post(
            org["token_endpoint"],
            auth=auth,
            data={"grant_type": "client_credentials", "scope": "okta.users.read"},
        )
        return str(r.json()["access_token"])

    def users(at: str) -> httpx.Response:
        return httpx.get(t.url + "/api/v1/users", headers={"Authorization": f"Bearer {at}"})

    revoked, expiring = token(), token()
    assert users(revoked).status_code == 200
    assert httpx.post(org["revocation_endpoint"], auth=auth, data={"token": revoked}).status_code == 200
    t.twin.clock(tenant=t.tenant, advance_s=3601)
    for at in (revoked, expiring):
        r = users(at)
        assert r.status_code == 401 and r.json()["errorCode"] == "E0000011"
    assert users(token()).status_code == 200


def test_a_custom_authorization_server(okta_tenant: Tenant) -> None:
    """A custom server (seeded: Okta's `/api/v1/authorizationServers` is not served) has its own
    issuer, audience and scopes; its tokens are not the default server's."""
    t = okta_tenant
    t.twin.control(
        "POST",
        "/seed",
        params={"tenant": t.tenant},
        json={
            "auth_servers": [
                {
                    "id": "ausdtucustom00000001",
                    "name": "Payments",
                    "audiences": ["api://payments"],
                    "scopes": ["pay"],
                }
            ]
        },
    )
    meta = _discovery(t, "ausdtucustom00000001")
    assert meta["issuer"] == t.url + "/oauth2/ausdtucustom00000001"
    assert "pay" in meta["scopes_supported"]
    token, _ = _tokens(t, meta, scope="openid pay")
    key = jwt.PyJWKClient(meta["jwks_uri"]).get_signing_key_from_jwt(token["access_token"]).key
    claims = jwt.decode(
        token["access_token"], key, algorithms=["RS256"], audience="api://payments", issuer=meta["issuer"]
    )
    assert claims["scp"] == ["openid", "pay"]
    auth = (t.client_id, t.client_secret)
    default = _discovery(t)
    assert _post(default, "introspection_endpoint", auth, token=token["access_token"]).json() == {
        "active": False
    }
    assert _active(meta, auth, token["access_token"])
    # A scope of another server is refused at authorize.
    client = OAuth2Session(t.client_id, t.client_secret, scope="openid dtu.read", redirect_uri=REDIRECT)
    url, _ = client.create_authorization_url(meta["authorization_endpoint"], nonce="n", state="s")
    r = httpx.get(url)
    assert parse_qs(urlparse(r.headers["location"]).query)["error"] == ["invalid_scope"]
