"""`TwinSpec`: what a twin tells the core about itself; `create_twin_app` does the rest.

A twin folder exports one `TWIN = TwinSpec(...)` from its `__init__.py`. The spec names the
routers, the error adapter, the tables (in dependency order), how to load a fixture into a
tenant, how to find the tenant behind a credential, and the operations, fault points,
delivery kinds and inspection collections the control plane validates against.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from sqlalchemy import Connection, Table
from starlette.types import ASGIApp, Scope

from dtu.context import TwinContext
from dtu.errors import ErrorAdapter, RequestFacts
from dtu.ratelimit import Limit

if TYPE_CHECKING:
    from dtu.runtime import TwinRuntime


@dataclass
class TwinSpec:
    name: str
    default_port: int
    error_adapter: ErrorAdapter
    routers: Sequence[APIRouter]
    tables: Sequence[Table]
    default_fixture: Callable[[], dict[str, Any]]
    load_fixture: Callable[[TwinContext, dict[str, Any], bool], dict[str, Any]]
    """Seed a tenant: (ctx, fixture, fresh_credentials) -> what was created. With
    fresh_credentials the twin mints new tokens so that they point at this tenant alone."""
    credentials: Callable[[TwinContext], dict[str, Any]]
    credential_of: Callable[[Scope], str | None]
    tenant_of_credential: Callable[[Connection, str], str | None]
    operations: frozenset[str]
    collections: Mapping[str, Table]
    operation_of: Callable[[Scope], str | None] | None = None
    fault_points: Mapping[str, str] = field(default_factory=dict)
    deliveries: frozenset[str] = frozenset()
    real_limit: Callable[[RequestFacts], Limit | None] | None = None
    rate_limit_headers: Callable[[Any], dict[str, str]] | None = None
    tick: Callable[[TwinRuntime], Awaitable[None]] | None = None
    admin_routers: Sequence[APIRouter] = ()
    universe: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    """Turn a universe file (`people` shared by every twin, plus a section per twin) into
    this twin's default fixture (`dtu up --universe FILE`)."""
    openapi: Callable[[str], dict[str, Any]] | None = None
    """The twin's own OpenAPI document (given the server URL), when FastAPI's generated one
    cannot describe the vendor surface (Slack's RPC methods share one route)."""
    max_body_bytes: int = 10 * 1024 * 1024
    credential_in_body: Callable[[Scope, bytes], str | None] | None = None
    """The credential of a POST whose headers carry none, from its body (Slack's form `token`);
    the core reads the body for it only when a fault profile is active."""
    direct: tuple[str, ASGIApp] | None = None
    """(path prefix, ASGI app): the twin's hot API served ahead of FastAPI's routing (which
    costs as much as a whole cached call); the core middleware still applies faults, the
    journal, body limits, and renders `TwinError`s through the adapter."""
    description: str = ""
    store_group: str | None = None
    """Twins that are front doors over one state (the three Google twins over the Workspace
    store) name the same group: they share its tenant registry and id counters
    (`<group>_tenant`, `<group>_counter`), so a tenant made through one is a tenant of all. They
    must declare the same `tables`, so that a reset, a tenant deletion or a snapshot through any
    of them covers the whole shared state. None: the twin is a group of its own."""
