"""JQL search: `/search` (startAt/maxResults/total), `/search/jql` (nextPageToken),
`/search/approximate-count`, `/jql/parse` and the issue picker.

https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/ . The
meaning of JQL is `twins.jira.jql`; this module tells it about the site (`SiteCatalog`), lets
the database decide and sort what it can (`pushdown`), and builds evaluator views only for the
database's candidates when a query needs the evaluator. The `jira.search.index_lag` fault
point (and the core `stale_reads` action) hide issues written within the lag, as Jira's index
can.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Row, select

from dtu.context import TwinContext
from dtu.db import table
from twins.jira import adf, constants, jql, models
from twins.jira.errors import JiraError
from twins.jira.jql import EMPTY_OPS, EQ, HISTORY, RANGE, FieldSpec
from twins.jira.service import common, fields, issues, pushdown
from twins.jira.service.common import COMPONENT, ISSUE, ITYPE, SPRINT, STATUS, USER, VERSION

CHANGE = table(models.ChangeGroup)
COMMENT = table(models.Comment)
GROUP, MEMBER = table(models.Group), table(models.GroupMember)

SYSTEM_SPECS: dict[str, FieldSpec] = {}


def _add(names: tuple[str, ...], spec: FieldSpec) -> None:
    for n in names:
        SYSTEM_SPECS[n.lower()] = spec


_add(("project",), FieldSpec("project", "project", "project", EQ + EMPTY_OPS))
_add(("key", "issuekey", "issue"), FieldSpec("key", "key", "key", EQ + RANGE))
_add(("id",), FieldSpec("key", "key", "id", EQ + RANGE))
_add(("summary",), FieldSpec("summary", "text", "summary", ("~", "!~")))
_add(("description",), FieldSpec("description", "text", "description", ("~", "!~", *EMPTY_OPS), False))
_add(("environment",), FieldSpec("environment", "text", "environment", ("~", "!~", *EMPTY_OPS), False))
_add(("comment",), FieldSpec("comment", "text", "comment", ("~", "!~"), False))
_add(("text",), FieldSpec("text", "text", "text", ("~",), False))
_add(("status",), FieldSpec("status", "status", "status", EQ + HISTORY))
_add(("statuscategory",), FieldSpec("statusCategory", "category", "statusCategory", EQ))
_add(("assignee",), FieldSpec("assignee", "user", "assignee", EQ + EMPTY_OPS + HISTORY))
_add(("reporter",), FieldSpec("reporter", "user", "reporter", EQ + EMPTY_OPS + HISTORY))
_add(("creator",), FieldSpec("creator", "user", "creator", EQ + EMPTY_OPS))
_add(("labels", "label"), FieldSpec("labels", "labels", "labels", EQ + EMPTY_OPS, False))
_add(("priority",), FieldSpec("priority", "priority", "priority", EQ + EMPTY_OPS + RANGE + HISTORY))
_add(("issuetype", "type"), FieldSpec("issuetype", "issuetype", "issuetype", EQ))
_add(("resolution",), FieldSpec("resolution", "resolution", "resolution", EQ + EMPTY_OPS + HISTORY))
_add(("component",), FieldSpec("component", "component", "component", EQ + EMPTY_OPS, False))
_add(("fixversion",), FieldSpec("fixVersion", "version", "fixVersion", EQ + EMPTY_OPS + HISTORY, False))
_add(("affectedversion",), FieldSpec("affectedVersion", "version", "affectedVersion", EQ + EMPTY_OPS, False))
_add(("parent",), FieldSpec("parent", "parent", "parent", EQ + EMPTY_OPS, False))
_add(("created", "createddate"), FieldSpec("created", "date", "created", EQ + RANGE + EMPTY_OPS))
_add(("updated", "updateddate"), FieldSpec("updated", "date", "updated", EQ + RANGE + EMPTY_OPS))
_add(("duedate", "due"), FieldSpec("duedate", "date", "duedate", EQ + RANGE + EMPTY_OPS))
_add(("resolved", "resolutiondate"), FieldSpec("resolutiondate", "date", "resolved", EQ + RANGE + EMPTY_OPS))
_add(("sprint",), FieldSpec("sprint", "sprint", "sprint", EQ + EMPTY_OPS, False))
_add(("rank",), FieldSpec("rank", "rank", "Rank", (), True))

KIND_OF_CUSTOM = {
    "number": "number",
    "select": "option",
    "multiselect": "option",
    "date": "date",
    "datetime": "date",
    "user": "user",
    "labels": "labels",
    "string": "text",
    "textarea": "text",
    "sprint": "sprint",
    "rank": "rank",
}
OPS_OF_KIND = {
    "number": EQ + RANGE + EMPTY_OPS,
    "option": EQ + EMPTY_OPS,
    "date": EQ + RANGE + EMPTY_OPS,
    "user": EQ + EMPTY_OPS,
    "labels": EQ + EMPTY_OPS,
    "text": ("~", "!~", *EMPTY_OPS),
    "sprint": EQ + EMPTY_OPS,
    "rank": (),
}
PRIORITY_WEIGHT = {p["id"]: len(constants.PRIORITIES) - i for i, p in enumerate(constants.PRIORITIES)}


class SiteCatalog:
    """The site as JQL sees it: fields, values by name, functions; bound to the caller."""

    def __init__(self, ctx: TwinContext) -> None:
        self.ctx = ctx
        self.projects = [p for p in common.project_rows(ctx) if common.can_browse(ctx, p)]
        self.custom = fields.custom_rows(ctx)
        self._now = ctx.now()

    def now(self) -> float:
        return self._now

    def field(self, name: str) -> FieldSpec | None:
        low = name.lower().strip()
        if low in SYSTEM_SPECS:
            return SYSTEM_SPECS[low]
        num = None
        if low.startswith("cf[") and low.endswith("]"):
            num = low[3:-1]
        elif low.startswith("customfield_"):
            num = low[12:]
        for row in self.custom:
            if (num is not None and row.id == f"customfield_{num}") or row.name.lower() == low:
                kind = KIND_OF_CUSTOM[row.kind]
                if row.kind == "sprint":
                    return SYSTEM_SPECS["sprint"]
                if row.kind == "rank":
                    return SYSTEM_SPECS["rank"]
                return FieldSpec(
                    row.id,
                    kind,
                    name,
                    OPS_OF_KIND[kind],
                    kind not in ("labels", "text"),
                )
        return None

    def _users(self) -> list[Row[Any]]:
        return list(self.ctx.conn.execute(select(USER).where(USER.c.tenant_id == self.ctx.tenant)).all())

    def resolve(self, spec: FieldSpec, text: str, quoted: bool) -> list[Any] | None:
        ctx, low = self.ctx, text.lower()
        t = ctx.tenant
        kind = spec.kind
        if kind == "project":
            hit = [
                p.id for p in self.projects if p.key.lower() == low or p.id == text or p.name.lower() == low
            ]
            return hit or None
        if kind == "key":
            if text.isdigit():
                r = ctx.conn.execute(
                    select(ISSUE.c.project_id, ISSUE.c.number).where(
                        ISSUE.c.tenant_id == t, ISSUE.c.id == text
                    )
                ).first()
                return [(r.project_id, r.number)] if r else [("", -1)]
            proj, _, num = text.upper().rpartition("-")
            project = next((p for p in self.projects if p.key == proj), None)
            if project is None or not num.isdigit():
                return None
            exists = ctx.conn.execute(
                select(ISSUE.c.id).where(
                    ISSUE.c.tenant_id == t, ISSUE.c.project_id == project.id, ISSUE.c.number == int(num)
                )
            ).first()
            if exists:
                return [(project.id, int(num))]
            moved = common.moved_issue_id(ctx, text)  # a key from before a move names the issue
            if moved is None:
                return None
            r = ctx.conn.execute(
                select(ISSUE.c.project_id, ISSUE.c.number).where(ISSUE.c.tenant_id == t, ISSUE.c.id == moved)
            ).first()
            return [(r.project_id, r.number)] if r else None
        if kind == "status":
            rows = ctx.conn.execute(select(STATUS).where(STATUS.c.tenant_id == t)).all()
            hit = [r.id for r in rows if r.id == text or r.name.lower() == low]
            return hit or None
        if kind == "category":
            cats = [
                c["id"]
                for c in constants.STATUS_CATEGORIES
                if str(c["id"]) == text or c["name"].lower() == low or c["key"] == low
            ]
            return cats or None
        if kind == "user":
            rows = self._users()
            hit = [
                r.account_id
                for r in rows
                if r.account_id == text or r.email == low or r.display_name.lower() == low
            ]
            return hit or None
        if kind == "priority":
            hit = [p["id"] for p in constants.PRIORITIES if p["id"] == text or p["name"].lower() == low]
            return [PRIORITY_WEIGHT[h] for h in hit] or None
        if kind == "resolution":
            if low == "unresolved":
                return [None]
            hit = [r["id"] for r in constants.RESOLUTIONS if r["id"] == text or r["name"].lower() == low]
            return hit or None
        if kind == "issuetype":
            rows = ctx.conn.execute(select(ITYPE).where(ITYPE.c.tenant_id == t)).all()
            hit = [r.id for r in rows if r.id == text or r.name.lower() == low]
            if low in ("standardissuetypes()",):
                return [r.id for r in rows if not r.subtask]
            return hit or None
        if kind in ("component", "version"):
            table = COMPONENT if kind == "component" else VERSION
            pids = {p.id for p in self.projects}
            rows = ctx.conn.execute(select(table).where(table.c.tenant_id == t)).all()
            hit = [r.id for r in rows if r.project_id in pids and (r.id == text or r.name.lower() == low)]
            return hit or None
        if kind == "parent":
            r = ctx.conn.execute(
                select(ISSUE.c.id).where(
                    ISSUE.c.tenant_id == t, (ISSUE.c.id == text) | (ISSUE.c.key == text.upper())
                )
            ).first()
            moved = common.moved_issue_id(ctx, text) if r is None else None
            return [r.id] if r else ([moved] if moved else None)
        if kind == "sprint":
            rows = ctx.conn.execute(select(SPRINT).where(SPRINT.c.tenant_id == t)).all()
            hit = [r.id for r in rows if str(r.id) == text or r.name.lower() == low]
            return hit or None
        if kind == "option":
            row = next(r for r in self.custom if r.id == spec.key)
            hit = [o["id"] for o in row.options or [] if o["id"] == text or o["value"].lower() == low]
            return hit or None
        return [text]

    def function(self, spec: FieldSpec, name: str, args: list[str]) -> list[Any] | None:
        low = name.lower()
        if spec.kind == "user":
            if low == "currentuser":
                return [common.me(self.ctx).account_id]
            if low == "membersof":
                if len(args) != 1:
                    raise jql.JqlError(
                        f"Function 'membersOf' expected '1' arguments but received '{len(args)}'."
                    )
                group = self.ctx.conn.execute(
                    select(GROUP).where(GROUP.c.tenant_id == self.ctx.tenant, GROUP.c.name == args[0])
                ).first()
                if group is None:
                    raise jql.JqlError(
                        f"Function 'membersOf' can not generate a list of usernames for group "
                        f"'{args[0]}'; the group does not exist."
                    )
                return list(
                    self.ctx.conn.execute(
                        select(MEMBER.c.account_id).where(
                            MEMBER.c.tenant_id == self.ctx.tenant, MEMBER.c.group_id == group.group_id
                        )
                    )
                    .scalars()
                    .all()
                )
        if spec.kind == "sprint" and low in ("opensprints", "closedsprints", "futuresprints"):
            state = {"opensprints": "active", "closedsprints": "closed", "futuresprints": "future"}[low]
            return list(
                self.ctx.conn.execute(
                    select(SPRINT.c.id).where(SPRINT.c.tenant_id == self.ctx.tenant, SPRINT.c.state == state)
                )
                .scalars()
                .all()
            )
        if spec.kind == "version" and low in ("releasedversions", "unreleasedversions"):
            released = low == "releasedversions"
            return list(
                self.ctx.conn.execute(
                    select(VERSION.c.id).where(
                        VERSION.c.tenant_id == self.ctx.tenant, VERSION.c.released.is_(released)
                    )
                )
                .scalars()
                .all()
            )
        return None


def _date_ts(value: str | None) -> float | None:
    return jql.parse_date(value, 0.0) if value else None


def _visible(ctx: TwinContext, catalog: SiteCatalog) -> list[Any]:
    """What every search starts from: the tenant's issues in browsable projects that the
    index has seen (`jira.search.index_lag` and `stale_reads` hide recent writes)."""
    cond: list[Any] = [
        ISSUE.c.tenant_id == ctx.tenant,
        ISSUE.c.project_id.in_([p.id for p in catalog.projects]),
    ]
    cutoff = _cutoff(ctx)
    if cutoff is not None:
        cond.append(ISSUE.c.written_at <= cutoff)
    return cond


def _cutoff(ctx: TwinContext) -> float | None:
    """Issues written after this time are not in the index yet (None: every issue is)."""
    lag = ctx.point("jira.search.index_lag")
    cutoff = ctx.visible_before()
    if lag is not None:
        lag_cut = ctx.now() - float(lag.get("lag_s", 5))
        cutoff = lag_cut if cutoff is None else min(cutoff, lag_cut)
    return cutoff


@dataclass(frozen=True)
class Needs:
    """The costly parts of a view a query reads: comment text, rich text, change history."""

    comments: bool = True
    rich: bool = True
    history: bool = True


def needs_of(query: jql.Query, catalog: SiteCatalog) -> Needs:
    keys: set[str] = set()
    history = False

    def walk(node: jql.Node | None) -> None:
        nonlocal history
        if node is None:
            return
        if isinstance(node, jql.And | jql.Or):
            for child in node.children:
                walk(child)
        elif isinstance(node, jql.Not):
            walk(node.child)
        else:
            spec = catalog.field(node.field)
            keys.add(spec.key if spec is not None else node.field)
            history = history or node.op.startswith("WAS") or node.op == "CHANGED"

    walk(query.where)
    return Needs(
        comments=bool(keys & {"comment", "text"}),
        rich=bool(keys & {"description", "environment", "text"})
        or any(k.startswith("customfield_") for k in keys),
        history=history,
    )


def build_views(
    ctx: TwinContext, catalog: SiteCatalog, rows: list[Row[Any]], needs: Needs = Needs()
) -> list[dict[str, Any]]:
    """One evaluator view per issue row (rows already limited to what the caller may see)."""
    t = ctx.tenant
    pids = {p.id: p for p in catalog.projects}
    if not rows:
        return []
    ids = [r.id for r in rows]
    statuses = common._catalogue(ctx, STATUS)
    comments: dict[str, list[str]] = {}
    changes: dict[str, dict[str, list[tuple[Any, ...]]]] = {}
    for chunk in _chunks(ids):
        if needs.comments:
            for c in ctx.conn.execute(
                select(COMMENT.c.issue_id, COMMENT.c.body).where(
                    COMMENT.c.tenant_id == t, COMMENT.c.issue_id.in_(chunk)
                )
            ).all():
                comments.setdefault(c.issue_id, []).append(adf.adf_to_text(c.body))
        if needs.history:
            for ch in ctx.conn.execute(
                select(CHANGE)
                .where(CHANGE.c.tenant_id == t, CHANGE.c.issue_id.in_(chunk))
                .order_by(CHANGE.c.created, CHANGE.c.id)
            ).all():
                for item in ch.items:
                    key = HISTORY_FIELDS.get(item["field"])
                    if key is None:
                        continue
                    old, new = item.get("from"), item.get("to")
                    if key == "priority":
                        old = PRIORITY_WEIGHT.get(old) if old else None
                        new = PRIORITY_WEIGHT.get(new) if new else None
                    changes.setdefault(ch.issue_id, {}).setdefault(key, []).append(
                        (ch.created, ch.author, old, new)
                    )
    users = common.user_names(ctx)
    custom_by_id = {r.id: r for r in catalog.custom}
    views = []
    for r in rows:
        st = statuses.get(r.status_id)
        summary = r.summary
        desc = adf.adf_to_text(r.description) if needs.rich else ""
        env = adf.adf_to_text(r.environment) if needs.rich else ""
        comment_text = " ".join(comments.get(r.id, []))
        v: dict[str, Any] = {
            "id": int(r.id),
            "key": (r.project_id, r.number),
            "project": r.project_id,
            "_project_key": pids[r.project_id].key,
            "_sort_key": (pids[r.project_id].key, r.number),
            "summary": summary,
            "description": desc or None,
            "environment": env or None,
            "comment": comment_text or None,
            "text": " ".join(x for x in (summary, desc, env, comment_text) if x),
            "status": r.status_id,
            "_sort_status": st.name if st else "",
            "statusCategory": st.category_id if st else None,
            "assignee": r.assignee,
            "_sort_assignee": users.get(r.assignee) if r.assignee else None,
            "reporter": r.reporter,
            "_sort_reporter": users.get(r.reporter) if r.reporter else None,
            "creator": r.creator,
            "labels": list(r.labels or []),
            "priority": PRIORITY_WEIGHT.get(r.priority_id) if r.priority_id else None,
            "issuetype": r.issuetype_id,
            "resolution": r.resolution_id,
            "component": list(r.components or []),
            "fixVersion": list(r.fix_versions or []),
            "affectedVersion": list(r.versions or []),
            "parent": r.parent_id,
            "created": r.created,
            "updated": r.updated,
            "duedate": _date_ts(r.duedate),
            "resolutiondate": r.resolutiondate,
            "rank": common.rank_body(r.rank),
            "_creator": r.creator,
            "sprint": list((r.custom or {}).get("customfield_10020") or []),
            "_changes": changes.get(r.id, {}),
        }
        for fid, stored in (r.custom or {}).items():
            frow = custom_by_id.get(fid)
            if frow is None or frow.kind in ("sprint", "rank"):
                continue
            if frow.kind == "date":
                v[fid] = _date_ts(stored)
            elif frow.kind == "textarea":
                v[fid] = adf.adf_to_text(stored) or None
            else:
                v[fid] = stored
        views.append(v)
    return views


HISTORY_FIELDS = {
    "status": "status",
    "assignee": "assignee",
    "reporter": "reporter",
    "priority": "priority",
    "resolution": "resolution",
    "Fix Version": "fixVersion",
}


def _chunks(ids: list[str], size: int = 5000) -> list[list[str]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _compile(
    ctx: TwinContext, text: str | None, bounded: bool
) -> tuple[jql.Query, SiteCatalog, jql.Compiled]:
    try:
        query = jql.parse_shared(text or "")
        catalog = SiteCatalog(ctx)
        compiled = jql.compile_query(query, catalog)  # names and values first, as Jira checks them
        if bounded and not jql.is_bounded(query):
            raise jql.JqlError(
                "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
            )
        return query, catalog, compiled
    except jql.JqlError as exc:
        raise JiraError(exc.message) from None


def check(ctx: TwinContext, text: str) -> None:
    """Jira's 400 for JQL that does not parse or names what the site does not have."""
    _compile(ctx, text, False)


def find(
    ctx: TwinContext,
    text: str | None,
    *,
    bounded: bool = False,
    offset: int = 0,
    limit: int | None = None,
    count: bool = True,
) -> tuple[list[str], int | None]:
    """(ids of the issues matching `text` from `offset`, at most `limit`, in the query's order;
    the number of matches when `count`). The database answers what it can (`pushdown`); the
    evaluator checks the rest, over the database's candidates only."""
    return _find(ctx, text, bounded=bounded, offset=offset, limit=limit, count=count, rows=False)


def find_rows(
    ctx: TwinContext,
    text: str | None,
    *,
    bounded: bool = False,
    offset: int = 0,
    limit: int | None = None,
    count: bool = True,
) -> tuple[list[Any], int | None]:
    """`find`, with the issue rows of the page (what `rows_of` would read for its ids)."""
    return _find(ctx, text, bounded=bounded, offset=offset, limit=limit, count=count, rows=True)


def _find(
    ctx: TwinContext,
    text: str | None,
    *,
    bounded: bool,
    offset: int,
    limit: int | None,
    count: bool,
    rows: bool,
) -> tuple[list[Any], int | None]:
    query, catalog, compiled = _compile(ctx, text, bounded)
    project_ids = [p.id for p in catalog.projects]
    plan = pushdown.plan(ctx, query, compiled, project_ids)
    cutoff = _cutoff(ctx)
    dialect = ctx.conn.dialect.name
    values = pushdown.params(plan, ctx.tenant, project_ids, cutoff)
    n_projects, has_cutoff = len(project_ids), cutoff is not None
    if plan.exact and plan.order is not None:
        # one scan answers the page and, through a window count, the total
        kind = "page_rows" if rows else "page"
        stmt = pushdown.statement(
            dialect,
            kind,
            plan,
            count=count,
            limit=limit is not None,
            n_projects=n_projects,
            cutoff=has_cutoff,
        )
        found = stmt.all(ctx.conn, {**values, "offset": offset, "limit": limit})
        total = None
        if count:
            if found:
                total = int(found[0].total)
            elif offset == 0 and limit != 0:
                total = 0
            else:
                total = int(
                    pushdown.statement(
                        dialect, "count", plan, n_projects=n_projects, cutoff=has_cutoff
                    ).scalar(ctx.conn, values)
                    or 0
                )
        return (list(found) if rows else [str(r.id) for r in found]), total
    candidates = pushdown.statement(dialect, "rows", plan, n_projects=n_projects, cutoff=has_cutoff).all(
        ctx.conn, values
    )
    views = [v for v in build_views(ctx, catalog, candidates, needs_of(query, catalog)) if compiled.match(v)]
    views.sort(key=compiled.sort_key)
    page = views[offset:] if limit is None else views[offset : offset + limit]
    ids = [str(v["id"]) for v in page]
    if not rows:
        return ids, len(views)
    by_id = {r.id: r for r in candidates}  # as `rows_of(ids)` would read them back
    return [by_id[i] for i in ids if i in by_id], len(views)


def run_jql(ctx: TwinContext, text: str | None, *, bounded: bool = False) -> list[str]:
    """The ids of every issue matching `text`, in the query's order."""
    return find(ctx, text, bounded=bounded, count=False)[0]


def matches(ctx: TwinContext, text: str, issue_id: str) -> bool:
    """Does one issue match a JQL filter (webhook filters)? Bad JQL matches nothing."""
    try:
        query = jql.parse_shared(text)
        catalog = SiteCatalog(ctx)
        compiled = jql.compile_query(query, catalog)
    except jql.JqlError:
        return False
    cond = _visible(ctx, catalog)
    rows = list(ctx.conn.execute(select(ISSUE).where(*cond, ISSUE.c.id == issue_id)).all())
    return any(compiled.match(v) for v in build_views(ctx, catalog, rows, needs_of(query, catalog)))


def rows_of(ctx: TwinContext, ids: list[str]) -> list[Row[Any]]:
    """The issue rows of `ids`, in that order."""
    return _rows(ctx, ids)


def _rows(ctx: TwinContext, ids: list[str]) -> list[Row[Any]]:
    if not ids:
        return []
    by_id = {
        r.id: r
        for chunk in _chunks(ids)
        for r in ctx.conn.execute(
            select(ISSUE).where(ISSUE.c.tenant_id == ctx.tenant, ISSUE.c.id.in_(chunk))
        ).all()
    }
    return [by_id[i] for i in ids if i in by_id]


def _names_schema(
    ctx: TwinContext, out: dict[str, Any], issues_out: list[dict[str, Any]], expand: list[str]
) -> None:
    if "names" in expand or "schema" in expand:
        catalogue = fields.list_fields(ctx)
        present = set().union(*(i.get("fields", {}).keys() for i in issues_out)) if issues_out else set()
        if "names" in expand:
            out["names"] = {f["id"]: f["name"] for f in catalogue if f["id"] in present}
        if "schema" in expand:
            out["schema"] = {f["id"]: f["schema"] for f in catalogue if f["id"] in present and "schema" in f}


def search(
    ctx: TwinContext,
    *,
    jql_text: str | None,
    start_at: int,
    max_results: int | None,
    wanted: list[str] | None,
    expand: list[str] | None,
) -> dict[str, Any]:
    """`GET/POST /search`: offset paging with `total` (Cloud still answers it here)."""
    if start_at < 0:
        raise JiraError("The 'startAt' parameter must be a non-negative integer.")
    limit = (
        constants.SEARCH_DEFAULT_MAX
        if max_results is None or max_results < 0
        else min(max_results, constants.SEARCH_MAX)
    )
    page, total = find_rows(ctx, jql_text, offset=start_at, limit=limit)
    expand = expand or []
    issues_out = [
        issues.issue_json(ctx, r, wanted=wanted, expand=expand, default_fields="*navigable") for r in page
    ]
    out: dict[str, Any] = {
        "expand": "schema,names",
        "startAt": start_at,
        "maxResults": limit,
        "total": total,
        "issues": issues_out,
    }
    _names_schema(ctx, out, issues_out, expand)
    return out


def _token(offset: int, jql_text: str) -> str:
    raw = orjson.dumps({"o": offset, "q": jql_text})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _untoken(token: str, jql_text: str) -> int:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset = int(data["o"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise JiraError("The provided next page token is invalid or expired.") from None
    if data.get("q") != jql_text or offset < 0:
        raise JiraError("The provided next page token is invalid or expired.")
    return offset


def search_jql(
    ctx: TwinContext,
    *,
    jql_text: str | None,
    next_page_token: str | None,
    max_results: int | None,
    wanted: list[str] | None,
    expand: list[str] | None,
) -> dict[str, Any]:
    """`GET/POST /search/jql`: bounded JQL only, `nextPageToken` paging, no `total`; fields
    default to `id` alone."""
    offset = _untoken(next_page_token, jql_text or "") if next_page_token else 0
    limit = (
        constants.SEARCH_DEFAULT_MAX
        if max_results is None or max_results <= 0
        else min(max_results, 5000 if wanted == ["id"] else constants.SEARCH_MAX)
    )
    found, _ = find_rows(ctx, jql_text, bounded=True, offset=offset, limit=limit + 1, count=False)
    page = found[:limit]
    expand = expand or []
    issues_out = [issues.issue_json(ctx, r, wanted=wanted or ["id"], expand=expand) for r in page]
    out: dict[str, Any] = {"issues": issues_out}
    more = len(found) > limit
    if more:
        out["nextPageToken"] = _token(offset + limit, jql_text or "")
    out["isLast"] = not more
    _names_schema(ctx, out, issues_out, expand)
    return out


def approximate_count(ctx: TwinContext, *, jql_text: str | None) -> dict[str, Any]:
    return {"count": find(ctx, jql_text, bounded=True, limit=0)[1]}


def parse_queries(ctx: TwinContext, *, queries: list[Any], validation: str) -> dict[str, Any]:
    """`POST /jql/parse`: the structure of each query, or its errors (`validation=strict`
    also resolves fields and values)."""
    out = []
    catalog = SiteCatalog(ctx)
    for q in queries:
        text = str(q)
        try:
            parsed = jql.parse(text)
            if validation in ("strict", "warn"):
                jql.compile_query(parsed, catalog)
            item: dict[str, Any] = {"query": text, "structure": _structure(parsed)}
        except jql.JqlError as exc:
            item = {"query": text, "errors": [exc.message]}
        out.append(item)
    return {"queries": out}


def _operand_json(op: Any) -> dict[str, Any]:
    if isinstance(op, jql.Value):
        return {"value": op.text, "encodedValue": f'"{op.text}"' if op.quoted or " " in op.text else op.text}
    if isinstance(op, jql.Func):
        return {
            "function": op.name,
            "arguments": op.args,
            "encodedOperand": f"{op.name}({', '.join(op.args)})",
        }
    if isinstance(op, jql.ListOperand):
        return {"values": [_operand_json(i) for i in op.items]}
    if isinstance(op, jql.Empty):
        return {"keyword": "EMPTY"}
    return {}


def _node_json(node: Any) -> dict[str, Any]:
    if isinstance(node, jql.And | jql.Or):
        return {
            "operator": "and" if isinstance(node, jql.And) else "or",
            "clauses": [_node_json(c) for c in node.children],
        }
    if isinstance(node, jql.Not):
        return {"operator": "not", "clauses": [_node_json(node.child)]}
    out: dict[str, Any] = {
        "field": {"name": node.field, "encodedName": node.field},
        "operator": node.op.lower(),
    }
    if node.operand is not None:
        out["operand"] = _operand_json(node.operand)
    if node.predicates:
        out["predicates"] = [
            {"operator": p.kind.lower(), "operand": _operand_json(p.operand)} for p in node.predicates
        ]
    return out


def _structure(q: jql.Query) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if q.where is not None:
        out["where"] = _node_json(q.where)
    if q.order_by:
        out["orderBy"] = {
            "fields": [
                {
                    "field": {"name": k.field, "encodedName": k.field},
                    "direction": "desc" if k.descending else "asc",
                }
                for k in q.order_by
            ]
        }
    return out


def issue_picker(ctx: TwinContext, *, query: str | None, current_jql: str | None) -> dict[str, Any]:
    """`GET /issue/picker`: history-less picker: key or summary matches, up to 20."""
    ids = run_jql(ctx, current_jql) if current_jql else run_jql(ctx, "")
    rows = _rows(ctx, ids)
    q = (query or "").strip().lower()
    hits = [r for r in rows if not q or r.key.lower().startswith(q) or q in r.summary.lower()][:20]
    section = {
        "label": "Current Search",
        "sub": f"Showing {len(hits)} of {len(hits)} matching issues",
        "id": "cs",
        "issues": [
            {
                "key": r.key,
                "keyHtml": r.key,
                "img": "",
                "summary": r.summary,
                "summaryText": r.summary,
                "id": int(r.id),
            }
            for r in hits
        ],
    }
    return {"sections": [section]}
