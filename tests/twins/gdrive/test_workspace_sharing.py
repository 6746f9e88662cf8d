"""Two Google twin processes on one database (as `dtu up` runs Drive, Sheets and Docs): a tenant
made through one door is a Workspace customer of both, and a reset through one resets the shared
Workspace for both while leaving the other twin's own process state (faults, clock) alone.

Two Drive apps stand in for Drive + Sheets/Docs here (those twins do not exist yet); what they
share is everything `twins._workspace.twin.google_twin` fixes for every Google twin."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from dtu.settings import TwinSettings
from dtu.testing.server import TwinServer
from tests.conftest import _drop_pg_database, _fresh_pg_database
from tests.twins.gdrive.conftest import user_creds

DEFAULT_TOKEN = "ya29.dtu-google-token"


@pytest.fixture
def shared_url(dtu_db_url: str | None, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own (whole-twin resets must not reach the session's twins)."""
    if dtu_db_url is None:
        yield f"sqlite:///{tmp_path / 'google.sqlite'}"
        return
    base = os.environ["DTU_TEST_POSTGRES_URL"]
    url, name = _fresh_pg_database(base)
    yield url
    _drop_pg_database(base, name)


@pytest.fixture
def doors(shared_url: str) -> Iterator[tuple[TwinServer, TwinServer]]:
    first = TwinServer("gdrive", TwinSettings(db_url=shared_url)).start()
    second = TwinServer("gdrive", TwinSettings(db_url=shared_url)).start()
    yield first, second
    second.stop()
    first.stop()
    first.runtime.store.dispose()
    second.runtime.store.dispose()


def _drive(twin: TwinServer, token: str) -> Any:
    return build(
        "drive",
        "v3",
        credentials=user_creds(token),
        discoveryServiceUrl=twin.url + "/discovery/v1/apis/{api}/{apiVersion}/rest",
        static_discovery=False,
        cache_discovery=False,
    )


def _names(drive: Any) -> set[str]:
    return {f["name"] for f in drive.files().list(fields="files(name)").execute()["files"]}


def _status(twin: TwinServer, token: str) -> int:
    """files.list with a bare token (google-auth would try to refresh on the 401)."""
    return httpx.get(twin.url + "/drive/v3/files", headers={"Authorization": f"Bearer {token}"}).status_code


def _tenant_ids(twin: TwinServer) -> set[str]:
    return {t["tenant"] for t in twin.control("GET", "/tenants")["tenants"]}


def test_a_tenant_made_through_one_door_is_a_customer_of_both(doors: tuple[TwinServer, TwinServer]) -> None:
    a, b = doors
    made = a.create_tenant()
    tenant, token = made["tenant"], made["credentials"]["access_token"]
    assert tenant in _tenant_ids(b)
    via_a, via_b = _drive(a, token), _drive(b, token)
    ids = [
        via_a.files().create(body={"name": "from A"}).execute()["id"],
        via_b.files().create(body={"name": "from B"}).execute()["id"],
        via_a.files().create(body={"name": "from A again"}).execute()["id"],
    ]
    assert len(set(ids)) == 3  # one id sequence for the two doors
    assert _names(via_a) == _names(via_b) == {"from A", "from B", "from A again"}
    # B's control plane knows the tenant: inspection, reset and deletion by tenant.
    assert {f["name"] for f in b.state("files", tenant=tenant) if not f["is_root"]} == _names(via_a)
    b.reset(tenant)
    assert _names(via_a) == set()
    assert via_a.about().get(fields="user(emailAddress)").execute()["user"]["emailAddress"]
    b.delete_tenant(tenant)
    assert tenant not in _tenant_ids(a)
    assert _status(a, token) == 401


def test_a_whole_reset_through_one_door_resets_the_workspace_for_both(
    doors: tuple[TwinServer, TwinServer],
) -> None:
    a, b = doors
    made = b.create_tenant()
    default_b = _drive(b, DEFAULT_TOKEN)
    default_b.files().create(body={"name": "before the reset"}).execute()
    session = httpx.post(
        b.url + "/upload/drive/v3/files?uploadType=resumable",
        json={"name": "half.bin"},
        headers={"Authorization": f"Bearer {DEFAULT_TOKEN}", "X-Upload-Content-Length": "4"},
    ).headers["location"]
    assert httpx.put(session, content=b"ab", headers={"Content-Range": "bytes 0-1/4"}).status_code == 308
    profile = {
        "version": 1,
        "name": "b-only",
        "rules": [
            {
                "id": "about-down",
                "match": {"twin": "gdrive", "operation": "drive.about.get"},
                "action": {"kind": "error", "status": 503},
            }
        ],
    }
    b.set_faults(profile)
    b_clock = b.clock(freeze=True, at=2_000_000_000)

    a.reset()

    # The shared Workspace is back to the default customer, through either door...
    assert _tenant_ids(a) == _tenant_ids(b) == {"default"}
    assert _names(default_b) == set()
    assert httpx.put(session, content=b"cd", headers={"Content-Range": "bytes 2-3/4"}).status_code == 404
    assert _status(b, made["credentials"]["access_token"]) == 401
    # ...and B's own process state is B's: its fault profile and its clock are as they were.
    assert b.control("GET", "/faults")["profile"]["name"] == "b-only"
    with pytest.raises(HttpError) as info:
        default_b.about().get(fields="user").execute()
    assert info.value.resp.status == 503
    assert b.clock()["now"] == b_clock["now"]
    assert _drive(a, DEFAULT_TOKEN).about().get(fields="user(emailAddress)").execute() == {
        "user": {"emailAddress": "alice@example.com"}
    }
