"""Discovery (`/discovery/v1/apis/drive/v3/rest`, `/$discovery/rest`) and `about.get`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from dtu.runtime import TwinRuntime
from twins.gdrive import discovery, fields
from twins.gdrive.dependencies import base_url, json_response, run
from twins.gdrive.errors import GoogleError, required
from twins.gdrive.service import about as about_service

router = APIRouter()


def _doc(request: Request) -> Response:
    runtime: TwinRuntime = request.app.state.dtu
    return json_response(discovery.for_root(base_url(request, runtime)))


@router.get("/discovery/v1/apis/{api}/{version}/rest", operation_id="discovery.apis.getRest")
async def get_rest(request: Request, api: str, version: str) -> Response:
    if (api, version) != ("drive", "v3"):
        raise GoogleError(
            f"Discovery document for API {api}/{version} not found.", status=404, reason="notFound"
        )
    return _doc(request)


@router.get("/$discovery/rest", operation_id="discovery.apis.getRest")
async def get_rest_short(request: Request) -> Response:
    if request.query_params.get("version", "v3") != "v3":
        raise GoogleError("Not Found", status=404, reason="notFound")
    return _doc(request)


@router.get("/drive/v3/about", operation_id="drive.about.get")
async def about_get(request: Request) -> Response:
    wanted = request.query_params.get("fields")
    if not wanted:
        raise required("fields", "The 'fields' parameter is required for this method.")
    mask = fields.parse(wanted)
    fields.validate(mask, "About")
    return await run(request, "drive.about.get", lambda ctx: fields.apply(about_service.about(ctx), mask))
