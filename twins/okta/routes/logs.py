"""The System Log."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from twins.okta import constants
from twins.okta.dependencies import authenticate, call
from twins.okta.routes.common import paged
from twins.okta.service import common, logs

router = APIRouter()


@router.get("/api/v1/logs", operation_id="listLogEvents")
async def list_log_events(request: Request) -> Response:
    p = await authenticate(request, "okta.logs.read")
    qp = request.query_params
    limit = common.parse_limit(
        qp.get("limit"), default=constants.LOGS_DEFAULT_LIMIT, maximum=constants.LOGS_MAX_LIMIT
    )
    items, nxt, _polling = await call(
        request,
        p,
        lambda ctx: logs.list_events(
            ctx,
            since=qp.get("since"),
            until=qp.get("until"),
            filter_=qp.get("filter"),
            q=qp.get("q"),
            sort_order=qp.get("sortOrder"),
            limit=limit,
            after=qp.get("after"),
        ),
    )
    return paged(request, items, nxt)
