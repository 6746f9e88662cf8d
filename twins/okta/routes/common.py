"""Wire helpers shared by the Okta routes: paged lists with `Link` headers."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from dtu.pagination import okta_link_header
from twins.okta.dependencies import base_url, okta_json


def paged(
    request: Request,
    items: list[Any],
    next_after: str | None,
    *,
    limit: int | None = None,
    always_next: bool = False,
) -> Response:
    """A list answer with Okta's `Link` headers: `self` always, `next` while there is more (one
    header per relation, as Okta sends them)."""
    params: dict[str, Any] = {k: v for k, v in request.query_params.items()}
    if limit is not None and "limit" in params:
        params["limit"] = str(limit)
    link = okta_link_header(base_url(request), request.url.path, params, next_after)
    response = okta_json(items)
    for part in link.split(", <"):
        response.headers.append("Link", part if part.startswith("<") else "<" + part)
    return response
