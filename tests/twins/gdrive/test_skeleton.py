"""Discovery, errors for unknown routes and bad credentials, about.get."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from dtu.testing.plugin import Tenant
from tests.twins.gdrive.conftest import drive_for, error_of, user_creds


def test_discovery_names_the_twin(gdrive_tenant: Tenant) -> None:
    doc = httpx.get(gdrive_tenant.url + "/discovery/v1/apis/drive/v3/rest").json()
    assert doc["rootUrl"] == gdrive_tenant.url + "/"
    assert doc["baseUrl"] == gdrive_tenant.url + "/drive/v3/"
    assert doc["servicePath"] == "drive/v3/"
    assert doc["batchPath"] == "batch/drive/v3"


def test_discovery_of_another_api_is_404(gdrive_tenant: Tenant) -> None:
    resp = httpx.get(gdrive_tenant.url + "/discovery/v1/apis/sheets/v4/rest")
    assert resp.status_code == 404
    assert resp.json()["error"]["errors"][0]["reason"] == "notFound"


def test_about_through_discovery_url(drive: Any) -> None:
    about = drive.about().get(fields="user,storageQuota").execute()
    assert about["user"]["emailAddress"] == "alice@example.com"
    assert about["user"]["displayName"] == "Alice Anderson"
    assert about["user"]["me"] is True
    assert int(about["storageQuota"]["limit"]) > 0
    assert set(about) == {"user", "storageQuota"}


def test_about_through_api_endpoint(gdrive_tenant: Tenant) -> None:
    client = build(
        "drive",
        "v3",
        credentials=user_creds(gdrive_tenant.access_token),
        client_options={"api_endpoint": gdrive_tenant.url + "/drive/v3/"},
    )
    about = client.about().get(fields="user(emailAddress)").execute()
    assert about == {"user": {"emailAddress": "alice@example.com"}}


def test_about_requires_fields(drive: Any) -> None:
    with pytest.raises(HttpError) as info:
        drive.about().get().execute()
    err = error_of(info.value)
    assert info.value.resp.status == 400
    assert err["errors"][0]["reason"] == "required"
    assert err["message"] == "The 'fields' parameter is required for this method."


def test_unknown_route_is_google_404(gdrive_tenant: Tenant) -> None:
    resp = httpx.get(
        gdrive_tenant.url + "/drive/v3/nothing-here",
        headers={"Authorization": f"Bearer {gdrive_tenant.access_token}"},
    )
    assert resp.status_code == 404
    assert resp.json() == {
        "error": {
            "code": 404,
            "message": "Not Found",
            "errors": [{"message": "Not Found", "domain": "global", "reason": "notFound"}],
        }
    }


def test_missing_credentials_is_401_login_required(gdrive_tenant: Tenant) -> None:
    resp = httpx.get(gdrive_tenant.url + "/drive/v3/files")
    assert resp.status_code == 401
    err = resp.json()["error"]
    assert err["status"] == "UNAUTHENTICATED"
    assert err["errors"][0] == {
        "message": "Login Required.",
        "domain": "global",
        "reason": "required",
        "location": "Authorization",
        "locationType": "header",
    }
    assert resp.headers["www-authenticate"].startswith("Bearer realm=")


def test_unknown_token_is_401_auth_error(gdrive_tenant: Tenant) -> None:
    resp = httpx.get(
        gdrive_tenant.url + "/drive/v3/files", headers={"Authorization": "Bearer ya29.not-a-token"}
    )
    assert resp.status_code == 401
    err = resp.json()["error"]
    assert err["errors"][0]["reason"] == "authError"
    assert err["errors"][0]["message"] == "Invalid Credentials"


def test_tenants_are_isolated(gdrive_tenant: Tenant, drive: Any) -> None:
    drive.files().create(body={"name": "mine"}).execute()
    other = gdrive_tenant.twin.create_tenant()
    try:
        stranger = drive_for(gdrive_tenant, other["credentials"]["access_token"])
        assert stranger.files().list().execute()["files"] == []
    finally:
        gdrive_tenant.twin.delete_tenant(other["tenant"])
