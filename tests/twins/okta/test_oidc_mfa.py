"""MFA on the hosted OIDC sign-in: a user with an ACTIVE TOTP factor gets a second HTML step
(the passcode) after the password, as Okta's hosted sign-in asks. Driven like a browser with
requests (authlib's OAuth2Session is the relying party), following the twin's real redirects and
forms; passcodes are RFC 6238 codes computed here on the frozen twin clock."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlparse

import httpx
import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

from dtu.testing.plugin import Tenant
from tests.twins.okta.test_mfa import BOB, PASSWORD, totp

REDIRECT = "http://localhost:8765/callback"
VERIFIER = "v" * 20 + "-dtu-pkce-verifier-" + "x" * 30


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


def _form(resp: requests.Response) -> _Form:
    form = _Form()
    form.feed(resp.text)
    assert form.action, resp.text
    return form


class Browser:
    """A requests session that follows the twin's redirects itself and stops at the app's
    redirect URI (nothing listens there)."""

    def __init__(self) -> None:
        self.session = requests.Session()

    def go(self, resp: requests.Response) -> requests.Response | str:
        """Follow 302s; the page reached, or the callback URL."""
        for _ in range(10):
            if resp.status_code != 302:
                return resp
            location = urljoin(resp.url, resp.headers["location"])
            if location.startswith(REDIRECT):
                return location
            resp = self.session.get(location, allow_redirects=False)
        raise AssertionError("too many redirects")

    def submit(self, page: requests.Response, **values: str) -> requests.Response | str:
        form = _form(page)
        resp = self.session.post(
            urljoin(page.url, form.action), data={**form.fields, **values}, allow_redirects=False
        )
        return self.go(resp)


@pytest.fixture
def now(okta_tenant: Tenant) -> float:
    return float(okta_tenant.twin.clock(tenant=okta_tenant.tenant, freeze=True)["now"])


@pytest.fixture
def secret(okta_tenant: Tenant, now: float) -> str:
    """Bob's ACTIVE TOTP factor (enrolled and activated over the Factors API)."""
    auth = {"Authorization": f"SSWS {okta_tenant.api_token}"}
    r = httpx.post(
        f"{okta_tenant.url}/api/v1/users/{BOB}/factors",
        headers=auth,
        json={"factorType": "token:software:totp", "provider": "GOOGLE"},
    )
    assert r.status_code == 200, r.text
    fid, shared = r.json()["id"], r.json()["_embedded"]["activation"]["sharedSecret"]
    done = httpx.post(
        f"{okta_tenant.url}/api/v1/users/{BOB}/factors/{fid}/lifecycle/activate",
        headers=auth,
        json={"passCode": totp(shared, now)},
    )
    assert done.status_code == 200 and done.json()["status"] == "ACTIVE"
    # The activation spent this step's code: later codes are for the next steps.
    okta_tenant.twin.clock(tenant=okta_tenant.tenant, advance_s=30)
    return str(shared)


def _start(t: Tenant, browser: Browser) -> tuple[OAuth2Session, dict[str, Any], requests.Response]:
    meta = httpx.get(
        t.url + "/oauth2/default/.well-known/openid-configuration", params={"client_id": t.client_id}
    ).json()
    client = OAuth2Session(
        t.client_id,
        t.client_secret,
        scope="openid profile offline_access",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
    )
    url, _state = client.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=VERIFIER, nonce="n-mfa-1"
    )
    page = browser.go(browser.session.get(url, allow_redirects=False))
    assert isinstance(page, requests.Response) and "username" in _form(page).fields
    return client, meta, page


def _password_step(t: Tenant, browser: Browser) -> tuple[OAuth2Session, dict[str, Any], requests.Response]:
    client, meta, login = _start(t, browser)
    mfa = browser.submit(login, username="bob@example.com", password=PASSWORD)
    assert isinstance(mfa, requests.Response), "signed in without the second factor"
    assert mfa.status_code == 200 and "passCode" in _form(mfa).fields and "password" not in _form(mfa).fields
    return client, meta, mfa


def test_password_then_passcode_then_code(okta_tenant: Tenant, now: float, secret: str) -> None:
    browser = Browser()
    client, meta, mfa = _password_step(okta_tenant, browser)
    assert "sid" not in browser.session.cookies
    callback = browser.submit(mfa, passCode=totp(secret, now + 30))
    assert isinstance(callback, str) and "code" in parse_qs(urlparse(callback).query)
    token = client.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=VERIFIER
    )
    key = jwt.PyJWKClient(meta["jwks_uri"]).get_signing_key_from_jwt(token["id_token"]).key
    claims = jwt.decode(
        token["id_token"], key, algorithms=["RS256"], audience=okta_tenant.client_id, leeway=120
    )
    assert claims["amr"] == ["pwd", "otp", "mfa"] and claims["preferred_username"] == "bob@example.com"
    # The refreshed ID token keeps how the user signed in.
    refreshed = client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    again = jwt.decode(refreshed["id_token"], options={"verify_signature": False})
    assert again["amr"] == ["pwd", "otp", "mfa"]


def test_wrong_passcode_keeps_the_verify_step(okta_tenant: Tenant, now: float, secret: str) -> None:
    browser = Browser()
    _client, _meta, mfa = _password_step(okta_tenant, browser)
    wrong = str((int(totp(secret, now + 30)) + 1) % 1_000_000).zfill(6)
    retry = browser.submit(mfa, passCode=wrong)
    assert isinstance(retry, requests.Response) and retry.status_code == 401
    assert "match our records" in retry.text and "passCode" in _form(retry).fields
    callback = browser.submit(retry, passCode=totp(secret, now + 30))
    assert isinstance(callback, str) and "code=" in callback


def test_spent_state_token_starts_over(okta_tenant: Tenant, now: float, secret: str) -> None:
    browser = Browser()
    _client, _meta, mfa = _password_step(okta_tenant, browser)
    assert isinstance(browser.submit(mfa, passCode=totp(secret, now + 30)), str)
    # Posting the same verify form again: the transaction is over, back to the sign-in page.
    replay = browser.submit(mfa, passCode=totp(secret, now + 60))
    assert isinstance(replay, requests.Response) and replay.status_code == 401
    assert "username" in _form(replay).fields


def test_session_from_mfa_sign_in_skips_both_steps(okta_tenant: Tenant, now: float, secret: str) -> None:
    browser = Browser()
    _client, _meta, mfa = _password_step(okta_tenant, browser)
    assert isinstance(browser.submit(mfa, passCode=totp(secret, now + 30)), str)
    assert "sid" in browser.session.cookies
    client = OAuth2Session(
        okta_tenant.client_id, scope="openid", redirect_uri=REDIRECT, code_challenge_method="S256"
    )
    url, _ = client.create_authorization_url(
        f"{okta_tenant.url}/oauth2/default/v1/authorize", code_verifier=VERIFIER, prompt="none"
    )
    landed = browser.go(browser.session.get(url, allow_redirects=False))
    assert isinstance(landed, str) and "code=" in landed


def test_users_without_factors_sign_in_with_the_password_alone(okta_tenant: Tenant) -> None:
    browser = Browser()
    _client, _meta, login = _start(okta_tenant, browser)
    callback = browser.submit(login, username="carol@example.com", password=PASSWORD)
    assert isinstance(callback, str) and "code=" in callback
