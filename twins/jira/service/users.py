"""Server info, the current user, users and groups.

https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-server-info/ ,
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-myself/ ,
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-users/ ,
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-user-search/ ,
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-groups/ .
"""

from __future__ import annotations

import html
import re
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from dtu.context import TwinContext
from dtu.db import table
from dtu.pagination import jira_page
from dtu.sql import Prepared
from twins.jira import models
from twins.jira.errors import Forbidden, JiraError, NotFound
from twins.jira.service import common
from twins.jira.service.common import GROUP, MEMBER, USER

VERSION = "1001.0.0-SNAPSHOT"
VERSION_NUMBERS = [1001, 0, 0]


def server_info(ctx: TwinContext) -> dict[str, Any]:
    """Cloud's answer: pycontribs reads `versionNumbers` and switches on `deploymentType`."""
    return {
        "baseUrl": ctx.base_url,
        "displayUrl": ctx.base_url,
        "version": VERSION,
        "versionNumbers": VERSION_NUMBERS,
        "deploymentType": "Cloud",
        "buildNumber": 100295,
        "buildDate": "2025-12-01T00:00:00.000+0000",
        "serverTime": common.ts(ctx.now()),
        "scmInfo": "57a0ca5b4a0bb0ac5f3fee4764acb1c14e4d7e71",
        "serverTitle": "DTU Jira",
        "defaultLocale": {"locale": "en_US"},
        "serverTimeZone": "Etc/UTC",
    }


def myself(ctx: TwinContext, *, expand: list[str] | None = None) -> dict[str, Any]:
    me = common.me(ctx)
    out = common.user_json(ctx, me.account_id)
    assert out is not None
    out["locale"] = "en_US"
    groups = common.groups_of(ctx, me.account_id)
    out["groups"] = {
        "size": len(groups),
        "items": [{"name": g, "self": f"{common.api_base(ctx)}/group?groupname={g}"} for g in groups]
        if expand and "groups" in expand
        else [],
    }
    out["applicationRoles"] = {"size": 1, "items": []}
    out["expand"] = "groups,applicationRoles"
    return out


def get_user(ctx: TwinContext, *, account_id: str | None) -> dict[str, Any]:
    if not account_id:
        raise JiraError("The accountId query parameter needs to be provided.")
    out = common.user_json(ctx, account_id)
    if out is None:
        raise NotFound(f"Specified user does not exist or you do not have required permissions: {account_id}")
    out["locale"] = "en_US"
    return out


def _matches(row: Any, query: str) -> bool:
    q = query.lower().strip()
    if not q:
        return True
    words = row.display_name.lower().split()
    return (
        row.email.startswith(q)
        or row.account_id == query
        or any(w.startswith(q) for w in words)
        or row.display_name.lower().startswith(q)
    )


_ACTIVE_BY_NAME = Prepared(
    select(USER)
    .where(USER.c.tenant_id == bindparam("tenant"), USER.c.active.is_(True))
    .order_by(USER.c.display_name)
)


def search_users(
    ctx: TwinContext, *, query: str | None, account_id: str | None, start_at: int, max_results: int
) -> list[dict[str, Any]]:
    """`GET /user/search`: prefix match on display name words and email; a list, not a page."""
    if query is None and account_id is None:
        raise JiraError("One of 'query' or 'accountId' parameters must be provided.")
    rows = _ACTIVE_BY_NAME.all(ctx.conn, {"tenant": ctx.tenant})
    hits = [
        r
        for r in rows
        if (account_id is None or r.account_id == account_id) and (query is None or _matches(r, query))
    ]
    return [common.user_json(ctx, r) for r in hits[start_at : start_at + max_results]]  # type: ignore[misc]


def assignable_users(
    ctx: TwinContext,
    *,
    project: str | None,
    issue_key: str | None,
    query: str | None,
    start_at: int,
    max_results: int,
) -> list[dict[str, Any]]:
    """Users who may be assigned issues of the project: those who may browse it."""
    if project:
        proj = common.project_row(ctx, project)
    elif issue_key:
        proj = common.project_row(ctx, common.issue_row(ctx, issue_key).project_id, check=False)
    else:
        raise JiraError("The project, issueKey or issueId must be specified.")
    rows = ctx.conn.execute(
        select(USER)
        .where(USER.c.tenant_id == ctx.tenant, USER.c.active.is_(True))
        .order_by(USER.c.display_name)
    ).all()
    hits = [
        r
        for r in rows
        if common.can_browse(ctx, proj, r.account_id) and (query is None or _matches(r, query))
    ]
    return [common.user_json(ctx, r) for r in hits[start_at : start_at + max_results]]  # type: ignore[misc]


def assignable_in_projects(
    ctx: TwinContext, *, project_keys: str | None, query: str | None, start_at: int, max_results: int
) -> list[dict[str, Any]]:
    """`GET /user/assignable/multiProjectSearch`: users assignable in every listed project."""
    if not project_keys or not project_keys.strip(","):
        raise JiraError("The projectKeys parameter is required.")
    projects = [common.project_row(ctx, k.strip()) for k in project_keys.split(",") if k.strip()]
    rows = ctx.conn.execute(
        select(USER)
        .where(USER.c.tenant_id == ctx.tenant, USER.c.active.is_(True))
        .order_by(USER.c.display_name)
    ).all()
    hits = [
        r
        for r in rows
        if all(common.can_browse(ctx, p, r.account_id) for p in projects)
        and (query is None or _matches(r, query))
    ]
    return [common.user_json(ctx, r) for r in hits[start_at : start_at + max_results]]  # type: ignore[misc]


def user_groups(ctx: TwinContext, *, account_id: str | None) -> list[dict[str, Any]]:
    """`GET /user/groups`: the groups a user belongs to, by name."""
    if not account_id:
        raise JiraError("The accountId query parameter needs to be provided.")
    if common.user_row(ctx, account_id) is None:
        raise NotFound(f"Specified user does not exist or you do not have required permissions: {account_id}")
    rows = ctx.conn.execute(
        select(GROUP)
        .select_from(
            MEMBER.join(
                GROUP, (GROUP.c.tenant_id == MEMBER.c.tenant_id) & (GROUP.c.group_id == MEMBER.c.group_id)
            )
        )
        .where(MEMBER.c.tenant_id == ctx.tenant, MEMBER.c.account_id == account_id)
        .order_by(GROUP.c.name)
    ).all()
    return [_group_ref(ctx, g) for g in rows]


def bulk_users(
    ctx: TwinContext, *, account_ids: list[str], start_at: int, max_results: int
) -> dict[str, Any]:
    if not account_ids:
        raise JiraError("The accountId query parameter needs to be provided.")
    found = [common.user_json(ctx, a) for a in account_ids]
    values = [u for u in found if u is not None]
    page = values[start_at : start_at + max_results]
    return {
        "self": f"{common.api_base(ctx)}/user/bulk",
        **jira_page(page, start_at=start_at, max_results=max_results, total=len(values)),
    }


def all_users(ctx: TwinContext, *, start_at: int, max_results: int) -> list[dict[str, Any]]:
    rows = ctx.conn.execute(
        select(USER).where(USER.c.tenant_id == ctx.tenant).order_by(USER.c.display_name)
    ).all()
    return [common.user_json(ctx, r) for r in rows[start_at : start_at + max_results]]  # type: ignore[misc]


# -- groups ----------------------------------------------------------------------------------


def _group(ctx: TwinContext, name: str | None, group_id: str | None) -> Any:
    if not name and not group_id:
        raise JiraError("You must specify a group name or a group id.")
    cond = GROUP.c.group_id == group_id if group_id else GROUP.c.name == name
    row = ctx.conn.execute(select(GROUP).where(GROUP.c.tenant_id == ctx.tenant, cond)).first()
    if row is None:
        raise NotFound("Specified group does not exist.")
    return row


def _group_ref(ctx: TwinContext, row: Any) -> dict[str, Any]:
    return {
        "name": row.name,
        "groupId": row.group_id,
        "self": f"{common.api_base(ctx)}/group?groupId={row.group_id}",
    }


def _member_rows(ctx: TwinContext, group: Any) -> list[Any]:
    return list(
        ctx.conn.execute(
            select(USER)
            .select_from(
                MEMBER.join(
                    USER,
                    (USER.c.tenant_id == MEMBER.c.tenant_id) & (USER.c.account_id == MEMBER.c.account_id),
                )
            )
            .where(MEMBER.c.tenant_id == ctx.tenant, MEMBER.c.group_id == group.group_id)
            .order_by(USER.c.display_name)
        ).all()
    )


_USERS_RANGE = re.compile(r"^users\[(\d+):(\d+)\]$")


def get_group(
    ctx: TwinContext, *, name: str | None, group_id: str | None, expand: list[str] | None
) -> dict[str, Any]:
    """`GET /group` (deprecated, still served): the group and, with `expand=users` or
    `expand=users[i:j]`, a slice of its members (50 at most, `end-index` inclusive); site admins."""
    _require_admin(ctx)
    group = _group(ctx, name, group_id)
    members = _member_rows(ctx, group)
    first, last = 0, -1
    for item in expand or []:
        m = _USERS_RANGE.match(item.strip())
        if item.strip() == "users":
            first, last = 0, min(len(members), 50) - 1
        elif m:
            first = int(m.group(1))
            last = min(int(m.group(2)), first + 49, len(members) - 1)
    items = [common.user_json(ctx, r) for r in members[first : last + 1]] if last >= first else []
    return {
        **_group_ref(ctx, group),
        "users": {
            "size": len(members),
            "items": items,
            "max-results": 50,
            "start-index": first if items else 0,
            "end-index": first + len(items) - 1 if items else 0,
        },
        "expand": "users",
    }


def find_groups(
    ctx: TwinContext,
    *,
    query: str | None,
    exclude: list[str],
    exclude_ids: list[str],
    max_results: int,
    account_id: str | None,
) -> dict[str, Any]:
    """`GET /groups/picker`: groups whose name contains the query (case-insensitive), the match
    in bold in `html`; with `accountId`, only that user's groups."""
    rows = ctx.conn.execute(select(GROUP).where(GROUP.c.tenant_id == ctx.tenant).order_by(GROUP.c.name)).all()
    mine = set(common.groups_of(ctx, account_id)) if account_id else None
    q = (query or "").lower()
    hits = [
        g
        for g in rows
        if q in g.name.lower()
        and g.name not in exclude
        and g.group_id not in exclude_ids
        and (mine is None or g.name in mine)
    ]
    shown = hits[:max_results]

    def bold(name: str) -> str:
        if not q:
            return html.escape(name)
        i = name.lower().index(q)
        return (
            html.escape(name[:i])
            + "<b>"
            + html.escape(name[i : i + len(q)])
            + "</b>"
            + html.escape(name[i + len(q) :])
        )

    return {
        "header": f"Showing {len(shown)} of {len(hits)} matching groups",
        "total": len(hits),
        "groups": [
            {"name": g.name, "html": bold(g.name), "labels": [], "groupId": g.group_id} for g in shown
        ],
    }


def bulk_groups(
    ctx: TwinContext,
    *,
    group_ids: list[str],
    group_names: list[str],
    start_at: int,
    max_results: int,
) -> dict[str, Any]:
    """`GET /group/bulk`: a PageBean of groups (all of them, or those named by id or name)."""
    rows = ctx.conn.execute(select(GROUP).where(GROUP.c.tenant_id == ctx.tenant).order_by(GROUP.c.name)).all()
    if group_ids or group_names:
        rows = [g for g in rows if g.group_id in group_ids or g.name in group_names]
    page = [{"name": g.name, "groupId": g.group_id} for g in rows[start_at : start_at + max_results]]
    out = jira_page(page, start_at=start_at, max_results=max_results, total=len(rows))
    return out


def remove_group(
    ctx: TwinContext,
    *,
    name: str | None,
    group_id: str | None,
    swap_name: str | None,
    swap_id: str | None,
) -> None:
    """`DELETE /group` (200, site admins): the group and its memberships go; comments restricted
    to it move to the swap group if one is named (else nobody but admins sees them)."""
    _require_admin(ctx)
    group = _group(ctx, name, group_id)
    swap = _group(ctx, swap_name, swap_id) if (swap_name or swap_id) else None
    if swap is not None and swap.group_id == group.group_id:
        raise JiraError("You cannot swap a group with itself.")
    if swap is not None:
        comment = table(models.Comment)
        for row in ctx.conn.execute(select(comment).where(comment.c.tenant_id == ctx.tenant)).all():
            vis = row.visibility or {}
            if vis.get("type") == "group" and vis.get("value") == group.name:
                ctx.conn.execute(
                    update(comment)
                    .where(comment.c.tenant_id == ctx.tenant, comment.c.id == row.id)
                    .values(visibility={**vis, "value": swap.name, "identifier": swap.group_id})
                )
    ctx.conn.execute(
        delete(MEMBER).where(MEMBER.c.tenant_id == ctx.tenant, MEMBER.c.group_id == group.group_id)
    )
    ctx.conn.execute(delete(GROUP).where(GROUP.c.tenant_id == ctx.tenant, GROUP.c.group_id == group.group_id))


def group_members(
    ctx: TwinContext, *, name: str | None, group_id: str | None, start_at: int, max_results: int
) -> dict[str, Any]:
    """`GET /group/member`: a PageBean of the group's users."""
    group = _group(ctx, name, group_id)
    rows = ctx.conn.execute(
        select(USER)
        .select_from(
            MEMBER.join(
                USER, (USER.c.tenant_id == MEMBER.c.tenant_id) & (USER.c.account_id == MEMBER.c.account_id)
            )
        )
        .where(MEMBER.c.tenant_id == ctx.tenant, MEMBER.c.group_id == group.group_id)
        .order_by(USER.c.display_name)
    ).all()
    values = [common.user_json(ctx, r) for r in rows[start_at : start_at + max_results]]
    return {
        "self": f"{common.api_base(ctx)}/group/member?groupId={group.group_id}",
        **jira_page(values, start_at=start_at, max_results=max_results, total=len(rows)),
    }


def _require_admin(ctx: TwinContext) -> None:
    if not common.me(ctx).is_admin:
        raise Forbidden("You do not have permission to manage groups.")


def create_group(ctx: TwinContext, *, name: str | None) -> dict[str, Any]:
    _require_admin(ctx)
    if not name:
        raise JiraError(errors={"name": "You must specify a group name."})
    if not isinstance(name, str):
        raise JiraError(errors={"name": "The group name must be a string."})
    if len(name) > 255:
        raise JiraError(errors={"name": "Group name cannot exceed 255 characters."})
    if ctx.conn.execute(select(GROUP).where(GROUP.c.tenant_id == ctx.tenant, GROUP.c.name == name)).first():
        raise JiraError("A group with this name already exists.")
    gid = "dtu-" + ctx.ids.hex("group", 32)
    ctx.conn.execute(insert(GROUP).values(tenant_id=ctx.tenant, group_id=gid, name=name))
    return {
        "name": name,
        "groupId": gid,
        "self": f"{common.api_base(ctx)}/group?groupId={gid}",
        "users": {"size": 0, "items": [], "max-results": 50, "start-index": 0, "end-index": 0},
    }


def add_user_to_group(
    ctx: TwinContext, *, name: str | None, group_id: str | None, account_id: str | None
) -> dict[str, Any]:
    _require_admin(ctx)
    group = _group(ctx, name, group_id)
    if not isinstance(account_id, str) or not account_id or common.user_row(ctx, account_id) is None:
        raise JiraError("You must specify the accountId of an existing user.")
    exists = ctx.conn.execute(
        select(MEMBER).where(
            MEMBER.c.tenant_id == ctx.tenant,
            MEMBER.c.group_id == group.group_id,
            MEMBER.c.account_id == account_id,
        )
    ).first()
    if exists:
        raise JiraError(f"Cannot add user. User is already a member of '{group.name}'")
    ctx.conn.execute(
        insert(MEMBER).values(tenant_id=ctx.tenant, group_id=group.group_id, account_id=account_id)
    )
    return {
        "name": group.name,
        "groupId": group.group_id,
        "self": f"{common.api_base(ctx)}/group?groupId={group.group_id}",
    }


def remove_user_from_group(
    ctx: TwinContext, *, name: str | None, group_id: str | None, account_id: str | None
) -> None:
    _require_admin(ctx)
    group = _group(ctx, name, group_id)
    if not account_id:
        raise JiraError("The accountId query parameter needs to be provided.")
    res = ctx.conn.execute(
        delete(MEMBER).where(
            MEMBER.c.tenant_id == ctx.tenant,
            MEMBER.c.group_id == group.group_id,
            MEMBER.c.account_id == (account_id or ""),
        )
    )
    if not res.rowcount:
        raise JiraError("Cannot remove user from group: the user is not a member.")


# -- users (site admins) ----------------------------------------------------------------------

TOKEN = table(models.Token)


def _user_event(ctx: TwinContext, event: str, row: Any) -> None:
    from twins.jira import events

    entity = common.user_json(ctx, row, "2")
    assert entity is not None
    events.entity_event(ctx, event, "user", entity)


def create_user(ctx: TwinContext, *, data: dict[str, Any]) -> dict[str, Any]:
    """`POST /user` (201, site admins): a new Atlassian account on the site, in
    `jira-software-users` when `products` names Jira Software (`user_created`)."""
    if not common.me(ctx).is_admin:
        raise Forbidden("You do not have permission to create users.")
    email = data.get("emailAddress")
    if not isinstance(email, str) or "@" not in email or email.strip() != email or not 3 <= len(email) <= 254:
        raise JiraError(errors={"emailAddress": "You must specify a valid email address."})
    email = email.lower()
    if ctx.conn.execute(select(USER).where(USER.c.tenant_id == ctx.tenant, USER.c.email == email)).first():
        raise JiraError(errors={"emailAddress": "A user with that email address already exists."})
    products = data.get("products", [])
    if not isinstance(products, list) or not all(isinstance(p, str) for p in products):
        raise JiraError(errors={"products": "products must be a list of product keys."})
    account_id = ctx.ids.hex("account", 24)
    name = data.get("displayName") if isinstance(data.get("displayName"), str) else None
    ctx.conn.execute(
        insert(USER).values(
            tenant_id=ctx.tenant,
            account_id=account_id,
            email=email,
            display_name=name or email.split("@")[0],
            active=True,
            account_type="atlassian",
            time_zone="UTC",
            is_admin=False,
        )
    )
    if {"jira-software", "jira-core"} & set(products):
        group = ctx.conn.execute(
            select(GROUP).where(GROUP.c.tenant_id == ctx.tenant, GROUP.c.name == "jira-software-users")
        ).first()
        if group is not None:
            ctx.conn.execute(
                insert(MEMBER).values(tenant_id=ctx.tenant, group_id=group.group_id, account_id=account_id)
            )
    common.memo(ctx).pop("users", None)
    row = common.user_row(ctx, account_id)
    _user_event(ctx, "user_created", row)
    out = common.user_json(ctx, row)
    assert out is not None
    return out


def remove_user(ctx: TwinContext, *, account_id: str | None) -> None:
    """`DELETE /user?accountId=` (204, site admins): the account, its tokens and memberships go;
    issues keep the account id (`user_deleted`)."""
    if not common.me(ctx).is_admin:
        raise Forbidden("You do not have permission to delete users.")
    if not account_id:
        raise JiraError("The accountId query parameter needs to be provided.")
    row = common.user_row(ctx, account_id)
    if row is None:
        raise NotFound(f"Specified user does not exist or you do not have required permissions: {account_id}")
    if row.account_id == common.me(ctx).account_id:
        raise JiraError("You cannot delete the currently logged in user.")
    _user_event(ctx, "user_deleted", row)
    for t in (TOKEN, MEMBER, USER):
        ctx.conn.execute(delete(t).where(t.c.tenant_id == ctx.tenant, t.c.account_id == row.account_id))
    common.memo(ctx).pop("users", None)
