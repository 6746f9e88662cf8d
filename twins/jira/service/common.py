"""Shared pieces of the Jira services: who is calling, wire formats, lookups, permissions.

https://developer.atlassian.com/cloud/jira/platform/rest/v3/intro/ . Ids are numeric strings,
timestamps `2024-01-15T10:30:00.000+0000` (offset without a colon), `self` links absolute
and naming the twin as the client reached it, users identified by `accountId` only (Cloud's
GDPR strict mode: no `name`/`key`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Row, Table, bindparam, select

from dtu.cache import UNKNOWN_TENANT
from dtu.context import TwinContext
from dtu.db import table
from dtu.runtime import TwinRuntime
from dtu.sql import Prepared
from twins.jira import adf, constants, models
from twins.jira.errors import FieldErrors, IssueNotFound, NotFound

USER = table(models.User)
GROUP = table(models.Group)
MEMBER = table(models.GroupMember)
PROJECT = table(models.Project)
ISSUE = table(models.Issue)
STATUS = table(models.Status)
ITYPE = table(models.IssueType)
WORKFLOW = table(models.Workflow)
FIELD = table(models.Field)
COMPONENT = table(models.Component)
VERSION = table(models.Version)
SPRINT = table(models.Sprint)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller and the API flavour of the call (`2`, `3`; agile reads as `2`)."""

    tenant: str
    account_id: str
    email: str
    is_admin: bool
    api: str = "3"
    oauth: bool = False
    """Bearer (OAuth 2.0 app) rather than Basic email:token: only apps may use dynamic webhooks."""


# -- read caches ------------------------------------------------------------------------------

V = TypeVar("V")
TOKEN = table(models.Token)
WEBHOOK = table(models.Webhook)

# Per-tenant read caches (dtu/cache.py) of what nearly every call reads and few calls write:
# name -> the tables its values are read from (a write to one of them, in the tenant, drops them).
CACHES: dict[str, tuple[Table, ...]] = {
    "jira.principal": (TOKEN, USER),
    "jira.user": (USER,),
    "jira.user_names": (USER,),
    "jira.groups_of": (GROUP, MEMBER),
    "jira.projects": (PROJECT,),
    "jira.fields": (FIELD,),
    "jira.statuses": (STATUS,),
    "jira.itypes": (ITYPE,),
    "jira.workflow": (WORKFLOW,),
    "jira.webhooks": (WEBHOOK,),
}


def register_caches(runtime: TwinRuntime) -> None:
    """Create the caches before any unit runs, so that every write to their tables is tracked
    (a write made before its table was tracked would not invalidate a value cached after it)."""
    for name, tables in CACHES.items():
        runtime.cache(name, *tables)


def cached(ctx: TwinContext, name: str, key: Any, load: Callable[[], V]) -> V:
    """`load()` through the tenant's cache `name` (key: anything hashable, the tenant is added).
    A unit that has itself written one of the cache's tables reads the database instead: what it
    sees is not committed yet, and may roll back."""
    tables = CACHES[name]
    written: set[tuple[str, str]] | None = ctx.conn.info.get("dtu.written")
    if written and any(
        (ctx.tenant, t.name) in written or (UNKNOWN_TENANT, t.name) in written for t in tables
    ):
        return load()
    value: V = ctx.runtime.cache(name, *tables).get((ctx.tenant, key), lambda: (ctx.tenant, load()))
    return value


class PreparedIn:
    """A statement with one `IN (...)` list, prepared per length of the list (a `Prepared`
    statement takes no expanding parameter): `build(params)` makes it from the list's bind
    parameters, named `in0`, `in1`... Lists longer than `max_n` run through Core."""

    def __init__(self, build: Callable[[list[Any]], Any], column: Any, max_n: int = 64) -> None:
        self.build = build
        self.column = column
        self.max_n = max_n
        self._by_n: dict[int, Prepared] = {}

    def all(self, conn: Any, params: dict[str, Any], values: list[Any]) -> list[Any]:
        n = len(values)
        if n > self.max_n:
            return list(conn.execute(self.build(values), params).all())
        stmt = self._by_n.get(n)
        if stmt is None:
            stmt = self._by_n[n] = Prepared(
                self.build([bindparam(f"in{i}", type_=self.column.type) for i in range(n)])
            )
        return stmt.all(conn, {**params, **{f"in{i}": v for i, v in enumerate(values)}})


def me(ctx: TwinContext) -> Principal:
    p: Principal = ctx.principal
    return p


def memo(ctx: TwinContext) -> dict[str, Any]:
    """Lookups cached for one unit of work (the context lives exactly as long as its transaction);
    a write that changes a cached catalogue drops its entry."""
    found: dict[str, Any] = ctx.__dict__.setdefault("_jira_memo", {})
    return found


def api(ctx: TwinContext) -> str:
    return me(ctx).api if ctx.principal is not None else "2"


def api_base(ctx: TwinContext, version: str | None = None) -> str:
    return f"{ctx.base_url}/rest/api/{version or api(ctx)}"


# -- formats ----------------------------------------------------------------------------------


def ts(t: float | None) -> str | None:
    """Jira's timestamp: millisecond precision, `+0000` offset."""
    if t is None:
        return None
    dt = datetime.fromtimestamp(t, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0000"


def parse_ts(text: str) -> float | None:
    """Accept Jira's own format and ISO 8601 variants (`Z`, `+00:00`)."""
    t = text.strip().replace("Z", "+0000")
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"):
        try:
            return datetime.strptime(t, fmt).timestamp()
        except ValueError:
            continue
    return None


def valid_date(text: Any) -> bool:
    if not isinstance(text, str):
        return False
    try:
        datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def rich_out(ctx: TwinContext, value: dict[str, Any] | None, version: str | None = None) -> Any:
    """ADF on v3, wiki markup on v2 (and in webhooks)."""
    return value if (version or api(ctx)) == "3" else adf.adf_to_wiki(value)


def rich_in(ctx: TwinContext, value: Any, field: str, version: str | None = None) -> dict[str, Any] | None:
    """A rich text input as stored ADF: v3 takes a document, v2 a string (wiki markup)."""
    if value is None:
        return None
    if (version or api(ctx)) == "3":
        if not adf.validate_adf(value):
            raise FieldErrors(
                {field: "Operation value must be an Atlassian Document (see the Atlassian Document Format)"}
            )
        return dict(value)
    if not isinstance(value, str):
        raise FieldErrors({field: "Operation value must be a string"})
    return adf.wiki_to_adf(value)


def text(value: Any, field: str, what: str, *, limit: int = 255, required: bool = True) -> str | None:
    """A string member of a request, checked as Jira checks it: present (when `required`), a
    string, at most `limit` characters (the columns that hold it are that wide too)."""
    if value is None or value == "":
        if required:
            raise FieldErrors({field: f"You must specify a {what}."})
        return None if value is None else ""
    if not isinstance(value, str):
        raise FieldErrors({field: f"The {what} must be a string."})
    if len(value) > limit:
        raise FieldErrors({field: f"The {what} must not exceed {limit} characters."})
    return value


def next_id(ctx: TwinContext, kind: str, base: int = 10000) -> str:
    return str(base + ctx.ids.next(kind) - 1)


def next_ids(ctx: TwinContext, kind: str, n: int, base: int = 10000) -> int:
    """Reserve `n` consecutive ids of `kind` at once (bulk loads): the first of them."""
    return base + ctx.ids.take(kind, n) - 1


def reserve_id(ctx: TwinContext, kind: str, value: int | str, base: int = 10000) -> None:
    """Fixture ids are taken: move the counter past them so minted ids never collide."""
    try:
        n = int(value) - base + 1
    except (TypeError, ValueError):
        return
    if n > 0:
        ctx.ids.reserve(kind, n)


# -- users ------------------------------------------------------------------------------------

AVATAR = "https://secure.gravatar.com/avatar/{h}?d=https%3A%2F%2Favatar-management--avatars.us-west-2.prod.public.atl-paas.net%2Finitials%2F{i}-1.png"


def user_row(ctx: TwinContext, account_id: str | None) -> Row[Any] | None:
    if not account_id:
        return None
    cache: dict[str, Row[Any] | None] = memo(ctx).setdefault("users", {})
    if account_id not in cache:
        cache[account_id] = cached(
            ctx,
            "jira.user",
            account_id,
            lambda: _USER_BY_ID.first(ctx.conn, {"tenant": ctx.tenant, "account_id": account_id}),
        )
    return cache[account_id]


_USER_BY_ID = Prepared(
    select(USER).where(USER.c.tenant_id == bindparam("tenant"), USER.c.account_id == bindparam("account_id"))
)


def user_names(ctx: TwinContext) -> dict[str, str]:
    """Every user's display name by account id (searches sort and evaluate by them)."""
    names: dict[str, str] = cached(
        ctx,
        "jira.user_names",
        None,
        lambda: {r[0]: r[1] for r in _USER_NAMES.tuples(ctx.conn, {"tenant": ctx.tenant})},
    )
    return names


_USER_NAMES = Prepared(
    select(USER.c.account_id, USER.c.display_name).where(USER.c.tenant_id == bindparam("tenant"))
)


def user_json(
    ctx: TwinContext, user: Row[Any] | str | None, version: str | None = None
) -> dict[str, Any] | None:
    """A user as Jira Cloud shows one (no `name`/`key`: accountId only)."""
    row = user_row(ctx, user) if isinstance(user, str) else user
    if row is None:
        return None
    initials = "".join(p[0] for p in row.display_name.split()[:2]).upper() or "U"
    avatar = AVATAR.format(h=row.account_id[-12:], i=initials)
    return {
        "self": f"{api_base(ctx, version)}/user?accountId={row.account_id}",
        "accountId": row.account_id,
        "emailAddress": row.email,
        "avatarUrls": {s: avatar for s in ("48x48", "24x24", "16x16", "32x32")},
        "displayName": row.display_name,
        "active": bool(row.active),
        "timeZone": row.time_zone,
        "accountType": row.account_type,
    }


def find_user(ctx: TwinContext, ident: str) -> Row[Any] | None:
    """By accountId, else by email (case-insensitive)."""
    row = user_row(ctx, ident)
    if row is None:
        row = ctx.conn.execute(
            select(USER).where(USER.c.tenant_id == ctx.tenant).where(USER.c.email == ident.lower())
        ).first()
    return row


def groups_of(ctx: TwinContext, account_id: str) -> list[str]:
    names: tuple[str, ...] = cached(
        ctx, "jira.groups_of", account_id, lambda: _groups_of(ctx.conn, ctx.tenant, account_id)
    )
    return list(names)


_GROUPS_OF = Prepared(
    select(GROUP.c.name)
    .select_from(
        MEMBER.join(
            GROUP, (GROUP.c.tenant_id == MEMBER.c.tenant_id) & (GROUP.c.group_id == MEMBER.c.group_id)
        )
    )
    .where(MEMBER.c.tenant_id == bindparam("tenant"), MEMBER.c.account_id == bindparam("account_id"))
)


def _groups_of(conn: Any, tenant: str, account_id: str) -> tuple[str, ...]:
    return tuple(sorted(r[0] for r in _GROUPS_OF.tuples(conn, {"tenant": tenant, "account_id": account_id})))


# -- projects and permissions -----------------------------------------------------------------


def can_browse(ctx: TwinContext, project: Row[Any], account_id: str | None = None) -> bool:
    """The project's browse permission: everyone, or members of its groups (site admins too)."""
    if project.deleted_at is not None:
        return False  # in the trash, or gone
    groups = project.browse_groups or []
    if not groups:
        return True
    who = account_id or me(ctx).account_id
    return bool(set(groups) & set(groups_of(ctx, who)))


def project_rows(ctx: TwinContext) -> tuple[Row[Any], ...]:
    """Every project of the site (the trash included), in the database's order."""
    rows: tuple[Row[Any], ...] = cached(
        ctx, "jira.projects", None, lambda: tuple(_PROJECTS.all(ctx.conn, {"tenant": ctx.tenant}))
    )
    return rows


_PROJECTS = Prepared(select(PROJECT).where(PROJECT.c.tenant_id == bindparam("tenant")))


def project_row(ctx: TwinContext, id_or_key: str, *, check: bool = True) -> Row[Any]:
    """A project by id or key, with Jira's 404 when it is missing or not browsable."""
    ident = str(id_or_key)
    if ident.isdigit():
        row = next((p for p in project_rows(ctx) if p.id == ident), None)
    else:
        key = ident.upper()
        row = next((p for p in project_rows(ctx) if p.key == key), None)
    if row is None or (check and not can_browse(ctx, row)):
        what = "id" if ident.isdigit() else "key"
        raise NotFound(f"No project could be found with {what} '{ident}'.")
    return row


def browsable_projects(ctx: TwinContext) -> list[Row[Any]]:
    rows = ctx.conn.execute(
        select(PROJECT).where(PROJECT.c.tenant_id == ctx.tenant).order_by(PROJECT.c.key)
    ).all()
    return [r for r in rows if can_browse(ctx, r)]


def avatar_urls(kind: str, ident: str) -> dict[str, str]:
    base = f"https://api.atlassian.com/ex/jira/avatar/{kind}/{ident}"
    return {
        s: f"{base}?size={n}"
        for s, n in (("48x48", "large"), ("24x24", "small"), ("16x16", "xsmall"), ("32x32", "medium"))
    }


def project_short(ctx: TwinContext, row: Row[Any], version: str | None = None) -> dict[str, Any]:
    return {
        "self": f"{api_base(ctx, version)}/project/{row.id}",
        "id": row.id,
        "key": row.key,
        "name": row.name,
        "projectTypeKey": row.project_type,
        "simplified": False,
        "avatarUrls": avatar_urls("project", row.id),
    }


# -- catalogues -------------------------------------------------------------------------------


def category_json(ctx: TwinContext, cat_id: int, version: str | None = None) -> dict[str, Any]:
    cat = next(c for c in constants.STATUS_CATEGORIES if c["id"] == cat_id)
    return {"self": f"{api_base(ctx, version)}/statuscategory/{cat_id}", **cat}


def _catalogue(ctx: TwinContext, table: Any) -> dict[str, Row[Any]]:
    """A small table of the site (statuses, issue types) by id, read once per unit of work."""
    key = f"catalogue:{table.name}"
    cache: dict[str, Row[Any]] | None = memo(ctx).get(key)
    if cache is None:
        stmt = _CATALOGUE[table.name]
        cache = cached(
            ctx,
            _CATALOGUE_CACHE[table.name],
            None,
            lambda: {r.id: r for r in stmt.all(ctx.conn, {"tenant": ctx.tenant})},
        )
        memo(ctx)[key] = cache
    return cache


_CATALOGUE = {
    t.name: Prepared(select(t).where(t.c.tenant_id == bindparam("tenant"))) for t in (STATUS, ITYPE)
}
_CATALOGUE_CACHE = {STATUS.name: "jira.statuses", ITYPE.name: "jira.itypes"}


def status_row(ctx: TwinContext, status_id: str) -> Row[Any] | None:
    return _catalogue(ctx, STATUS).get(status_id)


def status_json(ctx: TwinContext, row: Row[Any], version: str | None = None) -> dict[str, Any]:
    return {
        "self": f"{api_base(ctx, version)}/status/{row.id}",
        "description": row.description,
        "iconUrl": f"{ctx.base_url}/images/icons/statuses/generic.png",
        "name": row.name,
        "id": row.id,
        "statusCategory": category_json(ctx, row.category_id, version),
    }


def itype_row(ctx: TwinContext, itype_id: str) -> Row[Any] | None:
    return _catalogue(ctx, ITYPE).get(itype_id)


def itype_json(ctx: TwinContext, row: Row[Any], version: str | None = None) -> dict[str, Any]:
    return {
        "self": f"{api_base(ctx, version)}/issuetype/{row.id}",
        "id": row.id,
        "description": row.description,
        "iconUrl": f"{ctx.base_url}/rest/api/2/universal_avatar/view/type/issuetype/avatar/{row.id}?size=medium",
        "name": row.name,
        "subtask": bool(row.subtask),
        "avatarId": int(row.id),
        "hierarchyLevel": row.hierarchy_level,
    }


def priority_json(ctx: TwinContext, pid: str | None, version: str | None = None) -> dict[str, Any] | None:
    pr = next((p for p in constants.PRIORITIES if p["id"] == pid), None)
    if pr is None:
        return None
    return {
        "self": f"{api_base(ctx, version)}/priority/{pid}",
        "iconUrl": f"{ctx.base_url}/images/icons/priorities/{pr['name'].lower()}.svg",
        "name": pr["name"],
        "id": pr["id"],
    }


def resolution_json(ctx: TwinContext, rid: str | None, version: str | None = None) -> dict[str, Any] | None:
    res = next((r for r in constants.RESOLUTIONS if r["id"] == rid), None)
    if res is None:
        return None
    return {
        "self": f"{api_base(ctx, version)}/resolution/{rid}",
        "id": rid,
        "description": res["description"],
        "name": res["name"],
    }


def workflow_of(ctx: TwinContext, project: Row[Any]) -> Row[Any]:
    name = project.workflow
    row: Row[Any] | None = cached(
        ctx,
        "jira.workflow",
        name,
        lambda: _WORKFLOW_BY_NAME.first(ctx.conn, {"tenant": ctx.tenant, "name": name}),
    )
    assert row is not None, f"project {project.key} names a missing workflow"
    return row


_WORKFLOW_BY_NAME = Prepared(
    select(WORKFLOW).where(WORKFLOW.c.tenant_id == bindparam("tenant"), WORKFLOW.c.name == bindparam("name"))
)


# -- issues -----------------------------------------------------------------------------------


def rank_body(rank: str) -> str:
    """The ordered part of a stored LexoRank-like rank `0|<body>:`."""
    return rank.partition("|")[2].rstrip(":") if "|" in rank else rank


ISSUE_KEY = table(models.IssueKey)


def moved_issue_id(ctx: TwinContext, key: str) -> str | None:
    """The id of the issue that had `key` before it moved to another project."""
    found: str | None = _MOVED.scalar(ctx.conn, {"tenant": ctx.tenant, "key": key.upper()})
    return found


_MOVED = Prepared(
    select(ISSUE_KEY.c.issue_id).where(
        ISSUE_KEY.c.tenant_id == bindparam("tenant"), ISSUE_KEY.c.key == bindparam("key")
    )
)


def _issue_by(column: Any, locked: bool) -> Prepared:
    stmt = select(ISSUE).where(ISSUE.c.tenant_id == bindparam("tenant"), column == bindparam("ident"))
    return Prepared(stmt.with_for_update() if locked else stmt)


# (by id?, locked?) -> the issue row by id or by key
_ISSUE_BY = {
    (by_id, locked): _issue_by(ISSUE.c.id if by_id else ISSUE.c.key, locked)
    for by_id in (True, False)
    for locked in (True, False)
}


def issue_row(ctx: TwinContext, id_or_key: str, *, check: bool = True, for_update: bool = False) -> Row[Any]:
    """An issue by id or key; Jira's 404 when missing or when the caller may not browse it.
    `for_update` locks the row until the unit commits (PostgreSQL runs units in parallel: two
    transitions out of the same status must not both succeed)."""
    ident = str(id_or_key).strip()
    by_id = ident.isdigit()
    row = _ISSUE_BY[by_id, for_update].first(
        ctx.conn, {"tenant": ctx.tenant, "ident": ident if by_id else ident.upper()}
    )
    if row is None and not by_id:
        moved = moved_issue_id(ctx, ident)  # a key it had before it moved to another project
        if moved is not None:
            row = _ISSUE_BY[True, for_update].first(ctx.conn, {"tenant": ctx.tenant, "ident": moved})
    if row is None:
        raise IssueNotFound()
    found: Row[Any] = row
    if check:
        project = project_row(ctx, found.project_id, check=False)
        if not can_browse(ctx, project):
            raise IssueNotFound()
    return found
