"""Shared drives: drives.* and files in them (supportsAllDrives, corpora=drive, member roles)."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from tests.twins.gdrive.conftest import error_of

FOLDER = "application/vnd.google-apps.folder"


def _drive(client: Any, name: str = "Team", request_id: str = "req-1") -> dict[str, Any]:
    made: dict[str, Any] = (
        client.drives().create(requestId=request_id, body={"name": name}, fields="*").execute()
    )
    return made


def _member(drive: Any, drive_id: str, email: str, role: str) -> None:
    drive.permissions().create(
        fileId=drive_id, supportsAllDrives=True, body={"type": "user", "role": role, "emailAddress": email}
    ).execute()


def test_create_get_list(drive: Any) -> None:
    made = _drive(drive)
    assert made["kind"] == "drive#drive" and made["name"] == "Team" and made["id"].startswith("0A")
    assert made["capabilities"]["canManageMembers"] is True and made["hidden"] is False
    assert drive.drives().get(driveId=made["id"]).execute() == {
        "kind": "drive#drive",
        "id": made["id"],
        "name": "Team",
    }
    listed = drive.drives().list().execute()
    assert listed == {
        "kind": "drive#driveList",
        "drives": [{"kind": "drive#drive", "id": made["id"], "name": "Team"}],
    }


def test_request_id_is_idempotent(drive: Any) -> None:
    _drive(drive, request_id="same")
    with pytest.raises(HttpError) as info:
        _drive(drive, request_id="same")
    assert info.value.resp.status == 409
    assert len(drive.drives().list().execute()["drives"]) == 1
    with pytest.raises(HttpError) as missing:
        drive.drives().create(requestId="", body={"name": "x"}).execute()
    assert missing.value.resp.status == 400


def test_non_members_get_404(drive: Any, bob: Any) -> None:
    made = _drive(drive)
    with pytest.raises(HttpError) as info:
        bob.drives().get(driveId=made["id"]).execute()
    assert info.value.resp.status == 404 and error_of(info.value)["errors"][0]["location"] == "driveId"
    assert bob.drives().list().execute()["drives"] == []


def test_update_hide_unhide(drive: Any, bob: Any) -> None:
    made = _drive(drive)
    renamed = (
        drive.drives()
        .update(
            driveId=made["id"],
            body={"name": "Renamed", "restrictions": {"driveMembersOnly": True}},
            fields="name,restrictions(driveMembersOnly)",
        )
        .execute()
    )
    assert renamed == {"name": "Renamed", "restrictions": {"driveMembersOnly": True}}
    assert drive.drives().hide(driveId=made["id"], fields="hidden").execute() == {"hidden": True}
    assert drive.drives().list(q="hidden = true").execute()["drives"][0]["id"] == made["id"]
    assert drive.drives().list(q="hidden = false").execute()["drives"] == []
    assert drive.drives().unhide(driveId=made["id"], fields="hidden").execute() == {"hidden": False}
    _member(drive, made["id"], "bob@example.com", "writer")
    with pytest.raises(HttpError) as info:
        bob.drives().update(driveId=made["id"], body={"name": "mine"}).execute()
    assert info.value.resp.status == 403


def test_files_in_a_shared_drive(drive: Any) -> None:
    made = _drive(drive)
    fid = (
        drive.files()
        .create(
            body={"name": "inside", "parents": [made["id"]]},
            supportsAllDrives=True,
            fields="id,driveId,parents,owners",
        )
        .execute()
    )
    assert fid["driveId"] == made["id"] and fid["parents"] == [made["id"]] and "owners" not in fid
    with pytest.raises(HttpError) as without:
        drive.files().get(fileId=fid["id"]).execute()  # an app that does not support shared drives
    assert without.value.resp.status == 404
    assert drive.files().get(fileId=fid["id"], supportsAllDrives=True).execute()["id"] == fid["id"]
    in_drive = (
        drive.files()
        .list(corpora="drive", driveId=made["id"], includeItemsFromAllDrives=True, supportsAllDrives=True)
        .execute()
    )
    assert [f["id"] for f in in_drive["files"]] == [fid["id"]]
    assert fid["id"] not in [f["id"] for f in drive.files().list().execute()["files"]]
    everywhere = (
        drive.files()
        .list(corpora="allDrives", includeItemsFromAllDrives=True, supportsAllDrives=True)
        .execute()
    )
    assert fid["id"] in [f["id"] for f in everywhere["files"]]


def test_member_roles(drive: Any, bob: Any, carol: Any) -> None:
    made = _drive(drive)
    doc = (
        drive.files()
        .create(body={"name": "plan", "parents": [made["id"]]}, supportsAllDrives=True)
        .execute()["id"]
    )
    _member(drive, made["id"], "bob@example.com", "writer")
    _member(drive, made["id"], "carol@example.com", "fileOrganizer")
    assert bob.drives().get(driveId=made["id"], fields="capabilities(canManageMembers)").execute() == {
        "capabilities": {"canManageMembers": False}
    }
    bob.files().update(fileId=doc, body={"name": "plan v2"}, supportsAllDrives=True).execute()
    with pytest.raises(HttpError) as writer_trash:
        bob.files().update(fileId=doc, body={"trashed": True}, supportsAllDrives=True).execute()
    assert writer_trash.value.resp.status == 403
    with pytest.raises(HttpError) as writer_members:
        _member(bob, made["id"], "dave@example.com", "reader")
    assert writer_members.value.resp.status == 403
    carol.files().update(fileId=doc, body={"trashed": True}, supportsAllDrives=True).execute()
    with pytest.raises(HttpError) as organizer_only:
        carol.files().delete(fileId=doc, supportsAllDrives=True).execute()
    assert organizer_only.value.resp.status == 403
    drive.files().delete(fileId=doc, supportsAllDrives=True).execute()


def test_delete_only_when_empty(drive: Any) -> None:
    made = _drive(drive)
    doc = (
        drive.files()
        .create(body={"name": "x", "parents": [made["id"]]}, supportsAllDrives=True)
        .execute()["id"]
    )
    with pytest.raises(HttpError) as info:
        drive.drives().delete(driveId=made["id"]).execute()
    assert info.value.resp.status == 403
    drive.files().update(fileId=doc, body={"trashed": True}, supportsAllDrives=True).execute()
    drive.drives().delete(driveId=made["id"]).execute()
    assert drive.drives().list().execute()["drives"] == []
    with pytest.raises(HttpError) as gone:
        drive.drives().get(driveId=made["id"]).execute()
    assert gone.value.resp.status == 404


def test_organizer_role_only_in_shared_drives(drive: Any) -> None:
    fid = drive.files().create(body={"name": "mine"}).execute()["id"]
    with pytest.raises(HttpError) as info:
        drive.permissions().create(
            fileId=fid, body={"type": "user", "role": "organizer", "emailAddress": "bob@example.com"}
        ).execute()
    assert info.value.resp.status == 400
