"""Sessions: made from an Authn session token (`POST /api/v1/sessions`, or `sessionToken` at
/authorize), read, refreshed and closed through the okta SDK, expiring on the twin clock.
https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Session/
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from authlib.integrations.requests_client import OAuth2Session

from dtu.testing.plugin import Tenant
from tests.twins.okta.conftest import Sdk, api_error
from tests.twins.okta.test_oidc import REDIRECT, _discovery


def _session_token(t: Tenant, login: str = "bob@example.com") -> str:
    r = httpx.post(
        f"{t.url}/api/v1/authn",
        json={"username": login, "password": "Dtu-Passw0rd!"},
        headers={"Authorization": f"SSWS {t.api_token}"},
    )
    assert r.json()["status"] == "SUCCESS", r.text
    return str(r.json()["sessionToken"])


def _create(t: Tenant, token: str) -> httpx.Response:
    return httpx.post(
        f"{t.url}/api/v1/sessions",
        json={"sessionToken": token},
        headers={"Authorization": f"SSWS {t.api_token}"},
    )


def test_create_get_refresh_close(okta_tenant: Tenant, sdk: Sdk) -> None:
    token = _session_token(okta_tenant)
    made = _create(okta_tenant, token)
    assert made.status_code == 200, made.text
    body: dict[str, Any] = made.json()
    assert body["id"].startswith("102") and body["status"] == "ACTIVE" and body["login"] == "bob@example.com"
    assert body["amr"] == ["pwd"] and body["idp"]["type"] == "OKTA"
    # The session token was good once.
    again = _create(okta_tenant, token)
    assert again.status_code == 400 and again.json()["errorCode"] == "E0000001"
    got = sdk.get_session(body["id"])
    assert got.user_id == body["userId"] and got.status.value == "ACTIVE"
    okta_tenant.twin.clock(tenant=okta_tenant.tenant, advance_s=3600)
    refreshed = sdk.refresh_session(body["id"])
    assert refreshed.expires_at - got.expires_at >= timedelta(seconds=3599)
    sdk.revoke_session(body["id"])
    assert api_error(sdk.get_session, body["id"]).error_code == "E0000007"
    assert api_error(sdk.revoke_session, body["id"]).error_code == "E0000007"
    assert api_error(sdk.refresh_session, body["id"]).error_code == "E0000007"
    events = sdk.list_log_events(filter='eventType eq "user.session.end"')
    assert [e.target[0].alternate_id for e in events] == ["bob@example.com"]
    assert events[0].debug_context.debug_data["sessionId"] == body["id"]


def test_sessions_expire_on_the_twin_clock(okta_tenant: Tenant, sdk: Sdk) -> None:
    token = _session_token(okta_tenant)
    okta_tenant.twin.clock(tenant=okta_tenant.tenant, advance_s=301)
    late = _create(okta_tenant, token)  # session tokens live 5 minutes
    assert late.status_code == 400 and late.json()["errorCode"] == "E0000001"
    sid = _create(okta_tenant, _session_token(okta_tenant)).json()["id"]
    okta_tenant.twin.clock(tenant=okta_tenant.tenant, advance_s=2 * 3600 + 1)
    assert api_error(sdk.get_session, sid).error_code == "E0000007"


def test_bad_input(okta_tenant: Tenant, http: httpx.Client) -> None:
    for body in ({}, {"sessionToken": ""}, {"sessionToken": 7}, {"sessionToken": "nope"}):
        r = http.post("/api/v1/sessions", json=body)
        assert r.status_code == 400 and r.json()["errorCode"] == "E0000001", body
    assert http.post("/api/v1/sessions", content=b"[").json()["errorCode"] == "E0000003"
    assert http.get("/api/v1/sessions/nope").json()["errorCode"] == "E0000007"
    no_token = httpx.get(f"{okta_tenant.url}/api/v1/sessions/nope")
    assert no_token.status_code == 401 and no_token.json()["errorCode"] == "E0000011"


def test_suspending_the_user_ends_their_sessions(okta_tenant: Tenant, sdk: Sdk) -> None:
    sid = _create(okta_tenant, _session_token(okta_tenant)).json()["id"]
    sdk.suspend_user("00udtubob00000000002")
    assert api_error(sdk.get_session, sid).error_code == "E0000007"


def test_session_token_at_authorize_with_prompt_none(okta_tenant: Tenant) -> None:
    """A custom sign-in page: Authn first, then /authorize with `sessionToken` and prompt=none;
    the session it opens (the `sid` cookie) serves the next prompt=none too."""
    meta = _discovery(okta_tenant)
    client = OAuth2Session(
        okta_tenant.client_id, okta_tenant.client_secret, scope="openid", redirect_uri=REDIRECT
    )
    with httpx.Client() as browser:
        url, _state = client.create_authorization_url(
            meta["authorization_endpoint"], prompt="none", nonce="n", sessionToken=_session_token(okta_tenant)
        )
        first = browser.get(url)
        assert first.status_code == 302 and "code" in parse_qs(urlparse(first.headers["location"]).query)
        assert "sid" in browser.cookies
        url, _ = client.create_authorization_url(meta["authorization_endpoint"], prompt="none", nonce="n")
        assert "code=" in browser.get(url).headers["location"]
    spent = httpx.get(url.replace("prompt=none", "prompt=none&sessionToken=spent-token"))
    assert parse_qs(urlparse(spent.headers["location"]).query)["error"] == ["login_required"]
