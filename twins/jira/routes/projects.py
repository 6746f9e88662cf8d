"""Projects, versions, fields, issue types, statuses, priorities, resolutions, link types, create-meta."""

from __future__ import annotations

from fastapi import Request

from twins.jira.dependencies import bool_param, multi
from twins.jira.routes.common import API, Operations, api_router, max_results, query_param, start_at
from twins.jira.service import fields, linktypes, parts, projects, workflows

router = api_router()
ops = Operations(router)
PAGE = {"start_at": start_at, "max_results": max_results}


def _first_type(request: Request) -> str | None:
    return next(iter(multi(request, "type") or []), None)


ops.add("GET", API + "/project", "getAllProjects", projects.list_projects)
ops.add("POST", API + "/project", "createProject", projects.create_project, body=True, status=201)
ops.add(
    "GET",
    API + "/project/search",
    "searchProjects",
    projects.search_projects,
    query={"query": query_param("query"), "keys": lambda r: multi(r, "keys"), **PAGE},
)
ops.add(
    "GET",
    API + "/project/{id_or_key}",
    "getProject",
    projects.get_project,
    query={"expand": lambda r: multi(r, "expand")},
)
ops.add("PUT", API + "/project/{id_or_key}", "updateProject", projects.update_project, body=True)
ops.add(
    "DELETE",
    API + "/project/{id_or_key}",
    "deleteProject",
    projects.delete_project,
    query={"undo": lambda r: bool_param(r, "enableUndo", True)},
)
ops.add("POST", API + "/project/{id_or_key}/restore", "restore", projects.restore_project)
ops.add("GET", API + "/project/{id_or_key}/components", "getProjectComponents", projects.project_components)
ops.add("POST", API + "/component", "createComponent", projects.create_component, body=True, status=201)
ops.add("GET", API + "/component/{component_id}", "getComponent", projects.get_component)
ops.add("PUT", API + "/component/{component_id}", "updateComponent", projects.update_component, body=True)
ops.add(
    "DELETE",
    API + "/component/{component_id}",
    "deleteComponent",
    projects.delete_component,
    query={"move_to": query_param("moveIssuesTo")},
)
ops.add(
    "GET",
    API + "/project/{id_or_key}/component",
    "getProjectComponentsPaginated",
    projects.project_components_paged,
    query={"order_by": query_param("orderBy"), "query": query_param("query"), **PAGE},
)
ops.add(
    "GET",
    API + "/project/{id_or_key}/version",
    "getProjectVersionsPaginated",
    projects.project_versions_paged,
    query={
        "order_by": query_param("orderBy"),
        "query": query_param("query"),
        "status": query_param("status"),
        **PAGE,
    },
)
ops.add(
    "GET",
    API + "/project/{id_or_key}/permissionscheme",
    "getAssignedPermissionScheme",
    projects.project_permission_scheme,
)
ops.add("GET", API + "/permissionscheme", "getAllPermissionSchemes", projects.permission_schemes)
ops.add("GET", API + "/issuesecurityschemes", "getIssueSecuritySchemes", projects.issue_security_schemes)
ops.add(
    "GET", API + "/notificationscheme", "getNotificationSchemes", projects.notification_schemes, query=PAGE
)
ops.add("GET", API + "/projectCategory", "getAllProjectCategories", projects.project_categories)
ops.add(
    "POST",
    API + "/projectCategory",
    "createProjectCategory",
    projects.create_project_category,
    body=True,
    status=201,
)
ops.add(
    "GET", API + "/projectCategory/{category_id}", "getProjectCategoryById", projects.get_project_category
)
ops.add("GET", API + "/priority/{priority_id}", "getPriority", projects.get_priority)
ops.add("GET", API + "/resolution/{resolution_id}", "getResolution", projects.get_resolution)
ops.add("GET", API + "/statuscategory/{id_or_key}", "getStatusCategory", projects.get_status_category)
ops.add(
    "GET",
    API + "/label",
    "getAllLabels",
    projects.all_labels,
    query={"start_at": start_at, "max_results": lambda r: max_results(r, 1000, 1000)},
)
ops.add("GET", API + "/project/{id_or_key}/versions", "getProjectVersions", projects.project_versions)
ops.add("POST", API + "/version", "createVersion", projects.create_version, body=True, status=201)
ops.add("GET", API + "/version/{version_id}", "getVersion", projects.get_version)
ops.add("PUT", API + "/version/{version_id}", "updateVersion", projects.update_version, body=True)
ops.add(
    "DELETE",
    API + "/version/{version_id}",
    "deleteVersion",
    projects.delete_version,
    query={"fix_to": query_param("moveFixIssuesTo"), "affected_to": query_param("moveAffectedIssuesTo")},
)
ops.add("GET", API + "/project/{id_or_key}/statuses", "getAllStatuses", projects.project_statuses)
ops.add("GET", API + "/issuetype", "getIssueAllTypes", projects.all_issue_types)
ops.add(
    "GET",
    API + "/issuetype/project",
    "getIssueTypesForProject",
    projects.project_issue_types,
    query={"project_id": query_param("projectId")},
)
ops.add("GET", API + "/issuetype/{itype_id}", "getIssueType", projects.get_issue_type)
ops.add("GET", API + "/status", "getStatuses", projects.all_statuses)
ops.add("GET", API + "/status/{id_or_name}", "getStatus", projects.get_status)
ops.add("GET", API + "/statuscategory", "getStatusCategories", projects.status_categories)
ops.add("GET", API + "/priority", "getPriorities", projects.priorities)
ops.add("GET", API + "/resolution", "getResolutions", projects.resolutions)
ops.add("GET", API + "/issueLinkType", "getIssueLinkTypes", linktypes.list_link_types)
ops.add(
    "POST", API + "/issueLinkType", "createIssueLinkType", linktypes.create_link_type, body=True, status=201
)
ops.add("GET", API + "/issueLinkType/{type_id}", "getIssueLinkType", linktypes.get_link_type)
ops.add("PUT", API + "/issueLinkType/{type_id}", "updateIssueLinkType", linktypes.update_link_type, body=True)
ops.add("DELETE", API + "/issueLinkType/{type_id}", "deleteIssueLinkType", linktypes.delete_link_type)
ops.add("GET", API + "/field", "getFields", fields.list_fields)
ops.add(
    "POST",
    API + "/field",
    "createCustomField",
    lambda ctx, data: fields.create_custom_field(
        ctx, name=data.get("name"), type_=data.get("type"), description=data.get("description")
    ),
    body=True,
    status=201,
)
ops.add(
    "GET",
    API + "/field/search",
    "getFieldsPaginated",
    fields.search_fields,
    query={"query": query_param("query"), "type_": _first_type, "ids": lambda r: multi(r, "id"), **PAGE},
)
ops.add(
    "GET",
    API + "/issue/createmeta/{id_or_key}/issuetypes",
    "getCreateIssueMetaIssueTypes",
    projects.createmeta_issuetypes,
    query=PAGE,
)
ops.add(
    "GET",
    API + "/issue/createmeta/{id_or_key}/issuetypes/{itype_id}",
    "getCreateIssueMetaIssueTypeId",
    projects.createmeta_fields,
    query=PAGE,
)
ops.add(
    "GET",
    API + "/issue/createmeta",
    "getCreateIssueMeta",
    projects.createmeta,
    query={
        "project_ids": lambda r: multi(r, "projectIds") or [],
        "project_keys": lambda r: multi(r, "projectKeys") or [],
        "itype_ids": lambda r: multi(r, "issuetypeIds") or [],
        "itype_names": lambda r: multi(r, "issuetypeNames") or [],
        "expand": lambda r: multi(r, "expand"),
    },
)
ops.add(
    "GET",
    API + "/workflow/search",
    "getWorkflowsPaginated",
    workflows.search_workflows,
    query={
        "names": lambda r: multi(r, "workflowName") or [],
        "query": query_param("queryString"),
        "expand": lambda r: multi(r, "expand"),
        "order_by": query_param("orderBy"),
        "is_active": query_param("isActive"),
        **PAGE,
    },
)
ops.add(
    "GET",
    API + "/workflow",
    "getAllWorkflows",
    workflows.all_workflows,
    query={"name": query_param("workflowName")},
)
ops.add("GET", API + "/role", "getAllProjectRoles", parts.all_roles)
