"""Drive `files`: create, get, download, update, copy, delete, trash, emptyTrash, generateIds.

https://developers.google.com/workspace/drive/api/reference/rest/v3/files . Every call checks
the caller's role through the permission graph (a file the caller cannot see is 404
`notFound`); writes bump `version`, and content writes add a revision.
Items have one parent each (as Drive enforces since 2020); in a shared drive nobody owns an
item: file organizers trash and move, organizers delete.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from sqlalchemy import select, update

from dtu.context import TwinContext
from twins._workspace import common, store
from twins._workspace import content as native
from twins._workspace.common import FOLDER, RANK
from twins.gdrive.constants import EXPORT_MAX
from twins.gdrive.errors import GoogleError, bad_request, invalid_value
from twins.gdrive.service.common import Access, Renderer, caller, resolve_id

F = store.F

WRITABLE = {
    "name",
    "mimeType",
    "description",
    "starred",
    "trashed",
    "properties",
    "appProperties",
    "parents",
    "originalFilename",
    "folderColorRgb",
    "copyRequiresWriterPermission",
    "writersCanShare",
    "createdTime",
    "modifiedTime",
    "viewedByMeTime",
    "contentHints",
    "id",
    "shortcutDetails",
    "viewersCanCopyContent",
    "inheritedPermissionsDisabled",
    "contentRestrictions",
    "downloadRestrictions",
}
_ID = re.compile(r"^[A-Za-z0-9_-]{25,64}$")
IMPORTS_ABOUT = {
    "text/plain": [common.DOCUMENT],
    "text/html": [common.DOCUMENT],
    "text/csv": [common.SPREADSHEET],
}


def _check_metadata(metadata: dict[str, Any], *, creating: bool) -> None:
    from twins.gdrive import discovery

    known = set(discovery.schema("File").get("properties", {}))
    for key in metadata:
        if key not in known:
            raise GoogleError(
                f"Invalid JSON payload received. Unknown name \"{key}\" at 'file': Cannot find field.",
                status=400,
                reason="badRequest",
            )
        if key not in WRITABLE:
            raise GoogleError(
                "The resource body includes fields which are not directly writable.",
                status=403,
                reason="fieldNotWritable",
            )
    if not creating:
        if "parents" in metadata:
            raise GoogleError(
                "The parents field is not directly writable in update requests. Use the addParents "
                "and removeParents parameters instead.",
                status=403,
                reason="fieldNotWritable",
            )
        if "id" in metadata or "createdTime" in metadata or "shortcutDetails" in metadata:
            raise GoogleError(
                "The resource body includes fields which are not directly writable.",
                status=403,
                reason="fieldNotWritable",
            )
    for key in ("name", "description", "mimeType", "originalFilename", "folderColorRgb"):
        if key in metadata and metadata[key] is not None and not isinstance(metadata[key], str):
            raise invalid_value(message=f"Invalid value at 'file.{key}' (TYPE_STRING), {metadata[key]!r}")
    for key in (
        "starred",
        "trashed",
        "copyRequiresWriterPermission",
        "writersCanShare",
        "viewersCanCopyContent",
    ):
        if key in metadata and not isinstance(metadata[key], bool):
            raise invalid_value(message=f"Invalid value at 'file.{key}' (TYPE_BOOL), {metadata[key]!r}")
    for key in ("properties", "appProperties"):
        value = metadata.get(key)
        if value is not None and (
            not isinstance(value, dict)
            or not all(isinstance(v, str | int | float | bool) or v is None for v in value.values())
        ):
            raise invalid_value(message=f"Invalid value at 'file.{key}'")
        if isinstance(value, dict):
            for k, v in value.items():
                if len(k.encode()) + len(str(v or "").encode()) > 124:
                    raise GoogleError(
                        "The size of the property exceeds the limit of 124 bytes.",
                        status=400,
                        reason="invalidProperty" if key == "properties" else "badRequest",
                    )
    if "parents" in metadata and (
        not isinstance(metadata["parents"], list) or not all(isinstance(p, str) for p in metadata["parents"])
    ):
        raise invalid_value(message="Invalid value at 'file.parents'")


def _time(metadata: dict[str, Any], key: str) -> float | None:
    if metadata.get(key) is None:
        return None
    try:
        return common.parse_rfc3339(str(metadata[key]))
    except ValueError:
        raise invalid_value(message=f"Invalid value for {key}: {metadata[key]}") from None


def _props(value: Any) -> dict[str, str]:
    return {
        k: str(v) if not isinstance(v, bool) else str(v).lower()
        for k, v in (value or {}).items()
        if v is not None
    }


def _merge_props(old: dict[str, Any], new: Any) -> dict[str, str]:
    out = dict(old or {})
    for k, v in (new or {}).items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = str(v) if not isinstance(v, bool) else str(v).lower()
    return out


def _check_parent(access: Access, parent_id: str) -> str:
    row = access.file(parent_id, location="parents")
    if row.mime_type != FOLDER:
        raise bad_request("The specified parent is not a folder.", reason="parentNotAFolder")
    if RANK[access.role(row.id) or "reader"] < RANK["writer"]:
        raise GoogleError(
            "The user does not have sufficient permissions for this file.",
            status=403,
            reason="insufficientFilePermissions",
        )
    return str(row.id)


def _may(role: str | None, row: Any, shared_drive_role: str) -> bool:
    """My Drive: only the owner trashes, moves and deletes. Shared drives have no owner:
    file organizers trash and move, organizers delete."""
    if row.drive_id is not None:
        return role is not None and RANK[role] >= RANK[shared_drive_role]
    return role == "owner"


def _drive_of(ctx: TwinContext, parent_ids: list[str]) -> str | None:
    parent = store.get(ctx, parent_ids[0]) if parent_ids else None
    return None if parent is None else parent.drive_id


def render(ctx: TwinContext, file_id: str, access: Access | None = None) -> dict[str, Any]:
    access = access or Access(ctx)
    row = store.get(ctx, file_id)
    assert row is not None
    return Renderer(ctx, access).file(row)


def create(
    ctx: TwinContext,
    *,
    metadata: dict[str, Any],
    data: bytes | None = None,
    media_mime: str | None = None,
    ignore_default_visibility: bool = False,
) -> dict[str, Any]:
    """`files.create`: a folder, a metadata-only file, or a file with content (multipart/media
    uploads and completed resumable sessions)."""
    _check_metadata(metadata, creating=True)
    me = caller(ctx)
    access = Access(ctx)
    parents = metadata.get("parents") or ["root"]
    if len(parents) > 1:
        raise GoogleError(
            "Increasing the number of parents is not allowed.", status=403, reason="cannotAddParent"
        )
    parent_ids = [_check_parent(access, p) for p in parents]
    mime = metadata.get("mimeType") or media_mime or "application/octet-stream"
    if data is not None and mime == FOLDER:
        raise bad_request("Folders cannot have content.", reason="badContent")
    file_id = metadata.get("id")
    if file_id is not None:
        if not isinstance(file_id, str) or not _ID.match(file_id):
            raise GoogleError("The provided file ID is not usable.", status=400, reason="fileIdNotUsable")
        if store.get(ctx, file_id) is not None:
            raise GoogleError("A file already exists with the provided ID.", status=409, reason="duplicate")
    target = None
    if mime == common.SHORTCUT:
        target = (metadata.get("shortcutDetails") or {}).get("targetId")
        if not target:
            raise GoogleError("A shortcut must have a target.", status=400, reason="shortcutTargetInvalid")
        access.file(target, location="shortcutDetails.targetId")
    if data is None and not store.is_native(mime) and mime != FOLDER:
        data = b""
    fid = store.insert_file(
        ctx,
        caller_email=me.email,
        name=metadata.get("name") or "Untitled",
        mime=mime,
        parent_ids=parent_ids,
        data=data,
        file_id=file_id,
        drive_id=_drive_of(ctx, parent_ids),
        description=metadata.get("description"),
        starred=bool(metadata.get("starred")),
        properties=_props(metadata.get("properties")),
        app_properties=_props(metadata.get("appProperties")),
        original_filename=metadata.get("originalFilename"),
        created_time=_time(metadata, "createdTime"),
        modified_time=_time(metadata, "modifiedTime"),
        shortcut_target=target,
        folder_color=metadata.get("folderColorRgb"),
        writers_can_share=metadata.get("writersCanShare", True),
        copy_requires_writer_permission=bool(metadata.get("copyRequiresWriterPermission")),
    )
    return render(ctx, fid)


def get(ctx: TwinContext, *, file_id: str, fields: Collection[str] | None = None) -> dict[str, Any]:
    """`files.get` (metadata), built for the top-level `fields` the answer keeps.
    https://developers.google.com/workspace/drive/api/reference/rest/v3/files/get"""
    access = Access(ctx)
    row = access.file(file_id)
    return Renderer(ctx, access).file(row, fields)


def download(ctx: TwinContext, *, file_id: str, acknowledge_abuse: bool = False) -> tuple[bytes, str, str]:
    """`files.get?alt=media`: the head revision's bytes. Docs Editors files have none (use export)."""
    access = Access(ctx)
    row = access.file(file_id)
    if row.mime_type == FOLDER or store.is_native(row.mime_type):
        raise GoogleError(
            "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
            status=403,
            reason="fileNotDownloadable",
            location="alt",
            location_type="parameter",
        )
    role = access.role(row.id) or "reader"
    if row.copy_requires_writer_permission and RANK[role] < RANK["writer"]:
        raise GoogleError(
            "The user does not have sufficient permissions for this file.",
            status=403,
            reason="cannotDownloadFile",
        )
    me = caller(ctx).email
    ctx.conn.execute(
        update(F)
        .where(F.c.tenant_id == ctx.tenant, F.c.id == row.id)
        .values(viewed={**(row.viewed or {}), me: ctx.now()})
    )
    return store.content(ctx, row), row.mime_type, row.name


def update_file(
    ctx: TwinContext,
    *,
    file_id: str,
    metadata: dict[str, Any],
    data: bytes | None = None,
    media_mime: str | None = None,
    add_parents: list[str] | None = None,
    remove_parents: list[str] | None = None,
    keep_revision_forever: bool = False,
) -> dict[str, Any]:
    """`files.update` (PATCH): metadata, content (upload), moves with addParents/removeParents,
    and trash/untrash through `trashed`."""
    _check_metadata(metadata, creating=False)
    me = caller(ctx)
    access = Access(ctx)
    wants_write = (
        bool(set(metadata) - {"starred", "viewedByMeTime"})
        or data is not None
        or add_parents
        or remove_parents
    )
    row = access.file(file_id, min_role="writer" if wants_write else "reader")
    fid = str(row.id)
    role = access.role(fid)
    values: dict[str, Any] = {}
    content_changed = False
    for key, column in (
        ("name", "name"),
        ("description", "description"),
        ("mimeType", "mime_type"),
        ("originalFilename", "original_filename"),
        ("folderColorRgb", "folder_color"),
        ("writersCanShare", "writers_can_share"),
        ("copyRequiresWriterPermission", "copy_requires_writer_permission"),
    ):
        if key in metadata:
            values[column] = metadata[key]
    if "viewersCanCopyContent" in metadata:
        values["copy_requires_writer_permission"] = not metadata["viewersCanCopyContent"]
    if "starred" in metadata:
        values["starred"] = bool(metadata["starred"])
    if "properties" in metadata:
        values["properties"] = _merge_props(row.properties, metadata["properties"])
    if "appProperties" in metadata:
        values["app_properties"] = _merge_props(row.app_properties, metadata["appProperties"])
    if metadata.get("modifiedTime") is not None:
        values["modified_time"] = _time(metadata, "modifiedTime")
    if metadata.get("viewedByMeTime") is not None:
        values["viewed"] = {**(row.viewed or {}), me.email: _time(metadata, "viewedByMeTime")}
    changed: set[str] = set()
    if set(metadata) - {"viewedByMeTime", "trashed"}:
        changed.add("properties")
    moved_from: list[str] | None = None
    access_before: dict[str, set[str]] = {}
    if add_parents or remove_parents:
        if not _may(role, row, "fileOrganizer"):
            raise GoogleError(
                "The user does not have sufficient permissions for this file.",
                status=403,
                reason="insufficientFilePermissions",
            )
        current = store.parents(ctx, fid)
        removing = [resolve_id(ctx, p) for p in remove_parents or []]
        adding = [_check_parent(access, p) for p in add_parents or []]
        after = [p for p in current if p not in removing] + [p for p in adding if p not in current]
        after = list(dict.fromkeys(after))
        if len(after) > 1:
            raise GoogleError(
                "Increasing the number of parents is not allowed.", status=403, reason="cannotAddParent"
            )
        under = store.descendants(ctx, fid) if row.mime_type == FOLDER else []
        if any(p == fid or p in under for p in adding):
            raise GoogleError("The parent would create a cycle.", status=403, reason="cannotMoveToSelf")
        if after != current:
            moved_from = current
            changed.add("parents")
            access_before = store.snapshot(ctx, [fid, *under])  # a move can end inherited access
        for p in removing:
            ctx.conn.execute(
                store.P.delete().where(
                    store.P.c.tenant_id == ctx.tenant, store.P.c.file_id == fid, store.P.c.parent_id == p
                )
            )
        for p in adding:
            if p not in current:
                ctx.conn.execute(store.P.insert().values(tenant_id=ctx.tenant, file_id=fid, parent_id=p))
    if data is not None:
        if row.mime_type == FOLDER or store.is_native(row.mime_type):
            raise bad_request("The file cannot have binary content.", reason="badContent")
        mime = metadata.get("mimeType") or media_mime or row.mime_type
        rev, md5 = store.new_revision(
            ctx,
            fid,
            content=data,
            mime=mime,
            user=me.email,
            filename=metadata.get("originalFilename") or row.original_filename,
        )
        if keep_revision_forever:
            ctx.conn.execute(
                update(store.REV)
                .where(store.REV.c.tenant_id == ctx.tenant, store.REV.c.file_id == fid, store.REV.c.id == rev)
                .values(keep_forever=True)
            )
        values.update(size=len(data), md5=md5, head_revision_id=rev)
        content_changed = True
        changed.add("content")
    state = "update"
    if "trashed" in metadata and bool(metadata["trashed"]) != bool(row.trashed and row.explicitly_trashed):
        if not _may(role, row, "fileOrganizer"):
            raise GoogleError(
                "The user does not have sufficient permissions for this file.",
                status=403,
                reason="insufficientFilePermissions",
            )
        state = _set_trashed(ctx, row, bool(metadata["trashed"]), me.email)
    store.touch(ctx, fid, user=me.email, content_changed=content_changed, **values)
    lost: list[str] = []
    if access_before:
        store.record_access_loss(ctx, access_before, skip=fid, drive_id=row.drive_id)
        lost = sorted(access_before[fid] - set(store.viewers(ctx, fid)))
    store.record_change(
        ctx, fid, state, drive_id=row.drive_id, changed=changed, parents_before=moved_from, seen_by=lost
    )
    return render(ctx, fid)


def _set_trashed(ctx: TwinContext, row: Any, trashed: bool, user: str) -> str:
    """Trash a file and (implicitly) everything under it; untrash restores both."""
    now = ctx.now()
    t = ctx.tenant
    if trashed:
        ctx.conn.execute(
            update(F)
            .where(F.c.tenant_id == t, F.c.id == row.id)
            .values(trashed=True, explicitly_trashed=True, trashed_time=now, trashing_user=user)
        )
        for child in store.descendants(ctx, row.id):
            ctx.conn.execute(
                update(F)
                .where(F.c.tenant_id == t, F.c.id == child, F.c.trashed.is_(False))
                .values(trashed=True, explicitly_trashed=False, trashed_time=now, trashing_user=user)
            )
            store.record_change(ctx, child, "trash", drive_id=row.drive_id)
        return "trash"
    ctx.conn.execute(
        update(F)
        .where(F.c.tenant_id == t, F.c.id == row.id)
        .values(trashed=False, explicitly_trashed=False, trashed_time=None, trashing_user=None)
    )
    for child in store.descendants(ctx, row.id):
        ctx.conn.execute(
            update(F)
            .where(F.c.tenant_id == t, F.c.id == child, F.c.explicitly_trashed.is_(False))
            .values(trashed=False, trashed_time=None, trashing_user=None)
        )
        store.record_change(ctx, child, "untrash", drive_id=row.drive_id)
    return "untrash"


def copy(ctx: TwinContext, *, file_id: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """`files.copy`: a new file with the source's content, owned by the caller; folders cannot
    be copied. https://developers.google.com/workspace/drive/api/reference/rest/v3/files/copy"""
    _check_metadata(metadata, creating=True)
    access = Access(ctx)
    row = access.file(file_id)
    if row.mime_type == FOLDER:
        raise GoogleError("This file cannot be copied by the user.", status=403, reason="cannotCopyFile")
    role = access.role(row.id) or "reader"
    if row.copy_requires_writer_permission and RANK[role] < RANK["writer"]:
        raise GoogleError("This file cannot be copied by the user.", status=403, reason="cannotCopyFile")
    me = caller(ctx)
    visible_parents = [
        p
        for p in store.parents(ctx, row.id)
        if access.role(p) is not None and RANK[access.role(p) or "reader"] >= RANK["writer"]
    ]
    parents = metadata.get("parents") or visible_parents or ["root"]
    parent_ids = [_check_parent(access, p) for p in parents[:1]]
    if len(parents) > 1:
        raise GoogleError(
            "Increasing the number of parents is not allowed.", status=403, reason="cannotAddParent"
        )
    data = None if store.is_native(row.mime_type) else store.content(ctx, row)
    fid = store.insert_file(
        ctx,
        caller_email=me.email,
        name=metadata.get("name") or (f"Copy of {row.name}"),
        mime=row.mime_type,
        parent_ids=parent_ids,
        data=data,
        drive_id=_drive_of(ctx, parent_ids),
        file_id=metadata.get("id"),
        description=metadata.get("description", row.description),
        starred=bool(metadata.get("starred")),
        properties=_props(metadata.get("properties", row.properties)),
        app_properties=_props(metadata.get("appProperties", {})),
        original_filename=row.original_filename,
    )
    if store.is_native(row.mime_type):
        native.drop(ctx, [fid])  # the copy's own blank content gives way to the source's
        native.copy(ctx, row.id, fid)
    return render(ctx, fid)


def delete(ctx: TwinContext, *, file_id: str) -> None:
    """`files.delete`: permanently, skipping the trash; only the owner may. A folder takes its
    descendants that the same user owns with it."""
    access = Access(ctx)
    row = access.file(file_id)
    if not _may(access.role(row.id), row, "organizer"):
        raise GoogleError(
            "The user does not have sufficient permissions for this file.",
            status=403,
            reason="insufficientFilePermissions",
        )
    if row.is_root:
        raise GoogleError(
            "The user does not have sufficient permissions for this file.",
            status=403,
            reason="insufficientFilePermissions",
        )
    doomed = [row.id]
    if row.mime_type == FOLDER:
        for child in store.descendants(ctx, row.id):
            child_row = store.get(ctx, child)
            if child_row is not None and (child_row.owner == row.owner or row.drive_id is not None):
                doomed.append(child)
    store.delete_files(ctx, doomed)


def empty_trash(ctx: TwinContext, *, drive_id: str | None = None) -> None:
    """`files.emptyTrash`: delete every trashed file the caller owns."""
    me = caller(ctx).email
    if drive_id:
        access = Access(ctx)
        drive = store.get(ctx, drive_id)
        if drive is None or drive.id != drive.drive_id or access.role(drive.id) is None:
            raise GoogleError(
                f"Shared drive not found: {drive_id}",
                status=404,
                reason="notFound",
                location="driveId",
                location_type="parameter",
            )
        if access.role(drive.id) != "organizer":
            raise GoogleError(
                "The user does not have sufficient permissions for this file.",
                status=403,
                reason="insufficientFilePermissions",
            )
        mine = F.c.drive_id == drive.id
    else:
        mine = (F.c.owner == me) & F.c.drive_id.is_(None)
    rows = (
        ctx.conn.execute(select(F.c.id).where(F.c.tenant_id == ctx.tenant, F.c.trashed.is_(True), mine))
        .scalars()
        .all()
    )
    store.delete_files(ctx, list(rows))


def generate_ids(ctx: TwinContext, *, count: int, space: str, type_: str) -> dict[str, Any]:
    """`files.generateIds`: ids a later `files.create` or `files.copy` may use."""
    if space not in ("drive", "appDataFolder"):
        raise invalid_value("space")
    if type_ not in ("files", "shortcuts"):
        raise invalid_value("type")
    return {"kind": "drive#generatedIds", "space": space, "ids": [common.file_id(ctx) for _ in range(count)]}


def export(ctx: TwinContext, *, file_id: str, mime_type: str) -> tuple[bytes, str]:
    """`files.export`: a Docs Editors file in another format, from its content in the Workspace
    store (twins/_workspace/content.py): documents to text/plain, text/html and text/markdown,
    spreadsheets (their first sheet) to text/csv and text/tab-separated-values; 10 MB at most.
    Divergence: the binary formats (PDF, Office, OpenDocument, EPUB, zip) are not produced; the
    twin answers them as conversions it does not support, and does not list them."""
    from twins.gdrive.service.common import EXPORTS

    access = Access(ctx)
    row = access.file(file_id)
    if row.mime_type not in EXPORTS:
        raise GoogleError("Export only supports Docs Editors files.", status=403, reason="fileNotExportable")
    if mime_type not in EXPORTS[row.mime_type]:
        raise GoogleError(
            "The requested conversion is not supported.",
            status=400,
            reason="badRequest",
            location="convertTo",
            location_type="parameter",
        )
    if row.mime_type == common.SPREADSHEET:
        data = native.delimited(ctx, row.id, "," if mime_type == "text/csv" else "\t")
    else:
        doc = native.document(ctx, row.id)
        render = {"text/plain": native.plain_text, "text/markdown": native.markdown_text}.get(mime_type)
        data = render(doc) if render is not None else native.html_text(doc, row.name)
    if len(data) > EXPORT_MAX:
        raise GoogleError(
            "This file is too large to be exported.", status=403, reason="exportSizeLimitExceeded"
        )
    return data, mime_type
