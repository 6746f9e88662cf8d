"""Apps, app users and app group assignments through the okta SDK; sign-in through authlib."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
from authlib.integrations.requests_client import OAuth2Session
from okta.models import ApplicationGroupAssignment, AppUserAssignRequest, OpenIdConnectApplication

from dtu.testing.plugin import Tenant
from tests.twins.okta.conftest import Sdk, api_error, new_user
from tests.twins.okta.test_oidc import REDIRECT, _discovery, _login

ENGINEERING, IT_ADMINS = "00gdtuengineering001", "00gdtuitadmins000001"
ALICE, BOB = "00udtualice000000001", "00udtubob00000000002"


def _web_app(label: str = "Portal", **oauth: Any) -> OpenIdConnectApplication:
    client = {
        "application_type": "web",
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        **oauth,
    }
    return OpenIdConnectApplication.from_dict(
        {
            "name": "oidc_client",
            "label": label,
            "signOnMode": "OPENID_CONNECT",
            "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
            "settings": {"oauthClient": client},
        }
    )


def _service_app(label: str = "Worker") -> OpenIdConnectApplication:
    return OpenIdConnectApplication.from_dict(
        {
            "name": "oidc_client",
            "label": label,
            "signOnMode": "OPENID_CONNECT",
            "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
            "settings": {
                "oauthClient": {
                    "application_type": "service",
                    "grant_types": ["client_credentials"],
                    "response_types": ["token"],
                }
            },
        }
    )


def _client(t: Tenant, app: Any) -> Any:
    oc = app.credentials.oauth_client
    return SimpleNamespace(url=t.url, client_id=oc.client_id, client_secret=oc.client_secret)


def test_create_get_and_list_oidc_web_app(sdk: Sdk) -> None:
    app = sdk.create_application(_web_app())
    assert app.id.startswith("0oa") and app.status.value == "ACTIVE" and app.label == "Portal"
    oc = app.credentials.oauth_client
    assert oc.client_id == app.id and len(oc.client_secret) == 64
    assert app.settings.oauth_client.redirect_uris == [REDIRECT]
    got = sdk.get_application(app.id)
    assert got.settings.oauth_client.grant_types[0].value == "authorization_code"
    assert [a.label for a in sdk.list_applications(q="Port")] == ["Portal"]
    assert app.id in [a.id for a in sdk.list_applications(filter='status eq "ACTIVE"')]


def test_create_inactive_and_delete_needs_deactivate(sdk: Sdk) -> None:
    app = sdk.create_application(_web_app("Later"), activate=False)
    assert app.status.value == "INACTIVE"
    sdk.activate_application(app.id)
    err = api_error(sdk.delete_application, app.id)
    assert err.error_code == "E0000056" and err.status == 403
    sdk.deactivate_application(app.id)
    sdk.delete_application(app.id)
    assert api_error(sdk.get_application, app.id).error_code == "E0000007"


def test_validation_errors(sdk: Sdk, http: httpx.Client) -> None:
    err = api_error(sdk.create_application, _web_app("NoRedirect", redirect_uris=[]))
    assert err.error_code == "E0000001" and err.error_summary == "Api validation failed: redirect_uris"
    body = _service_app().to_dict()
    body["settings"]["oauthClient"]["grant_types"] = ["authorization_code"]
    body["settings"]["oauthClient"]["response_types"] = ["code"]
    body["settings"]["oauthClient"]["redirect_uris"] = [REDIRECT]
    r = http.post("/api/v1/apps", json=body)
    assert r.status_code == 400 and r.json()["errorSummary"] == "Api validation failed: grant_types"
    r = http.post("/api/v1/apps", json={**body, "label": ""})
    assert r.status_code == 400 and r.json()["errorSummary"] == "Api validation failed: label"


def test_replace_app(sdk: Sdk) -> None:
    app = sdk.create_application(_web_app())
    body = _web_app("Portal 2", redirect_uris=[REDIRECT, "http://localhost:8765/other"])
    out = sdk.replace_application(app.id, body)
    assert out.label == "Portal 2" and len(out.settings.oauth_client.redirect_uris) == 2
    assert out.credentials.oauth_client.client_secret == app.credentials.oauth_client.client_secret


def test_bad_filter_and_missing_scope(okta_tenant: Tenant, sdk: Sdk) -> None:
    assert api_error(sdk.list_applications, filter='label eq "x"').error_code == "E0000031"
    token = httpx.post(
        okta_tenant.url + "/oauth2/v1/token",
        auth=(okta_tenant.service_client_id, okta_tenant.service_client_secret),
        data={"grant_type": "client_credentials", "scope": "okta.users.read"},
    ).json()["access_token"]
    r = httpx.get(okta_tenant.url + "/api/v1/apps", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403 and r.json()["errorCode"] == "E0000006"


def test_assign_list_and_unassign_users(sdk: Sdk) -> None:
    app = sdk.create_application(_web_app())
    au = sdk.assign_user_to_application(
        app.id, AppUserAssignRequest.from_dict({"id": BOB, "scope": "USER", "profile": {"role": "viewer"}})
    )
    assert au.id == BOB and au.scope == "USER" and au.credentials.user_name == "bob@example.com"
    assert au.profile == {"role": "viewer"}
    assert [u.id for u in sdk.list_application_users(app.id)] == [BOB]
    assert sdk.get_application_user(app.id, BOB).profile == {"role": "viewer"}
    # the default web app is assigned to Everyone, so bob has it too
    assert [a.id for a in sdk.list_applications(filter=f'user.id eq "{BOB}"')] == [
        "0oadtuwebapp00000001",
        app.id,
    ]
    sdk.unassign_user_from_application(app.id, BOB)
    assert sdk.list_application_users(app.id) == []
    assert api_error(sdk.unassign_user_from_application, app.id, BOB).error_code == "E0000007"
    assert (
        api_error(
            sdk.assign_user_to_application, app.id, AppUserAssignRequest.from_dict({"id": "00unope"})
        ).status
        == 404
    )


def test_group_assignment_assigns_members(sdk: Sdk) -> None:
    app = sdk.create_application(_web_app())
    ga = sdk.assign_group_to_application(
        app.id, ENGINEERING, ApplicationGroupAssignment.from_dict({"priority": 0})
    )
    assert ga.id == ENGINEERING and ga.priority == 0
    assert [g.id for g in sdk.list_application_group_assignments(app.id)] == [ENGINEERING]
    users = sdk.list_application_users(app.id)
    assert {u.id for u in users} == {BOB, "00udtucarol000000003"} and {u.scope for u in users} == {"GROUP"}
    assert app.id in [a.id for a in sdk.list_assigned_applications_for_group(ENGINEERING)]
    sdk.unassign_application_from_group(app.id, ENGINEERING)
    assert sdk.list_application_users(app.id) == []
    assert api_error(sdk.get_application_group_assignment, app.id, ENGINEERING).error_code == "E0000007"


def test_unassigned_user_is_access_denied(okta_tenant: Tenant, sdk: Sdk) -> None:
    app = sdk.create_application(_web_app())
    client = _client(okta_tenant, app)
    meta = _discovery(okta_tenant)
    _, _, callback, _ = _login(client, meta)
    q = parse_qs(urlparse(callback).query)
    assert q["error"] == ["access_denied"]
    assert q["error_description"] == ["User is not assigned to the client application."]
    sdk.assign_user_to_application(app.id, AppUserAssignRequest.from_dict({"id": ALICE, "scope": "USER"}))
    oauth, _, callback, verifier = _login(client, meta)
    token = oauth.fetch_token(meta["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    assert jwt.decode(token["id_token"], options={"verify_signature": False})["aud"] == app.id


def test_app_groups_claim_filter_in_id_token(okta_tenant: Tenant, sdk: Sdk, http: httpx.Client) -> None:
    body = _web_app(
        groups_claim={"type": "FILTER", "name": "groups", "filter_type": "STARTS_WITH", "value": "IT"}
    ).to_dict()
    body["settings"]["oauthClient"]["groups_claim"] = {"filter_type": "STARTS_WITH", "value": "IT"}
    r = http.post("/api/v1/apps", json=body)
    assert r.status_code == 200, r.text
    created = r.json()
    app = sdk.get_application(created["id"])
    sdk.assign_group_to_application(app.id, IT_ADMINS)
    client = _client(okta_tenant, app)
    meta = _discovery(okta_tenant, "org")
    oauth, _, callback, verifier = _login(client, meta, scope="openid profile")
    token = oauth.fetch_token(meta["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    claims = jwt.decode(token["id_token"], options={"verify_signature": False})
    assert claims["groups"] == ["IT Admins"]


def test_service_app_client_credentials(okta_tenant: Tenant, sdk: Sdk) -> None:
    app = sdk.create_application(_service_app())
    oc = app.credentials.oauth_client
    meta = _discovery(okta_tenant)
    session = OAuth2Session(oc.client_id, oc.client_secret, scope="dtu.read")
    token = session.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["cid"] == app.id and claims["sub"] == app.id and claims["scp"] == ["dtu.read"]
    sdk.deactivate_application(app.id)
    r = httpx.post(
        meta["token_endpoint"],
        auth=(oc.client_id, oc.client_secret),
        data={"grant_type": "client_credentials", "scope": "dtu.read"},
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_password_grant_requires_assignment(okta_tenant: Tenant, sdk: Sdk) -> None:
    app = sdk.create_application(_web_app(grant_types=["authorization_code", "password"]))
    oc = app.credentials.oauth_client
    sdk.create_user(new_user("erin@example.com", password="Secr3t-Pass"))
    form = {
        "grant_type": "password",
        "username": "erin@example.com",
        "password": "Secr3t-Pass",
        "scope": "openid",
    }
    r = httpx.post(
        _discovery(okta_tenant)["token_endpoint"], auth=(oc.client_id, oc.client_secret), data=form
    )
    assert r.status_code == 400 and r.json()["error"] == "access_denied"
