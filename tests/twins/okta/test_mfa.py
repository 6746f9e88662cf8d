"""TOTP factors through the okta SDK, and MFA in the Authn API, with real RFC 6238 passcodes
computed here from the shared secret on the twin's (frozen) clock.

The okta SDK 3.4.6's `UserFactorActivateRequest` / `UserFactorVerifyRequest` models carry only
`useNumberMatchingChallenge` (no `passCode`), so passcodes go over raw HTTP, as Okta documents them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from typing import Any

import httpx
import pytest
from okta.models import UserFactor

from dtu.testing.plugin import Tenant
from tests.twins.okta.conftest import Sdk, api_error

BOB = "00udtubob00000000002"
PASSWORD = "Dtu-Passw0rd!"


def totp(secret: str, at: float, step: int = 30) -> str:
    """RFC 6238 (HMAC-SHA1, 6 digits), written out here so the twin's own code is not the judge."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at // step)), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return str((struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000).zfill(6)


def test_rfc6238_reference_vector() -> None:
    # RFC 6238 appendix B, SHA1, T=59 -> 94287082 (8 digits); the 6-digit code is its tail.
    secret = base64.b32encode(b"12345678901234567890").decode().rstrip("=")
    assert totp(secret, 59) == "287082"


@pytest.fixture
def now(okta_tenant: Tenant) -> float:
    """The tenant's twin clock, frozen so that passcodes are computed for the right step."""
    return float(okta_tenant.twin.clock(tenant=okta_tenant.tenant, freeze=True)["now"])


def _enroll(okta_tenant: Tenant, user: str = BOB) -> tuple[str, str]:
    """Enroll a TOTP factor (raw HTTP: the SDK's model drops `_embedded.activation`)."""
    r = httpx.post(
        f"{okta_tenant.url}/api/v1/users/{user}/factors",
        headers={"Authorization": f"SSWS {okta_tenant.api_token}"},
        json={"factorType": "token:software:totp", "provider": "OKTA"},
    )
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["status"] == "PENDING_ACTIVATION" and data["id"].startswith("ost")
    activation = data["_embedded"]["activation"]
    assert activation["encoding"] == "base32" and activation["timeStep"] == 30
    return data["id"], activation["sharedSecret"]


def _post(t: Tenant, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(t.url + path, headers={"Authorization": f"SSWS {t.api_token}"}, json=body)


def _activate(t: Tenant, fid: str, code: str) -> httpx.Response:
    return _post(t, f"/api/v1/users/{BOB}/factors/{fid}/lifecycle/activate", {"passCode": code})


def _active(okta_tenant: Tenant, sdk: Sdk, now: float) -> tuple[str, str]:
    fid, secret = _enroll(okta_tenant)
    assert _activate(okta_tenant, fid, totp(secret, now)).status_code == 200
    return fid, secret


def _authn(t: Tenant, **body: Any) -> httpx.Response:
    return httpx.post(f"{t.url}/api/v1/authn", headers={"Authorization": f"SSWS {t.api_token}"}, json=body)


def test_enroll_activate_list_and_delete(okta_tenant: Tenant, sdk: Sdk, now: float) -> None:
    fid, secret = _enroll(okta_tenant)
    out = _activate(okta_tenant, fid, totp(secret, now))
    assert out.status_code == 200 and out.json()["status"] == "ACTIVE"
    listed = sdk.list_factors(BOB)
    assert [f.id for f in listed] == [fid]
    sdk.unenroll_factor(BOB, fid)
    assert sdk.list_factors(BOB) == []


def test_wrong_passcode_on_activate_is_e0000068(okta_tenant: Tenant, sdk: Sdk, now: float) -> None:
    fid, secret = _enroll(okta_tenant)
    wrong = str((int(totp(secret, now)) + 1) % 1_000_000).zfill(6)
    r = _activate(okta_tenant, fid, wrong)
    assert r.status_code == 403
    assert r.json()["errorCode"] == "E0000068" and r.json()["errorSummary"] == "Invalid Passcode/Answer"
    assert sdk.get_factor(BOB, fid).status.value == "PENDING_ACTIVATION"


def test_verify_factor_and_reuse_refused(okta_tenant: Tenant, sdk: Sdk, now: float) -> None:
    fid, secret = _active(okta_tenant, sdk, now)
    okta_tenant.twin.clock(tenant=okta_tenant.tenant, advance_s=30)
    code = totp(secret, now + 30)
    path = f"/api/v1/users/{BOB}/factors/{fid}/verify"
    result = _post(okta_tenant, path, {"passCode": code})
    assert result.status_code == 200 and result.json() == {"factorResult": "SUCCESS"}
    again = _post(okta_tenant, path, {"passCode": code})
    assert again.status_code == 403 and again.json()["errorCode"] == "E0000068"


def test_second_totp_enrolment_is_refused(okta_tenant: Tenant, sdk: Sdk, now: float) -> None:
    _active(okta_tenant, sdk, now)
    body = UserFactor.from_dict({"factorType": "token:software:totp", "provider": "OKTA"})
    assert api_error(sdk.enroll_factor, BOB, body).error_code == "E0000001"


def test_authn_mfa_required_then_verify(okta_tenant: Tenant, sdk: Sdk, now: float) -> None:
    fid, secret = _active(okta_tenant, sdk, now)
    first = _authn(okta_tenant, username="bob@example.com", password=PASSWORD).json()
    assert first["status"] == "MFA_REQUIRED" and "sessionToken" not in first
    (factor,) = first["_embedded"]["factors"]
    assert factor["id"] == fid and factor["factorType"] == "token:software:totp"
    verify = factor["_links"]["verify"]["href"]
    okta_tenant.twin.clock(tenant=okta_tenant.tenant, advance_s=30)
    wrong = httpx.post(verify, json={"stateToken": first["stateToken"], "passCode": "000000"})
    assert wrong.status_code == 403 and wrong.json()["errorCode"] == "E0000068"
    ok = httpx.post(verify, json={"stateToken": first["stateToken"], "passCode": totp(secret, now + 30)})
    assert ok.status_code == 200 and ok.json()["status"] == "SUCCESS"
    session = _post(okta_tenant, "/api/v1/sessions", {"sessionToken": ok.json()["sessionToken"]}).json()
    assert session["amr"] == ["pwd", "otp", "mfa"] and session["mfaActive"] is True
    assert sdk.get_session(session["id"]).id == session["id"]
    again = httpx.post(verify, json={"stateToken": first["stateToken"], "passCode": totp(secret, now + 60)})
    assert again.status_code == 401 and again.json()["errorCode"] == "E0000011"


def test_users_without_factors_still_get_success(okta_tenant: Tenant) -> None:
    r = _authn(okta_tenant, username="carol@example.com", password=PASSWORD)
    assert r.json()["status"] == "SUCCESS"
