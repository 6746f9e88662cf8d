"""What every Drive service shares: access checks (404 for files the caller cannot see) and
the File resource as Drive renders it for one caller.

https://developers.google.com/workspace/drive/api/reference/rest/v3/files#File
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection
from typing import Any

from sqlalchemy import select

from dtu.context import TwinContext
from dtu.db import table
from twins._workspace import common, models, store
from twins._workspace.common import FOLDER, RANK, Caller
from twins.gdrive.errors import file_not_found, insufficient_file_permissions

F = store.F
PR = table(models.Principal)

EXPORTS = {
    # what `files.export` produces from the Workspace store (see service/files.py `export`)
    common.DOCUMENT: ["text/plain", "text/html", "text/markdown"],
    common.SPREADSHEET: ["text/csv", "text/tab-separated-values"],
}


def caller(ctx: TwinContext) -> Caller:
    c: Caller = ctx.principal
    return c


def resolve_id(ctx: TwinContext, file_id: str) -> str:
    """`root` is the caller's My Drive folder."""
    if file_id == "root":
        return store.root_id(ctx, caller(ctx)) or file_id
    return file_id


class Access:
    """The caller's view of the tenant's file graph for one unit of work."""

    def __init__(self, ctx: TwinContext, who: Caller | None = None) -> None:
        self.ctx = ctx
        self.caller = who or caller(ctx)
        self.who = store.grants(ctx, self.caller)
        self.graph = store.graph(ctx)

    def role(self, file_id: str) -> str | None:
        return self.graph.role(file_id, self.who)

    def file(self, file_id: str, *, min_role: str = "reader", location: str = "fileId") -> Any:
        """The file row if the caller may see it (404 otherwise) and holds `min_role` (403)."""
        fid = resolve_id(self.ctx, file_id)
        row = store.get(self.ctx, fid)
        got = self.role(fid) if row is not None else None
        if row is None or got is None or (row.drive_id is not None and not self.caller.all_drives):
            raise file_not_found(file_id, location)
        if RANK[got] < RANK[min_role]:
            raise insufficient_file_permissions()
        return row


class Renderer:
    """Renders File resources for one caller, with the lookups a page of files shares."""

    def __init__(self, ctx: TwinContext, access: Access) -> None:
        self.ctx = ctx
        self.access = access
        self._people: dict[str, Any] = {
            r.email: r for r in ctx.conn.execute(select(PR).where(PR.c.tenant_id == ctx.tenant))
        }

    def user(self, email: str | None) -> dict[str, Any] | None:
        if not email:
            return None
        person = self._people.get(email)
        me = email == self.access.caller.email
        return {
            "kind": "drive#user",
            "displayName": person.display_name if person is not None else email.split("@")[0],
            "photoLink": "https://lh3.googleusercontent.com/a/default-user=s64",
            "me": me,
            "permissionId": person.permission_id if person is not None else store.permission_id_for(email),
            "emailAddress": email,
        }

    def permission(self, perm: Any) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "drive#permission",
            "id": perm.id,
            "type": perm.type,
            "role": perm.role,
        }
        if perm.email:
            out["emailAddress"] = perm.email
            person = self._people.get(perm.email)
            out["displayName"] = person.display_name if person is not None else perm.email.split("@")[0]
        if perm.domain:
            out["domain"] = perm.domain
            out["displayName"] = perm.domain
        if perm.type in ("domain", "anyone"):
            out["allowFileDiscovery"] = bool(perm.allow_file_discovery)
        if perm.expiration_time is not None:
            out["expirationTime"] = common.rfc3339(perm.expiration_time)
        out["deleted"] = False
        out["pendingOwner"] = bool(perm.pending_owner)
        return out

    def capabilities(self, row: Any, role: str | None) -> dict[str, bool]:
        rank = RANK.get(role or "", 0)
        # in a shared drive nobody owns items: organizers delete, file organizers trash and move
        owner = role == "owner" or (row.drive_id is not None and role == "organizer")
        writer = rank >= RANK["writer"]
        folder = row.mime_type == FOLDER
        binary = not store.is_native(row.mime_type)
        return {
            "canAcceptOwnership": False,
            "canAddChildren": folder and writer,
            "canAddMyDriveParent": False,
            "canChangeCopyRequiresWriterPermission": writer,
            "canChangeViewersCanCopyContent": writer,
            "canComment": rank >= RANK["commenter"],
            "canCopy": not folder and (writer or not row.copy_requires_writer_permission),
            "canDelete": owner,
            "canDeleteChildren": False,
            "canDownload": writer or not row.copy_requires_writer_permission,
            "canEdit": writer,
            "canListChildren": folder,
            "canModifyContent": writer,
            "canModifyLabels": False,
            "canMoveItemWithinDrive": owner,
            "canMoveItemOutOfDrive": owner,
            "canReadLabels": False,
            "canReadRevisions": writer and binary,
            "canRemoveChildren": folder and writer,
            "canRemoveMyDriveParent": owner,
            "canRename": writer,
            "canShare": owner or (writer and bool(row.writers_can_share)),
            "canTrash": owner,
            "canTrashChildren": False,
            "canUntrash": owner,
        }

    def file(self, row: Any, fields: Collection[str] | None = None) -> dict[str, Any]:
        """The File resource (every field this twin keeps); `fields` then selects. Given the
        top-level names the response will keep (`fields`), the ones that cost lookups
        (capabilities, permissions, parents, people, shortcut targets) are built only if kept."""
        ctx, me = self.ctx, self.access.caller.email
        keep = None if fields is None or "*" in fields else set(fields)

        def wanted(*names: str) -> bool:
            return keep is None or any(n in keep for n in names)

        role = self.access.role(row.id) if wanted("capabilities", "permissions", "permissionIds") else None
        perms = self.access.graph.perms_of(row.id) if wanted("shared", "permissions", "permissionIds") else []
        out: dict[str, Any] = {
            "kind": "drive#file",
            "id": row.id,
            "name": row.name,
            "mimeType": row.mime_type,
            "starred": bool(row.starred),
            "trashed": bool(row.trashed),
            "explicitlyTrashed": bool(row.explicitly_trashed),
            "spaces": ["drive"],
            "version": str(row.version),
            "webViewLink": _web_view(row),
            "iconLink": _icon(row.mime_type),
            "hasThumbnail": False,
            "thumbnailVersion": "0",
            "viewedByMe": me in (row.viewed or {}),
            "createdTime": common.rfc3339(row.created_time),
            "modifiedTime": common.rfc3339(row.modified_time),
            "modifiedByMe": me in (row.modified_by or {}),
            "shared": any(p.role != "owner" for p in perms),
            "ownedByMe": row.owner == me,
            "viewersCanCopyContent": not row.copy_requires_writer_permission,
            "copyRequiresWriterPermission": bool(row.copy_requires_writer_permission),
            "writersCanShare": bool(row.writers_can_share),
            "isAppAuthorized": row.owner == me,
            "linkShareMetadata": {"securityUpdateEligible": False, "securityUpdateEnabled": True},
            "inheritedPermissionsDisabled": False,
        }
        if wanted("capabilities"):
            out["capabilities"] = self.capabilities(row, role)
        if row.description is not None:
            out["description"] = row.description
        if wanted("parents"):
            parents = [p for p in self.access.graph.parents_of(row.id) if self.access.role(p) is not None]
            if parents:
                out["parents"] = sorted(parents)
        if row.properties:
            out["properties"] = dict(row.properties)
        if row.app_properties:
            out["appProperties"] = dict(row.app_properties)
        if me in (row.viewed or {}):
            out["viewedByMeTime"] = common.rfc3339(row.viewed[me])
        if me in (row.modified_by or {}):
            out["modifiedByMeTime"] = common.rfc3339(row.modified_by[me])
        if row.owner and wanted("owners"):
            owner = self.user(row.owner)
            if owner is not None:
                out["owners"] = [owner]
        if row.drive_id:
            out["driveId"] = row.drive_id
            out["teamDriveId"] = row.drive_id
        if row.last_modifying_user and wanted("lastModifyingUser"):
            out["lastModifyingUser"] = self.user(row.last_modifying_user)
        if role is not None and (role == "owner" or RANK[role] >= RANK["writer"]):
            ordered = sorted(perms, key=lambda p: p.seq)
            out["permissions"] = [self.permission(p) for p in ordered]
            out["permissionIds"] = [p.id for p in ordered]
        if row.folder_color:
            out["folderColorRgb"] = row.folder_color
        if row.trashed and row.trashed_time is not None:
            out["trashedTime"] = common.rfc3339(row.trashed_time)
            if row.trashing_user and wanted("trashingUser"):
                out["trashingUser"] = self.user(row.trashing_user)
        if row.shortcut_target and wanted("shortcutDetails"):
            target = store.get(ctx, row.shortcut_target)
            out["shortcutDetails"] = {
                "targetId": row.shortcut_target,
                "targetMimeType": target.mime_type if target is not None else "",
            }
        if not store.is_native(row.mime_type) and row.mime_type != FOLDER:
            out["webContentLink"] = f"https://drive.google.com/uc?id={row.id}&export=download"
            out["size"] = str(row.size or 0)
            out["quotaBytesUsed"] = str(row.size or 0) if row.owner else "0"
            out["md5Checksum"] = row.md5 or "d41d8cd98f00b204e9800998ecf8427e"
            if row.head_revision_id:
                out["headRevisionId"] = row.head_revision_id
            if row.original_filename:
                out["originalFilename"] = row.original_filename
            ext = posixpath.splitext(row.original_filename or row.name)[1]
            if ext:
                out["fileExtension"] = ext[1:]
                out["fullFileExtension"] = ".".join((row.original_filename or row.name).split(".")[1:])
        else:
            out["quotaBytesUsed"] = "0"
        if row.mime_type in EXPORTS and wanted("exportLinks"):
            kind = "document" if row.mime_type == common.DOCUMENT else "spreadsheets"
            out["exportLinks"] = {
                m: f"https://docs.google.com/feeds/download/{kind}/Export?id={row.id}&exportFormat={m}"
                for m in EXPORTS[row.mime_type]
            }
        return out


def _web_view(row: Any) -> str:
    if row.mime_type == FOLDER:
        return f"https://drive.google.com/drive/folders/{row.id}"
    if row.mime_type == common.DOCUMENT:
        return f"https://docs.google.com/document/d/{row.id}/edit?usp=drivesdk"
    if row.mime_type == common.SPREADSHEET:
        return f"https://docs.google.com/spreadsheets/d/{row.id}/edit?usp=drivesdk"
    return f"https://drive.google.com/file/d/{row.id}/view?usp=drivesdk"


def _icon(mime: str) -> str:
    return f"https://drive-thirdparty.googleusercontent.com/16/type/{mime}"
