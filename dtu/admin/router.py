"""The control plane, `/_dtu/...`, the same on every twin (CONTRACT.md section 5).

Not part of any cloned API: hidden from the twin's OpenAPI, exempt from faults and the
journal, and refused to callers other than loopback unless an admin token is configured and
presented (`Authorization: Bearer <token>` or `X-DTU-Admin-Token`). Inspection endpoints never
change anything. Errors here are the control plane's own: `{"error": {"message", "field"?}}`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import orjson
import yaml
from fastapi import APIRouter, Depends, Request
from sqlalchemy import Connection, Table, bindparam, select
from sqlalchemy.exc import IntegrityError
from starlette.responses import Response

from dtu import __version__
from dtu.errors import json_response
from dtu.faults.model import ProfileError, parse_profile
from dtu.runtime import TwinRuntime
from dtu.sql import Prepared


class ControlError(Exception):
    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field

    def response(self) -> Response:
        body: dict[str, Any] = {"message": self.message}
        if self.field:
            body["field"] = self.field
        return json_response({"error": body}, self.status)


def runtime(request: Request) -> TwinRuntime:
    rt: TwinRuntime = request.app.state.dtu
    return rt


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return True  # in-process transports (TestClient, ASGITransport) have no peer
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in ("localhost", "testclient")


async def guard(request: Request) -> None:
    rt = runtime(request)
    token = rt.settings.admin_token
    if token:
        presented = request.headers.get("x-dtu-admin-token") or request.headers.get(
            "authorization", ""
        ).removeprefix("Bearer ")
        if presented == token:
            return
        if not _is_loopback(request.client.host if request.client else None):
            raise ControlError(403, "the control plane needs the admin token from this address")
        return
    if not _is_loopback(request.client.host if request.client else None):
        raise ControlError(
            403, "the control plane answers loopback callers only (start the twin with --admin-token)"
        )


async def _one_process(request: Request) -> None:
    """Faults, clocks and snapshots live in the process that is told of them: with several
    workers, a change would reach one worker of N, and the twin would answer by chance."""
    if runtime(request).settings.workers > 1:
        raise ControlError(
            409,
            "this twin runs several worker processes, each with its own faults, clocks and snapshots; "
            "start it with one worker to change them, or give every worker the same profile with --faults",
        )


# Every handler and dependency here is `async def`, though most do blocking work: FastAPI runs
# a plain `def` in a worker thread, and the thread hop cost more than the work (the harness
# calls the control plane ~25 times a trajectory). Units run on the loop anyway (dtu/db.py).
router = APIRouter(prefix="/_dtu", include_in_schema=False, dependencies=[Depends(guard)])


async def _json_body(request: Request, *, yaml_ok: bool = False) -> Any:
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        if not yaml_ok:
            raise ControlError(400, "the body is not valid JSON") from None
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ControlError(400, f"the body is neither JSON nor YAML: {exc}") from None


def _known_tenant(rt: TwinRuntime, tenant: str | None) -> str | None:
    if tenant is not None and not rt.tenant_exists(tenant):
        raise ControlError(404, f"no tenant {tenant!r}", "tenant")
    return tenant


@router.get("/health")
async def health(request: Request) -> Response:
    rt = runtime(request)
    profile = rt.faults.get()
    return json_response(
        {
            "twin": rt.spec.name,
            "status": "ok",
            "version": __version__,
            "schema": rt.store.schema_fingerprint(),
            "db": rt.store.engine.dialect.name,
            "faults": profile.name if profile else None,
        }
    )


@router.post("/reset")
async def reset(request: Request, tenant: str | None = None) -> Response:
    rt = runtime(request)
    _known_tenant(rt, tenant)
    rt.reset(tenant)
    return json_response({"ok": True, "tenant": tenant})


@router.post("/seed")
async def seed(request: Request, tenant: str | None = None) -> Response:
    rt = runtime(request)
    _known_tenant(rt, tenant)
    fixture = await _json_body(request)
    if not isinstance(fixture, dict):
        raise ControlError(400, "a fixture is a JSON object")
    try:
        created = rt.seed(fixture, tenant)
    except IntegrityError as exc:
        raise ControlError(409, f"the fixture conflicts with stored data: {exc.orig}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ControlError(400, f"the fixture does not load: {exc!r}") from None
    return json_response({"ok": True, "tenant": tenant or "default", "created": created})


_TENANT_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")


@router.post("/tenants")
async def create_tenant(request: Request) -> Response:
    rt = runtime(request)
    body = await _json_body(request) or {}
    if not isinstance(body, dict) or not isinstance(body.get("fixture", {}), dict):
        raise ControlError(400, 'the body is {"fixture": {...}} or empty', "fixture")
    name = body.get("tenant")
    if name is not None:
        if not isinstance(name, str) or not _TENANT_NAME.fullmatch(name) or name == "default":
            raise ControlError(400, "a tenant name is 1-40 characters of [A-Za-z0-9_-]", "tenant")
        if rt.tenant_exists(name):
            raise ControlError(409, f"tenant {name!r} exists", "tenant")
    try:
        created = rt.create_tenant(body.get("fixture"), name)
    except IntegrityError as exc:
        raise ControlError(409, f"the fixture conflicts with stored data: {exc.orig}", "fixture") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ControlError(400, f"the fixture does not load: {exc!r}", "fixture") from None
    return json_response(created, 201)


@router.get("/tenants")
async def list_tenants(request: Request) -> Response:
    return json_response({"tenants": runtime(request).tenants()})


@router.delete("/tenants/{tenant}")
async def delete_tenant(request: Request, tenant: str) -> Response:
    rt = runtime(request)
    _known_tenant(rt, tenant)
    if tenant == "default":
        raise ControlError(400, "the default tenant cannot be deleted; reset it instead", "tenant")
    rt.delete_tenant(tenant)
    return json_response({"ok": True, "tenant": tenant})


@router.post("/snapshots", dependencies=[Depends(_one_process)])
async def take_snapshot(request: Request, tenant: str | None = None) -> Response:
    rt = runtime(request)
    _known_tenant(rt, tenant)
    return json_response({"id": rt.snapshot(tenant), "tenant": tenant}, 201)


@router.get("/snapshots")
async def list_snapshots(request: Request) -> Response:
    return json_response({"snapshots": runtime(request).snapshots()})


@router.post("/snapshots/{snap_id}/restore", dependencies=[Depends(_one_process)])
async def restore_snapshot(request: Request, snap_id: str) -> Response:
    rt = runtime(request)
    try:
        return json_response({"ok": True, **rt.restore(snap_id)})
    except KeyError:
        raise ControlError(404, f"no snapshot {snap_id!r}", "id") from None
    except ValueError as exc:
        raise ControlError(409, str(exc)) from None


@router.get("/faults")
async def get_faults(request: Request, tenant: str | None = None) -> Response:
    _known_tenant(runtime(request), tenant)
    profile = runtime(request).faults.get(tenant)
    return json_response(
        {"tenant": tenant, "profile": profile.model_dump(mode="json", exclude_none=True) if profile else None}
    )


@router.put("/faults", dependencies=[Depends(_one_process)])
async def put_faults(request: Request, tenant: str | None = None) -> Response:
    rt = runtime(request)
    _known_tenant(rt, tenant)
    data = await _json_body(request, yaml_ok=True)
    try:
        profile = parse_profile(data)
        rt.set_faults(profile, tenant)
    except ProfileError as exc:
        raise ControlError(400, exc.reason, exc.field) from None
    return json_response(
        {"ok": True, "tenant": tenant, "profile": profile.model_dump(mode="json", exclude_none=True)}
    )


@router.delete("/faults", dependencies=[Depends(_one_process)])
async def delete_faults(request: Request, tenant: str | None = None) -> Response:
    _known_tenant(runtime(request), tenant)
    runtime(request).set_faults(None, tenant)
    return json_response({"ok": True, "tenant": tenant})


@router.get("/clock")
async def get_clock(request: Request, tenant: str | None = None) -> Response:
    return json_response(runtime(request).clocks.describe(tenant))


@router.post("/clock", dependencies=[Depends(_one_process)])
async def set_clock(request: Request, tenant: str | None = None) -> Response:
    rt = runtime(request)
    _known_tenant(rt, tenant)
    body = await _json_body(request) or {}
    if not isinstance(body, dict) or set(body) - {"freeze", "at", "advance_s"}:
        raise ControlError(400, "the body takes freeze (bool or a time), at (unix seconds) and advance_s")
    freeze = body.get("freeze")
    at = body.get("at")
    if isinstance(freeze, int | float) and not isinstance(freeze, bool):
        at, freeze = float(freeze), True
    for name, value in (("at", at), ("advance_s", body.get("advance_s"))):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ControlError(400, f"{name} must be a number", name)
    if freeze is not None and not isinstance(freeze, bool):
        raise ControlError(400, "freeze must be true, false or a time", "freeze")
    if body.get("advance_s") is not None and body["advance_s"] < 0:
        raise ControlError(400, "the clock does not go backwards by advance_s; use at", "advance_s")
    described = rt.clocks.set(tenant, freeze=freeze, at=at, advance_s=body.get("advance_s"))
    rt.deliveries.kick()
    if rt.spec.tick is not None:
        await rt.spec.tick(rt)
    return json_response(described)


def _limit(limit: int) -> int:
    if limit < 0:
        raise ControlError(400, "limit is 0 (no limit) or a positive number", "limit")
    return limit


def _idle_s(rt: TwinRuntime, tenant: str | None, items: list[dict[str, Any]]) -> float | None:
    """How long the tenant has been quiet: seconds since its last journaled request or the end
    of its last delivery attempt, 0 while a delivery is pending, None if it has had neither.
    Delivery attempts are timed on the twin clock, so a frozen clock leaves them out."""
    if any(d.get("state") == "pending" for d in items):
        return 0.0
    idle = rt.journal.idle_s(tenant)
    clock = rt.clocks.describe(tenant)
    ends = [
        a["at"] + (a.get("duration_ms") or 0) / 1000
        for d in items
        for a in d.get("attempts") or []
        if isinstance(a.get("at"), int | float)
    ]
    if ends and not clock["frozen"]:
        since_delivery = max(clock["now"] - max(ends), 0.0)
        idle = since_delivery if idle is None else min(idle, since_delivery)
    return None if idle is None else round(idle, 3)


# async handlers: the journal and the delivery log live on the event loop, which appends to
# them; reading them there is cheap now (indexed) and cannot race an append
@router.get("/journal")
async def journal(
    request: Request,
    tenant: str | None = None,
    since: int = 0,
    limit: int = 1000,
    operation: str | None = None,
    deliveries: bool = False,
) -> Response:
    """The tenant's requests past `since`; with `deliveries=true`, also its deliveries (as
    `/deliveries` answers them, the newest `limit`) and `idle_s`: a trace reader's one call
    per twin instead of three."""
    rt = runtime(request)
    entries = rt.journal.query(tenant=tenant, since=since, limit=_limit(limit), operation=operation)
    if not deliveries:
        return json_response({"entries": entries})
    items = rt.deliveries.query(tenant=tenant, limit=limit)
    return json_response({"entries": entries, "deliveries": items, "idle_s": _idle_s(rt, tenant, items)})


@router.get("/deliveries")
async def deliveries(
    request: Request,
    tenant: str | None = None,
    kind: str | None = None,
    state: str | None = None,
    limit: int = 1000,
) -> Response:
    items = runtime(request).deliveries.query(tenant=tenant, kind=kind, state=state, limit=_limit(limit))
    return json_response({"deliveries": items})


@router.get("/operations")
async def operations(request: Request) -> Response:
    spec = runtime(request).spec
    return json_response(
        {
            "twin": spec.name,
            "operations": sorted(spec.operations),
            "fault_points": dict(spec.fault_points),
            "deliveries": sorted(spec.deliveries),
        }
    )


@router.get("/state")
async def collections(request: Request) -> Response:
    return json_response({"collections": sorted(runtime(request).spec.collections)})


@router.get("/state/{collection}")
async def inspect(request: Request, collection: str, tenant: str = "default", limit: int = 1000) -> Response:
    rt = runtime(request)
    table = rt.spec.collections.get(collection)
    if table is None:
        raise ControlError(
            404, f"no collection {collection!r}; there are {sorted(rt.spec.collections)}", "collection"
        )
    filters = {k: v for k, v in request.query_params.items() if k not in ("tenant", "limit")}
    for name in filters:
        if name not in table.c:
            raise ControlError(400, f"{collection} has no column {name!r}", name)

    params: dict[str, Any] = {"tenant": tenant, "limit": limit}
    try:
        for name, value in filters.items():
            params["f_" + name] = _coerce(value, getattr(table.c[name].type, "python_type", str))
    except ValueError as exc:
        raise ControlError(400, str(exc), name) from None
    stmt = _inspection(table, tuple(filters))

    def read(conn: Connection) -> list[dict[str, Any]]:
        return [r._asdict() for r in stmt.all(conn, params)]

    try:
        rows = rt.store.run_sync(read)
    except ValueError as exc:
        raise ControlError(400, str(exc)) from None
    for row in rows:
        for key, value in list(row.items()):
            if isinstance(value, bytes):
                row[key] = f"<{len(value)} bytes>"
    return json_response({"collection": collection, "tenant": tenant, "items": rows})


_INSPECTIONS: dict[tuple[Table, tuple[str, ...]], Prepared] = {}


def _inspection(table: Table, names: tuple[str, ...]) -> Prepared:
    """The statement of a state read, built once per (collection, filtered columns): the
    harness's checks poll these."""
    found = _INSPECTIONS.get((table, names))
    if found is None:
        stmt = select(table).where(table.c.tenant_id == bindparam("tenant"))
        for name in names:
            stmt = stmt.where(table.c[name] == bindparam("f_" + name, type_=table.c[name].type))
        found = _INSPECTIONS[(table, names)] = Prepared(stmt.limit(bindparam("limit")))
    return found


def _coerce(value: str, python_type: type) -> Any:
    if python_type is bool:
        return value.lower() in ("1", "true", "yes")
    if python_type in (int, float):
        return python_type(value)
    return value
