"""Drive `drives`: shared drives (create with requestId idempotency, list, get, update,
delete when empty, hide/unhide).

https://developers.google.com/workspace/drive/api/reference/rest/v3/drives . A shared drive's
id is also its root folder's id (files at its top have it as parent); its members are that
folder's permissions (organizer, fileOrganizer, writer, commenter, reader), inherited by every
item in it. Non-members get 404 like for files. Hiding is per user.
Divergences: `q` on drives.list supports `name` (=, !=, contains), `hidden` and
`createdTime` comparisons only; `useDomainAdminAccess` is accepted and ignored (no admin view);
backgrounds and themes are stored, not rendered.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, insert, select, update

from dtu.context import TwinContext
from dtu.db import table
from twins._workspace import common, models, store
from twins._workspace.common import FOLDER, RANK
from twins.gdrive.errors import GoogleError, invalid_value, required
from twins.gdrive.service.common import Access

D = table(models.SharedDrive)
F = store.F
_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
RESTRICTIONS = (
    "adminManagedRestrictions",
    "copyRequiresWriterPermission",
    "domainUsersOnly",
    "driveMembersOnly",
    "sharingFoldersRequiresOrganizerPermission",
)
WRITABLE = {"name", "colorRgb", "themeId", "restrictions", "backgroundImageFile", "hidden"}


def _not_found(drive_id: str) -> GoogleError:
    return GoogleError(
        f"Shared drive not found: {drive_id}",
        status=404,
        reason="notFound",
        location="driveId",
        location_type="parameter",
    )


def _forbidden() -> GoogleError:
    return GoogleError(
        "The user does not have sufficient permissions for this file.",
        status=403,
        reason="insufficientFilePermissions",
    )


def _drive(ctx: TwinContext, access: Access, drive_id: str) -> tuple[Any, str]:
    """The drive and the caller's role on it; 404 for non-members."""
    row = ctx.conn.execute(select(D).where(D.c.tenant_id == ctx.tenant, D.c.id == drive_id)).first()
    role = access.role(drive_id) if row is not None else None
    if row is None or role is None:
        raise _not_found(drive_id)
    return row, role


def render(row: Any, role: str, me: str) -> dict[str, Any]:
    rank = RANK[role]
    organizer = role == "organizer"
    writer = rank >= RANK["writer"]
    out: dict[str, Any] = {
        "kind": "drive#drive",
        "id": row.id,
        "name": row.name,
        "createdTime": common.rfc3339(row.created_time),
        "hidden": me in (row.hidden_for or []),
        "backgroundImageLink": "https://ssl.gstatic.com/team_drive_themes/abstract_background.jpg",
        "colorRgb": row.color_rgb or "#4285f4",
        "capabilities": {
            "canAddChildren": writer,
            "canChangeCopyRequiresWriterPermissionRestriction": organizer,
            "canChangeDomainUsersOnlyRestriction": organizer,
            "canChangeDownloadRestriction": organizer,
            "canChangeDriveBackground": organizer,
            "canChangeDriveMembersOnlyRestriction": organizer,
            "canChangeSharingFoldersRequiresOrganizerPermissionRestriction": organizer,
            "canComment": rank >= RANK["commenter"],
            "canCopy": True,
            "canDeleteChildren": organizer,
            "canDeleteDrive": organizer,
            "canDownload": True,
            "canEdit": writer,
            "canListChildren": True,
            "canManageMembers": organizer,
            "canReadRevisions": writer,
            "canRename": writer,
            "canRenameDrive": organizer,
            "canResetDriveRestrictions": organizer,
            "canShare": organizer,
            "canTrashChildren": rank >= RANK["fileOrganizer"],
        },
        "restrictions": {key: bool((row.restrictions or {}).get(key, False)) for key in RESTRICTIONS},
    }
    if row.theme_id:
        out["themeId"] = row.theme_id
    return out


def _check_body(body: dict[str, Any]) -> None:
    for key in body:
        if key not in WRITABLE and key not in ("id", "kind"):
            raise GoogleError(
                "The resource body includes fields which are not directly writable.",
                status=403,
                reason="fieldNotWritable",
            )
    if "name" in body and (not isinstance(body["name"], str) or not body["name"].strip()):
        raise invalid_value(message="Invalid value for name.")
    restrictions = body.get("restrictions")
    if restrictions is not None and (
        not isinstance(restrictions, dict) or any(k not in RESTRICTIONS for k in restrictions)
    ):
        raise invalid_value(message="Invalid value at 'drive.restrictions'")


def create(ctx: TwinContext, *, request_id: str | None, body: dict[str, Any]) -> dict[str, Any]:
    """`drives.create`: the caller becomes its organizer. Repeating a request id answers 409."""
    if not request_id:
        raise required("requestId")
    _check_body(body)
    if not body.get("name"):
        raise GoogleError(
            "Required parameter: name", status=400, reason="required", location="name", location_type="other"
        )
    access = Access(ctx)
    me = access.caller.email
    if ctx.conn.execute(
        select(D.c.id).where(D.c.tenant_id == ctx.tenant, D.c.creator == me, D.c.request_id == request_id)
    ).first():
        raise GoogleError(
            "A shared drive with this request ID already exists.", status=409, reason="duplicate"
        )
    ids = common.ids(ctx)
    drive_id = "0A" + ids.token("drive", length=17, alphabet=_ID_ALPHABET)
    now = ctx.now()
    ctx.conn.execute(
        insert(D).values(
            tenant_id=ctx.tenant,
            id=drive_id,
            seq=ids.next("drive-seq"),
            name=body["name"],
            creator=me,
            request_id=request_id,
            created_time=now,
            color_rgb=body.get("colorRgb"),
            theme_id=body.get("themeId"),
            restrictions=dict(body.get("restrictions") or {}),
            hidden_for=[me] if body.get("hidden") else [],
        )
    )
    store.insert_file(
        ctx,
        caller_email=me,
        name=body["name"],
        mime=FOLDER,
        parent_ids=[],
        file_id=drive_id,
        drive_id=drive_id,
        is_root=True,
    )
    store.add_permission(ctx, drive_id, type_="user", role_name="organizer", email=me)
    store.record_change(ctx, drive_id, "drive", drive_id=drive_id)
    row = ctx.conn.execute(select(D).where(D.c.tenant_id == ctx.tenant, D.c.id == drive_id)).one()
    return render(row, "organizer", me)


_Q = re.compile(
    r"^\s*(name|hidden|createdTime)\s*(=|!=|<=|>=|<|>|contains)\s*('(?:[^'\\]|\\.)*'|true|false)\s*$"
)


def _matches(q: str | None, row: Any, me: str) -> bool:
    if not q or not q.strip():
        return True
    for clause in re.split(r"\s+and\s+", q.strip()):
        m = _Q.match(clause)
        if m is None:
            raise GoogleError(
                "Invalid Value", status=400, reason="invalid", location="q", location_type="parameter"
            )
        field, op, raw = m.groups()
        value: Any = raw[1:-1].replace("\\'", "'") if raw.startswith("'") else raw == "true"
        if field == "hidden":
            if op not in ("=", "!=") or not isinstance(value, bool):
                raise invalid_value("q")
            hidden = me in (row.hidden_for or [])
            if (hidden == value) != (op == "="):
                return False
        elif field == "name":
            if op == "contains":
                if str(value).lower() not in row.name.lower():
                    return False
            elif op in ("=", "!="):
                if (row.name == value) != (op == "="):
                    return False
            else:
                raise invalid_value("q")
        else:
            try:
                when = common.parse_rfc3339(str(value))
            except ValueError:
                raise invalid_value("q") from None
            ok = {
                "=": row.created_time == when,
                "!=": row.created_time != when,
                "<": row.created_time < when,
                "<=": row.created_time <= when,
                ">": row.created_time > when,
                ">=": row.created_time >= when,
            }.get(op)
            if ok is None:
                raise invalid_value("q")
            if not ok:
                return False
    return True


def list_drives(ctx: TwinContext, *, page_size: int, page_token: str | None, q: str | None) -> dict[str, Any]:
    """`drives.list`: the shared drives the caller is a member of, in creation order."""
    access = Access(ctx)
    me = access.caller.email
    start = 0
    if page_token:
        if not page_token.startswith("d:") or not page_token[2:].isdigit():
            raise invalid_value("pageToken")
        start = int(page_token[2:])
    rows = [
        (row, access.role(row.id))
        for row in ctx.conn.execute(select(D).where(D.c.tenant_id == ctx.tenant).order_by(D.c.seq))
    ]
    found = [(row, role) for row, role in rows if role is not None and _matches(q, row, me)]
    out: dict[str, Any] = {"kind": "drive#driveList"}
    if start + page_size < len(found):
        out["nextPageToken"] = f"d:{start + page_size}"
    out["drives"] = [render(row, role, me) for row, role in found[start : start + page_size] if role]
    return out


def get(ctx: TwinContext, *, drive_id: str) -> dict[str, Any]:
    """`drives.get`."""
    access = Access(ctx)
    row, role = _drive(ctx, access, drive_id)
    return render(row, role, access.caller.email)


def update_drive(ctx: TwinContext, *, drive_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """`drives.update`: organizers rename it and change its look and restrictions."""
    _check_body(body)
    access = Access(ctx)
    row, role = _drive(ctx, access, drive_id)
    if role != "organizer":
        raise _forbidden()
    values: dict[str, Any] = {}
    if "name" in body:
        values["name"] = body["name"]
    if "colorRgb" in body:
        values["color_rgb"] = body["colorRgb"]
    if "themeId" in body:
        values["theme_id"] = body["themeId"]
    if "restrictions" in body:
        values["restrictions"] = {**(row.restrictions or {}), **body["restrictions"]}
    if values:
        ctx.conn.execute(update(D).where(D.c.tenant_id == ctx.tenant, D.c.id == row.id).values(**values))
    if "name" in values:
        ctx.conn.execute(
            update(F).where(F.c.tenant_id == ctx.tenant, F.c.id == row.id).values(name=values["name"])
        )
    if values:
        store.record_change(ctx, row.id, "drive", drive_id=row.id)
    fresh = ctx.conn.execute(select(D).where(D.c.tenant_id == ctx.tenant, D.c.id == row.id)).one()
    return render(fresh, role, access.caller.email)


def delete_drive(ctx: TwinContext, *, drive_id: str) -> None:
    """`drives.delete`: organizers only, and only while it holds no untrashed items (trashed
    ones go with it)."""
    access = Access(ctx)
    row, role = _drive(ctx, access, drive_id)
    if role != "organizer":
        raise _forbidden()
    items = list(
        ctx.conn.execute(
            select(F.c.id, F.c.trashed).where(
                F.c.tenant_id == ctx.tenant, F.c.drive_id == row.id, F.c.id != row.id
            )
        )
    )
    if any(not item.trashed for item in items):
        raise GoogleError(
            "The shared drive cannot be deleted because it contains one or more untrashed items.",
            status=403,
            reason="cannotDeleteNonEmptyDrive",
        )
    members = store.viewers(ctx, row.id)
    store.delete_files(ctx, [item.id for item in items] + [row.id])
    ctx.conn.execute(delete(D).where(D.c.tenant_id == ctx.tenant, D.c.id == row.id))
    store.record_change(ctx, row.id, "drive_removed", drive_id=row.id, removed=True, seen_by=members)


def set_hidden(ctx: TwinContext, *, drive_id: str, hidden: bool) -> dict[str, Any]:
    """`drives.hide` / `drives.unhide`: for the caller only."""
    access = Access(ctx)
    row, role = _drive(ctx, access, drive_id)
    me = access.caller.email
    who = [e for e in (row.hidden_for or []) if e != me] + ([me] if hidden else [])
    ctx.conn.execute(update(D).where(D.c.tenant_id == ctx.tenant, D.c.id == row.id).values(hidden_for=who))
    fresh = ctx.conn.execute(select(D).where(D.c.tenant_id == ctx.tenant, D.c.id == row.id)).one()
    return render(fresh, role, me)
