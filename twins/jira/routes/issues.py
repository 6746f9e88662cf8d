"""Issues, transitions, comments and the changelog."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from twins.jira.dependencies import body, body_object, bool_param, int_param, multi, run
from twins.jira.errors import JiraError
from twins.jira.routes.common import API, api_router
from twins.jira.service import issues, moves

router = api_router()


def _rendered(request: Request) -> bool:
    return "renderedBody" in (multi(request, "expand") or [])


@router.post(API + "/issue", operation_id="createIssue")
async def create_issue(request: Request) -> Response:
    data = await body_object(request)
    return await run(
        request,
        lambda ctx: issues.create_issue(ctx, fields=data.get("fields"), update=data.get("update")),
        status=201,
    )


@router.post(API + "/issue/bulk", operation_id="createIssues")
async def create_issues(request: Request) -> Response:
    data = await body_object(request)
    updates = data.get("issueUpdates")
    if not isinstance(updates, list):
        raise JiraError("Nothing to create: 'issueUpdates' is required.")
    return await run(request, lambda ctx: issues.bulk_create(ctx, updates=updates), status=201)


@router.get(API + "/issue/{issue}", operation_id="getIssue")
async def get_issue(request: Request, issue: str) -> Response:
    return await run(
        request,
        lambda ctx: issues.get_issue(
            ctx, issue=issue, wanted=multi(request, "fields"), expand=multi(request, "expand")
        ),
    )


@router.put(API + "/issue/{issue}", operation_id="editIssue")
async def edit_issue(request: Request, issue: str) -> Response:
    data = await body_object(request)
    return await run(
        request,
        lambda ctx: issues.edit_issue(
            ctx, issue=issue, fields_in=data.get("fields"), update_in=data.get("update")
        ),
    )


@router.delete(API + "/issue/{issue}", operation_id="deleteIssue")
async def delete_issue(request: Request, issue: str) -> Response:
    return await run(
        request,
        lambda ctx: issues.delete_issue(
            ctx, issue=issue, delete_subtasks=bool_param(request, "deleteSubtasks")
        ),
    )


@router.put(API + "/issue/{issue}/assignee", operation_id="assignIssue")
async def assign_issue(request: Request, issue: str) -> Response:
    data = await body(request)
    if not isinstance(data, dict) or "accountId" not in data:
        raise JiraError(errors={"accountId": "The accountId must be provided (null unassigns)."})
    return await run(request, lambda ctx: issues.assign(ctx, issue=issue, account_id=data.get("accountId")))


@router.get(API + "/issue/{issue}/editmeta", operation_id="getEditIssueMeta")
async def get_edit_meta(request: Request, issue: str) -> Response:
    return await run(request, lambda ctx: issues.edit_meta(ctx, issue=issue))


@router.get(API + "/issue/{issue}/transitions", operation_id="getTransitions")
async def get_transitions(request: Request, issue: str) -> Response:
    return await run(
        request,
        lambda ctx: issues.transitions(
            ctx,
            issue=issue,
            transition_id=request.query_params.get("transitionId"),
            expand=multi(request, "expand"),
        ),
    )


@router.post(API + "/issue/{issue}/transitions", operation_id="doTransition")
async def do_transition(request: Request, issue: str) -> Response:
    data = await body_object(request)
    return await run(request, lambda ctx: issues.do_transition(ctx, issue=issue, data=data))


@router.get(API + "/issue/{issue}/changelog", operation_id="getChangeLogs")
async def get_changelogs(request: Request, issue: str) -> Response:
    return await run(
        request,
        lambda ctx: issues.changelog(
            ctx,
            issue=issue,
            start_at=max(0, int_param(request, "startAt", 0) or 0),
            max_results=min(100, max(1, int_param(request, "maxResults", 100) or 100)),
        ),
    )


@router.get(API + "/issue/{issue}/comment", operation_id="getComments")
async def get_comments(request: Request, issue: str) -> Response:
    return await run(
        request,
        lambda ctx: issues.list_comments(
            ctx,
            issue=issue,
            start_at=max(0, int_param(request, "startAt", 0) or 0),
            max_results=min(5000, max(1, int_param(request, "maxResults", 5000) or 5000)),
            order_by=request.query_params.get("orderBy"),
            rendered=_rendered(request),
        ),
    )


@router.post(API + "/issue/{issue}/comment", operation_id="addComment")
async def add_comment(request: Request, issue: str) -> Response:
    data = await body_object(request)
    return await run(
        request,
        lambda ctx: issues.add_comment(
            ctx,
            issue=issue,
            body=data.get("body"),
            visibility=data.get("visibility"),
            rendered=_rendered(request),
        ),
        status=201,
    )


@router.get(API + "/issue/{issue}/comment/{comment_id}", operation_id="getComment")
async def get_comment(request: Request, issue: str, comment_id: str) -> Response:
    return await run(
        request,
        lambda ctx: issues.get_comment(ctx, issue=issue, comment_id=comment_id, rendered=_rendered(request)),
    )


@router.put(API + "/issue/{issue}/comment/{comment_id}", operation_id="updateComment")
async def update_comment(request: Request, issue: str, comment_id: str) -> Response:
    data = await body_object(request)
    return await run(
        request,
        lambda ctx: issues.update_comment(
            ctx,
            issue=issue,
            comment_id=comment_id,
            body=data.get("body"),
            visibility=data.get("visibility"),
            rendered=_rendered(request),
        ),
    )


@router.delete(API + "/issue/{issue}/comment/{comment_id}", operation_id="deleteComment")
async def delete_comment(request: Request, issue: str, comment_id: str) -> Response:
    return await run(request, lambda ctx: issues.delete_comment(ctx, issue=issue, comment_id=comment_id))


@router.post(API + "/issue/{issue}/changelog/list", operation_id="getChangeLogsByIds")
async def get_changelogs_by_ids(request: Request, issue: str) -> Response:
    data = await body_object(request)
    return await run(request, lambda ctx: issues.changelog_by_ids(ctx, issue=issue, data=data))


@router.post(API + "/changelog/bulkfetch", operation_id="getBulkChangelogs")
async def bulk_changelogs(request: Request) -> Response:
    data = await body_object(request)
    return await run(request, lambda ctx: issues.bulk_changelogs(ctx, data=data))


@router.post(API + "/bulk/issues/move", operation_id="submitBulkMove")
async def submit_bulk_move(request: Request) -> Response:
    data = await body_object(request)
    return await run(request, lambda ctx: moves.submit_move(ctx, data=data), status=201)


@router.get(API + "/bulk/queue/{task_id}", operation_id="getBulkOperationProgress")
async def get_bulk_operation_progress(request: Request, task_id: str) -> Response:
    return await run(request, lambda ctx: moves.progress(ctx, task_id=task_id))
