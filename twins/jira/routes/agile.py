"""Jira Software `/rest/agile/1.0`: boards, sprints, backlog, epics, ranking."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from dtu.context import TwinContext
from twins.jira.dependencies import body_object, int_param, multi, run
from twins.jira.errors import JiraError
from twins.jira.service import agile

router = APIRouter()
AGILE = "/rest/agile/1.0"


def _page(request: Request, default: int = 50) -> tuple[int, int]:
    start = int_param(request, "startAt", 0) or 0
    if start < 0:
        raise JiraError("The 'startAt' parameter must be a non-negative integer.")
    size = int_param(request, "maxResults", default)
    return start, default if size is None or size <= 0 else min(size, agile.MAX_PAGE)


def _id(value: str, what: str) -> int:
    if not value.isdigit():
        raise JiraError(f"The {what} id '{value}' is not a number.", status=400)
    return int(value)


async def _v2(request: Request, fn: Callable[[TwinContext], Any]) -> Response:
    """Agile answers in the v2 representation (wiki text, not ADF)."""
    return await run(request, fn, version="2")


@router.get(AGILE + "/board", operation_id="getAllBoards")
async def get_all_boards(request: Request) -> Response:
    start, size = _page(request)
    q = request.query_params
    return await _v2(
        request,
        lambda ctx: agile.list_boards(
            ctx,
            start_at=start,
            max_results=size,
            type_=q.get("type"),
            name=q.get("name"),
            project=q.get("projectKeyOrId"),
        ),
    )


@router.post(AGILE + "/board", operation_id="createBoard")
async def create_board(request: Request) -> Response:
    data = await body_object(request)
    return await run(request, lambda ctx: agile.create_board(ctx, data=data), status=201, version="2")


@router.get(AGILE + "/board/filter/{filter_id}", operation_id="getBoardByFilterId")
async def get_board_by_filter_id(request: Request, filter_id: str) -> Response:
    fid = _id(filter_id, "filter")
    start, size = _page(request)
    return await _v2(
        request,
        lambda ctx: agile.list_boards(
            ctx, start_at=start, max_results=size, type_=None, name=None, project=None, filter_id=str(fid)
        ),
    )


@router.delete(AGILE + "/board/{board_id}", operation_id="deleteBoard")
async def delete_board(request: Request, board_id: str) -> Response:
    bid = _id(board_id, "board")
    return await _v2(request, lambda ctx: agile.delete_board(ctx, board_id=bid))


@router.get(AGILE + "/board/{board_id}/quickfilter", operation_id="getAllQuickFilters")
async def get_all_quick_filters(request: Request, board_id: str) -> Response:
    bid = _id(board_id, "board")
    start, size = _page(request)
    return await _v2(
        request, lambda ctx: agile.quick_filters(ctx, board_id=bid, start_at=start, max_results=size)
    )


@router.get(AGILE + "/board/{board_id}/quickfilter/{quick_id}", operation_id="getQuickFilter")
async def get_quick_filter(request: Request, board_id: str, quick_id: str) -> Response:
    bid, qid = _id(board_id, "board"), _id(quick_id, "quick filter")
    return await _v2(request, lambda ctx: agile.quick_filter(ctx, board_id=bid, quick_id=qid))


@router.get(AGILE + "/board/{board_id}", operation_id="getBoard")
async def get_board(request: Request, board_id: str) -> Response:
    bid = _id(board_id, "board")
    return await _v2(request, lambda ctx: agile.get_board(ctx, board_id=bid))


@router.get(AGILE + "/board/{board_id}/configuration", operation_id="getConfiguration")
async def get_configuration(request: Request, board_id: str) -> Response:
    bid = _id(board_id, "board")
    return await _v2(request, lambda ctx: agile.board_configuration(ctx, board_id=bid))


def _issue_args(request: Request) -> dict[str, object]:
    start, size = _page(request)
    return {
        "jql_text": request.query_params.get("jql"),
        "start_at": start,
        "max_results": size,
        "wanted": multi(request, "fields"),
    }


@router.get(AGILE + "/board/{board_id}/issue", operation_id="getIssuesForBoard")
async def get_issues_for_board(request: Request, board_id: str) -> Response:
    bid, args = _id(board_id, "board"), _issue_args(request)
    return await _v2(request, lambda ctx: agile.board_issues(ctx, board_id=bid, **args))  # type: ignore[arg-type]


@router.get(AGILE + "/board/{board_id}/backlog", operation_id="getIssuesForBacklog")
async def get_issues_for_backlog(request: Request, board_id: str) -> Response:
    bid, args = _id(board_id, "board"), _issue_args(request)
    return await _v2(request, lambda ctx: agile.backlog(ctx, board_id=bid, **args))  # type: ignore[arg-type]


@router.get(AGILE + "/board/{board_id}/sprint", operation_id="getAllSprints")
async def get_all_sprints(request: Request, board_id: str) -> Response:
    bid = _id(board_id, "board")
    start, size = _page(request)
    return await _v2(
        request,
        lambda ctx: agile.board_sprints(
            ctx, board_id=bid, start_at=start, max_results=size, state=request.query_params.get("state")
        ),
    )


@router.get(AGILE + "/board/{board_id}/sprint/{sprint_id}/issue", operation_id="getBoardIssuesForSprint")
async def get_board_issues_for_sprint(request: Request, board_id: str, sprint_id: str) -> Response:
    bid, sid, args = _id(board_id, "board"), _id(sprint_id, "sprint"), _issue_args(request)
    return await _v2(
        request,
        lambda ctx: agile.sprint_issues(ctx, sprint_id=sid, board_id=bid, **args),  # type: ignore[arg-type]
    )


@router.get(AGILE + "/board/{board_id}/epic", operation_id="getEpics")
async def get_epics(request: Request, board_id: str) -> Response:
    bid = _id(board_id, "board")
    start, size = _page(request)
    done = request.query_params.get("done")
    flag = None if done is None else done.lower() == "true"
    return await _v2(
        request, lambda ctx: agile.board_epics(ctx, board_id=bid, start_at=start, max_results=size, done=flag)
    )


@router.post(AGILE + "/sprint", operation_id="createSprint")
async def create_sprint(request: Request) -> Response:
    data = await body_object(request)
    return await run(request, lambda ctx: agile.create_sprint(ctx, data=data), status=201, version="2")


@router.get(AGILE + "/sprint/{sprint_id}", operation_id="getSprint")
async def get_sprint(request: Request, sprint_id: str) -> Response:
    sid = _id(sprint_id, "sprint")
    return await _v2(request, lambda ctx: agile.get_sprint(ctx, sprint_id=sid))


@router.put(AGILE + "/sprint/{sprint_id}", operation_id="updateSprint")
async def update_sprint(request: Request, sprint_id: str) -> Response:
    sid, data = _id(sprint_id, "sprint"), await body_object(request)
    return await _v2(request, lambda ctx: agile.update_sprint(ctx, sprint_id=sid, data=data, partial=False))


@router.post(AGILE + "/sprint/{sprint_id}", operation_id="partiallyUpdateSprint")
async def partially_update_sprint(request: Request, sprint_id: str) -> Response:
    sid, data = _id(sprint_id, "sprint"), await body_object(request)
    return await _v2(request, lambda ctx: agile.update_sprint(ctx, sprint_id=sid, data=data, partial=True))


@router.delete(AGILE + "/sprint/{sprint_id}", operation_id="deleteSprint")
async def delete_sprint(request: Request, sprint_id: str) -> Response:
    sid = _id(sprint_id, "sprint")
    return await _v2(request, lambda ctx: agile.delete_sprint(ctx, sprint_id=sid))


@router.get(AGILE + "/sprint/{sprint_id}/issue", operation_id="getIssuesForSprint")
async def get_issues_for_sprint(request: Request, sprint_id: str) -> Response:
    sid, args = _id(sprint_id, "sprint"), _issue_args(request)
    return await _v2(
        request,
        lambda ctx: agile.sprint_issues(ctx, sprint_id=sid, board_id=None, **args),  # type: ignore[arg-type]
    )


@router.post(AGILE + "/sprint/{sprint_id}/issue", operation_id="moveIssuesToSprintAndRank")
async def move_issues_to_sprint(request: Request, sprint_id: str) -> Response:
    sid, data = _id(sprint_id, "sprint"), await body_object(request)
    return await _v2(request, lambda ctx: agile.move_to_sprint(ctx, sprint_id=sid, data=data))


@router.post(AGILE + "/backlog/issue", operation_id="moveIssuesToBacklog")
async def move_issues_to_backlog(request: Request) -> Response:
    data = await body_object(request)
    return await _v2(request, lambda ctx: agile.move_to_backlog(ctx, board_id=None, data=data))


@router.post(AGILE + "/backlog/{board_id}/issue", operation_id="moveIssuesToBacklogForBoard")
async def move_issues_to_backlog_for_board(request: Request, board_id: str) -> Response:
    bid, data = _id(board_id, "board"), await body_object(request)
    return await _v2(request, lambda ctx: agile.move_to_backlog(ctx, board_id=bid, data=data))


@router.get(AGILE + "/epic/none/issue", operation_id="getIssuesWithoutEpic")
async def get_issues_without_epic(request: Request) -> Response:
    args = _issue_args(request)
    return await _v2(
        request,
        lambda ctx: agile.issue_page(
            ctx,
            "parent IS EMPTY AND issuetype NOT IN (Epic, Sub-task)",
            **args,  # type: ignore[arg-type]
        ),
    )


@router.post(AGILE + "/epic/none/issue", operation_id="removeIssuesFromEpic")
async def remove_issues_from_epic(request: Request) -> Response:
    data = await body_object(request)
    return await _v2(request, lambda ctx: agile.move_to_epic(ctx, epic=None, issue_ids=data.get("issues")))


@router.get(AGILE + "/epic/{epic}", operation_id="getEpic")
async def get_epic(request: Request, epic: str) -> Response:
    return await _v2(request, lambda ctx: agile.get_epic(ctx, epic=epic))


@router.get(AGILE + "/epic/{epic}/issue", operation_id="getIssuesForEpic")
async def get_issues_for_epic(request: Request, epic: str) -> Response:
    args = _issue_args(request)
    return await _v2(request, lambda ctx: agile.epic_issues(ctx, epic=epic, **args))  # type: ignore[arg-type]


@router.post(AGILE + "/epic/{epic}/issue", operation_id="moveIssuesToEpic")
async def move_issues_to_epic(request: Request, epic: str) -> Response:
    data = await body_object(request)
    return await _v2(request, lambda ctx: agile.move_to_epic(ctx, epic=epic, issue_ids=data.get("issues")))


@router.put(AGILE + "/issue/rank", operation_id="rankIssues")
async def rank_issues(request: Request) -> Response:
    data = await body_object(request)
    return await _v2(request, lambda ctx: agile.rank_issues(ctx, data=data))


@router.get(AGILE + "/board/{board_id}/epic/none/issue", operation_id="getIssuesWithoutEpicForBoard")
async def get_issues_without_epic_for_board(request: Request, board_id: str) -> Response:
    bid, args = _id(board_id, "board"), _issue_args(request)
    return await _v2(
        request,
        lambda ctx: agile.board_epic_issues(ctx, board_id=bid, epic=None, **args),  # type: ignore[arg-type]
    )


@router.get(AGILE + "/board/{board_id}/epic/{epic}/issue", operation_id="getBoardIssuesForEpic")
async def get_board_issues_for_epic(request: Request, board_id: str, epic: str) -> Response:
    bid, args = _id(board_id, "board"), _issue_args(request)
    return await _v2(
        request,
        lambda ctx: agile.board_epic_issues(ctx, board_id=bid, epic=epic, **args),  # type: ignore[arg-type]
    )


@router.get(AGILE + "/board/{board_id}/project", operation_id="getProjects")
async def get_board_projects(request: Request, board_id: str) -> Response:
    bid = _id(board_id, "board")
    start, size = _page(request)
    return await _v2(
        request, lambda ctx: agile.board_projects(ctx, board_id=bid, start_at=start, max_results=size)
    )


@router.get(AGILE + "/board/{board_id}/version", operation_id="getAllVersions")
async def get_board_versions(request: Request, board_id: str) -> Response:
    bid = _id(board_id, "board")
    start, size = _page(request)
    released = request.query_params.get("released")
    return await _v2(
        request,
        lambda ctx: agile.board_versions(
            ctx, board_id=bid, released=released, start_at=start, max_results=size
        ),
    )


@router.get(AGILE + "/issue/{issue}", operation_id="getAgileIssue")
async def get_agile_issue(request: Request, issue: str) -> Response:
    return await _v2(
        request, lambda ctx: agile.get_agile_issue(ctx, issue=issue, wanted=multi(request, "fields"))
    )
