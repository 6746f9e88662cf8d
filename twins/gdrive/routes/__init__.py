"""The Drive twin's routes: thin wire functions with the discovery method id as `operation_id`.

Gathered into one flat router (the fault middleware resolves operations from it). Order
matters: `/files/generateIds` and `/files/trash` come before `/files/{fileId}`.
"""

from __future__ import annotations

from fastapi import APIRouter

from twins._workspace import routes as oauth_routes
from twins.gdrive.routes import batch, changes, comments, drives, files, meta, permissions, revisions, uploads

router = APIRouter()
for module_router in (
    meta.router,
    batch.router,
    uploads.router,
    changes.router,
    comments.router,
    drives.router,
    files.router,
    permissions.router,
    revisions.router,
    oauth_routes.router,
):
    router.routes.extend(module_router.routes)
