"""Drive `files.list`: the `q` language, orderBy, corpora and keyset paging.

https://developers.google.com/workspace/drive/api/reference/rest/v3/files/list . The caller
sees exactly the files some permission grants them (on the file or an ancestor folder).
Trashed files are listed unless `q` says `trashed = false`, as Drive does. Pages are keyset
pages over the requested order (the token carries the last file's sort key), so files written
between pages are neither skipped nor repeated.
Divergence: `fullText` searches name, description, `contentHints.indexableText` is not kept,
and the text of `text/*` files.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from dtu.context import TwinContext
from dtu.pagination import CursorError, decode_cursor, encode_cursor
from twins._workspace import store
from twins._workspace.common import FOLDER, RANK
from twins.gdrive import query
from twins.gdrive.errors import GoogleError, invalid_query, invalid_value
from twins.gdrive.service.common import Access, Renderer

F = store.F
ORDER_KEYS = {
    "createdTime",
    "folder",
    "modifiedByMeTime",
    "modifiedTime",
    "name",
    "name_natural",
    "quotaBytesUsed",
    "recency",
    "sharedWithMeTime",
    "starred",
    "viewedByMeTime",
}


def parse_order(order_by: str | None) -> list[tuple[str, bool]]:
    if not order_by:
        return []
    out = []
    for part in order_by.split(","):
        words = part.split()
        if (
            not words
            or len(words) > 2
            or words[0] not in ORDER_KEYS
            or (len(words) == 2 and words[1] not in ("asc", "desc"))
        ):
            raise invalid_value("orderBy", f"Invalid value '{order_by}' for orderBy.")
        out.append((words[0], len(words) == 2 and words[1] == "desc"))
    return out


def _natural(name: str) -> list[Any]:
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part.lower())
        for part in re.split(r"(\d+)", name)
        if part
    ]


def _sort_value(row: Any, key: str, me: str, shared_time: float | None) -> Any:
    if key == "folder":
        return 0 if row.mime_type == FOLDER else 1
    if key == "name":
        return row.name.lower()
    if key == "name_natural":
        return _natural(row.name)
    if key == "createdTime":
        return row.created_time
    if key == "modifiedTime":
        return row.modified_time
    if key == "modifiedByMeTime":
        return (row.modified_by or {}).get(me)
    if key == "viewedByMeTime":
        return (row.viewed or {}).get(me)
    if key == "recency":
        return max(
            t
            for t in (row.modified_time, (row.viewed or {}).get(me), (row.modified_by or {}).get(me))
            if t is not None
        )
    if key == "sharedWithMeTime":
        return shared_time
    if key == "quotaBytesUsed":
        return row.size or 0
    if key == "starred":
        return 1 if row.starred else 0
    raise AssertionError(key)


def _cmp_values(a: Any, b: Any) -> int:
    if a == b:
        return 0
    if a is None:
        return -1
    if b is None:
        return 1
    return -1 if a < b else 1


def _make_cmp(order: list[tuple[str, bool]]) -> Callable[[list[Any], list[Any]], int]:
    def cmp(x: list[Any], y: list[Any]) -> int:
        for i, (_key, desc) in enumerate(order):
            c = _cmp_values(x[i], y[i])
            if c:
                return -c if desc else c
        return _cmp_values(x[-1], y[-1])  # tiebreak on creation order, then id

    return cmp


def _normal(value: Any) -> Any:
    """Sort values as they survive a JSON round trip (tuples become lists)."""
    if isinstance(value, tuple | list):
        return [_normal(v) for v in value]
    return value


def list_files(
    ctx: TwinContext,
    *,
    q: str | None,
    order_by: str | None,
    page_size: int,
    page_token: str | None,
    corpora: str | None,
    drive_id: str | None,
    include_all_drives: bool,
    spaces: str | None,
    fields_text: str | None = None,
) -> tuple[dict[str, Any], Any]:
    """Answer (the FileList without its files rendered, the renderer); rendering is left to
    the route so `fields` decides how much is built."""
    expr = None
    if q is not None and q.strip():
        try:
            expr = query.parse(q)
        except query.QueryError:
            raise invalid_query() from None
    order = parse_order(order_by)
    corpora = corpora or ("drive" if drive_id else "user")
    if corpora not in ("user", "domain", "drive", "allDrives"):
        raise invalid_value("corpora")
    if corpora == "drive" and not drive_id:
        raise GoogleError(
            "The driveId parameter must be specified if and only if corpora is set to drive.",
            status=400,
            reason="invalid",
            location="driveId",
            location_type="parameter",
        )
    if corpora in ("drive", "allDrives") and not include_all_drives:
        raise GoogleError(
            f"The includeItemsFromAllDrives parameter must be set to true when corpora is set to {corpora}.",
            status=403,
            reason="teamDriveIncludeItemsRequired",
            location="includeItemsFromAllDrives",
            location_type="parameter",
        )
    for space in (spaces or "drive").split(","):
        if space.strip() not in ("drive", "appDataFolder", "photos"):
            raise invalid_value("spaces", f"Invalid Value: spaces {space}")
    filters = {
        "q": q or "",
        "orderBy": order_by or "",
        "corpora": corpora,
        "driveId": drive_id or "",
        "all": include_all_drives,
        "spaces": spaces or "drive",
    }
    try:
        after = decode_cursor(page_token, kind="drive", filters=filters)
    except CursorError:
        raise invalid_value("pageToken") from None
    access = Access(ctx)
    me = access.caller.email
    wants_text = "fullText" in (q or "")
    cutoff = ctx.visible_before()
    rows = ctx.conn.execute(select(F).where(F.c.tenant_id == ctx.tenant, F.c.is_root.is_(False))).all()
    if (spaces or "drive").strip() == "appDataFolder":
        rows = []
    matched: list[tuple[list[Any], Any]] = []
    for row in rows:
        if cutoff is not None and row.created_time > cutoff:
            continue
        role = access.role(row.id)
        if role is None:
            continue
        if row.drive_id is not None and not (include_all_drives and corpora in ("drive", "allDrives")):
            continue
        if corpora == "drive" and row.drive_id != drive_id:
            continue
        view = _view(ctx, access, row, me, wants_text)
        if expr is not None and not query.evaluate(expr, view):
            continue
        key = [_normal(_sort_value(row, k, me, view.extra.get("shared_time"))) for k, _ in order]
        key.append([row.seq, row.id])
        matched.append((key, row))
    cmp = _make_cmp(order)

    def by_key(a: tuple[list[Any], Any], b: tuple[list[Any], Any]) -> int:
        return cmp(a[0], b[0])

    matched.sort(key=functools.cmp_to_key(by_key))
    if after is not None:
        matched = [m for m in matched if cmp(m[0], after) > 0]
    page = matched[:page_size]
    out: dict[str, Any] = {"kind": "drive#fileList", "incompleteSearch": False, "rows": [r for _, r in page]}
    if len(matched) > page_size:
        out["nextPageToken"] = encode_cursor(page[-1][0], kind="drive", filters=filters)
    return out, Renderer(ctx, access)


def _view(ctx: TwinContext, access: Access, row: Any, me: str, wants_text: bool) -> query.FileView:
    g = access.graph
    perms = _effective_perms(g, row.id, set())
    writers = {e for e, r in perms.items() if RANK[r] >= RANK["writer"]}
    readers = set(perms)
    direct = g.perms.get(row.id, [])
    shared = [p for p in direct if p.role != "owner" and access.who.matches(p)]
    visibility = "limited"
    for p in direct:
        if p.type == "anyone":
            visibility = "anyoneCanFind" if p.allow_file_discovery else "anyoneWithLink"
            break
        if p.type == "domain":
            visibility = "domainCanFind" if p.allow_file_discovery else "domainWithLink"
    text = f"{row.name} {row.description or ''}"
    if wants_text and row.mime_type.startswith("text/") and row.head_revision_id:
        text += " " + store.content(ctx, row)[:1_000_000].decode("utf-8", "replace")
    shared_time = min((p.created_time for p in shared), default=None) if row.owner != me else None
    return query.FileView(
        name=row.name,
        mime_type=row.mime_type,
        full_text=text,
        trashed=bool(row.trashed),
        starred=bool(row.starred),
        shared_with_me=row.owner != me and bool(shared),
        parents=g.parents.get(row.id, []),
        owners=[row.owner] if row.owner else [],
        writers=sorted(writers),
        readers=sorted(readers),
        times={
            "modifiedTime": row.modified_time,
            "createdTime": row.created_time,
            "viewedByMeTime": (row.viewed or {}).get(me),
            "sharedWithMeTime": shared_time,
        },
        properties=dict(row.properties or {}),
        app_properties=dict(row.app_properties or {}),
        visibility=visibility,
        shortcut_target=row.shortcut_target,
        extra={"shared_time": shared_time},
    )


def _effective_perms(g: store.Graph, file_id: str, seen: set[str]) -> dict[str, str]:
    """email -> best role from user/group permissions on the file and its ancestors."""
    out: dict[str, str] = {}
    for p in g.perms.get(file_id, []):
        if (
            p.email
            and p.type in ("user", "group")
            and (p.email not in out or RANK[p.role] > RANK[out[p.email]])
        ):
            out[p.email] = p.role
    for parent in g.parents.get(file_id, []):
        if parent in seen:
            continue
        for email, role in _effective_perms(g, parent, seen | {file_id}).items():
            role = "writer" if role == "owner" else role
            if email not in out or RANK[role] > RANK[out[email]]:
                out[email] = role
    return out
