"""Moving issues between projects and issue types: `POST /bulk/issues/move` and its task.

https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-bulk-operations/#api-rest-api-3-bulk-issues-move-post .
A moved issue keeps its id and gets the next key of its new project (DEMO-7 -> OPS-3); the
old key still leads to it (`GET /issue/DEMO-7`, `key = DEMO-7`), as in Jira. Its sub-tasks
move with it. A status the target workflow lacks becomes the one `targetStatus` maps it to,
or the workflow's initial status with `inferStatusDefaults`; components and versions of the
old project are dropped. Jira runs the move as a task: here the task is done by the time the
201 answers (`GET /bulk/queue/{taskId}` then says COMPLETE).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, insert, select, update

from dtu.context import TwinContext
from dtu.db import table
from twins.jira import models
from twins.jira.errors import JiraError, NotFound
from twins.jira.service import common, issues
from twins.jira.service.common import ISSUE, ISSUE_KEY

TASK = table(models.BulkTask)
MAX_ISSUES = 1000


def _target(ctx: TwinContext, key: str) -> tuple[Row[Any], Row[Any], Row[Any] | None]:
    """(project, issue type, parent) of a mapping key `<project>,<issueTypeId>[,<parent>]`."""
    parts = [p.strip() for p in key.split(",")]
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise JiraError(
            f"The target '{key}' is invalid: use '<project ID or key>,<issueType ID>[,<parent ID or key>]'."
        )
    try:
        project = common.project_row(ctx, parts[0])
    except NotFound:
        raise JiraError(
            f"The target project '{parts[0]}' does not exist or you do not have access to it."
        ) from None
    itype = common.itype_row(ctx, parts[1])
    if itype is None or itype.id not in (project.issue_types or []):
        raise JiraError(
            f"The issue type '{parts[1]}' is not available in the target project '{project.key}'."
        )
    parent = None
    if len(parts) == 3 and parts[2]:
        try:
            parent = common.issue_row(ctx, parts[2])
        except NotFound:
            raise JiraError(
                f"The target parent '{parts[2]}' does not exist or you do not have access to it."
            ) from None
        if itype.subtask and parent.project_id != project.id:
            raise JiraError("Sub-tasks must be in the same project as their parent.")
    if itype.subtask and parent is None:
        raise JiraError(f"The issue type '{itype.name}' is a sub-task type: the target needs a parent.")
    return project, itype, parent


def _status_map(ctx: TwinContext, mapping: dict[str, Any]) -> dict[str, str]:
    """{source status id: target status id} from `targetStatus`."""
    out: dict[str, str] = {}
    entries = mapping.get("targetStatus") or []
    if not isinstance(entries, list):
        raise JiraError("targetStatus must be a list.")
    for entry in entries:
        statuses = entry.get("statuses") if isinstance(entry, dict) else None
        if not isinstance(statuses, dict):
            raise JiraError("Each targetStatus needs a 'statuses' object.")
        for target, sources in statuses.items():
            if common.status_row(ctx, str(target)) is None or not isinstance(sources, list):
                raise JiraError(f"The target status '{target}' does not exist.")
            for src in sources:
                out[str(src)] = str(target)
    return out


def _plan(
    ctx: TwinContext, data: dict[str, Any]
) -> list[tuple[list[Row[Any]], Row[Any], Row[Any], Row[Any] | None, dict[str, Any]]]:
    mappings = data.get("targetToSourcesMapping")
    if not isinstance(mappings, dict) or not mappings:
        raise JiraError("targetToSourcesMapping must map at least one target to the issues to move.")
    plan = []
    count = 0
    for key, mapping in mappings.items():
        if not isinstance(mapping, dict):
            raise JiraError(f"The mapping of '{key}' must be an object.")
        project, itype, parent = _target(ctx, key)
        idents = mapping.get("issueIdsOrKeys")
        if not isinstance(idents, list) or not idents or not all(isinstance(i, str | int) for i in idents):
            raise JiraError(f"The mapping of '{key}' must list the issueIdsOrKeys to move.")
        rows = []
        for ident in idents:
            try:
                rows.append(common.issue_row(ctx, str(ident)))
            except NotFound:
                raise JiraError(
                    f"Issue '{ident}' does not exist or you do not have permission to see it."
                ) from None
        for row in rows:
            source_type = common.itype_row(ctx, row.issuetype_id)
            if source_type is not None and source_type.subtask != itype.subtask:
                raise JiraError(
                    f"Issue {row.key} cannot become a {itype.name}: moving between sub-task and standard types "
                    "is not supported."
                )
            count += 1 + len(_subtasks(ctx, row))
        plan.append((rows, project, itype, parent, mapping))
    if count > MAX_ISSUES:
        raise JiraError(f"You can't move more than {MAX_ISSUES} issues (including subtasks) at once.")
    return plan


def _subtasks(ctx: TwinContext, row: Row[Any]) -> list[Row[Any]]:
    return list(
        ctx.conn.execute(
            select(ISSUE)
            .where(ISSUE.c.tenant_id == ctx.tenant, ISSUE.c.parent_id == row.id)
            .order_by(ISSUE.c.id)
        ).all()
    )


def _move_one(
    ctx: TwinContext,
    row: Row[Any],
    project: Row[Any],
    itype: Row[Any],
    parent: Row[Any] | None,
    statuses: dict[str, str],
    infer_status: bool,
) -> None:
    workflow = common.workflow_of(ctx, project)
    status = row.status_id
    if status not in (workflow.statuses or []):
        if row.status_id in statuses and statuses[row.status_id] in workflow.statuses:
            status = statuses[row.status_id]
        elif infer_status:
            status = workflow.initial
        else:
            old = common.status_row(ctx, row.status_id)
            raise JiraError(
                f"The status '{old.name if old else row.status_id}' of {row.key} is not in the target workflow: "
                "map it in targetStatus or set inferStatusDefaults."
            )
    old_project = common.project_row(ctx, row.project_id, check=False)
    values: dict[str, Any] = {}
    extra: list[dict[str, Any]] = []
    if project.id != row.project_id:
        number = ctx.ids.next(f"issue-number:{project.id}")
        new_key = f"{project.key}-{number}"
        extra.append(issues.change_item("Key", "key", None, row.key, None, new_key))
        extra.append(
            issues.change_item(
                "project", "project", row.project_id, old_project.name, project.id, project.name
            )
        )
        ctx.conn.execute(insert(ISSUE_KEY).values(tenant_id=ctx.tenant, key=row.key, issue_id=row.id))
        ctx.conn.execute(
            update(ISSUE)
            .where(ISSUE.c.tenant_id == ctx.tenant, ISSUE.c.id == row.id)
            .values(project_id=project.id, key=new_key, number=number)
        )
        values.update(components=[], fix_versions=[], versions=[])
    if itype.id != row.issuetype_id:
        old_type = common.itype_row(ctx, row.issuetype_id)
        extra.append(
            issues.change_item(
                "issuetype",
                "issuetype",
                row.issuetype_id,
                old_type.name if old_type else None,
                itype.id,
                itype.name,
            )
        )
        ctx.conn.execute(
            update(ISSUE)
            .where(ISSUE.c.tenant_id == ctx.tenant, ISSUE.c.id == row.id)
            .values(issuetype_id=itype.id)
        )
    if status != row.status_id:
        old_s, new_s = common.status_row(ctx, row.status_id), common.status_row(ctx, status)
        extra.append(
            issues.change_item(
                "status",
                "status",
                row.status_id,
                old_s.name if old_s else None,
                status,
                new_s.name if new_s else None,
            )
        )
        ctx.conn.execute(
            update(ISSUE)
            .where(ISSUE.c.tenant_id == ctx.tenant, ISSUE.c.id == row.id)
            .values(status_id=status)
        )
    if parent is not None and parent.id != row.parent_id:
        values["parent_id"] = parent.id
    change = issues.apply_change(ctx, row, values, {}, extra)
    if change is not None:
        from twins.jira import events

        events.issue_event(ctx, "jira:issue_updated", row.id, change=change, event_type="issue_moved")


def submit_move(ctx: TwinContext, *, data: dict[str, Any]) -> dict[str, Any]:
    """`POST /bulk/issues/move` (201 `{taskId}`): every mapping checked first (Jira's 400),
    then each issue moved with its sub-tasks; an issue that cannot move is reported by the
    task (`failedAccessibleIssues`) and the others move."""
    plan = _plan(ctx, data)
    processed: list[int] = []
    failed: dict[str, list[str]] = {}
    total = 0
    for rows, project, itype, parent, mapping in plan:
        statuses = _status_map(ctx, mapping)
        infer = mapping.get("inferStatusDefaults") is True
        for row in rows:
            subs = _subtasks(ctx, row)
            total += 1 + len(subs)
            nested = ctx.conn.begin_nested()
            try:
                fresh = common.issue_row(ctx, row.id)
                _move_one(ctx, fresh, project, itype, parent, statuses, infer)
                for sub in subs:
                    _move_one(
                        ctx,
                        common.issue_row(ctx, sub.id),
                        project,
                        common.itype_row(ctx, sub.issuetype_id) or itype,
                        None,
                        statuses,
                        True,
                    )
                nested.commit()
                processed += [int(row.id), *(int(s.id) for s in subs)]
            except JiraError as exc:
                nested.rollback()
                failed[row.id] = [*exc.messages, *exc.errors.values()]
    now = ctx.now()
    task_id = common.next_id(ctx, "bulk-task")
    result = {
        "status": "COMPLETE",
        "progressPercent": 100,
        "totalIssueCount": total,
        "processedAccessibleIssues": processed,
        "failedAccessibleIssues": failed,
        "invalidOrInaccessibleIssueCount": 0,
    }
    ctx.conn.execute(
        insert(TASK).values(
            tenant_id=ctx.tenant,
            id=task_id,
            submitted_by=common.me(ctx).account_id,
            created=now,
            result=result,
        )
    )
    return {"taskId": task_id}


def progress(ctx: TwinContext, *, task_id: str) -> dict[str, Any]:
    """`GET /bulk/queue/{taskId}`: the caller's own bulk task (404 for any other)."""
    row = ctx.conn.execute(
        select(TASK).where(TASK.c.tenant_id == ctx.tenant, TASK.c.id == str(task_id))
    ).first()
    if row is None or row.submitted_by != common.me(ctx).account_id:
        raise NotFound(f"The task {task_id} does not exist or you do not have permission to see it.")
    stamp = int(row.created * 1000)
    return {
        "taskId": row.id,
        "submittedBy": {"accountId": row.submitted_by},
        "created": stamp,
        "started": stamp,
        "updated": stamp,
        **row.result,
    }
