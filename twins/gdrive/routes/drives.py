"""Drive `drives` (shared drives)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from twins.gdrive import fields
from twins.gdrive.dependencies import json_body, param_bool, param_int, run
from twins.gdrive.service import drives

router = APIRouter()
BASE = "/drive/v3/drives"
DEFAULT = "kind,id,name"
LIST_DEFAULT = "kind,nextPageToken,drives(kind,id,name)"


def _mask(request: Request, schema: str, default: str) -> fields.Mask:
    wanted = request.query_params.get("fields")
    mask = fields.parse(wanted if wanted and wanted.strip() else default)
    if wanted and wanted.strip():
        fields.validate(mask, schema)
    return mask


@router.post(BASE, operation_id="drive.drives.create")
async def create(request: Request) -> Response:
    mask = _mask(request, "Drive", DEFAULT)
    body = await json_body(request)
    request_id = request.query_params.get("requestId")
    return await run(
        request,
        "drive.drives.create",
        lambda ctx: fields.apply(drives.create(ctx, request_id=request_id, body=body), mask),
    )


@router.get(BASE, operation_id="drive.drives.list")
async def list_(request: Request) -> Response:
    mask = _mask(request, "DriveList", LIST_DEFAULT)
    size = param_int(request, "pageSize", 10, low=1, high=100) or 10
    param_bool(request, "useDomainAdminAccess")
    token, q = request.query_params.get("pageToken"), request.query_params.get("q")
    return await run(
        request,
        "drive.drives.list",
        lambda ctx: fields.apply(drives.list_drives(ctx, page_size=size, page_token=token, q=q), mask),
    )


@router.get(BASE + "/{driveId}", operation_id="drive.drives.get")
async def get(request: Request, driveId: str) -> Response:
    mask = _mask(request, "Drive", DEFAULT)
    param_bool(request, "useDomainAdminAccess")
    return await run(
        request, "drive.drives.get", lambda ctx: fields.apply(drives.get(ctx, drive_id=driveId), mask)
    )


@router.patch(BASE + "/{driveId}", operation_id="drive.drives.update")
async def update(request: Request, driveId: str) -> Response:
    mask = _mask(request, "Drive", DEFAULT)
    body = await json_body(request)
    return await run(
        request,
        "drive.drives.update",
        lambda ctx: fields.apply(drives.update_drive(ctx, drive_id=driveId, body=body), mask),
    )


@router.delete(BASE + "/{driveId}", operation_id="drive.drives.delete")
async def delete(request: Request, driveId: str) -> Response:
    return await run(request, "drive.drives.delete", lambda ctx: drives.delete_drive(ctx, drive_id=driveId))


@router.post(BASE + "/{driveId}/hide", operation_id="drive.drives.hide")
async def hide(request: Request, driveId: str) -> Response:
    mask = _mask(request, "Drive", DEFAULT)
    return await run(
        request,
        "drive.drives.hide",
        lambda ctx: fields.apply(drives.set_hidden(ctx, drive_id=driveId, hidden=True), mask),
    )


@router.post(BASE + "/{driveId}/unhide", operation_id="drive.drives.unhide")
async def unhide(request: Request, driveId: str) -> Response:
    mask = _mask(request, "Drive", DEFAULT)
    return await run(
        request,
        "drive.drives.unhide",
        lambda ctx: fields.apply(drives.set_hidden(ctx, drive_id=driveId, hidden=False), mask),
    )
