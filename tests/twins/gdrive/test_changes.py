"""changes: start page token, the change log with nextPageToken/newStartPageToken, removals."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from tests.twins.gdrive.conftest import error_of

FOLDER = "application/vnd.google-apps.folder"


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


def _share(drive: Any, fid: str, email: str, role: str = "reader") -> str:
    perm: str = (
        drive.permissions()
        .create(fileId=fid, body={"type": "user", "role": role, "emailAddress": email})
        .execute()["id"]
    )
    return perm


def _log(client: Any, token: str, **kw: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        page = client.changes().list(pageToken=token, pageSize=2, **kw).execute()
        out.extend(page["changes"])
        if "newStartPageToken" in page:
            return out
        token = page["nextPageToken"]


def test_unsharing_is_a_removal_for_who_lost_access(drive: Any, bob: Any) -> None:
    fid = drive.files().create(body={"name": "lent"}).execute()["id"]
    perm = _share(drive, fid, "bob@example.com")
    token = _start(bob)
    drive.permissions().delete(fileId=fid, permissionId=perm).execute()
    [change] = _log(bob, token, fields="newStartPageToken,nextPageToken,changes(fileId,removed,file)")
    assert change == {"fileId": fid, "removed": True}
    assert bob.changes().list(pageToken=token, includeRemoved=False).execute()["changes"] == []
    [mine] = _log(drive, token)  # the owner still sees it: a normal entry
    assert mine["removed"] is False and mine["file"]["id"] == fid


def test_unsharing_a_folder_removes_what_is_inside(drive: Any, bob: Any) -> None:
    folder = drive.files().create(body={"name": "box", "mimeType": FOLDER}).execute()["id"]
    inner = drive.files().create(body={"name": "in", "parents": [folder]}).execute()["id"]
    deeper = (
        drive.files().create(body={"name": "sub", "mimeType": FOLDER, "parents": [folder]}).execute()["id"]
    )
    leaf = drive.files().create(body={"name": "leaf", "parents": [deeper]}).execute()["id"]
    perm = _share(drive, folder, "bob@example.com", "writer")
    own = bob.files().create(body={"name": "bob's own, inside", "parents": [folder]}).execute()["id"]
    token = _start(bob)
    drive.permissions().delete(fileId=folder, permissionId=perm).execute()
    got = {c["fileId"]: c["removed"] for c in _log(bob, token)}
    assert got == {folder: True, inner: True, deeper: True, leaf: True}  # bob's own file stays his
    assert bob.files().get(fileId=own, fields="name").execute()["name"] == "bob's own, inside"


def test_moving_out_of_a_shared_folder_is_a_removal(drive: Any, bob: Any) -> None:
    shared = drive.files().create(body={"name": "shared", "mimeType": FOLDER}).execute()["id"]
    private = drive.files().create(body={"name": "private", "mimeType": FOLDER}).execute()["id"]
    fid = drive.files().create(body={"name": "moving", "parents": [shared]}).execute()["id"]
    _share(drive, shared, "bob@example.com")
    token = _start(bob)
    drive.files().update(fileId=fid, addParents=private, removeParents=shared).execute()
    assert [(c["fileId"], c["removed"]) for c in _log(bob, token)] == [(fid, True)]
    drive.files().update(fileId=fid, addParents=shared, removeParents=private).execute()  # and back
    assert [(c["fileId"], c["removed"]) for c in _log(bob, token)] == [(fid, False)]


def test_regaining_access_is_a_normal_entry(drive: Any, bob: Any) -> None:
    fid = drive.files().create(body={"name": "on and off"}).execute()["id"]
    perm = _share(drive, fid, "bob@example.com")
    token = _start(bob)
    drive.permissions().delete(fileId=fid, permissionId=perm).execute()
    _share(drive, fid, "bob@example.com")
    [change] = _log(bob, token)
    assert change["removed"] is False and change["file"]["name"] == "on and off"


def test_tokens_page_and_poll(drive: Any) -> None:
    """nextPageToken on every page but the last; the last page's newStartPageToken is the
    token of the next change; polling with it sees exactly the later writes."""
    token = _start(drive)
    made = [drive.files().create(body={"name": f"n{i}"}).execute()["id"] for i in range(3)]
    first = drive.changes().list(pageToken=token, pageSize=2).execute()
    assert set(first) == {"kind", "nextPageToken", "changes"}
    last = drive.changes().list(pageToken=first["nextPageToken"], pageSize=2).execute()
    assert set(last) == {"kind", "newStartPageToken", "changes"}
    assert [c["fileId"] for c in first["changes"] + last["changes"]] == made
    later = drive.files().create(body={"name": "later"}).execute()["id"]
    polled = drive.changes().list(pageToken=last["newStartPageToken"]).execute()
    assert [c["fileId"] for c in polled["changes"]] == [later]
    assert int(polled["newStartPageToken"]) > int(last["newStartPageToken"])


def test_shared_drive_changes(drive: Any, bob: Any) -> None:
    token = _start(bob)
    shared = drive.drives().create(requestId="r-changes", body={"name": "Team"}).execute()["id"]
    fid = (
        drive.files()
        .create(body={"name": "team file", "parents": [shared]}, supportsAllDrives=True)
        .execute()["id"]
    )
    member = (
        drive.permissions()
        .create(
            fileId=shared,
            body={"type": "user", "role": "writer", "emailAddress": "bob@example.com"},
            supportsAllDrives=True,
        )
        .execute()["id"]
    )
    # without includeItemsFromAllDrives, shared-drive items and drives stay out of the log
    assert bob.changes().list(pageToken=token).execute()["changes"] == []
    both = _log(bob, token, includeItemsFromAllDrives=True, supportsAllDrives=True)
    assert [(c["changeType"], c.get("fileId"), c["driveId"]) for c in both] == [
        ("file", fid, shared),
        ("drive", None, shared),
    ]
    assert both[1]["drive"]["name"] == "Team" and both[1]["removed"] is False
    one = bob.changes().list(pageToken=token, driveId=shared, supportsAllDrives=True).execute()["changes"]
    assert [c["changeType"] for c in one] == ["file", "drive"]
    drive.permissions().delete(fileId=shared, permissionId=member, supportsAllDrives=True).execute()
    gone = _log(bob, token, includeItemsFromAllDrives=True, supportsAllDrives=True)
    assert [(c["changeType"], c["removed"]) for c in gone] == [("file", True), ("drive", True)]
    assert "drive" not in gone[1]
    with pytest.raises(HttpError) as info:
        bob.changes().list(pageToken=token, driveId=shared, supportsAllDrives=True).execute()
    assert info.value.resp.status == 404 and error_of(info.value)["errors"][0]["location"] == "driveId"
    with pytest.raises(HttpError) as flags:
        drive.changes().getStartPageToken(driveId=shared).execute()  # supportsAllDrives missing
    assert flags.value.resp.status == 404


def test_a_deleted_shared_drive_is_a_drive_removal(drive: Any) -> None:
    shared = drive.drives().create(requestId="r-del", body={"name": "Doomed"}).execute()["id"]
    token = _start(drive)
    drive.drives().update(driveId=shared, body={"name": "Renamed"}).execute()
    [renamed] = _log(drive, token, includeItemsFromAllDrives=True, supportsAllDrives=True)
    assert renamed["changeType"] == "drive" and renamed["drive"]["name"] == "Renamed"
    drive.drives().delete(driveId=shared).execute()
    [gone] = _log(drive, token, includeItemsFromAllDrives=True, supportsAllDrives=True)
    assert gone == {
        "kind": "drive#change",
        "type": "drive",
        "changeType": "drive",
        "time": gone["time"],
        "removed": True,
        "driveId": shared,
    }
