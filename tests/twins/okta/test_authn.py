"""The classic Authn API's other statuses: PASSWORD_EXPIRED then
`/api/v1/authn/credentials/change_password`, and `/api/v1/authn/cancel`. The okta SDK 3.x has no
Authn client, so these go over raw HTTP as Okta documents them; the user side goes through the SDK."""

from __future__ import annotations

from typing import Any

import httpx

from dtu.testing.plugin import Tenant
from tests.twins.okta.conftest import Sdk, new_user
from tests.twins.okta.test_mfa import BOB, PASSWORD, totp

NEW_PASSWORD = "Fresh-Passw0rd-2"


def _post(t: Tenant, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(t.url + path, headers={"Authorization": f"SSWS {t.api_token}"}, json=body)


def _expired(t: Tenant, sdk: Sdk) -> tuple[str, dict[str, Any]]:
    """Dan, whose password an admin expired; his /authn answer."""
    user = sdk.create_user(new_user("dan@example.com", password="Old-Passw0rd-1"))
    sdk.expire_password(user.id)
    r = _post(t, "/api/v1/authn", {"username": "dan@example.com", "password": "Old-Passw0rd-1"})
    assert r.status_code == 200
    return user.id, r.json()


def test_password_expired_links_to_change_password(okta_tenant: Tenant, sdk: Sdk) -> None:
    _uid, first = _expired(okta_tenant, sdk)
    assert first["status"] == "PASSWORD_EXPIRED" and "sessionToken" not in first
    assert first["_links"]["next"]["name"] == "changePassword"
    assert first["_links"]["next"]["href"] == okta_tenant.url + "/api/v1/authn/credentials/change_password"
    assert first["_embedded"]["policy"]["complexity"]["minLength"] == 8


def test_change_expired_password_then_success(okta_tenant: Tenant, sdk: Sdk) -> None:
    uid, first = _expired(okta_tenant, sdk)
    r = httpx.post(
        first["_links"]["next"]["href"],
        json={
            "stateToken": first["stateToken"],
            "oldPassword": "Old-Passw0rd-1",
            "newPassword": NEW_PASSWORD,
        },
    )
    assert r.status_code == 200 and r.json()["status"] == "SUCCESS"
    session = _post(okta_tenant, "/api/v1/sessions", {"sessionToken": r.json()["sessionToken"]})
    assert session.status_code == 200 and session.json()["userId"] == uid
    assert sdk.get_user(uid).status.value == "ACTIVE"
    again = _post(okta_tenant, "/api/v1/authn", {"username": "dan@example.com", "password": NEW_PASSWORD})
    assert again.json()["status"] == "SUCCESS"
    old = _post(okta_tenant, "/api/v1/authn", {"username": "dan@example.com", "password": "Old-Passw0rd-1"})
    assert old.status_code == 401 and old.json()["errorCode"] == "E0000004"


def test_change_expired_password_wrong_old_is_e0000014(okta_tenant: Tenant, sdk: Sdk) -> None:
    _uid, first = _expired(okta_tenant, sdk)
    path = "/api/v1/authn/credentials/change_password"
    body = {"stateToken": first["stateToken"], "oldPassword": "Nope-Passw0rd-1", "newPassword": NEW_PASSWORD}
    r = httpx.post(okta_tenant.url + path, json=body)
    assert r.status_code == 403 and r.json()["errorCode"] == "E0000014"
    weak = httpx.post(
        okta_tenant.url + path, json={**body, "oldPassword": "Old-Passw0rd-1", "newPassword": "short"}
    )
    assert weak.status_code == 403 and weak.json()["errorCode"] == "E0000080"
    assert weak.json()["errorCauses"][0]["errorSummary"].startswith("password: Password requirements")
    # Both refusals left the transaction open.
    ok = httpx.post(okta_tenant.url + path, json={**body, "oldPassword": "Old-Passw0rd-1"})
    assert ok.status_code == 200 and ok.json()["status"] == "SUCCESS"


def test_change_password_with_mfa_state_token_is_e0000011(okta_tenant: Tenant) -> None:
    r = httpx.post(
        okta_tenant.url + "/api/v1/authn/credentials/change_password",
        json={"stateToken": "nope", "oldPassword": PASSWORD, "newPassword": NEW_PASSWORD},
    )
    assert r.status_code == 401 and r.json()["errorCode"] == "E0000011"


def test_change_expired_password_then_mfa(okta_tenant: Tenant, sdk: Sdk) -> None:
    now = float(okta_tenant.twin.clock(tenant=okta_tenant.tenant, freeze=True)["now"])
    enrolled = _post(
        okta_tenant, f"/api/v1/users/{BOB}/factors", {"factorType": "token:software:totp", "provider": "OKTA"}
    )
    fid, secret = enrolled.json()["id"], enrolled.json()["_embedded"]["activation"]["sharedSecret"]
    assert (
        _post(
            okta_tenant,
            f"/api/v1/users/{BOB}/factors/{fid}/lifecycle/activate",
            {"passCode": totp(secret, now)},
        ).status_code
        == 200
    )
    sdk.expire_password(BOB)
    first = _post(okta_tenant, "/api/v1/authn", {"username": "bob@example.com", "password": PASSWORD}).json()
    assert first["status"] == "PASSWORD_EXPIRED"
    changed = httpx.post(
        first["_links"]["next"]["href"],
        json={"stateToken": first["stateToken"], "oldPassword": PASSWORD, "newPassword": NEW_PASSWORD},
    ).json()
    assert changed["status"] == "MFA_REQUIRED" and changed["_embedded"]["factors"][0]["id"] == fid


def test_cancel_ends_the_transaction(okta_tenant: Tenant, sdk: Sdk) -> None:
    _uid, first = _expired(okta_tenant, sdk)
    r = httpx.post(okta_tenant.url + "/api/v1/authn/cancel", json={"stateToken": first["stateToken"]})
    assert r.status_code == 200 and r.json() == {"status": "UNAUTHENTICATED"}
    after = httpx.post(
        first["_links"]["next"]["href"],
        json={
            "stateToken": first["stateToken"],
            "oldPassword": "Old-Passw0rd-1",
            "newPassword": NEW_PASSWORD,
        },
    )
    assert after.status_code == 401 and after.json()["errorCode"] == "E0000011"
    twice = httpx.post(okta_tenant.url + "/api/v1/authn/cancel", json={"stateToken": first["stateToken"]})
    assert twice.status_code == 401 and twice.json()["errorCode"] == "E0000011"


def test_cancel_an_mfa_transaction(okta_tenant: Tenant) -> None:
    now = float(okta_tenant.twin.clock(tenant=okta_tenant.tenant, freeze=True)["now"])
    enrolled = _post(
        okta_tenant, f"/api/v1/users/{BOB}/factors", {"factorType": "token:software:totp", "provider": "OKTA"}
    )
    fid, secret = enrolled.json()["id"], enrolled.json()["_embedded"]["activation"]["sharedSecret"]
    _post(
        okta_tenant, f"/api/v1/users/{BOB}/factors/{fid}/lifecycle/activate", {"passCode": totp(secret, now)}
    )
    first = _post(okta_tenant, "/api/v1/authn", {"username": "bob@example.com", "password": PASSWORD}).json()
    cancel = httpx.post(first["_links"]["cancel"]["href"], json={"stateToken": first["stateToken"]})
    assert cancel.json()["status"] == "UNAUTHENTICATED"
    okta_tenant.twin.clock(tenant=okta_tenant.tenant, advance_s=30)
    verify = first["_embedded"]["factors"][0]["_links"]["verify"]["href"]
    late = httpx.post(verify, json={"stateToken": first["stateToken"], "passCode": totp(secret, now + 30)})
    assert late.status_code == 401 and late.json()["errorCode"] == "E0000011"


def test_cancel_without_state_token_is_e0000011(okta_tenant: Tenant) -> None:
    r = httpx.post(okta_tenant.url + "/api/v1/authn/cancel", json={})
    assert r.status_code == 401 and r.json()["errorCode"] == "E0000011"
