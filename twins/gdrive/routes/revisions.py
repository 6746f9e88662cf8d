"""Drive `revisions` (metadata, `alt=media` downloads of a version, pinning, deletion)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from twins.gdrive import fields
from twins.gdrive.dependencies import json_body, param_bool, param_int, run, unit
from twins.gdrive.errors import invalid_value
from twins.gdrive.routes.files import _range
from twins.gdrive.service import revisions

router = APIRouter()
BASE = "/drive/v3/files/{fileId}/revisions"
DEFAULT = "kind,id,mimeType,modifiedTime"
LIST_DEFAULT = "kind,nextPageToken,revisions(kind,id,mimeType,modifiedTime)"


def _mask(request: Request, schema: str, default: str) -> fields.Mask:
    wanted = request.query_params.get("fields")
    mask = fields.parse(wanted if wanted and wanted.strip() else default)
    if wanted and wanted.strip():
        fields.validate(mask, schema)
    return mask


@router.get(BASE, operation_id="drive.revisions.list")
async def list_(request: Request, fileId: str) -> Response:
    mask = _mask(request, "RevisionList", LIST_DEFAULT)
    size = param_int(request, "pageSize", 200, low=1, high=1000) or 200
    token = request.query_params.get("pageToken")
    return await run(
        request,
        "drive.revisions.list",
        lambda ctx: fields.apply(
            revisions.list_revisions(ctx, file_id=fileId, page_size=size, page_token=token), mask
        ),
    )


@router.get(BASE + "/{revisionId}", operation_id="drive.revisions.get")
async def get(request: Request, fileId: str, revisionId: str) -> Response:
    alt = request.query_params.get("alt", "json")
    if alt == "media":
        param_bool(request, "acknowledgeAbuse")
        data, mime = await unit(
            request,
            "drive.revisions.get",
            lambda ctx: revisions.download(ctx, file_id=fileId, revision_id=revisionId),
        )
        span = _range(request.headers.get("range"), len(data))
        headers = {"Accept-Ranges": "bytes"}
        if span is None:
            return Response(data, media_type=mime, headers=headers)
        start, end = span
        headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        return Response(data[start : end + 1], status_code=206, media_type=mime, headers=headers)
    if alt != "json":
        raise invalid_value("alt")
    mask = _mask(request, "Revision", DEFAULT)
    return await run(
        request,
        "drive.revisions.get",
        lambda ctx: fields.apply(revisions.get(ctx, file_id=fileId, revision_id=revisionId), mask),
    )


@router.patch(BASE + "/{revisionId}", operation_id="drive.revisions.update")
async def update(request: Request, fileId: str, revisionId: str) -> Response:
    mask = _mask(request, "Revision", DEFAULT)
    body = await json_body(request)
    return await run(
        request,
        "drive.revisions.update",
        lambda ctx: fields.apply(
            revisions.update_revision(ctx, file_id=fileId, revision_id=revisionId, body=body), mask
        ),
    )


@router.delete(BASE + "/{revisionId}", operation_id="drive.revisions.delete")
async def delete(request: Request, fileId: str, revisionId: str) -> Response:
    return await run(
        request,
        "drive.revisions.delete",
        lambda ctx: revisions.delete_revision(ctx, file_id=fileId, revision_id=revisionId),
    )
