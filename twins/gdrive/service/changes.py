"""Drive `changes`: the caller's change log (`getStartPageToken`, `list`).

https://developers.google.com/workspace/drive/api/reference/rest/v3/changes . Page tokens are
positions in the customer's change log (small integers as strings, as on Drive). A file shows
up once per range, in its latest state; a file the caller can no longer see because it was
deleted shows as `removed: true` without `file`. The last page answers `newStartPageToken`
(the token to poll with next), every other page `nextPageToken`.
Divergences: a user who merely lost access (unshared) sees no `removed` entry; `spaces`
other than `drive` list nothing; shared-drive change logs (`driveId`) are not kept apart.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dtu.context import TwinContext
from twins._workspace import common, store
from twins.gdrive.errors import GoogleError, required
from twins.gdrive.service.common import Access, Renderer

CH = store.CH


def current_token(ctx: TwinContext) -> int:
    """The token of the next change to be recorded."""
    return common.ids(ctx).peek("change") + 1


def start_page_token(ctx: TwinContext) -> dict[str, Any]:
    """`changes.getStartPageToken`."""
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


def _in_my_drive(access: Access, file_id: str, root: str) -> bool:
    seen: set[str] = set()
    todo = [file_id]
    while todo:
        current = todo.pop()
        if current == root:
            return True
        if current in seen:
            continue
        seen.add(current)
        todo.extend(access.graph.parents_of(current))
    return False


def visible_changes(
    ctx: TwinContext,
    access: Access,
    *,
    start: int,
    include_removed: bool = True,
    restrict_to_my_drive: bool = False,
) -> list[tuple[Any, Any]]:
    """(change, file row or None) for each file changed since `start`, latest change per file,
    in log order, as the caller may see them."""
    latest: dict[str, Any] = {}
    for change in ctx.conn.execute(
        select(CH).where(CH.c.tenant_id == ctx.tenant, CH.c.id >= start).order_by(CH.c.id)
    ):
        latest[change.file_id] = change
    me = access.caller.email
    root = store.root_id(ctx, access.caller)
    out: list[tuple[Any, Any]] = []
    for change in sorted(latest.values(), key=lambda c: c.id):
        row = store.get(ctx, change.file_id)
        if row is None:
            if include_removed and me in (change.viewers or []):
                out.append((change, None))
            continue
        if row.is_root or access.role(row.id) is None:
            continue
        if restrict_to_my_drive and not _in_my_drive(access, row.id, root):
            continue
        out.append((change, row))
    return out


def list_changes(
    ctx: TwinContext,
    *,
    page_token: str | None,
    page_size: int,
    include_removed: bool = True,
    restrict_to_my_drive: bool = False,
    spaces: str | None = None,
) -> dict[str, Any]:
    """`changes.list`."""
    start = parse_token(page_token)
    access = Access(ctx)
    space_list = [s.strip() for s in (spaces or "drive").split(",") if s.strip()]
    for space in space_list:
        if space not in ("drive", "appDataFolder", "photos"):
            raise GoogleError(
                "Invalid Value", status=400, reason="invalid", location="spaces", location_type="parameter"
            )
    found = (
        visible_changes(
            ctx,
            access,
            start=start,
            include_removed=include_removed,
            restrict_to_my_drive=restrict_to_my_drive,
        )
        if "drive" in space_list
        else []
    )
    page = found[:page_size]
    renderer = Renderer(ctx, access)
    out: dict[str, Any] = {"kind": "drive#changeList"}
    if len(found) > page_size:
        out["nextPageToken"] = str(page[-1][0].id + 1)
    else:
        out["newStartPageToken"] = str(max(current_token(ctx), start))
    items = []
    for change, row in page:
        item: dict[str, Any] = {
            "kind": "drive#change",
            "type": "file",
            "changeType": "file",
            "time": common.rfc3339(change.time),
            "removed": row is None,
            "fileId": change.file_id,
        }
        if row is not None:
            item["file"] = renderer.file(row)
            if row.drive_id:
                item["driveId"] = row.drive_id
                item["teamDriveId"] = row.drive_id
        items.append(item)
    out["changes"] = items
    return out
