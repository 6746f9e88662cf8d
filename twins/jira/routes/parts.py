"""The parts of an issue besides fields and comments: worklogs, links, remote links,
watchers, votes, attachments and entity properties."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from twins.jira import constants
from twins.jira.dependencies import body, body_object, int_param, run, run_raw
from twins.jira.errors import JSON, JiraError
from twins.jira.routes.common import API, api_router
from twins.jira.service import parts, worklogs

router = api_router()
applinks = APIRouter()


@router.get(API + "/issue/{issue}/worklog", operation_id="getIssueWorklog")
async def get_issue_worklog(request: Request, issue: str) -> Response:
    start = max(0, int_param(request, "startAt", 0) or 0)
    size = min(5000, max(1, int_param(request, "maxResults", 5000) or 5000))
    return await run(
        request, lambda ctx: worklogs.list_worklogs(ctx, issue=issue, start_at=start, max_results=size)
    )


@router.post(API + "/issue/{issue}/worklog", operation_id="addWorklog")
async def add_worklog(request: Request, issue: str) -> Response:
    data = await body_object(request)
    return await run(request, lambda ctx: worklogs.add_worklog(ctx, issue=issue, data=data), status=201)


@router.get(API + "/issue/{issue}/worklog/{worklog_id}", operation_id="getWorklog")
async def get_worklog(request: Request, issue: str, worklog_id: str) -> Response:
    return await run(request, lambda ctx: worklogs.get_worklog(ctx, issue=issue, worklog_id=worklog_id))


@router.put(API + "/issue/{issue}/worklog/{worklog_id}", operation_id="updateWorklog")
async def update_worklog(request: Request, issue: str, worklog_id: str) -> Response:
    data = await body_object(request)
    return await run(
        request, lambda ctx: worklogs.update_worklog(ctx, issue=issue, worklog_id=worklog_id, data=data)
    )


@router.delete(API + "/issue/{issue}/worklog/{worklog_id}", operation_id="deleteWorklog")
async def delete_worklog(request: Request, issue: str, worklog_id: str) -> Response:
    return await run(request, lambda ctx: worklogs.delete_worklog(ctx, issue=issue, worklog_id=worklog_id))


# -- issue links ------------------------------------------------------------------------------


@router.post(API + "/issueLink", operation_id="linkIssues")
async def link_issues(request: Request) -> Response:
    data = await body_object(request)
    await run(request, lambda ctx: parts.create_link(ctx, data=data))
    return Response(status_code=201)


@router.get(API + "/issueLink/{link_id}", operation_id="getIssueLink")
async def get_issue_link(request: Request, link_id: str) -> Response:
    return await run(request, lambda ctx: parts.get_link(ctx, link_id=link_id))


@router.delete(API + "/issueLink/{link_id}", operation_id="deleteIssueLink")
async def delete_issue_link(request: Request, link_id: str) -> Response:
    return await run(request, lambda ctx: parts.delete_link(ctx, link_id=link_id))


@router.get(API + "/issueLinkType/{type_id}", operation_id="getIssueLinkType")
async def get_issue_link_type(request: Request, type_id: str) -> Response:
    return await run(request, lambda ctx: parts.get_link_type(ctx, type_id=type_id))


# -- remote links -----------------------------------------------------------------------------


@router.get(API + "/issue/{issue}/remotelink", operation_id="getRemoteIssueLinks")
async def get_remote_links(request: Request, issue: str) -> Response:
    gid = request.query_params.get("globalId")
    return await run(request, lambda ctx: parts.list_remote(ctx, issue=issue, global_id=gid))


@router.post(API + "/issue/{issue}/remotelink", operation_id="createOrUpdateRemoteIssueLink")
async def create_remote_link(request: Request, issue: str) -> Response:
    data = await body_object(request)
    made, created = await run_raw(request, lambda ctx: parts.upsert_remote(ctx, issue=issue, data=data))
    return Response(orjson.dumps(made), status_code=201 if created else 200, media_type=JSON)


@router.get(API + "/issue/{issue}/remotelink/{link_id}", operation_id="getRemoteIssueLinkById")
async def get_remote_link(request: Request, issue: str, link_id: str) -> Response:
    return await run(request, lambda ctx: parts.get_remote(ctx, issue=issue, link_id=link_id))


@router.put(API + "/issue/{issue}/remotelink/{link_id}", operation_id="updateRemoteIssueLink")
async def update_remote_link(request: Request, issue: str, link_id: str) -> Response:
    data = await body_object(request)
    return await run(request, lambda ctx: parts.update_remote(ctx, issue=issue, link_id=link_id, data=data))


@router.delete(API + "/issue/{issue}/remotelink/{link_id}", operation_id="deleteRemoteIssueLinkById")
async def delete_remote_link(request: Request, issue: str, link_id: str) -> Response:
    return await run(request, lambda ctx: parts.delete_remote(ctx, issue=issue, link_id=link_id))


# -- watchers and votes -----------------------------------------------------------------------


@router.get(API + "/issue/{issue}/watchers", operation_id="getIssueWatchers")
async def get_watchers(request: Request, issue: str) -> Response:
    return await run(request, lambda ctx: parts.watchers(ctx, issue=issue))


@router.post(API + "/issue/{issue}/watchers", operation_id="addWatcher")
async def add_watcher(request: Request, issue: str) -> Response:
    data = await body(request)
    return await run(request, lambda ctx: parts.add_watcher(ctx, issue=issue, account_id=data))


@router.delete(API + "/issue/{issue}/watchers", operation_id="removeWatcher")
async def remove_watcher(request: Request, issue: str) -> Response:
    who = request.query_params.get("accountId")
    return await run(request, lambda ctx: parts.remove_watcher(ctx, issue=issue, account_id=who))


@router.get(API + "/issue/{issue}/votes", operation_id="getVotes")
async def get_votes(request: Request, issue: str) -> Response:
    return await run(request, lambda ctx: parts.votes(ctx, issue=issue))


@router.post(API + "/issue/{issue}/votes", operation_id="addVote")
async def add_vote(request: Request, issue: str) -> Response:
    return await run(request, lambda ctx: parts.vote(ctx, issue=issue, add=True))


@router.delete(API + "/issue/{issue}/votes", operation_id="removeVote")
async def remove_vote(request: Request, issue: str) -> Response:
    return await run(request, lambda ctx: parts.vote(ctx, issue=issue, add=False))


# -- attachments ------------------------------------------------------------------------------


@router.post(API + "/issue/{issue}/attachments", operation_id="addAttachment")
async def add_attachment(request: Request, issue: str) -> Response:
    if request.headers.get("x-atlassian-token", "").lower() != "no-check":
        raise JiraError("XSRF check failed", status=403)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise JiraError("The request is not a multipart/form-data request.", status=415)
    files: list[tuple[str, str, bytes]] = []
    try:
        form = await request.form(max_part_size=constants.ATTACHMENT_MAX_BYTES + 1024 * 1024)
    except Exception:  # python-multipart's parse errors: Jira answers 400
        raise JiraError("The multipart request could not be read.") from None
    for key, value in form.multi_items():
        if key == "file" and isinstance(value, UploadFile):
            files.append(
                (
                    value.filename or "file",
                    value.content_type or "application/octet-stream",
                    await value.read(),
                )
            )
    return await run(request, lambda ctx: parts.add_attachments(ctx, issue=issue, files=files))


@router.get(API + "/attachment/meta", operation_id="getAttachmentMeta")
async def get_attachment_meta(request: Request) -> Response:
    return await run(request, parts.attachment_meta)


@router.get(API + "/attachment/content/{attachment_id}", operation_id="getAttachmentContent")
async def get_attachment_content(request: Request, attachment_id: str) -> Response:
    content, mime, filename = await run_raw(
        request, lambda ctx: parts.attachment_content(ctx, attachment_id=attachment_id)
    )
    return Response(
        content, media_type=mime, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.get(API + "/attachment/{attachment_id}", operation_id="getAttachment")
async def get_attachment(request: Request, attachment_id: str) -> Response:
    return await run(request, lambda ctx: parts.get_attachment(ctx, attachment_id=attachment_id))


@router.delete(API + "/attachment/{attachment_id}", operation_id="removeAttachment")
async def remove_attachment(request: Request, attachment_id: str) -> Response:
    return await run(request, lambda ctx: parts.delete_attachment(ctx, attachment_id=attachment_id))


# -- issue properties -------------------------------------------------------------------------


@router.get(API + "/issue/{issue}/properties", operation_id="getIssuePropertyKeys")
async def get_issue_property_keys(request: Request, issue: str) -> Response:
    return await run(request, lambda ctx: parts.property_keys(ctx, issue=issue))


@router.get(API + "/issue/{issue}/properties/{key}", operation_id="getIssueProperty")
async def get_issue_property(request: Request, issue: str, key: str) -> Response:
    return await run(request, lambda ctx: parts.get_property(ctx, issue=issue, key=key))


@router.put(API + "/issue/{issue}/properties/{key}", operation_id="setIssueProperty")
async def set_issue_property(request: Request, issue: str, key: str) -> Response:
    raw = await request.body()
    value = await body(request)
    if value is None:
        raise JiraError("The property value must be valid, non-empty JSON.")
    created = await run_raw(
        request, lambda ctx: parts.set_property(ctx, issue=issue, key=key, value=value, size=len(raw))
    )
    return Response(status_code=201 if created else 200)


@router.delete(API + "/issue/{issue}/properties/{key}", operation_id="deleteIssueProperty")
async def delete_issue_property(request: Request, issue: str, key: str) -> Response:
    return await run(request, lambda ctx: parts.delete_property(ctx, issue=issue, key=key))


# -- project roles ----------------------------------------------------------------------------


@router.get(API + "/project/{project}/role", operation_id="getProjectRoles")
async def get_project_roles(request: Request, project: str) -> Response:
    return await run(request, lambda ctx: parts.project_roles(ctx, project=project))


@router.get(API + "/project/{project}/role/{role_id}", operation_id="getProjectRole")
async def get_project_role(request: Request, project: str, role_id: str) -> Response:
    return await run(request, lambda ctx: parts.project_role(ctx, project=project, role_id=role_id))


@router.post(API + "/project/{project}/role/{role_id}", operation_id="addActorUsers")
async def add_actor_users(request: Request, project: str, role_id: str) -> Response:
    data = await body_object(request)
    return await run(
        request,
        lambda ctx: parts.add_role_actors(
            ctx, project=project, role_id=role_id, users=_names(data, "user"), groups=_names(data, "group")
        ),
    )


@router.delete(API + "/project/{project}/role/{role_id}", operation_id="deleteActor")
async def delete_actor(request: Request, project: str, role_id: str) -> Response:
    q = request.query_params
    return await run(
        request,
        lambda ctx: parts.remove_role_actor(
            ctx, project=project, role_id=role_id, user=q.get("user"), group=q.get("group")
        ),
    )


def _names(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise JiraError(errors={key: f"'{key}' must be a list of strings."})
    return value


@applinks.get("/rest/applinks/latest/listApplicationlinks", operation_id="listApplicationlinks")
async def list_application_links(request: Request) -> Response:
    """A fresh Cloud site has no application links (pycontribs asks before adding remote links)."""
    return await run(request, parts.application_links)


router.routes.extend(applinks.routes)
