"""comments and replies: create/list/get/update/delete, resolve via a reply action, and who may."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from tests.twins.gdrive.conftest import error_of


def _share(drive: Any, fid: str, email: str, role: str) -> None:
    drive.permissions().create(
        fileId=fid, body={"type": "user", "role": role, "emailAddress": email}
    ).execute()


def _comment(client: Any, fid: str, text: str = "looks good") -> dict[str, Any]:
    made: dict[str, Any] = client.comments().create(fileId=fid, body={"content": text}, fields="*").execute()
    return made


def test_create_get_list(drive: Any) -> None:
    fid = drive.files().create(body={"name": "doc"}).execute()["id"]
    made = (
        drive.comments()
        .create(
            fileId=fid,
            body={"content": "a < b", "quotedFileContent": {"mimeType": "text/plain", "value": "b"}},
            fields="*",
        )
        .execute()
    )
    assert (
        made["kind"] == "drive#comment" and made["content"] == "a < b" and made["htmlContent"] == "a &lt; b"
    )
    assert made["resolved"] is False and made["deleted"] is False and made["replies"] == []
    assert made["author"]["me"] is True and made["quotedFileContent"] == {
        "mimeType": "text/plain",
        "value": "b",
    }
    got = drive.comments().get(fileId=fid, commentId=made["id"], fields="id,content").execute()
    assert got == {"id": made["id"], "content": "a < b"}
    listed = drive.comments().list(fileId=fid, fields="kind,comments(id)").execute()
    assert listed == {"kind": "drive#commentList", "comments": [{"id": made["id"]}]}


def test_fields_is_required(drive: Any) -> None:
    fid = drive.files().create(body={"name": "doc"}).execute()["id"]
    with pytest.raises(HttpError) as info:
        drive.comments().create(fileId=fid, body={"content": "x"}).execute()
    assert info.value.resp.status == 400
    assert error_of(info.value)["errors"][0]["location"] == "fields"
    assert drive.comments().list(fileId=fid, fields="comments").execute() == {"comments": []}


def test_paging(drive: Any) -> None:
    fid = drive.files().create(body={"name": "doc"}).execute()["id"]
    made = [_comment(drive, fid, f"c{i}")["id"] for i in range(3)]
    first = drive.comments().list(fileId=fid, pageSize=2, fields="nextPageToken,comments(id)").execute()
    rest = (
        drive.comments().list(fileId=fid, pageSize=2, pageToken=first["nextPageToken"], fields="*").execute()
    )
    assert [c["id"] for c in first["comments"] + rest["comments"]] == made and "nextPageToken" not in rest


def test_update_and_delete(drive: Any, bob: Any) -> None:
    fid = drive.files().create(body={"name": "doc"}).execute()["id"]
    _share(drive, fid, "bob@example.com", "commenter")
    mine = _comment(bob, fid, "first")
    edited = (
        bob.comments()
        .update(fileId=fid, commentId=mine["id"], body={"content": "second"}, fields="content")
        .execute()
    )
    assert edited == {"content": "second"}
    with pytest.raises(HttpError) as info:
        drive.comments().update(
            fileId=fid, commentId=mine["id"], body={"content": "owner edit"}, fields="id"
        ).execute()
    assert info.value.resp.status == 403
    drive.comments().delete(fileId=fid, commentId=mine["id"]).execute()  # the file's owner may delete
    assert drive.comments().list(fileId=fid, fields="comments(id)").execute() == {"comments": []}
    with_deleted = (
        drive.comments()
        .list(fileId=fid, includeDeleted=True, fields="comments(id,deleted,content)")
        .execute()
    )
    assert with_deleted == {"comments": [{"id": mine["id"], "deleted": True}]}
    with pytest.raises(HttpError) as gone:
        drive.comments().get(fileId=fid, commentId=mine["id"], fields="id").execute()
    assert gone.value.resp.status == 404 and error_of(gone.value)["errors"][0]["location"] == "commentId"


def test_replies_and_resolve(drive: Any, bob: Any) -> None:
    fid = drive.files().create(body={"name": "doc"}).execute()["id"]
    _share(drive, fid, "bob@example.com", "writer")
    comment = _comment(drive, fid)
    reply = (
        bob.replies()
        .create(fileId=fid, commentId=comment["id"], body={"content": "agreed"}, fields="*")
        .execute()
    )
    assert reply["kind"] == "drive#reply" and reply["content"] == "agreed" and reply["author"]["me"] is True
    resolve = (
        drive.replies()
        .create(fileId=fid, commentId=comment["id"], body={"action": "resolve"}, fields="*")
        .execute()
    )
    assert resolve["action"] == "resolve" and "content" not in resolve
    got = (
        drive.comments()
        .get(fileId=fid, commentId=comment["id"], fields="resolved,replies(id,action)")
        .execute()
    )
    assert got["resolved"] is True and [r["id"] for r in got["replies"]] == [reply["id"], resolve["id"]]
    drive.replies().create(
        fileId=fid, commentId=comment["id"], body={"action": "reopen", "content": "hm"}, fields="id"
    ).execute()
    assert drive.comments().get(fileId=fid, commentId=comment["id"], fields="resolved").execute() == {
        "resolved": False
    }
    listed = (
        drive.replies().list(fileId=fid, commentId=comment["id"], fields="kind,replies(content)").execute()
    )
    assert listed["kind"] == "drive#replyList" and len(listed["replies"]) == 3
    edited = (
        bob.replies()
        .update(
            fileId=fid,
            commentId=comment["id"],
            replyId=reply["id"],
            body={"content": "fine"},
            fields="content",
        )
        .execute()
    )
    assert edited == {"content": "fine"}
    bob.replies().delete(fileId=fid, commentId=comment["id"], replyId=reply["id"]).execute()
    with pytest.raises(HttpError) as gone:
        drive.replies().get(fileId=fid, commentId=comment["id"], replyId=reply["id"], fields="id").execute()
    assert gone.value.resp.status == 404


def test_empty_reply_needs_content(drive: Any) -> None:
    fid = drive.files().create(body={"name": "doc"}).execute()["id"]
    comment = _comment(drive, fid)
    with pytest.raises(HttpError) as info:
        drive.replies().create(fileId=fid, commentId=comment["id"], body={}, fields="id").execute()
    assert info.value.resp.status == 400 and error_of(info.value)["errors"][0]["reason"] == "required"


def test_reader_reads_but_cannot_comment_and_stranger_sees_nothing(drive: Any, bob: Any, carol: Any) -> None:
    fid = drive.files().create(body={"name": "doc"}).execute()["id"]
    _comment(drive, fid)
    _share(drive, fid, "bob@example.com", "reader")
    assert len(bob.comments().list(fileId=fid, fields="comments(id)").execute()["comments"]) == 1
    with pytest.raises(HttpError) as reader:
        _comment(bob, fid)
    assert reader.value.resp.status == 403
    assert error_of(reader.value)["errors"][0]["reason"] == "insufficientFilePermissions"
    with pytest.raises(HttpError) as stranger:
        carol.comments().list(fileId=fid, fields="comments(id)").execute()
    assert stranger.value.resp.status == 404
