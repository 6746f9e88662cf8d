"""Drive media uploads: `/upload/drive/v3/files[/{fileId}]` with `uploadType=media|multipart|resumable`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from dtu.runtime import TwinRuntime
from twins._workspace.errors import JSON
from twins.gdrive import fields
from twins.gdrive.dependencies import base_url, json_body, param_bool, param_list, run, unit
from twins.gdrive.errors import GoogleError, bad_request, invalid_value
from twins.gdrive.routes.files import FILE_DEFAULT, file_mask, shape
from twins.gdrive.service import files, uploads

router = APIRouter()
UP = "/upload/drive/v3/files"


def _upload_type(request: Request) -> str:
    kind = request.query_params.get("uploadType")
    if kind is None:
        ctype = request.headers.get("content-type", "").lower()
        return "multipart" if ctype.startswith("multipart/related") else "media"
    if kind not in ("media", "multipart", "resumable"):
        raise invalid_value("uploadType", f"Invalid value for uploadType: {kind}")
    return kind


async def _upload(request: Request, method_id: str, file_id: str | None) -> Response:
    kind = _upload_type(request)
    mask = file_mask(request)
    add, remove = param_list(request, "addParents"), param_list(request, "removeParents")
    keep = param_bool(request, "keepRevisionForever")
    if kind == "resumable":
        metadata = await json_body(request)
        total_header = request.headers.get("x-upload-content-length")
        try:
            total = int(total_header) if total_header else None
        except ValueError:
            raise bad_request("Invalid X-Upload-Content-Length header.") from None
        params: dict[str, Any] = {
            "fields": request.query_params.get("fields"),
            "addParents": add,
            "removeParents": remove,
            "keepRevisionForever": keep,
        }
        mime = request.headers.get("x-upload-content-type")
        upload_id = await unit(
            request,
            method_id,
            lambda ctx: uploads.start(
                ctx, metadata=metadata, params=params, mime=mime, total=total, file_id=file_id
            ),
        )
        runtime: TwinRuntime = request.app.state.dtu
        path = UP + (f"/{file_id}" if file_id else "")
        location = f"{base_url(request, runtime)}{path}?uploadType=resumable&upload_id={upload_id}"
        return Response(
            status_code=200,
            headers={
                "Location": location,
                "X-GUploader-UploadID": upload_id,
                "Content-Type": "text/plain; charset=utf-8",
            },
        )
    body = await request.body()
    if kind == "multipart":
        metadata, data, media_mime = uploads.parse_multipart(body, request.headers.get("content-type", ""))
    else:
        metadata, data = {}, body
        media_mime = request.headers.get("content-type") or "application/octet-stream"
    if file_id is None:
        return await run(
            request,
            method_id,
            lambda ctx: shape(mask, files.create(ctx, metadata=metadata, data=data, media_mime=media_mime)),
        )
    return await run(
        request,
        method_id,
        lambda ctx: shape(
            mask,
            files.update_file(
                ctx,
                file_id=file_id,
                metadata=metadata,
                data=data,
                media_mime=media_mime,
                add_parents=add,
                remove_parents=remove,
                keep_revision_forever=keep,
            ),
        ),
    )


async def _chunk(request: Request) -> Response:
    upload_id = request.query_params.get("upload_id")
    if not upload_id:
        raise GoogleError("Not Found", status=404, reason="notFound")
    runtime: TwinRuntime = request.app.state.dtu
    tenant = await runtime.store.run(lambda conn: uploads.tenant_of_upload(conn, upload_id))
    if tenant is None:
        raise GoogleError("Not Found", status=404, reason="notFound")
    request.scope.setdefault("state", {})["dtu.tenant"] = tenant
    body = await request.body()
    state = request.scope["state"]
    result = await runtime.unit(
        tenant,
        lambda ctx: uploads.put(
            ctx, upload_id=upload_id, content_range=request.headers.get("content-range"), body=body
        ),
        base_url=base_url(request, runtime),
        stale_lag_s=state.get("dtu.stale_lag_s"),
        points=state.get("dtu.points", {}),
        real_limits=bool(state.get("dtu.real_limits")),
    )
    headers = {"X-GUploader-UploadID": upload_id}
    if result["state"] == "incomplete":
        if result["received"]:
            headers["Range"] = f"bytes=0-{result['received'] - 1}"
        return Response(status_code=308, headers=headers, content=b"")
    wanted = (result.get("params") or {}).get("fields")
    mask = fields.parse(wanted if wanted else FILE_DEFAULT)
    import orjson

    return Response(
        orjson.dumps(fields.apply(result["file"], mask)), status_code=200, media_type=JSON, headers=headers
    )


@router.post(UP, operation_id="drive.files.create")
async def upload_create(request: Request) -> Response:
    return await _upload(request, "drive.files.create", None)


@router.put(UP, operation_id="drive.files.create")
async def upload_create_chunk(request: Request) -> Response:
    return await _chunk(request)


@router.patch(UP + "/{fileId}", operation_id="drive.files.update")
async def upload_update(request: Request, fileId: str) -> Response:
    return await _upload(request, "drive.files.update", fileId)


@router.put(UP + "/{fileId}", operation_id="drive.files.update")
async def upload_update_chunk(request: Request, fileId: str) -> Response:
    return await _chunk(request)
