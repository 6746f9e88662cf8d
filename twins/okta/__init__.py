"""The Okta twin: the Management API (`/api/v1/...`), Authn, and OIDC/OAuth 2.0 authorization
servers (`/oauth2/v1/...`, `/oauth2/{id}/v1/...`). https://developer.okta.com/docs/api/
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from starlette.types import Scope

from dtu.errors import RequestFacts
from dtu.ratelimit import Limit
from dtu.twin import TwinSpec
from twins.okta import catalog, constants, models, seed
from twins.okta.dependencies import credential_in_body, credential_of_scope, tenant_of_credential
from twins.okta.errors import OktaErrorAdapter
from twins.okta.fault_points import FAULT_POINTS


def bucket(method: str, path: str) -> Limit:
    """The rate-limit bucket of a request (constants.RATE_LIMITS: first matching pattern)."""
    for i, (pattern, m, n) in enumerate(constants.RATE_LIMIT_PATTERNS):
        if pattern.search(path) and (m is None or m == method):
            return Limit(f"bucket:{i}", n, constants.RATE_WINDOW_S)
    return Limit("bucket:default", 1200, constants.RATE_WINDOW_S)


def _credential_of(scope: Scope) -> str | None:
    return credential_of_scope(scope.get("headers", ()), scope.get("query_string", b""))


def _tenant_of_credential(conn: Connection, credential: str) -> str | None:
    return tenant_of_credential(conn, credential)


def _real_limit(facts: RequestFacts) -> Limit | None:
    return bucket(facts.method, facts.path)


def _routers() -> list[Any]:
    from twins.okta.routes import routers

    return list(routers)


def _operation_of(scope: Scope) -> str | None:
    """The vendor operationId of the route a request matches (twins/okta/routing.py: the core
    cannot see through FastAPI's included-router wrappers, and asking every route is slow)."""
    from twins.okta.routing import operation_of

    return operation_of(scope)


def _admin_routers() -> list[Any]:
    from twins.okta.routes.admin import router

    return [router]


TWIN = TwinSpec(
    name="okta",
    default_port=7101,
    error_adapter=OktaErrorAdapter(),
    routers=_routers(),
    operation_of=_operation_of,
    tables=models.TABLES,
    default_fixture=seed.default_fixture,
    load_fixture=seed.load_fixture,
    credentials=seed.credentials,
    credential_of=_credential_of,
    tenant_of_credential=_tenant_of_credential,
    operations=frozenset(catalog.operations()),
    collections=models.COLLECTIONS,
    fault_points=FAULT_POINTS,
    deliveries=frozenset({"event_hooks", "event_hook_verification"}),
    real_limit=_real_limit,
    universe=seed.universe_fixture,
    admin_routers=_admin_routers(),
    credential_in_body=credential_in_body,
    openapi=catalog.openapi,
    description="A behavioral clone of Okta's Management API and OIDC authorization servers "
    "(https://developer.okta.com/docs/api/).",
)
