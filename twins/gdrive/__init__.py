"""The Google Drive v3 twin: `/drive/v3/...`, `/upload/drive/v3/...`, discovery, and the Google
OAuth endpoints every Google twin serves, over the shared Workspace store."""

from __future__ import annotations

from fastapi.routing import APIRoute

from twins._workspace import oauth
from twins._workspace.twin import google_twin
from twins.gdrive import constants
from twins.gdrive.errors import ADAPTER
from twins.gdrive.fault_points import FAULT_POINTS
from twins.gdrive.routes import router

OPERATIONS = frozenset(r.operation_id for r in router.routes if isinstance(r, APIRoute) and r.operation_id)

TWIN = google_twin(
    name="gdrive",
    default_port=7104,
    error_adapter=ADAPTER,
    routers=[router],
    operations=OPERATIONS,
    fault_points=FAULT_POINTS,
    max_body_bytes=constants.MAX_BODY_BYTES,
    description="A behavioral clone of the Google Drive API v3 (https://developers.google.com/workspace/drive/api).",
)

__all__ = ["TWIN", "oauth"]
