"""permissions: sharing, inheritance through folders, ownership transfer, 404 without access."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from tests.twins.gdrive.conftest import error_of

FOLDER = "application/vnd.google-apps.folder"


def _share(drive: Any, file_id: str, email: str, role: str = "reader", **kw: Any) -> dict[str, Any]:
    result: dict[str, Any] = (
        drive.permissions()
        .create(fileId=file_id, body={"type": "user", "role": role, "emailAddress": email}, **kw)
        .execute()
    )
    return result


def test_share_with_a_user(drive: Any, bob: Any) -> None:
    fid = drive.files().create(body={"name": "shared"}).execute()["id"]
    perm = _share(drive, fid, "bob@example.com")
    assert set(perm) == {"kind", "id", "type", "role"}
    assert perm["kind"] == "drive#permission" and perm["role"] == "reader"
    seen = bob.files().get(fileId=fid, fields="id,ownedByMe,capabilities(canEdit)").execute()
    assert seen == {"id": fid, "ownedByMe": False, "capabilities": {"canEdit": False}}
    assert [f["id"] for f in bob.files().list(q="sharedWithMe").execute()["files"]] == [fid]


def test_reader_cannot_write(drive: Any, bob: Any) -> None:
    fid = drive.files().create(body={"name": "ro"}).execute()["id"]
    _share(drive, fid, "bob@example.com")
    with pytest.raises(HttpError) as info:
        bob.files().update(fileId=fid, body={"name": "hacked"}).execute()
    assert info.value.resp.status == 403
    assert error_of(info.value)["errors"][0]["reason"] == "insufficientFilePermissions"


def test_folder_permissions_are_inherited(drive: Any, bob: Any) -> None:
    folder = drive.files().create(body={"name": "team", "mimeType": FOLDER}).execute()["id"]
    inner = drive.files().create(body={"name": "plan", "parents": [folder]}).execute()["id"]
    with pytest.raises(HttpError):
        bob.files().get(fileId=inner).execute()
    _share(drive, folder, "bob@example.com", "writer")
    renamed = bob.files().update(fileId=inner, body={"name": "plan v2"}, fields="name").execute()
    assert renamed == {"name": "plan v2"}
    listed = bob.files().list(q=f"'{folder}' in parents").execute()["files"]
    assert [f["id"] for f in listed] == [inner]


def test_group_and_anyone_permissions(drive: Any, bob: Any, carol: Any) -> None:
    fid = drive.files().create(body={"name": "eng"}).execute()["id"]
    drive.permissions().create(
        fileId=fid, body={"type": "group", "role": "commenter", "emailAddress": "engineering@example.com"}
    ).execute()
    assert carol.files().get(fileId=fid, fields="capabilities(canComment)").execute() == {
        "capabilities": {"canComment": True}
    }
    public = drive.files().create(body={"name": "public"}).execute()["id"]
    perm = drive.permissions().create(fileId=public, body={"type": "anyone", "role": "reader"}).execute()
    assert perm["id"] == "anyoneWithLink"
    assert bob.files().get(fileId=public).execute()["id"] == public


def test_list_get_update_delete(drive: Any, bob: Any) -> None:
    fid = drive.files().create(body={"name": "doc"}).execute()["id"]
    perm = _share(drive, fid, "bob@example.com")
    listed = drive.permissions().list(fileId=fid, fields="permissions(id,role,emailAddress)").execute()
    assert {(p["emailAddress"], p["role"]) for p in listed["permissions"]} == {
        ("alice@example.com", "owner"),
        ("bob@example.com", "reader"),
    }
    got = drive.permissions().get(fileId=fid, permissionId=perm["id"], fields="emailAddress,role").execute()
    assert got == {"emailAddress": "bob@example.com", "role": "reader"}
    upd = drive.permissions().update(fileId=fid, permissionId=perm["id"], body={"role": "writer"}).execute()
    assert upd["role"] == "writer"
    drive.permissions().delete(fileId=fid, permissionId=perm["id"]).execute()
    with pytest.raises(HttpError) as info:
        bob.files().get(fileId=fid).execute()
    assert info.value.resp.status == 404


def test_owner_permission_cannot_be_removed(drive: Any) -> None:
    fid = drive.files().create(body={"name": "mine"}).execute()["id"]
    owner = drive.permissions().list(fileId=fid).execute()["permissions"][0]
    with pytest.raises(HttpError) as info:
        drive.permissions().delete(fileId=fid, permissionId=owner["id"]).execute()
    assert error_of(info.value)["errors"][0]["reason"] == "cannotRemoveOwner"


def test_transfer_ownership(drive: Any, bob: Any) -> None:
    fid = drive.files().create(body={"name": "handover"}).execute()["id"]
    with pytest.raises(HttpError) as info:
        _share(drive, fid, "bob@example.com", "owner")
    assert info.value.resp.status == 403
    _share(drive, fid, "bob@example.com", "owner", transferOwnership=True)
    assert bob.files().get(fileId=fid, fields="ownedByMe").execute() == {"ownedByMe": True}
    mine = drive.files().get(fileId=fid, fields="ownedByMe,capabilities(canEdit)").execute()
    assert mine == {"ownedByMe": False, "capabilities": {"canEdit": True}}


def test_bad_permission_bodies(drive: Any) -> None:
    fid = drive.files().create(body={"name": "x"}).execute()["id"]
    for body in (
        {"role": "reader"},
        {"type": "user"},
        {"type": "user", "role": "boss", "emailAddress": "b@x.y"},
        {"type": "user", "role": "reader"},
        {"type": "domain", "role": "reader"},
    ):
        with pytest.raises(HttpError) as info:
            drive.permissions().create(fileId=fid, body=body).execute()
        assert info.value.resp.status == 400, body


def test_sharing_a_file_you_cannot_see_is_404(drive: Any, bob: Any) -> None:
    fid = drive.files().create(body={"name": "secret"}).execute()["id"]
    with pytest.raises(HttpError) as info:
        _share(bob, fid, "carol@example.com")
    assert info.value.resp.status == 404


def test_reader_cannot_share(drive: Any, bob: Any) -> None:
    fid = drive.files().create(body={"name": "x"}).execute()["id"]
    _share(drive, fid, "bob@example.com")
    with pytest.raises(HttpError) as info:
        _share(bob, fid, "carol@example.com")
    assert info.value.resp.status == 403
