"""Push notifications: files.watch and changes.watch channels, messages with Google's headers
(delivered to a live receiver), channels.stop."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from dtu.testing.plugin import Tenant
from dtu.testing.receiver import Receiver
from tests.twins.gdrive.conftest import error_of

FOLDER = "application/vnd.google-apps.folder"


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def _in_order(hook: Receiver, count: int) -> list[Any]:
    """Messages may arrive out of order (they are sent concurrently): the number orders them."""
    got = hook.wait_for(lambda r: "x-goog-resource-state" in r.headers, count=count)
    return sorted(got, key=lambda r: int(r.headers["x-goog-message-number"]))


def _states(hook: Receiver, count: int) -> list[str]:
    return [r.headers["x-goog-resource-state"] for r in _in_order(hook, count)]


def test_files_watch_sync_then_update(drive: Any, hook: Receiver) -> None:
    fid = drive.files().create(body={"name": "watched"}).execute()["id"]
    channel = (
        drive.files()
        .watch(
            fileId=fid, body={"id": "chan-1", "type": "web_hook", "address": hook.url, "token": "secret=1"}
        )
        .execute()
    )
    assert channel["kind"] == "api#channel" and channel["id"] == "chan-1"
    assert channel["resourceId"] and fid in channel["resourceUri"] and channel["token"] == "secret=1"
    assert int(channel["expiration"]) > 0
    sync = hook.wait_for()[0]
    h = sync.headers
    assert h["x-goog-resource-state"] == "sync" and h["x-goog-message-number"] == "1"
    assert h["x-goog-channel-id"] == "chan-1" and h["x-goog-channel-token"] == "secret=1"
    assert (
        h["x-goog-resource-id"] == channel["resourceId"]
        and h["x-goog-resource-uri"] == channel["resourceUri"]
    )
    assert h["x-goog-channel-expiration"].endswith("GMT")
    assert sync.body == b""
    drive.files().update(fileId=fid, body={"name": "renamed"}).execute()
    drive.files().update(fileId=fid, body={"trashed": True}).execute()
    assert _states(hook, 3) == ["sync", "update", "trash"]
    assert sorted(int(r.headers["x-goog-message-number"]) for r in hook.requests) == [1, 2, 3]


def test_folder_watch_sees_children(drive: Any, hook: Receiver) -> None:
    folder = drive.files().create(body={"name": "box", "mimeType": FOLDER}).execute()["id"]
    drive.files().watch(
        fileId=folder, body={"id": "box-chan", "type": "web_hook", "address": hook.url}
    ).execute()
    drive.files().create(body={"name": "inside", "parents": [folder]}).execute()
    last = _in_order(hook, 2)[-1]
    assert last.headers["x-goog-resource-state"] == "update" and last.headers["x-goog-changed"] == "children"


def test_changes_watch(drive: Any, hook: Receiver, gdrive_tenant: Tenant) -> None:
    token = drive.changes().getStartPageToken().execute()["startPageToken"]
    channel = (
        drive.changes()
        .watch(pageToken=token, body={"id": "changes-chan", "type": "web_hook", "address": hook.url})
        .execute()
    )
    assert channel["resourceUri"].endswith(f"/drive/v3/changes?alt=json&pageToken={token}")
    assert "token" not in channel
    drive.files().create(body={"name": "x"}).execute()
    assert _states(hook, 2) == ["sync", "change"]
    journal = gdrive_tenant.twin.deliveries(gdrive_tenant.tenant, kind="drive_push")
    assert [d["meta"]["state"] for d in journal] == ["sync", "change"]  # queued in order


def test_changes_channel_ignores_what_its_owner_cannot_see(
    drive: Any, bob: Any, hook: Receiver, gdrive_tenant: Tenant
) -> None:
    token = bob.changes().getStartPageToken().execute()["startPageToken"]
    bob.changes().watch(
        pageToken=token, body={"id": "bob-chan", "type": "web_hook", "address": hook.url}
    ).execute()
    hook.wait_for()
    drive.files().create(body={"name": "alice only"}).execute()
    shared = drive.files().create(body={"name": "for bob"}).execute()["id"]
    drive.permissions().create(
        fileId=shared, body={"type": "user", "role": "reader", "emailAddress": "bob@example.com"}
    ).execute()
    assert _states(hook, 2) == ["sync", "change"]
    journal = gdrive_tenant.twin.deliveries(gdrive_tenant.tenant, kind="drive_push")
    assert len(journal) == 2  # the file bob cannot see sent nothing


def test_stop_channel(drive: Any, hook: Receiver, gdrive_tenant: Tenant) -> None:
    fid = drive.files().create(body={"name": "s"}).execute()["id"]
    channel = (
        drive.files()
        .watch(fileId=fid, body={"id": "stop-me", "type": "web_hook", "address": hook.url})
        .execute()
    )
    hook.wait_for()
    with pytest.raises(HttpError) as wrong:
        drive.channels().stop(body={"id": "stop-me", "resourceId": "nope"}).execute()
    assert wrong.value.resp.status == 404
    drive.channels().stop(body={"id": "stop-me", "resourceId": channel["resourceId"]}).execute()
    drive.files().update(fileId=fid, body={"name": "quiet"}).execute()
    journal = gdrive_tenant.twin.deliveries(gdrive_tenant.tenant, kind="drive_push")
    assert [d["meta"]["state"] for d in journal] == ["sync"]  # nothing queued for the stopped channel


def test_expired_channel_is_silent(drive: Any, hook: Receiver, gdrive_tenant: Tenant) -> None:
    fid = drive.files().create(body={"name": "e"}).execute()["id"]
    drive.files().watch(fileId=fid, body={"id": "short", "type": "web_hook", "address": hook.url}).execute()
    hook.wait_for()
    gdrive_tenant.twin.clock(gdrive_tenant.tenant, advance_s=3601)
    drive.files().update(fileId=fid, body={"name": "late"}).execute()
    assert (
        gdrive_tenant.twin.deliveries(gdrive_tenant.tenant, kind="drive_push")[-1]["meta"]["state"] == "sync"
    )


def test_watch_errors(drive: Any, carol: Any, hook: Receiver) -> None:
    fid = drive.files().create(body={"name": "w"}).execute()["id"]
    drive.files().watch(fileId=fid, body={"id": "dup", "type": "web_hook", "address": hook.url}).execute()
    with pytest.raises(HttpError) as dup:
        drive.files().watch(fileId=fid, body={"id": "dup", "type": "web_hook", "address": hook.url}).execute()
    assert error_of(dup.value)["errors"][0]["reason"] == "push.channelIdNotUnique"
    with pytest.raises(HttpError) as bad:
        drive.files().watch(
            fileId=fid, body={"id": "x", "type": "web_hook", "address": "ftp://nope"}
        ).execute()
    assert error_of(bad.value)["errors"][0]["reason"] == "push.webhookUrlNotHttps"
    with pytest.raises(HttpError) as hidden:
        carol.files().watch(fileId=fid, body={"id": "c", "type": "web_hook", "address": hook.url}).execute()
    assert hidden.value.resp.status == 404
