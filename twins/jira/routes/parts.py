"""The parts of an issue besides fields and comments: worklogs, links, remote links,
watchers, votes, attachments and entity properties."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from twins.jira import constants
from twins.jira.dependencies import body, body_object, run, run_raw
from twins.jira.errors import JSON, JiraError
from twins.jira.routes.common import API, Operations, api_router, max_results, query_param, start_at
from twins.jira.service import parts, worklogs

router = api_router()
ops = Operations(router)
applinks = APIRouter()


ops.add(
    "GET",
    API + "/issue/{issue}/worklog",
    "getIssueWorklog",
    worklogs.list_worklogs,
    query={"start_at": start_at, "max_results": lambda r: max_results(r, 5000, 5000)},
)
ops.add("POST", API + "/issue/{issue}/worklog", "addWorklog", worklogs.add_worklog, body=True, status=201)
ops.add("GET", API + "/issue/{issue}/worklog/{worklog_id}", "getWorklog", worklogs.get_worklog)
ops.add(
    "PUT", API + "/issue/{issue}/worklog/{worklog_id}", "updateWorklog", worklogs.update_worklog, body=True
)
ops.add("DELETE", API + "/issue/{issue}/worklog/{worklog_id}", "deleteWorklog", worklogs.delete_worklog)


# -- issue links ------------------------------------------------------------------------------


@router.post(API + "/issueLink", operation_id="linkIssues")
async def link_issues(request: Request) -> Response:
    data = await body_object(request)
    await run(request, lambda ctx: parts.create_link(ctx, data=data))
    return Response(status_code=201)


ops.add("GET", API + "/issueLink/{link_id}", "getIssueLink", parts.get_link)
ops.add("DELETE", API + "/issueLink/{link_id}", "deleteIssueLink", parts.delete_link)


# -- remote links -----------------------------------------------------------------------------


ops.add(
    "GET",
    API + "/issue/{issue}/remotelink",
    "getRemoteIssueLinks",
    parts.list_remote,
    query={"global_id": query_param("globalId")},
)


@router.post(API + "/issue/{issue}/remotelink", operation_id="createOrUpdateRemoteIssueLink")
async def create_remote_link(request: Request, issue: str) -> Response:
    data = await body_object(request)
    made, created = await run_raw(request, lambda ctx: parts.upsert_remote(ctx, issue=issue, data=data))
    return Response(orjson.dumps(made), status_code=201 if created else 200, media_type=JSON)


ops.add("GET", API + "/issue/{issue}/remotelink/{link_id}", "getRemoteIssueLinkById", parts.get_remote)
ops.add(
    "PUT",
    API + "/issue/{issue}/remotelink/{link_id}",
    "updateRemoteIssueLink",
    parts.update_remote,
    body=True,
)
ops.add(
    "DELETE", API + "/issue/{issue}/remotelink/{link_id}", "deleteRemoteIssueLinkById", parts.delete_remote
)


# -- watchers and votes -----------------------------------------------------------------------


ops.add("GET", API + "/issue/{issue}/watchers", "getIssueWatchers", parts.watchers)


@router.post(API + "/issue/{issue}/watchers", operation_id="addWatcher")
async def add_watcher(request: Request, issue: str) -> Response:
    data = await body(request)
    return await run(request, lambda ctx: parts.add_watcher(ctx, issue=issue, account_id=data))


ops.add(
    "DELETE",
    API + "/issue/{issue}/watchers",
    "removeWatcher",
    parts.remove_watcher,
    query={"account_id": query_param("accountId")},
)
ops.add("GET", API + "/issue/{issue}/votes", "getVotes", parts.votes)
ops.add(
    "POST", API + "/issue/{issue}/votes", "addVote", lambda ctx, issue: parts.vote(ctx, issue=issue, add=True)
)
ops.add(
    "DELETE",
    API + "/issue/{issue}/votes",
    "removeVote",
    lambda ctx, issue: parts.vote(ctx, issue=issue, add=False),
)


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
                    (value.filename or "").replace("\x00", "") or "file",
                    (value.content_type or "").replace("\x00", "") or "application/octet-stream",
                    await value.read(),
                )
            )
    return await run(request, lambda ctx: parts.add_attachments(ctx, issue=issue, files=files))


ops.add("GET", API + "/attachment/meta", "getAttachmentMeta", parts.attachment_meta)


@router.get(API + "/attachment/content/{attachment_id}", operation_id="getAttachmentContent")
async def get_attachment_content(request: Request, attachment_id: str) -> Response:
    content, mime, filename = await run_raw(
        request, lambda ctx: parts.attachment_content(ctx, attachment_id=attachment_id)
    )
    return Response(
        content, media_type=mime, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


ops.add("GET", API + "/attachment/{attachment_id}", "getAttachment", parts.get_attachment)
ops.add("DELETE", API + "/attachment/{attachment_id}", "removeAttachment", parts.delete_attachment)


# -- issue properties -------------------------------------------------------------------------


ops.add("GET", API + "/issue/{issue}/properties", "getIssuePropertyKeys", parts.property_keys)
ops.add("GET", API + "/issue/{issue}/properties/{key}", "getIssueProperty", parts.get_property)


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


ops.add("DELETE", API + "/issue/{issue}/properties/{key}", "deleteIssueProperty", parts.delete_property)


# -- project roles ----------------------------------------------------------------------------

ops.add("GET", API + "/project/{project}/role", "getProjectRoles", parts.project_roles)
ops.add("GET", API + "/project/{project}/role/{role_id}", "getProjectRole", parts.project_role)


@router.post(API + "/project/{project}/role/{role_id}", operation_id="addActorUsers")
async def add_actor_users(request: Request, project: str, role_id: str) -> Response:
    data = await body_object(request)
    return await run(
        request,
        lambda ctx: parts.add_role_actors(
            ctx, project=project, role_id=role_id, users=_names(data, "user"), groups=_names(data, "group")
        ),
    )


ops.add(
    "DELETE",
    API + "/project/{project}/role/{role_id}",
    "deleteActor",
    parts.remove_role_actor,
    query={"user": query_param("user"), "group": query_param("group")},
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
