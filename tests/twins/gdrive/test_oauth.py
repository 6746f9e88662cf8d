"""Google OAuth: the service-account JWT grant (with domain-wide delegation), refresh grants,
scopes, expiry on the twin clock, tokeninfo, and `dtu google-credentials`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import google.auth.exceptions
import google.auth.transport.requests
import google.oauth2.credentials
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from dtu.cli import main as dtu_main
from dtu.testing.plugin import Tenant
from dtu.testing.server import TwinServer
from tests.twins.gdrive.conftest import DRIVE, discovery_url, error_of, sa_info

READONLY = "https://www.googleapis.com/auth/drive.readonly"


def _sa_creds(tenant: Tenant, scopes: list[str], subject: str | None = None, **overrides: Any) -> Any:
    info = {**sa_info(tenant), **overrides}
    return service_account.Credentials.from_service_account_info(info, scopes=scopes, subject=subject)


def _build(tenant: Tenant, creds: Any) -> Any:
    return build(
        "drive",
        "v3",
        credentials=creds,
        discoveryServiceUrl=discovery_url(tenant),
        static_discovery=False,
        cache_discovery=False,
    )


def test_service_account_acts_as_itself(gdrive_tenant: Tenant) -> None:
    creds = _sa_creds(gdrive_tenant, [DRIVE])
    about = _build(gdrive_tenant, creds).about().get(fields="user(emailAddress)").execute()
    assert about["user"]["emailAddress"] == gdrive_tenant.service_account["client_email"]
    assert creds.token.startswith("ya29.")


def test_domain_wide_delegation_impersonates_subject(gdrive_tenant: Tenant) -> None:
    creds = _sa_creds(gdrive_tenant, [DRIVE], subject="bob@example.com")
    about = _build(gdrive_tenant, creds).about().get(fields="user(emailAddress,displayName)").execute()
    assert about["user"] == {"emailAddress": "bob@example.com", "displayName": "Bob Brown"}


def test_subject_outside_the_customer_is_invalid_grant(gdrive_tenant: Tenant) -> None:
    creds = _sa_creds(gdrive_tenant, [DRIVE], subject="mallory@elsewhere.test")
    with pytest.raises(google.auth.exceptions.RefreshError) as info:
        creds.refresh(google.auth.transport.requests.Request())
    assert "invalid_grant" in str(info.value)
    assert "Invalid email or User ID" in str(info.value)


def test_delegation_beyond_granted_scopes_is_unauthorized_client(gdrive_tenant: Tenant) -> None:
    creds = _sa_creds(
        gdrive_tenant, ["https://www.googleapis.com/auth/gmail.send"], subject="bob@example.com"
    )
    with pytest.raises(google.auth.exceptions.RefreshError) as info:
        creds.refresh(google.auth.transport.requests.Request())
    assert "unauthorized_client" in str(info.value)


def test_assertion_signed_with_another_key_is_refused(gdrive_tenant: Tenant) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    creds = _sa_creds(gdrive_tenant, [DRIVE], private_key=pem)
    with pytest.raises(google.auth.exceptions.RefreshError) as info:
        creds.refresh(google.auth.transport.requests.Request())
    assert "Invalid JWT Signature." in str(info.value)


def test_unknown_service_account_is_invalid_grant(gdrive_tenant: Tenant) -> None:
    creds = _sa_creds(gdrive_tenant, [DRIVE], client_email="nobody@dtu-project.iam.gserviceaccount.com")
    with pytest.raises(google.auth.exceptions.RefreshError) as info:
        creds.refresh(google.auth.transport.requests.Request())
    assert "invalid_grant" in str(info.value)


def test_refresh_token_grant(gdrive_tenant: Tenant) -> None:
    creds = google.oauth2.credentials.Credentials(
        token=None,
        refresh_token=gdrive_tenant.refresh_token,
        token_uri=gdrive_tenant.url + "/token",
        client_id=gdrive_tenant.client_id,
        client_secret=gdrive_tenant.client_secret,
    )
    about = _build(gdrive_tenant, creds).about().get(fields="user(emailAddress)").execute()
    assert about["user"]["emailAddress"] == "alice@example.com"
    assert creds.token and creds.token.startswith("ya29.")


def test_refresh_with_wrong_secret_is_invalid_client(gdrive_tenant: Tenant) -> None:
    creds = google.oauth2.credentials.Credentials(
        token=None,
        refresh_token=gdrive_tenant.refresh_token,
        token_uri=gdrive_tenant.url + "/token",
        client_id=gdrive_tenant.client_id,
        client_secret="wrong",
    )
    with pytest.raises(google.auth.exceptions.RefreshError) as info:
        creds.refresh(google.auth.transport.requests.Request())
    assert "invalid_client" in str(info.value)


def test_unsupported_grant_type(gdrive_tenant: Tenant) -> None:
    resp = httpx.post(gdrive_tenant.url + "/token", data={"grant_type": "password"})
    assert resp.status_code == 400
    assert resp.json() == {
        "error": "unsupported_grant_type",
        "error_description": "Invalid grant_type: password",
    }


def test_missing_scope_is_403_insufficient_permissions(gdrive_tenant: Tenant) -> None:
    client = _build(gdrive_tenant, _sa_creds(gdrive_tenant, [READONLY], subject="alice@example.com"))
    assert client.files().list().execute()["kind"] == "drive#fileList"
    with pytest.raises(HttpError) as info:
        client.files().create(body={"name": "nope"}).execute()
    err = error_of(info.value)
    assert info.value.resp.status == 403
    assert err["message"] == "Request had insufficient authentication scopes."
    assert err["errors"][0]["reason"] == "insufficientPermissions"
    assert err["details"][0]["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    assert err["status"] == "PERMISSION_DENIED"


def test_access_tokens_expire_on_the_twin_clock(gdrive_tenant: Tenant) -> None:
    creds = _sa_creds(gdrive_tenant, [DRIVE], subject="alice@example.com")
    creds.refresh(google.auth.transport.requests.Request())
    token = creds.token
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(gdrive_tenant.url + "/drive/v3/files", headers=headers).status_code == 200
    gdrive_tenant.twin.clock(tenant=gdrive_tenant.tenant, advance_s=3601)
    resp = httpx.get(gdrive_tenant.url + "/drive/v3/files", headers=headers)
    assert resp.status_code == 401
    assert resp.json()["error"]["errors"][0]["reason"] == "authError"
    # google-auth refreshes on the 401 and the call goes through with a new token.
    assert _build(gdrive_tenant, creds).files().list().execute()["kind"] == "drive#fileList"
    assert creds.token != token


def test_tokeninfo(gdrive_tenant: Tenant) -> None:
    info = httpx.get(
        gdrive_tenant.url + "/tokeninfo", params={"access_token": gdrive_tenant.access_token}
    ).json()
    assert info["email"] == "alice@example.com"
    assert DRIVE in info["scope"].split()
    v3 = httpx.get(
        gdrive_tenant.url + "/oauth2/v3/tokeninfo", params={"access_token": gdrive_tenant.access_token}
    )
    assert v3.json()["email"] == "alice@example.com"


def test_tokeninfo_of_unknown_token(gdrive_tenant: Tenant) -> None:
    resp = httpx.get(gdrive_tenant.url + "/tokeninfo", params={"access_token": "ya29.nope"})
    assert resp.status_code == 400
    assert resp.json() == {"error": "invalid_token", "error_description": "Invalid Value"}


def test_google_credentials_command_writes_a_working_key_file(
    gdrive_twin: TwinServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "key.json"
    assert dtu_main(["google-credentials", "--out", str(out), "--url", gdrive_twin.url]) == 0
    info = json.loads(out.read_text())
    assert info["type"] == "service_account"
    assert info["token_uri"] == gdrive_twin.url + "/token"
    creds = service_account.Credentials.from_service_account_file(
        str(out), scopes=[DRIVE], subject="carol@example.com"
    )
    client = build(
        "drive",
        "v3",
        credentials=creds,
        static_discovery=False,
        cache_discovery=False,
        discoveryServiceUrl=gdrive_twin.url + "/discovery/v1/apis/{api}/{apiVersion}/rest",
    )
    assert (
        client.about().get(fields="user(emailAddress)").execute()["user"]["emailAddress"]
        == "carol@example.com"
    )
