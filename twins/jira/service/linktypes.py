"""Issue link types: list, get, create, update, delete.

https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-link-types/ . Reading
is open to every user; writing needs *Administer Jira*, and Jira answers 404 (not 403) to
others, as the reference says. Names are unique (case-insensitive); deleting a type deletes
the links of that type.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, delete, insert, select, update

from dtu.context import TwinContext
from dtu.db import table
from twins.jira import models
from twins.jira.errors import JiraError, NotFound
from twins.jira.service import common

LINKTYPE = table(models.IssueLinkType)
LINK = table(models.IssueLink)
NO_PERMISSION = "You do not have the permission to manage issue link types."


def linktype_json(ctx: TwinContext, row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "inward": row.inward,
        "outward": row.outward,
        "self": f"{common.api_base(ctx)}/issueLinkType/{row.id}",
    }


def rows(ctx: TwinContext) -> list[Row[Any]]:
    return list(
        ctx.conn.execute(
            select(LINKTYPE).where(LINKTYPE.c.tenant_id == ctx.tenant).order_by(LINKTYPE.c.id)
        ).all()
    )


def row_of(ctx: TwinContext, type_id: str) -> Row[Any]:
    row = next((r for r in rows(ctx) if r.id == str(type_id)), None)
    if row is None:
        raise NotFound(f"No issue link type with id '{type_id}' found.")
    return row


def list_link_types(ctx: TwinContext) -> dict[str, Any]:
    """`GET /issueLinkType`."""
    return {"issueLinkTypes": [linktype_json(ctx, r) for r in rows(ctx)]}


def get_link_type(ctx: TwinContext, *, type_id: str) -> dict[str, Any]:
    return linktype_json(ctx, row_of(ctx, type_id))


def _require_admin(ctx: TwinContext) -> None:
    if not common.me(ctx).is_admin:
        raise NotFound(NO_PERMISSION)


def _values(ctx: TwinContext, data: dict[str, Any], current: Row[Any] | None) -> dict[str, str]:
    """The name, inward and outward descriptions: required on create, kept when absent on update."""
    out: dict[str, str] = {}
    messages = {
        "name": "Please specify a name for this link type.",
        "inward": "Please specify a description for the inward link.",
        "outward": "Please specify a description for the outward link.",
    }
    for key, message in messages.items():
        value = data.get(key, getattr(current, key) if current is not None else None)
        if not isinstance(value, str) or not value.strip():
            raise JiraError(message)
        out[key] = value.strip()
    clash = next(
        (
            r
            for r in rows(ctx)
            if r.name.lower() == out["name"].lower() and (current is None or r.id != current.id)
        ),
        None,
    )
    if clash is not None:
        raise JiraError("You cannot create two issue link types with the same name.")
    return out


def create_link_type(ctx: TwinContext, *, data: dict[str, Any]) -> dict[str, Any]:
    """`POST /issueLinkType` (201)."""
    _require_admin(ctx)
    values = _values(ctx, data, None)
    type_id = common.next_id(ctx, "linktype")
    ctx.conn.execute(insert(LINKTYPE).values(tenant_id=ctx.tenant, id=type_id, **values))
    return get_link_type(ctx, type_id=type_id)


def update_link_type(ctx: TwinContext, *, type_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """`PUT /issueLinkType/{id}`: the fields given change, the others stay."""
    _require_admin(ctx)
    row = row_of(ctx, type_id)
    values = _values(ctx, data, row)
    ctx.conn.execute(
        update(LINKTYPE).where(LINKTYPE.c.tenant_id == ctx.tenant, LINKTYPE.c.id == row.id).values(**values)
    )
    return get_link_type(ctx, type_id=row.id)


def delete_link_type(ctx: TwinContext, *, type_id: str) -> None:
    """`DELETE /issueLinkType/{id}` (204): the type and every link of that type."""
    _require_admin(ctx)
    row = row_of(ctx, type_id)
    ctx.conn.execute(delete(LINK).where(LINK.c.tenant_id == ctx.tenant, LINK.c.type_id == row.id))
    ctx.conn.execute(delete(LINKTYPE).where(LINKTYPE.c.tenant_id == ctx.tenant, LINKTYPE.c.id == row.id))
