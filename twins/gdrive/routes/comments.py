"""Drive `comments` and `replies`. On Drive v3 these methods require `fields` (400 without it)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from twins.gdrive import fields
from twins.gdrive.dependencies import json_body, param_bool, param_int, run
from twins.gdrive.errors import GoogleError
from twins.gdrive.service import comments

router = APIRouter()
BASE = "/drive/v3/files/{fileId}/comments"
REPLIES = BASE + "/{commentId}/replies"


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


@router.post(BASE, operation_id="drive.comments.create")
async def create_comment(request: Request, fileId: str) -> Response:
    mask = _mask(request, "Comment")
    body = await json_body(request)
    return await run(
        request,
        "drive.comments.create",
        lambda ctx: fields.apply(comments.create_comment(ctx, file_id=fileId, body=body), mask),
    )


@router.get(BASE, operation_id="drive.comments.list")
async def list_comments(request: Request, fileId: str) -> Response:
    mask = _mask(request, "CommentList")
    size = param_int(request, "pageSize", 20, low=1, high=100) or 20
    deleted = param_bool(request, "includeDeleted")
    token, since = request.query_params.get("pageToken"), request.query_params.get("startModifiedTime")
    return await run(
        request,
        "drive.comments.list",
        lambda ctx: fields.apply(
            comments.list_comments(
                ctx,
                file_id=fileId,
                page_size=size,
                page_token=token,
                include_deleted=deleted,
                start_modified_time=since,
            ),
            mask,
        ),
    )


@router.get(BASE + "/{commentId}", operation_id="drive.comments.get")
async def get_comment(request: Request, fileId: str, commentId: str) -> Response:
    mask = _mask(request, "Comment")
    deleted = param_bool(request, "includeDeleted")
    return await run(
        request,
        "drive.comments.get",
        lambda ctx: fields.apply(
            comments.get_comment(ctx, file_id=fileId, comment_id=commentId, include_deleted=deleted), mask
        ),
    )


@router.patch(BASE + "/{commentId}", operation_id="drive.comments.update")
async def update_comment(request: Request, fileId: str, commentId: str) -> Response:
    mask = _mask(request, "Comment")
    body = await json_body(request)
    return await run(
        request,
        "drive.comments.update",
        lambda ctx: fields.apply(
            comments.update_comment(ctx, file_id=fileId, comment_id=commentId, body=body), mask
        ),
    )


@router.delete(BASE + "/{commentId}", operation_id="drive.comments.delete")
async def delete_comment(request: Request, fileId: str, commentId: str) -> Response:
    return await run(
        request,
        "drive.comments.delete",
        lambda ctx: comments.delete_comment(ctx, file_id=fileId, comment_id=commentId),
    )


@router.post(REPLIES, operation_id="drive.replies.create")
async def create_reply(request: Request, fileId: str, commentId: str) -> Response:
    mask = _mask(request, "Reply")
    body = await json_body(request)
    return await run(
        request,
        "drive.replies.create",
        lambda ctx: fields.apply(
            comments.create_reply(ctx, file_id=fileId, comment_id=commentId, body=body), mask
        ),
    )


@router.get(REPLIES, operation_id="drive.replies.list")
async def list_replies(request: Request, fileId: str, commentId: str) -> Response:
    mask = _mask(request, "ReplyList")
    size = param_int(request, "pageSize", 20, low=1, high=100) or 20
    deleted = param_bool(request, "includeDeleted")
    token = request.query_params.get("pageToken")
    return await run(
        request,
        "drive.replies.list",
        lambda ctx: fields.apply(
            comments.list_replies(
                ctx,
                file_id=fileId,
                comment_id=commentId,
                page_size=size,
                page_token=token,
                include_deleted=deleted,
            ),
            mask,
        ),
    )


@router.get(REPLIES + "/{replyId}", operation_id="drive.replies.get")
async def get_reply(request: Request, fileId: str, commentId: str, replyId: str) -> Response:
    mask = _mask(request, "Reply")
    deleted = param_bool(request, "includeDeleted")
    return await run(
        request,
        "drive.replies.get",
        lambda ctx: fields.apply(
            comments.get_reply(
                ctx, file_id=fileId, comment_id=commentId, reply_id=replyId, include_deleted=deleted
            ),
            mask,
        ),
    )


@router.patch(REPLIES + "/{replyId}", operation_id="drive.replies.update")
async def update_reply(request: Request, fileId: str, commentId: str, replyId: str) -> Response:
    mask = _mask(request, "Reply")
    body = await json_body(request)
    return await run(
        request,
        "drive.replies.update",
        lambda ctx: fields.apply(
            comments.update_reply(ctx, file_id=fileId, comment_id=commentId, reply_id=replyId, body=body),
            mask,
        ),
    )


@router.delete(REPLIES + "/{replyId}", operation_id="drive.replies.delete")
async def delete_reply(request: Request, fileId: str, commentId: str, replyId: str) -> Response:
    return await run(
        request,
        "drive.replies.delete",
        lambda ctx: comments.delete_reply(ctx, file_id=fileId, comment_id=commentId, reply_id=replyId),
    )
