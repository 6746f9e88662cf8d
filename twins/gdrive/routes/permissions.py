"""Drive `permissions`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from twins.gdrive import fields
from twins.gdrive.dependencies import json_body, param_bool, run
from twins.gdrive.service import permissions

router = APIRouter()
BASE = "/drive/v3/files/{fileId}/permissions"
DEFAULT = "kind,id,type,role"
LIST_DEFAULT = "kind,nextPageToken,permissions(kind,id,type,role)"


def _mask(request: Request, schema: str, default: str) -> fields.Mask:
    wanted = request.query_params.get("fields")
    mask = fields.parse(wanted if wanted and wanted.strip() else default)
    if wanted and wanted.strip():
        fields.validate(mask, schema)
    return mask


@router.post(BASE, operation_id="drive.permissions.create")
async def create(request: Request, fileId: str) -> Response:
    mask = _mask(request, "Permission", DEFAULT)
    body = await json_body(request)
    transfer = param_bool(request, "transferOwnership")
    notify = param_bool(request, "sendNotificationEmail", True)
    return await run(
        request,
        "drive.permissions.create",
        lambda ctx: fields.apply(
            permissions.create(
                ctx, file_id=fileId, body=body, transfer_ownership=transfer, send_notification_email=notify
            ),
            mask,
        ),
    )


@router.get(BASE, operation_id="drive.permissions.list")
async def list_(request: Request, fileId: str) -> Response:
    mask = _mask(request, "PermissionList", LIST_DEFAULT)
    return await run(
        request,
        "drive.permissions.list",
        lambda ctx: fields.apply(permissions.list_permissions(ctx, file_id=fileId), mask),
    )


@router.get(BASE + "/{permissionId}", operation_id="drive.permissions.get")
async def get(request: Request, fileId: str, permissionId: str) -> Response:
    mask = _mask(request, "Permission", DEFAULT)
    return await run(
        request,
        "drive.permissions.get",
        lambda ctx: fields.apply(permissions.get(ctx, file_id=fileId, permission_id=permissionId), mask),
    )


@router.patch(BASE + "/{permissionId}", operation_id="drive.permissions.update")
async def update(request: Request, fileId: str, permissionId: str) -> Response:
    mask = _mask(request, "Permission", DEFAULT)
    body = await json_body(request)
    transfer = param_bool(request, "transferOwnership")
    remove = param_bool(request, "removeExpiration")
    return await run(
        request,
        "drive.permissions.update",
        lambda ctx: fields.apply(
            permissions.update_permission(
                ctx,
                file_id=fileId,
                permission_id=permissionId,
                body=body,
                transfer_ownership=transfer,
                remove_expiration=remove,
            ),
            mask,
        ),
    )


@router.delete(BASE + "/{permissionId}", operation_id="drive.permissions.delete")
async def delete(request: Request, fileId: str, permissionId: str) -> Response:
    return await run(
        request,
        "drive.permissions.delete",
        lambda ctx: permissions.delete_permission(ctx, file_id=fileId, permission_id=permissionId),
    )
