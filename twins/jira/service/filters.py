"""Saved filters: create, get, update, delete, favourites, the caller's filters and search.

https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-filters/ . A filter is
visible to its owner and to whom its share permissions name (`global`, `authenticated`, a
group the caller is in, a project the caller may browse, or the caller); others get Jira's 400
for a filter that does not exist. Names are unique per owner; the JQL must be valid. Only the
owner edits a filter; the owner or a site admin deletes it. New filters are private (Cloud's
default share scope) unless `sharePermissions` say otherwise. Agile boards read their issues
through a filter (`service/agile.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from sqlalchemy import Row, delete, insert, select, update

from dtu.context import TwinContext
from dtu.db import table
from dtu.pagination import jira_page
from twins.jira import models
from twins.jira.errors import JiraError
from twins.jira.service import common

FILTER = table(models.Filter)
NOT_AVAILABLE = (
    "The selected filter is not available to you, perhaps it has been deleted or had its permissions changed."
)
SHARE_TYPES = ("global", "authenticated", "group", "project", "user")
SEARCH_EXPAND = (
    "description",
    "owner",
    "jql",
    "viewUrl",
    "searchUrl",
    "favourite",
    "favouritedCount",
    "sharePermissions",
    "editPermissions",
    "isWritable",
    "subscriptions",
    "approximateLastUsed",
)


def visible(ctx: TwinContext, row: Row[Any]) -> bool:
    me = common.me(ctx).account_id
    if row.owner == me:
        return True
    for share in row.share or []:
        kind = share.get("type")
        if kind in ("global", "authenticated"):
            return True
        if kind == "group" and share.get("group") in common.groups_of(ctx, me):
            return True
        if kind == "user" and share.get("user") == me:
            return True
        if kind == "project":
            project = ctx.conn.execute(
                select(common.PROJECT).where(
                    common.PROJECT.c.tenant_id == ctx.tenant, common.PROJECT.c.id == str(share.get("project"))
                )
            ).first()
            if project is not None and common.can_browse(ctx, project):
                return True
    return False


def row_of(ctx: TwinContext, filter_id: Any) -> Row[Any]:
    """A filter the caller may see, or Jira's 400."""
    row = None
    if str(filter_id).isdigit():
        row = ctx.conn.execute(
            select(FILTER).where(FILTER.c.tenant_id == ctx.tenant, FILTER.c.id == str(filter_id))
        ).first()
    if row is None or not visible(ctx, row):
        raise JiraError(NOT_AVAILABLE)
    return row


def _share_json(ctx: TwinContext, share: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": share["id"], "type": share["type"]}
    if share["type"] == "group":
        group = ctx.conn.execute(
            select(common.GROUP).where(
                common.GROUP.c.tenant_id == ctx.tenant, common.GROUP.c.name == share["group"]
            )
        ).first()
        out["group"] = {"name": share["group"], "groupId": group.group_id if group else None}
    elif share["type"] == "project":
        project = common.project_row(ctx, str(share["project"]), check=False)
        out["project"] = common.project_short(ctx, project)
    elif share["type"] == "user":
        out["user"] = common.user_json(ctx, share["user"])
    return out


def filter_json(ctx: TwinContext, row: Row[Any], expand: tuple[str, ...] | None = None) -> dict[str, Any]:
    """A filter; with `expand` (search), its id, name and self plus the expanded keys only."""
    me = common.me(ctx).account_id
    base = common.api_base(ctx)
    full: dict[str, Any] = {
        "self": f"{base}/filter/{row.id}",
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "owner": common.user_json(ctx, row.owner),
        "jql": row.jql,
        "viewUrl": f"{ctx.base_url}/issues/?filter={row.id}",
        "searchUrl": f"{base}/search?jql={quote(row.jql)}",
        "favourite": me in (row.favourites or []),
        "favouritedCount": len(row.favourites or []),
        "sharePermissions": [_share_json(ctx, s) for s in row.share or []],
        "editPermissions": [],
        "isWritable": row.owner == me,
        "subscriptions": {"size": 0, "items": [], "max-results": 0, "start-index": 0, "end-index": 0},
        "approximateLastUsed": None,
    }
    if expand is None:
        return full
    out = {"expand": ",".join(SEARCH_EXPAND), "self": full["self"], "id": row.id, "name": row.name}
    out.update({k: full[k] for k in SEARCH_EXPAND if k in expand})
    return out


def _shares(ctx: TwinContext, value: Any) -> list[dict[str, Any]]:
    """Share permissions as stored: `{id, type, group|project|user}` by name or id."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(s, dict) for s in value):
        raise JiraError(errors={"sharePermissions": "Share permissions must be a list of objects."})
    out = []
    for share in value:
        kind = share.get("type")
        if kind not in SHARE_TYPES:
            raise JiraError(errors={"sharePermissions": f"Invalid share permission type '{kind}'."})
        item: dict[str, Any] = {"id": int(common.next_id(ctx, "sharepermission")), "type": kind}
        if kind == "group":
            ref = share.get("group") or {}
            name = ref.get("name") or ref.get("groupname")
            group = ctx.conn.execute(
                select(common.GROUP).where(
                    common.GROUP.c.tenant_id == ctx.tenant,
                    (common.GROUP.c.name == (name or ""))
                    | (common.GROUP.c.group_id == (ref.get("groupId") or "")),
                )
            ).first()
            if group is None:
                raise JiraError(errors={"sharePermissions": "The group to share with does not exist."})
            item["group"] = group.name
        elif kind == "project":
            ref = share.get("project") or {}
            project = common.project_row(ctx, str(ref.get("id") or ref.get("key") or ""), check=True)
            item["project"] = project.id
        elif kind == "user":
            ref = share.get("user") or {}
            if common.user_row(ctx, str(ref.get("accountId") or "")) is None:
                raise JiraError(errors={"sharePermissions": "The user to share with does not exist."})
            item["user"] = ref["accountId"]
        out.append(item)
    return out


def _check(ctx: TwinContext, name: Any, jql_text: Any, owner: str, exclude: str | None) -> None:
    from twins.jira.service import search

    if not isinstance(name, str) or not name.strip():
        raise JiraError(errors={"filterName": "You must specify a filter name."})
    if len(name) > 255:
        raise JiraError(errors={"filterName": "The filter name must not exceed 255 characters."})
    clash = ctx.conn.execute(
        select(FILTER.c.id).where(
            FILTER.c.tenant_id == ctx.tenant,
            FILTER.c.owner == owner,
            FILTER.c.name == name,
            FILTER.c.id != (exclude or ""),
        )
    ).first()
    if clash is not None:
        raise JiraError(errors={"filterName": "Filter with same name already exists."})
    if not isinstance(jql_text, str):
        raise JiraError(errors={"jql": "The JQL query must be a string."})
    search.check(ctx, jql_text)


def create_filter(ctx: TwinContext, *, data: dict[str, Any]) -> dict[str, Any]:
    """`POST /filter` (200, as Jira answers): owned by the caller; `favourite: true` marks it."""
    me = common.me(ctx).account_id
    jql_text = data.get("jql", "")
    _check(ctx, data.get("name"), jql_text, me, None)
    fid = common.next_id(ctx, "filter")
    ctx.conn.execute(
        insert(FILTER).values(
            tenant_id=ctx.tenant,
            id=fid,
            name=data["name"],
            description=str(data.get("description") or ""),
            jql=jql_text,
            owner=me,
            share=_shares(ctx, data.get("sharePermissions")),
            favourites=[me] if data.get("favourite") is True else [],
        )
    )
    return filter_json(ctx, row_of(ctx, fid))


def get_filter(ctx: TwinContext, *, filter_id: str) -> dict[str, Any]:
    return filter_json(ctx, row_of(ctx, filter_id))


def update_filter(ctx: TwinContext, *, filter_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """`PUT /filter/{id}`: name, description, JQL, sharing; the owner only."""
    row = row_of(ctx, filter_id)
    me = common.me(ctx).account_id
    if row.owner != me:
        raise JiraError("You are not the owner of this filter and cannot change it.")
    name = data.get("name", row.name)
    jql_text = data.get("jql", row.jql)
    _check(ctx, name, jql_text, me, row.id)
    values: dict[str, Any] = {"name": name, "jql": jql_text}
    if "description" in data:
        values["description"] = str(data["description"] or "")
    if "sharePermissions" in data:
        values["share"] = _shares(ctx, data["sharePermissions"])
    if data.get("favourite") is True and me not in (row.favourites or []):
        values["favourites"] = [*(row.favourites or []), me]
    ctx.conn.execute(
        update(FILTER).where(FILTER.c.tenant_id == ctx.tenant, FILTER.c.id == row.id).values(**values)
    )
    return get_filter(ctx, filter_id=row.id)


def delete_filter(ctx: TwinContext, *, filter_id: str) -> None:
    """`DELETE /filter/{id}` (204): the owner or a site admin; boards on it lose their filter."""
    row = row_of(ctx, filter_id)
    me = common.me(ctx)
    if row.owner != me.account_id and not me.is_admin:
        raise JiraError("You do not have permission to delete this filter.", status=401)
    ctx.conn.execute(delete(FILTER).where(FILTER.c.tenant_id == ctx.tenant, FILTER.c.id == row.id))


def set_favourite(ctx: TwinContext, *, filter_id: str, on: bool) -> dict[str, Any]:
    """`PUT|DELETE /filter/{id}/favourite`."""
    row = row_of(ctx, filter_id)
    me = common.me(ctx).account_id
    favs = [a for a in row.favourites or [] if a != me] + ([me] if on else [])
    ctx.conn.execute(
        update(FILTER).where(FILTER.c.tenant_id == ctx.tenant, FILTER.c.id == row.id).values(favourites=favs)
    )
    return get_filter(ctx, filter_id=row.id)


def _visible_rows(ctx: TwinContext) -> list[Row[Any]]:
    rows = ctx.conn.execute(
        select(FILTER).where(FILTER.c.tenant_id == ctx.tenant).order_by(FILTER.c.id)
    ).all()
    return [r for r in rows if visible(ctx, r)]


def favourites(ctx: TwinContext) -> list[dict[str, Any]]:
    """`GET /filter/favourite`: the caller's favourites that are still visible to them."""
    me = common.me(ctx).account_id
    return [filter_json(ctx, r) for r in _visible_rows(ctx) if me in (r.favourites or [])]


def my_filters(ctx: TwinContext, *, include_favourites: bool) -> list[dict[str, Any]]:
    """`GET /filter/my`: owned by the caller (and, asked for, their visible favourites)."""
    me = common.me(ctx).account_id
    return [
        filter_json(ctx, r)
        for r in _visible_rows(ctx)
        if r.owner == me or (include_favourites and me in (r.favourites or []))
    ]


ORDERS: dict[str, Callable[[Row[Any], str], Any]] = {
    "name": lambda r, me: r.name.lower(),
    "id": lambda r, me: int(r.id),
    "description": lambda r, me: (r.description or "").lower(),
    "owner": lambda r, me: r.owner or "",
    "favourite_count": lambda r, me: len(r.favourites or []),
    "is_favourite": lambda r, me: me in (r.favourites or []),
}


def search_filters(
    ctx: TwinContext,
    *,
    name: str | None,
    account_id: str | None,
    ids: list[str] | None,
    order_by: str | None,
    expand: list[str] | None,
    start_at: int,
    max_results: int,
) -> dict[str, Any]:
    """`GET /filter/search`: visible filters matching every given attribute, as a PageBean."""
    me = common.me(ctx).account_id
    order = (order_by or "name").strip()
    desc = order.startswith("-")
    key = order.lstrip("+-")
    if key not in ORDERS:
        raise JiraError(f"The orderBy parameter '{order_by}' is invalid.")
    bad = [e for e in expand or [] if e not in SEARCH_EXPAND]
    if bad:
        raise JiraError(f"The expand parameter '{bad[0]}' is invalid.")
    if ids is not None and len(ids) > 200:
        raise JiraError("At most 200 filter ids can be given.")
    rows = [
        r
        for r in _visible_rows(ctx)
        if (not name or name.lower() in r.name.lower())
        and (not account_id or r.owner == account_id)
        and (ids is None or r.id in ids)
    ]
    rows.sort(key=lambda r: (ORDERS[key](r, me), int(r.id)), reverse=desc)
    page = [filter_json(ctx, r, tuple(expand or ())) for r in rows[start_at : start_at + max_results]]
    return {
        "self": f"{common.api_base(ctx)}/filter/search?startAt={start_at}&maxResults={max_results}",
        **jira_page(page, start_at=start_at, max_results=max_results, total=len(rows)),
    }
