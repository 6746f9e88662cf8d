"""`create_app(settings)`: the Jira twin as an ASGI app (uvicorn target `twins.jira.app:app`).

Around the core app sit two small ASGI layers. On a 429, Jira Cloud sends `X-RateLimit-Reset`,
the request's time plus `Retry-After`, as `yyyy-MM-ddTHH:mmZ`
(https://developer.atlassian.com/cloud/jira/platform/rate-limiting/). The request's time is
the tenant's twin clock, which the error adapter does not see: it is added here. Another
drops NUL characters from paths and query strings.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dtu.app import create_twin_app
from dtu.settings import TwinSettings
from twins.jira import TWIN
from twins.jira.front import ROUTES, Front
from twins.jira.service.common import register_caches


def reset_header(now: float, retry_after_s: int) -> str:
    return datetime.fromtimestamp(now + retry_after_s, UTC).strftime("%Y-%m-%dT%H:%MZ")


class RateLimitReset:
    def __init__(self, app: ASGIApp, runtime: Any) -> None:
        self.app = app
        self.rt = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Only the fault engine answers 429 (a rule, or real limits), and only while a profile is
        # on: the core middleware, next inside, decides that before it awaits anything.
        if scope["type"] != "http" or scope["path"].startswith("/_dtu") or not self.rt.faults.active:
            await self.app(scope, receive, send)
            return

        async def send_reset(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 429:
                headers = list(message.get("headers", []))
                retry = next((v for k, v in headers if k.lower() == b"retry-after"), None)
                if retry is not None and retry.isdigit():
                    state = scope.get("state", {})
                    tenant = state.get("dtu.tenant")
                    if tenant is None:
                        credential = TWIN.credential_of(scope)
                        tenant = self.rt.tenant_for(credential) if credential else None
                    value = reset_header(self.rt.clocks.now(tenant), int(retry))
                    headers.append((b"x-ratelimit-reset", value.encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_reset)


class WithoutNul:
    """Drops NUL characters from the path and the query string (`%00`) before routing: no store
    may hold them (PostgreSQL text cannot), so an id with a NUL names what it names without it.
    JSON bodies get the same treatment when read (`dependencies.body`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path, query = scope.get("path", ""), scope.get("query_string", b"")
            if "\x00" in path or b"%00" in query or b"\x00" in query:
                scope = dict(scope)
                scope["path"] = path.replace("\x00", "")
                scope["raw_path"] = scope.get("raw_path", b"").replace(b"%00", b"")
                scope["query_string"] = re.sub(rb"(?i)%00|\x00", b"", query)
        await self.app(scope, receive, send)


def create_app(settings: TwinSettings | None = None) -> FastAPI:
    app = create_twin_app(TWIN, settings)
    register_caches(app.state.dtu)
    app.add_middleware(RateLimitReset, runtime=app.state.dtu)
    app.add_middleware(WithoutNul)
    # Innermost: after the core middleware (faults, journal), before FastAPI's routing
    # (twins/jira/front.py); appended, not added, because `add_middleware` puts a layer outermost.
    app.user_middleware.append(Middleware(Front, routes=ROUTES, handlers=lambda: app.exception_handlers))
    return app


def __getattr__(name: str) -> FastAPI:
    # `uvicorn twins.jira.app:app` builds the app on first access, from DTU_JIRA_* settings.
    if name == "app":
        return create_app()
    raise AttributeError(name)
