"""`/api/v1/users/me` (API token's admin, or the user behind an org-server access token with
`okta.users.read.self`) and `expand=stats` on groups, through the okta SDK (SSWS and Bearer modes)."""

from __future__ import annotations

import httpx
from okta.models import UpdateUserRequest

from dtu.testing.plugin import Tenant
from tests.twins.okta.conftest import Sdk, api_error
from tests.twins.okta.test_oidc import _discovery, _tokens

ALICE = "00udtualice000000001"
BOB = "00udtubob00000000002"
ENGINEERING = "00gdtuengineering001"


def _user_token(t: Tenant, scope: str, username: str = "bob@example.com") -> str:
    """An org-server access token for `username` from the hosted sign-in (authorization code)."""
    token, _ = _tokens(t, _discovery(t, "org"), scope=scope, username=username)
    return str(token["access_token"])


def test_me_with_the_api_token_is_its_admin(sdk: Sdk) -> None:
    me = sdk.get_user("me")
    assert me.id == ALICE and me.profile.login == "alice@example.com"


def test_me_with_a_self_scoped_access_token(okta_tenant: Tenant) -> None:
    at = _user_token(okta_tenant, "openid okta.users.read.self")
    bearer = Sdk(okta_tenant.url, at, authorizationMode="Bearer")
    me = bearer.get_user("me")
    assert me.id == BOB and me.profile.login == "bob@example.com"
    # The self scope reaches only the caller: another user (even by id) is E0000006.
    assert api_error(bearer.get_user, ALICE).error_code == "E0000006"
    assert api_error(bearer.list_users).error_code == "E0000006"


def test_me_needs_a_self_scope(okta_tenant: Tenant) -> None:
    at = _user_token(okta_tenant, "openid profile")
    r = httpx.get(okta_tenant.url + "/api/v1/users/me", headers={"Authorization": f"Bearer {at}"})
    assert r.status_code == 403 and r.json()["errorCode"] == "E0000006"
    assert "insufficient_scope" in r.headers["WWW-Authenticate"]


def test_self_scope_not_granted_to_the_app_is_invalid_scope(okta_tenant: Tenant) -> None:
    org = _discovery(okta_tenant, "org")
    r = httpx.get(
        org["authorization_endpoint"],
        params={
            "client_id": okta_tenant.client_id,
            "response_type": "code",
            "scope": "openid okta.groups.read",
            "redirect_uri": "http://localhost:8765/callback",
            "state": "s1",
        },
    )
    assert r.status_code == 302 and "error=invalid_scope" in r.headers["location"]


def test_me_partial_update_with_manage_self(okta_tenant: Tenant) -> None:
    at = _user_token(okta_tenant, "openid okta.users.manage.self")
    bearer = Sdk(okta_tenant.url, at, authorizationMode="Bearer")
    updated = bearer.update_user("me", UpdateUserRequest.from_dict({"profile": {"nickName": "Bobby"}}))
    assert updated.id == BOB and updated.profile.nick_name == "Bobby"
    assert updated.profile.login == "bob@example.com"
    # manage.self covers read.self.
    assert bearer.get_user("me").profile.nick_name == "Bobby"


def test_me_with_a_client_credentials_token_is_e0000007(okta_tenant: Tenant) -> None:
    org = _discovery(okta_tenant, "org")
    r = httpx.post(
        org["token_endpoint"],
        auth=(okta_tenant.service_client_id, okta_tenant.service_client_secret),
        data={"grant_type": "client_credentials", "scope": "okta.users.read"},
    )
    at = r.json()["access_token"]
    me = httpx.get(okta_tenant.url + "/api/v1/users/me", headers={"Authorization": f"Bearer {at}"})
    assert me.status_code == 404 and me.json()["errorCode"] == "E0000007"


def test_list_groups_expand_stats(okta_tenant: Tenant, sdk: Sdk) -> None:
    groups = {g.profile.actual_instance.name: g for g in sdk.list_groups(expand="stats")}
    assert groups["Engineering"].embedded.stats.users_count == 2
    assert groups["Everyone"].embedded.stats.users_count == 3
    assert groups["IT Admins"].embedded.stats.users_count == 1
    # The web app is assigned to Everyone.
    assert groups["Everyone"].embedded.stats.apps_count == 1
    sdk.unassign_user_from_group(ENGINEERING, BOB)
    again = {g.profile.actual_instance.name: g for g in sdk.list_groups(expand="stats", q="Eng")}
    assert again["Engineering"].embedded.stats.users_count == 1


def test_list_groups_without_expand_has_no_embedded(sdk: Sdk) -> None:
    assert all(g.embedded is None for g in sdk.list_groups())
