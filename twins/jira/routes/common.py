"""What every Jira route shares: the versioned prefix and its check, and `Operations`, which
declares the many routes that only hand their path, body and query values to a service."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from twins.jira.dependencies import body_object, int_param, run
from twins.jira.errors import JiraError

API = "/rest/api/{api_version}"


def _check_version(request: Request) -> None:
    version = request.path_params.get("api_version")
    if version is not None and version not in ("2", "3", "latest"):
        raise JiraError(f"null for uri: {request.url.path}", status=404)


def api_router() -> APIRouter:
    """A router for `/rest/api/{2,3,latest}/...` operations."""
    return APIRouter(dependencies=[Depends(_check_version)])


def start_at(request: Request) -> int:
    return max(0, int_param(request, "startAt", 0) or 0)


def max_results(request: Request, default: int = 50, cap: int = 100) -> int:
    value = int_param(request, "maxResults", default)
    return default if value is None or value <= 0 else min(value, cap)


Query = Callable[[Request], Any]


class Operations:
    """Routes of the form "call `service(ctx, **path params, data=body, **query values)`".

    `path` names its parameters as the service does (`{id_or_key}`, `{type_id}`); `body=True`
    passes the JSON object body as `data`; `query` maps a service argument to a function of
    the request (`query_param("accountId")`, `start_at`)."""

    def __init__(self, router: APIRouter) -> None:
        self.router = router

    def add(
        self,
        method: str,
        path: str,
        operation_id: str,
        service: Callable[..., Any],
        *,
        body: bool = False,
        status: int = 200,
        query: Mapping[str, Query] | None = None,
        version: str | None = None,
    ) -> None:
        readers = dict(query or {})

        async def endpoint(request: Request) -> Response:
            kwargs: dict[str, Any] = {k: v for k, v in request.path_params.items() if k != "api_version"}
            if body:
                kwargs["data"] = await body_object(request)
            for name, read in readers.items():
                kwargs[name] = read(request)
            return await run(request, lambda ctx: service(ctx, **kwargs), status=status, version=version)

        endpoint.__name__ = operation_id
        self.router.add_api_route(path, endpoint, methods=[method], operation_id=operation_id)


def query_param(name: str) -> Query:
    return lambda request: request.query_params.get(name)
