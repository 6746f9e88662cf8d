"""Projects, components, versions, issue types, statuses, priorities, resolutions and create-meta.

https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-projects/ ,
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-createmeta-projectidorkey-issuetypes-get ,
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-workflow-statuses/ .
Projects the caller may not browse are invisible (lists skip them, gets answer 404).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Row, delete, insert, select, update

from dtu.context import TwinContext
from dtu.db import table
from dtu.pagination import jira_page
from twins.jira import constants, models
from twins.jira.errors import FieldErrors, Forbidden, JiraError, NotFound
from twins.jira.service import common, fields
from twins.jira.service.common import COMPONENT, ITYPE, PROJECT, STATUS, VERSION


def _itypes(ctx: TwinContext, project: Row[Any]) -> list[Row[Any]]:
    rows = {r.id: r for r in ctx.conn.execute(select(ITYPE).where(ITYPE.c.tenant_id == ctx.tenant)).all()}
    return [rows[i] for i in project.issue_types if i in rows]


def component_json(ctx: TwinContext, row: Row[Any], project: Row[Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "self": f"{common.api_base(ctx)}/component/{row.id}",
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "isAssigneeTypeValid": False,
        "assigneeType": "PROJECT_DEFAULT",
        "realAssigneeType": "PROJECT_DEFAULT",
        "projectId": int(row.project_id),
    }
    if project is not None:
        out["project"] = project.key
    if row.lead:
        out["lead"] = common.user_json(ctx, row.lead)
    return out


def version_json(ctx: TwinContext, row: Row[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "self": f"{common.api_base(ctx)}/version/{row.id}",
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "archived": bool(row.archived),
        "released": bool(row.released),
        "projectId": int(row.project_id),
    }
    if row.release_date:
        out["releaseDate"] = row.release_date
    if row.start_date:
        out["startDate"] = row.start_date
    return out


def project_json(ctx: TwinContext, row: Row[Any], *, expand: list[str] | None = None) -> dict[str, Any]:
    out = common.project_short(ctx, row)
    out.update(
        {
            "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
            "description": row.description,
            "lead": common.user_json(ctx, row.lead),
            "components": [component_json(ctx, c) for c in _components(ctx, row)],
            "issueTypes": [common.itype_json(ctx, t) for t in _itypes(ctx, row)],
            "assigneeType": row.assignee_type,
            "versions": [version_json(ctx, v) for v in _versions(ctx, row)],
            "roles": {},
            "style": "classic",
            "isPrivate": bool(row.browse_groups),
            "properties": {},
        }
    )
    category = (row.schemes or {}).get("projectCategory")
    if category is not None:
        hit = next((r for r in _schemes(ctx, "projectCategory") if r.id == category), None)
        if hit is not None:
            out["projectCategory"] = _category_json(ctx, hit)
    return out


def _components(ctx: TwinContext, project: Row[Any]) -> list[Row[Any]]:
    return list(
        ctx.conn.execute(
            select(COMPONENT)
            .where(COMPONENT.c.tenant_id == ctx.tenant, COMPONENT.c.project_id == project.id)
            .order_by(COMPONENT.c.name)
        ).all()
    )


def _versions(ctx: TwinContext, project: Row[Any]) -> list[Row[Any]]:
    return list(
        ctx.conn.execute(
            select(VERSION)
            .where(VERSION.c.tenant_id == ctx.tenant, VERSION.c.project_id == project.id)
            .order_by(VERSION.c.id)
        ).all()
    )


def list_projects(ctx: TwinContext) -> list[dict[str, Any]]:
    """`GET /project`: every browsable project (deprecated in favour of /project/search, still served)."""
    return [project_json(ctx, p) for p in common.browsable_projects(ctx)]


def search_projects(
    ctx: TwinContext, *, query: str | None, keys: list[str] | None, start_at: int, max_results: int
) -> dict[str, Any]:
    """`GET /project/search`: a PageBean with `isLast` and `nextPage`."""
    rows = common.browsable_projects(ctx)
    if query:
        q = query.lower()
        rows = [r for r in rows if q in r.key.lower() or q in r.name.lower()]
    if keys:
        wanted = {k.upper() for k in keys}
        rows = [r for r in rows if r.key in wanted or r.id in keys]
    page = [project_json(ctx, r) for r in rows[start_at : start_at + max_results]]
    out: dict[str, Any] = {
        "self": f"{common.api_base(ctx)}/project/search?startAt={start_at}&maxResults={max_results}"
    }
    out.update(jira_page(page, start_at=start_at, max_results=max_results, total=len(rows)))
    if not out["isLast"]:
        out["nextPage"] = (
            f"{common.api_base(ctx)}/project/search?startAt={start_at + max_results}&maxResults={max_results}"
        )
    return out


def get_project(ctx: TwinContext, *, id_or_key: str, expand: list[str] | None = None) -> dict[str, Any]:
    return project_json(ctx, common.project_row(ctx, id_or_key), expand=expand)


def create_project(ctx: TwinContext, *, data: dict[str, Any]) -> dict[str, Any]:
    """`POST /project`: site admins only; key `[A-Z][A-Z0-9]{1,9}` and unique, name unique."""
    if not common.me(ctx).is_admin:
        raise Forbidden("You must have global administrator rights in order to create a project.")
    key, name, lead = data.get("key"), data.get("name"), data.get("leadAccountId")
    errors: dict[str, str] = {}
    if not isinstance(key, str) or not key:
        errors["projectKey"] = "You must specify a unique project key, at least 2 characters long."
    elif not re.fullmatch(r"[A-Z][A-Z0-9]{1,9}", key):
        errors["projectKey"] = (
            "Project keys must start with an uppercase letter, followed by one or more "
            "uppercase alphanumeric characters."
        )
    elif ctx.conn.execute(
        select(PROJECT).where(PROJECT.c.tenant_id == ctx.tenant, PROJECT.c.key == key)
    ).first():
        errors["projectKey"] = f"Project '{key}' uses this project key."
    if not isinstance(name, str) or not name:
        errors["projectName"] = "You must specify a valid project name."
    elif len(name) > 80:
        errors["projectName"] = "The project name must not exceed 80 characters in length."
    elif ctx.conn.execute(
        select(PROJECT).where(PROJECT.c.tenant_id == ctx.tenant, PROJECT.c.name == name)
    ).first():
        errors["projectName"] = "A project with that name already exists."
    if lead is not None and common.user_row(ctx, str(lead)) is None:
        errors["projectLead"] = "The project lead specified does not exist."
    ptype = data.get("projectTypeKey", "software")
    if ptype not in ("software", "business", "service_desk"):
        errors["projectTypeKey"] = "The project type key is invalid."
    if data.get("assigneeType", "UNASSIGNED") not in ("PROJECT_LEAD", "UNASSIGNED"):
        errors["assigneeType"] = "The default assignee type is invalid."
    if data.get("description") is not None and not isinstance(data.get("description"), str):
        errors["description"] = "The description must be a string."
    schemes = _project_schemes(ctx, data, errors)
    if errors:
        raise FieldErrors(errors)
    pid = common.next_id(ctx, "project")
    template = data.get("projectTemplateKey") or ""
    workflow = (
        "DTU Software Workflow" if "scrum" in template or "kanban" in template else "DTU Simplified Workflow"
    )
    itypes = [
        r.id
        for r in ctx.conn.execute(
            select(ITYPE.c.id).where(ITYPE.c.tenant_id == ctx.tenant).order_by(ITYPE.c.id)
        ).all()
    ]
    ctx.conn.execute(
        insert(PROJECT).values(
            tenant_id=ctx.tenant,
            id=pid,
            key=key,
            name=name,
            description=data.get("description") or "",
            lead=lead or common.me(ctx).account_id,
            project_type=ptype,
            workflow=workflow,
            issue_types=itypes,
            browse_groups=[],
            roles={},
            assignee_type=data.get("assigneeType", "UNASSIGNED"),
            schemes=schemes,
        )
    )
    _project_event(ctx, "project_created", pid)
    return {"self": f"{common.api_base(ctx)}/project/{pid}", "id": int(pid), "key": key}


def _project_event(ctx: TwinContext, event: str, project_id: str) -> None:
    from twins.jira import events

    row = common.project_row(ctx, project_id, check=False)
    entity = {
        **common.project_short(ctx, row, "2"),
        "id": int(row.id),
        "projectLead": common.user_json(ctx, row.lead, "2"),
        "assigneeType": row.assignee_type,
    }
    events.entity_event(ctx, event, "project", entity)


def _require_admin(ctx: TwinContext, project: Row[Any]) -> None:
    """Site admins, and the project's lead, administer a project."""
    if not common.me(ctx).is_admin and project.lead != common.me(ctx).account_id:
        raise Forbidden("You do not have permission to administer this project.")


def update_project(ctx: TwinContext, *, id_or_key: str, data: dict[str, Any]) -> dict[str, Any]:
    """`PUT /project/{key}`: name, description, lead and default assignee (`project_updated`)."""
    project = common.project_row(ctx, id_or_key)
    _require_admin(ctx, project)
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if "key" in data and data["key"] != project.key:
        errors["projectKey"] = "Changing a project key is not supported by this site."
    if "name" in data:
        name = data["name"]
        if not isinstance(name, str) or not name.strip():
            errors["projectName"] = "You must specify a valid project name."
        elif len(name) > 80:
            errors["projectName"] = "The project name must not exceed 80 characters in length."
        elif ctx.conn.execute(
            select(PROJECT.c.id).where(
                PROJECT.c.tenant_id == ctx.tenant, PROJECT.c.name == name, PROJECT.c.id != project.id
            )
        ).first():
            errors["projectName"] = "A project with that name already exists."
        else:
            values["name"] = name
    if "description" in data:
        values["description"] = str(data["description"] or "")
    if "leadAccountId" in data:
        if common.user_row(ctx, str(data["leadAccountId"])) is None:
            errors["projectLead"] = "The project lead specified does not exist."
        else:
            values["lead"] = str(data["leadAccountId"])
    if "assigneeType" in data:
        if data["assigneeType"] not in ("PROJECT_LEAD", "UNASSIGNED"):
            errors["assigneeType"] = "The default assignee type is invalid."
        else:
            values["assignee_type"] = data["assigneeType"]
    if errors:
        raise FieldErrors(errors)
    if values:
        ctx.conn.execute(
            update(PROJECT)
            .where(PROJECT.c.tenant_id == ctx.tenant, PROJECT.c.id == project.id)
            .values(**values)
        )
        _project_event(ctx, "project_updated", project.id)
    return get_project(ctx, id_or_key=project.id)


def delete_project(ctx: TwinContext, *, id_or_key: str, undo: bool) -> None:
    """`DELETE /project/{key}` (204): to the trash (`enableUndo`, the default:
    `project_soft_deleted`, restorable) or for good (`project_deleted`). Either way the project
    and its issues are gone from every read; its key stays taken."""
    project = common.project_row(ctx, id_or_key)
    if not common.me(ctx).is_admin:
        raise Forbidden("You must have global administrator rights in order to delete a project.")
    ctx.conn.execute(
        update(PROJECT)
        .where(PROJECT.c.tenant_id == ctx.tenant, PROJECT.c.id == project.id)
        .values(deleted_at=ctx.now(), undoable=undo)
    )
    _project_event(ctx, "project_soft_deleted" if undo else "project_deleted", project.id)


def restore_project(ctx: TwinContext, *, id_or_key: str) -> dict[str, Any]:
    """`POST /project/{key}/restore`: back from the trash (`project_restored_deleted`)."""
    ident = str(id_or_key)
    cond = PROJECT.c.id == ident if ident.isdigit() else PROJECT.c.key == ident.upper()
    row = ctx.conn.execute(select(PROJECT).where(PROJECT.c.tenant_id == ctx.tenant, cond)).first()
    if row is None or (row.deleted_at is not None and not row.undoable):
        raise NotFound(f"No project could be found with key '{ident}'.")
    if not common.me(ctx).is_admin:
        raise Forbidden("You must have global administrator rights in order to restore a project.")
    if row.deleted_at is None:
        raise JiraError(f"The project '{row.key}' is not in the trash.")
    ctx.conn.execute(
        update(PROJECT)
        .where(PROJECT.c.tenant_id == ctx.tenant, PROJECT.c.id == row.id)
        .values(deleted_at=None)
    )
    _project_event(ctx, "project_restored_deleted", row.id)
    return get_project(ctx, id_or_key=row.id)


def project_components(ctx: TwinContext, *, id_or_key: str) -> list[dict[str, Any]]:
    project = common.project_row(ctx, id_or_key)
    return [component_json(ctx, c, project) for c in _components(ctx, project)]


def create_component(ctx: TwinContext, *, data: dict[str, Any]) -> dict[str, Any]:
    project = common.project_row(ctx, str(data.get("project") or data.get("projectId") or ""))
    name = common.text(data.get("name"), "name", "component name")
    assert name is not None
    description = common.text(
        data.get("description"), "description", "description", limit=10**6, required=False
    )
    lead = data.get("leadAccountId")
    if lead is not None and (not isinstance(lead, str) or common.user_row(ctx, lead) is None):
        raise FieldErrors({"leadAccountId": "The user does not exist."})
    if any(c.name.lower() == str(name).lower() for c in _components(ctx, project)):
        raise FieldErrors(
            {"name": "A component with the name " + str(name) + " already exists in this project."}
        )
    cid = common.next_id(ctx, "component")
    ctx.conn.execute(
        insert(COMPONENT).values(
            tenant_id=ctx.tenant,
            id=cid,
            project_id=project.id,
            name=name,
            description=description or "",
            lead=lead,
        )
    )
    row = ctx.conn.execute(
        select(COMPONENT).where(COMPONENT.c.tenant_id == ctx.tenant, COMPONENT.c.id == cid)
    ).one()
    return component_json(ctx, row, project)


def project_versions(ctx: TwinContext, *, id_or_key: str) -> list[dict[str, Any]]:
    project = common.project_row(ctx, id_or_key)
    return [version_json(ctx, v) for v in _versions(ctx, project)]


def create_version(ctx: TwinContext, *, data: dict[str, Any]) -> dict[str, Any]:
    project = common.project_row(ctx, str(data.get("projectId") or data.get("project") or ""))
    name = data.get("name")
    if not name:
        raise FieldErrors({"name": "You must specify a valid version name"})
    name = common.text(name, "name", "version name")
    description = common.text(
        data.get("description"), "description", "description", limit=10**6, required=False
    )
    if any(v.name == name for v in _versions(ctx, project)):
        raise FieldErrors({"name": "A version with this name already exists in this project."})
    for key in ("releaseDate", "startDate"):
        if data.get(key) is not None and not common.valid_date(data[key]):
            raise FieldErrors({key: "The date format is invalid; use yyyy-MM-dd."})
    vid = common.next_id(ctx, "version")
    ctx.conn.execute(
        insert(VERSION).values(
            tenant_id=ctx.tenant,
            id=vid,
            project_id=project.id,
            name=name,
            description=description or "",
            released=bool(data.get("released")),
            archived=bool(data.get("archived")),
            release_date=data.get("releaseDate"),
            start_date=data.get("startDate"),
        )
    )
    row = ctx.conn.execute(
        select(VERSION).where(VERSION.c.tenant_id == ctx.tenant, VERSION.c.id == vid)
    ).one()
    _version_event(ctx, "jira:version_created", row)
    return version_json(ctx, row)


def _version_event(ctx: TwinContext, event: str, row: Row[Any]) -> None:
    from twins.jira import events

    entity = {**version_json(ctx, row), "self": f"{common.api_base(ctx, '2')}/version/{row.id}"}
    entity["overdue"] = bool(
        not row.released and row.release_date and row.release_date < (common.ts(ctx.now()) or "")[:10]
    )
    events.entity_event(ctx, event, "version", entity)


def _version(ctx: TwinContext, version_id: str) -> tuple[Row[Any], Row[Any]]:
    row = None
    if str(version_id).isdigit():
        row = ctx.conn.execute(
            select(VERSION).where(VERSION.c.tenant_id == ctx.tenant, VERSION.c.id == str(version_id))
        ).first()
    project = common.project_row(ctx, row.project_id, check=False) if row is not None else None
    if row is None or project is None or not common.can_browse(ctx, project):
        raise NotFound(f"Could not find version for id '{version_id}'")
    return row, project


def get_version(ctx: TwinContext, *, version_id: str) -> dict[str, Any]:
    return version_json(ctx, _version(ctx, version_id)[0])


def update_version(ctx: TwinContext, *, version_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """`PUT /version/{id}`: name, description, dates, released, archived. Events:
    `jira:version_released` / `jira:version_unreleased` when `released` flips, else
    `jira:version_updated`."""
    row, project = _version(ctx, version_id)
    _require_admin(ctx, project)
    values: dict[str, Any] = {}
    if "name" in data:
        name = data["name"]
        if not isinstance(name, str) or not name.strip():
            raise FieldErrors({"name": "You must specify a valid version name"})
        common.text(name, "name", "version name")
        if any(v.name == name and v.id != row.id for v in _versions(ctx, project)):
            raise FieldErrors({"name": "A version with this name already exists in this project."})
        values["name"] = name
    if "description" in data:
        values["description"] = str(data["description"] or "")
    for key, column in (("releaseDate", "release_date"), ("startDate", "start_date")):
        if key in data:
            if data[key] is not None and not common.valid_date(data[key]):
                raise FieldErrors({key: "The date format is invalid; use yyyy-MM-dd."})
            values[column] = data[key]
    for key in ("released", "archived"):
        if key in data:
            if not isinstance(data[key], bool):
                raise FieldErrors({key: f"'{key}' must be true or false."})
            values[key] = data[key]
    if values:
        ctx.conn.execute(
            update(VERSION).where(VERSION.c.tenant_id == ctx.tenant, VERSION.c.id == row.id).values(**values)
        )
        new = _version(ctx, row.id)[0]
        if bool(new.released) != bool(row.released):
            _version_event(ctx, "jira:version_released" if new.released else "jira:version_unreleased", new)
        else:
            _version_event(ctx, "jira:version_updated", new)
    return get_version(ctx, version_id=row.id)


def delete_version(ctx: TwinContext, *, version_id: str, fix_to: str | None, affected_to: str | None) -> None:
    """`DELETE /version/{id}` (204): issues naming it lose it, or name `moveFixIssuesTo` /
    `moveAffectedIssuesTo` instead (`jira:version_deleted`)."""
    from twins.jira.service import issues

    row, project = _version(ctx, version_id)
    _require_admin(ctx, project)
    swaps: dict[str, str | None] = {"fix_versions": fix_to, "versions": affected_to}
    for swap in (t for t in swaps.values() if t is not None):
        other, other_project = _version(ctx, swap)
        if other.id == row.id or other_project.id != project.id:
            raise JiraError(f"The version '{swap}' cannot take this version's issues.")
    for issue in ctx.conn.execute(
        select(common.ISSUE).where(
            common.ISSUE.c.tenant_id == ctx.tenant, common.ISSUE.c.project_id == project.id
        )
    ).all():
        values: dict[str, Any] = {}
        for column, target in swaps.items():
            current = list(getattr(issue, column) or [])
            if row.id in current:
                kept = [v for v in current if v != row.id]
                if target is not None and target not in kept:
                    kept.append(target)
                values[column] = kept
        if values:
            issues.apply_change(ctx, issue, values, {})
    _version_event(ctx, "jira:version_deleted", row)
    ctx.conn.execute(delete(VERSION).where(VERSION.c.tenant_id == ctx.tenant, VERSION.c.id == row.id))


# -- catalogues -------------------------------------------------------------------------------


def all_issue_types(ctx: TwinContext) -> list[dict[str, Any]]:
    rows = ctx.conn.execute(select(ITYPE).where(ITYPE.c.tenant_id == ctx.tenant).order_by(ITYPE.c.id)).all()
    return [common.itype_json(ctx, r) for r in rows]


def get_issue_type(ctx: TwinContext, *, itype_id: str) -> dict[str, Any]:
    row = common.itype_row(ctx, itype_id)
    if row is None:
        raise NotFound("The issue type does not exist or you do not have permission to view it.")
    return common.itype_json(ctx, row)


def project_issue_types(ctx: TwinContext, *, project_id: str | None) -> list[dict[str, Any]]:
    if not project_id:
        raise JiraError("The projectId parameter is required.")
    project = common.project_row(ctx, project_id)
    return [common.itype_json(ctx, t) for t in _itypes(ctx, project)]


def all_statuses(ctx: TwinContext) -> list[dict[str, Any]]:
    rows = ctx.conn.execute(
        select(STATUS).where(STATUS.c.tenant_id == ctx.tenant).order_by(STATUS.c.id)
    ).all()
    return [common.status_json(ctx, r) for r in rows]


def get_status(ctx: TwinContext, *, id_or_name: str) -> dict[str, Any]:
    rows = ctx.conn.execute(select(STATUS).where(STATUS.c.tenant_id == ctx.tenant)).all()
    row = next((r for r in rows if r.id == id_or_name or r.name.lower() == id_or_name.lower()), None)
    if row is None:
        raise NotFound(f"The status with id '{id_or_name}' does not exist")
    return common.status_json(ctx, row)


def status_categories(ctx: TwinContext) -> list[dict[str, Any]]:
    return [common.category_json(ctx, c["id"]) for c in constants.STATUS_CATEGORIES]


def project_statuses(ctx: TwinContext, *, id_or_key: str) -> list[dict[str, Any]]:
    """`GET /project/{key}/statuses`: per issue type, the statuses of its workflow."""
    project = common.project_row(ctx, id_or_key)
    wf = common.workflow_of(ctx, project)
    statuses = [common.status_row(ctx, s) for s in wf.statuses]
    out = []
    for it in _itypes(ctx, project):
        out.append(
            {
                "self": f"{common.api_base(ctx)}/issuetype/{it.id}",
                "id": it.id,
                "name": it.name,
                "subtask": bool(it.subtask),
                "statuses": [common.status_json(ctx, s) for s in statuses if s],
            }
        )
    return out


def priorities(ctx: TwinContext) -> list[dict[str, Any]]:
    out = []
    for p in constants.PRIORITIES:
        item = common.priority_json(ctx, p["id"])
        assert item is not None
        out.append({**item, "statusColor": p["statusColor"], "description": p["description"]})
    return out


def resolutions(ctx: TwinContext) -> list[dict[str, Any]]:
    return [common.resolution_json(ctx, r["id"]) for r in constants.RESOLUTIONS]  # type: ignore[misc]


# -- create-meta ------------------------------------------------------------------------------


def field_meta(ctx: TwinContext, project: Row[Any], itype: Row[Any]) -> list[dict[str, Any]]:
    """The create screen of an issue type: what `create_issue` validates against."""
    base = common.api_base(ctx)
    sys = {s[0]: s for s in fields.SYSTEM}

    def meta(
        fid: str, required: bool, ops: list[str], allowed: list[dict[str, Any]] | None = None, **extra: Any
    ) -> dict[str, Any]:
        spec = fields.system_json(sys[fid])
        out = {
            "required": required,
            "schema": spec.get("schema", {"type": "issuelink", "system": fid}),
            "name": spec["name"],
            "key": fid,
            "fieldId": fid,
            "hasDefaultValue": False,
            "operations": ops,
        }
        if allowed is not None:
            out["allowedValues"] = allowed
        out.update(extra)
        return out

    items = [
        meta("summary", True, ["set"]),
        meta("issuetype", True, [], [common.itype_json(ctx, itype)]),
        meta("project", True, ["set"], [common.project_short(ctx, project)]),
        meta("description", False, ["set"]),
        meta("reporter", True, ["set"], autoCompleteUrl=f"{base}/user/search?query="),
        meta(
            "assignee",
            False,
            ["set"],
            autoCompleteUrl=f"{base}/user/assignable/search?project={project.key}&query=",
        ),
        meta(
            "priority",
            False,
            ["set"],
            [pj for p in constants.PRIORITIES if (pj := common.priority_json(ctx, p["id"])) is not None],
            hasDefaultValue=True,
            defaultValue=common.priority_json(ctx, constants.DEFAULT_PRIORITY),
        ),
        meta(
            "labels",
            False,
            ["add", "set", "remove"],
            autoCompleteUrl=f"{ctx.base_url}/rest/api/1.0/labels/suggest?query=",
        ),
        meta(
            "components",
            False,
            ["add", "set", "remove"],
            [component_json(ctx, c) for c in _components(ctx, project)],
        ),
        meta(
            "fixVersions",
            False,
            ["set", "add", "remove"],
            [version_json(ctx, v) for v in _versions(ctx, project)],
        ),
        meta(
            "versions",
            False,
            ["set", "add", "remove"],
            [version_json(ctx, v) for v in _versions(ctx, project)],
        ),
        meta("duedate", False, ["set"]),
        meta("environment", False, ["set"]),
    ]
    if itype.subtask or itype.hierarchy_level == 0:
        items.append(meta("parent", bool(itype.subtask), ["set"]))
    for row in fields.custom_rows(ctx):
        if row.kind == "rank":
            continue
        item: dict[str, Any] = {
            "required": False,
            "schema": fields.custom_schema(row),
            "name": row.name,
            "key": row.id,
            "fieldId": row.id,
            "hasDefaultValue": False,
            "operations": ["add", "set", "remove"] if row.kind in ("multiselect", "labels") else ["set"],
        }
        allowed = fields.allowed_values(ctx, row)
        if allowed is not None:
            item["allowedValues"] = allowed
        items.append(item)
    return items


def createmeta_issuetypes(
    ctx: TwinContext, *, id_or_key: str, start_at: int, max_results: int
) -> dict[str, Any]:
    """`GET /issue/createmeta/{project}/issuetypes`: a page of the project's issue types."""
    project = common.project_row(ctx, id_or_key)
    types = [common.itype_json(ctx, t) for t in _itypes(ctx, project)]
    page = types[start_at : start_at + max_results]
    return {
        "maxResults": max_results,
        "startAt": start_at,
        "total": len(types),
        "issueTypes": page,
        "values": page,
    }


def createmeta_fields(
    ctx: TwinContext, *, id_or_key: str, itype_id: str, start_at: int, max_results: int
) -> dict[str, Any]:
    """`GET /issue/createmeta/{project}/issuetypes/{id}`: a page of the create screen's fields."""
    project = common.project_row(ctx, id_or_key)
    itype = next((t for t in _itypes(ctx, project) if t.id == itype_id), None)
    if itype is None:
        raise JiraError("The issue type ID is invalid.")
    items = field_meta(ctx, project, itype)
    page = items[start_at : start_at + max_results]
    return {
        "maxResults": max_results,
        "startAt": start_at,
        "total": len(items),
        "fields": page,
        "results": page,
        "values": page,
    }


# -- components -------------------------------------------------------------------------------


def _component(ctx: TwinContext, component_id: str) -> tuple[Row[Any], Row[Any]]:
    row = None
    if str(component_id).isdigit():
        row = ctx.conn.execute(
            select(COMPONENT).where(COMPONENT.c.tenant_id == ctx.tenant, COMPONENT.c.id == str(component_id))
        ).first()
    project = common.project_row(ctx, row.project_id, check=False) if row is not None else None
    if row is None or project is None or not common.can_browse(ctx, project):
        raise NotFound(f"The component with id {component_id} does not exist.")
    return row, project


def get_component(ctx: TwinContext, *, component_id: str) -> dict[str, Any]:
    row, project = _component(ctx, component_id)
    return component_json(ctx, row, project)


def update_component(ctx: TwinContext, *, component_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """`PUT /component/{id}`: name, description, lead; project admins (site admins, the lead)."""
    row, project = _component(ctx, component_id)
    _require_admin(ctx, project)
    values: dict[str, Any] = {}
    if "name" in data:
        name = data["name"]
        if not isinstance(name, str) or not name.strip():
            raise FieldErrors({"name": "The component name must not be empty."})
        if len(name) > 255:
            raise FieldErrors({"name": "The component name must not exceed 255 characters."})
        if any(c.name.lower() == name.lower() and c.id != row.id for c in _components(ctx, project)):
            raise FieldErrors(
                {"name": "A component with the name " + name + " already exists in this project."}
            )
        values["name"] = name
    if "description" in data:
        values["description"] = str(data["description"] or "")
    if "leadAccountId" in data:
        lead = data["leadAccountId"]
        if lead is not None and common.user_row(ctx, str(lead)) is None:
            raise FieldErrors({"leadAccountId": "The user does not exist."})
        values["lead"] = lead
    if "assigneeType" in data and data["assigneeType"] not in (
        "PROJECT_DEFAULT",
        "COMPONENT_LEAD",
        "PROJECT_LEAD",
        "UNASSIGNED",
    ):
        raise FieldErrors({"assigneeType": "The assignee type is invalid."})
    if values:
        ctx.conn.execute(
            update(COMPONENT)
            .where(COMPONENT.c.tenant_id == ctx.tenant, COMPONENT.c.id == row.id)
            .values(**values)
        )
    return get_component(ctx, component_id=row.id)


def delete_component(ctx: TwinContext, *, component_id: str, move_to: str | None) -> None:
    """`DELETE /component/{id}` (204): issues lose it, or get `moveIssuesTo` instead (logged)."""
    from twins.jira.service import issues

    row, project = _component(ctx, component_id)
    _require_admin(ctx, project)
    if move_to is not None:
        try:
            other, other_project = _component(ctx, move_to)
        except NotFound:
            raise NotFound(f"The component with id {move_to} does not exist.") from None
        if other.id == row.id or other_project.id != project.id:
            raise JiraError(f"The component '{move_to}' cannot take this component's issues.")
    for issue in ctx.conn.execute(
        select(common.ISSUE).where(
            common.ISSUE.c.tenant_id == ctx.tenant, common.ISSUE.c.project_id == project.id
        )
    ).all():
        current = list(issue.components or [])
        if row.id in current:
            kept = [c for c in current if c != row.id]
            if move_to is not None and move_to not in kept:
                kept.append(move_to)
            issues.apply_change(ctx, issue, {"components": kept}, {})
    ctx.conn.execute(delete(COMPONENT).where(COMPONENT.c.tenant_id == ctx.tenant, COMPONENT.c.id == row.id))


def _ordered(items: list[Any], order_by: str | None, keys: dict[str, Any]) -> list[Any]:
    if not order_by:
        return items
    field = order_by.lstrip("+-")
    if field not in keys:
        raise JiraError(f"The orderBy value '{order_by}' is not supported.")
    key = keys[field]
    return sorted(items, key=lambda x: (key(x) is None, key(x) or ""), reverse=order_by.startswith("-"))


def _paged(ctx: TwinContext, path: str, values: list[Any], start_at: int, max_results: int) -> dict[str, Any]:
    page = values[start_at : start_at + max_results]
    out: dict[str, Any] = {
        "self": f"{common.api_base(ctx)}/{path}?maxResults={max_results}&startAt={start_at}",
        **jira_page(page, start_at=start_at, max_results=max_results, total=len(values)),
    }
    if not out["isLast"]:
        out["nextPage"] = (
            f"{common.api_base(ctx)}/{path}?maxResults={max_results}&startAt={start_at + max_results}"
        )
    return out


def project_versions_paged(
    ctx: TwinContext,
    *,
    id_or_key: str,
    start_at: int,
    max_results: int,
    order_by: str | None,
    query: str | None,
    status: str | None,
) -> dict[str, Any]:
    """`GET /project/{key}/version`: a PageBean, filtered by `query` (name or description
    contains) and `status` (released, unreleased, archived), ordered by `orderBy`."""
    project = common.project_row(ctx, id_or_key)
    rows = _versions(ctx, project)
    if query:
        q = query.lower()
        rows = [v for v in rows if q in v.name.lower() or q in (v.description or "").lower()]
    if status:
        wanted = {s.strip() for s in status.split(",") if s.strip()}
        if not wanted <= {"released", "unreleased", "archived"}:
            raise JiraError("The status must be one of: released, unreleased, archived.")
        rows = [
            v
            for v in rows
            if ("archived" in wanted and v.archived)
            or ("released" in wanted and v.released and not v.archived)
            or ("unreleased" in wanted and not v.released and not v.archived)
        ]
    rows = _ordered(
        rows,
        order_by,
        {
            "sequence": lambda v: int(v.id),
            "name": lambda v: v.name.lower(),
            "description": lambda v: (v.description or "").lower(),
            "releaseDate": lambda v: v.release_date,
            "startDate": lambda v: v.start_date,
        },
    )
    return _paged(
        ctx, f"project/{project.key}/version", [version_json(ctx, v) for v in rows], start_at, max_results
    )


def project_components_paged(
    ctx: TwinContext,
    *,
    id_or_key: str,
    start_at: int,
    max_results: int,
    order_by: str | None,
    query: str | None,
) -> dict[str, Any]:
    """`GET /project/{key}/component`: a PageBean of components with their `issueCount`."""
    project = common.project_row(ctx, id_or_key)
    rows = _components(ctx, project)
    if query:
        q = query.lower()
        rows = [c for c in rows if q in c.name.lower() or q in (c.description or "").lower()]
    counts: dict[str, int] = {}
    for comps in ctx.conn.execute(
        select(common.ISSUE.c.components).where(
            common.ISSUE.c.tenant_id == ctx.tenant, common.ISSUE.c.project_id == project.id
        )
    ).scalars():
        for cid in comps or []:
            counts[cid] = counts.get(cid, 0) + 1
    items = [{**component_json(ctx, c, project), "issueCount": counts.get(c.id, 0)} for c in rows]
    items = _ordered(
        items,
        order_by,
        {
            "name": lambda c: c["name"].lower(),
            "description": lambda c: (c["description"] or "").lower(),
            "lead": lambda c: (c.get("lead") or {}).get("displayName"),
            "issueCount": lambda c: c["issueCount"],
        },
    )
    return _paged(ctx, f"project/{project.key}/component", items, start_at, max_results)


# -- legacy create-meta -----------------------------------------------------------------------


def createmeta(
    ctx: TwinContext,
    *,
    project_ids: list[str],
    project_keys: list[str],
    itype_ids: list[str],
    itype_names: list[str],
    expand: list[str] | None,
) -> dict[str, Any]:
    """`GET /issue/createmeta` (deprecated, still served; pycontribs' `createmeta()`): the
    browsable projects, filtered by id/key, with their issue types (filtered by id/name) and,
    with `expand=projects.issuetypes.fields`, each type's create screen keyed by field id."""
    projects = common.browsable_projects(ctx)
    if project_ids or project_keys:
        keys = {k.upper() for k in project_keys}
        projects = [p for p in projects if p.id in project_ids or p.key in keys]
    with_fields = any(e.strip() == "projects.issuetypes.fields" for e in expand or [])
    names = {n.lower() for n in itype_names}
    out = []
    for project in projects:
        types = []
        for it in _itypes(ctx, project):
            if (itype_ids or itype_names) and it.id not in itype_ids and it.name.lower() not in names:
                continue
            item = {**common.itype_json(ctx, it), "expand": "fields"}
            if with_fields:
                item["fields"] = {
                    m["key"]: {k: v for k, v in m.items() if k != "fieldId"}
                    for m in field_meta(ctx, project, it)
                }
            types.append(item)
        out.append({**common.project_short(ctx, project), "issuetypes": types})
    return {"expand": "projects", "projects": out}


# -- schemes and categories -------------------------------------------------------------------

SCHEME = table(models.Scheme)


def _schemes(ctx: TwinContext, kind: str) -> list[Row[Any]]:
    rows = ctx.conn.execute(
        select(SCHEME).where(SCHEME.c.tenant_id == ctx.tenant, SCHEME.c.kind == kind)
    ).all()
    return sorted(rows, key=lambda r: int(r.id) if r.id.isdigit() else 0)


def _scheme_json(ctx: TwinContext, row: Row[Any], path: str, **extra: Any) -> dict[str, Any]:
    return {
        **extra,
        "id": int(row.id),
        "self": f"{common.api_base(ctx)}/{path}/{row.id}",
        "name": row.name,
        "description": row.description,
    }


def permission_schemes(ctx: TwinContext) -> dict[str, Any]:
    """`GET /permissionscheme`: the site's permission schemes."""
    expand = "permissions,user,group,projectRole,field,all"
    return {
        "permissionSchemes": [
            _scheme_json(ctx, r, "permissionscheme", expand=expand) for r in _schemes(ctx, "permission")
        ]
    }


def issue_security_schemes(ctx: TwinContext) -> dict[str, Any]:
    """`GET /issuesecurityschemes` (site admins)."""
    if not common.me(ctx).is_admin:
        raise Forbidden("You do not have permission to administer issue security schemes.")
    return {
        "issueSecuritySchemes": [
            _scheme_json(ctx, r, "issuesecurityschemes") for r in _schemes(ctx, "issueSecurity")
        ]
    }


def notification_schemes(ctx: TwinContext, *, start_at: int, max_results: int) -> dict[str, Any]:
    """`GET /notificationscheme`: a PageBean."""
    expand = "notificationSchemeEvents,user,group,projectRole,field,all"
    rows = [_scheme_json(ctx, r, "notificationscheme", expand=expand) for r in _schemes(ctx, "notification")]
    return jira_page(
        rows[start_at : start_at + max_results], start_at=start_at, max_results=max_results, total=len(rows)
    )


def _category_json(ctx: TwinContext, row: Row[Any]) -> dict[str, Any]:
    return {
        "self": f"{common.api_base(ctx)}/projectCategory/{row.id}",
        "id": row.id,
        "name": row.name,
        "description": row.description,
    }


def project_categories(ctx: TwinContext) -> list[dict[str, Any]]:
    return [_category_json(ctx, r) for r in _schemes(ctx, "projectCategory")]


def create_project_category(ctx: TwinContext, *, data: dict[str, Any]) -> dict[str, Any]:
    """`POST /projectCategory` (201, site admins): names unique."""
    if not common.me(ctx).is_admin:
        raise Forbidden("You do not have permission to create project categories.")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise FieldErrors({"name": "The project category name must not be empty."})
    common.text(name, "name", "project category name")
    if any(r.name.lower() == name.lower() for r in _schemes(ctx, "projectCategory")):
        raise FieldErrors({"name": f"The project category '{name}' already exists."})
    cid = common.next_id(ctx, "scheme:projectCategory")
    ctx.conn.execute(
        insert(SCHEME).values(
            tenant_id=ctx.tenant,
            kind="projectCategory",
            id=cid,
            name=name,
            description=common.text(
                data.get("description"), "description", "description", limit=10**6, required=False
            )
            or "",
        )
    )
    return _category_json(ctx, next(r for r in _schemes(ctx, "projectCategory") if r.id == cid))


def get_project_category(ctx: TwinContext, *, category_id: str) -> dict[str, Any]:
    row = next((r for r in _schemes(ctx, "projectCategory") if r.id == category_id), None)
    if row is None:
        raise NotFound(f"The project category with id {category_id} does not exist.")
    return _category_json(ctx, row)


def project_permission_scheme(ctx: TwinContext, *, id_or_key: str) -> dict[str, Any]:
    """`GET /project/{key}/permissionscheme`: the scheme the project was created with."""
    project = common.project_row(ctx, id_or_key)
    sid = str((project.schemes or {}).get("permission", "0"))
    row = next((r for r in _schemes(ctx, "permission") if r.id == sid), None)
    if row is None:
        raise NotFound("The project does not have a permission scheme.")
    return _scheme_json(ctx, row, "permissionscheme", expand="permissions,user,group,projectRole,field,all")


def _project_schemes(ctx: TwinContext, data: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The schemes named by a `POST /project` body (each must exist), by kind."""
    out: dict[str, Any] = {}
    for field, kind in (
        ("permissionScheme", "permission"),
        ("notificationScheme", "notification"),
        ("issueSecurityScheme", "issueSecurity"),
        ("categoryId", "projectCategory"),
    ):
        value = data.get(field)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
            errors[field] = f"The {field} must be a number."
        elif not any(r.id == str(value) for r in _schemes(ctx, kind)):
            what = "project category" if kind == "projectCategory" else f"{kind} scheme"
            errors[field] = (
                f"The {what.replace('issueSecurity', 'issue security')} with id {value} does not exist."
            )
        else:
            out[kind] = str(value)
    return out


# -- catalogue items --------------------------------------------------------------------------


def get_priority(ctx: TwinContext, *, priority_id: str) -> dict[str, Any]:
    hit = next((p for p in priorities(ctx) if p["id"] == priority_id), None)
    if hit is None:
        raise NotFound(f"The priority with id '{priority_id}' does not exist.")
    return hit


def get_resolution(ctx: TwinContext, *, resolution_id: str) -> dict[str, Any]:
    hit = common.resolution_json(ctx, resolution_id)
    if hit is None:
        raise NotFound(f"The resolution with id '{resolution_id}' does not exist.")
    return hit


def get_status_category(ctx: TwinContext, *, id_or_key: str) -> dict[str, Any]:
    hit = next(
        (c for c in constants.STATUS_CATEGORIES if str(c["id"]) == id_or_key or c["key"] == id_or_key), None
    )
    if hit is None:
        raise NotFound(f"The status category with id or key '{id_or_key}' does not exist.")
    return common.category_json(ctx, hit["id"])


def all_labels(ctx: TwinContext, *, start_at: int, max_results: int) -> dict[str, Any]:
    """`GET /label`: every label on the site's issues, sorted, as a PageBean."""
    labels: set[str] = set()
    for value in ctx.conn.execute(
        select(common.ISSUE.c.labels).where(common.ISSUE.c.tenant_id == ctx.tenant)
    ).scalars():
        labels.update(value or [])
    ordered = sorted(labels)
    return jira_page(
        ordered[start_at : start_at + max_results],
        start_at=start_at,
        max_results=max_results,
        total=len(ordered),
    )
