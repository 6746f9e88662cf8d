"""Drive's error bodies under a fault profile: real quotas (403 userRateLimitExceeded per user,
403 rateLimitExceeded per project), the backend's 429, injected errors, and eventual consistency
of files.list (`stale_reads`); google-api-python-client's own retries recover from them."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from dtu.testing.plugin import Tenant
from tests.twins.gdrive.conftest import error_of

WINDOW_START = 1_800_000_000.0  # a multiple of 60: quota windows are fixed minutes of the twin clock


def _profile(tenant: Tenant, action: dict[str, Any], **match: Any) -> None:
    rule = {"id": "r", "match": {"twin": "gdrive", **match}, "action": action}
    tenant.twin.set_faults({"version": 1, "name": "t", "rules": [rule]}, tenant=tenant.tenant)


def _quotas(tenant: Tenant, **quotas: int) -> None:
    """The customer's Cloud project quotas, as its fixture sets them."""
    customer = {"id": "C0dtu0001", "domain": "example.com", "name": "DTU Example", "quotas": quotas}
    tenant.twin.control("POST", "/seed", params={"tenant": tenant.tenant}, json={"customer": customer})


@pytest.fixture
def limited(gdrive_tenant: Tenant) -> Tenant:
    gdrive_tenant.twin.clock(gdrive_tenant.tenant, freeze=True, at=WINDOW_START)
    _quotas(gdrive_tenant, queries_per_minute_per_user=3, queries_per_minute=5)
    _profile(gdrive_tenant, {"kind": "real_limits"})
    return gdrive_tenant


def test_one_users_quota_is_403_user_rate_limit_exceeded(drive: Any, bob: Any, limited: Tenant) -> None:
    for _ in range(3):
        bob.about().get(fields="user").execute()
    with pytest.raises(HttpError) as info:
        bob.files().list().execute()
    assert info.value.resp.status == 403
    body = error_of(info.value)
    assert body["code"] == 403 and body["message"].startswith("User Rate Limit Exceeded")
    assert body["errors"] == [
        {"message": body["message"], "domain": "usageLimits", "reason": "userRateLimitExceeded"}
    ]
    assert "status" not in body
    drive.files().list().execute()  # alice has her own share


def test_the_projects_quota_is_403_rate_limit_exceeded(
    drive: Any, bob: Any, carol: Any, limited: Tenant
) -> None:
    for client in (drive, drive, bob, bob, carol):  # 5 queries: the project's quota
        client.about().get(fields="user").execute()
    with pytest.raises(HttpError) as info:
        carol.about().get(fields="user").execute()
    assert info.value.resp.status == 403
    assert error_of(info.value)["errors"] == [
        {"message": "Rate Limit Exceeded", "domain": "usageLimits", "reason": "rateLimitExceeded"}
    ]


def test_the_client_retries_a_quota_error_into_the_next_minute(bob: Any, limited: Tenant) -> None:
    for _ in range(3):
        bob.about().get(fields="user").execute()
    request = bob.files().list(fields="files(id)")
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the client's backoff, spent on the twin clock
        waits.append(seconds)
        limited.twin.clock(limited.tenant, advance_s=60)

    request._sleep = sleep
    assert request.execute(num_retries=2) == {"files": []}
    assert len(waits) == 1  # googleapiclient retried the 403 userRateLimitExceeded once


def test_uploads_count_against_the_quota(bob: Any, limited: Tenant) -> None:
    from googleapiclient.http import MediaInMemoryUpload

    media = MediaInMemoryUpload(b"x" * 10, mimetype="text/plain", resumable=True, chunksize=256 * 1024)
    request = bob.files().create(body={"name": "q"}, media_body=media)
    request.next_chunk()  # session start and the one chunk: two queries
    bob.about().get(fields="user").execute()
    with pytest.raises(HttpError) as info:
        bob.about().get(fields="user").execute()
    assert error_of(info.value)["errors"][0]["reason"] == "userRateLimitExceeded"


def test_rate_limit_action_is_drive_429(drive: Any, gdrive_tenant: Tenant) -> None:
    _profile(gdrive_tenant, {"kind": "rate_limit"}, operation="drive.files.list")
    with pytest.raises(HttpError) as info:
        drive.files().list().execute()
    assert info.value.resp.status == 429
    assert error_of(info.value) == {
        "code": 429,
        "message": "Rate Limit Exceeded",
        "errors": [
            {"message": "Rate Limit Exceeded", "domain": "usageLimits", "reason": "rateLimitExceeded"}
        ],
    }
    drive.files().get(fileId="root").execute()  # other operations are untouched


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("userRateLimitExceeded", "User Rate Limit Exceeded"),
        ("sharingRateLimitExceeded", None),
        ("dailyLimitExceeded", "Daily Limit Exceeded"),
    ],
)
def test_injected_usage_limit_errors(
    drive: Any, gdrive_tenant: Tenant, code: str, message: str | None
) -> None:
    _profile(gdrive_tenant, {"kind": "error", "status": 403, "code": code})
    with pytest.raises(HttpError) as info:
        drive.files().list().execute()
    body = error_of(info.value)
    assert info.value.resp.status == 403 and body["errors"][0]["reason"] == code
    assert body["errors"][0]["domain"] == "usageLimits"
    if message:
        assert body["message"] == message


def test_stale_reads_hide_new_files_from_listings_until_the_lag_passes(
    drive: Any, gdrive_tenant: Tenant
) -> None:
    gdrive_tenant.twin.clock(gdrive_tenant.tenant, freeze=True, at=WINDOW_START)
    _profile(gdrive_tenant, {"kind": "stale_reads", "lag_s": 5})
    fid = drive.files().create(body={"name": "fresh"}).execute()["id"]
    assert drive.files().list(q="name = 'fresh'").execute()["files"] == []  # not yet indexed
    assert drive.files().get(fileId=fid).execute()["name"] == "fresh"  # a get by id sees it
    gdrive_tenant.twin.clock(gdrive_tenant.tenant, advance_s=6)
    assert [f["id"] for f in drive.files().list(q="name = 'fresh'").execute()["files"]] == [fid]
