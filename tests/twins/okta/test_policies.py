"""Policies through the okta SDK, and what they do to sign-in: MFA_ENROLL in the Authn API (with
the TOTP enroll and activate steps, real RFC 6238 codes), the password grant refused when the
sign-on policy wants a second factor, and the lockout count of the password policy."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from okta.models import (
    AuthenticatorEnrollmentPolicy,
    AuthenticatorEnrollmentPolicyRule,
    OktaSignOnPolicy,
    OktaSignOnPolicyRule,
    PasswordPolicy,
)

from dtu.testing.plugin import Tenant
from tests.twins.okta.conftest import Sdk, api_error
from tests.twins.okta.test_mfa import totp

ENGINEERING = "00gdtuengineering001"
PASSWORD = "Dtu-Passw0rd!"


@pytest.fixture
def now(okta_tenant: Tenant) -> float:
    """The tenant's twin clock, frozen so that passcodes are computed for the right step."""
    return float(okta_tenant.twin.clock(tenant=okta_tenant.tenant, freeze=True)["now"])


def _authn(t: Tenant, username: str, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(
        f"{t.url}/api/v1/authn",
        headers={"Authorization": f"SSWS {t.api_token}"},
        json={"username": username, "password": password},
    )


def _mfa_sign_on_policy(sdk: Sdk, group: str = ENGINEERING) -> str:
    """A sign-on policy for `group` whose rule requires a second factor."""
    policy = sdk.create_policy(
        OktaSignOnPolicy.from_dict(
            {
                "type": "OKTA_SIGN_ON",
                "name": "MFA for engineers",
                "conditions": {"people": {"groups": {"include": [group]}}},
            }
        )
    )
    sdk.create_policy_rule(
        policy.id,
        OktaSignOnPolicyRule.from_dict(
            {
                "type": "SIGN_ON",
                "name": "Require MFA",
                "actions": {
                    "signon": {"access": "ALLOW", "requireFactor": True, "factorPromptMode": "ALWAYS"}
                },
            }
        ),
    )
    return str(policy.id)


def test_default_policies_and_rules(sdk: Sdk, http: httpx.Client) -> None:
    for policy_type, rule_type in (
        ("OKTA_SIGN_ON", "SIGN_ON"),
        ("MFA_ENROLL", "MFA_ENROLL"),
        ("PASSWORD", "PASSWORD"),
    ):
        (policy,) = sdk.list_policies(type=policy_type)
        assert policy.name == "Default Policy" and policy.system is True
        (rule,) = sdk.list_policy_rules(policy.id)
        assert rule.name == "Default Rule" and rule.type.value == rule_type
    r = http.get("/api/v1/policies")
    assert r.status_code == 400 and r.json()["errorCode"] == "E0000001"
    assert http.get("/api/v1/policies/00pnope0000000000000").json()["errorCode"] == "E0000007"


def test_policy_crud_priority_and_lifecycle(sdk: Sdk, http: httpx.Client) -> None:
    pid = _mfa_sign_on_policy(sdk)
    listed = list(sdk.list_policies(type="OKTA_SIGN_ON"))
    assert (listed[0].id, listed[0].priority) == (pid, 1)
    assert listed[-1].system is True and listed[-1].priority == 2
    got = http.get(f"/api/v1/policies/{pid}").json()
    assert (
        got["conditions"] == {"people": {"groups": {"include": [ENGINEERING]}}} and got["status"] == "ACTIVE"
    )
    renamed = http.put(f"/api/v1/policies/{pid}", json={**got, "name": "Engineers MFA"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Engineers MFA"
    sdk.deactivate_policy(pid)
    assert http.get(f"/api/v1/policies/{pid}").json()["status"] == "INACTIVE"
    assert [p.id for p in sdk.list_policies(type="OKTA_SIGN_ON", status="ACTIVE")] != [pid]
    sdk.activate_policy(pid)
    default = listed[-1].id
    assert api_error(sdk.delete_policy, default).error_code == "E0000006"
    assert api_error(sdk.deactivate_policy, default).error_code == "E0000006"
    sdk.delete_policy(pid)
    assert api_error(sdk.get_policy, pid).error_code == "E0000007"


def test_rule_crud(sdk: Sdk, http: httpx.Client) -> None:
    pid = _mfa_sign_on_policy(sdk)
    rules = http.get(f"/api/v1/policies/{pid}/rules").json()
    assert [r["name"] for r in rules] == ["Require MFA"]
    rule = rules[0]
    assert rule["type"] == "SIGN_ON" and rule["actions"]["signon"]["requireFactor"] is True
    rule["actions"]["signon"]["requireFactor"] = False
    replaced = http.put(f"/api/v1/policies/{pid}/rules/{rule['id']}", json=rule)
    assert replaced.status_code == 200 and replaced.json()["actions"]["signon"]["requireFactor"] is False
    sdk.deactivate_policy_rule(pid, rule["id"])
    assert http.get(f"/api/v1/policies/{pid}/rules/{rule['id']}").json()["status"] == "INACTIVE"
    sdk.activate_policy_rule(pid, rule["id"])
    sdk.delete_policy_rule(pid, rule["id"])
    assert http.get(f"/api/v1/policies/{pid}/rules").json() == []
    default = next(p for p in sdk.list_policies(type="OKTA_SIGN_ON") if p.system)
    (default_rule,) = http.get(f"/api/v1/policies/{default.id}/rules").json()
    assert api_error(sdk.delete_policy_rule, default.id, default_rule["id"]).error_code == "E0000006"


def test_bad_policy_input_is_e0000001(http: httpx.Client) -> None:
    bad = [
        {"type": "NOPE", "name": "x"},
        {"type": "OKTA_SIGN_ON"},
        {"type": "OKTA_SIGN_ON", "name": "x", "conditions": {"people": {"groups": {"include": ["00gnope"]}}}},
        {
            "type": "MFA_ENROLL",
            "name": "x",
            "settings": {"factors": {"google_otp": {"enroll": {"self": "MAYBE"}}}},
        },
        {"type": "PASSWORD", "name": "x", "settings": {"password": {"lockout": {"maxAttempts": "ten"}}}},
        {"type": "OKTA_SIGN_ON", "name": "Default Policy"},
    ]
    for body in bad:
        r = http.post("/api/v1/policies", json=body)
        assert r.status_code == 400 and r.json()["errorCode"] == "E0000001", (body, r.text)
    assert http.post("/api/v1/policies", content=b"{").json()["errorCode"] == "E0000003"
    default = http.get("/api/v1/policies", params={"type": "OKTA_SIGN_ON"}).json()[0]["id"]
    r = http.post(
        f"/api/v1/policies/{default}/rules", json={"name": "r", "actions": {"signon": {"access": "MAYBE"}}}
    )
    assert r.status_code == 400 and r.json()["errorCode"] == "E0000001"


def test_sign_on_policy_requiring_mfa_enrolls_totp(okta_tenant: Tenant, sdk: Sdk, now: float) -> None:
    _mfa_sign_on_policy(sdk)
    assert _authn(okta_tenant, "alice@example.com").json()["status"] == "SUCCESS"  # not an engineer
    first = _authn(okta_tenant, "bob@example.com").json()
    assert first["status"] == "MFA_ENROLL" and "sessionToken" not in first
    offered = {(f["provider"], f["enrollment"], f["status"]) for f in first["_embedded"]["factors"]}
    assert offered == {("OKTA", "OPTIONAL", "NOT_SETUP"), ("GOOGLE", "OPTIONAL", "NOT_SETUP")}
    google = next(f for f in first["_embedded"]["factors"] if f["provider"] == "GOOGLE")
    enrolled = httpx.post(
        google["_links"]["enroll"]["href"],
        json={"stateToken": first["stateToken"], "factorType": "token:software:totp", "provider": "GOOGLE"},
    ).json()
    assert enrolled["status"] == "MFA_ENROLL_ACTIVATE" and enrolled["stateToken"] == first["stateToken"]
    factor = enrolled["_embedded"]["factor"]
    secret = factor["_embedded"]["activation"]["sharedSecret"]
    activate = enrolled["_links"]["next"]["href"]
    wrong = httpx.post(activate, json={"stateToken": first["stateToken"], "passCode": "000000"})
    if totp(secret, now) != "000000":
        assert wrong.status_code == 403 and wrong.json()["errorCode"] == "E0000068"
    done = httpx.post(
        activate, json={"stateToken": first["stateToken"], "passCode": totp(secret, now)}
    ).json()
    assert done["status"] == "SUCCESS" and done["sessionToken"]
    session = httpx.post(
        f"{okta_tenant.url}/api/v1/sessions",
        headers={"Authorization": f"SSWS {okta_tenant.api_token}"},
        json={"sessionToken": done["sessionToken"]},
    ).json()
    assert session["amr"] == ["pwd", "otp", "mfa"]
    assert [f.status.value for f in sdk.list_factors("00udtubob00000000002")] == ["ACTIVE"]
    again = _authn(okta_tenant, "bob@example.com").json()
    assert again["status"] == "MFA_REQUIRED" and again["_embedded"]["factors"][0]["id"] == factor["id"]


def test_mfa_enroll_policy_requires_a_factor_at_login(okta_tenant: Tenant, sdk: Sdk, now: float) -> None:
    policy = sdk.create_policy(
        AuthenticatorEnrollmentPolicy.from_dict(
            {
                "type": "MFA_ENROLL",
                "name": "Google Authenticator for engineers",
                "conditions": {"people": {"groups": {"include": [ENGINEERING]}}},
                "settings": {
                    "type": "AUTHENTICATORS",
                    "authenticators": [{"key": "google_otp", "enroll": {"self": "REQUIRED"}}],
                },
            }
        )
    )
    sdk.create_policy_rule(
        policy.id,
        AuthenticatorEnrollmentPolicyRule.from_dict(
            {"type": "MFA_ENROLL", "name": "At every sign-in", "actions": {"enroll": {"self": "LOGIN"}}}
        ),
    )
    first = _authn(okta_tenant, "carol@example.com").json()
    assert first["status"] == "MFA_ENROLL"
    assert [(f["provider"], f["enrollment"]) for f in first["_embedded"]["factors"]] == [
        ("GOOGLE", "REQUIRED")
    ]
    base = f"{okta_tenant.url}/api/v1/authn"
    okta = httpx.post(
        f"{base}/factors",
        json={"stateToken": first["stateToken"], "factorType": "token:software:totp", "provider": "OKTA"},
    )
    assert okta.status_code == 400 and okta.json()["errorCode"] == "E0000001"
    enrolled = httpx.post(
        f"{base}/factors",
        json={"stateToken": first["stateToken"], "factorType": "token:software:totp", "provider": "GOOGLE"},
    ).json()
    back = httpx.post(enrolled["_links"]["prev"]["href"], json={"stateToken": first["stateToken"]}).json()
    assert back["status"] == "MFA_ENROLL"
    enrolled = httpx.post(
        f"{base}/factors",
        json={"stateToken": first["stateToken"], "factorType": "token:software:totp", "provider": "GOOGLE"},
    ).json()
    secret = enrolled["_embedded"]["factor"]["_embedded"]["activation"]["sharedSecret"]
    done = httpx.post(
        enrolled["_links"]["next"]["href"],
        json={"stateToken": first["stateToken"], "passCode": totp(secret, now)},
    ).json()
    assert done["status"] == "SUCCESS"
    spent = httpx.post(f"{base}/cancel", json={"stateToken": first["stateToken"]})
    assert spent.status_code == 401 and spent.json()["errorCode"] == "E0000011"
    assert _authn(okta_tenant, "alice@example.com").json()["status"] == "SUCCESS"


def _password_app(http: httpx.Client) -> tuple[str, str]:
    body: dict[str, Any] = {
        "name": "oidc_client",
        "label": "Password grant app",
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
        "settings": {
            "oauthClient": {
                "application_type": "web",
                "grant_types": ["authorization_code", "password"],
                "redirect_uris": ["http://localhost:8765/callback"],
            }
        },
    }
    app = http.post("/api/v1/apps", json=body).json()
    assert http.put(f"/api/v1/apps/{app['id']}/groups/00gdtueveryone000001", json={}).status_code == 200
    oc = app["credentials"]["oauthClient"]
    return oc["client_id"], oc["client_secret"]


def test_password_grant_refused_when_sign_on_requires_mfa(
    okta_tenant: Tenant, sdk: Sdk, http: httpx.Client
) -> None:
    cid, secret = _password_app(http)

    def grant() -> httpx.Response:
        return httpx.post(
            f"{okta_tenant.url}/oauth2/default/v1/token",
            auth=(cid, secret),
            data={
                "grant_type": "password",
                "username": "bob@example.com",
                "password": PASSWORD,
                "scope": "openid",
            },
        )

    assert grant().status_code == 200
    _mfa_sign_on_policy(sdk)
    refused = grant()
    assert refused.status_code == 400 and refused.json() == {
        "error": "access_denied",
        "error_description": "Policy evaluation failed for this request, please check the policy configurations.",
    }


def test_lockout_comes_from_the_password_policy(okta_tenant: Tenant, sdk: Sdk, http: httpx.Client) -> None:
    (default,) = http.get("/api/v1/policies", params={"type": "PASSWORD"}).json()
    assert default["settings"]["password"]["lockout"]["maxAttempts"] == 10
    default["settings"]["password"]["lockout"]["maxAttempts"] = 3
    assert http.put(f"/api/v1/policies/{default['id']}", json=default).status_code == 200
    strict = sdk.create_policy(
        PasswordPolicy.from_dict(
            {
                "type": "PASSWORD",
                "name": "Never lock engineers",
                "conditions": {"people": {"groups": {"include": [ENGINEERING]}}},
                "settings": {"password": {"lockout": {"maxAttempts": 0}}},
            }
        )
    )
    assert strict.priority == 1
    # A policy applies through a rule that includes the user (none: the next policy is evaluated).
    rule = {"type": "PASSWORD", "name": "Engineers", "actions": {"passwordChange": {"access": "ALLOW"}}}
    assert http.post(f"/api/v1/policies/{strict.id}/rules", json=rule).status_code == 200
    for _ in range(3):
        assert _authn(okta_tenant, "alice@example.com", "wrong-Passw0rd").status_code == 401
    assert _authn(okta_tenant, "alice@example.com").json()["status"] == "LOCKED_OUT"
    locks = http.get("/api/v1/logs", params={"filter": 'eventType eq "user.account.lock"'}).json()
    assert [e["target"][0]["alternateId"] for e in locks] == ["alice@example.com"]
    for _ in range(4):
        assert _authn(okta_tenant, "bob@example.com", "wrong-Passw0rd").status_code == 401
    assert _authn(okta_tenant, "bob@example.com").json()["status"] == "SUCCESS"
