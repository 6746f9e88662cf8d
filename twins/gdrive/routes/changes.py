"""Drive `changes`, `files.watch` and `channels.stop` (push notifications)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from twins.gdrive import fields
from twins.gdrive.dependencies import json_body, param_bool, param_int, run
from twins.gdrive.service import changes, push

router = APIRouter()
V3 = "/drive/v3"
LIST_DEFAULT = (
    "kind,nextPageToken,newStartPageToken,"
    "changes(kind,type,changeType,time,removed,fileId,file(kind,id,name,mimeType),driveId,drive(kind,id,name))"
)


def _mask(request: Request, schema: str, default: str) -> fields.Mask:
    wanted = request.query_params.get("fields")
    mask = fields.parse(wanted if wanted and wanted.strip() else default)
    if wanted and wanted.strip():
        fields.validate(mask, schema)
    return mask


def _all_drive_flags(request: Request) -> tuple[bool, bool]:
    """(supportsAllDrives, includeItemsFromAllDrives), the deprecated team-drive names too."""
    supports = param_bool(request, "supportsAllDrives") | param_bool(request, "supportsTeamDrives")
    include = param_bool(request, "includeItemsFromAllDrives") | param_bool(request, "includeTeamDriveItems")
    return supports, include


def _drive_id(request: Request) -> str | None:
    return request.query_params.get("driveId") or request.query_params.get("teamDriveId") or None


@router.get(V3 + "/changes/startPageToken", operation_id="drive.changes.getStartPageToken")
async def get_start_page_token(request: Request) -> Response:
    supports, _include = _all_drive_flags(request)
    mask = _mask(request, "StartPageToken", "kind,startPageToken")
    drive_id = _drive_id(request)
    return await run(
        request,
        "drive.changes.getStartPageToken",
        lambda ctx: fields.apply(changes.start_page_token(ctx, drive_id=drive_id, all_drives=supports), mask),
    )


@router.get(V3 + "/changes", operation_id="drive.changes.list")
async def list_changes(request: Request) -> Response:
    supports, include = _all_drive_flags(request)
    drive_id = _drive_id(request)
    mask = _mask(request, "ChangeList", LIST_DEFAULT)
    size = min(param_int(request, "pageSize", 100, low=1) or 100, 1000)  # above 1000 is coerced
    include_removed = param_bool(request, "includeRemoved", True)
    restrict = param_bool(request, "restrictToMyDrive")
    token, spaces = request.query_params.get("pageToken"), request.query_params.get("spaces")
    return await run(
        request,
        "drive.changes.list",
        lambda ctx: fields.apply(
            changes.list_changes(
                ctx,
                page_token=token,
                page_size=size,
                include_removed=include_removed,
                restrict_to_my_drive=restrict,
                spaces=spaces,
                drive_id=drive_id,
                include_all_drives=include,
                all_drives=supports,
            ),
            mask,
        ),
    )


@router.post(V3 + "/changes/watch", operation_id="drive.changes.watch")
async def watch_changes(request: Request) -> Response:
    supports, include = _all_drive_flags(request)
    body = await json_body(request)
    token = request.query_params.get("pageToken")
    drive_id = _drive_id(request)
    param_int(request, "pageSize", 100, low=1)
    options = {
        "driveId": drive_id,
        "includeItemsFromAllDrives": include,
        "includeRemoved": param_bool(request, "includeRemoved", True),
        "restrictToMyDrive": param_bool(request, "restrictToMyDrive"),
        "supportsAllDrives": supports,
    }
    return await run(
        request,
        "drive.changes.watch",
        lambda ctx: push.watch_changes(ctx, page_token=token, body=body, options=options),
    )


@router.post(V3 + "/files/{fileId}/watch", operation_id="drive.files.watch")
async def watch_file(request: Request, fileId: str) -> Response:
    _all_drive_flags(request)
    body = await json_body(request)
    return await run(
        request, "drive.files.watch", lambda ctx: push.watch_file(ctx, file_id=fileId, body=body)
    )


@router.post(V3 + "/channels/stop", operation_id="drive.channels.stop")
async def stop_channel(request: Request) -> Response:
    body = await json_body(request)
    return await run(request, "drive.channels.stop", lambda ctx: push.stop(ctx, body=body))
