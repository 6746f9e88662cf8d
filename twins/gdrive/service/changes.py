"""Drive `changes`: the caller's change log (`getStartPageToken`, `list`).

https://developers.google.com/workspace/drive/api/reference/rest/v3/changes . Page tokens are
positions in the customer's change log (small integers as strings, as on Drive). A file shows
up once per range, in its latest state; a file the caller could see and no longer can
(deleted, unshared, moved out of a folder shared with them) shows as `removed: true` without
`file` (`twins/_workspace/changelog.py` decides, for push notifications too). The last page
answers `newStartPageToken` (the token to poll with next), every other page `nextPageToken`.
Shared-drive items appear with `includeItemsFromAllDrives` (and `supportsAllDrives`), or for
one drive with `driveId`; a shared drive's own changes (created, renamed, members added or
removed, deleted) are `changeType: drive` entries.
Divergences: `spaces` other than `drive` list nothing; `includeCorpusRemovals`,
`includeLabels` and `includePermissionsForView` are accepted and ignored.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dtu.context import TwinContext
from dtu.db import table
from twins._workspace import changelog, common, models, store
from twins.gdrive.errors import GoogleError, required
from twins.gdrive.service import drives
from twins.gdrive.service.common import Access, Renderer

CH = store.CH
D = table(models.SharedDrive)


def current_token(ctx: TwinContext) -> int:
    """The token of the next change to be recorded."""
    return common.ids(ctx).peek("change") + 1


def check_drive(ctx: TwinContext, drive_id: str | None, *, all_drives: bool) -> None:
    """`driveId` must name a shared drive the caller is a member of, asked for with
    `supportsAllDrives` (404 otherwise, as for any shared-drive item)."""
    if drive_id is None:
        return
    access = Access(ctx)
    row = store.get(ctx, drive_id)
    if not all_drives or row is None or row.drive_id != drive_id or access.role(drive_id) is None:
        raise GoogleError(
            f"Shared drive not found: {drive_id}",
            status=404,
            reason="notFound",
            location="driveId",
            location_type="parameter",
        )


def start_page_token(
    ctx: TwinContext, *, drive_id: str | None = None, all_drives: bool = False
) -> dict[str, Any]:
    """`changes.getStartPageToken` (of the caller's log, or of one shared drive's)."""
    check_drive(ctx, drive_id, all_drives=all_drives)
    return {"kind": "drive#startPageToken", "startPageToken": str(current_token(ctx))}


def parse_token(token: str | None) -> int:
    if token is None or token == "":
        raise required("pageToken")
    if not token.isdigit() or int(token) < 1:
        raise GoogleError(
            "Invalid Value",
            status=400,
            reason="invalid",
            location="pageToken",
            location_type="parameter",
        )
    return int(token)


def visible_changes(
    ctx: TwinContext, viewer: changelog.Viewer, *, start: int, scope: changelog.Scope
) -> list[tuple[Any, str, Any]]:
    """(change, kind, file row) for each file or drive changed since `start` that is in the
    caller's log, latest change per item, in log order; kind is `file`, `removed`, `drive` or
    `drive_removed` (changelog.decide)."""
    latest: dict[tuple[str, bool], Any] = {}
    lost: dict[tuple[str, bool], set[str]] = {}
    for change in ctx.conn.execute(
        select(CH).where(CH.c.tenant_id == ctx.tenant, CH.c.id >= start).order_by(CH.c.id)
    ):
        key = (change.file_id, change.state in changelog.DRIVE_STATES)
        latest[key] = change
        lost.setdefault(key, set()).update(change.viewers or [])
    out: list[tuple[Any, str, Any]] = []
    for key, change in sorted(latest.items(), key=lambda item: item[1].id):
        row = store.get(ctx, change.file_id)
        kind = changelog.decide(
            viewer,
            file_id=change.file_id,
            state=change.state,
            drive_id=change.drive_id,
            row=row,
            lost_by=lost[key],
            scope=scope,
        )
        if kind is not None:
            out.append((change, kind, row))
    return out


def list_changes(
    ctx: TwinContext,
    *,
    page_token: str | None,
    page_size: int,
    include_removed: bool = True,
    restrict_to_my_drive: bool = False,
    spaces: str | None = None,
    drive_id: str | None = None,
    include_all_drives: bool = False,
    all_drives: bool = False,
) -> dict[str, Any]:
    """`changes.list`."""
    start = parse_token(page_token)
    check_drive(ctx, drive_id, all_drives=all_drives)
    if include_all_drives and not all_drives:
        raise GoogleError(
            "The includeItemsFromAllDrives parameter can only be set to true when supportsAllDrives is "
            "also set to true.",
            status=403,
            reason="teamDriveIncludeItemsRequired",
            location="includeItemsFromAllDrives",
            location_type="parameter",
        )
    access = Access(ctx)
    space_list = [s.strip() for s in (spaces or "drive").split(",") if s.strip()]
    for space in space_list:
        if space not in ("drive", "appDataFolder", "photos"):
            raise GoogleError(
                "Invalid Value", status=400, reason="invalid", location="spaces", location_type="parameter"
            )
    scope = changelog.Scope(
        drive_id=drive_id,
        all_drives=include_all_drives,
        restrict_to_my_drive=restrict_to_my_drive,
        include_removed=include_removed,
    )
    viewer = changelog.Viewer(ctx, access.caller.email, access.graph)
    found = visible_changes(ctx, viewer, start=start, scope=scope) if "drive" in space_list else []
    page = found[:page_size]
    renderer = Renderer(ctx, access)
    out: dict[str, Any] = {"kind": "drive#changeList"}
    if len(found) > page_size:
        out["nextPageToken"] = str(page[-1][0].id + 1)
    else:
        out["newStartPageToken"] = str(max(current_token(ctx), start))
    out["changes"] = [_entry(ctx, access, renderer, change, kind, row) for change, kind, row in page]
    return out


def _entry(
    ctx: TwinContext, access: Access, renderer: Renderer, change: Any, kind: str, row: Any
) -> dict[str, Any]:
    if kind in ("drive", "drive_removed"):
        item: dict[str, Any] = {
            "kind": "drive#change",
            "type": "drive",
            "changeType": "drive",
            "time": common.rfc3339(change.time),
            "removed": kind == "drive_removed",
            "driveId": change.file_id,
            "teamDriveId": change.file_id,
        }
        drive = ctx.conn.execute(
            select(D).where(D.c.tenant_id == ctx.tenant, D.c.id == change.file_id)
        ).first()
        role = access.role(change.file_id)
        if kind == "drive" and drive is not None and role is not None:
            item["drive"] = drives.render(drive, role, access.caller.email)
        return item
    item = {
        "kind": "drive#change",
        "type": "file",
        "changeType": "file",
        "time": common.rfc3339(change.time),
        "removed": kind == "removed",
        "fileId": change.file_id,
    }
    if change.drive_id:
        item["driveId"] = change.drive_id
        item["teamDriveId"] = change.drive_id
    if kind == "file":
        item["file"] = renderer.file(row)
    return item
