"""Drive push notifications, sent whenever the Workspace store changes (through any Google door).

https://developers.google.com/workspace/drive/api/guides/push . A channel (`files.watch`,
`changes.watch`; a `workspace_channel` row) gets a `sync` message when it opens, then one
message per unit of work that changes what it watches. The trigger is `store.record_change`,
which every write of every Google twin goes through (Drive's calls, Sheets' and Docs' content
writes), so no front door can forget to notify: the first change of a unit that a channel
cares about reserves the channel's next message number and queues the message; later changes
of the same unit only add to its `X-Goog-Changed`. Messages go out through the core delivery
engine after the unit commits (kind `drive_push`).

A file channel answers the file's own state (`update`, `trash`, `untrash`; `remove` once the
file is deleted or the channel's owner lost access to it) with
`X-Goog-Changed` (`content`, `properties`, `parents`, `permissions`), and `update` +
`children` on a watched folder whose items were added or removed. A changes channel answers
`change` when its owner's `changes.list` (with the channel's parameters) gains an entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select, update

from dtu.context import TwinContext
from dtu.db import table
from dtu.delivery import Delivery
from twins._workspace import changelog, models, store

CHAN = table(models.Channel)
KIND = "drive_push"
"""The delivery kind every Google twin declares (`google_twin`)."""
# Google retries a failed notification with exponential backoff.
RETRIES_S = [1.0, 2.0, 4.0, 8.0, 16.0]
TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ChangeInfo:
    """One recorded change, as the channels see it."""

    file_id: str
    state: str  # add | update | trash | untrash | remove | drive | drive_removed
    drive_id: str | None
    changed: frozenset[str]
    parents_before: tuple[str, ...] | None  # None: the change did not move the file
    lost_by: tuple[str, ...]


class _Unit:
    """What one unit of work has told the channels so far. It sits in `ctx.after_commit`
    (found there again by later changes of the unit); calling it at commit does nothing."""

    def __init__(self, channels: list[dict[str, Any]]) -> None:
        self.channels = channels
        self.queued: dict[str, dict[str, str]] = {}  # channel id -> the headers of its message
        self.changed: dict[str, set[str]] = {}

    def __call__(self) -> None:
        return None


def _unit(ctx: TwinContext) -> _Unit:
    for hook in ctx.after_commit:
        if isinstance(hook, _Unit):
            return hook
    now_ms = int(ctx.now() * 1000)
    channels = [
        dict(r._mapping)
        for r in ctx.conn.execute(
            select(CHAN).where(CHAN.c.tenant_id == ctx.tenant, CHAN.c.stopped.is_(False))
        )
        if r.expiration is None or r.expiration > now_ms
    ]
    unit = _Unit(channels)
    ctx.after_commit.append(unit)
    return unit


def headers(channel: dict[str, Any], state: str, number: int) -> dict[str, str]:
    """The headers of one message (the body is empty)."""
    out = {
        "X-Goog-Channel-ID": channel["id"],
        "X-Goog-Resource-ID": channel["resource_id"],
        "X-Goog-Resource-URI": channel["resource_uri"],
        "X-Goog-Resource-State": state,
        "X-Goog-Message-Number": str(number),
    }
    if channel.get("token") is not None:
        out["X-Goog-Channel-Token"] = channel["token"]
    if channel.get("expiration") is not None:
        out["X-Goog-Channel-Expiration"] = formatdate(channel["expiration"] / 1000, usegmt=True)
    return out


def _retried(status: int | None) -> bool:
    """Google retries a message that got no answer or a 5xx, never a 4xx (push guide,
    "Respond to notifications")."""
    return status is None or status >= 500


def send(ctx: TwinContext, channel: dict[str, Any], message: dict[str, str]) -> None:
    """Queue one message (it leaves once the unit commits); `message` may still be amended
    until then, and the journal shows it as sent."""
    ctx.deliver(
        Delivery(
            tenant=ctx.tenant,
            kind=KIND,
            target=channel["address"],
            body=b"",
            content_type="application/json; charset=UTF-8",
            sign=lambda _body, _now: message,
            retry_after_s=list(RETRIES_S),
            retry_on=_retried,
            timeout_s=TIMEOUT_S,
            meta={"type": "drive.push", "channel": channel["id"], "headers": message},
        )
    )


def observe(ctx: TwinContext, change: ChangeInfo) -> None:
    """Tell the open channels about one change just recorded (see the module docstring)."""
    unit = _unit(ctx)
    if not unit.channels:
        return
    row = store.get(ctx, change.file_id)
    parents_now: list[str] | None = None
    for channel in unit.channels:
        if channel["kind"] == "changes":
            message = _changes_message(ctx, channel, change, row)
        else:
            if parents_now is None:
                parents_now = store.parents(ctx, change.file_id) if row is not None else []
            message = _file_message(ctx, channel, change, row, parents_now)
        if message is not None:
            _queue(ctx, unit, channel, *message)


def _queue(ctx: TwinContext, unit: _Unit, channel: dict[str, Any], state: str, changed: set[str]) -> None:
    cid = channel["id"]
    message = unit.queued.get(cid)
    if message is None:
        number = ctx.conn.execute(
            update(CHAN)
            .where(CHAN.c.tenant_id == ctx.tenant, CHAN.c.id == cid)
            .values(message_number=CHAN.c.message_number + 1)
            .returning(CHAN.c.message_number)
        ).scalar_one()
        message = headers(channel, state, number)
        unit.queued[cid] = message
        unit.changed[cid] = set()
        send(ctx, channel, message)
    elif message["X-Goog-Resource-State"] != "remove" and not (
        state == "update" and message["X-Goog-Resource-State"] in ("trash", "untrash", "add")
    ):
        message["X-Goog-Resource-State"] = state  # the file's latest state in this unit
    unit.changed[cid] |= changed
    if unit.changed[cid] and channel["kind"] == "file":
        message["X-Goog-Changed"] = ",".join(sorted(unit.changed[cid]))


def _scope(channel: dict[str, Any]) -> changelog.Scope:
    """A changes channel's parameters, kept in its resource URI (as Google writes it)."""
    params = parse_qs(urlsplit(channel["resource_uri"]).query)

    def flag(name: str, default: bool) -> bool:
        values = params.get(name)
        return default if not values else values[0].lower() in ("true", "1")

    drive = params.get("driveId") or params.get("teamDriveId")
    return changelog.Scope(
        drive_id=drive[0] if drive else None,
        all_drives=flag("includeItemsFromAllDrives", False) or flag("includeTeamDriveItems", False),
        restrict_to_my_drive=flag("restrictToMyDrive", False),
        include_removed=flag("includeRemoved", True),
    )


def _changes_message(
    ctx: TwinContext, channel: dict[str, Any], change: ChangeInfo, row: Any
) -> tuple[str, set[str]] | None:
    viewer = changelog.Viewer(ctx, channel["email"])
    found = changelog.decide(
        viewer,
        file_id=change.file_id,
        state=change.state,
        drive_id=change.drive_id,
        row=row,
        lost_by=change.lost_by,
        scope=_scope(channel),
    )
    return ("change", set()) if found is not None else None


def _file_message(
    ctx: TwinContext, channel: dict[str, Any], change: ChangeInfo, row: Any, parents_now: Sequence[str]
) -> tuple[str, set[str]] | None:
    watched = channel["file_id"]
    if change.state in ("drive", "drive_removed"):
        return None
    if change.file_id == watched:
        if row is None or change.state == "remove":
            return "remove", set()
        if changelog.Viewer(ctx, channel["email"]).role(row.id) is None:
            return "remove", set()
        state = change.state if change.state in ("update", "trash", "untrash") else "update"
        return state, set(change.changed)
    before = change.parents_before
    joined = watched in parents_now and (
        change.state == "add" or (before is not None and watched not in before)
    )
    left = (
        before is not None and watched in before and (change.state == "remove" or watched not in parents_now)
    )
    if joined or left:
        return "update", {"children"}
    return None
