"""`create_twin_app(spec, settings)`: a twin's FastAPI app, with everything the core adds.

Order of the layers, outermost first: `TwinMiddleware` (faults, journal, body limit, last
resort errors), FastAPI's exception handlers (every one renders through the twin's
`ErrorAdapter`), the control plane under `/_dtu`, then the twin's own routers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from dtu import __version__
from dtu.admin.router import ControlError
from dtu.admin.router import router as control_router
from dtu.errors import RequestFacts, TwinError
from dtu.faults.middleware import TwinMiddleware
from dtu.runtime import TwinRuntime
from dtu.settings import TwinSettings
from dtu.twin import TwinSpec

log = logging.getLogger("dtu")


def _facts(request: Request, spec: TwinSpec) -> RequestFacts:
    state = request.scope.get("state", {})
    return RequestFacts(
        spec.name, request.method, request.url.path, state.get("dtu.operation"), state.get("dtu.tenant")
    )


def _validation_text(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query"))
        parts.append(f"{loc}: {err.get('msg')}" if loc else str(err.get("msg")))
    return "; ".join(parts)


class TwinApp(FastAPI):
    """A twin's app. Requests for the twin's direct prefix (`TwinSpec.direct`) go straight to
    the core middleware: FastAPI's outer layers (telemetry check, error and body-limit
    middleware) cost ~7% of a write there and the core middleware does their work itself."""

    _front: TwinMiddleware | None = None
    _front_prefix: str = ""

    def serve_direct(self, prefix: str, runtime: TwinRuntime) -> None:
        self._front = TwinMiddleware(super().__call__, runtime)
        self._front_prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        front = self._front
        if front is not None and scope["type"] == "http" and scope["path"].startswith(self._front_prefix):
            scope["app"] = self
            await front(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_twin_app(spec: TwinSpec, settings: TwinSettings | None = None) -> FastAPI:
    settings = settings or TwinSettings.from_env(spec.name)
    rt = TwinRuntime(spec, settings)
    adapter = spec.error_adapter

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await rt.deliveries.start()
        ticker = asyncio.create_task(_tick_loop(rt)) if spec.tick is not None else None
        try:
            yield
        finally:
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
            await rt.deliveries.stop()

    app = TwinApp(
        title=f"DTU {spec.name} twin",
        version=__version__,
        description=spec.description,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.dtu = rt

    @app.exception_handler(TwinError)
    async def _twin_error(request: Request, exc: TwinError) -> Response:
        return adapter.render(exc, _facts(request, spec))

    @app.exception_handler(ControlError)
    async def _control_error(_request: Request, exc: ControlError) -> Response:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith("/_dtu"):
            return ControlError(400, _validation_text(exc)).response()
        facts = _facts(request, spec)
        return adapter.render(adapter.validation(_validation_text(exc), facts), facts)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/_dtu"):
            return ControlError(exc.status_code, str(exc.detail)).response()
        facts = _facts(request, spec)
        if exc.status_code == 405:
            err = adapter.method_not_allowed(facts)
        elif exc.status_code == 404:
            err = adapter.not_found(facts)
        else:
            err = adapter.validation(str(exc.detail), facts)
            err.status = exc.status_code
        return adapter.render(err, facts)

    # The control plane's routes first: FastAPI tries every route ahead of the one that takes a
    # request, the twins' hot API requests skip its routing (`TwinSpec.direct`, Okta's and
    # Jira's fronts), and the harness calls the control plane ~10 times a trajectory; with the
    # twin's 100+ routes ahead, each of those calls cost ~0.3-0.6 ms more. No path of a twin
    # overlaps /_dtu, so the order changes no answer.
    app.include_router(control_router)
    for router in spec.admin_routers:
        app.include_router(router)
    for router in spec.routers:
        app.include_router(router)
    if spec.openapi is not None:
        vendor_openapi = spec.openapi

        def openapi() -> dict[str, Any]:
            if app.openapi_schema is None:
                app.openapi_schema = vendor_openapi(settings.public_url or "")
            return app.openapi_schema

        app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(TwinMiddleware, runtime=rt)
    if spec.direct is not None:
        app.serve_direct(spec.direct[0], rt)
    return app


async def _tick_loop(rt: TwinRuntime) -> None:
    """Time-driven behaviour (scheduled messages...) follows the twin clock."""
    assert rt.spec.tick is not None
    while True:
        await asyncio.sleep(rt.settings.tick_s)
        try:
            await rt.spec.tick(rt)
        except Exception:
            log.exception("tick of %s failed", rt.spec.name)


def runtime_of(app: Any) -> TwinRuntime:
    rt: TwinRuntime = app.state.dtu
    return rt
