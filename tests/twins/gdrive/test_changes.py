"""changes: start page token, the change log with nextPageToken/newStartPageToken, removals."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from tests.twins.gdrive.conftest import error_of


def _start(drive: Any) -> str:
    token: str = drive.changes().getStartPageToken().execute()["startPageToken"]
    return token


def test_start_page_token_moves_with_writes(drive: Any) -> None:
    first = drive.changes().getStartPageToken().execute()
    assert first["kind"] == "drive#startPageToken" and first["startPageToken"].isdigit()
    drive.files().create(body={"name": "a"}).execute()
    assert int(_start(drive)) > int(first["startPageToken"])


def test_list_since_token(drive: Any) -> None:
    token = _start(drive)
    fid = drive.files().create(body={"name": "new"}).execute()["id"]
    drive.files().update(fileId=fid, body={"name": "renamed"}).execute()
    page = drive.changes().list(pageToken=token).execute()
    assert page["kind"] == "drive#changeList"
    assert "nextPageToken" not in page and page["newStartPageToken"] == _start(drive)
    [change] = page["changes"]  # one entry per file, in its latest state
    assert change["fileId"] == fid and change["removed"] is False
    assert change["changeType"] == "file" and change["kind"] == "drive#change"
    assert change["file"] == {
        "kind": "drive#file",
        "id": fid,
        "name": "renamed",
        "mimeType": "application/octet-stream",
    }
    again = drive.changes().list(pageToken=page["newStartPageToken"]).execute()
    assert again["changes"] == [] and again["newStartPageToken"] == page["newStartPageToken"]


def test_paging(drive: Any) -> None:
    token = _start(drive)
    made = [drive.files().create(body={"name": f"f{i}"}).execute()["id"] for i in range(5)]
    seen: list[str] = []
    page = drive.changes().list(pageToken=token, pageSize=2).execute()
    while "nextPageToken" in page:
        assert "newStartPageToken" not in page and len(page["changes"]) == 2
        seen += [c["fileId"] for c in page["changes"]]
        page = drive.changes().list(pageToken=page["nextPageToken"], pageSize=2).execute()
    seen += [c["fileId"] for c in page["changes"]]
    assert seen == made and page["newStartPageToken"] == _start(drive)


def test_removed_and_include_removed(drive: Any) -> None:
    fid = drive.files().create(body={"name": "doomed"}).execute()["id"]
    token = _start(drive)
    drive.files().delete(fileId=fid).execute()
    [change] = (
        drive.changes().list(pageToken=token, fields="changes(fileId,removed,file)").execute()["changes"]
    )
    assert change == {"fileId": fid, "removed": True}
    assert drive.changes().list(pageToken=token, includeRemoved=False).execute()["changes"] == []


def test_others_do_not_see_my_private_changes(drive: Any, bob: Any) -> None:
    token = _start(drive)
    private = drive.files().create(body={"name": "mine"}).execute()["id"]
    shared = drive.files().create(body={"name": "ours"}).execute()["id"]
    drive.permissions().create(
        fileId=shared, body={"type": "user", "role": "reader", "emailAddress": "bob@example.com"}
    ).execute()
    drive.files().delete(fileId=private).execute()
    ids = [c["fileId"] for c in bob.changes().list(pageToken=token).execute()["changes"]]
    assert ids == [shared]


def test_restrict_to_my_drive(drive: Any, bob: Any) -> None:
    token = _start(bob)
    shared = drive.files().create(body={"name": "theirs"}).execute()["id"]
    drive.permissions().create(
        fileId=shared, body={"type": "user", "role": "writer", "emailAddress": "bob@example.com"}
    ).execute()
    own = bob.files().create(body={"name": "bobs"}).execute()["id"]
    assert [c["fileId"] for c in bob.changes().list(pageToken=token).execute()["changes"]] == [shared, own]
    mine = bob.changes().list(pageToken=token, restrictToMyDrive=True).execute()["changes"]
    assert [c["fileId"] for c in mine] == [own]


def test_page_token_is_required_and_checked(drive: Any) -> None:
    with pytest.raises(TypeError):
        drive.changes().list().execute()  # the client itself knows pageToken is required
    with pytest.raises(HttpError) as info:
        drive.changes().list(pageToken="abc").execute()
    assert info.value.resp.status == 400
    assert error_of(info.value)["errors"][0]["location"] == "pageToken"


def test_bad_fields(drive: Any) -> None:
    with pytest.raises(HttpError) as info:
        drive.changes().list(pageToken="1", fields="changes(nope)").execute()
    assert info.value.resp.status == 400
