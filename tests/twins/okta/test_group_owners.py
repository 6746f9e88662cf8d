"""Group owners and `expand` on groups through the okta SDK (async client) over HTTP."""

from __future__ import annotations

import httpx
from okta.models import AssignGroupOwnerRequestBody

from dtu.testing.plugin import Tenant
from tests.twins.okta.conftest import Sdk, api_error, new_user

ENGINEERING, IT_ADMINS, EVERYONE = "00gdtuengineering001", "00gdtuitadmins000001", "00gdtueveryone000001"
ALICE, BOB = "00udtualice000000001", "00udtubob00000000002"
WEB_APP = "0oadtuwebapp00000001"


def _owner(owner_id: str, kind: str) -> AssignGroupOwnerRequestBody:
    return AssignGroupOwnerRequestBody.from_dict({"id": owner_id, "type": kind})


def test_assign_list_and_delete_owners(sdk: Sdk) -> None:
    user = sdk.assign_group_owner(ENGINEERING, _owner(ALICE, "USER"))
    assert (user.id, user.type.value, user.display_name) == (ALICE, "USER", "Alice Anderson")
    assert user.origin_type.value == "OKTA_DIRECTORY" and user.resolved is True and user.last_updated
    group = sdk.assign_group_owner(ENGINEERING, _owner(IT_ADMINS, "GROUP"))
    assert (group.type.value, group.display_name) == ("GROUP", "IT Admins")
    sdk.assign_group_owner(ENGINEERING, _owner(ALICE, "USER"))  # again: the same owner
    assert [(o.id, o.type.value) for o in sdk.list_group_owners(ENGINEERING)] == [
        (ALICE, "USER"),
        (IT_ADMINS, "GROUP"),
    ]
    assert [o.id for o in sdk.list_group_owners(ENGINEERING, search='type eq "GROUP"')] == [IT_ADMINS]
    sdk.delete_group_owner(ENGINEERING, ALICE)
    assert [o.id for o in sdk.list_group_owners(ENGINEERING)] == [IT_ADMINS]
    assert api_error(sdk.delete_group_owner, ENGINEERING, ALICE).error_code == "E0000007"


def test_owner_errors(sdk: Sdk, http: httpx.Client) -> None:
    assert (
        api_error(sdk.assign_group_owner, ENGINEERING, _owner("00unobody00000000000", "USER")).status == 404
    )
    assert api_error(sdk.assign_group_owner, EVERYONE, _owner(ALICE, "USER")).error_code == "E0000006"
    assert api_error(sdk.list_group_owners, "00gnope0000000000000").error_code == "E0000007"
    r = http.post(f"/api/v1/groups/{ENGINEERING}/owners", json={"id": ALICE, "type": "ROBOT"})
    assert r.status_code == 400 and r.json()["errorCode"] == "E0000001"
    r = http.post(f"/api/v1/groups/{ENGINEERING}/owners", json={"id": EVERYONE, "type": "GROUP"})
    assert r.status_code == 400 and r.json()["errorCode"] == "E0000001"
    bad = http.get(f"/api/v1/groups/{ENGINEERING}/owners", params={"search": 'name eq "x"'})
    assert bad.status_code == 400 and bad.json()["errorCode"] == "E0000031"


def test_owners_page_and_leave_with_the_group(sdk: Sdk, http: httpx.Client) -> None:
    for login in ("o1@example.com", "o2@example.com", "o3@example.com"):
        uid = sdk.create_user(new_user(login)).id
        assert (
            http.post(f"/api/v1/groups/{ENGINEERING}/owners", json={"id": uid, "type": "USER"}).status_code
            == 201
        )
    first = http.get(f"/api/v1/groups/{ENGINEERING}/owners", params={"limit": 2})
    assert len(first.json()) == 2 and 'rel="next"' in ",".join(first.headers.get_list("link"))
    nxt = next(link for link in first.headers.get_list("link") if 'rel="next"' in link)
    rest = http.get(nxt[1 : nxt.index(">")]).json()
    assert len(rest) == 1
    temp = http.post("/api/v1/groups", json={"profile": {"name": "Owned"}}).json()
    http.post(f"/api/v1/groups/{temp['id']}/owners", json={"id": ENGINEERING, "type": "GROUP"})
    sdk.delete_group(ENGINEERING)
    assert http.get(f"/api/v1/groups/{temp['id']}/owners").json() == []


def test_expand_stats_on_list_and_get(sdk: Sdk, http: httpx.Client) -> None:
    got = http.get(f"/api/v1/groups/{EVERYONE}", params={"expand": "stats"}).json()
    assert got["_embedded"]["stats"]["usersCount"] == 3 and got["_embedded"]["stats"]["appsCount"] == 1
    assert "_embedded" not in http.get(f"/api/v1/groups/{EVERYONE}").json()
    listed = http.get("/api/v1/groups", params={"expand": "stats,app", "q": "Eng"}).json()
    assert [g["_embedded"]["stats"]["usersCount"] for g in listed] == [2]
    assert "app" not in listed[0]["_embedded"]  # an OKTA_GROUP has no source app
    bad = http.get("/api/v1/groups", params={"expand": "members"})
    assert bad.status_code == 400 and bad.json()["errorCode"] == "E0000001"


def test_expand_app_embeds_the_source_app_of_app_groups(okta_tenant: Tenant, http: httpx.Client) -> None:
    okta_tenant.twin.control(
        "POST",
        "/seed",
        params={"tenant": okta_tenant.tenant},
        json={
            "groups": [
                {"id": "00gdtuappgroup000001", "type": "APP_GROUP", "name": "Imported", "source": WEB_APP}
            ]
        },
    )
    got = http.get("/api/v1/groups/00gdtuappgroup000001", params={"expand": "app"}).json()
    assert got["type"] == "APP_GROUP" and got["source"] == {"id": WEB_APP}
    app = got["_embedded"]["app"]
    assert (app["id"], app["name"], app["signOnMode"]) == (WEB_APP, "oidc_client", "OPENID_CONNECT")
    listed = http.get("/api/v1/groups", params={"filter": 'type eq "APP_GROUP"', "expand": "app"}).json()
    assert [g["_embedded"]["app"]["label"] for g in listed] == ["DTU Web App"]
