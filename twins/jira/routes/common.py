"""What every Jira route shares: the versioned prefix and its check."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from twins.jira.errors import JiraError

API = "/rest/api/{api_version}"


def _check_version(request: Request) -> None:
    version = request.path_params.get("api_version")
    if version is not None and version not in ("2", "3", "latest"):
        raise JiraError(f"null for uri: {request.url.path}", status=404)


def api_router() -> APIRouter:
    """A router for `/rest/api/{2,3,latest}/...` operations."""
    return APIRouter(dependencies=[Depends(_check_version)])
