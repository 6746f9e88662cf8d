"""files: create, get with `fields`, update, move, copy, trash, delete, generateIds."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from googleapiclient.errors import HttpError

from dtu.testing.plugin import Tenant
from tests.twins.gdrive.conftest import error_of

FOLDER = "application/vnd.google-apps.folder"


def _folder(drive: Any, name: str, parent: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "mimeType": FOLDER}
    if parent:
        body["parents"] = [parent]
    result: dict[str, Any] = drive.files().create(body=body, fields="id,name,mimeType,parents").execute()
    return result


def test_create_answers_default_fields(drive: Any) -> None:
    created = drive.files().create(body={"name": "notes", "mimeType": "text/plain"}).execute()
    assert set(created) == {"kind", "id", "name", "mimeType"}
    assert created["kind"] == "drive#file"
    assert len(created["id"]) == 33
    assert created["mimeType"] == "text/plain"


def test_get_with_star_and_nested_selectors(drive: Any) -> None:
    fid = (
        drive.files()
        .create(
            body={
                "name": "a.txt",
                "mimeType": "text/plain",
                "description": "d",
                "properties": {"team": "blue"},
            }
        )
        .execute()["id"]
    )
    full = drive.files().get(fileId=fid, fields="*").execute()
    assert full["description"] == "d"
    assert full["properties"] == {"team": "blue"}
    assert full["ownedByMe"] is True
    assert full["version"].isdigit()
    assert full["createdTime"].endswith("Z")
    picked = drive.files().get(fileId=fid, fields="id,owners(emailAddress),capabilities/canEdit").execute()
    assert picked == {
        "id": fid,
        "owners": [{"emailAddress": "alice@example.com"}],
        "capabilities": {"canEdit": True},
    }


def test_invalid_field_selection_is_400(drive: Any) -> None:
    fid = drive.files().create(body={"name": "x"}).execute()["id"]
    with pytest.raises(HttpError) as info:
        drive.files().get(fileId=fid, fields="id,bogus").execute()
    err = error_of(info.value)
    assert info.value.resp.status == 400
    assert err["errors"][0] == {
        "message": "Invalid field selection bogus",
        "domain": "global",
        "reason": "invalidParameter",
        "location": "fields",
        "locationType": "parameter",
    }


def test_bad_fields_on_create_stores_nothing(drive: Any) -> None:
    with pytest.raises(HttpError):
        drive.files().create(body={"name": "ghost"}, fields="id,(").execute()
    assert drive.files().list(q="name = 'ghost'").execute()["files"] == []


def test_get_unknown_file_is_404(drive: Any) -> None:
    with pytest.raises(HttpError) as info:
        drive.files().get(fileId="1doesnotexist").execute()
    err = error_of(info.value)
    assert info.value.resp.status == 404
    assert err["message"] == "File not found: 1doesnotexist."
    assert err["errors"][0]["reason"] == "notFound"
    assert err["errors"][0]["location"] == "fileId"


def test_unknown_body_field_is_400(drive: Any) -> None:
    with pytest.raises(HttpError) as info:
        drive.files().create(body={"name": "x", "colour": "red"}).execute()
    assert info.value.resp.status == 400


def test_read_only_field_is_403_field_not_writable(drive: Any) -> None:
    with pytest.raises(HttpError) as info:
        drive.files().create(body={"name": "x", "size": "12"}).execute()
    assert info.value.resp.status == 403
    assert error_of(info.value)["errors"][0]["reason"] == "fieldNotWritable"


def test_folders_and_parents(drive: Any) -> None:
    root = drive.files().get(fileId="root", fields="id,name").execute()
    assert root["name"] == "My Drive"
    top = _folder(drive, "Projects")
    assert top["parents"] == [root["id"]]
    sub = _folder(drive, "2024", top["id"])
    assert sub["parents"] == [top["id"]]


def test_two_parents_are_refused(drive: Any) -> None:
    a, b = _folder(drive, "a"), _folder(drive, "b")
    with pytest.raises(HttpError) as info:
        drive.files().create(body={"name": "x", "parents": [a["id"], b["id"]]}).execute()
    assert error_of(info.value)["errors"][0]["reason"] == "cannotAddParent"


def test_parent_that_is_not_a_folder(drive: Any) -> None:
    plain = drive.files().create(body={"name": "plain"}).execute()["id"]
    with pytest.raises(HttpError) as info:
        drive.files().create(body={"name": "x", "parents": [plain]}).execute()
    assert info.value.resp.status == 400


def test_update_metadata_bumps_version_and_merges_properties(drive: Any) -> None:
    f = (
        drive.files()
        .create(body={"name": "old", "properties": {"a": "1", "b": "2"}}, fields="id,version")
        .execute()
    )
    updated = (
        drive.files()
        .update(
            fileId=f["id"],
            body={"name": "new", "starred": True, "properties": {"a": None, "c": "3"}},
            fields="name,starred,properties,version",
        )
        .execute()
    )
    assert updated["name"] == "new"
    assert updated["starred"] is True
    assert updated["properties"] == {"b": "2", "c": "3"}
    assert int(updated["version"]) > int(f["version"])


def test_move_with_add_and_remove_parents(drive: Any) -> None:
    a, b = _folder(drive, "a"), _folder(drive, "b")
    fid = drive.files().create(body={"name": "doc", "parents": [a["id"]]}).execute()["id"]
    moved = (
        drive.files()
        .update(fileId=fid, addParents=b["id"], removeParents=a["id"], fields="parents")
        .execute()
    )
    assert moved["parents"] == [b["id"]]


def test_adding_a_second_parent_is_refused(drive: Any) -> None:
    a, b = _folder(drive, "a"), _folder(drive, "b")
    fid = drive.files().create(body={"name": "doc", "parents": [a["id"]]}).execute()["id"]
    with pytest.raises(HttpError) as info:
        drive.files().update(fileId=fid, addParents=b["id"]).execute()
    assert error_of(info.value)["errors"][0]["reason"] == "cannotAddParent"


def test_parents_not_writable_in_update(drive: Any) -> None:
    a = _folder(drive, "a")
    fid = drive.files().create(body={"name": "doc"}).execute()["id"]
    with pytest.raises(HttpError) as info:
        drive.files().update(fileId=fid, body={"parents": [a["id"]]}).execute()
    assert error_of(info.value)["errors"][0]["reason"] == "fieldNotWritable"


def test_folder_cannot_move_into_its_own_child(drive: Any) -> None:
    top = _folder(drive, "top")
    child = _folder(drive, "child", top["id"])
    with pytest.raises(HttpError) as info:
        drive.files().update(
            fileId=top["id"], addParents=child["id"], removeParents=top["parents"][0]
        ).execute()
    assert info.value.resp.status == 403


def test_copy(drive: Any) -> None:
    folder = _folder(drive, "f")
    fid = (
        drive.files()
        .create(body={"name": "src", "parents": [folder["id"]], "mimeType": "text/plain"})
        .execute()["id"]
    )
    copied = drive.files().copy(fileId=fid, body={}, fields="id,name,parents,mimeType").execute()
    assert copied["id"] != fid
    assert copied["name"] == "Copy of src"
    assert copied["parents"] == [folder["id"]]
    named = drive.files().copy(fileId=fid, body={"name": "dup"}).execute()
    assert named["name"] == "dup"


def test_trash_untrash_and_empty_trash(drive: Any) -> None:
    folder = _folder(drive, "bin")
    child = drive.files().create(body={"name": "inner", "parents": [folder["id"]]}).execute()["id"]
    trashed = (
        drive.files()
        .update(fileId=folder["id"], body={"trashed": True}, fields="trashed,explicitlyTrashed,trashedTime")
        .execute()
    )
    assert trashed["trashed"] is True and trashed["explicitlyTrashed"] is True
    inner = drive.files().get(fileId=child, fields="trashed,explicitlyTrashed").execute()
    assert inner == {"trashed": True, "explicitlyTrashed": False}
    drive.files().update(fileId=folder["id"], body={"trashed": False}).execute()
    assert drive.files().get(fileId=child, fields="trashed").execute() == {"trashed": False}
    drive.files().update(fileId=folder["id"], body={"trashed": True}).execute()
    drive.files().emptyTrash().execute()
    for fid in (folder["id"], child):
        with pytest.raises(HttpError) as info:
            drive.files().get(fileId=fid).execute()
        assert info.value.resp.status == 404


def test_delete_is_204_and_permanent(gdrive_tenant: Tenant, drive: Any) -> None:
    fid = drive.files().create(body={"name": "bye"}).execute()["id"]
    resp = httpx.delete(
        f"{gdrive_tenant.url}/drive/v3/files/{fid}",
        headers={"Authorization": f"Bearer {gdrive_tenant.access_token}"},
    )
    assert resp.status_code == 204
    assert resp.content == b""
    with pytest.raises(HttpError) as info:
        drive.files().delete(fileId=fid).execute()
    assert info.value.resp.status == 404


def test_generate_ids_then_create_with_one(drive: Any) -> None:
    ids = drive.files().generateIds(count=3).execute()
    assert ids["kind"] == "drive#generatedIds" and len(ids["ids"]) == 3 and ids["space"] == "drive"
    made = drive.files().create(body={"id": ids["ids"][0], "name": "pre"}).execute()
    assert made["id"] == ids["ids"][0]
    with pytest.raises(HttpError) as info:
        drive.files().create(body={"id": ids["ids"][0], "name": "again"}).execute()
    assert info.value.resp.status == 409


def test_other_users_do_not_see_unshared_files(drive: Any, bob: Any) -> None:
    fid = drive.files().create(body={"name": "private"}).execute()["id"]
    with pytest.raises(HttpError) as info:
        bob.files().get(fileId=fid).execute()
    assert info.value.resp.status == 404
    assert error_of(info.value)["message"] == f"File not found: {fid}."
    assert bob.files().list().execute()["files"] == []


def test_bad_boolean_parameter_is_400(gdrive_tenant: Tenant) -> None:
    resp = httpx.get(
        gdrive_tenant.url + "/drive/v3/files",
        params={"supportsAllDrives": "maybe"},
        headers={"Authorization": f"Bearer {gdrive_tenant.access_token}"},
    )
    assert resp.status_code == 400
    assert resp.json()["error"]["errors"][0]["location"] == "supportsAllDrives"


def test_malformed_json_body_is_400(gdrive_tenant: Tenant) -> None:
    resp = httpx.post(
        gdrive_tenant.url + "/drive/v3/files",
        content=b"{not json",
        headers={"Authorization": f"Bearer {gdrive_tenant.access_token}", "Content-Type": "application/json"},
    )
    assert resp.status_code == 400
    assert resp.json()["error"]["errors"][0]["reason"] == "parseError"


def test_times_version_and_checksums(drive: Any, bob: Any, gdrive_tenant: Any) -> None:
    """createdTime/modifiedTime/viewedByMeTime as the twin clock says, version on every write,
    md5Checksum and size of the content."""
    from googleapiclient.http import MediaInMemoryUpload

    gdrive_tenant.twin.clock(gdrive_tenant.tenant, freeze=True, at=1_800_000_000.25)
    media = MediaInMemoryUpload(b"hello", mimetype="text/plain")
    fid = drive.files().create(body={"name": "t.txt"}, media_body=media).execute()["id"]
    wanted = "createdTime,modifiedTime,viewedByMeTime,version,md5Checksum,size"
    first = drive.files().get(fileId=fid, fields=wanted).execute()
    assert first == {
        "createdTime": "2027-01-15T08:00:00.250Z",
        "modifiedTime": "2027-01-15T08:00:00.250Z",
        "viewedByMeTime": "2027-01-15T08:00:00.250Z",
        "version": first["version"],
        "md5Checksum": "5d41402abc4b2a76b9719d911017c592",
        "size": "5",
    }
    gdrive_tenant.twin.clock(gdrive_tenant.tenant, advance_s=60)
    drive.files().update(fileId=fid, body={"starred": True}).execute()  # not a modification
    starred = drive.files().get(fileId=fid, fields="modifiedTime,version").execute()
    assert starred["modifiedTime"] == first["modifiedTime"] and int(starred["version"]) > int(
        first["version"]
    )
    drive.files().update(fileId=fid, body={"name": "t2.txt"}).execute()
    renamed = drive.files().get(fileId=fid, fields="modifiedTime").execute()
    assert renamed["modifiedTime"] == "2027-01-15T08:01:00.250Z"
    drive.permissions().create(
        fileId=fid, body={"type": "user", "role": "reader", "emailAddress": "bob@example.com"}
    ).execute()
    assert "viewedByMeTime" not in bob.files().get(fileId=fid, fields="viewedByMeTime").execute()
    gdrive_tenant.twin.clock(gdrive_tenant.tenant, advance_s=60)
    bob.files().get_media(fileId=fid).execute()  # opening it is viewing it
    assert bob.files().get(fileId=fid, fields="viewedByMeTime").execute() == {
        "viewedByMeTime": "2027-01-15T08:02:00.250Z"
    }


def test_capabilities_follow_the_callers_role(drive: Any, bob: Any, carol: Any) -> None:
    fid = drive.files().create(body={"name": "caps"}).execute()["id"]
    drive.permissions().create(
        fileId=fid, body={"type": "user", "role": "writer", "emailAddress": "bob@example.com"}
    ).execute()
    drive.permissions().create(
        fileId=fid, body={"type": "user", "role": "commenter", "emailAddress": "carol@example.com"}
    ).execute()
    wanted = "capabilities(canEdit,canComment,canShare,canDelete,canTrash,canReadRevisions)"
    caps = {
        who: c.files().get(fileId=fid, fields=wanted).execute()["capabilities"]
        for who, c in (("alice", drive), ("bob", bob), ("carol", carol))
    }
    assert caps["alice"] == {
        "canEdit": True,
        "canComment": True,
        "canShare": True,
        "canDelete": True,
        "canTrash": True,
        "canReadRevisions": True,
    }
    assert caps["bob"] == {
        "canEdit": True,
        "canComment": True,
        "canShare": True,
        "canDelete": False,
        "canTrash": False,
        "canReadRevisions": True,
    }
    assert caps["carol"] == {
        "canEdit": False,
        "canComment": True,
        "canShare": False,
        "canDelete": False,
        "canTrash": False,
        "canReadRevisions": False,
    }
