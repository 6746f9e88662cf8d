"""Jira Software (Agile 1.0): boards, sprints, backlog, epics and ranking.

https://developer.atlassian.com/cloud/jira/software/rest/intro/ . A board shows the issues
of its saved filter (`service/filters.py`), in the filter's order (Rank by default), and sits
in a project or in its creator's space; it is visible to whoever may see both. A scrum board's
backlog is every issue of the board not done and not in an open (active or future) sprint.
Sprints go future -> active (needs start and end dates; one active sprint per board, as Jira
without parallel sprints) -> closed (sets completeDate); a closed sprint cannot be changed,
and issues keep closed sprints in their Sprint field history. Issues are ordered by a
LexoRank-like string (`0|<body>:`): ranking before/after an issue mints a body strictly
between its neighbours, so nothing else moves. New boards get Jira's two quick filters.
Admin webhooks hear `board_created|updated|deleted` and `sprint_created|started|closed|
updated|deleted`. Divergences: estimation, reports and board properties are not served.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Row, delete, insert, select, update

from dtu.context import TwinContext
from dtu.db import table
from dtu.sql import Prepared
from twins.jira import models
from twins.jira.errors import Forbidden, JiraError, NotFound
from twins.jira.service import common, filters, issues, search

BOARD = table(models.Board)
QUICK = table(models.QuickFilter)
SPRINT = common.SPRINT
ISSUE = common.ISSUE
SPRINT_FIELD = "customfield_10020"
RANK_FIELD_ID = 10019
MAX_ISSUES_PER_CALL = 50
MAX_PAGE = 50  # agile pages hold at most 50 items
BOARD_NOT_FOUND = "Board does not exist or you do not have permission to see it."
SPRINT_NOT_FOUND = "Sprint does not exist or you do not have permission to see it."
ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


MAX_ID = 2**31 - 1  # ids are INTEGER columns: larger numbers name nothing


def agile_base(ctx: TwinContext) -> str:
    return f"{ctx.base_url}/rest/agile/1.0"


def page(values: list[Any], start_at: int, max_results: int) -> dict[str, Any]:
    chunk = values[start_at : start_at + max_results]
    return {
        "maxResults": max_results,
        "startAt": start_at,
        "total": len(values),
        "isLast": start_at + len(chunk) >= len(values),
        "values": chunk,
    }


# -- ranks ------------------------------------------------------------------------------------


def between(low: str, high: str | None) -> str:
    """A string strictly between `low` and `high` (None = no upper bound), never ending in '0'."""
    out = []
    i = 0
    upper = high
    while True:
        a = ALPHABET.index(low[i]) if i < len(low) else 0
        b = ALPHABET.index(upper[i]) if upper is not None and i < len(upper) else len(ALPHABET)
        if b - a > 1:
            out.append(ALPHABET[(a + b) // 2])
            return "".join(out)
        out.append(ALPHABET[a])
        if a < b:
            upper = None
        i += 1


# -- boards -----------------------------------------------------------------------------------


def _board(ctx: TwinContext, board_id: int) -> tuple[Row[Any], Row[Any] | None]:
    """A board the caller may see (its project browsable, its filter visible) and its project."""
    if not 0 < board_id <= MAX_ID:
        raise NotFound(BOARD_NOT_FOUND)
    row = ctx.conn.execute(
        select(BOARD).where(BOARD.c.tenant_id == ctx.tenant, BOARD.c.id == board_id)
    ).first()
    if row is None or not _may_see(ctx, row):
        raise NotFound(BOARD_NOT_FOUND)
    project = common.project_row(ctx, row.project_id, check=False) if row.project_id else None
    return row, project


def _may_see(ctx: TwinContext, row: Row[Any]) -> bool:
    if row.project_id:
        project = common.project_row(ctx, row.project_id, check=False)
        if not common.can_browse(ctx, project):
            return False
    elif row.owner != common.me(ctx).account_id and not common.me(ctx).is_admin:
        return False
    filt = _filter_row(ctx, row)
    return filt is None or filters.visible(ctx, filt)


def _filter_row(ctx: TwinContext, board: Row[Any]) -> Row[Any] | None:
    if board.filter_id is None:
        return None
    return ctx.conn.execute(
        select(filters.FILTER).where(
            filters.FILTER.c.tenant_id == ctx.tenant, filters.FILTER.c.id == board.filter_id
        )
    ).first()


def _board_jql(ctx: TwinContext, board: Row[Any]) -> tuple[str, str]:
    """(the filter's restriction, its ORDER BY) of a board; Jira's 400 when the filter is gone."""
    filt = _filter_row(ctx, board)
    if filt is None:
        raise JiraError(f"The filter of board {board.id} no longer exists or is not visible to you.")
    return _split_order(filt.jql)


def _location(ctx: TwinContext, board: Row[Any], project: Row[Any] | None) -> dict[str, Any]:
    if project is None:
        user = common.user_row(ctx, board.owner)
        name = user.display_name if user else ""
        return {"userAccountId": board.owner, "displayName": name, "name": name}
    return {
        "projectId": int(project.id),
        "displayName": f"{project.name} ({project.key})",
        "projectName": project.name,
        "projectKey": project.key,
        "projectTypeKey": project.project_type,
        "avatarURI": f"{ctx.base_url}/rest/api/2/universal_avatar/view/type/project/avatar/{project.id}?size=small",
        "name": f"{project.name} ({project.key})",
    }


def board_json(ctx: TwinContext, row: Row[Any], project: Row[Any] | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "self": f"{agile_base(ctx)}/board/{row.id}",
        "name": row.name,
        "type": row.type,
        "location": _location(ctx, row, project),
        "isPrivate": project is None,
    }


def list_boards(
    ctx: TwinContext,
    *,
    start_at: int,
    max_results: int,
    type_: str | None,
    name: str | None,
    project: str | None,
    filter_id: str | None = None,
) -> dict[str, Any]:
    """`GET /board` (and `/board/filter/{id}`): visible boards, filtered by type, name
    (contains), project and filter."""
    wanted = None
    if project:
        try:
            wanted = common.project_row(ctx, project).id
        except NotFound:
            raise JiraError(f"No project could be found with key or id '{project}'.") from None
    types = {t.strip() for t in type_.split(",")} if type_ else None
    if types and not types <= {"scrum", "kanban", "simple"}:
        raise JiraError("type: Board type must be one of: scrum, kanban, simple.")
    out = []
    for row in ctx.conn.execute(
        select(BOARD).where(BOARD.c.tenant_id == ctx.tenant).order_by(BOARD.c.id)
    ).all():
        if not _may_see(ctx, row) or (wanted and row.project_id != wanted):
            continue
        if (types and row.type not in types) or (name and name.lower() not in row.name.lower()):
            continue
        if filter_id is not None and row.filter_id != str(filter_id):
            continue
        proj = common.project_row(ctx, row.project_id, check=False) if row.project_id else None
        out.append(board_json(ctx, row, proj))
    return page(out, start_at, max_results)


def get_board(ctx: TwinContext, *, board_id: int) -> dict[str, Any]:
    row, project = _board(ctx, board_id)
    return board_json(ctx, row, project)


def board_configuration(ctx: TwinContext, *, board_id: int) -> dict[str, Any]:
    """`GET /board/{id}/configuration`: its filter, location, and columns by status category
    (of its project's workflow; of every status for a board outside a project)."""
    row, project = _board(ctx, board_id)
    if project is not None:
        status_ids = list(common.workflow_of(ctx, project).statuses)
    else:
        status_ids = [
            r.id
            for r in ctx.conn.execute(
                select(common.STATUS).where(common.STATUS.c.tenant_id == ctx.tenant)
            ).all()
        ]
    columns = []
    for cat, title in ((2, "To Do"), (4, "In Progress"), (3, "Done")):
        statuses = []
        for sid in status_ids:
            st = common.status_row(ctx, sid)
            if st is not None and st.category_id == cat:
                statuses.append({"id": st.id, "self": f"{common.api_base(ctx, '2')}/status/{st.id}"})
        columns.append({"name": title, "statuses": statuses})
    location: dict[str, Any] = (
        {
            "type": "project",
            "key": project.key,
            "id": project.id,
            "self": f"{common.api_base(ctx, '2')}/project/{project.id}",
            "name": project.name,
        }
        if project is not None
        else {
            "type": "user",
            "id": row.owner,
            "self": f"{common.api_base(ctx, '2')}/user?accountId={row.owner}",
        }
    )
    out: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "type": row.type,
        "self": f"{agile_base(ctx)}/board/{row.id}/configuration",
        "location": location,
        "filter": {"id": row.filter_id, "self": f"{common.api_base(ctx, '2')}/filter/{row.filter_id}"},
        "columnConfig": {"columns": columns, "constraintType": "none"},
        "ranking": {"rankCustomFieldId": RANK_FIELD_ID},
    }
    if row.type == "scrum":
        out["estimation"] = {
            "type": "field",
            "field": {"fieldId": "customfield_10016", "displayName": "Story point estimate"},
        }
    else:
        out["subQuery"] = {"query": "resolution = EMPTY OR resolution changed after -2w"}
    return out


def _board_event(ctx: TwinContext, event: str, row: Row[Any]) -> None:
    from twins.jira import events

    entity = {"id": row.id, "self": f"{agile_base(ctx)}/board/{row.id}", "name": row.name, "type": row.type}
    events.entity_event(ctx, event, "board", entity)


def create_board(ctx: TwinContext, *, data: dict[str, Any]) -> dict[str, Any]:
    """`POST /board` (201): name, type (scrum|kanban), a visible filter, and a location (a
    browsable project, or the caller's own space). `board_created`."""
    name, type_ = data.get("name"), data.get("type")
    if not isinstance(name, str) or not name.strip():
        raise JiraError(errors={"name": "Board name must not be empty."})
    if len(name) >= 255:
        raise JiraError(errors={"name": "Board name must be less than 255 characters."})
    if type_ not in ("scrum", "kanban"):
        raise JiraError(errors={"type": "Board type must be one of: scrum, kanban."})
    fid = data.get("filterId")
    if fid is None or isinstance(fid, bool) or not str(fid).isdigit():
        raise JiraError(errors={"filterId": "filterId is required."})
    try:
        filt = filters.row_of(ctx, str(fid))
    except JiraError:
        raise JiraError(
            errors={"filterId": f"Filter with id {fid} does not exist or is not visible to you."}
        ) from None
    given = data.get("location")
    location: dict[str, Any] = given if isinstance(given, dict) else {"type": "user"}
    project_id = None
    if location.get("type") == "project":
        ident = location.get("projectKeyOrId")
        if not ident:
            raise JiraError(errors={"location": "A project location needs projectKeyOrId."})
        try:
            project_id = common.project_row(ctx, str(ident)).id
        except NotFound:
            raise JiraError(
                errors={"location": f"No project could be found with key or id '{ident}'."}
            ) from None
    elif location.get("type") != "user":
        raise JiraError(errors={"location": "Location type must be one of: project, user."})
    bid = int(common.next_id(ctx, "board", base=1))
    ctx.conn.execute(
        insert(BOARD).values(
            tenant_id=ctx.tenant,
            id=bid,
            name=name,
            type=type_,
            project_id=project_id,
            filter_id=filt.id,
            owner=common.me(ctx).account_id,
        )
    )
    add_default_quick_filters(ctx, bid)
    row, project = _board(ctx, bid)
    _board_event(ctx, "board_created", row)
    out = board_json(ctx, row, project)
    out.pop("isPrivate", None)
    return out


DEFAULT_QUICK_FILTERS = (
    ("Only My Issues", "assignee = currentUser()"),
    ("Recently Updated", "updatedDate >= -1d"),
)
_ADD_QUICK = Prepared(
    insert(QUICK), columns=["tenant_id", "id", "board_id", "name", "jql", "description", "position"]
)


def add_default_quick_filters(ctx: TwinContext, board_id: int) -> None:
    """The two quick filters Jira gives a new board (their ids taken at once: the same ids, and
    the same counter, as one `next` each)."""
    first = ctx.ids.take("quickfilter", len(DEFAULT_QUICK_FILTERS))
    for position, (name, jql_text) in enumerate(DEFAULT_QUICK_FILTERS):
        _ADD_QUICK.execute(
            ctx.conn,
            {
                "tenant_id": ctx.tenant,
                "id": first + position,
                "board_id": board_id,
                "name": name,
                "jql": jql_text,
                "description": "",
                "position": position,
            },
        )


def delete_board(ctx: TwinContext, *, board_id: int) -> None:
    """`DELETE /board/{id}` (204): site admins or the board's creator; its sprints stay (they
    keep their issues), its quick filters go. `board_deleted`."""
    row, _project = _board(ctx, board_id)
    me = common.me(ctx)
    if not me.is_admin and row.owner != me.account_id:
        raise Forbidden("You must be a Jira administrator or a board administrator to delete this board.")
    _board_event(ctx, "board_deleted", row)
    ctx.conn.execute(delete(QUICK).where(QUICK.c.tenant_id == ctx.tenant, QUICK.c.board_id == row.id))
    ctx.conn.execute(delete(BOARD).where(BOARD.c.tenant_id == ctx.tenant, BOARD.c.id == row.id))


def quick_json(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "boardId": row.board_id,
        "name": row.name,
        "jql": row.jql,
        "description": row.description,
        "position": row.position,
    }


def quick_filters(ctx: TwinContext, *, board_id: int, start_at: int, max_results: int) -> dict[str, Any]:
    """`GET /board/{id}/quickfilter`: by position."""
    row, _project = _board(ctx, board_id)
    rows = ctx.conn.execute(
        select(QUICK)
        .where(QUICK.c.tenant_id == ctx.tenant, QUICK.c.board_id == row.id)
        .order_by(QUICK.c.position, QUICK.c.id)
    ).all()
    return page([quick_json(r) for r in rows], start_at, max_results)


def quick_filter(ctx: TwinContext, *, board_id: int, quick_id: int) -> dict[str, Any]:
    row, _project = _board(ctx, board_id)
    if not 0 < quick_id <= MAX_ID:
        raise NotFound("The quick filter does not exist or you do not have permission to see it.")
    hit = ctx.conn.execute(
        select(QUICK).where(
            QUICK.c.tenant_id == ctx.tenant, QUICK.c.board_id == row.id, QUICK.c.id == quick_id
        )
    ).first()
    if hit is None:
        raise NotFound("The quick filter does not exist or you do not have permission to see it.")
    return quick_json(hit)


# -- issue lists ------------------------------------------------------------------------------


def _sprint_rows(ctx: TwinContext, ids: list[int]) -> list[Row[Any]]:
    if not ids:
        return []
    return list(
        ctx.conn.execute(
            select(SPRINT).where(SPRINT.c.tenant_id == ctx.tenant, SPRINT.c.id.in_(ids)).order_by(SPRINT.c.id)
        ).all()
    )


def sprint_json(ctx: TwinContext, row: Row[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "self": f"{agile_base(ctx)}/sprint/{row.id}",
        "state": row.state,
        "name": row.name,
    }
    for key, value in (
        ("startDate", row.start_date),
        ("endDate", row.end_date),
        ("completeDate", row.complete_date),
    ):
        if value is not None:
            out[key] = common.ts(value)
    out["createdDate"] = common.ts(row.created)
    out["originBoardId"] = row.board_id
    out["goal"] = row.goal
    return out


def _agile_issue(ctx: TwinContext, row: Row[Any], wanted: list[str] | None) -> dict[str, Any]:
    out = issues.issue_json(ctx, row, wanted=wanted, version="2", default_fields="*navigable")
    sprints = _sprint_rows(ctx, list((row.custom or {}).get(SPRINT_FIELD) or []))
    fields_out = out.setdefault("fields", {})
    if wanted is None or "sprint" in wanted:
        current = next((s for s in sprints if s.state != "closed"), None)
        fields_out["sprint"] = sprint_json(ctx, current) if current else None
        fields_out["closedSprints"] = [sprint_json(ctx, s) for s in sprints if s.state == "closed"]
        fields_out["flagged"] = False
    if wanted is None or "epic" in wanted:
        parent = common.issue_row(ctx, row.parent_id, check=False) if row.parent_id else None
        ptype = common.itype_row(ctx, parent.issuetype_id) if parent is not None else None
        fields_out["epic"] = (
            epic_json(ctx, parent) if parent is not None and ptype and ptype.name == "Epic" else None
        )
    out["self"] = f"{agile_base(ctx)}/issue/{row.id}"
    return out


def issue_page(
    ctx: TwinContext,
    base_jql: str,
    *,
    jql_text: str | None,
    start_at: int,
    max_results: int,
    wanted: list[str] | None,
    keep: Any = None,
    order: str = "",
) -> dict[str, Any]:
    """Issues of `base_jql` AND the caller's JQL, in the caller's order, else `order`, else
    by rank (as boards show them)."""
    where, asked = _split_order(jql_text or "")
    parts = [f"({p})" for p in (base_jql, where) if p]
    ids = search.run_jql(ctx, " AND ".join(parts) + f" ORDER BY {asked or order or 'Rank ASC'}")
    rows = search.rows_of(ctx, ids)
    if keep is not None:
        rows = [r for r in rows if keep(r)]
    chunk = rows[start_at : start_at + max_results]
    return {
        "expand": "schema,names",
        "startAt": start_at,
        "maxResults": max_results,
        "total": len(rows),
        "issues": [_agile_issue(ctx, r, wanted) for r in chunk],
    }


def _split_order(text: str) -> tuple[str, str]:
    """(filter, ORDER BY fields) of a board's extra JQL."""
    parts = re.split(r"\border\s+by\b", text, maxsplit=1, flags=re.IGNORECASE)
    return parts[0].strip(), (parts[1].strip() if len(parts) > 1 else "")


def _open_sprint_ids(ctx: TwinContext) -> set[int]:
    return set(
        ctx.conn.execute(
            select(SPRINT.c.id).where(SPRINT.c.tenant_id == ctx.tenant, SPRINT.c.state != "closed")
        ).scalars()
    )


def board_issues(
    ctx: TwinContext,
    *,
    board_id: int,
    jql_text: str | None,
    start_at: int,
    max_results: int,
    wanted: list[str] | None,
) -> dict[str, Any]:
    """`GET /board/{id}/issue`: every issue of the board's filter, in its order."""
    row, _project = _board(ctx, board_id)
    where, order = _board_jql(ctx, row)
    return issue_page(
        ctx,
        where,
        order=order,
        jql_text=jql_text,
        start_at=start_at,
        max_results=max_results,
        wanted=wanted,
    )


def backlog(
    ctx: TwinContext,
    *,
    board_id: int,
    jql_text: str | None,
    start_at: int,
    max_results: int,
    wanted: list[str] | None,
) -> dict[str, Any]:
    """`GET /board/{id}/backlog`: not done, not in an open sprint (kanban boards have no backlog)."""
    row, _project = _board(ctx, board_id)
    if row.type != "scrum":
        raise JiraError("The board does not support backlog: it is not a scrum board.")
    open_ids = _open_sprint_ids(ctx)
    where, order = _board_jql(ctx, row)
    return issue_page(
        ctx,
        f"({where}) AND statusCategory != Done" if where else "statusCategory != Done",
        order=order,
        jql_text=jql_text,
        start_at=start_at,
        max_results=max_results,
        wanted=wanted,
        keep=lambda r: not (set((r.custom or {}).get(SPRINT_FIELD) or []) & open_ids),
    )


def sprint_issues(
    ctx: TwinContext,
    *,
    sprint_id: int,
    board_id: int | None,
    jql_text: str | None,
    start_at: int,
    max_results: int,
    wanted: list[str] | None,
) -> dict[str, Any]:
    """`GET /sprint/{id}/issue` (and `/board/{b}/sprint/{id}/issue`): issues in the sprint, ranked."""
    if board_id is not None:
        _board(ctx, board_id)
    sprint = _sprint(ctx, sprint_id)
    return issue_page(
        ctx,
        f"sprint = {sprint.id}",
        jql_text=jql_text,
        start_at=start_at,
        max_results=max_results,
        wanted=wanted,
    )


def _epic(ctx: TwinContext, epic: str) -> Row[Any]:
    try:
        row = common.issue_row(ctx, epic)
    except NotFound:
        raise NotFound("The requested epic does not exist or you do not have permission to see it.") from None
    itype = common.itype_row(ctx, row.issuetype_id)
    if itype is None or itype.hierarchy_level != 1:
        raise JiraError(f"Issue {row.key} is not an epic.")
    return row


def epic_json(ctx: TwinContext, row: Row[Any]) -> dict[str, Any]:
    st = common.status_row(ctx, row.status_id)
    return {
        "id": int(row.id),
        "key": row.key,
        "self": f"{agile_base(ctx)}/epic/{row.id}",
        "name": row.summary,
        "summary": row.summary,
        "color": {"key": "color_4"},
        "done": bool(st is not None and st.category_id == 3),
    }


def get_epic(ctx: TwinContext, *, epic: str) -> dict[str, Any]:
    return epic_json(ctx, _epic(ctx, epic))


def board_epics(
    ctx: TwinContext, *, board_id: int, start_at: int, max_results: int, done: bool | None
) -> dict[str, Any]:
    row, _project = _board(ctx, board_id)
    where, _order = _board_jql(ctx, row)
    ids = search.run_jql(ctx, (f"({where}) AND " if where else "") + "issuetype = Epic ORDER BY Rank ASC")
    out = [epic_json(ctx, r) for r in search.rows_of(ctx, ids)]
    if done is not None:
        out = [e for e in out if e["done"] is done]
    return page(out, start_at, max_results)


def epic_issues(
    ctx: TwinContext,
    *,
    epic: str,
    jql_text: str | None,
    start_at: int,
    max_results: int,
    wanted: list[str] | None,
) -> dict[str, Any]:
    """`GET /epic/{key}/issue`: the epic's children (team-managed `parent`)."""
    row = _epic(ctx, epic)
    return issue_page(
        ctx,
        f"parent = {row.key}",
        jql_text=jql_text,
        start_at=start_at,
        max_results=max_results,
        wanted=wanted,
    )


def _issue_list(ctx: TwinContext, value: Any) -> list[Row[Any]]:
    if not isinstance(value, list) or not value:
        raise JiraError(errors={"issues": "The list of issues must not be empty."})
    if len(value) > MAX_ISSUES_PER_CALL:
        raise JiraError(f"At most {MAX_ISSUES_PER_CALL} issues can be moved in one request.")
    rows = []
    for ident in value:
        try:
            rows.append(common.issue_row(ctx, str(ident)))
        except NotFound:
            raise JiraError(
                f"Issue '{ident}' does not exist or you do not have permission to see it."
            ) from None
    return rows


def move_to_epic(ctx: TwinContext, *, epic: str | None, issue_ids: Any) -> None:
    """`POST /epic/{key}/issue` sets the children's parent; `/epic/none/issue` clears it."""
    target = _epic(ctx, epic) if epic is not None else None
    for row in _issue_list(ctx, issue_ids):
        itype = common.itype_row(ctx, row.issuetype_id)
        if itype is not None and (itype.subtask or itype.hierarchy_level >= 1):
            raise JiraError(f"Issue {row.key} cannot be moved to an epic: only standard issues can.")
        if target is not None and row.project_id != target.project_id:
            raise JiraError(f"Issue {row.key} is not in the epic's project.")
        new_parent = target.id if target is not None else None
        if row.parent_id != new_parent:
            change = issues.apply_change(ctx, row, {"parent_id": new_parent}, {})
            if change is not None:
                from twins.jira import events

                events.issue_event(
                    ctx, "jira:issue_updated", row.id, change=change, event_type="issue_generic"
                )


# -- sprints ----------------------------------------------------------------------------------


def _sprint(ctx: TwinContext, sprint_id: int) -> Row[Any]:
    if not 0 < sprint_id <= MAX_ID:
        raise NotFound(SPRINT_NOT_FOUND)
    row = ctx.conn.execute(
        select(SPRINT).where(SPRINT.c.tenant_id == ctx.tenant, SPRINT.c.id == sprint_id)
    ).first()
    if row is None:
        raise NotFound(SPRINT_NOT_FOUND)
    board = ctx.conn.execute(
        select(BOARD).where(BOARD.c.tenant_id == ctx.tenant, BOARD.c.id == row.board_id)
    ).first()
    if board is not None and not _may_see(ctx, board):  # a deleted board's sprints live on
        raise NotFound(SPRINT_NOT_FOUND)
    return row


def get_sprint(ctx: TwinContext, *, sprint_id: int) -> dict[str, Any]:
    return sprint_json(ctx, _sprint(ctx, sprint_id))


def board_sprints(
    ctx: TwinContext, *, board_id: int, start_at: int, max_results: int, state: str | None
) -> dict[str, Any]:
    """`GET /board/{id}/sprint`: closed, then active, then future, each by sequence."""
    row, _project = _board(ctx, board_id)
    if row.type != "scrum":
        raise JiraError("The board does not support sprints")
    states = {s.strip() for s in state.split(",")} if state else None
    if states and not states <= {"future", "active", "closed"}:
        raise JiraError("state: The sprint state must be one of: future, active, closed.")
    order = {"closed": 0, "active": 1, "future": 2}
    rows = ctx.conn.execute(
        select(SPRINT).where(SPRINT.c.tenant_id == ctx.tenant, SPRINT.c.board_id == row.id)
    ).all()
    rows = sorted(
        (r for r in rows if states is None or r.state in states), key=lambda r: (order[r.state], r.id)
    )
    return page([sprint_json(ctx, r) for r in rows], start_at, max_results)


def _date(value: Any, field: str) -> float | None:
    if value is None:
        return None
    parsed = common.parse_ts(str(value)) if isinstance(value, str) else None
    if parsed is None:
        raise JiraError(errors={field: f"Could not parse the {field}: '{value}'."})
    return parsed


def create_sprint(ctx: TwinContext, *, data: dict[str, Any]) -> dict[str, Any]:
    """`POST /sprint` (201): a future sprint of a scrum board."""
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise JiraError(errors={"name": "Sprint name cannot be empty."})
    if len(name) > 30:
        raise JiraError(errors={"name": "Sprint name must not exceed 30 characters."})
    board_id = data.get("originBoardId")
    if isinstance(board_id, bool) or not isinstance(board_id, int | str) or not str(board_id).isdigit():
        raise JiraError(errors={"originBoardId": "originBoardId is required."})
    board, _project = _board(ctx, int(board_id))
    if board.type != "scrum":
        raise JiraError("The board does not support sprints")
    start, end = _date(data.get("startDate"), "startDate"), _date(data.get("endDate"), "endDate")
    if start is not None and end is not None and end < start:
        raise JiraError(errors={"endDate": "The sprint end date must be after its start date."})
    sid = int(common.next_id(ctx, "sprint", base=1))
    ctx.conn.execute(
        insert(SPRINT).values(
            tenant_id=ctx.tenant,
            id=sid,
            board_id=board.id,
            name=name,
            state="future",
            goal=str(data.get("goal") or ""),
            start_date=start,
            end_date=end,
            complete_date=None,
            created=ctx.now(),
        )
    )
    _sprint_event(ctx, "sprint_created", sid)
    return get_sprint(ctx, sprint_id=sid)


def _sprint_event(ctx: TwinContext, event: str, sprint_id: int, old: dict[str, Any] | None = None) -> None:
    from twins.jira import events

    row = ctx.conn.execute(
        select(SPRINT).where(SPRINT.c.tenant_id == ctx.tenant, SPRINT.c.id == sprint_id)
    ).one()
    extra = {"oldValue": old} if old is not None else {}
    events.entity_event(ctx, event, "sprint", sprint_json(ctx, row), **extra)


def update_sprint(ctx: TwinContext, *, sprint_id: int, data: dict[str, Any], partial: bool) -> dict[str, Any]:
    """`PUT` (full) / `POST` (partial) `/sprint/{id}`: rename, dates, goal, and the state machine
    future -> active -> closed."""
    row = _sprint(ctx, sprint_id)
    if row.state == "closed":
        raise JiraError("A closed sprint cannot be updated.")
    if (
        "completeDate" in data
        and data["completeDate"] is not None
        and not (row.state == "active" and data.get("state") == "closed")
    ):
        raise JiraError(errors={"completeDate": "The complete date cannot be updated manually."})
    values: dict[str, Any] = {}

    def pick(key: str) -> Any:
        return data.get(key) if key in data or not partial else getattr(row, key)

    if "name" in data or not partial:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise JiraError(errors={"name": "Sprint name cannot be empty."})
        values["name"] = name
    if "goal" in data or not partial:
        values["goal"] = str(data.get("goal") or "")
    if "startDate" in data or not partial:
        values["start_date"] = _date(pick("startDate"), "startDate")
    if "endDate" in data or not partial:
        values["end_date"] = _date(pick("endDate"), "endDate")
    start = values.get("start_date", row.start_date)
    end = values.get("end_date", row.end_date)
    state = data.get("state", row.state) if "state" in data or partial else data.get("state") or row.state
    if state not in ("future", "active", "closed"):
        raise JiraError(errors={"state": f"Unknown sprint state '{state}'."})
    if state != row.state:
        if (row.state, state) == ("future", "active"):
            if start is None or end is None:
                raise JiraError("The sprint cannot be started: it needs a start date and an end date.")
            if ctx.conn.execute(
                select(SPRINT.c.id).where(
                    SPRINT.c.tenant_id == ctx.tenant,
                    SPRINT.c.board_id == row.board_id,
                    SPRINT.c.state == "active",
                )
            ).first():
                raise JiraError(
                    "Sprint cannot be started: this board already has an active sprint. "
                    "Complete it first (parallel sprints are not enabled)."
                )
        elif (row.state, state) == ("active", "closed"):
            values["complete_date"] = ctx.now()
        else:
            raise JiraError(f"The sprint state cannot change from '{row.state}' to '{state}'.")
        values["state"] = state
    if start is not None and end is not None and end < start:
        raise JiraError(errors={"endDate": "The sprint end date must be after its start date."})
    if values:
        before = sprint_json(ctx, row)
        ctx.conn.execute(
            update(SPRINT).where(SPRINT.c.tenant_id == ctx.tenant, SPRINT.c.id == row.id).values(**values)
        )
        _sprint_event(ctx, "sprint_updated", row.id, before)
        if values.get("state") == "active":
            _sprint_event(ctx, "sprint_started", row.id)
        elif values.get("state") == "closed":
            _sprint_event(ctx, "sprint_closed", row.id)
    return get_sprint(ctx, sprint_id=sprint_id)


def delete_sprint(ctx: TwinContext, *, sprint_id: int) -> None:
    """`DELETE /sprint/{id}` (204): its issues go back to the backlog."""
    row = _sprint(ctx, sprint_id)
    if row.state == "closed":
        raise JiraError("A closed sprint cannot be deleted.")
    for issue in _in_sprint(ctx, row.id):
        _set_sprints(ctx, issue, [s for s in (issue.custom or {}).get(SPRINT_FIELD) or [] if s != row.id])
    _sprint_event(ctx, "sprint_deleted", row.id)
    ctx.conn.execute(delete(SPRINT).where(SPRINT.c.tenant_id == ctx.tenant, SPRINT.c.id == row.id))


def _in_sprint(ctx: TwinContext, sprint_id: int) -> list[Row[Any]]:
    rows = ctx.conn.execute(select(ISSUE).where(ISSUE.c.tenant_id == ctx.tenant)).all()
    return [r for r in rows if sprint_id in ((r.custom or {}).get(SPRINT_FIELD) or [])]


def _set_sprints(ctx: TwinContext, row: Row[Any], sprint_ids: list[int]) -> None:
    change = issues.apply_change(ctx, row, {}, {SPRINT_FIELD: sprint_ids or None})
    if change is not None:
        from twins.jira import events

        events.issue_event(ctx, "jira:issue_updated", row.id, change=change, event_type="issue_generic")


def move_to_sprint(ctx: TwinContext, *, sprint_id: int, data: dict[str, Any]) -> None:
    """`POST /sprint/{id}/issue` (204): into an open sprint, out of any other open one."""
    sprint = _sprint(ctx, sprint_id)
    if sprint.state == "closed":
        raise JiraError("Issues cannot be moved to a closed sprint.")
    rows = _issue_list(ctx, data.get("issues"))
    closed = {
        s.id
        for s in ctx.conn.execute(
            select(SPRINT).where(SPRINT.c.tenant_id == ctx.tenant, SPRINT.c.state == "closed")
        ).all()
    }
    for row in rows:
        itype = common.itype_row(ctx, row.issuetype_id)
        if itype is not None and itype.subtask:
            raise JiraError(f"Issue {row.key} is a sub-task: sub-tasks move with their parent.")
        kept = [s for s in (row.custom or {}).get(SPRINT_FIELD) or [] if s in closed]
        _set_sprints(ctx, row, [*kept, sprint.id])
    _rank_rows(ctx, rows, data)


def move_to_backlog(ctx: TwinContext, *, board_id: int | None, data: dict[str, Any]) -> None:
    """`POST /backlog/issue` (204): out of every open sprint."""
    if board_id is not None:
        _board(ctx, board_id)
    closed = {
        s.id
        for s in ctx.conn.execute(
            select(SPRINT).where(SPRINT.c.tenant_id == ctx.tenant, SPRINT.c.state == "closed")
        ).all()
    }
    rows = _issue_list(ctx, data.get("issues"))
    for row in rows:
        _set_sprints(ctx, row, [s for s in (row.custom or {}).get(SPRINT_FIELD) or [] if s in closed])
    _rank_rows(ctx, rows, data)


# -- ranking ----------------------------------------------------------------------------------


def _rank_rows(ctx: TwinContext, rows: list[Row[Any]], data: dict[str, Any]) -> None:
    before, after = data.get("rankBeforeIssue"), data.get("rankAfterIssue")
    if before is None and after is None:
        return
    if before is not None and after is not None:
        raise JiraError("Only one of 'rankBeforeIssue' and 'rankAfterIssue' can be given.")
    field_id = data.get("rankCustomFieldId")
    if field_id is not None and str(field_id) != str(RANK_FIELD_ID):
        raise JiraError(f"The rank custom field {field_id} does not exist.")
    try:
        target = common.issue_row(ctx, str(before if before is not None else after))
    except NotFound:
        raise JiraError(f"Issue '{before if before is not None else after}' does not exist.") from None
    moving = {r.id for r in rows}
    if target.id in moving:
        raise JiraError("An issue cannot be ranked relative to itself.")
    ordered = sorted(
        (
            r
            for r in ctx.conn.execute(select(ISSUE).where(ISSUE.c.tenant_id == ctx.tenant)).all()
            if r.id not in moving
        ),
        key=lambda r: common.rank_body(r.rank),
    )
    pos = next(i for i, r in enumerate(ordered) if r.id == target.id)
    if before is not None:
        low = common.rank_body(ordered[pos - 1].rank) if pos > 0 else ""
        high: str | None = common.rank_body(target.rank)
    else:
        low = common.rank_body(target.rank)
        high = common.rank_body(ordered[pos + 1].rank) if pos + 1 < len(ordered) else None
    for row in rows:
        new = between(low, high)
        old = common.rank_body(row.rank)
        item = {
            "field": "Rank",
            "fieldtype": "custom",
            "fieldId": "customfield_10019",
            "from": "",
            "fromString": "",
            "to": "",
            "toString": "Ranked higher" if new < old else "Ranked lower",
        }
        change = issues.apply_change(ctx, row, {"rank": f"0|{new}:"}, {}, [item])
        if change is not None:
            from twins.jira import events

            events.issue_event(ctx, "jira:issue_updated", row.id, change=change, event_type="issue_generic")
        low = new


def rank_issues(ctx: TwinContext, *, data: dict[str, Any]) -> None:
    """`PUT /issue/rank` (204): the issues, in the given order, just before or after another."""
    rows = _issue_list(ctx, data.get("issues"))
    if data.get("rankBeforeIssue") is None and data.get("rankAfterIssue") is None:
        raise JiraError("One of 'rankBeforeIssue' or 'rankAfterIssue' is required.")
    _rank_rows(ctx, rows, data)


# -- a board's epics, projects and versions; one issue ----------------------------------------

NO_EPIC = "parent IS EMPTY AND issuetype NOT IN (Epic, Sub-task)"


def board_epic_issues(
    ctx: TwinContext,
    *,
    board_id: int,
    epic: str | None,
    jql_text: str | None,
    start_at: int,
    max_results: int,
    wanted: list[str] | None,
) -> dict[str, Any]:
    """`GET /board/{id}/epic/{epic}/issue` (the epic's children on the board) and
    `/board/{id}/epic/none/issue` (the board's issues in no epic), in the board's order."""
    row, _project = _board(ctx, board_id)
    where, order = _board_jql(ctx, row)
    scope = f"parent = {_epic(ctx, epic).key}" if epic is not None else NO_EPIC
    return issue_page(
        ctx,
        f"({where}) AND {scope}" if where else scope,
        order=order,
        jql_text=jql_text,
        start_at=start_at,
        max_results=max_results,
        wanted=wanted,
    )


def _board_projects(ctx: TwinContext, row: Row[Any], project: Row[Any] | None) -> list[Row[Any]]:
    """The board's location project and the projects of the issues its filter selects."""
    where, _order = _board_jql(ctx, row)
    ids = set(search.run_jql(ctx, where or None)) if where else set()
    project_ids = {r.project_id for r in search.rows_of(ctx, list(ids))}
    if project is not None:
        project_ids.add(project.id)
    out = [common.project_row(ctx, pid, check=False) for pid in project_ids]
    return sorted((p for p in out if common.can_browse(ctx, p)), key=lambda p: p.name.lower())


def board_projects(ctx: TwinContext, *, board_id: int, start_at: int, max_results: int) -> dict[str, Any]:
    """`GET /board/{id}/project`: the projects associated with the board, by name."""
    row, project = _board(ctx, board_id)
    values = [common.project_short(ctx, p, "2") for p in _board_projects(ctx, row, project)]
    return page(values, start_at, max_results)


def board_versions(
    ctx: TwinContext, *, board_id: int, released: str | None, start_at: int, max_results: int
) -> dict[str, Any]:
    """`GET /board/{id}/version`: the versions of the board's projects (`released` filters)."""
    row, project = _board(ctx, board_id)
    if released not in (None, "", "true", "false"):
        raise JiraError("The released parameter must be true or false.")
    values = []
    for p in _board_projects(ctx, row, project):
        for v in ctx.conn.execute(
            select(common.VERSION)
            .where(common.VERSION.c.tenant_id == ctx.tenant, common.VERSION.c.project_id == p.id)
            .order_by(common.VERSION.c.id)
        ).all():
            if released and bool(v.released) != (released == "true"):
                continue
            values.append(
                {
                    "self": f"{common.api_base(ctx, '2')}/version/{v.id}",
                    "id": int(v.id),
                    "projectId": int(v.project_id),
                    "name": v.name,
                    "description": v.description,
                    "archived": bool(v.archived),
                    "released": bool(v.released),
                    **({"releaseDate": v.release_date} if v.release_date else {}),
                }
            )
    return page(values, start_at, max_results)


def get_agile_issue(ctx: TwinContext, *, issue: str, wanted: list[str] | None) -> dict[str, Any]:
    """`GET /rest/agile/1.0/issue/{key}`: the issue with its agile fields (sprint,
    closedSprints, flagged, epic)."""
    return _agile_issue(ctx, common.issue_row(ctx, issue), wanted)
