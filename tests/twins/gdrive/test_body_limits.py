"""A body past the twin's limit (Drive's own cap is far larger: the twin's is
`constants.MAX_BODY_BYTES`) is answered 413 in Drive's error envelope and stores nothing. The
twin is built here with a 64 KiB limit so that the test need not send 256 MiB."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaInMemoryUpload

from dtu.app import create_twin_app
from dtu.settings import TwinSettings
from tests.twins.gdrive.conftest import error_of, serve, user_creds
from twins.gdrive import TWIN

LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def small(dtu_db_url: str | None) -> Iterator[tuple[str, str]]:
    app = create_twin_app(
        dataclasses.replace(TWIN, max_body_bytes=LIMIT), TwinSettings(db_url=dtu_db_url or "sqlite://")
    )
    with serve(app) as url:
        made = httpx.post(url + "/_dtu/tenants").raise_for_status().json()
        yield url, made["credentials"]["access_token"]
        httpx.delete(f"{url}/_dtu/tenants/{made['tenant']}")


@pytest.fixture
def drive(small: tuple[str, str]) -> Any:
    from googleapiclient.discovery import build

    url, token = small
    return build(
        "drive",
        "v3",
        credentials=user_creds(token),
        discoveryServiceUrl=url + "/discovery/v1/apis/{api}/{apiVersion}/rest",
        static_discovery=False,
        cache_discovery=False,
    )


@pytest.mark.parametrize("resumable", [False, True])
def test_an_upload_past_the_limit_is_413_and_stores_nothing(drive: Any, resumable: bool) -> None:
    media = MediaInMemoryUpload(
        b"x" * (LIMIT + 1),
        mimetype="application/octet-stream",
        resumable=resumable,
        chunksize=-1 if resumable else 256 * 1024,
    )
    with pytest.raises(HttpError) as info:
        drive.files().create(body={"name": "huge.bin"}, media_body=media).execute()
    assert info.value.resp.status == 413
    body = error_of(info.value)
    assert body["code"] == 413 and body["errors"][0]["domain"] == "global"
    assert drive.files().list(q="name = 'huge.bin'").execute()["files"] == []


def test_huge_metadata_is_413(drive: Any) -> None:
    with pytest.raises(HttpError) as info:
        drive.files().create(body={"name": "n", "description": "d" * (LIMIT + 1)}).execute()
    assert info.value.resp.status == 413
    assert drive.files().list(q="name = 'n'").execute()["files"] == []
    assert drive.files().create(body={"name": "n"}).execute()["name"] == "n"  # the twin goes on
