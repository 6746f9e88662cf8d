"""Control plane extras of the Okta twin (`/_dtu/okta/...`, loopback or admin token).

    POST /_dtu/okta/keys/rotate?tenant=ID   -> {"kid": "<the new ACTIVE key>"}

Rotation makes a new ACTIVE signing key; the previous one stays published until the next
rotation, as Okta's automatic key rotation does (https://developer.okta.com/docs/concepts/key-rotation/).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from dtu.admin.router import ControlError, guard
from dtu.errors import json_response
from dtu.runtime import TwinRuntime
from twins.okta.dependencies import base_url
from twins.okta.service import keys

router = APIRouter(prefix="/_dtu/okta", include_in_schema=False, dependencies=[Depends(guard)])


@router.post("/keys/rotate")
async def rotate_keys(request: Request) -> Response:
    runtime: TwinRuntime = request.app.state.dtu
    tenant = request.query_params.get("tenant") or "default"
    if not runtime.tenant_exists(tenant):
        raise ControlError(404, f"no tenant {tenant!r}", "tenant")
    kid = await runtime.unit(tenant, keys.rotate_logged, base_url=base_url(request))
    return json_response({"kid": kid, "tenant": tenant})
