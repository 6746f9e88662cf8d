"""Worklogs: time logged on an issue.

https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-worklogs/ .
Durations use Jira's default time tracking (8-hour days, 5-day weeks): `timeSpent` "1d 2h"
is 36000 seconds and is rendered back the same way. Comments are ADF on v3 and wiki text on
v2. Every change fires `worklog_created|updated|deleted` webhooks. Divergence: the
remaining estimate is not tracked (`adjustEstimate` is accepted and ignored).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Row, bindparam, delete, insert, select, update

from dtu.context import TwinContext
from dtu.db import table
from dtu.sql import Prepared
from twins.jira import models
from twins.jira.errors import FieldErrors, Forbidden, NotFound
from twins.jira.service import common

WORKLOG = table(models.Worklog)
ISSUE = common.ISSUE
UNITS = {"w": 5 * 8 * 3600, "d": 8 * 3600, "h": 3600, "m": 60}
MAX_SECONDS = 2**31 - 1  # what one worklog can hold (about 68 years)
_DURATION = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*[wdhm]\s*)+$")


def parse_duration(text: str) -> int | None:
    """`"1w 2d 3h 30m"` -> seconds (a bare number is minutes, as in Jira); None if unreadable."""
    t = text.strip().lower()
    if t.isdigit():
        seconds = int(t) * 60
    elif not _DURATION.match(t):
        return None
    else:
        total = 0.0
        for num, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([wdhm])", t):
            total += float(num) * UNITS[unit]
        if total > MAX_SECONDS:  # also catches inf from absurdly long numbers
            return None
        seconds = int(total)
    return seconds if seconds <= MAX_SECONDS else None


def format_duration(seconds: int) -> str:
    parts = []
    left = seconds
    for unit in ("w", "d", "h", "m"):
        n, left = divmod(left, UNITS[unit])
        if n:
            parts.append(f"{n}{unit}")
    return " ".join(parts) or "0m"


def worklog_json(ctx: TwinContext, row: Row[Any], version: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "self": f"{common.api_base(ctx, version)}/issue/{row.issue_id}/worklog/{row.id}",
        "author": common.user_json(ctx, row.author, version),
        "updateAuthor": common.user_json(ctx, row.update_author, version),
    }
    if row.comment is not None:
        out["comment"] = common.rich_out(ctx, row.comment, version)
    out.update(
        {
            "created": common.ts(row.created),
            "updated": common.ts(row.updated),
            "started": common.ts(row.started),
            "timeSpent": format_duration(row.time_spent_seconds),
            "timeSpentSeconds": row.time_spent_seconds,
            "id": row.id,
            "issueId": row.issue_id,
        }
    )
    return out


def rows_of(ctx: TwinContext, issue_id: str) -> list[Row[Any]]:
    return list(_ROWS_OF.all(ctx.conn, {"tenant": ctx.tenant, "issue": issue_id}))


_ROWS_OF = Prepared(
    select(WORKLOG)
    .where(WORKLOG.c.tenant_id == bindparam("tenant"), WORKLOG.c.issue_id == bindparam("issue"))
    .order_by(WORKLOG.c.started, WORKLOG.c.id)
)


def _values(ctx: TwinContext, data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    if data.get("timeSpentSeconds") is not None:
        secs = data["timeSpentSeconds"]
        if not isinstance(secs, int) or isinstance(secs, bool) or not 0 < secs <= MAX_SECONDS:
            errors["timeLogged"] = "Time Spent must be a positive number of seconds."
        else:
            out["time_spent_seconds"] = secs
    elif data.get("timeSpent") is not None:
        secs_p = parse_duration(str(data["timeSpent"]))
        if secs_p is None or secs_p <= 0:
            errors["timeLogged"] = "Invalid time duration entered."
        else:
            out["time_spent_seconds"] = secs_p
    elif creating:
        errors["timeLogged"] = "You must indicate the time spent working."
    if data.get("started") is not None:
        started = common.parse_ts(str(data["started"]))
        if started is None:
            errors["started"] = (
                "Invalid date format. Please enter the date in the format \"yyyy-MM-dd'T'HH:mm:ss.SSSZ\"."
            )
        else:
            out["started"] = started
    elif creating:
        out["started"] = ctx.now()
    if "comment" in data:
        try:
            out["comment"] = common.rich_in(ctx, data["comment"], "comment")
        except FieldErrors as exc:
            errors.update(exc.errors)
    if errors:
        raise FieldErrors(errors)
    return out


def list_worklogs(ctx: TwinContext, *, issue: str, start_at: int, max_results: int) -> dict[str, Any]:
    """`GET /issue/{key}/worklog`: `{startAt, maxResults, total, worklogs}`, oldest start first."""
    row = common.issue_row(ctx, issue)
    rows = rows_of(ctx, row.id)
    page = rows[start_at : start_at + max_results]
    return {
        "startAt": start_at,
        "maxResults": max_results,
        "total": len(rows),
        "worklogs": [worklog_json(ctx, w) for w in page],
    }


def _touch(ctx: TwinContext, issue_id: str) -> None:
    now = ctx.now()
    ctx.conn.execute(
        update(ISSUE)
        .where(ISSUE.c.tenant_id == ctx.tenant, ISSUE.c.id == issue_id)
        .values(updated=now, written_at=now)
    )


def _emit(ctx: TwinContext, event: str, row: Row[Any]) -> None:
    from twins.jira import events

    events.worklog_event(ctx, event, row.issue_id, worklog_json(ctx, row, "2"))


def add_worklog(ctx: TwinContext, *, issue: str, data: dict[str, Any]) -> dict[str, Any]:
    """`POST /issue/{key}/worklog` (201): `timeSpent` ("2h 30m") or `timeSpentSeconds` is required."""
    row = common.issue_row(ctx, issue)
    values = _values(ctx, data, creating=True)
    wid = common.next_id(ctx, "worklog")
    now = ctx.now()
    me = common.me(ctx).account_id
    ctx.conn.execute(
        insert(WORKLOG).values(
            tenant_id=ctx.tenant,
            id=wid,
            issue_id=row.id,
            author=me,
            update_author=me,
            comment=values.get("comment"),
            started=values["started"],
            time_spent_seconds=values["time_spent_seconds"],
            created=now,
            updated=now,
        )
    )
    _touch(ctx, row.id)
    wrow = _row(ctx, row.id, wid)
    _emit(ctx, "worklog_created", wrow)
    return worklog_json(ctx, wrow)


def _row(ctx: TwinContext, issue_id: str, worklog_id: str) -> Row[Any]:
    wrow = ctx.conn.execute(
        select(WORKLOG).where(
            WORKLOG.c.tenant_id == ctx.tenant, WORKLOG.c.issue_id == issue_id, WORKLOG.c.id == str(worklog_id)
        )
    ).first()
    if wrow is None:
        raise NotFound(f"Cannot find worklog with id: '{worklog_id}'.")
    return wrow


def get_worklog(ctx: TwinContext, *, issue: str, worklog_id: str) -> dict[str, Any]:
    row = common.issue_row(ctx, issue)
    return worklog_json(ctx, _row(ctx, row.id, worklog_id))


def _may_change(ctx: TwinContext, wrow: Row[Any], verb: str) -> None:
    me = common.me(ctx)
    if wrow.author != me.account_id and not me.is_admin:
        raise Forbidden(f"You do not have the permission to {verb} this worklog.")


def update_worklog(ctx: TwinContext, *, issue: str, worklog_id: str, data: dict[str, Any]) -> dict[str, Any]:
    row = common.issue_row(ctx, issue)
    wrow = _row(ctx, row.id, worklog_id)
    _may_change(ctx, wrow, "edit")
    values = _values(ctx, data, creating=False)
    ctx.conn.execute(
        update(WORKLOG)
        .where(WORKLOG.c.tenant_id == ctx.tenant, WORKLOG.c.id == wrow.id)
        .values(**values, update_author=common.me(ctx).account_id, updated=ctx.now())
    )
    _touch(ctx, row.id)
    wrow = _row(ctx, row.id, worklog_id)
    _emit(ctx, "worklog_updated", wrow)
    return worklog_json(ctx, wrow)


def delete_worklog(ctx: TwinContext, *, issue: str, worklog_id: str) -> None:
    row = common.issue_row(ctx, issue)
    wrow = _row(ctx, row.id, worklog_id)
    _may_change(ctx, wrow, "delete")
    _emit(ctx, "worklog_deleted", wrow)
    ctx.conn.execute(delete(WORKLOG).where(WORKLOG.c.tenant_id == ctx.tenant, WORKLOG.c.id == wrow.id))
    _touch(ctx, row.id)
