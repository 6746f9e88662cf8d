"""oauth.v2.access, and the authorize page of the install flow.

oauth.v2.access takes the app's client credentials in HTTP Basic auth (slack_sdk sends them
so) or in the form: `web_api` hands Basic credentials to the method through the request
state, then serves the call like any other.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send

from twins.slack import dependencies
from twins.slack.dependencies import Call, slack_method
from twins.slack.errors import SlackError
from twins.slack.service import oauth

CREDENTIALS = "slack.client_credentials"


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


async def web_api(scope: Scope, receive: Receive, send: Send) -> None:
    """`/api/<method>` (`TwinSpec.direct`): the Web API, with oauth.v2.access's HTTP Basic
    client credentials put in the request state, where the method reads them."""
    if scope["path"] == "/api/oauth.v2.access":
        for key, value in scope.get("headers", ()):
            if key == b"authorization":
                found = _basic(value.decode("latin-1"))
                if found is not None:
                    scope.setdefault("state", {})[CREDENTIALS] = found
    await dependencies.web_api(scope, receive, send)


async def authorize_page(request: Request) -> Response:
    """`/oauth/v2/authorize`: the consent page a browser would show."""
    runtime = request.app.state.dtu
    params = dict(request.query_params)
    status, html = await runtime.store.run(lambda conn: oauth.consent_page(conn, params))
    return HTMLResponse(html, status_code=status)


@slack_method("oauth.v2.access", auth=False)
async def oauth_v2_access(call: Call) -> dict[str, Any]:
    client_id, client_secret = call.state.get(CREDENTIALS) or (
        call.args.str("client_id"),
        call.args.str("client_secret"),
    )
    grant_type = call.args.str("grant_type")
    if grant_type not in (None, "authorization_code", "refresh_token"):
        raise SlackError("invalid_grant_type")
    if not client_id:
        raise SlackError("invalid_client_id")
    if grant_type == "refresh_token":
        raise SlackError("invalid_refresh_token")
    code = call.args.str("code")
    tenant = await call.runtime.store.run(lambda conn: oauth.tenant_of_code(conn, code)) if code else None
    if tenant is None:
        known = await call.runtime.store.run(lambda conn: oauth.client_known(conn, client_id))
        raise SlackError("invalid_code" if known else "invalid_client_id")
    redirect_uri = call.args.str("redirect_uri")
    assert code is not None
    return await call.runtime.unit(
        tenant,
        lambda ctx: oauth.access(
            ctx, code=code, client_id=client_id, client_secret=client_secret, redirect_uri=redirect_uri
        ),
        base_url=call.base_url,
    )
