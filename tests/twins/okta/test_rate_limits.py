"""Okta's rate limits: `X-Rate-Limit-Limit/Remaining/Reset` (and `X-Okta-Request-Id`) on every
response, whatever its kind; per-endpoint-family buckets enforced by a `real_limits` fault with
E0000047; per-tenant faults reaching the OAuth and Authn endpoints (whose callers carry no API
token); and the okta SDK's own retry, which needs `Date` and `X-Rate-Limit-Reset`.
https://developer.okta.com/docs/reference/rl-best-practices/
"""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from dtu.testing.plugin import Tenant
from tests.twins.okta.conftest import Sdk
from tests.twins.okta.test_oidc import REDIRECT


def _faults(t: Tenant, *rules: dict[str, Any]) -> None:
    t.twin.set_faults({"version": 1, "name": "t", "rules": list(rules)}, tenant=t.tenant)


def _rate_headers(r: httpx.Response) -> tuple[int, int, int]:
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["X-Okta-Request-Id"]), r.headers
    limit, remaining, reset = (int(r.headers[f"X-Rate-Limit-{k}"]) for k in ("Limit", "Remaining", "Reset"))
    date = parsedate_to_datetime(r.headers["Date"]).timestamp()
    assert 0 <= remaining <= limit and date - 1 <= reset <= date + 61, (limit, remaining, reset, date)
    return limit, remaining, reset


def test_every_kind_of_response_carries_the_headers(okta_tenant: Tenant, http: httpx.Client) -> None:
    t = okta_tenant
    authorize = {
        "client_id": t.client_id,
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": REDIRECT,
        "state": "s",
    }
    responses = {
        "json 200": http.get("/api/v1/users"),
        "json 404": http.get("/api/v1/users/00unothere0000000000"),
        "json 405": http.patch("/api/v1/groups"),
        "json 401": httpx.get(t.url + "/api/v1/users", headers={"Authorization": "SSWS nope"}),
        "authn 401": httpx.post(t.url + "/api/v1/authn", json={"username": "x@example.com", "password": "x"}),
        "discovery": httpx.get(t.url + "/oauth2/default/.well-known/openid-configuration"),
        "jwks": httpx.get(t.url + "/oauth2/v1/keys"),
        "login page": httpx.get(t.url + "/oauth2/default/v1/authorize", params=authorize),
        "authorize redirect": httpx.get(
            t.url + "/oauth2/default/v1/authorize", params={**authorize, "prompt": "none"}
        ),
        "token 400": httpx.post(
            t.url + "/oauth2/default/v1/token", auth=(t.client_id, t.client_secret), data={}
        ),
        "token 401": httpx.post(t.url + "/oauth2/default/v1/token", auth=(t.client_id, "x"), data={}),
        "unknown path": http.get("/no/such/thing"),
    }
    for name, r in responses.items():
        assert r.status_code < 500, (name, r.status_code)
        _rate_headers(r)
    assert responses["login page"].headers["content-type"].startswith("text/html")
    assert responses["authorize redirect"].status_code == 302


def test_each_endpoint_family_has_its_bucket(okta_tenant: Tenant, http: httpx.Client) -> None:
    """The Workforce defaults: each family's limit, counted separately."""
    t = okta_tenant
    expected = {
        "/api/v1/users": 600,
        "/api/v1/users/00udtualice000000001": 2000,
        "/api/v1/groups": 500,
        "/api/v1/groups/00gdtueveryone000001": 1000,
        "/api/v1/apps": 100,
        "/api/v1/logs": 120,
        "/api/v1/eventHooks": 100,
        "/api/v1/meta/schemas/user/default": 1200,
    }
    for path, limit in expected.items():
        assert _rate_headers(http.get(path))[0] == limit, path
    token = httpx.post(t.url + "/oauth2/v1/token", auth=(t.client_id, t.client_secret), data={})
    assert _rate_headers(token)[0] == 2000
    assert _rate_headers(httpx.post(t.url + "/api/v1/sessions", json={}))[0] == 750
    before = _rate_headers(http.get("/api/v1/groups"))[1]
    http.get("/api/v1/apps")
    assert _rate_headers(http.get("/api/v1/groups"))[1] == before - 1


def test_real_limits_answer_e0000047_per_family(okta_tenant: Tenant, http: httpx.Client) -> None:
    t = okta_tenant
    _faults(t, {"id": "real", "match": {"twin": "okta"}, "action": {"kind": "real_limits"}})
    t.twin.clock(tenant=t.tenant, freeze=True)
    statuses = [http.get("/api/v1/eventHooks").status_code for _ in range(101)]
    assert statuses == [200] * 100 + [429]
    limited = http.get("/api/v1/eventHooks")
    body = limited.json()
    assert limited.status_code == 429 and body["errorCode"] == "E0000047"
    assert body["errorSummary"] == "API call exceeded rate limit due to too many requests."
    assert body["errorId"].startswith("oae") and body["errorCauses"] == []
    assert limited.headers["X-Rate-Limit-Limit"] == "100" and limited.headers["X-Rate-Limit-Remaining"] == "0"
    # Other families keep their own budget.
    assert http.get("/api/v1/users").status_code == 200
    assert [http.get("/api/v1/apps").status_code for _ in range(101)][-2:] == [200, 429]
    # A new window (the twin clock moves past the reset) refills the bucket.
    t.twin.clock(tenant=t.tenant, advance_s=61)
    assert http.get("/api/v1/eventHooks").status_code == 200


def test_tenant_faults_reach_oauth_and_authn_callers(okta_tenant: Tenant) -> None:
    """The OAuth endpoints know the org by the client (Basic auth, form or query `client_id`),
    the Authn API by its state token: per-tenant rules apply to them too."""
    t = okta_tenant
    _faults(
        t,
        {
            "id": "token",
            "match": {"twin": "okta", "operation": "tokenCustomAS"},
            "action": {"kind": "rate_limit", "retry_after_s": 5},
        },
        {
            "id": "keys",
            "match": {"twin": "okta", "operation": "oauthKeysCustomAS"},
            "action": {"kind": "rate_limit", "retry_after_s": 5},
        },
        {
            "id": "cancel",
            "match": {"twin": "okta", "operation": "cancelTransaction"},
            "action": {"kind": "rate_limit", "retry_after_s": 5},
        },
    )
    basic = httpx.post(
        t.url + "/oauth2/default/v1/token",
        auth=(t.client_id, t.client_secret),
        data={"grant_type": "client_credentials", "scope": "dtu.read"},
    )
    posted = httpx.post(
        t.url + "/oauth2/default/v1/token",
        data={"grant_type": "client_credentials", "client_id": t.client_id, "client_secret": t.client_secret},
    )
    keys = httpx.get(t.url + "/oauth2/default/v1/keys", params={"client_id": t.client_id})
    for r in (basic, posted, keys):
        assert r.status_code == 429 and r.json()["errorCode"] == "E0000047", r.text
        assert _rate_headers(r)[1] == 0
    state = httpx.post(
        t.url + "/api/v1/authn",
        json={"username": "alice@example.com", "password": "Dtu-Passw0rd!"},
        headers={"Authorization": f"SSWS {t.api_token}"},
    )
    assert state.status_code == 200  # another operation: untouched
    expired = httpx.post(
        t.url + "/api/v1/users/00udtualice000000001/lifecycle/expire_password",
        headers={"Authorization": f"SSWS {t.api_token}"},
    )
    assert expired.status_code == 200
    tx = httpx.post(
        t.url + "/api/v1/authn",
        json={"username": "alice@example.com", "password": "Dtu-Passw0rd!"},
        headers={"Authorization": f"SSWS {t.api_token}"},
    ).json()
    cancel = httpx.post(t.url + "/api/v1/authn/cancel", json={"stateToken": tx["stateToken"]})
    assert cancel.status_code == 429 and cancel.json()["errorCode"] == "E0000047"
    # Another org's clients are not affected.
    other = t.twin.create_tenant()
    try:
        ok = httpx.get(
            t.url + "/oauth2/default/v1/keys", params={"client_id": other["credentials"]["client_id"]}
        )
        assert ok.status_code == 200
    finally:
        t.twin.delete_tenant(other["tenant"])


def test_sdk_retries_a_429_and_succeeds(okta_tenant: Tenant) -> None:
    """The SDK waits `X-Rate-Limit-Reset - Date + 1` s and retries (with X-Okta-Retry-For): the
    journal shows the 429 and then the 200, and the caller just gets its groups."""
    _faults(
        okta_tenant,
        {
            "id": "rl",
            "match": {"twin": "okta", "operation": "listGroups"},
            "budget": {"max_fires": 1},
            "action": {"kind": "rate_limit", "retry_after_s": 1},
        },
    )
    groups = Sdk(okta_tenant.url, okta_tenant.api_token).list_groups()
    assert "Everyone" in [g.profile.actual_instance.name for g in groups]
    entries = okta_tenant.twin.control(
        "GET", "/journal", params={"tenant": okta_tenant.tenant, "operation": "listGroups"}
    )["entries"]
    assert [e["status"] for e in entries] == [429, 200]
    assert entries[0]["fault"]["kind"] == "rate_limit"


def test_sdk_gives_up_after_its_retries(okta_tenant: Tenant) -> None:
    _faults(
        okta_tenant,
        {
            "id": "rl",
            "match": {"twin": "okta", "operation": "listGroups"},
            "action": {"kind": "rate_limit", "retry_after_s": 1},
        },
    )
    data, _resp, err = Sdk(okta_tenant.url, okta_tenant.api_token, rateLimit={"maxRetries": 1}).call(
        "list_groups"
    )
    assert data is None and err is not None
    entries = okta_tenant.twin.control(
        "GET", "/journal", params={"tenant": okta_tenant.tenant, "operation": "listGroups"}
    )["entries"]
    assert [e["status"] for e in entries] == [429, 429]
