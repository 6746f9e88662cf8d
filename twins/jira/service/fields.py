"""Fields: the system catalogue, custom fields and their value types.

https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-fields/ . Custom
field values are validated and stored here (option ids, account ids, numbers, dates) and
rendered the way Jira renders each type (`{"self","value","id"}` options, user objects...).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, insert, select

from dtu.context import TwinContext
from dtu.pagination import jira_page
from dtu.sql import Prepared
from twins.jira.errors import FieldErrors, Forbidden, JiraError
from twins.jira.service import common
from twins.jira.service.common import FIELD, SPRINT

S = "com.atlassian.jira.plugin.system.customfieldtypes:"
CUSTOM_TYPES: dict[str, tuple[dict[str, Any], str]] = {
    "number": ({"type": "number"}, S + "float"),
    "select": ({"type": "option"}, S + "select"),
    "multiselect": ({"type": "array", "items": "option"}, S + "multiselect"),
    "date": ({"type": "date"}, S + "datepicker"),
    "datetime": ({"type": "datetime"}, S + "datetime"),
    "user": ({"type": "user"}, S + "userpicker"),
    "labels": ({"type": "array", "items": "string"}, S + "labels"),
    "string": ({"type": "string"}, S + "textfield"),
    "textarea": ({"type": "string"}, S + "textarea"),
    "sprint": ({"type": "array", "items": "json"}, "com.pyxis.greenhopper.jira:gh-sprint"),
    "rank": ({"type": "any"}, "com.pyxis.greenhopper.jira:gh-lexo-rank"),
}
TYPE_OF_CUSTOM = {v[1]: k for k, v in CUSTOM_TYPES.items()}

# (id, name, schema, clause names, orderable, navigable, searchable)
SYSTEM: list[tuple[str, str, dict[str, Any] | None, list[str], bool, bool, bool]] = [
    ("issuekey", "Key", None, ["id", "issue", "issuekey", "key"], False, True, False),
    ("summary", "Summary", {"type": "string"}, ["summary"], True, True, True),
    ("description", "Description", {"type": "string"}, ["description"], True, True, True),
    ("environment", "Environment", {"type": "string"}, ["environment"], True, True, True),
    ("issuetype", "Issue Type", {"type": "issuetype"}, ["issuetype", "type"], True, True, True),
    ("project", "Project", {"type": "project"}, ["project"], False, True, True),
    ("status", "Status", {"type": "status"}, ["status"], False, True, True),
    ("statusCategory", "Status Category", {"type": "statusCategory"}, ["statusCategory"], False, True, True),
    ("priority", "Priority", {"type": "priority"}, ["priority"], True, True, True),
    ("resolution", "Resolution", {"type": "resolution"}, ["resolution"], True, True, True),
    ("assignee", "Assignee", {"type": "user"}, ["assignee"], True, True, True),
    ("reporter", "Reporter", {"type": "user"}, ["reporter"], True, True, True),
    ("creator", "Creator", {"type": "user"}, ["creator"], False, True, True),
    ("labels", "Labels", {"type": "array", "items": "string"}, ["labels"], True, True, True),
    ("components", "Components", {"type": "array", "items": "component"}, ["component"], True, True, True),
    ("fixVersions", "Fix versions", {"type": "array", "items": "version"}, ["fixVersion"], True, True, True),
    (
        "versions",
        "Affects versions",
        {"type": "array", "items": "version"},
        ["affectedVersion"],
        True,
        True,
        True,
    ),
    ("duedate", "Due date", {"type": "date"}, ["due", "duedate"], True, True, True),
    ("created", "Created", {"type": "datetime"}, ["created", "createdDate"], False, True, True),
    ("updated", "Updated", {"type": "datetime"}, ["updated", "updatedDate"], False, True, True),
    ("resolutiondate", "Resolved", {"type": "datetime"}, ["resolutiondate", "resolved"], False, True, True),
    (
        "statuscategorychangedate",
        "Status Category Changed",
        {"type": "datetime"},
        ["statusCategoryChangedDate"],
        False,
        True,
        True,
    ),
    ("parent", "Parent", None, ["parent"], True, True, True),
    ("comment", "Comment", {"type": "comments-page"}, ["comment"], True, False, True),
    (
        "issuelinks",
        "Linked Issues",
        {"type": "array", "items": "issuelinks"},
        ["issueLink"],
        True,
        True,
        True,
    ),
    ("subtasks", "Sub-tasks", {"type": "array", "items": "issuelinks"}, ["subtasks"], False, True, True),
    ("attachment", "Attachment", {"type": "array", "items": "attachment"}, ["attachments"], True, True, True),
    ("watches", "Watchers", {"type": "watches"}, ["watchers"], False, True, True),
    ("votes", "Votes", {"type": "votes"}, ["votes"], False, True, True),
    ("worklog", "Log Work", {"type": "array", "items": "worklog"}, ["worklogAuthor"], True, False, True),
    ("timetracking", "Time tracking", {"type": "timetracking"}, [], True, False, True),
    ("lastViewed", "Last Viewed", {"type": "datetime"}, ["lastViewed"], False, True, False),
]
SYSTEM_IDS = {s[0] for s in SYSTEM}
# Fields a create or edit may set (the default screens); the rest are computed.
SETTABLE = {
    "summary",
    "description",
    "environment",
    "issuetype",
    "project",
    "priority",
    "assignee",
    "reporter",
    "labels",
    "components",
    "fixVersions",
    "versions",
    "duedate",
    "parent",
}


def custom_rows(ctx: TwinContext) -> list[Row[Any]]:
    """The site's custom fields, read once per unit of work (a search page renders them often)."""
    memo = common.memo(ctx)
    rows: list[Row[Any]] | None = memo.get("custom_rows")
    if rows is None:
        rows = list(
            common.cached(
                ctx, "jira.fields", None, lambda: tuple(_FIELDS.all(ctx.conn, {"tenant": ctx.tenant}))
            )
        )
        memo["custom_rows"] = rows
    return rows


_FIELDS = Prepared(select(FIELD).where(FIELD.c.tenant_id == bindparam("tenant")).order_by(FIELD.c.id))


def custom_schema(row: Row[Any]) -> dict[str, Any]:
    schema, custom = CUSTOM_TYPES[row.kind]
    return {**schema, "custom": custom, "customId": int(row.id.removeprefix("customfield_"))}


def system_json(spec: tuple[str, str, dict[str, Any] | None, list[str], bool, bool, bool]) -> dict[str, Any]:
    fid, name, schema, clauses, orderable, navigable, searchable = spec
    out: dict[str, Any] = {
        "id": fid,
        "key": fid,
        "name": name,
        "custom": False,
        "orderable": orderable,
        "navigable": navigable,
        "searchable": searchable,
        "clauseNames": clauses,
    }
    if schema is not None:
        out["schema"] = {**schema, "system": fid}
    return out


def custom_json(row: Row[Any]) -> dict[str, Any]:
    num = row.id.removeprefix("customfield_")
    return {
        "id": row.id,
        "key": row.id,
        "name": row.name,
        "untranslatedName": row.name,
        "custom": True,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": [f"cf[{num}]", row.name],
        "schema": custom_schema(row),
    }


def list_fields(ctx: TwinContext) -> list[dict[str, Any]]:
    """`GET /field`: every system and custom field (pycontribs caches names from it)."""
    return [system_json(s) for s in SYSTEM] + [custom_json(r) for r in custom_rows(ctx)]


def search_fields(
    ctx: TwinContext,
    *,
    query: str | None,
    type_: str | None,
    ids: list[str] | None,
    start_at: int,
    max_results: int,
) -> dict[str, Any]:
    """`GET /field/search`: a PageBean, custom fields by default filtered by type/query/id."""
    out = []
    for item in list_fields(ctx):
        kind = "custom" if item["custom"] else "system"
        if type_ and type_ != kind:
            continue
        if ids and item["id"] not in ids:
            continue
        if query and query.lower() not in item["name"].lower() and query.lower() not in item["id"].lower():
            continue
        out.append(item)
    page = out[start_at : start_at + max_results]
    return {
        "self": f"{common.api_base(ctx)}/field/search",
        **jira_page(page, start_at=start_at, max_results=max_results, total=len(out)),
    }


def create_custom_field(
    ctx: TwinContext, *, name: str | None, type_: str | None, description: str | None
) -> dict[str, Any]:
    """`POST /field`: needs site admin; `type` is one of the custom field type keys."""
    if not common.me(ctx).is_admin:
        raise Forbidden("Only Jira administrators can create custom fields.")
    if not name:
        raise FieldErrors({"name": "Field name is required."})
    common.text(name, "name", "field name")
    common.text(description, "description", "description", limit=10**6, required=False)
    kind = TYPE_OF_CUSTOM.get(type_) if isinstance(type_, str) else None
    if kind is None:
        raise FieldErrors({"type": f"Custom field type '{type_}' is not valid."})
    fid = "customfield_" + common.next_id(ctx, "customfield")
    common.memo(ctx).pop("custom_rows", None)
    ctx.conn.execute(
        insert(FIELD).values(
            tenant_id=ctx.tenant, id=fid, name=name, kind=kind, description=description or "", options=[]
        )
    )
    row = ctx.conn.execute(select(FIELD).where(FIELD.c.tenant_id == ctx.tenant, FIELD.c.id == fid)).one()
    return custom_json(row)


# -- custom values ----------------------------------------------------------------------------


def _option(row: Row[Any], value: Any) -> str:
    opts = row.options or []
    if isinstance(value, dict):
        if "id" in value:
            hit = next((o for o in opts if o["id"] == str(value["id"])), None)
            if hit is None:
                raise FieldErrors({row.id: f"Option id '{value['id']}' is not valid"})
            return str(hit["id"])
        if "value" in value:
            hit = next((o for o in opts if o["value"] == value["value"]), None)
            if hit is None:
                raise FieldErrors({row.id: f"Option value '{value['value']}' is not valid"})
            return str(hit["id"])
    raise FieldErrors({row.id: "Specify a valid 'id' or 'name' for " + row.name})


def parse_custom(ctx: TwinContext, row: Row[Any], value: Any) -> Any:
    """A custom field value from the wire as stored (None clears it)."""
    if value is None:
        return None
    kind = row.kind
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise FieldErrors({row.id: "Operation value must be a number."})
        return float(value)
    if kind == "select":
        return _option(row, value)
    if kind == "multiselect":
        if not isinstance(value, list):
            raise FieldErrors({row.id: "Operation value must be an array of options."})
        return [_option(row, v) for v in value]
    if kind == "date":
        if not common.valid_date(value):
            raise FieldErrors({row.id: f"Error parsing date string: {value}"})
        return value
    if kind == "datetime":
        parsed = common.parse_ts(value) if isinstance(value, str) else None
        if parsed is None:
            raise FieldErrors({row.id: f"Error parsing date time string: {value}"})
        return parsed
    if kind == "user":
        ident = value.get("accountId") or value.get("id") if isinstance(value, dict) else None
        if not ident or common.user_row(ctx, str(ident)) is None:
            raise FieldErrors(
                {row.id: "Specified user does not exist or you do not have required permissions"}
            )
        return str(ident)
    if kind == "labels":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise FieldErrors({row.id: "Operation value must be an array of strings."})
        for label in value:
            if " " in label:
                raise FieldErrors({row.id: f"The label '{label}' contains spaces which is invalid."})
        return list(value)
    if kind == "string":
        if not isinstance(value, str):
            raise FieldErrors({row.id: "Operation value must be a string"})
        if len(value) > 255:
            raise FieldErrors(
                {row.id: "The entered text is too long. It exceeds the allowed limit of 255 characters."}
            )
        return value
    if kind == "textarea":
        return common.rich_in(ctx, value, row.id)
    if kind == "sprint":
        sid = value.get("id") if isinstance(value, dict) else value
        if isinstance(sid, bool) or not isinstance(sid, int):
            raise FieldErrors({row.id: "Number value expected as the Sprint id."})
        sprint = ctx.conn.execute(
            select(SPRINT).where(SPRINT.c.tenant_id == ctx.tenant, SPRINT.c.id == sid)
        ).first()
        if sprint is None:
            raise FieldErrors({row.id: f"Sprint with id {sid} does not exist."})
        if sprint.state == "closed":
            raise FieldErrors({row.id: "Issue can be assigned only to active or future sprints."})
        return [sid]
    raise FieldErrors(
        {row.id: f"Field '{row.id}' cannot be set. It is not on the appropriate screen, or unknown."}
    )


def sprint_json(ctx: TwinContext, row: Row[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "state": row.state,
        "boardId": row.board_id,
        "goal": row.goal,
    }
    for key, value in (
        ("startDate", row.start_date),
        ("endDate", row.end_date),
        ("completeDate", row.complete_date),
    ):
        if value is not None:
            out[key] = common.ts(value)
    return out


def render_custom(ctx: TwinContext, row: Row[Any], stored: Any, version: str | None = None) -> Any:
    if stored is None or stored == []:
        return None
    kind = row.kind
    base = common.api_base(ctx, version)
    if kind == "select":
        opt = next((o for o in row.options or [] if o["id"] == stored), None)
        return {
            "self": f"{base}/customFieldOption/{stored}",
            "value": opt["value"] if opt else None,
            "id": stored,
        }
    if kind == "multiselect":
        opts = {o["id"]: o["value"] for o in row.options or []}
        return [{"self": f"{base}/customFieldOption/{s}", "value": opts.get(s), "id": s} for s in stored]
    if kind == "user":
        return common.user_json(ctx, stored, version)
    if kind == "datetime":
        return common.ts(stored)
    if kind == "textarea":
        return common.rich_out(ctx, stored, version)
    if kind == "sprint":
        rows = ctx.conn.execute(
            select(SPRINT)
            .where(SPRINT.c.tenant_id == ctx.tenant, SPRINT.c.id.in_(stored))
            .order_by(SPRINT.c.id)
        ).all()
        return [sprint_json(ctx, r) for r in rows]
    return stored


def display(ctx: TwinContext, row: Row[Any], stored: Any) -> str | None:
    """A value as changelog `fromString`/`toString` show it."""
    if stored is None or stored == []:
        return None
    if row.kind == "select":
        option: str | None = next((o["value"] for o in row.options or [] if o["id"] == stored), stored)
        return option
    if row.kind == "multiselect":
        opts = {o["id"]: o["value"] for o in row.options or []}
        return ",".join(opts.get(s, s) for s in stored)
    if row.kind == "user":
        u = common.user_row(ctx, stored)
        user_name: str | None = u.display_name if u else stored
        return user_name
    if row.kind in ("labels",):
        return " ".join(stored)
    if row.kind == "number":
        return str(int(stored)) if float(stored).is_integer() else str(stored)
    if row.kind == "textarea":
        from twins.jira import adf

        return adf.adf_to_wiki(stored)
    if row.kind == "datetime":
        return common.ts(stored)
    if row.kind == "sprint":
        names = (
            ctx.conn.execute(
                select(SPRINT.c.name).where(SPRINT.c.tenant_id == ctx.tenant, SPRINT.c.id.in_(stored))
            )
            .scalars()
            .all()
        )
        return ", ".join(names)
    return str(stored)


def allowed_values(ctx: TwinContext, row: Row[Any]) -> list[dict[str, Any]] | None:
    if row.kind in ("select", "multiselect"):
        base = common.api_base(ctx)
        return [
            {"self": f"{base}/customFieldOption/{o['id']}", "value": o["value"], "id": o["id"]}
            for o in row.options or []
        ]
    return None


def field_by_name_or_id(ctx: TwinContext, key: str) -> Row[Any] | None:
    for row in custom_rows(ctx):
        if row.id == key or row.name == key:
            return row
    return None


def require_known(ctx: TwinContext, key: str) -> None:
    if key not in SYSTEM_IDS and field_by_name_or_id(ctx, key) is None:
        raise JiraError(
            errors={key: f"Field '{key}' cannot be set. It is not on the appropriate screen, or unknown."}
        )
