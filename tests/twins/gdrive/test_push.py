"""Push notifications end to end: channels opened with google-api-python-client, messages
received by a live HTTP receiver (sent by the core delivery engine), with Google's headers;
writes through every path (metadata, uploads, batch, permissions, the store API the Sheets and
Docs twins write through) notify; channels.stop stops them."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from typing import Any

import pytest
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaIoBaseUpload

from dtu.context import TwinContext
from dtu.testing.plugin import Tenant
from dtu.testing.receiver import Received, Receiver
from tests.twins.gdrive.conftest import error_of
from twins._workspace import content

FOLDER = "application/vnd.google-apps.folder"
SHEET = "application/vnd.google-apps.spreadsheet"


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def _messages(hook: Receiver, channel: str, count: int) -> list[Received]:
    """The channel's first `count` messages, in message-number order (they are sent
    concurrently, so they may arrive out of order)."""
    got = hook.wait_for(lambda r: r.headers.get("x-goog-channel-id") == channel, count=count)
    return sorted(got, key=lambda r: int(r.headers["x-goog-message-number"]))


def _states(hook: Receiver, channel: str, count: int) -> list[tuple[str, str | None]]:
    return [
        (r.headers["x-goog-resource-state"], r.headers.get("x-goog-changed"))
        for r in _messages(hook, channel, count)
    ]


def _journal(tenant: Tenant, channel: str) -> list[dict[str, str]]:
    """What the twin queued for a channel (queued before the call that caused it returns)."""
    return [
        d["meta"]["headers"]
        for d in tenant.twin.deliveries(tenant.tenant, kind="drive_push")
        if d["meta"]["channel"] == channel
    ]


def _watch(client: Any, fid: str, channel: str, hook: Receiver, **extra: Any) -> dict[str, Any]:
    body = {"id": channel, "type": "web_hook", "address": hook.url, **extra}
    out: dict[str, Any] = client.files().watch(fileId=fid, body=body).execute()
    return out


def test_files_watch_every_kind_of_write(drive: Any, hook: Receiver, gdrive_tenant: Tenant) -> None:
    fid = drive.files().create(body={"name": "watched"}).execute()["id"]
    target = drive.files().create(body={"name": "dest", "mimeType": FOLDER}).execute()["id"]
    channel = _watch(drive, fid, "chan-1", hook, token="secret=1")
    assert channel["kind"] == "api#channel" and channel["id"] == "chan-1"
    assert channel["resourceId"] and fid in channel["resourceUri"] and channel["token"] == "secret=1"
    sync = _messages(hook, "chan-1", 1)[0]
    h = sync.headers
    assert sync.method == "POST" and sync.body == b""
    assert h["x-goog-resource-state"] == "sync" and h["x-goog-message-number"] == "1"
    assert h["x-goog-channel-id"] == "chan-1" and h["x-goog-channel-token"] == "secret=1"
    assert h["x-goog-resource-id"] == channel["resourceId"]
    assert h["x-goog-resource-uri"] == channel["resourceUri"]
    assert h["x-goog-channel-expiration"].endswith(" GMT")
    root = drive.files().get(fileId="root", fields="id").execute()["id"]

    drive.files().update(fileId=fid, body={"name": "renamed", "description": "d"}).execute()
    media = MediaIoBaseUpload(io.BytesIO(b"new bytes"), mimetype="text/plain")
    drive.files().update(fileId=fid, media_body=media).execute()
    drive.permissions().create(
        fileId=fid, body={"type": "user", "role": "reader", "emailAddress": "bob@example.com"}
    ).execute()
    drive.files().update(fileId=fid, addParents=target, removeParents=root).execute()
    drive.files().update(fileId=fid, body={"trashed": True}).execute()
    drive.files().update(fileId=fid, body={"trashed": False}).execute()
    drive.files().delete(fileId=fid).execute()
    assert _states(hook, "chan-1", 8) == [
        ("sync", None),
        ("update", "properties"),
        ("update", "content"),
        ("update", "permissions"),
        ("update", "parents"),
        ("trash", None),
        ("untrash", None),
        ("remove", None),
    ]
    numbers = [int(r.headers["x-goog-message-number"]) for r in _messages(hook, "chan-1", 8)]
    assert numbers == list(range(1, 9))
    assert all(r.headers["x-goog-channel-token"] == "secret=1" for r in hook.requests)


def test_folder_watch_hears_of_children_added_and_removed(
    drive: Any, hook: Receiver, gdrive_tenant: Tenant
) -> None:
    folder = drive.files().create(body={"name": "box", "mimeType": FOLDER}).execute()["id"]
    _watch(drive, folder, "box-chan", hook)
    child = drive.files().create(body={"name": "inside", "parents": [folder]}).execute()["id"]
    drive.files().update(fileId=child, body={"name": "renamed inside"}).execute()  # not a membership change
    assert [m["X-Goog-Resource-State"] for m in _journal(gdrive_tenant, "box-chan")] == ["sync", "update"]
    drive.files().delete(fileId=child).execute()
    assert _states(hook, "box-chan", 3) == [("sync", None), ("update", "children"), ("update", "children")]


def test_changes_watch_hears_of_uploads_batches_and_every_door(
    drive: Any, hook: Receiver, gdrive_tenant: Tenant
) -> None:
    token = drive.changes().getStartPageToken().execute()["startPageToken"]
    channel = (
        drive.changes()
        .watch(pageToken=token, body={"id": "changes-chan", "type": "web_hook", "address": hook.url})
        .execute()
    )
    assert channel["resourceUri"].endswith(f"/drive/v3/changes?alt=json&pageToken={token}")
    assert "token" not in channel
    # a resumable upload in chunks: the file is made by the last PUT of the session
    data = bytes(range(256)) * 2048  # 512 KiB
    media = MediaIoBaseUpload(
        io.BytesIO(data), mimetype="application/octet-stream", chunksize=256 * 1024, resumable=True
    )
    request = drive.files().create(body={"name": "big.bin"}, media_body=media)
    response = None
    while response is None:
        _status, response = request.next_chunk()
    # a batch of two writes: each inner call is a unit of work of its own
    batch = drive.new_batch_http_request()
    batch.add(drive.files().create(body={"name": "b1"}))
    batch.add(drive.files().create(body={"name": "b2"}))
    batch.execute()
    # a content write through the store API, as the Sheets twin makes it
    sheet = drive.files().create(body={"name": "Sheet", "mimeType": SHEET}).execute()["id"]
    gdrive_tenant.twin.runtime.unit_sync(
        gdrive_tenant.tenant,
        lambda ctx: content.write_values(
            ctx, sheet, sheet_id=0, row=0, column=0, values=[["x"]], user="alice@example.com"
        ),
    )
    assert [s for s, _ in _states(hook, "changes-chan", 6)] == ["sync"] + ["change"] * 5
    assert all("x-goog-changed" not in r.headers for r in hook.requests)


def test_store_api_writes_notify_file_channels(drive: Any, hook: Receiver, gdrive_tenant: Tenant) -> None:
    sheet = drive.files().create(body={"name": "Sheet", "mimeType": SHEET}).execute()["id"]
    _watch(drive, sheet, "sheet-chan", hook)

    def write(ctx: TwinContext) -> None:
        content.write_values(ctx, sheet, sheet_id=0, row=0, column=0, values=[["a"]], user="bob@example.com")
        content.write_values(ctx, sheet, sheet_id=0, row=1, column=0, values=[["b"]], user="bob@example.com")

    gdrive_tenant.twin.runtime.unit_sync(gdrive_tenant.tenant, write)  # one unit: one message
    assert _states(hook, "sheet-chan", 2) == [("sync", None), ("update", "content")]
    assert len(_journal(gdrive_tenant, "sheet-chan")) == 2


def test_changes_channel_follows_its_owners_view(
    drive: Any, bob: Any, hook: Receiver, gdrive_tenant: Tenant
) -> None:
    token = bob.changes().getStartPageToken().execute()["startPageToken"]
    bob.changes().watch(
        pageToken=token, body={"id": "bob-chan", "type": "web_hook", "address": hook.url}
    ).execute()
    drive.files().create(body={"name": "alice only"}).execute()
    assert len(_journal(gdrive_tenant, "bob-chan")) == 1  # the file bob cannot see sent nothing
    shared = drive.files().create(body={"name": "for bob"}).execute()["id"]
    perm = (
        drive.permissions()
        .create(fileId=shared, body={"type": "user", "role": "reader", "emailAddress": "bob@example.com"})
        .execute()
    )
    drive.permissions().delete(fileId=shared, permissionId=perm["id"]).execute()  # bob loses it
    drive.files().update(fileId=shared, body={"name": "gone from bob"}).execute()  # bob sees nothing now
    assert _states(hook, "bob-chan", 3) == [("sync", None), ("change", None), ("change", None)]
    assert len(_journal(gdrive_tenant, "bob-chan")) == 3
    page = bob.changes().list(pageToken=token, fields="changes(fileId,removed)").execute()
    assert page["changes"] == [{"fileId": shared, "removed": True}]


def test_file_watch_of_someone_who_loses_access_ends_with_remove(
    drive: Any, bob: Any, hook: Receiver, gdrive_tenant: Tenant
) -> None:
    folder = drive.files().create(body={"name": "shared box", "mimeType": FOLDER}).execute()["id"]
    fid = drive.files().create(body={"name": "inside", "parents": [folder]}).execute()["id"]
    perm = (
        drive.permissions()
        .create(fileId=folder, body={"type": "user", "role": "writer", "emailAddress": "bob@example.com"})
        .execute()
    )
    _watch(bob, fid, "bob-file", hook)
    drive.permissions().delete(fileId=folder, permissionId=perm["id"]).execute()  # inherited access ends
    assert _states(hook, "bob-file", 2) == [("sync", None), ("remove", None)]


def test_stop_channel(drive: Any, hook: Receiver, gdrive_tenant: Tenant) -> None:
    fid = drive.files().create(body={"name": "s"}).execute()["id"]
    channel = _watch(drive, fid, "stop-me", hook)
    drive.files().update(fileId=fid, body={"name": "heard"}).execute()
    assert _states(hook, "stop-me", 2) == [("sync", None), ("update", "properties")]
    with pytest.raises(HttpError) as wrong:
        drive.channels().stop(body={"id": "stop-me", "resourceId": "nope"}).execute()
    assert wrong.value.resp.status == 404
    drive.channels().stop(body={"id": "stop-me", "resourceId": channel["resourceId"]}).execute()
    drive.files().update(fileId=fid, body={"name": "quiet"}).execute()
    assert len(_journal(gdrive_tenant, "stop-me")) == 2  # nothing queued once stopped
    with pytest.raises(HttpError) as again:
        drive.channels().stop(body={"id": "stop-me", "resourceId": channel["resourceId"]}).execute()
    assert again.value.resp.status == 404


def _settled(tenant: Tenant, channel: str, number: str) -> dict[str, Any]:
    """The channel's message `number` once its last attempt is recorded (the engine records an
    answer just after the receiver has seen the request)."""
    deadline = time.monotonic() + 5
    while True:
        [delivery] = [
            d
            for d in tenant.twin.deliveries(tenant.tenant, kind="drive_push")
            if d["meta"]["channel"] == channel and d["meta"]["headers"]["X-Goog-Message-Number"] == number
        ]
        if delivery["state"] != "pending" or time.monotonic() > deadline:
            return delivery
        time.sleep(0.01)


def test_a_failed_message_is_retried_with_its_number(
    drive: Any, hook: Receiver, gdrive_tenant: Tenant
) -> None:
    fid = drive.files().create(body={"name": "r"}).execute()["id"]
    _watch(drive, fid, "retry-chan", hook)
    _messages(hook, "retry-chan", 1)
    hook.set(status=503)
    drive.files().update(fileId=fid, body={"name": "again"}).execute()
    first = hook.wait_for(lambda r: r.headers.get("x-goog-message-number") == "2")[0]
    hook.set(status=200)
    gdrive_tenant.twin.clock(gdrive_tenant.tenant, advance_s=2)  # the retry falls due
    both = hook.wait_for(lambda r: r.headers.get("x-goog-message-number") == "2", count=2)
    assert [r.headers["x-goog-resource-state"] for r in both] == ["update", "update"]
    assert both[1].headers["x-goog-channel-id"] == first.headers["x-goog-channel-id"]
    delivery = _settled(gdrive_tenant, "retry-chan", "2")
    assert delivery["state"] == "delivered" and [a["status"] for a in delivery["attempts"]] == [503, 200]


def test_expired_channel_is_silent(drive: Any, hook: Receiver, gdrive_tenant: Tenant) -> None:
    fid = drive.files().create(body={"name": "e"}).execute()["id"]
    _watch(drive, fid, "short", hook)
    gdrive_tenant.twin.clock(gdrive_tenant.tenant, advance_s=3601)
    drive.files().update(fileId=fid, body={"name": "late"}).execute()
    assert [m["X-Goog-Resource-State"] for m in _journal(gdrive_tenant, "short")] == ["sync"]


def test_watch_errors(drive: Any, carol: Any, hook: Receiver) -> None:
    fid = drive.files().create(body={"name": "w"}).execute()["id"]
    _watch(drive, fid, "dup", hook)
    with pytest.raises(HttpError) as dup:
        _watch(drive, fid, "dup", hook)
    assert error_of(dup.value)["errors"][0]["reason"] == "push.channelIdNotUnique"
    with pytest.raises(HttpError) as bad:
        drive.files().watch(
            fileId=fid, body={"id": "x", "type": "web_hook", "address": "ftp://nope"}
        ).execute()
    assert error_of(bad.value)["errors"][0]["reason"] == "push.webhookUrlNotHttps"
    with pytest.raises(HttpError) as hidden:
        _watch(carol, fid, "c", hook)
    assert hidden.value.resp.status == 404
    with pytest.raises(HttpError) as missing:
        drive.files().watch(fileId=fid, body={"type": "web_hook", "address": hook.url}).execute()
    assert error_of(missing.value)["errors"][0]["reason"] == "required"


def test_a_message_refused_with_a_4xx_is_not_retried(
    drive: Any, hook: Receiver, gdrive_tenant: Tenant
) -> None:
    """Google retries only when the address answers 5xx (or not at all)."""
    fid = drive.files().create(body={"name": "r4"}).execute()["id"]
    _watch(drive, fid, "no-retry-chan", hook)
    _messages(hook, "no-retry-chan", 1)
    hook.set(status=404)
    drive.files().update(fileId=fid, body={"name": "again"}).execute()
    hook.wait_for(lambda r: r.headers.get("x-goog-message-number") == "2")
    hook.set(status=200)
    gdrive_tenant.twin.clock(gdrive_tenant.tenant, advance_s=60)  # past every retry of the schedule
    delivery = _settled(gdrive_tenant, "no-retry-chan", "2")
    time.sleep(0.2)  # a retry, if one were due, would have left by now
    assert delivery["state"] == "failed" and [a["status"] for a in delivery["attempts"]] == [404]
    assert len([r for r in hook.requests if r.headers.get("x-goog-message-number") == "2"]) == 1
