"""Issues: create (validated against the create screen), get, edit, delete, assign,
transitions, comments and the changelog of every change.

https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/ ,
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/ .
Keys are sequential per project (DEMO-1, DEMO-2...) and never reused; ids are numeric
strings. Every change writes a changelog entry with Jira's item shape (`field`, `fieldtype`,
`fieldId`, `from`, `fromString`, `to`, `toString`). Divergence: a comment may accompany any
transition (Jira requires it on the transition screen).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, insert, select, text, update

from dtu.context import TwinContext
from dtu.db import table
from dtu.sql import Prepared
from twins.jira import adf, constants, models
from twins.jira.errors import FieldErrors, Forbidden, JiraError, NotFound
from twins.jira.service import common, fields, projects, worklogs
from twins.jira.service.common import COMPONENT, ISSUE, VERSION

CHANGE = table(models.ChangeGroup)
COMMENT = table(models.Comment)
NOT_ON_SCREEN = "Field '{f}' cannot be set. It is not on the appropriate screen, or unknown."


# -- reading values from the wire -------------------------------------------------------------


def _ref(value: Any, field: str, keys: tuple[str, ...] = ("id", "name")) -> tuple[str, str]:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return ("id" if str(value).isdigit() else keys[-1]), str(value)
    if isinstance(value, dict):
        for k in keys:
            if value.get(k) is not None:
                return k, str(value[k])
    raise FieldErrors({field: f"Specify a valid value for {field}"})


def _user(ctx: TwinContext, value: Any, field: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict) and value.get("accountId") in (None, "-1") and "accountId" in value:
        return None
    ident = value.get("accountId") or value.get("id") if isinstance(value, dict) else None
    if isinstance(value, dict) and ident is None and value.get("name"):
        raise FieldErrors({field: "'name' is not supported in this context; use 'accountId'."})
    if not ident or common.user_row(ctx, str(ident)) is None:
        raise FieldErrors({field: "Specified user does not exist or you do not have required permissions"})
    return str(ident)


def _priority(value: Any) -> str:
    kind, v = _ref(value, "priority")
    hit = next((p for p in constants.PRIORITIES if (p["id"] if kind == "id" else p["name"]) == v), None)
    if hit is None:
        raise FieldErrors(
            {
                "priority": "Specify the Priority (id or name) in the string format"
                if kind == "id" and not v.isdigit()
                else f"Priority {kind} '{v}' is not valid"
            }
        )
    return str(hit["id"])


def _resolution(value: Any) -> str | None:
    if value is None:
        return None
    kind, v = _ref(value, "resolution")
    hit = next((r for r in constants.RESOLUTIONS if (r["id"] if kind == "id" else r["name"]) == v), None)
    if hit is None:
        raise FieldErrors({"resolution": f"Resolution {kind} '{v}' is not valid"})
    return str(hit["id"])


def _named(ctx: TwinContext, table: Any, project: Row[Any], values: Any, field: str, what: str) -> list[str]:
    if not isinstance(values, list):
        raise FieldErrors({field: f"Operation value must be an array of {what}s."})
    rows = ctx.conn.execute(
        select(table).where(table.c.tenant_id == ctx.tenant, table.c.project_id == project.id)
    ).all()
    out = []
    for v in values:
        kind, ident = _ref(v, field)
        hit = next((r for r in rows if (r.id if kind == "id" else r.name) == ident), None)
        if hit is None:
            raise FieldErrors({field: f"{what.capitalize()} {kind} '{ident}' is not valid"})
        out.append(hit.id)
    return out


def _labels(value: Any, field: str = "labels") -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FieldErrors({field: "Operation value must be an array of strings."})
    for label in value:
        if " " in label:
            raise FieldErrors({field: f"The label '{label}' contains spaces which is invalid."})
        if len(label) > 255:
            raise FieldErrors({field: "The label is longer than 255 characters."})
    return list(dict.fromkeys(value))


def _summary(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FieldErrors({"summary": "You must specify a summary of the issue."})
    if "\n" in value or "\r" in value:
        raise FieldErrors({"summary": "Summary can't contain newline characters."})
    if len(value) > 255:
        raise FieldErrors({"summary": "Summary must be less than 255 characters."})
    return value


def _parent(ctx: TwinContext, value: Any) -> Row[Any]:
    _kind, ident = _ref(value, "parent", ("id", "key"))
    try:
        return common.issue_row(ctx, ident)
    except NotFound:
        raise FieldErrors({"parent": f"Could not find issue by id or key: {ident}"}) from None


def _set_value(
    ctx: TwinContext,
    project: Row[Any],
    itype: Row[Any],
    key: str,
    value: Any,
    values: dict[str, Any],
    custom: dict[str, Any],
) -> None:
    """Validate one field value and put it in `values` (columns) or `custom`."""
    if key == "summary":
        values["summary"] = _summary(value)
    elif key in ("description", "environment"):
        values[key] = common.rich_in(ctx, value, key)
    elif key in ("assignee", "reporter"):
        values[key] = _user(ctx, value, key)
        if key == "assignee" and values[key] and not common.can_browse(ctx, project, values[key]):
            raise FieldErrors({"assignee": f"User '{values[key]}' cannot be assigned issues."})
    elif key == "priority":
        values["priority_id"] = _priority(value) if value is not None else None
    elif key == "labels":
        values["labels"] = _labels(value or [])
    elif key == "components":
        values["components"] = _named(ctx, COMPONENT, project, value or [], key, "component")
    elif key in ("fixVersions", "versions"):
        values["fix_versions" if key == "fixVersions" else "versions"] = _named(
            ctx, VERSION, project, value or [], key, "version"
        )
    elif key == "duedate":
        if value is not None and not common.valid_date(value):
            raise FieldErrors({"duedate": f"Error parsing date string: {value}"})
        values["duedate"] = value
    elif key == "parent":
        parent = _parent(ctx, value)
        ptype = common.itype_row(ctx, parent.issuetype_id)
        if itype.subtask and (ptype is None or ptype.subtask):
            raise FieldErrors({"parent": "Given parent work item does not belong to appropriate hierarchy."})
        if not itype.subtask and (ptype is None or ptype.hierarchy_level != itype.hierarchy_level + 1):
            raise FieldErrors({"parent": "Given parent work item does not belong to appropriate hierarchy."})
        if parent.project_id != project.id and itype.subtask:
            raise FieldErrors({"parent": "Sub-tasks must be in the same project as their parent."})
        values["parent_id"] = parent.id
    elif key.startswith("customfield_"):
        row = fields.field_by_name_or_id(ctx, key)
        if row is None or row.kind == "rank":
            raise FieldErrors({key: NOT_ON_SCREEN.format(f=key)})
        custom[key] = fields.parse_custom(ctx, row, value)
    else:
        raise FieldErrors({key: NOT_ON_SCREEN.format(f=key)})


# -- create -----------------------------------------------------------------------------------


def _project_of(ctx: TwinContext, value: Any) -> Row[Any]:
    if value is None:
        raise FieldErrors({"project": "Specify a valid project ID or key"})
    _kind, ident = _ref(value, "project", ("id", "key"))
    try:
        return common.project_row(ctx, ident)
    except NotFound:
        raise FieldErrors({"project": "Specify a valid project ID or key"}) from None


def _itype_of(ctx: TwinContext, project: Row[Any], value: Any) -> Row[Any]:
    if value is None:
        raise FieldErrors({"issuetype": "Specify an issue type"})
    kind, ident = _ref(value, "issuetype")
    for tid in project.issue_types:
        row = common.itype_row(ctx, tid)
        if row is not None and (row.id == ident if kind == "id" else row.name.lower() == ident.lower()):
            return row
    raise FieldErrors({"issuetype": "The issue type selected is invalid."})


def _prepare(
    ctx: TwinContext,
    fields_in: dict[str, Any] | None,
    update: dict[str, Any] | None,
    resolved: tuple[Row[Any], Row[Any]] | None = None,
) -> tuple[Row[Any], dict[str, Any]]:
    """Validate a create (project, issue type and summary required; every other field on the
    create screen and of the right type): the project and the new row's columns, less its
    id, key, number and rank."""
    if fields_in is not None and not isinstance(fields_in, dict):
        raise JiraError("Can not deserialize instance of the issue fields out of a non-object token")
    if update is not None and not isinstance(update, dict):
        raise JiraError("Can not deserialize instance of the issue update out of a non-object token")
    data = dict(fields_in or {})
    if resolved is None:
        project = _project_of(ctx, data.pop("project", None))
        itype = _itype_of(ctx, project, data.pop("issuetype", None))
    else:
        project, itype = resolved
        data.pop("project", None)
        data.pop("issuetype", None)
    me = common.me(ctx).account_id
    values: dict[str, Any] = {
        "reporter": me,
        "priority_id": constants.DEFAULT_PRIORITY,
        "labels": [],
        "components": [],
        "fix_versions": [],
        "versions": [],
    }
    custom: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if "summary" not in data:
        errors["summary"] = "You must specify a summary of the issue."
    if itype.subtask and "parent" not in data:
        errors["parent"] = "Given parent work item does not belong to appropriate hierarchy."
    for key, value in data.items():
        try:
            _set_value(ctx, project, itype, key, value, values, custom)
        except FieldErrors as exc:
            errors.update(exc.errors)
    if errors:
        raise FieldErrors(errors)
    for key, ops in (update or {}).items():
        if key == "comment":
            continue
        for op in ops if isinstance(ops, list) else []:
            if isinstance(op, dict) and "set" in op:
                _set_value(ctx, project, itype, key, op["set"], values, custom)
            elif isinstance(op, dict) and "add" in op and key == "labels":
                values["labels"] = list(dict.fromkeys([*values["labels"], *_labels([op["add"]])]))
    now = ctx.now()
    row = {
        "tenant_id": ctx.tenant,
        "project_id": project.id,
        "issuetype_id": itype.id,
        "status_id": _initial_status(ctx, project),
        "summary": values.get("summary", ""),
        "description": values.get("description"),
        "environment": values.get("environment"),
        "assignee": values.get("assignee"),
        "reporter": values.get("reporter"),
        "creator": me,
        "priority_id": values.get("priority_id"),
        "resolution_id": None,
        "labels": values["labels"],
        "components": values["components"],
        "fix_versions": values["fix_versions"],
        "versions": values["versions"],
        "duedate": values.get("duedate"),
        "parent_id": values.get("parent_id"),
        "custom": {k: v for k, v in custom.items() if v is not None},
        "watchers": [me],
        "voters": [],
        "properties": {},
        "created": now,
        "updated": now,
        "resolutiondate": None,
        "status_changed": now,
        "written_at": now,
    }
    return project, row


def _initial_status(ctx: TwinContext, project: Row[Any]) -> str:
    cache: dict[str, str] = common.memo(ctx).setdefault("initial_status", {})
    if project.workflow not in cache:
        cache[project.workflow] = common.workflow_of(ctx, project).initial
    return cache[project.workflow]


def _identify(row: dict[str, Any], issue_id: str, project: Row[Any], number: int) -> dict[str, Any]:
    """A prepared row's id, key and rank (ids are zero-padded in ranks so that they sort)."""
    return {
        **row,
        "id": issue_id,
        "key": f"{project.key}-{number}",
        "number": number,
        "rank": f"0|i{int(issue_id):08d}:",
    }


# every column is given (`_prepare` and `_identify`), so no column default is left to apply
_INSERT_ISSUE = Prepared(insert(ISSUE), columns=[c.name for c in ISSUE.columns])


def create_issue(
    ctx: TwinContext, *, fields: dict[str, Any] | None, update: dict[str, Any] | None, notify: bool = True
) -> dict[str, Any]:
    """`POST /issue` (201 `{id, key, self}`): validated field by field with Jira's messages."""
    project, prepared = _prepare(ctx, fields, update)
    issue_id = common.next_id(ctx, "issue")
    number = ctx.ids.next(f"issue-number:{project.id}")
    row = _identify(prepared, issue_id, project, number)
    _INSERT_ISSUE.execute(ctx.conn, row)
    for op in (update or {}).get("comment", []) or []:
        if isinstance(op, dict) and isinstance(op.get("add"), dict):
            add_comment(
                ctx,
                issue=issue_id,
                body=op["add"].get("body"),
                visibility=op["add"].get("visibility"),
                notify=False,
            )
    if notify:
        from twins.jira import events

        events.issue_event(ctx, "jira:issue_created", issue_id, event_type="issue_created")
    return {"id": issue_id, "key": row["key"], "self": f"{common.api_base(ctx)}/issue/{issue_id}"}


def create_many(ctx: TwinContext, specs: list[dict[str, Any]]) -> list[str]:
    """Fixture issues (`POST /_dtu/seed`), each validated as `create_issue` validates it but
    written in batches with ids reserved in blocks, so that a site of 100,000 issues loads in
    seconds. No events (a fixture is the site as it already is). Answers the keys, in order."""
    keys: list[str] = []
    pending: list[tuple[Row[Any], dict[str, Any]]] = []
    resolved: dict[str, tuple[Row[Any], Row[Any]]] = {}

    def flush() -> None:
        if not pending:
            return
        first = common.next_ids(ctx, "issue", len(pending))
        numbers: dict[str, int] = {}
        for project, _ in pending:
            numbers[project.id] = numbers.get(project.id, 0) + 1
        next_number = {pid: ctx_reserve(pid, n) for pid, n in numbers.items()}
        rows = []
        for i, (project, prepared) in enumerate(pending):
            number = next_number[project.id]
            next_number[project.id] += 1
            row = _identify(prepared, str(first + i), project, number)
            rows.append(row)
            keys.append(row["key"])
        ctx.conn.execute(insert(ISSUE), rows)
        pending.clear()

    def ctx_reserve(project_id: str, n: int) -> int:
        return common.next_ids(ctx, f"issue-number:{project_id}", n, base=1)

    for spec in specs:
        data = dict(spec)
        if "parent" in data:
            flush()  # the parent may be among the pending rows
        cache_key = repr((data.get("project"), data.get("issuetype")))
        if cache_key not in resolved:
            project = _project_of(ctx, data.get("project"))
            resolved[cache_key] = (project, _itype_of(ctx, project, data.get("issuetype")))
        pending.append(_prepare(ctx, data, None, resolved[cache_key]))
        if len(pending) >= 1000 or "parent" in data:
            flush()
    flush()
    if len(keys) >= 1000 and ctx.conn.dialect.name == "postgresql":
        # fresh statistics, or the planner guesses one row per table and picks poor indexes
        ctx.conn.execute(text("ANALYZE jira_issue"))
    return keys


def bulk_create(ctx: TwinContext, *, updates: list[Any]) -> dict[str, Any]:
    """`POST /issue/bulk`: each issue alone; failures listed by index (`failedElementNumber`)."""
    issues, errors = [], []
    for i, item in enumerate(updates):
        item = item if isinstance(item, dict) else {}
        nested = ctx.conn.begin_nested()
        try:
            issues.append(create_issue(ctx, fields=item.get("fields"), update=item.get("update")))
            nested.commit()
        except JiraError as exc:
            nested.rollback()
            errors.append(
                {
                    "status": exc.status,
                    "elementErrors": {"errorMessages": exc.messages, "errors": exc.errors},
                    "failedElementNumber": i,
                }
            )
    return {"issues": issues, "errors": errors}


# -- rendering --------------------------------------------------------------------------------


def _issue_link_short(ctx: TwinContext, row: Row[Any], version: str | None) -> dict[str, Any]:
    st = common.status_row(ctx, row.status_id)
    it = common.itype_row(ctx, row.issuetype_id)
    return {
        "id": row.id,
        "key": row.key,
        "self": f"{common.api_base(ctx, version)}/issue/{row.id}",
        "fields": {
            "summary": row.summary,
            "status": common.status_json(ctx, st, version) if st else None,
            "priority": common.priority_json(ctx, row.priority_id, version),
            "issuetype": common.itype_json(ctx, it, version) if it else None,
        },
    }


def issue_short(ctx: TwinContext, row: Row[Any], version: str | None = None) -> dict[str, Any]:
    """An issue as links, subtasks and parents show it: key, summary, status, priority, type."""
    return _issue_link_short(ctx, row, version)


def comment_json(
    ctx: TwinContext, row: Row[Any], issue_id: str, version: str | None = None, *, rendered: bool = False
) -> dict[str, Any]:
    """A comment; `rendered` adds `renderedBody` (the `expand=renderedBody` HTML)."""
    out: dict[str, Any] = {
        "self": f"{common.api_base(ctx, version)}/issue/{issue_id}/comment/{row.id}",
        "id": row.id,
        "author": common.user_json(ctx, row.author, version),
        "body": common.rich_out(ctx, row.body, version),
        "updateAuthor": common.user_json(ctx, row.update_author, version),
        "created": common.ts(row.created),
        "updated": common.ts(row.updated),
        "jsdPublic": True,
    }
    if row.visibility:
        out["visibility"] = row.visibility
    if rendered:
        out["renderedBody"] = adf.adf_to_html(row.body)
    return out


def _comments(ctx: TwinContext, issue_id: str) -> list[Row[Any]]:
    return list(_COMMENTS.all(ctx.conn, {"tenant": ctx.tenant, "issue": issue_id}))


_COMMENTS = Prepared(
    select(COMMENT)
    .where(COMMENT.c.tenant_id == bindparam("tenant"), COMMENT.c.issue_id == bindparam("issue"))
    .order_by(COMMENT.c.created, COMMENT.c.id)
)
_COMPONENTS_IN = common.PreparedIn(
    lambda ids: select(COMPONENT).where(
        COMPONENT.c.tenant_id == bindparam("tenant"), COMPONENT.c.id.in_(ids)
    ),
    COMPONENT.c.id,
)
_VERSIONS_IN = common.PreparedIn(
    lambda ids: select(VERSION).where(VERSION.c.tenant_id == bindparam("tenant"), VERSION.c.id.in_(ids)),
    VERSION.c.id,
)
_SUBTASKS = Prepared(
    select(ISSUE)
    .where(ISSUE.c.tenant_id == bindparam("tenant"), ISSUE.c.parent_id == bindparam("parent"))
    .order_by(ISSUE.c.id)
)
_ISSUE_BY_ID = Prepared(
    select(ISSUE).where(ISSUE.c.tenant_id == bindparam("tenant"), ISSUE.c.id == bindparam("id"))
)


def _visible_comment(ctx: TwinContext, row: Row[Any], issue: Row[Any]) -> bool:
    """A restricted comment shows to members of its group or of its project role only."""
    vis = row.visibility
    if not vis:
        return True
    me = common.me(ctx).account_id
    if vis.get("type") == "group":
        return vis.get("value") in common.groups_of(ctx, me)
    if vis.get("type") == "role":
        from twins.jira.service import parts

        project = common.project_row(ctx, issue.project_id, check=False)
        return parts.in_role(ctx, project, str(vis.get("value")), me)
    return True


SYSTEM_KEYS = (
    "summary",
    "description",
    "environment",
    "issuetype",
    "project",
    "status",
    "statusCategory",
    "priority",
    "resolution",
    "assignee",
    "reporter",
    "creator",
    "labels",
    "components",
    "fixVersions",
    "versions",
    "duedate",
    "created",
    "updated",
    "resolutiondate",
    "statuscategorychangedate",
    "lastViewed",
    "comment",
    "subtasks",
    "issuelinks",
    "attachment",
    "watches",
    "votes",
    "worklog",
    "timetracking",
    "timespent",
    "parent",
)


def all_fields(
    ctx: TwinContext, row: Row[Any], version: str | None = None, only: set[str] | None = None
) -> dict[str, Any]:
    """Every field of the issue, as `fields=*all` shows it (or those in `only`: a search page
    asking for three fields must not render comments, worklogs and links of every issue)."""
    v = version
    base = common.api_base(ctx, v)

    def want(*keys: str) -> bool:
        return only is None or any(k in only for k in keys)

    from twins.jira.service import parts

    out: dict[str, Any] = {}
    if want("summary"):
        out["summary"] = row.summary
    if want("description"):
        out["description"] = common.rich_out(ctx, row.description, v)
    if want("environment"):
        out["environment"] = common.rich_out(ctx, row.environment, v)
    if want("issuetype"):
        it = common.itype_row(ctx, row.issuetype_id)
        out["issuetype"] = common.itype_json(ctx, it, v) if it else None
    if want("project"):
        out["project"] = common.project_short(ctx, common.project_row(ctx, row.project_id, check=False), v)
    if want("status", "statusCategory"):
        st = common.status_row(ctx, row.status_id)
        out["status"] = common.status_json(ctx, st, v) if st else None
        out["statusCategory"] = common.category_json(ctx, st.category_id, v) if st else None
    if want("priority"):
        out["priority"] = common.priority_json(ctx, row.priority_id, v)
    if want("resolution"):
        out["resolution"] = common.resolution_json(ctx, row.resolution_id, v)
    for key in ("assignee", "reporter", "creator"):
        if want(key):
            out[key] = common.user_json(ctx, getattr(row, key), v)
    if want("labels"):
        out["labels"] = list(row.labels or [])
    if want("components"):
        # an empty list reads nothing (`IN ()` matches no row)
        wanted_ids = list(row.components or [])
        comps = _COMPONENTS_IN.all(ctx.conn, {"tenant": ctx.tenant}, wanted_ids) if wanted_ids else []
        out["components"] = [
            {"self": f"{base}/component/{c.id}", "id": c.id, "name": c.name, "description": c.description}
            for c in comps
        ]
    if want("fixVersions", "versions"):
        version_ids = [*(row.fix_versions or []), *(row.versions or [])]
        vers = (
            {r.id: r for r in _VERSIONS_IN.all(ctx.conn, {"tenant": ctx.tenant}, version_ids)}
            if version_ids
            else {}
        )
        out["fixVersions"] = [
            projects.version_json(ctx, vers[i]) for i in row.fix_versions or [] if i in vers
        ]
        out["versions"] = [projects.version_json(ctx, vers[i]) for i in row.versions or [] if i in vers]
    if want("duedate"):
        out["duedate"] = row.duedate
    for key, value in (
        ("created", row.created),
        ("updated", row.updated),
        ("resolutiondate", row.resolutiondate),
        ("statuscategorychangedate", row.status_changed),
    ):
        if want(key):
            out[key] = common.ts(value)
    if want("lastViewed"):
        out["lastViewed"] = None
    if want("comment"):
        comments = [c for c in _comments(ctx, row.id) if _visible_comment(ctx, c, row)]
        out["comment"] = {
            "comments": [comment_json(ctx, c, row.id, v) for c in comments],
            "self": f"{base}/issue/{row.id}/comment",
            "maxResults": len(comments),
            "total": len(comments),
            "startAt": 0,
        }
    if want("subtasks"):
        subtasks = _SUBTASKS.all(ctx.conn, {"tenant": ctx.tenant, "parent": row.id})
        out["subtasks"] = [_issue_link_short(ctx, s, v) for s in subtasks]
    if want("issuelinks"):
        out["issuelinks"] = parts.links_of(ctx, row.id)
    if want("attachment"):
        out["attachment"] = parts.attachments_of(ctx, row.id)
    if want("watches"):
        out["watches"] = {
            "self": f"{base}/issue/{row.key}/watchers",
            "watchCount": len(row.watchers or []),
            "isWatching": common.me(ctx).account_id in (row.watchers or []) if ctx.principal else False,
        }
    if want("votes"):
        out["votes"] = {
            "self": f"{base}/issue/{row.key}/votes",
            "votes": len(row.voters or []),
            "hasVoted": common.me(ctx).account_id in (row.voters or []) if ctx.principal else False,
        }
    if want("worklog", "timetracking", "timespent"):
        logs = worklogs.rows_of(ctx, row.id)
        spent = sum(w.time_spent_seconds for w in logs)
        out["worklog"] = {
            "startAt": 0,
            "maxResults": 20,
            "total": len(logs),
            "worklogs": [worklogs.worklog_json(ctx, w, v) for w in logs[:20]],
        }
        out["timetracking"] = (
            {"timeSpent": worklogs.format_duration(spent), "timeSpentSeconds": spent} if logs else {}
        )
        out["timespent"] = spent or None
    if row.parent_id and want("parent"):
        parent = _ISSUE_BY_ID.first(ctx.conn, {"tenant": ctx.tenant, "id": row.parent_id})
        if parent is not None:
            out["parent"] = _issue_link_short(ctx, parent, v)
    for frow in fields.custom_rows(ctx):
        if want(frow.id):
            stored = (row.custom or {}).get(frow.id)
            out[frow.id] = row.rank if frow.kind == "rank" else fields.render_custom(ctx, frow, stored, v)
    return out


NAVIGABLE_EXCLUDED = {"comment", "worklog", "timetracking"}  # not on the navigator


def _needed(ctx: TwinContext, wanted: list[str] | None, default: str) -> set[str] | None:
    """The fields `select_fields` can keep (None: all of them), so that only those are built."""
    spec = wanted if wanted else [default]
    if any(item.strip() in ("*all", "all", "*navigable", "navigable") for item in spec):
        return None
    names = {r.name.lower(): r.id for r in fields.custom_rows(ctx)}
    return {
        names.get(item.strip().lower(), item.strip()) for item in spec if not item.strip().startswith("-")
    }


def select_fields(
    ctx: TwinContext, all_: dict[str, Any], wanted: list[str] | None, default: str = "*all"
) -> dict[str, Any]:
    """Jira's `fields` parameter: ids or names, `*all`, `*navigable`, `-field` to drop one."""
    spec = wanted if wanted else [default]
    names = {r.name.lower(): r.id for r in fields.custom_rows(ctx)}
    include: set[str] = set()
    exclude: set[str] = set()
    for item in spec:
        item = item.strip()
        if item in ("*all", "all"):
            include |= set(all_)
        elif item in ("*navigable", "navigable"):
            include |= set(all_) - NAVIGABLE_EXCLUDED
        elif item.startswith("-"):
            exclude.add(names.get(item[1:].lower(), item[1:]))
        elif item and item not in ("id", "key", "*none"):
            include.add(names.get(item.lower(), item))
    return {k: v for k, v in all_.items() if k in include and k not in exclude}


def issue_json(
    ctx: TwinContext,
    row: Row[Any],
    *,
    wanted: list[str] | None = None,
    expand: list[str] | None = None,
    version: str | None = None,
    default_fields: str = "*all",
) -> dict[str, Any]:
    expand = expand or []
    full = all_fields(ctx, row, version, _needed(ctx, wanted, default_fields))
    out: dict[str, Any] = {
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "id": row.id,
        "self": f"{common.api_base(ctx, version)}/issue/{row.id}",
        "key": row.key,
    }
    chosen = select_fields(ctx, full, wanted, default_fields)
    if chosen or wanted is None or wanted != ["id"]:
        out["fields"] = chosen
    if "renderedFields" in expand:
        out["renderedFields"] = _rendered_fields(ctx, row, chosen, version)
    if "names" in expand:
        catalogue = {f["id"]: f["name"] for f in fields.list_fields(ctx)}
        out["names"] = {k: catalogue.get(k, k) for k in chosen}
    if "schema" in expand:
        catalogue_s = {f["id"]: f.get("schema") for f in fields.list_fields(ctx)}
        out["schema"] = {k: catalogue_s[k] for k in chosen if catalogue_s.get(k)}
    if "transitions" in expand:
        out["transitions"] = transitions(
            ctx, issue=row.id, expand=["transitions.fields"] if "transitions.fields" in expand else []
        )["transitions"]
    if "changelog" in expand:
        hist = _history(ctx, row.id, version)
        out["changelog"] = {"startAt": 0, "maxResults": len(hist), "total": len(hist), "histories": hist}
    if "editmeta" in expand:
        out["editmeta"] = edit_meta(ctx, issue=row.id)
    return out


def _rendered_date(t: float | None) -> str | None:
    """A date as Jira's renderer shows it to a user in UTC (`22/Nov/26 8:45 AM`)."""
    if t is None:
        return None
    dt = datetime.fromtimestamp(t, UTC)
    return (
        dt.strftime("%d/%b/%y ")
        + f"{(dt.hour % 12) or 12}:{dt.minute:02d} "
        + ("AM" if dt.hour < 12 else "PM")
    )


def _rendered_fields(
    ctx: TwinContext, row: Row[Any], chosen: dict[str, Any], version: str | None
) -> dict[str, Any]:
    """`expand=renderedFields`: the chosen fields as HTML (rich text through the wiki renderer,
    comment bodies too, dates as a user reads them); fields without a rendering are null."""
    rendered: dict[str, Any] = {k: None for k in chosen}
    for key, stored in (("description", row.description), ("environment", row.environment)):
        if key in chosen:
            rendered[key] = adf.adf_to_html(stored)
    for key, t in (
        ("created", row.created),
        ("updated", row.updated),
        ("resolutiondate", row.resolutiondate),
        ("statuscategorychangedate", row.status_changed),
    ):
        if key in chosen:
            rendered[key] = _rendered_date(t)
    if "duedate" in chosen and row.duedate:
        rendered["duedate"] = datetime.strptime(row.duedate, "%Y-%m-%d").strftime("%d/%b/%y")
    if "comment" in chosen:
        comments = [c for c in _comments(ctx, row.id) if _visible_comment(ctx, c, row)]
        rendered["comment"] = {
            **chosen["comment"],
            "comments": [
                {
                    **comment_json(ctx, c, row.id, version),
                    "body": adf.adf_to_html(c.body),
                    "created": _rendered_date(c.created),
                    "updated": _rendered_date(c.updated),
                }
                for c in comments
            ],
        }
    return rendered


def get_issue(
    ctx: TwinContext, *, issue: str, wanted: list[str] | None, expand: list[str] | None
) -> dict[str, Any]:
    """`GET /issue/{idOrKey}`: 404 "Issue does not exist or you do not have permission to see it."."""
    return issue_json(ctx, common.issue_row(ctx, issue), wanted=wanted, expand=expand)


def edit_meta(ctx: TwinContext, *, issue: str) -> dict[str, Any]:
    row = common.issue_row(ctx, issue)
    project = common.project_row(ctx, row.project_id, check=False)
    itype = common.itype_row(ctx, row.issuetype_id)
    assert itype is not None
    metas = projects.field_meta(ctx, project, itype)
    return {
        "fields": {
            m["key"]: {k: v for k, v in m.items() if k != "hasDefaultValue"}
            for m in metas
            if m["key"] not in ("project", "issuetype")
        }
    }


# -- changelog --------------------------------------------------------------------------------


def _item(
    field: str, field_id: str, old: Any, old_s: Any, new: Any, new_s: Any, custom: bool = False
) -> dict[str, Any]:
    return {
        "field": field,
        "fieldtype": "custom" if custom else "jira",
        "fieldId": field_id,
        "from": None if old is None else str(old),
        "fromString": old_s,
        "to": None if new is None else str(new),
        "toString": new_s,
    }


def change_item(
    field: str, field_id: str, old: Any, old_s: Any, new: Any, new_s: Any, custom: bool = False
) -> dict[str, Any]:
    """One changelog item in Jira's shape (for changes made outside this module: moves)."""
    return _item(field, field_id, old, old_s, new, new_s, custom)


def record_change(ctx: TwinContext, issue_id: str, items: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not items:
        return None
    cid = common.next_id(ctx, "changelog")
    now = ctx.now()
    ctx.conn.execute(
        insert(CHANGE).values(
            tenant_id=ctx.tenant,
            id=cid,
            issue_id=issue_id,
            author=common.me(ctx).account_id,
            created=now,
            items=items,
        )
    )
    return {"id": cid, "items": items}


def _history(ctx: TwinContext, issue_id: str, version: str | None = None) -> list[dict[str, Any]]:
    rows = ctx.conn.execute(
        select(CHANGE)
        .where(CHANGE.c.tenant_id == ctx.tenant, CHANGE.c.issue_id == issue_id)
        .order_by(CHANGE.c.created, CHANGE.c.id)
    ).all()
    return [
        {
            "id": r.id,
            "author": common.user_json(ctx, r.author, version),
            "created": common.ts(r.created),
            "items": r.items,
        }
        for r in rows
    ]


def changelog(ctx: TwinContext, *, issue: str, start_at: int, max_results: int) -> dict[str, Any]:
    """`GET /issue/{key}/changelog`: a PageBean of change groups, oldest first."""
    row = common.issue_row(ctx, issue)
    hist = _history(ctx, row.id)
    page = hist[start_at : start_at + max_results]
    return {
        "self": f"{common.api_base(ctx)}/issue/{row.key}/changelog?maxResults={max_results}&startAt={start_at}",
        "maxResults": max_results,
        "startAt": start_at,
        "total": len(hist),
        "isLast": start_at + len(page) >= len(hist),
        "values": page,
    }


def _display(ctx: TwinContext, key: str, value: Any) -> str | None:
    if value is None or value == []:
        return None
    if key in ("assignee", "reporter"):
        u = common.user_row(ctx, value)
        user_name: str | None = u.display_name if u else value
        return user_name
    if key == "priority_id":
        priority: str | None = next((p["name"] for p in constants.PRIORITIES if p["id"] == value), value)
        return priority
    if key == "resolution_id":
        resolution: str | None = next((r["name"] for r in constants.RESOLUTIONS if r["id"] == value), value)
        return resolution
    if key in ("description", "environment"):
        return adf.adf_to_wiki(value)
    if key == "labels":
        return " ".join(value)
    if key == "parent_id":
        r = ctx.conn.execute(
            select(ISSUE.c.key).where(ISSUE.c.tenant_id == ctx.tenant, ISSUE.c.id == value)
        ).scalar()
        parent_key: str | None = r or value
        return parent_key
    return str(value)


CHANGE_NAMES = {
    "summary": ("summary", "summary"),
    "description": ("description", "description"),
    "environment": ("environment", "environment"),
    "assignee": ("assignee", "assignee"),
    "reporter": ("reporter", "reporter"),
    "priority_id": ("priority", "priority"),
    "labels": ("labels", "labels"),
    "duedate": ("duedate", "duedate"),
    "resolution_id": ("resolution", "resolution"),
    "parent_id": ("IssueParentAssociation", "parent"),
}


def _items_for(
    ctx: TwinContext, row: Row[Any], values: dict[str, Any], custom: dict[str, Any]
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for col, new in values.items():
        old = getattr(row, col)
        if col == "rank" or old == new or (not old and not new):
            continue
        if col in ("components", "fix_versions", "versions"):
            table = COMPONENT if col == "components" else VERSION
            names = dict(
                ctx.conn.execute(
                    select(table.c.id, table.c.name).where(table.c.tenant_id == ctx.tenant)
                ).all()
            )
            label = {"components": "Component", "fix_versions": "Fix Version", "versions": "Version"}[col]
            fid = {"components": "components", "fix_versions": "fixVersions", "versions": "versions"}[col]
            for removed in [x for x in old or [] if x not in new]:
                items.append(_item(label, fid, removed, names.get(removed), None, None))
            for added in [x for x in new if x not in (old or [])]:
                items.append(_item(label, fid, None, None, added, names.get(added)))
            continue
        name, fid = CHANGE_NAMES.get(col, (col, col))
        raw = col in ("assignee", "reporter", "priority_id", "resolution_id", "parent_id")
        items.append(
            _item(
                name,
                fid,
                old if raw else None,
                _display(ctx, col, old),
                new if raw else None,
                _display(ctx, col, new),
            )
        )
    for fid, new in custom.items():
        frow = fields.field_by_name_or_id(ctx, fid)
        old = (row.custom or {}).get(fid)
        if frow is None or old == new:
            continue
        items.append(
            _item(
                frow.name,
                fid,
                None,
                fields.display(ctx, frow, old),
                None,
                fields.display(ctx, frow, new),
                custom=True,
            )
        )
    return items


def _apply(
    ctx: TwinContext,
    row: Row[Any],
    values: dict[str, Any],
    custom: dict[str, Any],
    extra_items: list[dict[str, Any]] | None = None,
) -> dict[str, Any] | None:
    """Write the changes, log them; answers the change group (None when nothing changed)."""
    items = _items_for(ctx, row, values, custom) + (extra_items or [])
    if not items:
        return None
    merged = dict(row.custom or {})
    for k, v in custom.items():
        if v is None or v == []:
            merged.pop(k, None)
        else:
            merged[k] = v
    now = ctx.now()
    ctx.conn.execute(
        update(ISSUE)
        .where(ISSUE.c.tenant_id == ctx.tenant, ISSUE.c.id == row.id)
        .values(**values, custom=merged, updated=now, written_at=now)
    )
    return record_change(ctx, row.id, items)


def apply_change(
    ctx: TwinContext,
    row: Row[Any],
    values: dict[str, Any],
    custom: dict[str, Any],
    extra_items: list[dict[str, Any]] | None = None,
) -> dict[str, Any] | None:
    """Write changes to an issue and log them (agile moves, ranking): the change group or None."""
    return _apply(ctx, row, values, custom, extra_items)


# -- edit -------------------------------------------------------------------------------------

MULTI = {
    "labels": "labels",
    "components": "components",
    "fixVersions": "fix_versions",
    "versions": "versions",
}


def edit_issue(
    ctx: TwinContext,
    *,
    issue: str,
    fields_in: dict[str, Any] | None,
    update_in: dict[str, Any] | None,
    notify: bool = True,
) -> None:
    """`PUT /issue/{key}` (204): `fields` sets values, `update` applies set/add/remove/edit
    operations; a field may not appear in both."""
    row = common.issue_row(ctx, issue)
    project = common.project_row(ctx, row.project_id, check=False)
    itype = common.itype_row(ctx, row.issuetype_id)
    assert itype is not None
    if fields_in is not None and not isinstance(fields_in, dict):
        raise JiraError("Can not deserialize instance of the issue fields out of a non-object token")
    if update_in is not None and not isinstance(update_in, dict):
        raise JiraError("Can not deserialize instance of the issue update out of a non-object token")
    fields_in = dict(fields_in or {})
    update_in = dict(update_in or {})
    both = set(fields_in) & set(update_in)
    if both:
        f = sorted(both)[0]
        raise FieldErrors({f: f"Field '{f}' cannot be set in both 'fields' and 'update'."})
    values: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, value in fields_in.items():
        if key in ("project", "issuetype"):
            if key == "issuetype":
                new = _itype_of(ctx, project, value)
                if new.id != row.issuetype_id:
                    values["issuetype_id"] = new.id
                continue
            errors[key] = NOT_ON_SCREEN.format(f=key)
            continue
        try:
            _set_value(ctx, project, itype, key, value, values, custom)
        except FieldErrors as exc:
            errors.update(exc.errors)
    comments: list[dict[str, Any]] = []
    for key, ops in update_in.items():
        if not isinstance(ops, list):
            errors[key] = "Operation value must be a list of operations."
            continue
        for op in ops:
            if not isinstance(op, dict) or len(op) != 1:
                errors[key] = "Each operation must have exactly one verb (set, add, remove, edit)."
                continue
            verb, arg = next(iter(op.items()))
            try:
                if key == "comment":
                    if verb != "add" or not isinstance(arg, dict):
                        raise FieldErrors({"comment": f"The '{verb}' operation is not supported by comment."})
                    comments.append(arg)
                elif verb == "set":
                    _set_value(ctx, project, itype, key, arg, values, custom)
                elif verb in ("add", "remove") and (key in MULTI or key.startswith("customfield_")):
                    _multi_op(ctx, project, itype, row, key, verb, arg, values, custom)
                elif verb == "edit" and key in ("summary", "description"):
                    _set_value(ctx, project, itype, key, arg, values, custom)
                else:
                    raise FieldErrors({key: f"The operation '{verb}' is not supported by the '{key}' field."})
            except FieldErrors as exc:
                errors.update(exc.errors)
    if errors:
        raise FieldErrors(errors)
    extra: list[dict[str, Any]] = []
    if "issuetype_id" in values:
        old_t, new_t = common.itype_row(ctx, row.issuetype_id), common.itype_row(ctx, values["issuetype_id"])
        extra.append(
            _item(
                "issuetype",
                "issuetype",
                row.issuetype_id,
                old_t.name if old_t else None,
                values["issuetype_id"],
                new_t.name if new_t else None,
            )
        )
    change = _apply(ctx, row, {k: v for k, v in values.items() if k != "issuetype_id"}, custom, extra)
    if "issuetype_id" in values:
        ctx.conn.execute(
            update(ISSUE)
            .where(ISSUE.c.tenant_id == ctx.tenant, ISSUE.c.id == row.id)
            .values(issuetype_id=values["issuetype_id"])
        )
    for c in comments:
        add_comment(ctx, issue=row.id, body=c.get("body"), visibility=c.get("visibility"), notify=False)
    if notify and (change is not None or comments):
        from twins.jira import events

        events.issue_event(
            ctx,
            "jira:issue_updated",
            row.id,
            change=change,
            event_type="issue_commented" if change is None else "issue_generic",
        )


def _multi_op(
    ctx: TwinContext,
    project: Row[Any],
    itype: Row[Any],
    row: Row[Any],
    key: str,
    verb: str,
    arg: Any,
    values: dict[str, Any],
    custom: dict[str, Any],
) -> None:
    if key in MULTI:
        col = MULTI[key]
        current = list(values.get(col, getattr(row, col)) or [])
        probe: dict[str, Any] = {}
        _set_value(ctx, project, itype, key, [arg], probe, {})
        item = probe[col][0]
    else:
        frow = fields.field_by_name_or_id(ctx, key)
        if frow is None or frow.kind not in ("multiselect", "labels"):
            raise FieldErrors({key: f"The operation '{verb}' is not supported by the '{key}' field."})
        current = list(custom.get(key, (row.custom or {}).get(key)) or [])
        item = fields.parse_custom(ctx, frow, [arg])[0]
    if verb == "add" and item not in current:
        current.append(item)
    elif verb == "remove":
        current = [x for x in current if x != item]
    if key in MULTI:
        values[MULTI[key]] = current
    else:
        custom[key] = current


def delete_issue(ctx: TwinContext, *, issue: str, delete_subtasks: bool) -> None:
    """`DELETE /issue/{key}` (204); an issue with subtasks needs `deleteSubtasks=true`."""
    row = common.issue_row(ctx, issue)
    subs = (
        ctx.conn.execute(
            select(ISSUE.c.id).where(ISSUE.c.tenant_id == ctx.tenant, ISSUE.c.parent_id == row.id)
        )
        .scalars()
        .all()
    )
    if subs and not delete_subtasks:
        raise JiraError(
            f"The issue '{row.key}' has subtasks.  You must specify the 'deleteSubtasks' parameter to "
            "delete this issue and all its subtasks."
        )
    from twins.jira import events

    for sid in [*subs, row.id]:
        events.issue_event(ctx, "jira:issue_deleted", sid, event_type="issue_deleted")
        for tbl in (
            COMMENT,
            CHANGE,
            table(models.Worklog),
            table(models.Attachment),
            table(models.RemoteLink),
            common.ISSUE_KEY,
        ):
            ctx.conn.execute(delete(tbl).where(tbl.c.tenant_id == ctx.tenant, tbl.c.issue_id == sid))
        link = table(models.IssueLink)
        ctx.conn.execute(
            delete(link).where(
                link.c.tenant_id == ctx.tenant,
                (link.c.inward_issue_id == sid) | (link.c.outward_issue_id == sid),
            )
        )
        ctx.conn.execute(delete(ISSUE).where(ISSUE.c.tenant_id == ctx.tenant, ISSUE.c.id == sid))


def assign(ctx: TwinContext, *, issue: str, account_id: Any) -> None:
    """`PUT /issue/{key}/assignee` (204): `accountId` null unassigns; "-1" is the default assignee."""
    row = common.issue_row(ctx, issue)
    project = common.project_row(ctx, row.project_id, check=False)
    if account_id == "-1":
        account_id = project.lead if project.assignee_type == "PROJECT_LEAD" else None
    if account_id is not None:
        if common.user_row(ctx, str(account_id)) is None:
            raise NotFound(f"User '{account_id}' does not exist.")
        if not common.can_browse(ctx, project, str(account_id)):
            raise FieldErrors({"assignee": f"User '{account_id}' cannot be assigned issues."})
    change = _apply(ctx, row, {"assignee": account_id}, {})
    if change is not None:
        from twins.jira import events

        events.issue_event(ctx, "jira:issue_updated", row.id, change=change, event_type="issue_assigned")


# -- transitions ------------------------------------------------------------------------------


def _available(ctx: TwinContext, row: Row[Any]) -> list[dict[str, Any]]:
    project = common.project_row(ctx, row.project_id, check=False)
    wf = common.workflow_of(ctx, project)
    return [t for t in wf.transitions if not t.get("from") or row.status_id in t["from"]]


def transitions(
    ctx: TwinContext, *, issue: str, transition_id: str | None = None, expand: list[str] | None = None
) -> dict[str, Any]:
    """`GET /issue/{key}/transitions`: the workflow edges out of the current status."""
    row = common.issue_row(ctx, issue)
    out = []
    for t in _available(ctx, row):
        if transition_id and t["id"] != transition_id:
            continue
        st = common.status_row(ctx, t["to"])
        item: dict[str, Any] = {
            "id": t["id"],
            "name": t["name"],
            "to": common.status_json(ctx, st) if st else None,
            "hasScreen": bool(t.get("screen")),
            "isGlobal": not t.get("from"),
            "isInitial": False,
            "isAvailable": True,
            "isConditional": False,
            "isLooped": False,
        }
        if expand and "transitions.fields" in expand:
            item["fields"] = {}
            for f in t.get("screen") or []:
                if f == "resolution":
                    item["fields"]["resolution"] = {
                        "required": True,
                        "schema": {"type": "resolution", "system": "resolution"},
                        "name": "Resolution",
                        "key": "resolution",
                        "hasDefaultValue": False,
                        "operations": ["set"],
                        "allowedValues": [
                            common.resolution_json(ctx, r["id"]) for r in constants.RESOLUTIONS
                        ],
                    }
                elif f == "assignee":
                    item["fields"]["assignee"] = {
                        "required": False,
                        "schema": {"type": "user", "system": "assignee"},
                        "name": "Assignee",
                        "key": "assignee",
                        "hasDefaultValue": False,
                        "operations": ["set"],
                    }
        out.append(item)
    return {"expand": "transitions", "transitions": out}


def do_transition(ctx: TwinContext, *, issue: str, data: dict[str, Any]) -> None:
    """`POST /issue/{key}/transitions` (204): only along an edge out of the current status;
    entering a done status sets a resolution (the screen's, or Done), leaving one clears it."""
    row = common.issue_row(ctx, issue, for_update=True)
    t_in = data.get("transition")
    tid = str(t_in.get("id")) if isinstance(t_in, dict) and t_in.get("id") is not None else None
    if tid is None:
        raise JiraError("Missing 'transition' identifier")
    edge = next((t for t in _available(ctx, row) if t["id"] == tid), None)
    if edge is None:
        raise JiraError(f"Transition id '{tid}' is not valid for this issue.")
    screen = set(edge.get("screen") or [])
    if data.get("fields") is not None and not isinstance(data.get("fields"), dict):
        raise JiraError("Can not deserialize instance of the transition fields out of a non-object token")
    if data.get("update") is not None and not isinstance(data.get("update"), dict):
        raise JiraError("Can not deserialize instance of the transition update out of a non-object token")
    fields_in = dict(data.get("fields") or {})
    errors = {f: NOT_ON_SCREEN.format(f=f) for f in fields_in if f not in screen}
    if errors:
        raise FieldErrors(errors)
    old_status = common.status_row(ctx, row.status_id)
    new_status = common.status_row(ctx, edge["to"])
    assert old_status is not None and new_status is not None
    values: dict[str, Any] = {}
    if "assignee" in fields_in:
        values["assignee"] = _user(ctx, fields_in["assignee"], "assignee")
    resolution = _resolution(fields_in["resolution"]) if fields_in.get("resolution") is not None else None
    if new_status.category_id == 3:
        if "resolution" in screen and resolution is None:
            raise FieldErrors({"resolution": "Resolution is required."})
        values["resolution_id"] = resolution or row.resolution_id or constants.RESOLUTIONS[0]["id"]
    elif row.resolution_id is not None:
        values["resolution_id"] = None
    now = ctx.now()
    status_item = _item("status", "status", row.status_id, old_status.name, new_status.id, new_status.name)
    change = _apply(ctx, row, values, {}, [status_item])
    extra: dict[str, Any] = {"status_id": new_status.id}
    if old_status.category_id != new_status.category_id:
        extra["status_changed"] = now
    if new_status.category_id == 3 and old_status.category_id != 3:
        extra["resolutiondate"] = now
    elif new_status.category_id != 3:
        extra["resolutiondate"] = None
    ctx.conn.execute(
        update(ISSUE).where(ISSUE.c.tenant_id == ctx.tenant, ISSUE.c.id == row.id).values(**extra)
    )
    for op in (data.get("update") or {}).get("comment") or []:
        if isinstance(op, dict) and isinstance(op.get("add"), dict):
            add_comment(
                ctx,
                issue=row.id,
                body=op["add"].get("body"),
                visibility=op["add"].get("visibility"),
                notify=False,
            )
    from twins.jira import events

    events.issue_event(ctx, "jira:issue_updated", row.id, change=change, event_type="issue_generic")


# -- comments ---------------------------------------------------------------------------------


def _visibility(ctx: TwinContext, vis: Any, issue: Row[Any]) -> dict[str, Any] | None:
    """A comment's restriction: a group or a project role the author belongs to."""
    if vis is None:
        return None
    if (
        not isinstance(vis, dict)
        or vis.get("type") not in ("group", "role")
        or not isinstance(vis.get("value"), str)
        or not vis.get("value")
    ):
        raise FieldErrors(
            {"commentLevel": "You are currently not a member of the project role or group specified."}
        )
    me = common.me(ctx).account_id
    if vis["type"] == "group" and vis["value"] not in common.groups_of(ctx, me):
        raise FieldErrors({"commentLevel": f"You are currently not a member of the group: {vis['value']}."})
    if vis["type"] == "role":
        from twins.jira.service import parts

        project = common.project_row(ctx, issue.project_id, check=False)
        if not parts.in_role(ctx, project, vis["value"], me):
            raise FieldErrors(
                {"commentLevel": f"You are currently not a member of the project role: {vis['value']}."}
            )
    identifier = vis.get("identifier", vis["value"])
    return {"type": vis["type"], "value": vis["value"], "identifier": str(identifier)}


def add_comment(
    ctx: TwinContext, *, issue: str, body: Any, visibility: Any, notify: bool = True, rendered: bool = False
) -> dict[str, Any]:
    """`POST /issue/{key}/comment` (201): ADF on v3, wiki text on v2; empty bodies refused."""
    row = common.issue_row(ctx, issue)
    if body is None or (isinstance(body, str) and not body.strip()):
        raise FieldErrors({"comment": "Comment body can not be empty!"})
    stored = common.rich_in(ctx, body, "comment")
    assert stored is not None
    if not adf.adf_to_text(stored).strip() and not stored.get("content"):
        raise FieldErrors({"comment": "Comment body can not be empty!"})
    vis = _visibility(ctx, visibility, row)
    cid = common.next_id(ctx, "comment")
    now = ctx.now()
    me = common.me(ctx).account_id
    ctx.conn.execute(
        insert(COMMENT).values(
            tenant_id=ctx.tenant,
            id=cid,
            issue_id=row.id,
            author=me,
            update_author=me,
            body=stored,
            visibility=vis,
            created=now,
            updated=now,
        )
    )
    ctx.conn.execute(
        update(ISSUE)
        .where(ISSUE.c.tenant_id == ctx.tenant, ISSUE.c.id == row.id)
        .values(updated=now, written_at=now)
    )
    crow = ctx.conn.execute(
        select(COMMENT).where(COMMENT.c.tenant_id == ctx.tenant, COMMENT.c.id == cid)
    ).one()
    if notify:
        from twins.jira import events

        events.comment_event(ctx, "comment_created", row.id, crow)
    return comment_json(ctx, crow, row.id, rendered=rendered)


def _comment(ctx: TwinContext, issue: str, comment_id: str) -> tuple[Row[Any], Row[Any]]:
    row = common.issue_row(ctx, issue)
    crow = ctx.conn.execute(
        select(COMMENT).where(
            COMMENT.c.tenant_id == ctx.tenant, COMMENT.c.id == comment_id, COMMENT.c.issue_id == row.id
        )
    ).first()
    if crow is None or not _visible_comment(ctx, crow, row):
        raise NotFound(f"Can not find a comment for the id: {comment_id}.")
    return row, crow


def list_comments(
    ctx: TwinContext,
    *,
    issue: str,
    start_at: int,
    max_results: int,
    order_by: str | None,
    rendered: bool = False,
) -> dict[str, Any]:
    """`GET /issue/{key}/comment`: `{startAt, maxResults, total, comments}` (oldest first)."""
    row = common.issue_row(ctx, issue)
    rows = [c for c in _comments(ctx, row.id) if _visible_comment(ctx, c, row)]
    if order_by in ("-created", "-updated"):
        rows.reverse()
    page = rows[start_at : start_at + max_results]
    return {
        "comments": [comment_json(ctx, c, row.id, rendered=rendered) for c in page],
        "maxResults": max_results,
        "total": len(rows),
        "startAt": start_at,
    }


def get_comment(ctx: TwinContext, *, issue: str, comment_id: str, rendered: bool = False) -> dict[str, Any]:
    row, crow = _comment(ctx, issue, comment_id)
    return comment_json(ctx, crow, row.id, rendered=rendered)


def update_comment(
    ctx: TwinContext, *, issue: str, comment_id: str, body: Any, visibility: Any, rendered: bool = False
) -> dict[str, Any]:
    """Authors edit their own comments; admins anyone's."""
    row, crow = _comment(ctx, issue, comment_id)
    me = common.me(ctx)
    if crow.author != me.account_id and not me.is_admin:
        raise Forbidden("You do not have the permission to edit this comment.")
    if body is None or (isinstance(body, str) and not body.strip()):
        raise FieldErrors({"comment": "Comment body can not be empty!"})
    now = ctx.now()
    ctx.conn.execute(
        update(COMMENT)
        .where(COMMENT.c.tenant_id == ctx.tenant, COMMENT.c.id == crow.id)
        .values(
            body=common.rich_in(ctx, body, "comment"),
            update_author=me.account_id,
            updated=now,
            visibility=_visibility(ctx, visibility, row) if visibility is not None else crow.visibility,
        )
    )
    crow = ctx.conn.execute(
        select(COMMENT).where(COMMENT.c.tenant_id == ctx.tenant, COMMENT.c.id == crow.id)
    ).one()
    from twins.jira import events

    events.comment_event(ctx, "comment_updated", row.id, crow)
    return comment_json(ctx, crow, row.id, rendered=rendered)


def delete_comment(ctx: TwinContext, *, issue: str, comment_id: str) -> None:
    row, crow = _comment(ctx, issue, comment_id)
    me = common.me(ctx)
    if crow.author != me.account_id and not me.is_admin:
        raise Forbidden("You do not have the permission to delete this comment.")
    from twins.jira import events

    events.comment_event(ctx, "comment_deleted", row.id, crow)
    ctx.conn.execute(delete(COMMENT).where(COMMENT.c.tenant_id == ctx.tenant, COMMENT.c.id == crow.id))


def changelog_by_ids(ctx: TwinContext, *, issue: str, data: dict[str, Any]) -> dict[str, Any]:
    """`POST /issue/{key}/changelog/list`: the issue's change groups with the given ids."""
    ids = data.get("changelogIds")
    if (
        not isinstance(ids, list)
        or not ids
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
    ):
        raise FieldErrors({"changelogIds": "changelogIds must be a non-empty list of numbers."})
    if len(ids) > 1000:
        raise FieldErrors({"changelogIds": "At most 1000 changelog ids can be requested."})
    row = common.issue_row(ctx, issue)
    wanted = {str(i) for i in ids}
    hist = [h for h in _history(ctx, row.id) if h["id"] in wanted]
    return {"startAt": 0, "maxResults": len(hist), "total": len(hist), "histories": hist}


def bulk_changelogs(ctx: TwinContext, *, data: dict[str, Any]) -> dict[str, Any]:
    """`POST /changelog/bulkfetch`: the change groups of up to 1000 issues, oldest first,
    optionally only the items of `fieldIds`, paged by `nextPageToken` over change groups."""
    keys = data.get("issueIdsOrKeys")
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str | int) for k in keys):
        raise JiraError("issueIdsOrKeys must list at least one issue id or key.")
    if len(keys) > 1000:
        raise JiraError("At most 1000 issues can be requested.")
    field_ids = data.get("fieldIds") or []
    if (
        not isinstance(field_ids, list)
        or len(field_ids) > 10
        or not all(isinstance(f, str) for f in field_ids)
    ):
        raise JiraError("fieldIds must list at most 10 field ids.")
    size = data.get("maxResults", 1000)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 10000:
        raise JiraError("maxResults must be between 1 and 10000.")
    token = data.get("nextPageToken")
    offset = 0
    if token is not None:
        if not isinstance(token, str) or not token.isdigit():
            raise JiraError("The nextPageToken is invalid.")
        offset = int(token)
    groups: list[tuple[str, dict[str, Any]]] = []
    for ident in dict.fromkeys(str(k) for k in keys):
        try:
            row = common.issue_row(ctx, ident)
        except NotFound:
            continue  # unknown or invisible issues are left out, as Jira does
        for h in _history(ctx, row.id):
            items = [i for i in h["items"] if not field_ids or i.get("fieldId") in field_ids]
            if items:
                groups.append((row.id, {**h, "items": items}))
    page = groups[offset : offset + size]
    out: dict[str, Any] = {"issueChangeLogs": []}
    for issue_id, h in page:
        if not out["issueChangeLogs"] or out["issueChangeLogs"][-1]["issueId"] != issue_id:
            out["issueChangeLogs"].append({"issueId": issue_id, "changeHistories": []})
        out["issueChangeLogs"][-1]["changeHistories"].append(h)
    if offset + size < len(groups):
        out["nextPageToken"] = str(offset + size)
    return out
