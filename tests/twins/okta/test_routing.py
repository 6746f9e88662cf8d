"""Okta's route index picks the route FastAPI would pick, the control plane's routes ahead of
Okta's change no answer, and the app still answers what no route takes (404, 405, the
trailing-slash redirect) as FastAPI does.

`twins/okta/routing.py` serves a request a route fully matches without FastAPI's routing, and
names its operation for the journal and the fault rules. Its answer must be FastAPI's: the
first route, in declared order, whose pattern and methods match (`APIRoute.matches`)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from dtu.testing.plugin import Tenant
from twins.okta.routes import routers
from twins.okta.routing import ROUTES

METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
VALUES = ["00uabc", "me", "default", "x.y", "a@b.com", "lifecycle", "users", "v1"]


def _fastapi(scope: dict[str, Any]) -> Any:
    """What the route walk before the index answered: the first full match in declared order."""
    from starlette.routing import Match

    for router in routers:
        for route in router.routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return route
    return None


def _paths() -> set[str]:
    paths: set[str] = {"/", "/api", "/api/v1", "/api/v1/", "/oauth2", "/_dtu/health", "/openapi.json"}
    for route in ROUTES.routes:
        for value in VALUES:
            path = re.sub(r"\{[^}]+\}", value, route.path_format)
            paths.update({path, path + "/", path + "/extra", path.rsplit("/", 1)[0]})
    return paths


@pytest.mark.parametrize("root_path", ["", "/okta"])
def test_the_index_matches_as_fastapi_does(root_path: str) -> None:
    checked = 0
    for path in sorted(_paths()):
        for method in METHODS:
            scope = {"type": "http", "method": method, "path": root_path + path, "root_path": root_path}
            hit = ROUTES.match(dict(scope))
            want = _fastapi(dict(scope))
            assert (hit[0] if hit else None) is want, (method, path)
            if want is not None:
                checked += 1
                params = want.matches(dict(scope))[1]["path_params"]
                assert hit is not None and hit[1] == params
    assert checked > len(ROUTES.routes)  # every route matched at least once


def _pick(routes: list[Any], scope: dict[str, Any]) -> Any:
    """What FastAPI's router takes for a scope: the first full match, else the first partial."""
    from starlette.routing import Match

    partial = None
    for route in routes:
        match, _ = route.matches(dict(scope))
        if match == Match.FULL:
            return route
        if match == Match.PARTIAL and partial is None:
            partial = route
    return partial


def test_the_control_plane_ahead_of_okta_changes_no_answer() -> None:
    """`create_app` includes Okta's routers after the control plane's (core includes a twin's
    first): for every path, the route taken (full match, else partial) is the same in both orders."""
    from dtu.admin.router import router as control
    from dtu.settings import TwinSettings
    from twins.okta.app import create_app

    routes = list(create_app(TwinSettings()).router.routes)
    okta = [r for r in routes if getattr(r, "original_router", None) in routers]
    rest = [r for r in routes if r not in okta]
    assert len(okta) == len(routers) and routes == [*rest, *okta]
    before = [rest[0], *okta, *rest[1:]]  # FastAPI's own route (openapi.json), the twin's, the core's
    ours = {re.sub(r"\{[^}]+\}", "x", getattr(r, "path", "")) for r in control.routes}
    ours |= {"/_dtu/okta/keys/rotate"}
    for path in sorted(_paths() | ours | {p + "/" for p in ours}):
        for method in METHODS:
            scope = {"type": "http", "method": method, "path": path, "root_path": ""}
            assert _pick(routes, scope) is _pick(before, scope), (method, path)


def test_what_no_route_takes_is_answered_as_before(okta_tenant: Tenant, http: httpx.Client) -> None:
    """404 and 405 in Okta's error shape, the slash redirect from FastAPI's router."""
    missing = http.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["errorCode"] == "E0000007"
    wrong = http.patch("/api/v1/users")
    assert wrong.status_code == 405 and wrong.json()["errorCode"] == "E0000022"
    slash = http.get("/api/v1/users/", follow_redirects=False)
    assert slash.status_code == 307 and slash.headers["location"].endswith("/api/v1/users")
    assert http.get("/api/v1/users/", follow_redirects=True).status_code == 200
