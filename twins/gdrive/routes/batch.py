"""Drive's batch endpoint, `POST /batch/drive/v3` (the discovery document's `batchPath`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from twins._workspace import batch
from twins.gdrive import constants

router = APIRouter()


@router.post("/batch/drive/v3", operation_id="batch")
async def drive_batch(request: Request) -> Response:
    return await batch.answer(request, service_path="/drive/v3/", limit=constants.BATCH_MAX_CALLS)
