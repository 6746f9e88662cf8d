"""JQL search, approximate count, JQL parsing and the issue picker."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from twins.jira.dependencies import body_object, int_param, multi, run
from twins.jira.errors import JiraError
from twins.jira.routes.common import API, api_router
from twins.jira.service import search

router = api_router()


def _list(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [p.strip() for p in value.split(",") if p.strip()]
    if isinstance(value, list):
        return [str(v) for v in value]
    raise JiraError("'fields' must be a list of strings.")


def _text(data: dict[str, Any], name: str) -> str | None:
    """A string member of a JSON body, with Jackson's 400 for any other JSON type."""
    value = data.get(name)
    if value is None or isinstance(value, str):
        return value
    raise JiraError(
        f"Can not deserialize value of type java.lang.String from {_token(value)} (field '{name}')."
    )


def _number(data: dict[str, Any], name: str) -> int | None:
    """An integer member of a JSON body (Jira's `int`), with Jackson's 400 otherwise."""
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**31) <= value < 2**31:
        raise JiraError(f"Can not deserialize value of type int from {_token(value)} (field '{name}').")
    return value


def _token(value: Any) -> str:
    kinds = {bool: "Boolean", int: "Number", float: "Number", str: "String", list: "Array", dict: "Object"}
    return f"{kinds.get(type(value), 'JSON')} value"


@router.get(API + "/search", operation_id="searchForIssuesUsingJql")
async def search_get(request: Request) -> Response:
    return await run(
        request,
        lambda ctx: search.search(
            ctx,
            jql_text=request.query_params.get("jql"),
            start_at=int_param(request, "startAt", 0) or 0,
            max_results=int_param(request, "maxResults"),
            wanted=multi(request, "fields"),
            expand=multi(request, "expand"),
        ),
    )


@router.post(API + "/search", operation_id="searchForIssuesUsingJqlPost")
async def search_post(request: Request) -> Response:
    data = await body_object(request)
    return await run(
        request,
        lambda ctx: search.search(
            ctx,
            jql_text=_text(data, "jql"),
            start_at=max(0, _number(data, "startAt") or 0),
            max_results=_number(data, "maxResults"),
            wanted=_list(data.get("fields")),
            expand=_list(data.get("expand")),
        ),
    )


@router.get(API + "/search/jql", operation_id="searchAndReconsileIssuesUsingJql")
async def search_jql_get(request: Request) -> Response:
    return await run(
        request,
        lambda ctx: search.search_jql(
            ctx,
            jql_text=request.query_params.get("jql"),
            next_page_token=request.query_params.get("nextPageToken"),
            max_results=int_param(request, "maxResults"),
            wanted=multi(request, "fields"),
            expand=multi(request, "expand"),
        ),
    )


@router.post(API + "/search/jql", operation_id="searchAndReconsileIssuesUsingJqlPost")
async def search_jql_post(request: Request) -> Response:
    data = await body_object(request)
    return await run(
        request,
        lambda ctx: search.search_jql(
            ctx,
            jql_text=_text(data, "jql"),
            next_page_token=_text(data, "nextPageToken"),
            max_results=_number(data, "maxResults"),
            wanted=_list(data.get("fields")),
            expand=_list(data.get("expand")),
        ),
    )


@router.post(API + "/search/approximate-count", operation_id="countIssues")
async def count_issues(request: Request) -> Response:
    data = await body_object(request)
    jql_text = _text(data, "jql")
    return await run(request, lambda ctx: search.approximate_count(ctx, jql_text=jql_text))


@router.post(API + "/jql/parse", operation_id="parseJqlQueries")
async def parse_jql(request: Request) -> Response:
    data = await body_object(request)
    queries = data.get("queries")
    if not isinstance(queries, list):
        raise JiraError(errors={"queries": "The queries field is required."})
    return await run(
        request,
        lambda ctx: search.parse_queries(
            ctx, queries=queries, validation=request.query_params.get("validation", "strict")
        ),
    )


@router.get(API + "/issue/picker", operation_id="getIssuePickerResource")
async def issue_picker(request: Request) -> Response:
    return await run(
        request,
        lambda ctx: search.issue_picker(
            ctx, query=request.query_params.get("query"), current_jql=request.query_params.get("currentJQL")
        ),
    )
