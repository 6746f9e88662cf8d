"""revisions: every content write is a version; list, get, download one, pin, delete."""

from __future__ import annotations

import io
from typing import Any

import pytest
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaIoBaseUpload

from tests.twins.gdrive.conftest import error_of


def _media(data: bytes) -> MediaIoBaseUpload:
    return MediaIoBaseUpload(io.BytesIO(data), mimetype="text/plain", resumable=False)


def _three_versions(drive: Any) -> str:
    fid: str = drive.files().create(body={"name": "v.txt"}, media_body=_media(b"one")).execute()["id"]
    drive.files().update(fileId=fid, media_body=_media(b"two!")).execute()
    drive.files().update(fileId=fid, media_body=_media(b"three")).execute()
    return fid


def test_list_and_get(drive: Any) -> None:
    fid = _three_versions(drive)
    listed = drive.revisions().list(fileId=fid).execute()
    assert listed["kind"] == "drive#revisionList"
    revs = listed["revisions"]
    assert len(revs) == 3 and set(revs[0]) == {"kind", "id", "mimeType", "modifiedTime"}
    head = drive.files().get(fileId=fid, fields="headRevisionId").execute()["headRevisionId"]
    assert revs[-1]["id"] == head
    got = drive.revisions().get(fileId=fid, revisionId=revs[0]["id"], fields="*").execute()
    assert got["size"] == "3" and got["keepForever"] is False
    assert got["lastModifyingUser"]["emailAddress"] == "alice@example.com"


def test_list_pages(drive: Any) -> None:
    fid = _three_versions(drive)
    first = drive.revisions().list(fileId=fid, pageSize=2).execute()
    assert len(first["revisions"]) == 2 and first["nextPageToken"]
    rest = drive.revisions().list(fileId=fid, pageSize=2, pageToken=first["nextPageToken"]).execute()
    assert len(rest["revisions"]) == 1 and "nextPageToken" not in rest
    ids = [r["id"] for r in first["revisions"] + rest["revisions"]]
    assert len(set(ids)) == 3


def test_download_an_old_revision(drive: Any) -> None:
    fid = _three_versions(drive)
    revs = drive.revisions().list(fileId=fid).execute()["revisions"]
    assert drive.revisions().get_media(fileId=fid, revisionId=revs[1]["id"]).execute() == b"two!"
    assert drive.files().get_media(fileId=fid).execute() == b"three"


def test_keep_forever(drive: Any) -> None:
    fid = _three_versions(drive)
    rid = drive.revisions().list(fileId=fid).execute()["revisions"][0]["id"]
    pinned = (
        drive.revisions()
        .update(fileId=fid, revisionId=rid, body={"keepForever": True}, fields="keepForever")
        .execute()
    )
    assert pinned == {"keepForever": True}
    assert drive.revisions().get(fileId=fid, revisionId=rid, fields="keepForever").execute() == {
        "keepForever": True
    }


def test_update_rejects_read_only_fields(drive: Any) -> None:
    fid = _three_versions(drive)
    rid = drive.revisions().list(fileId=fid).execute()["revisions"][0]["id"]
    with pytest.raises(HttpError) as info:
        drive.revisions().update(fileId=fid, revisionId=rid, body={"size": "9"}).execute()
    assert info.value.resp.status == 403
    assert error_of(info.value)["errors"][0]["reason"] == "fieldNotWritable"


def test_delete_old_revision_but_not_head(drive: Any) -> None:
    fid = _three_versions(drive)
    revs = drive.revisions().list(fileId=fid).execute()["revisions"]
    drive.revisions().delete(fileId=fid, revisionId=revs[0]["id"]).execute()
    assert [r["id"] for r in drive.revisions().list(fileId=fid).execute()["revisions"]] == [
        r["id"] for r in revs[1:]
    ]
    with pytest.raises(HttpError) as info:
        drive.revisions().get(fileId=fid, revisionId=revs[0]["id"]).execute()
    assert info.value.resp.status == 404
    assert error_of(info.value)["errors"][0]["location"] == "revisionId"
    with pytest.raises(HttpError) as head:
        drive.revisions().delete(fileId=fid, revisionId=revs[-1]["id"]).execute()
    assert head.value.resp.status == 400


def test_reader_cannot_read_revisions_and_stranger_gets_404(drive: Any, bob: Any, carol: Any) -> None:
    fid = _three_versions(drive)
    drive.permissions().create(
        fileId=fid, body={"type": "user", "role": "reader", "emailAddress": "bob@example.com"}
    ).execute()
    with pytest.raises(HttpError) as reader:
        bob.revisions().list(fileId=fid).execute()
    assert reader.value.resp.status == 403
    assert error_of(reader.value)["errors"][0]["reason"] == "insufficientFilePermissions"
    with pytest.raises(HttpError) as stranger:
        carol.revisions().list(fileId=fid).execute()
    assert stranger.value.resp.status == 404
