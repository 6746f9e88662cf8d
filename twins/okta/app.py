"""`create_app(settings)`: the Okta twin as an ASGI app (uvicorn target `twins.okta.app:app`).

Around the core app sits one small ASGI layer for what Okta puts on every response:
`X-Okta-Request-Id` and the `X-Rate-Limit-Limit/Remaining/Reset` headers of the endpoint's
bucket (https://developer.okta.com/docs/reference/rl-best-practices/), counted for real even
when no `real_limits` fault enforces them. It also collapses `//` in paths: the okta SDK keeps
a trailing `/` of the org URL and asks for `//api/v1/...`, which Okta serves.
"""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dtu.app import create_twin_app
from dtu.ids import stable_hash
from dtu.ratelimit import RateLimiter
from dtu.settings import TwinSettings
from twins.okta import TWIN, bucket
from twins.okta.routing import OktaRouter

_SLASHES = re.compile(r"/{2,}")


class OktaHeaders:
    def __init__(self, app: ASGIApp, runtime: Any) -> None:
        self.app = app
        self.rt = runtime
        self.counter = RateLimiter()
        self.seq = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_dtu"):
            await self.app(scope, receive, send)
            return
        if "//" in scope["path"]:
            scope["path"] = _SLASHES.sub("/", scope["path"])
            scope["raw_path"] = scope["path"].encode()
        state: dict[str, Any] = scope.setdefault("state", {})
        request_id = f"{stable_hash('okta-request', self.rt.settings.seed, next(self.seq)):016x}"
        request_id += f"{stable_hash('okta-request-2', request_id):016x}"
        state["okta.request_id"] = request_id
        method, path = scope["method"], scope["path"]

        async def send_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() != b"x-rate-limit-retry-after-s"
                ]
                retry = next(
                    (v for k, v in message.get("headers", []) if k.lower() == b"x-rate-limit-retry-after-s"),
                    None,
                )
                names = {k.lower() for k, _ in headers}
                headers.append((b"x-okta-request-id", request_id.encode()))
                if b"x-rate-limit-limit" not in names:
                    headers.extend(self._rate_headers(state, method, path, message["status"], retry))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_headers)

    def _rate_headers(
        self, state: dict[str, Any], method: str, path: str, status: int, retry: bytes | None
    ) -> list[tuple[bytes, bytes]]:
        tenant = state.get("dtu.tenant")
        now = self.rt.clocks.now(tenant)
        limit = bucket(method, path)
        verdict = state.get("dtu.rate_verdict")
        if verdict is None:
            verdict = (
                self.counter.hit(tenant, limit, now)
                if status != 429
                else self.counter.peek(tenant, limit, now)
            )
        reset = verdict.reset_at
        remaining = verdict.remaining if status != 429 else 0
        if retry is not None:
            reset = now + int(retry)
        return [
            (b"x-rate-limit-limit", str(verdict.limit).encode()),
            (b"x-rate-limit-remaining", str(remaining).encode()),
            (b"x-rate-limit-reset", str(math.ceil(reset)).encode()),
        ]


def create_app(settings: TwinSettings | None = None) -> FastAPI:
    app = create_twin_app(TWIN, settings)
    app.add_middleware(OktaHeaders, runtime=app.state.dtu)
    # Innermost, below the core middleware: Okta's routes without FastAPI's routing (routing.py).
    app.user_middleware.append(Middleware(OktaRouter))
    return app


def __getattr__(name: str) -> FastAPI:
    # `uvicorn twins.okta.app:app` builds the app on first access, from DTU_OKTA_* settings.
    if name == "app":
        return create_app()
    raise AttributeError(name)
