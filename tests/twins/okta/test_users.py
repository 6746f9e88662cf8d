"""Users CRUD, lifecycle and listing through the okta SDK over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from okta.models import ChangePasswordRequest, UpdateUserRequest

from dtu.testing.plugin import Tenant
from tests.twins.okta.conftest import Sdk, api_error, new_user


def _status(sdk: Sdk, user_id: str) -> str:
    return str(sdk.get_user(user_id).status.value)


def test_create_with_password_is_active(sdk: Sdk) -> None:
    user = sdk.create_user(new_user())
    assert user.status.value == "ACTIVE"
    assert user.id.startswith("00u") and len(user.id) == 20
    assert user.profile.login == "dan@example.com"
    assert user.credentials.provider.type.value == "OKTA"
    assert user.activated is not None and user.created is not None


def test_create_without_password_is_provisioned(sdk: Sdk) -> None:
    assert sdk.create_user(new_user(password=None)).status.value == "PROVISIONED"


def test_create_not_activated_is_staged(sdk: Sdk) -> None:
    user = sdk.create_user(new_user(), activate=False)
    assert user.status.value == "STAGED" and user.activated is None


def test_create_with_provider_is_active_federated(sdk: Sdk) -> None:
    user = sdk.create_user(new_user(password=None), provider=True)
    assert user.status.value == "ACTIVE"
    assert user.credentials.provider.type.value == "FEDERATION"


def test_next_login_change_password_expires(sdk: Sdk) -> None:
    from okta.models import UserNextLogin

    user = sdk.create_user(new_user(), activate=True, next_login=UserNextLogin.CHANGEPASSWORD)
    assert user.status.value == "PASSWORD_EXPIRED"


def test_next_login_without_password_is_e0000124(sdk: Sdk) -> None:
    from okta.models import UserNextLogin

    err = api_error(
        sdk.create_user, new_user(password=None), activate=True, next_login=UserNextLogin.CHANGEPASSWORD
    )
    assert err.status == 400 and err.error_code == "E0000124"


def test_duplicate_login_is_e0000001(sdk: Sdk) -> None:
    err = api_error(sdk.create_user, new_user("alice@example.com"))
    assert err.status == 400 and err.error_code == "E0000001"
    assert err.error_summary == "Api validation failed: login"
    assert err.error_causes == [
        {"errorSummary": "login: An object with this field already exists in the current organization"}
    ]


def test_missing_required_attribute(http: httpx.Client) -> None:
    r = http.post(
        "/api/v1/users",
        json={"profile": {"login": "x@example.com", "email": "x@example.com", "firstName": "X"}},
    )
    assert r.status_code == 400
    assert r.json()["errorSummary"] == "Api validation failed: lastName"


def test_weak_password_is_refused(sdk: Sdk) -> None:
    err = api_error(sdk.create_user, new_user(password="short"))
    assert err.error_code == "E0000001" and err.error_summary == "Api validation failed: password"


def test_unknown_profile_attribute_is_refused(http: httpx.Client) -> None:
    r = http.post(
        "/api/v1/users",
        json={
            "profile": {
                "login": "x@example.com",
                "email": "x@example.com",
                "firstName": "X",
                "lastName": "Y",
                "shoeSize": 9,
            }
        },
    )
    assert r.status_code == 400 and r.json()["errorCode"] == "E0000001"


def test_get_by_id_login_and_short_login(sdk: Sdk) -> None:
    user = sdk.create_user(new_user())
    assert sdk.get_user(user.id).id == user.id
    assert sdk.get_user("dan@example.com").id == user.id
    assert sdk.get_user("dan").id == user.id


def test_get_unknown_is_e0000007(sdk: Sdk) -> None:
    err = api_error(sdk.get_user, "00uunknown0000000000")
    assert err.status == 404 and err.error_code == "E0000007"
    assert err.error_summary == "Not found: Resource not found: 00uunknown0000000000 (User)"


def test_partial_update_keeps_other_attributes(sdk: Sdk) -> None:
    user = sdk.create_user(new_user(title="Engineer"))
    updated = sdk.update_user(user.id, UpdateUserRequest.from_dict({"profile": {"nickName": "danny"}}))
    assert updated.profile.nick_name == "danny" and updated.profile.title == "Engineer"


def test_full_replace_drops_missing_attributes(http: httpx.Client, sdk: Sdk) -> None:
    user = sdk.create_user(new_user(title="Engineer"))
    r = http.put(
        f"/api/v1/users/{user.id}",
        json={
            "profile": {
                "login": "dan@example.com",
                "email": "dan@example.com",
                "firstName": "Dan",
                "lastName": "Doe",
            }
        },
    )
    assert r.status_code == 200
    assert "title" not in r.json()["profile"]


def test_replace_without_required_attribute_fails(http: httpx.Client, sdk: Sdk) -> None:
    user = sdk.create_user(new_user())
    r = http.put(
        f"/api/v1/users/{user.id}", json={"profile": {"login": "dan@example.com", "email": "dan@example.com"}}
    )
    assert r.status_code == 400 and r.json()["errorCode"] == "E0000001"


def test_delete_deactivates_first_then_deletes(sdk: Sdk) -> None:
    user = sdk.create_user(new_user())
    sdk.delete_user(user.id)
    assert _status(sdk, user.id) == "DEPROVISIONED"
    sdk.delete_user(user.id)
    assert api_error(sdk.get_user, user.id).error_code == "E0000007"


def test_lifecycle_activate_staged_without_password_gives_token(sdk: Sdk) -> None:
    user = sdk.create_user(new_user(password=None), activate=False)
    token = sdk.activate_user(user.id, send_email=False)
    assert token.activation_token and token.activation_url.endswith("/welcome/" + token.activation_token)
    assert _status(sdk, user.id) == "PROVISIONED"


def test_activate_active_user_is_e0000016(sdk: Sdk) -> None:
    user = sdk.create_user(new_user())
    err = api_error(sdk.activate_user, user.id, send_email=False)
    assert err.status == 403 and err.error_code == "E0000016"


def test_reactivate_provisioned(sdk: Sdk) -> None:
    user = sdk.create_user(new_user(password=None))
    assert sdk.reactivate_user(user.id, send_email=False).activation_token
    err = api_error(sdk.reactivate_user, sdk.create_user(new_user("eve@example.com")).id, send_email=False)
    assert err.error_code == "E0000038"


def test_suspend_unsuspend(sdk: Sdk) -> None:
    user = sdk.create_user(new_user())
    sdk.suspend_user(user.id)
    assert _status(sdk, user.id) == "SUSPENDED"
    err = api_error(sdk.suspend_user, user.id)
    assert err.status == 400 and err.error_causes == [
        {"errorSummary": "Cannot suspend a user that is not active"}
    ]
    sdk.unsuspend_user(user.id)
    assert _status(sdk, user.id) == "ACTIVE"


def test_unlock_not_locked_staged_is_e0000032(sdk: Sdk) -> None:
    user = sdk.create_user(new_user(), activate=False)
    err = api_error(sdk.unlock_user, user.id)
    assert err.status == 403 and err.error_code == "E0000032"


def test_expire_and_change_password(sdk: Sdk) -> None:
    user = sdk.create_user(new_user())
    expired = sdk.expire_password(user.id)
    assert expired.status.value == "PASSWORD_EXPIRED"
    body = ChangePasswordRequest.from_dict(
        {"oldPassword": {"value": "Secr3t-Pass"}, "newPassword": {"value": "N3w-Passw0rd"}}
    )
    sdk.change_password(user.id, body)
    assert _status(sdk, user.id) == "ACTIVE"


def test_change_password_wrong_old_is_e0000014(sdk: Sdk) -> None:
    user = sdk.create_user(new_user())
    body = ChangePasswordRequest.from_dict(
        {"oldPassword": {"value": "Wr0ng-pass"}, "newPassword": {"value": "N3w-Passw0rd"}}
    )
    err = api_error(sdk.change_password, user.id, body)
    assert err.status == 403 and err.error_code == "E0000014"
    assert err.error_causes == [{"errorSummary": "oldPassword: The credentials provided were incorrect."}]


def test_reset_password_goes_to_recovery(sdk: Sdk) -> None:
    user = sdk.create_user(new_user())
    result = sdk.reset_password(user.id, send_email=False)
    assert "/reset_password/" in result.reset_password_url
    assert _status(sdk, user.id) == "RECOVERY"


def test_deactivate_then_activate_again(sdk: Sdk) -> None:
    user = sdk.create_user(new_user())
    sdk.deactivate_user(user.id)
    assert _status(sdk, user.id) == "DEPROVISIONED"
    assert api_error(sdk.deactivate_user, user.id).error_code == "E0000038"
    sdk.activate_user(user.id, send_email=False)
    assert _status(sdk, user.id) == "ACTIVE"


def test_list_q_prefix(sdk: Sdk) -> None:
    assert [u.profile.login for u in sdk.list_users(q="car")] == ["carol@example.com"]


def test_list_hides_deprovisioned_but_search_finds_them(sdk: Sdk) -> None:
    user = sdk.create_user(new_user())
    sdk.deactivate_user(user.id)
    assert user.id not in [u.id for u in sdk.list_users()]
    found = sdk.list_users(search='status eq "DEPROVISIONED"')
    assert [u.id for u in found] == [user.id]


def test_filter_by_status_and_login(sdk: Sdk) -> None:
    sdk.create_user(new_user(), activate=False)
    staged = sdk.list_users(filter='status eq "STAGED"')
    assert [u.profile.login for u in staged] == ["dan@example.com"]
    both = sdk.list_users(filter='profile.login eq "bob@example.com" or profile.login eq "carol@example.com"')
    assert sorted(u.profile.login for u in both) == ["bob@example.com", "carol@example.com"]


def test_filter_refuses_search_operators(sdk: Sdk) -> None:
    err = api_error(sdk.list_users, filter='profile.lastName sw "B"')
    assert err.status == 400 and err.error_code == "E0000031"


def test_search_sw_and_sort(sdk: Sdk) -> None:
    users = sdk.list_users(
        search='profile.department eq "Engineering"', sort_by="profile.firstName", sort_order="desc"
    )
    assert [u.profile.first_name for u in users] == ["Carol", "Bob"]


def test_malformed_search_is_e0000031(sdk: Sdk) -> None:
    for expr in ("profile.firstName eq", 'status eq "ACTIVE" and', '(status eq "ACTIVE"', 'status foo "x"'):
        assert api_error(sdk.list_users, search=expr).error_code == "E0000031"


def test_paging_with_link_headers(okta_tenant: Tenant, http: httpx.Client) -> None:
    r = http.get("/api/v1/users", params={"limit": 2})
    assert len(r.json()) == 2
    links = r.headers.get_list("link")
    assert any('rel="self"' in x for x in links)
    nxt = [x for x in links if 'rel="next"' in x]
    assert len(nxt) == 1
    url = nxt[0].split(">")[0].lstrip("<")
    r2 = http.get(url)
    assert len(r2.json()) == 1
    assert not [x for x in r2.headers.get_list("link") if 'rel="next"' in x]
    ids = [u["id"] for u in r.json() + r2.json()]
    assert len(set(ids)) == 3


def test_sdk_follows_next_page(okta_tenant: Tenant) -> None:
    """The SDK's documented pager reads the `after` cursor from the `Link: rel="next"` header."""
    from okta.pagination import paginate_all

    sdk = Sdk(okta_tenant.url, okta_tenant.api_token)

    async def all_logins(client: Any) -> list[str]:
        return [u.profile.login async for u in paginate_all(client.list_users, limit=1)]

    assert sdk.run(all_logins) == ["alice@example.com", "bob@example.com", "carol@example.com"]


def test_bad_cursor_is_e0000029(http: httpx.Client) -> None:
    r = http.get("/api/v1/users", params={"after": "garbage"})
    assert r.status_code == 400 and r.json()["errorCode"] == "E0000029"


def test_cursor_of_other_query_is_refused(http: httpx.Client) -> None:
    r = http.get("/api/v1/users", params={"limit": 1})
    nxt = next(x for x in r.headers.get_list("link") if 'rel="next"' in x)
    after = nxt.split("after=")[1].split("&")[0].split(">")[0]
    r2 = http.get("/api/v1/users", params={"after": httpx.QueryParams({"a": after})["a"], "q": "a"})
    assert r2.status_code == 400 and r2.json()["errorCode"] == "E0000029"


def test_custom_schema_attribute_then_search(http: httpx.Client, sdk: Sdk) -> None:
    r = http.post(
        "/api/v1/meta/schemas/user/default",
        json={
            "definitions": {
                "custom": {
                    "id": "#custom",
                    "type": "object",
                    "properties": {"costCode": {"title": "Cost code", "type": "integer"}},
                }
            }
        },
    )
    assert r.status_code == 200
    assert r.json()["definitions"]["custom"]["properties"]["costCode"]["type"] == "integer"
    sdk.create_user(new_user(costCode=42))
    sdk.create_user(new_user("eve@example.com", costCode=7))
    found = sdk.list_users(search="profile.costCode gt 10")
    assert [u.profile.login for u in found] == ["dan@example.com"]
    bad = http.post(
        "/api/v1/users",
        json={
            "profile": {
                "login": "z@example.com",
                "email": "z@example.com",
                "firstName": "Z",
                "lastName": "Z",
                "costCode": "not a number",
            }
        },
    )
    assert bad.status_code == 400 and bad.json()["errorCode"] == "E0000001"


@pytest.mark.parametrize(
    "expr", ['profile.email co "example"', "profile.login pr", 'not (status eq "ACTIVE")']
)
def test_search_operators_parse(sdk: Sdk, expr: str) -> None:
    assert isinstance(sdk.list_users(search=expr), list)
