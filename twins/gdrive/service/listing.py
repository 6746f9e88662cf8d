"""Drive `files.list`: the `q` language, orderBy, corpora and keyset paging.

https://developers.google.com/workspace/drive/api/reference/rest/v3/files/list . The caller
sees exactly the files some permission grants them (on the file or an ancestor folder).
Trashed files are listed unless `q` says `trashed = false`, as Drive does. `corpora=user`
(the default) lists what the caller owns, opened, or was given through a user or group
permission (on the file or a folder above); a file anyone with the link may open, or anyone in
the domain, is listed only once the caller opened it, or with `corpora=domain` when the domain
permission lets it be found (`allowFileDiscovery`). Pages are keyset
pages over the requested order (the token carries the last file's sort key), so files written
between pages are neither skipped nor repeated.

Cost: the terms of `q`'s top-level `and` that SQL can say narrow the rows read (`_prefilter`);
the parser's evaluator then decides every row. Without `orderBy` the rows are read in creation
order in growing slices until a page is full, so a page costs about a page of rows whatever the
size of the Drive; with `orderBy` every candidate is read and sorted. Permissions and parents
are read for the rows looked at and their ancestors only (`store.Graph`).
Divergence: `fullText` searches name, description, `contentHints.indexableText` is not kept,
and the text of `text/*` files.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import false, or_, select

from dtu.context import TwinContext
from dtu.pagination import CursorError, decode_cursor, encode_cursor
from twins._workspace import store
from twins._workspace.common import FOLDER, RANK
from twins.gdrive import query
from twins.gdrive.errors import GoogleError, invalid_query, invalid_value
from twins.gdrive.service.common import Access, Renderer

F = store.F
P = store.P
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
    if (
        order
        and expr is not None
        and any(isinstance(t, query.Cmp) and t.field == "fullText" for t in _walk(expr))
    ):
        raise GoogleError(
            "Sorting is not supported for queries with fullText terms. Results are always in descending "
            "relevance order.",
            status=400,
            reason="badRequest",
            location="orderBy",
            location_type="parameter",
        )
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
    if expr is not None:
        expr = _root_alias(expr, store.root_id(ctx, access.caller), me)
    conds = [F.c.tenant_id == ctx.tenant, F.c.is_root.is_(False), *_prefilter(ctx, expr)]
    if not (include_all_drives and corpora in ("drive", "allDrives")):
        conds.append(F.c.drive_id.is_(None))
    if corpora == "drive":
        conds.append(F.c.drive_id == drive_id)
    cutoff = ctx.visible_before()
    if cutoff is not None:
        conds.append(F.c.created_time <= cutoff)
    if (spaces or "drive").strip() == "appDataFolder":
        conds.append(false())
    wanted = _Wanted(expr, order)
    corpus = access.who.narrowed("domain" if corpora == "domain" else "direct")

    def accept(row: Any) -> list[Any] | None:
        """The row's sort key if the caller sees it, it is in the corpus and it matches `q`;
        None otherwise."""
        if access.role(row.id) is None:
            return None
        if (
            row.drive_id is None
            and row.owner != me
            and me not in (row.viewed or {})
            and me not in (row.modified_by or {})
            and access.graph.role(row.id, corpus) is None
        ):
            return None  # reachable by its link (or domain) only, and never opened: not in the corpus
        view = _view(ctx, access, row, me, wanted) if wanted.view else None
        if expr is not None and view is not None and not query.evaluate(expr, view):
            return None
        shared = view.extra.get("shared_time") if view is not None else None
        key = [_normal(_sort_value(row, k, me, shared)) for k, _ in order]
        key.append([row.seq, row.id])
        return key

    matched: list[tuple[list[Any], Any]] = []
    cmp = _make_cmp(order)
    if not order:
        # Creation order is the table's own (`seq`): read it in slices from the cursor on and
        # stop once a page and one more file have matched.
        last = after[-1][0] if after else None
        size = page_size + 1  # enough when SQL narrowed the rows to the matches; grows if not
        while len(matched) <= page_size:
            stmt = select(F).where(*conds)
            if last is not None:
                stmt = stmt.where(F.c.seq > last)
            batch = ctx.conn.execute(stmt.order_by(F.c.seq).limit(size)).all()
            access.graph.load(r.id for r in batch)
            for row in batch:
                key = accept(row)
                if key is not None:
                    matched.append((key, row))
            if len(batch) < size:
                break
            last = batch[-1].seq
            size = min(size * 2, store.Graph.BULK)
    else:
        rows = ctx.conn.execute(select(F).where(*conds)).all()
        access.graph.load(r.id for r in rows)
        for row in rows:
            key = accept(row)
            if key is not None:
                matched.append((key, row))

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


def _walk(expr: Any) -> Iterator[Any]:
    yield expr
    if isinstance(expr, query.BoolOp):
        for item in expr.items:
            yield from _walk(item)
    elif isinstance(expr, query.Not):
        yield from _walk(expr.expr)


class _Wanted:
    """What of a file the query and the order read (the rest is not computed)."""

    def __init__(self, expr: Any, order: list[tuple[str, bool]]) -> None:
        terms = list(_walk(expr)) if expr is not None else []
        self.text = any(isinstance(t, query.Cmp) and t.field == "fullText" for t in terms)
        self.roles = any(isinstance(t, query.In) and t.collection in ("writers", "readers") for t in terms)
        self.view = expr is not None or any(k == "sharedWithMeTime" for k, _ in order)


def _root_alias(expr: Any, root: str, me: str = "") -> Any:
    """`'root' in parents` names the caller's My Drive folder, `'me' in owners` (writers,
    readers) the caller."""
    if isinstance(expr, query.In) and expr.collection == "parents" and expr.value == "root" and root:
        return query.In(root, "parents")
    if isinstance(expr, query.In) and expr.collection != "parents" and expr.value == "me" and me:
        return query.In(me, expr.collection)
    if isinstance(expr, query.BoolOp):
        return query.BoolOp(expr.op, tuple(_root_alias(e, root, me) for e in expr.items))
    if isinstance(expr, query.Not):
        return query.Not(_root_alias(expr.expr, root, me))
    return expr


_ID_LIST = 1000


def _prefilter(ctx: TwinContext, expr: Any) -> list[Any]:
    """SQL conditions that every match of `q` meets: the terms of its top-level `and` that SQL
    can say (parents, trashed, starred, name and mimeType equality, a superset of `name
    contains`), so that the rows read are few.
    The evaluator still decides every row, so these only ever narrow what it is shown."""
    if expr is None:
        return []
    terms = expr.items if isinstance(expr, query.BoolOp) and expr.op == "and" else (expr,)
    out: list[Any] = []
    for term in terms:
        if isinstance(term, query.In) and term.collection == "parents":
            # The folder's items by id when they are not too many: a plan that no stale table
            # statistics can turn into a join over the whole Drive (PostgreSQL after a big load).
            children = select(P.c.file_id).where(P.c.tenant_id == ctx.tenant, P.c.parent_id == term.value)
            ids = list(ctx.conn.execute(children.limit(_ID_LIST + 1)).scalars())
            out.append(F.c.id.in_(ids) if len(ids) <= _ID_LIST else F.c.id.in_(children))
        elif isinstance(term, query.Cmp) and term.field == "name" and term.op == "contains":
            if term.value.isascii():
                # A word-prefix match is a substring of the lower-cased name: LIKE finds it,
                # ASCII-case-insensitively, unless lower() made an ASCII letter from another
                # character (U+0130 and the Kelvin sign are the only two): keep those names too.
                out.append(
                    or_(
                        F.c.name.icontains(term.value, autoescape=True),
                        F.c.name.contains("\u0130"),
                        F.c.name.contains("\u212a"),
                    )
                )
        elif isinstance(term, query.Cmp) and term.op in ("=", "!="):
            column = {
                "trashed": F.c.trashed,
                "starred": F.c.starred,
                "name": F.c.name,
                "mimeType": F.c.mime_type,
            }.get(term.field)
            if column is not None:
                out.append(column == term.value if term.op == "=" else column != term.value)
    return out


def _view(ctx: TwinContext, access: Access, row: Any, me: str, wanted: _Wanted) -> query.FileView:
    g = access.graph
    perms = _effective_perms(g, row.id, set()) if wanted.roles else {}
    writers = {e for e, r in perms.items() if RANK[r] >= RANK["writer"]}
    readers = set(perms)
    direct = g.perms_of(row.id)
    # shared with me: a user or group permission on the file itself (inherited access and link
    # sharing do not put a file in "Shared with me")
    mine = access.who.narrowed("direct")
    shared = [p for p in direct if p.role != "owner" and mine.matches(p)]
    visibility = "limited"
    for p in direct:
        if p.type == "anyone":
            visibility = "anyoneCanFind" if p.allow_file_discovery else "anyoneWithLink"
            break
        if p.type == "domain":
            visibility = "domainCanFind" if p.allow_file_discovery else "domainWithLink"
    text = f"{row.name} {row.description or ''}"
    if wanted.text and row.mime_type.startswith("text/") and row.head_revision_id:
        text += " " + store.content(ctx, row)[:1_000_000].decode("utf-8", "replace")
    shared_time = min((p.created_time for p in shared), default=None) if row.owner != me else None
    return query.FileView(
        name=row.name,
        mime_type=row.mime_type,
        full_text=text,
        trashed=bool(row.trashed),
        starred=bool(row.starred),
        shared_with_me=row.owner != me and bool(shared),
        parents=g.parents_of(row.id),
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
    for p in g.perms_of(file_id):
        if (
            p.email
            and p.type in ("user", "group")
            and (p.email not in out or RANK[p.role] > RANK[out[p.email]])
        ):
            out[p.email] = p.role
    for parent in g.parents_of(file_id):
        if parent in seen:
            continue
        for email, role in _effective_perms(g, parent, seen | {file_id}).items():
            role = "writer" if role == "owner" else role
            if email not in out or RANK[role] > RANK[out[email]]:
                out[email] = role
    return out
