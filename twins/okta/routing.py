"""Okta's routes without FastAPI's routing: an index of them, and the twin's `direct` front.

FastAPI 0.165 matches a request against every route of every included router, twice (to pick
the router, then the route), and `TwinMiddleware` asked each route again for the operation id:
with 136 Okta routes that cost more than a cached call's own work (bench/profile_okta.py).

- `ROUTES.match(scope)` finds the route FastAPI would run, looking only at the routes that can
  match the path: routes are bucketed by their first three path segments when those are
  literal, and tried in their declared order, with each route's own compiled pattern and
  methods (what `APIRoute.matches` checks). It answers only full matches (path and method).
- `OktaRouter`, the innermost middleware of the app: for a full match it calls the route's
  endpoint as FastAPI does (every Okta endpoint is `async def (request, <str path params>)`
  and answers a `Response`), inside the app's own exception handler tables, so errors are
  rendered exactly as before. Anything else (a path or method no route takes: 404, 405, the
  trailing-slash redirect; `/openapi.json`; the control plane) goes down to FastAPI unchanged.

Why not `TwinSpec.direct`: the core serves a direct prefix ahead of every middleware of the
app, and Okta's own (`OktaHeaders`: `//` paths, request ids, rate-limit headers, also on the
errors and faults the core middleware answers) must stay outside the core middleware.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

_KEY_DEPTH = 3  # path segments a bucket key holds ("api", "v1", "users")


def _key(path: str) -> tuple[str, ...]:
    return tuple(path.split("/", _KEY_DEPTH + 1)[1 : _KEY_DEPTH + 1])


class RouteIndex:
    """The Okta routes in declared order, bucketed by their literal leading segments."""

    def __init__(self, routes: Iterable[APIRoute]) -> None:
        self.routes = list(routes)
        for route in self.routes:
            if not isinstance(route, APIRoute) or not route.methods:
                raise TypeError(f"{route!r}: the Okta routes are APIRoutes with methods")
        keyed: dict[tuple[str, ...], list[int]] = {}
        general: list[int] = []
        for i, route in enumerate(self.routes):
            key = _key(route.path_format)
            if len(key) == _KEY_DEPTH and not any("{" in part for part in key):
                keyed.setdefault(key, []).append(i)
            else:
                general.append(i)
        self._general = [self.routes[i] for i in general]
        self._buckets = {key: [self.routes[i] for i in sorted(ids + general)] for key, ids in keyed.items()}

    def candidates(self, route_path: str) -> list[APIRoute]:
        """The routes that may match `route_path`, in declared order."""
        return self._buckets.get(_key(route_path), self._general)

    def match(self, scope: Scope) -> tuple[APIRoute, dict[str, Any]] | None:
        """The first route that fully matches (path and method) and its path parameters."""
        if scope["type"] != "http":
            return None
        route_path = get_route_path(scope)
        method = scope["method"]
        found = scope.get("okta.route")
        if found is not None and found[0] == route_path and found[1] == method:
            hit: tuple[APIRoute, dict[str, Any]] | None = found[2]
            return hit
        hit = None
        for route in self.candidates(route_path):
            m = route.path_regex.match(route_path)
            if m is not None and method in route.methods:  # type: ignore[operator]  # checked above
                params = m.groupdict()
                for name, value in params.items():
                    params[name] = route.param_convertors[name].convert(value)
                hit = (route, params)
                break
        scope["okta.route"] = (route_path, method, hit)  # the front asks again for the same request
        return hit


def _routes() -> list[APIRoute]:
    from twins.okta.routes import routers

    return [route for router in routers for route in router.routes if isinstance(route, APIRoute)]


ROUTES = RouteIndex(_routes())


def _check_endpoints(routes: Iterable[APIRoute]) -> None:
    """The front calls endpoints as `await endpoint(request, **path_params)`: every Okta
    endpoint must be a coroutine function of exactly those, with nothing FastAPI would inject."""
    for route in routes:
        params = list(inspect.signature(route.endpoint).parameters.values())
        names = [p.name for p in params[1:]]
        if (
            not inspect.iscoroutinefunction(route.endpoint)
            or not params
            or params[0].annotation not in (Request, "Request")
            or set(names) != set(route.param_convertors)
            or any(
                p.annotation not in (str, "str") or p.default is not inspect.Parameter.empty
                for p in params[1:]
            )
            or route.dependencies
        ):
            raise TypeError(
                f"{route.path}: an Okta endpoint is `async def (request: Request, <path params: str>)`"
            )


_check_endpoints(ROUTES.routes)


async def _dispatch(scope: Scope, receive: Receive, send: Send) -> None:
    """Run the endpoint of the route `ROUTES.match` found, as FastAPI's router would."""
    hit = ROUTES.match(scope)
    assert hit is not None
    route, params = hit
    # What FastAPI's router puts in the scope on a match (`APIRouter.app`, `APIRoute.matches`).
    if "router" not in scope:
        scope["router"] = scope["app"].router
    path_params = dict(scope.get("path_params", {}))
    path_params.update(params)
    scope.update(endpoint=route.endpoint, path_params=path_params, route=route)
    response = await route.endpoint(Request(scope, receive, send), **params)
    await response(scope, receive, send)


class OktaRouter:
    """The innermost of the app's middleware (below `TwinMiddleware`, right above FastAPI's
    `ExceptionMiddleware`): a request an Okta route fully matches runs its endpoint here,
    inside the same exception handler tables; any other goes down to FastAPI as before."""

    def __init__(self, app: ASGIApp) -> None:
        if not isinstance(app, ExceptionMiddleware):
            raise RuntimeError("OktaRouter must sit right above FastAPI's ExceptionMiddleware")
        self.app = app
        handled = ExceptionMiddleware(_dispatch, debug=app.debug)
        handled._exception_handlers = app._exception_handlers
        handled._status_handlers = app._status_handlers
        self._handled = handled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_dtu") or ROUTES.match(scope) is None:
            await self.app(scope, receive, send)
            return
        await self._handled(scope, receive, send)


def operation_of(scope: Scope) -> str | None:
    """The vendor operationId of the route a request matches (`TwinSpec.operation_of`)."""
    hit = ROUTES.match(scope)
    if hit is None:
        return None
    route = hit[0]
    return route.operation_id or route.name
