"""Drive `revisions`: the stored versions of a file's binary content.

https://developers.google.com/workspace/drive/api/reference/rest/v3/revisions . Every content
write (upload, `files.update` with media) adds a revision; the head revision's bytes are the
file's content. Reading revisions needs write access (`capabilities.canReadRevisions`); a
caller without any access gets 404 like for the file itself. The head revision (the last
remaining version) cannot be deleted.
Divergences: revisions are never pruned (Drive drops unpinned ones after 30 days / 100 versions);
Docs Editors files have no revisions here until the Docs/Sheets twins write them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update

from dtu.context import TwinContext
from twins._workspace import common, store
from twins._workspace.common import FOLDER, RANK
from twins.gdrive.errors import GoogleError, insufficient_file_permissions, invalid_value, revision_not_found
from twins.gdrive.service.common import Access, Renderer

REV = store.REV
WRITABLE = {"keepForever", "published", "publishAuto", "publishedOutsideDomain"}
MAX_KEEP_FOREVER = 200  # https://developers.google.com/workspace/drive/api/guides/manage-revisions


def _file(ctx: TwinContext, file_id: str) -> tuple[Access, Any]:
    access = Access(ctx)
    row = access.file(file_id)
    if RANK[access.role(row.id) or "reader"] < RANK["writer"]:
        raise insufficient_file_permissions()
    return access, row


def _rev(ctx: TwinContext, file_id: str, revision_id: str) -> Any:
    row = ctx.conn.execute(
        select(REV).where(REV.c.tenant_id == ctx.tenant, REV.c.file_id == file_id, REV.c.id == revision_id)
    ).first()
    if row is None:
        raise revision_not_found(revision_id)
    return row


def _resolve(ctx: TwinContext, file_row: Any, revision_id: str) -> Any:
    """`head` names the head revision, as on Drive."""
    if revision_id == "head" and file_row.head_revision_id:
        revision_id = file_row.head_revision_id
    return _rev(ctx, file_row.id, revision_id)


def render(renderer: Renderer, rev: Any, file_row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "drive#revision",
        "id": rev.id,
        "mimeType": rev.mime_type,
        "modifiedTime": common.rfc3339(rev.modified_time),
        "keepForever": bool(rev.keep_forever),
        "md5Checksum": rev.md5,
        "size": str(rev.size),
    }
    if rev.original_filename:
        out["originalFilename"] = rev.original_filename
    user = renderer.user(rev.last_modifying_user)
    if user is not None:
        out["lastModifyingUser"] = user
    return out


def list_revisions(
    ctx: TwinContext, *, file_id: str, page_size: int, page_token: str | None
) -> dict[str, Any]:
    """`revisions.list`: oldest first; `pageToken` is an offset bound to the file."""
    access, row = _file(ctx, file_id)
    start = 0
    if page_token:
        prefix, _, number = page_token.partition(":")
        if prefix != row.id or not number.isdigit():
            raise invalid_value("pageToken")
        start = int(number)
    rows = list(
        ctx.conn.execute(
            select(REV).where(REV.c.tenant_id == ctx.tenant, REV.c.file_id == row.id).order_by(REV.c.seq)
        )
    )
    renderer = Renderer(ctx, access)
    page = rows[start : start + page_size]
    out: dict[str, Any] = {"kind": "drive#revisionList"}
    if start + page_size < len(rows):
        out["nextPageToken"] = f"{row.id}:{start + page_size}"
    out["revisions"] = [render(renderer, r, row) for r in page]
    return out


def get(ctx: TwinContext, *, file_id: str, revision_id: str) -> dict[str, Any]:
    """`revisions.get` (metadata)."""
    access, row = _file(ctx, file_id)
    return render(Renderer(ctx, access), _resolve(ctx, row, revision_id), row)


def download(ctx: TwinContext, *, file_id: str, revision_id: str) -> tuple[bytes, str]:
    """`revisions.get?alt=media`: that version's bytes (binary files only)."""
    _access, row = _file(ctx, file_id)
    if row.mime_type == FOLDER or store.is_native(row.mime_type):
        raise GoogleError(
            "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
            status=403,
            reason="fileNotDownloadable",
            location="alt",
            location_type="parameter",
        )
    rev = _resolve(ctx, row, revision_id)
    return bytes(rev.content or b""), str(rev.mime_type)


def update_revision(
    ctx: TwinContext, *, file_id: str, revision_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """`revisions.update`: pin (`keepForever`) or unpin a version; publishing is for Docs
    Editors files only."""
    for key in body:
        if key not in WRITABLE:
            raise GoogleError(
                "The resource body includes fields which are not directly writable.",
                status=403,
                reason="fieldNotWritable",
            )
    access, row = _file(ctx, file_id)
    rev = _resolve(ctx, row, revision_id)
    values: dict[str, Any] = {}
    if "keepForever" in body:
        if not isinstance(body["keepForever"], bool):
            raise invalid_value(
                message=f"Invalid value at 'revision.keep_forever' (TYPE_BOOL), {body['keepForever']!r}"
            )
        if body["keepForever"] and not rev.keep_forever:
            pinned = len(
                ctx.conn.execute(
                    select(REV.c.id).where(
                        REV.c.tenant_id == ctx.tenant, REV.c.file_id == row.id, REV.c.keep_forever.is_(True)
                    )
                ).all()
            )
            if pinned >= MAX_KEEP_FOREVER:
                raise GoogleError(
                    "The file has reached the maximum number of revisions that can be kept forever.",
                    status=400,
                    reason="badRequest",
                )
        values["keep_forever"] = body["keepForever"]
    if any(k in body for k in ("published", "publishAuto", "publishedOutsideDomain")) and body.get(
        "published"
    ):
        raise GoogleError(
            "Only revisions of Google Docs Editors files can be published.",
            status=400,
            reason="revisionsNotSupported",
        )
    if values:
        ctx.conn.execute(
            update(REV)
            .where(REV.c.tenant_id == ctx.tenant, REV.c.file_id == row.id, REV.c.id == rev.id)
            .values(**values)
        )
    return render(Renderer(ctx, access), _rev(ctx, row.id, rev.id), row)


def delete_revision(ctx: TwinContext, *, file_id: str, revision_id: str) -> None:
    """`revisions.delete`: a past version of a binary file; never the head (the last remaining
    version), never a Docs Editors file's."""
    _access, row = _file(ctx, file_id)
    rev = _resolve(ctx, row, revision_id)
    if store.is_native(row.mime_type):
        raise GoogleError(
            "Revisions of Google Docs Editors files cannot be deleted.",
            status=400,
            reason="revisionsNotSupported",
        )
    if rev.id == row.head_revision_id:
        raise GoogleError(
            "The head revision cannot be deleted.", status=400, reason="cannotDeleteHeadRevision"
        )
    ctx.conn.execute(
        delete(REV).where(REV.c.tenant_id == ctx.tenant, REV.c.file_id == row.id, REV.c.id == rev.id)
    )
    store.record_change(ctx, row.id, "update", drive_id=row.drive_id)
