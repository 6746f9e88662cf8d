"""Drive `comments` and `replies`. On Drive v3 these methods require `fields` (400 without it).

The ten methods differ only in their path, their response schema, whether they take a body and
which query parameters they read, so each is one `_method(...)` line over one wire function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from twins.gdrive import fields
from twins.gdrive.dependencies import json_body, param_bool, param_int, run
from twins.gdrive.errors import GoogleError
from twins.gdrive.service import comments

router = APIRouter()
COMMENTS = "/drive/v3/files/{fileId}/comments"
COMMENT = COMMENTS + "/{commentId}"
REPLIES = COMMENT + "/replies"
REPLY = REPLIES + "/{replyId}"
_ARGS = {"fileId": "file_id", "commentId": "comment_id", "replyId": "reply_id"}  # path -> service


def _mask(request: Request, schema: str) -> fields.Mask:
    """https://developers.google.com/workspace/drive/api/guides/fields-parameter : required here."""
    wanted = request.query_params.get("fields")
    if not wanted or not wanted.strip():
        raise GoogleError(
            "The 'fields' parameter is required for this method.",
            status=400,
            reason="required",
            location="fields",
            location_type="parameter",
        )
    mask = fields.parse(wanted)
    fields.validate(mask, schema)
    return mask


def _deleted(request: Request) -> dict[str, Any]:
    return {"include_deleted": param_bool(request, "includeDeleted")}


def _paging(request: Request) -> dict[str, Any]:
    """comments.list and replies.list: pageSize 1..100 (default 20), pageToken, includeDeleted."""
    return {
        "page_size": param_int(request, "pageSize", 20, low=1, high=100) or 20,
        "page_token": request.query_params.get("pageToken"),
        **_deleted(request),
    }


def _since(request: Request) -> dict[str, Any]:
    return {**_paging(request), "start_modified_time": request.query_params.get("startModifiedTime")}


def _method(
    verb: str,
    path: str,
    method_id: str,
    service: Callable[..., Any],
    *,
    schema: str | None = None,
    body: bool = False,
    query: Callable[[Request], dict[str, Any]] | None = None,
) -> None:
    """One method: check `fields` against `schema` first (a bad selector writes nothing), read
    the JSON body and the query parameters, then run the service with the path's ids."""

    async def endpoint(request: Request) -> Response:
        mask = _mask(request, schema) if schema else None
        kwargs = {_ARGS[k]: v for k, v in request.path_params.items()}
        if body:
            kwargs["body"] = await json_body(request)
        if query is not None:
            kwargs.update(query(request))

        def work(ctx: Any) -> Any:
            result = service(ctx, **kwargs)
            return result if mask is None else fields.apply(result, mask)

        return await run(request, method_id, work)

    endpoint.__name__ = method_id.replace(".", "_")
    router.add_api_route(path, endpoint, methods=[verb], operation_id=method_id)


_method("POST", COMMENTS, "drive.comments.create", comments.create_comment, schema="Comment", body=True)
_method("GET", COMMENTS, "drive.comments.list", comments.list_comments, schema="CommentList", query=_since)
_method("GET", COMMENT, "drive.comments.get", comments.get_comment, schema="Comment", query=_deleted)
_method("PATCH", COMMENT, "drive.comments.update", comments.update_comment, schema="Comment", body=True)
_method("DELETE", COMMENT, "drive.comments.delete", comments.delete_comment)
_method("POST", REPLIES, "drive.replies.create", comments.create_reply, schema="Reply", body=True)
_method("GET", REPLIES, "drive.replies.list", comments.list_replies, schema="ReplyList", query=_paging)
_method("GET", REPLY, "drive.replies.get", comments.get_reply, schema="Reply", query=_deleted)
_method("PATCH", REPLY, "drive.replies.update", comments.update_reply, schema="Reply", body=True)
_method("DELETE", REPLY, "drive.replies.delete", comments.delete_reply)
