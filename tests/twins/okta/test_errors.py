"""Okta's error envelope, auth schemes and response headers, over real HTTP."""

from __future__ import annotations

import re

import httpx

from dtu.testing.plugin import Tenant
from tests.twins.okta.conftest import Sdk, api_error, new_user


def _is_okta_error(body: dict[str, object], code: str) -> None:
    assert body["errorCode"] == code
    assert body["errorLink"] == code
    assert isinstance(body["errorSummary"], str) and body["errorSummary"]
    assert re.fullmatch(r"oae[0-9A-Za-z]{22}", str(body["errorId"]))
    assert isinstance(body["errorCauses"], list)


def test_sdk_sends_ssws_and_lists_users(sdk: Sdk) -> None:
    users = sdk.list_users()
    assert sorted(u.profile.login for u in users) == [
        "alice@example.com",
        "bob@example.com",
        "carol@example.com",
    ]


def test_ssws_with_and_without_space(okta_tenant: Tenant) -> None:
    for header in (f"SSWS {okta_tenant.api_token}", f"SSWS{okta_tenant.api_token}"):
        r = httpx.get(okta_tenant.url + "/api/v1/users", headers={"Authorization": header})
        assert r.status_code == 200


def test_bad_token_is_e0000011(okta_tenant: Tenant) -> None:
    err = api_error(Sdk(okta_tenant.url, "00not-a-real-token").list_users)
    assert err.status == 401 and err.error_code == "E0000011"
    assert err.error_summary == "Invalid token provided"


def test_missing_token_is_e0000011(okta_tenant: Tenant) -> None:
    r = httpx.get(okta_tenant.url + "/api/v1/users")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/json"
    _is_okta_error(r.json(), "E0000011")


def test_other_tenants_token_sees_other_org(okta_tenant: Tenant) -> None:
    other = okta_tenant.twin.create_tenant()
    try:
        sdk = Sdk(okta_tenant.url, other["credentials"]["api_token"])
        sdk.create_user(new_user())
        mine = Sdk(okta_tenant.url, okta_tenant.api_token)
        assert "dan@example.com" not in [u.profile.login for u in mine.list_users()]
    finally:
        okta_tenant.twin.delete_tenant(other["tenant"])


def test_unknown_route_is_e0000007(http: httpx.Client) -> None:
    r = http.get("/api/v1/no-such-thing")
    assert r.status_code == 404
    _is_okta_error(r.json(), "E0000007")


def test_wrong_method_is_e0000022(http: httpx.Client) -> None:
    r = http.patch("/api/v1/users")
    assert r.status_code == 405
    _is_okta_error(r.json(), "E0000022")


def test_malformed_body_is_e0000003(http: httpx.Client) -> None:
    r = http.post("/api/v1/users", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    _is_okta_error(r.json(), "E0000003")


def test_rate_limit_headers_on_every_response(http: httpx.Client) -> None:
    ok = http.get("/api/v1/users")
    bad = http.get("/api/v1/users/nobody")
    for r in (ok, bad):
        assert int(r.headers["X-Rate-Limit-Limit"]) > 0
        assert 0 <= int(r.headers["X-Rate-Limit-Remaining"]) < int(r.headers["X-Rate-Limit-Limit"])
        assert int(r.headers["X-Rate-Limit-Reset"]) > 0
        assert re.fullmatch(r"[0-9a-f]{32}", r.headers["X-Okta-Request-Id"])
        assert "Date" in r.headers
    assert int(bad.headers["X-Rate-Limit-Remaining"]) >= 0


def test_remaining_counts_down(http: httpx.Client) -> None:
    first = int(http.get("/api/v1/groups").headers["X-Rate-Limit-Remaining"])
    second = int(http.get("/api/v1/groups").headers["X-Rate-Limit-Remaining"])
    assert second == first - 1


def test_double_slash_from_trailing_org_url(okta_tenant: Tenant) -> None:
    sdk = Sdk(okta_tenant.url + "/", okta_tenant.api_token)
    assert len(sdk.list_users()) == 3


def test_injected_rate_limit_is_e0000047_with_reset(okta_tenant: Tenant, http: httpx.Client) -> None:
    okta_tenant.twin.set_faults(
        {
            "version": 1,
            "name": "t",
            "rules": [
                {
                    "id": "rl",
                    "match": {"twin": "okta", "operation": "listGroups"},
                    "action": {"kind": "rate_limit", "retry_after_s": 7},
                }
            ],
        },
        tenant=okta_tenant.tenant,
    )
    r = http.get("/api/v1/groups")
    assert r.status_code == 429
    _is_okta_error(r.json(), "E0000047")
    assert r.headers["X-Rate-Limit-Remaining"] == "0"
    assert "X-Rate-Limit-Retry-After-S" not in r.headers
    assert int(r.headers["X-Rate-Limit-Reset"]) >= 7


def test_real_limits_enforce_bucket(okta_tenant: Tenant, http: httpx.Client) -> None:
    okta_tenant.twin.set_faults(
        {
            "version": 1,
            "name": "t",
            "rules": [{"id": "real", "match": {"twin": "okta"}, "action": {"kind": "real_limits"}}],
        },
        tenant=okta_tenant.tenant,
    )
    okta_tenant.twin.clock(tenant=okta_tenant.tenant, freeze=True)
    statuses = [http.get("/api/v1/logs").status_code for _ in range(121)]
    assert statuses[:120] == [200] * 120
    assert statuses[120] == 429


def test_sdk_retries_429_using_reset_and_date(okta_tenant: Tenant) -> None:
    okta_tenant.twin.set_faults(
        {
            "version": 1,
            "name": "t",
            "rules": [
                {
                    "id": "rl",
                    "match": {"twin": "okta", "operation": "listGroups"},
                    "budget": {"max_fires": 1},
                    "action": {"kind": "rate_limit", "retry_after_s": 1},
                }
            ],
        },
        tenant=okta_tenant.tenant,
    )
    groups = Sdk(okta_tenant.url, okta_tenant.api_token).list_groups()
    assert "Everyone" in [g.profile.actual_instance.name for g in groups]


def test_injected_outage_is_okta_503(okta_tenant: Tenant, http: httpx.Client) -> None:
    okta_tenant.twin.set_faults(
        {
            "version": 1,
            "name": "t",
            "rules": [{"id": "down", "match": {"twin": "okta"}, "action": {"kind": "outage"}}],
        },
        tenant=okta_tenant.tenant,
    )
    r = http.get("/api/v1/users")
    assert r.status_code == 503
    assert r.json()["errorCode"] == "E0000010"


def test_a_json_body_under_another_content_type_is_e0000019(http: httpx.Client) -> None:
    for media in ("text/xml", "application/x-www-form-urlencoded", "text/plain"):
        r = http.post(
            "/api/v1/groups", content=b'{"profile": {"name": "X"}}', headers={"Content-Type": media}
        )
        assert r.status_code == 400
        _is_okta_error(r.json(), "E0000019")
    ok = http.post(
        "/api/v1/groups",
        content=b'{"profile": {"name": "X"}}',
        headers={"Content-Type": "application/json; charset=UTF-8"},
    )
    assert ok.status_code == 200
