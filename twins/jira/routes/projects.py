"""Projects, fields, issue types, statuses, priorities, resolutions, link types, create-meta."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from twins.jira.dependencies import body_object, int_param, multi, run
from twins.jira.routes.common import API, api_router
from twins.jira.service import fields, projects

router = api_router()


def _start(request: Request) -> int:
    return max(0, int_param(request, "startAt", 0) or 0)


def _max(request: Request, default: int = 50) -> int:
    value = int_param(request, "maxResults", default)
    return default if value is None or value <= 0 else min(value, 100)


@router.get(API + "/project", operation_id="getAllProjects")
async def get_all_projects(request: Request) -> Response:
    return await run(request, projects.list_projects)


@router.post(API + "/project", operation_id="createProject")
async def create_project(request: Request) -> Response:
    data = await body_object(request)
    return await run(request, lambda ctx: projects.create_project(ctx, data=data), status=201)


@router.get(API + "/project/search", operation_id="searchProjects")
async def search_projects(request: Request) -> Response:
    return await run(
        request,
        lambda ctx: projects.search_projects(
            ctx,
            query=request.query_params.get("query"),
            keys=multi(request, "keys"),
            start_at=_start(request),
            max_results=_max(request),
        ),
    )


@router.get(API + "/project/{id_or_key}", operation_id="getProject")
async def get_project(request: Request, id_or_key: str) -> Response:
    return await run(
        request, lambda ctx: projects.get_project(ctx, id_or_key=id_or_key, expand=multi(request, "expand"))
    )


@router.get(API + "/project/{id_or_key}/components", operation_id="getProjectComponents")
async def get_project_components(request: Request, id_or_key: str) -> Response:
    return await run(request, lambda ctx: projects.project_components(ctx, id_or_key=id_or_key))


@router.post(API + "/component", operation_id="createComponent")
async def create_component(request: Request) -> Response:
    data = await body_object(request)
    return await run(request, lambda ctx: projects.create_component(ctx, data=data), status=201)


@router.get(API + "/project/{id_or_key}/versions", operation_id="getProjectVersions")
async def get_project_versions(request: Request, id_or_key: str) -> Response:
    return await run(request, lambda ctx: projects.project_versions(ctx, id_or_key=id_or_key))


@router.post(API + "/version", operation_id="createVersion")
async def create_version(request: Request) -> Response:
    data = await body_object(request)
    return await run(request, lambda ctx: projects.create_version(ctx, data=data), status=201)


@router.get(API + "/project/{id_or_key}/statuses", operation_id="getAllStatuses")
async def get_project_statuses(request: Request, id_or_key: str) -> Response:
    return await run(request, lambda ctx: projects.project_statuses(ctx, id_or_key=id_or_key))


@router.get(API + "/issuetype", operation_id="getIssueAllTypes")
async def get_issue_all_types(request: Request) -> Response:
    return await run(request, projects.all_issue_types)


@router.get(API + "/issuetype/project", operation_id="getIssueTypesForProject")
async def get_issue_types_for_project(request: Request) -> Response:
    return await run(
        request,
        lambda ctx: projects.project_issue_types(ctx, project_id=request.query_params.get("projectId")),
    )


@router.get(API + "/issuetype/{itype_id}", operation_id="getIssueType")
async def get_issue_type(request: Request, itype_id: str) -> Response:
    return await run(request, lambda ctx: projects.get_issue_type(ctx, itype_id=itype_id))


@router.get(API + "/status", operation_id="getStatuses")
async def get_statuses(request: Request) -> Response:
    return await run(request, projects.all_statuses)


@router.get(API + "/status/{id_or_name}", operation_id="getStatus")
async def get_status(request: Request, id_or_name: str) -> Response:
    return await run(request, lambda ctx: projects.get_status(ctx, id_or_name=id_or_name))


@router.get(API + "/statuscategory", operation_id="getStatusCategories")
async def get_status_categories(request: Request) -> Response:
    return await run(request, projects.status_categories)


@router.get(API + "/priority", operation_id="getPriorities")
async def get_priorities(request: Request) -> Response:
    return await run(request, projects.priorities)


@router.get(API + "/resolution", operation_id="getResolutions")
async def get_resolutions(request: Request) -> Response:
    return await run(request, projects.resolutions)


@router.get(API + "/issueLinkType", operation_id="getIssueLinkTypes")
async def get_issue_link_types(request: Request) -> Response:
    return await run(request, projects.link_types)


@router.get(API + "/field", operation_id="getFields")
async def get_fields(request: Request) -> Response:
    return await run(request, fields.list_fields)


@router.post(API + "/field", operation_id="createCustomField")
async def create_custom_field(request: Request) -> Response:
    data = await body_object(request)
    return await run(
        request,
        lambda ctx: fields.create_custom_field(
            ctx, name=data.get("name"), type_=data.get("type"), description=data.get("description")
        ),
        status=201,
    )


@router.get(API + "/field/search", operation_id="getFieldsPaginated")
async def get_fields_paginated(request: Request) -> Response:
    q = request.query_params
    return await run(
        request,
        lambda ctx: fields.search_fields(
            ctx,
            query=q.get("query"),
            type_=next(iter(multi(request, "type") or []), None),
            ids=multi(request, "id"),
            start_at=_start(request),
            max_results=_max(request),
        ),
    )


@router.get(API + "/issue/createmeta/{id_or_key}/issuetypes", operation_id="getCreateIssueMetaIssueTypes")
async def get_createmeta_issuetypes(request: Request, id_or_key: str) -> Response:
    return await run(
        request,
        lambda ctx: projects.createmeta_issuetypes(
            ctx, id_or_key=id_or_key, start_at=_start(request), max_results=_max(request)
        ),
    )


@router.get(
    API + "/issue/createmeta/{id_or_key}/issuetypes/{itype_id}", operation_id="getCreateIssueMetaIssueTypeId"
)
async def get_createmeta_fields(request: Request, id_or_key: str, itype_id: str) -> Response:
    return await run(
        request,
        lambda ctx: projects.createmeta_fields(
            ctx, id_or_key=id_or_key, itype_id=itype_id, start_at=_start(request), max_results=_max(request)
        ),
    )
