"""Server info, auth, users and the error envelope."""

from __future__ import annotations

import httpx
import pytest
from atlassian import Jira, JiraCloud
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


# -- groups and membership --------------------------------------------------------------------


def test_groups_picker_and_members_through_pycontribs(jira: JIRA) -> None:
    assert jira.groups() == ["jira-software-users", "ops-team", "site-admins"]
    assert jira.groups(query="OPS") == ["ops-team"]
    members = jira.group_members("ops-team")  # GET /group?expand=users
    assert sorted(m["email"] for m in members.values()) == [
        "admin@example.com",
        "alice@example.com",
        "bob@example.com",
    ]
    assert jira.add_group("qa-team") and jira.groups(query="qa") == ["qa-team"]
    assert jira.remove_group("qa-team") and jira.groups(query="qa") == []


def test_group_lifecycle_through_jira_cloud(jira_cloud: JiraCloud) -> None:
    bob = jira_cloud.find_users(query="bob")[0]["accountId"]
    created = jira_cloud.create_group(data={"name": "release-crew"})
    assert created["name"] == "release-crew" and created["users"]["size"] == 0
    added = jira_cloud.add_user_to_group(groupname="release-crew", data={"accountId": bob})
    assert added["name"] == "release-crew"
    assert [g["name"] for g in jira_cloud.get_user_groups(account_id=bob)] == [
        "jira-software-users",
        "ops-team",
        "release-crew",
    ]
    group = jira_cloud.get_group(groupname="release-crew", expand="users")
    assert group["users"]["size"] == 1 and group["users"]["items"][0]["accountId"] == bob
    picker = jira_cloud.find_groups(query="crew")
    assert picker["total"] == 1 and picker["groups"][0]["html"] == "release-<b>crew</b>"
    bulk = jira_cloud.bulk_get_groups(group_name=["release-crew", "ops-team"])
    assert [g["name"] for g in bulk["values"]] == ["ops-team", "release-crew"] and bulk["isLast"]
    jira_cloud.remove_user_from_group(groupname="release-crew", account_id=bob)
    assert jira_cloud.get_users_from_group(groupname="release-crew")["total"] == 0
    jira_cloud.remove_group(groupname="release-crew")
    with pytest.raises(HTTPError) as err:
        jira_cloud.get_group(groupname="release-crew")
    assert err.value.response.status_code == 404


def test_group_errors(jira_tenant: Tenant, jira_cloud: JiraCloud) -> None:
    auth = (jira_tenant.email, jira_tenant.api_token)
    api = jira_tenant.url + "/rest/api/3"
    # Cloud identifies users by accountId only: a username is not enough
    resp = httpx.delete(api + "/group/user", params={"groupname": "ops-team", "username": "bob"}, auth=auth)
    assert resp.status_code == 400
    assert resp.json()["errorMessages"] == ["The accountId query parameter needs to be provided."]
    resp = httpx.delete(api + "/group", params={"groupname": "nope"}, auth=auth)
    assert resp.status_code == 404 and resp.json()["errorMessages"] == ["Specified group does not exist."]
    bob = ("bob@example.com", jira_tenant.api_tokens["bob@example.com"])
    assert httpx.get(api + "/group", params={"groupname": "ops-team"}, auth=bob).status_code == 403


def test_removing_a_group_swaps_comment_restrictions(jira: JIRA, jira_tenant: Tenant) -> None:
    jira.add_group("temp-crew")
    admin = jira.myself()["accountId"]
    httpx.post(
        jira_tenant.url + "/rest/api/2/group/user",
        params={"groupname": "temp-crew"},
        json={"accountId": admin},
        auth=(jira_tenant.email, jira_tenant.api_token),
    ).raise_for_status()
    key = jira.create_issue(project="DEMO", summary="restricted", issuetype={"name": "Task"}).key
    comment = jira.add_comment(key, "for the crew", visibility={"type": "group", "value": "temp-crew"})
    resp = httpx.delete(
        jira_tenant.url + "/rest/api/2/group",
        params={"groupname": "temp-crew", "swapGroup": "ops-team"},
        auth=(jira_tenant.email, jira_tenant.api_token),
    )
    assert resp.status_code == 200 and resp.content == b""
    assert jira.comment(key, comment.id).raw["visibility"]["value"] == "ops-team"


def test_assignable_in_every_project(jira: JIRA, carol: JIRA) -> None:
    both = jira.search_assignable_users_for_projects("", "DEMO,OPS")  # multiProjectSearch
    assert sorted(u.emailAddress for u in both) == [
        "admin@example.com",
        "alice@example.com",
        "bob@example.com",
    ]
    demo = jira.search_assignable_users_for_projects("car", "DEMO")
    assert [u.emailAddress for u in demo] == ["carol@example.com"]
    with pytest.raises(JIRAError) as err:
        carol.search_assignable_users_for_projects("", "OPS")
    assert err.value.status_code == 404
