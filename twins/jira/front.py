"""The Jira routes, dispatched without FastAPI's router: the same endpoints, a cheaper way in.

FastAPI 0.165 matches a request against the included routers route by route, through several
layers of scope bookkeeping (~5 us a route; `GET /search` is the 82nd of 183, `/issue/{issue}`
the 91st), solves `_check_version` in the thread pool, and the core middleware had already
matched the same routes once more to name the operation. Every Jira route is an `async`
endpoint that takes the `Request` and string path parameters, returns a `Response`, and
depends on nothing but `_check_version`; so this layer, innermost of the app's middleware (after
the core's faults and journal, before FastAPI's exception handling and routing):

- finds the route as Starlette does (the first whose path matches and whose methods allow the
  request's), remembered per (method, path);
- runs `_check_version` and the endpoint itself, under Starlette's `ExceptionMiddleware` with
  the app's own exception handlers (so a `JiraError` is rendered exactly as before);
- leaves everything else (no route, a wrong method, the control plane, a route of another
  shape) to FastAPI, which answers it as it always did.

`operation_of` names the vendor operation from the same table (what `TwinMiddleware` journals
and matches fault rules against).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from twins.jira.routes import router
from twins.jira.routes.common import _check_version

MAX_REMEMBERED = 10_000


@dataclass(frozen=True)
class Route:
    """One route as the dispatcher runs it."""

    api_route: APIRoute
    operation: str
    fast: bool  # served here (else FastAPI serves it)
    check_version: bool
    request_param: str
    params: tuple[str, ...]  # the endpoint's path parameters, by name


def _fast_shape(route: APIRoute) -> tuple[bool, bool]:
    """(whether the dispatcher may call the endpoint itself, whether `_check_version` runs)."""
    d = route.dependant
    calls = [dep.call for dep in d.dependencies]
    if any(call is not _check_version for call in calls):
        return False, False
    plain = (
        d.request_param_name is not None
        and not d.query_params
        and not d.header_params
        and not d.cookie_params
        and not d.body_params
        and d.background_tasks_param_name is None
        and d.response_param_name is None
        and all(p.field_info.annotation is str for p in d.path_params)
        and inspect.iscoroutinefunction(route.endpoint)
        and inspect.signature(route.endpoint).return_annotation in (Response, "Response")
    )
    return plain, bool(calls)


class Routes:
    """The twin's routes in order, and which one serves a (method, path)."""

    def __init__(self, routes: Sequence[Any]) -> None:
        self.routes: list[Route] = []
        for r in routes:
            if isinstance(r, APIRoute):
                fast, check = _fast_shape(r)
                params = tuple(p.name for p in r.dependant.path_params)
                request_param = r.dependant.request_param_name or "request"
                self.routes.append(Route(r, r.operation_id or r.name, fast, check, request_param, params))
        self._found: dict[tuple[str, str], tuple[Route, dict[str, Any]] | None] = {}

    def find(self, scope: Scope) -> tuple[Route, dict[str, Any]] | None:
        """The route that fully matches, and its path parameters (Starlette's rule: the first
        route whose path matches and whose methods, if any, include the request's)."""
        if scope["type"] != "http":
            return None
        path = get_route_path(scope)
        key = (scope["method"], path)
        found = self._found.get(key, False)
        if found is False:
            found = self._match(scope["method"], path)
            if len(self._found) >= MAX_REMEMBERED:
                self._found.clear()
            self._found[key] = found
        return found  # type: ignore[return-value]

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, Any]] | None:
        for route in self.routes:
            r = route.api_route
            m = r.path_regex.match(path)
            if m is None:
                continue
            if r.methods and method not in r.methods:
                continue
            params = {k: r.param_convertors[k].convert(v) for k, v in m.groupdict().items()}
            return route, params
        return None

    def operation_of(self, scope: Scope) -> str | None:
        found = self.find(scope)
        return found[0].operation if found is not None else None


class Front:
    """The dispatcher (see the module docstring), as an ASGI middleware."""

    def __init__(self, app: ASGIApp, routes: Routes, handlers: Callable[[], dict[Any, Any]]) -> None:
        self.app = app
        self.routes = routes
        self._handlers = handlers
        self._fast: ASGIApp | None = None

    def _fast_app(self) -> ASGIApp:
        """The endpoint call under the app's exception handlers (read on first use: they are all
        registered by then), as FastAPI's `ExceptionMiddleware` would handle it."""
        if self._fast is None:
            handlers = {k: v for k, v in self._handlers().items() if k not in (500, Exception)}
            self._fast = ExceptionMiddleware(self._call, handlers=handlers)
        return self._fast

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.routes.find(scope) if scope["type"] == "http" else None
        if found is None or not found[0].fast:
            await self.app(scope, receive, send)
            return
        route, params = found
        path_params = dict(scope.get("path_params", {}))
        path_params.update(params)
        scope["endpoint"] = route.api_route.endpoint
        scope["path_params"] = path_params
        scope["route"] = route.api_route
        await self._fast_app()(scope, receive, send)

    async def _call(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: Route = self.routes.find(scope)[0]  # type: ignore[index]
        request = Request(scope, receive, send)
        if route.check_version:
            _check_version(request)
        path_params = scope["path_params"]
        kwargs: dict[str, Any] = {name: path_params[name] for name in route.params}
        kwargs[route.request_param] = request
        response = await route.api_route.endpoint(**kwargs)
        if not isinstance(response, Response):
            raise TypeError(f"{route.operation} answered {type(response).__name__}, not a Response")
        await response(scope, receive, send)


ROUTES = Routes(router.routes)
