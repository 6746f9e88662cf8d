"""Drive `files` (metadata calls and downloads)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from dtu.context import TwinContext
from twins.gdrive import fields
from twins.gdrive.dependencies import json_body, param_bool, param_int, param_list, run, unit
from twins.gdrive.errors import GoogleError, invalid_value
from twins.gdrive.service import files, listing

router = APIRouter()
V3 = "/drive/v3"
FILE_DEFAULT = "kind,id,name,mimeType"
LIST_DEFAULT = "kind,incompleteSearch,nextPageToken,files(kind,id,name,mimeType)"


def file_mask(request: Request) -> fields.Mask:
    """Parse and check `fields` before anything is written (a bad selector stores nothing)."""
    wanted = request.query_params.get("fields")
    if wanted and wanted.strip():
        mask = fields.parse(wanted)
        fields.validate(mask, "File")
        return mask
    return fields.parse(FILE_DEFAULT)


def shape(mask: fields.Mask, file: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = fields.apply(file, mask)
    return out


@router.get(V3 + "/files", operation_id="drive.files.list")
async def list_files(request: Request) -> Response:
    qp = request.query_params
    wanted = qp.get("fields")
    mask = fields.parse(wanted if wanted and wanted.strip() else LIST_DEFAULT)
    if wanted and wanted.strip():
        fields.validate(mask, "FileList")
    page_size = param_int(request, "pageSize", 100, low=1, high=1000) or 100
    include = param_bool(request, "includeItemsFromAllDrives") or param_bool(request, "includeTeamDriveItems")
    param_bool(request, "supportsAllDrives")

    def work(ctx: TwinContext) -> dict[str, Any]:
        out, renderer = listing.list_files(
            ctx,
            q=qp.get("q"),
            order_by=qp.get("orderBy"),
            page_size=page_size,
            page_token=qp.get("pageToken"),
            corpora=qp.get("corpora"),
            drive_id=qp.get("driveId") or qp.get("teamDriveId"),
            include_all_drives=include,
            spaces=qp.get("spaces"),
        )
        rows = out.pop("rows")
        if "files" in mask or "*" in mask:
            kept = mask.get("files")
            out["files"] = [renderer.file(r, list(kept) if kept else None) for r in rows]
        else:
            out["files"] = [{} for _ in rows]
        shaped: dict[str, Any] = fields.apply(out, mask)
        return shaped

    return await run(request, "drive.files.list", work)


@router.post(V3 + "/files", operation_id="drive.files.create")
async def create_file(request: Request) -> Response:
    mask = file_mask(request)
    metadata = await json_body(request)
    return await run(
        request, "drive.files.create", lambda ctx: shape(mask, files.create(ctx, metadata=metadata))
    )


@router.get(V3 + "/files/generateIds", operation_id="drive.files.generateIds")
async def generate_ids(request: Request) -> Response:
    count = param_int(request, "count", 10, low=1, high=1000) or 10
    space = request.query_params.get("space", "drive")
    kind = request.query_params.get("type", "files")
    return await run(
        request,
        "drive.files.generateIds",
        lambda ctx: files.generate_ids(ctx, count=count, space=space, type_=kind),
    )


@router.delete(V3 + "/files/trash", operation_id="drive.files.emptyTrash")
async def empty_trash(request: Request) -> Response:
    drive_id = request.query_params.get("driveId")
    return await run(request, "drive.files.emptyTrash", lambda ctx: files.empty_trash(ctx, drive_id=drive_id))


def _range(header: str | None, size: int) -> tuple[int, int] | None:
    """A single `bytes=` range, clipped to the content; None for no (or an ignorable) header."""
    if not header or not header.strip().lower().startswith("bytes="):
        return None
    spec = header.strip()[6:].split(",")[0].strip()
    first, sep, last = spec.partition("-")
    if not sep:
        return None
    try:
        if first == "":
            n = int(last)
            if n <= 0:
                raise _unsatisfiable(size)
            return max(0, size - n), size - 1
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        raise _unsatisfiable(size)
    return start, min(end, size - 1)


def _unsatisfiable(size: int) -> GoogleError:
    return GoogleError(
        "Request range not satisfiable",
        status=416,
        reason="requestedRangeNotSatisfiable",
        headers={"Content-Range": f"bytes */{size}"},
    )


@router.get(V3 + "/files/{fileId}", operation_id="drive.files.get")
async def get_file(request: Request, fileId: str) -> Response:
    alt = request.query_params.get("alt", "json")
    if alt == "media":
        ack = param_bool(request, "acknowledgeAbuse")
        data, mime, _name = await unit(
            request, "drive.files.get", lambda ctx: files.download(ctx, file_id=fileId, acknowledge_abuse=ack)
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
    mask = file_mask(request)
    return await run(
        request, "drive.files.get", lambda ctx: shape(mask, files.get(ctx, file_id=fileId, fields=list(mask)))
    )


@router.patch(V3 + "/files/{fileId}", operation_id="drive.files.update")
async def update_file(request: Request, fileId: str) -> Response:
    mask = file_mask(request)
    metadata = await json_body(request)
    add, remove = param_list(request, "addParents"), param_list(request, "removeParents")
    return await run(
        request,
        "drive.files.update",
        lambda ctx: shape(
            mask,
            files.update_file(ctx, file_id=fileId, metadata=metadata, add_parents=add, remove_parents=remove),
        ),
    )


@router.delete(V3 + "/files/{fileId}", operation_id="drive.files.delete")
async def delete_file(request: Request, fileId: str) -> Response:
    return await run(request, "drive.files.delete", lambda ctx: files.delete(ctx, file_id=fileId))


@router.post(V3 + "/files/{fileId}/copy", operation_id="drive.files.copy")
async def copy_file(request: Request, fileId: str) -> Response:
    mask = file_mask(request)
    metadata = await json_body(request)
    return await run(
        request,
        "drive.files.copy",
        lambda ctx: shape(mask, files.copy(ctx, file_id=fileId, metadata=metadata)),
    )


@router.get(V3 + "/files/{fileId}/export", operation_id="drive.files.export")
async def export_file(request: Request, fileId: str) -> Response:
    mime = request.query_params.get("mimeType")
    if not mime:
        raise GoogleError(
            "Required parameter: mimeType",
            status=400,
            reason="required",
            location="mimeType",
            location_type="parameter",
        )
    data, out_mime = await unit(
        request, "drive.files.export", lambda ctx: files.export(ctx, file_id=fileId, mime_type=mime)
    )
    return Response(data, media_type=out_mime, headers={"Content-Disposition": "attachment"})
