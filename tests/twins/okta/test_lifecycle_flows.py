"""The user lifecycle end to end: the tokens the lifecycle operations hand out (activation,
reset, temporary password) redeemed through the Authn API, as a custom sign-up or recovery page
would, with the okta SDK for the Management API calls and httpx for the Authn API.

https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserLifecycle/ and
https://developer.okta.com/docs/reference/api/authn/ .
"""

from __future__ import annotations

from typing import Any

import httpx
from okta.models import UserCredentials

from dtu.testing.plugin import Tenant
from tests.twins.okta.conftest import Sdk, api_error, new_user

NEW_PASSWORD = "Brand-N3w-Pass"


def _authn(t: Tenant, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{t.url}/api/v1/authn{path}", json=body)


def _status(sdk: Sdk, user_id: str) -> str:
    return str(sdk.get_user(user_id).status.value)


def _sign_in(t: Tenant, login: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{t.url}/api/v1/authn",
        json={"username": login, "password": password},
        headers={"Authorization": f"SSWS {t.api_token}"},
    )


def _events(sdk: Sdk, user_id: str) -> list[str]:
    return [e.event_type for e in sdk.list_log_events(filter=f'target.id eq "{user_id}"')]


def test_activation_token_finishes_activation(sdk: Sdk, okta_tenant: Tenant) -> None:
    user = sdk.create_user(new_user(password=None), activate=False)
    assert _status(sdk, user.id) == "STAGED"
    token = sdk.activate_user(user.id, send_email=False)
    assert token.activation_url.endswith("/welcome/" + token.activation_token)
    assert _status(sdk, user.id) == "PROVISIONED"
    started = _authn(okta_tenant, "", {"token": token.activation_token})
    assert started.status_code == 200, started.text
    body = started.json()
    assert body["status"] == "PASSWORD_RESET" and body["_links"]["next"]["name"] == "resetPassword"
    assert body["_embedded"]["policy"]["complexity"]["minLength"] == 8
    # The activation token is good once.
    assert _authn(okta_tenant, "", {"token": token.activation_token}).json()["errorCode"] == "E0000011"
    weak = _authn(
        okta_tenant, "/credentials/reset_password", {"stateToken": body["stateToken"], "newPassword": "short"}
    )
    assert weak.status_code == 403 and weak.json()["errorCode"] == "E0000080"
    done = _authn(
        okta_tenant,
        "/credentials/reset_password",
        {"stateToken": body["stateToken"], "newPassword": NEW_PASSWORD},
    )
    assert done.status_code == 200 and done.json()["status"] == "SUCCESS" and done.json()["sessionToken"]
    assert _status(sdk, user.id) == "ACTIVE"
    assert _sign_in(okta_tenant, "dan@example.com", NEW_PASSWORD).json()["status"] == "SUCCESS"
    spent = _authn(
        okta_tenant,
        "/credentials/reset_password",
        {"stateToken": body["stateToken"], "newPassword": NEW_PASSWORD + "x"},
    )
    assert spent.status_code == 401 and spent.json()["errorCode"] == "E0000011"


def test_reactivate_provisioned_replaces_the_activation_token(sdk: Sdk, okta_tenant: Tenant) -> None:
    user = sdk.create_user(new_user(password=None))
    assert _status(sdk, user.id) == "PROVISIONED"
    # PROVISIONED cannot be activated again: reactivate is the way.
    assert api_error(sdk.activate_user, user.id, send_email=False).error_code == "E0000016"
    old = sdk.reactivate_user(user.id, send_email=False).activation_token
    new = sdk.reactivate_user(user.id, send_email=False).activation_token
    assert old != new
    assert _authn(okta_tenant, "", {"token": old}).status_code == 401
    assert _authn(okta_tenant, "", {"token": new}).json()["status"] == "PASSWORD_RESET"
    assert "user.lifecycle.reactivate" in _events(sdk, user.id)


def test_reactivate_refused_for_active_and_staged(sdk: Sdk) -> None:
    active = sdk.create_user(new_user())
    staged = sdk.create_user(new_user("eve@example.com"), activate=False)
    for uid in (active.id, staged.id):
        err = api_error(sdk.reactivate_user, uid, send_email=False)
        assert err.status == 403 and err.error_code == "E0000038"


def test_expire_password_with_temp_password(sdk: Sdk, okta_tenant: Tenant, http: httpx.Client) -> None:
    user = sdk.create_user(new_user())
    # The SDK 3.4.6 types this answer as a User (its spec says so; the example and Okta answer
    # `{"tempPassword": ...}`), so the call succeeds but the model drops the password: read it raw.
    sdk.expire_password_with_temp_password(sdk.create_user(new_user("eve@example.com")).id)
    r = http.post(f"/api/v1/users/{user.id}/lifecycle/expire_password_with_temp_password")
    assert r.status_code == 200 and set(r.json()) == {"tempPassword"}
    temp = r.json()["tempPassword"]
    assert temp and _status(sdk, user.id) == "PASSWORD_EXPIRED"
    assert _sign_in(okta_tenant, "dan@example.com", "Secr3t-Pass").status_code == 401
    expired = _sign_in(okta_tenant, "dan@example.com", temp).json()
    assert expired["status"] == "PASSWORD_EXPIRED"
    changed = _authn(
        okta_tenant,
        "/credentials/change_password",
        {"stateToken": expired["stateToken"], "oldPassword": temp, "newPassword": NEW_PASSWORD},
    )
    assert changed.json()["status"] == "SUCCESS" and _status(sdk, user.id) == "ACTIVE"
    assert "user.account.expire_password" in _events(sdk, user.id)


def test_reset_password_link_then_new_password(sdk: Sdk, okta_tenant: Tenant) -> None:
    user = sdk.create_user(new_user())
    session = _open_session(okta_tenant, "dan@example.com", "Secr3t-Pass")
    url = sdk.reset_password(user.id, send_email=False, revoke_sessions=True).reset_password_url
    assert _status(sdk, user.id) == "RECOVERY"
    assert _session_status(okta_tenant, session) == 404  # revokeSessions=true closed it
    # A RECOVERY user cannot sign in with the old password.
    assert _sign_in(okta_tenant, "dan@example.com", "Secr3t-Pass").status_code == 401
    token = url.rsplit("/", 1)[1]
    verified = _authn(okta_tenant, "/recovery/token", {"recoveryToken": token})
    assert verified.json()["status"] == "PASSWORD_RESET", verified.text  # no recovery question
    again = _authn(okta_tenant, "/recovery/token", {"recoveryToken": token})
    assert again.status_code == 403 and again.json()["errorCode"] == "E0000105"
    done = _authn(
        okta_tenant,
        "/credentials/reset_password",
        {"stateToken": verified.json()["stateToken"], "newPassword": NEW_PASSWORD},
    )
    assert done.json()["status"] == "SUCCESS"
    assert _status(sdk, user.id) == "ACTIVE"
    assert _sign_in(okta_tenant, "dan@example.com", NEW_PASSWORD).json()["status"] == "SUCCESS"
    types = _events(sdk, user.id)
    assert "user.account.reset_password" in types and "user.account.update_password" in types


def test_forgot_password_keeps_the_status_and_asks_the_recovery_question(
    sdk: Sdk, okta_tenant: Tenant
) -> None:
    user = sdk.create_user(new_user())  # with a password; then a recovery question the SDK way
    sdk.change_recovery_question(
        user.id,
        UserCredentials.from_dict(
            {
                "password": {"value": "Secr3t-Pass"},
                "recovery_question": {"question": "First pet?", "answer": "Rex the dog"},
            }
        ),
    )
    url = sdk.forgot_password(user.id, send_email=False).reset_password_url
    assert _status(sdk, user.id) == "ACTIVE"  # forgot_password does not change the status
    verified = _authn(okta_tenant, "/recovery/token", {"recoveryToken": url.rsplit("/", 1)[1]}).json()
    assert verified["status"] == "RECOVERY"
    assert verified["_embedded"]["user"]["recovery_question"]["question"] == "First pet?"
    wrong = _authn(okta_tenant, "/recovery/answer", {"stateToken": verified["stateToken"], "answer": "Tom"})
    assert wrong.status_code == 403 and wrong.json()["errorCode"] == "E0000087"
    right = _authn(
        okta_tenant, "/recovery/answer", {"stateToken": verified["stateToken"], "answer": "rex the dog"}
    ).json()
    assert right["status"] == "PASSWORD_RESET"
    done = _authn(
        okta_tenant,
        "/credentials/reset_password",
        {"stateToken": right["stateToken"], "newPassword": NEW_PASSWORD},
    )
    assert done.json()["status"] == "SUCCESS"


def test_forgot_password_with_the_recovery_answer(sdk: Sdk, okta_tenant: Tenant) -> None:
    user = sdk.create_user(new_user())
    sdk.change_recovery_question(
        user.id,
        UserCredentials.from_dict(
            {
                "password": {"value": "Secr3t-Pass"},
                "recovery_question": {"question": "First pet?", "answer": "Rex the dog"},
            }
        ),
    )
    wrong = UserCredentials.from_dict(
        {"password": {"value": NEW_PASSWORD}, "recovery_question": {"answer": "Tom"}}
    )
    err = api_error(sdk.forgot_password_set_new_password, user.id, wrong)
    assert err.status == 403 and err.error_code == "E0000014"
    right = UserCredentials.from_dict(
        {"password": {"value": NEW_PASSWORD}, "recovery_question": {"answer": "Rex the dog"}}
    )
    creds = sdk.forgot_password_set_new_password(user.id, right)
    assert creds.recovery_question.question == "First pet?" and creds.provider.type.value == "OKTA"
    assert _sign_in(okta_tenant, "dan@example.com", NEW_PASSWORD).json()["status"] == "SUCCESS"
    bad_old = UserCredentials.from_dict(
        {"password": {"value": "Wr0ng-Passw0rd"}, "recovery_question": {"question": "q?", "answer": "four"}}
    )
    assert api_error(sdk.change_recovery_question, user.id, bad_old).error_code == "E0000014"


def test_forgot_password_needs_an_active_user(sdk: Sdk) -> None:
    user = sdk.create_user(new_user())
    sdk.suspend_user(user.id)
    assert api_error(sdk.forgot_password, user.id, send_email=False).error_code == "E0000038"


def test_reset_factors(sdk: Sdk, http: httpx.Client) -> None:
    user = sdk.create_user(new_user())
    enrolled = http.post(
        f"/api/v1/users/{user.id}/factors", json={"factorType": "token:software:totp", "provider": "GOOGLE"}
    )
    assert enrolled.status_code == 200
    assert len(http.get(f"/api/v1/users/{user.id}/factors").json()) == 1
    sdk.reset_factors(user.id)
    assert http.get(f"/api/v1/users/{user.id}/factors").json() == []
    assert _status(sdk, user.id) == "ACTIVE"
    assert "user.mfa.factor.reset_all" in _events(sdk, user.id)
    assert api_error(sdk.reset_factors, "00unothere0000000000").error_code == "E0000007"


def test_change_password_with_revoke_sessions(okta_tenant: Tenant, http: httpx.Client, sdk: Sdk) -> None:
    user = sdk.create_user(new_user())
    session = _open_session(okta_tenant, "dan@example.com", "Secr3t-Pass")
    r = http.post(
        f"/api/v1/users/{user.id}/credentials/change_password",
        json={
            "oldPassword": {"value": "Secr3t-Pass"},
            "newPassword": {"value": NEW_PASSWORD},
            "revokeSessions": True,
        },
    )
    assert r.status_code == 200, r.text
    assert _session_status(okta_tenant, session) == 404
    assert "user.session.end" in _events(sdk, user.id)


def test_lockout_unlock_and_sign_in(sdk: Sdk, okta_tenant: Tenant) -> None:
    user = sdk.create_user(new_user())
    for _ in range(10):
        assert _sign_in(okta_tenant, "dan@example.com", "Wr0ng-Passw0rd").status_code == 401
    assert _status(sdk, user.id) == "LOCKED_OUT"
    assert _sign_in(okta_tenant, "dan@example.com", "Secr3t-Pass").json()["status"] == "LOCKED_OUT"
    sdk.unlock_user(user.id)
    assert _status(sdk, user.id) == "ACTIVE"
    assert _sign_in(okta_tenant, "dan@example.com", "Secr3t-Pass").json()["status"] == "SUCCESS"
    types = _events(sdk, user.id)
    assert "user.account.lock" in types and "user.account.unlock" in types


def test_delete_logs_initiated_and_completed(sdk: Sdk) -> None:
    user = sdk.create_user(new_user())
    sdk.delete_user(user.id)
    sdk.delete_user(user.id)
    assert api_error(sdk.get_user, user.id).error_code == "E0000007"
    types = _events(sdk, user.id)
    assert types[-3:] == [
        "user.lifecycle.deactivate",
        "user.lifecycle.delete.initiated",
        "user.lifecycle.delete.completed",
    ]


def test_revoke_user_sessions(okta_tenant: Tenant, sdk: Sdk) -> None:
    user = sdk.create_user(new_user())
    sessions = [_open_session(okta_tenant, "dan@example.com", "Secr3t-Pass") for _ in range(2)]
    sdk.revoke_user_sessions(user.id)
    assert [_session_status(okta_tenant, s) for s in sessions] == [404, 404]
    types = _events(sdk, user.id)
    assert types.count("user.session.end") == 2 and "user.session.clear" in types


# -- helpers --------------------------------------------------------------------------------------


def _open_session(t: Tenant, login: str, password: str) -> str:
    token = _sign_in(t, login, password).json()["sessionToken"]
    r = httpx.post(
        f"{t.url}/api/v1/sessions",
        json={"sessionToken": token},
        headers={"Authorization": f"SSWS {t.api_token}"},
    )
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def _session_status(t: Tenant, session_id: str) -> int:
    return httpx.get(
        f"{t.url}/api/v1/sessions/{session_id}", headers={"Authorization": f"SSWS {t.api_token}"}
    ).status_code
