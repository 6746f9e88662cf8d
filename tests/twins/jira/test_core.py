"""Server info, auth, users and the error envelope."""

from __future__ import annotations

import httpx
import pytest
from atlassian import Jira
from jira import JIRA, JIRAError
from requests import HTTPError

from dtu.testing.plugin import Tenant


def test_server_info_is_cloud(jira: JIRA) -> None:
    info = jira.server_info()
    assert info["deploymentType"] == "Cloud" and info["versionNumbers"][0] >= 1000
    assert jira._is_cloud


def test_myself_is_the_api_token_owner(jira: JIRA) -> None:
    me = jira.myself()
    assert me["emailAddress"] == "admin@example.com" and len(me["accountId"]) == 24


def test_bad_token_is_401_json(jira_tenant: Tenant) -> None:
    client = Jira(url=jira_tenant.url, username=jira_tenant.email, password="wrong", cloud=True)
    with pytest.raises(HTTPError) as err:
        client.myself()
    assert err.value.response.status_code == 401
    assert err.value.response.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert "Client must be authenticated" in str(err.value)


def test_anonymous_is_401(jira_tenant: Tenant) -> None:
    resp = httpx.get(jira_tenant.url + "/rest/api/3/myself")
    assert resp.status_code == 401
    assert resp.json() == {
        "errorMessages": ["Client must be authenticated to access this resource."],
        "errors": {},
    }


def test_bearer_token_works(jira_tenant: Tenant) -> None:
    resp = httpx.get(
        jira_tenant.url + "/rest/api/3/myself", headers={"Authorization": f"Bearer {jira_tenant.api_token}"}
    )
    assert resp.status_code == 200 and resp.json()["emailAddress"] == "admin@example.com"


def test_unknown_route_is_jira_404(jira_tenant: Tenant) -> None:
    resp = httpx.get(jira_tenant.url + "/rest/api/2/nothing", auth=(jira_tenant.email, jira_tenant.api_token))
    assert resp.status_code == 404 and resp.json()["errorMessages"]


def test_search_users_by_email_prefix(jira: JIRA) -> None:
    users = jira.search_users(query="bob")
    assert [u.displayName for u in users] == ["Bob Brown"]


def test_unknown_user_is_404(jira: JIRA) -> None:
    with pytest.raises(JIRAError) as err:
        jira.user("000000000000000000000000")
    assert err.value.status_code == 404


def test_group_members(cloud: Jira) -> None:
    members = cloud.get_all_users_from_group("ops-team")
    assert {m["displayName"] for m in members["values"]} == {"DTU Admin", "Alice Anderson", "Bob Brown"}


def test_injected_rate_limit_is_429_with_retry_after(jira_tenant: Tenant) -> None:
    jira_tenant.twin.set_faults(
        {
            "version": 1,
            "name": "t",
            "rules": [
                {
                    "id": "r",
                    "match": {"twin": "jira", "operation": "getCurrentUser", "tenant": jira_tenant.tenant},
                    "action": {"kind": "rate_limit", "retry_after_s": 3},
                }
            ],
        },
        tenant=jira_tenant.tenant,
    )
    # Jira Cloud: X-RateLimit-Reset = the request's time + Retry-After, as yyyy-MM-ddTHH:mmZ;
    # the request's time is the tenant's twin clock (frozen far from today's date).
    jira_tenant.twin.clock(tenant=jira_tenant.tenant, freeze=True, at=1_700_000_000.0)  # 22:13:20 UTC
    try:
        resp = httpx.get(
            jira_tenant.url + "/rest/api/3/myself", auth=(jira_tenant.email, jira_tenant.api_token)
        )
        assert resp.status_code == 429 and resp.headers["Retry-After"] == "3"
        assert resp.json()["errorMessages"] == ["Rate limit exceeded."]
        assert resp.headers["X-RateLimit-Reset"] == "2023-11-14T22:13Z"
        jira_tenant.twin.clock(tenant=jira_tenant.tenant, advance_s=40)  # 22:14:00 + 3 s
        again = httpx.get(
            jira_tenant.url + "/rest/api/2/myself", auth=(jira_tenant.email, jira_tenant.api_token)
        )
        assert again.headers["X-RateLimit-Reset"] == "2023-11-14T22:14Z"
    finally:
        jira_tenant.twin.set_faults(None, tenant=jira_tenant.tenant)
        jira_tenant.twin.clock(tenant=jira_tenant.tenant, freeze=False)


def test_real_burst_limit_sends_reset_on_the_twin_clock(jira_tenant: Tenant) -> None:
    jira_tenant.twin.set_faults(
        {
            "version": 1,
            "name": "limits",
            "rules": [
                {
                    "id": "r",
                    "match": {"twin": "jira", "tenant": jira_tenant.tenant},
                    "action": {"kind": "real_limits"},
                }
            ],
        },
        tenant=jira_tenant.tenant,
    )
    jira_tenant.twin.clock(tenant=jira_tenant.tenant, freeze=True, at=1_700_000_059.5)  # 22:14:19.5
    try:
        with httpx.Client(auth=(jira_tenant.email, jira_tenant.api_token)) as client:
            statuses = [client.get(jira_tenant.url + "/rest/api/3/serverInfo") for _ in range(101)]
        limited = [r for r in statuses if r.status_code == 429]
        assert len(limited) == 1 and statuses[-1].status_code == 429  # 100 calls a second, frozen clock
        assert (
            limited[0].headers["Retry-After"] == "1"
            and limited[0].headers["RateLimit-Reason"] == "jira-burst-based"
        )
        assert limited[0].headers["X-RateLimit-Reset"] == "2023-11-14T22:14Z"
    finally:
        jira_tenant.twin.set_faults(None, tenant=jira_tenant.tenant)
        jira_tenant.twin.clock(tenant=jira_tenant.tenant, freeze=False)
