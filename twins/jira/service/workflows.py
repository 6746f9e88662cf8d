"""Workflows as the workflow API shows them: statuses and transitions, searched and paged.

https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-workflows/#api-rest-api-3-workflow-search-get
(deprecated in favour of the bulk workflow API, still what the Python clients call). A
workflow's transitions are its `Workflow.transitions` plus the initial "Create" transition
into its initial status; `from` empty is a global transition.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, select

from dtu.context import TwinContext
from dtu.pagination import jira_page
from twins.jira.errors import Forbidden, JiraError
from twins.jira.service import common
from twins.jira.service.common import PROJECT, WORKFLOW

_NS = uuid.UUID("6f1c4f3e-2f7a-4b7e-9a57-0d7c1a0b7d11")


def _entity_id(ctx: TwinContext, name: str) -> str:
    return str(uuid.uuid5(_NS, f"{ctx.tenant}/{name}"))


def _transitions(row: Row[Any]) -> list[dict[str, Any]]:
    out = [{"id": "1", "name": "Create", "description": "", "from": [], "to": row.initial, "type": "initial"}]
    for t in row.transitions or []:
        out.append(
            {
                "id": str(t["id"]),
                "name": t["name"],
                "description": t.get("description", ""),
                "from": list(t.get("from") or []),
                "to": t["to"],
                "type": "directed" if t.get("from") else "global",
                "properties": {},
            }
        )
    return out


def _statuses(ctx: TwinContext, row: Row[Any]) -> list[dict[str, Any]]:
    out = []
    for sid in row.statuses or []:
        st = common.status_row(ctx, sid)
        if st is not None:
            out.append({"id": st.id, "name": st.name, "properties": {"jira.issue.editable": "true"}})
    return out


def workflow_json(
    ctx: TwinContext, row: Row[Any], expand: set[str], used_by: list[Row[Any]]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": {"name": row.name, "entityId": _entity_id(ctx, row.name)},
        "description": row.description,
        "isDefault": False,
    }
    if "transitions" in expand:
        out["transitions"] = _transitions(row)
    if "statuses" in expand:
        out["statuses"] = _statuses(ctx, row)
    if "projects" in expand:
        out["projects"] = [common.project_short(ctx, p) for p in used_by]
    return out


def _rows(ctx: TwinContext) -> list[Row[Any]]:
    return list(
        ctx.conn.execute(
            select(WORKFLOW).where(WORKFLOW.c.tenant_id == ctx.tenant).order_by(WORKFLOW.c.name)
        ).all()
    )


def _users_of(ctx: TwinContext) -> dict[str, list[Row[Any]]]:
    out: dict[str, list[Row[Any]]] = {}
    for p in ctx.conn.execute(
        select(PROJECT).where(PROJECT.c.tenant_id == ctx.tenant).order_by(PROJECT.c.key)
    ).all():
        if p.deleted_at is None:
            out.setdefault(p.workflow, []).append(p)
    return out


def search_workflows(
    ctx: TwinContext,
    *,
    names: list[str],
    query: str | None,
    expand: list[str] | None,
    order_by: str | None,
    is_active: str | None,
    start_at: int,
    max_results: int,
) -> dict[str, Any]:
    """`GET /workflow/search` (site admins): a PageBean of workflows, by name, `queryString`
    (name contains), `isActive` (used by a project), ordered by name."""
    if not common.me(ctx).is_admin:
        raise Forbidden("You do not have the permission to view workflows.")
    if order_by and order_by.lstrip("+-") not in ("name", "created", "updated"):
        raise JiraError(f"The orderBy value '{order_by}' is not supported.")
    if is_active not in (None, "", "true", "false"):
        raise JiraError("The isActive parameter must be true or false.")
    wanted = {e.strip() for e in expand or []}
    used = _users_of(ctx)
    rows = _rows(ctx)
    if names:
        rows = [r for r in rows if r.name in names]
    if query:
        rows = [r for r in rows if query.lower() in r.name.lower()]
    if is_active:
        rows = [r for r in rows if bool(used.get(r.name)) == (is_active == "true")]
    if order_by and order_by.startswith("-"):
        rows.reverse()
    page = [
        workflow_json(ctx, r, wanted, used.get(r.name, [])) for r in rows[start_at : start_at + max_results]
    ]
    out: dict[str, Any] = {
        "self": f"{common.api_base(ctx)}/workflow/search?maxResults={max_results}&startAt={start_at}",
        **jira_page(page, start_at=start_at, max_results=max_results, total=len(rows)),
    }
    if not out["isLast"]:
        out["nextPage"] = (
            f"{common.api_base(ctx)}/workflow/search?maxResults={max_results}&startAt={start_at + max_results}"
        )
    return out


def all_workflows(ctx: TwinContext, *, name: str | None) -> list[dict[str, Any]]:
    """`GET /workflow` (deprecated, still served): every workflow with its step count."""
    if not common.me(ctx).is_admin:
        raise Forbidden("You do not have the permission to view workflows.")
    rows = [r for r in _rows(ctx) if name is None or r.name == name]
    return [
        {"name": r.name, "description": r.description, "steps": len(r.statuses or []), "default": False}
        for r in rows
    ]
