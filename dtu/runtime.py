"""`TwinRuntime`: the live parts of one twin process, shared by its routes and its control plane.

It owns the store, the clocks, the fault engine, the journal, the delivery engine and the rate
limiter, and runs every unit of work: `await runtime.unit(tenant, fn, ...)` opens a
transaction, builds the `TwinContext`, runs `fn(ctx)`, commits, and only then hands the
context's outbox to the delivery engine.
"""

from __future__ import annotations

import copy
import itertools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson
import yaml
from sqlalchemy import Connection, Table, bindparam, insert, select

from dtu import __version__
from dtu.cache import TenantCache
from dtu.clock import ClockRegistry
from dtu.context import TwinContext
from dtu.db import FRESH_TENANT, Store
from dtu.delivery import DeliveryEngine
from dtu.faults.engine import FaultEngine
from dtu.faults.model import FaultProfile, load_profile_text, validate_against
from dtu.ids import Ids
from dtu.journal import Journal
from dtu.ratelimit import RateLimiter
from dtu.settings import TwinSettings
from dtu.sql import Prepared
from dtu.twin import TwinSpec

T = TypeVar("T")
log = logging.getLogger("dtu")

DEFAULT_TENANT = "default"


def _as_json(fixture: dict[str, Any]) -> bytes | None:
    """The fixture as JSON, if JSON gives back exactly the same values (YAML dates would not)."""
    try:
        blob = orjson.dumps(fixture)
    except TypeError:
        return None
    return blob if orjson.loads(blob) == fixture else None


class TwinRuntime:
    def __init__(self, spec: TwinSpec, settings: TwinSettings) -> None:
        self.spec = spec
        self.settings = settings
        self.store = Store.open(settings.db_url, spec.tables, twin=spec.store_group or spec.name)
        self.store.units_in_threads = settings.units_in_threads
        self._tenants_t = self.store.core.tenant
        tenants = self._tenants_t
        self._tenant_exists = Prepared(select(tenants.c.id).where(tenants.c.id == bindparam("tenant")))
        self._insert_tenant = Prepared(
            insert(tenants), columns=["id", "created_at", "fixture", "credentials"]
        )
        self._tenant_credentials = Prepared(
            tenants.update()
            .where(tenants.c.id == bindparam("tenant"))
            .values(credentials=bindparam("credentials", type_=tenants.c.credentials.type))
        )
        self.clocks = ClockRegistry()
        self.faults = FaultEngine(spec.name, self.clocks)
        self.journal = Journal(spec.name)
        self.deliveries = DeliveryEngine(
            spec.name, self.clocks, self.faults, retry_scale=settings.delivery_retry_scale
        )
        self.limiter = RateLimiter()
        self._tenant_of: dict[str, str] = {}
        self._caches: dict[str, TenantCache[Any, Any]] = {}
        self._snapshots: dict[str, dict[str, Any]] = {}
        self._snap_seq = itertools.count(1)
        self._default_fixture = self._read_default_fixture()
        self._default_fixture_json = _as_json(self._default_fixture)
        if settings.faults_file:
            self.set_faults(load_profile_text(Path(settings.faults_file).read_text()))
        self._ensure_default_tenant()

    # -- fixtures and tenants ---------------------------------------------------------------

    def _read_default_fixture(self) -> dict[str, Any]:
        if self.settings.fixture_file:
            data = yaml.safe_load(Path(self.settings.fixture_file).read_text())
            if not isinstance(data, dict):
                raise ValueError(f"{self.settings.fixture_file}: a universe file is a mapping")
            if self.spec.universe is not None:
                return self.spec.universe(data)
            twin_part = data.get(self.spec.name, data)
            if not isinstance(twin_part, dict):
                raise ValueError(f"{self.settings.fixture_file}: `{self.spec.name}` is not a mapping")
            return twin_part
        return self.spec.default_fixture()

    @property
    def default_fixture(self) -> dict[str, Any]:
        """A fresh copy (loaders may change what they are given); decoding its JSON costs a
        tenth of a deepcopy, and every new tenant asks for one."""
        if self._default_fixture_json is not None:
            fixture: dict[str, Any] = orjson.loads(self._default_fixture_json)
            return fixture
        return copy.deepcopy(self._default_fixture)

    def _ensure_default_tenant(self) -> None:
        def work(conn: Connection) -> None:
            exists = conn.execute(
                select(self._tenants_t.c.id).where(self._tenants_t.c.id == DEFAULT_TENANT)
            ).first()
            if exists is None:
                self._create_tenant(conn, DEFAULT_TENANT, None, fresh_credentials=False)

        self.store.run_sync(work)

    def ids(self, conn: Connection, tenant: str) -> Ids:
        return Ids(conn, seed=self.settings.seed, tenant=tenant, counter=self.store.core.counter)

    def context(self, conn: Connection, tenant: str, **extra: Any) -> TwinContext:
        Store.note_tenant(conn, tenant)
        return TwinContext(
            conn=conn,
            tenant=tenant,
            clock=self.clocks.for_tenant(tenant),
            ids=self.ids(conn, tenant),
            runtime=self,
            **extra,
        )

    def _create_tenant(
        self, conn: Connection, tenant: str, fixture: dict[str, Any] | None, *, fresh_credentials: bool
    ) -> dict[str, Any]:
        ctx = self.context(conn, tenant)
        data = fixture if fixture is not None else self.default_fixture
        self._insert_tenant.execute(
            conn, {"id": tenant, "created_at": ctx.now(), "fixture": fixture, "credentials": {}}
        )
        conn.info[FRESH_TENANT] = (tenant, set())
        try:
            self.spec.load_fixture(ctx, data, fresh_credentials)
        finally:
            conn.info.pop(FRESH_TENANT, None)
        creds = self.spec.credentials(ctx)
        self._tenant_credentials.execute(conn, {"tenant": tenant, "credentials": creds})
        return creds

    def create_tenant(self, fixture: dict[str, Any] | None = None, name: str | None = None) -> dict[str, Any]:
        """A new tenant; `name` lets a caller (the harness) choose its id, so that a replay gets
        the same id, hence the same credentials, vendor ids and fault coin tosses."""

        def work(conn: Connection) -> dict[str, Any]:
            tenant = name or "tn" + self.ids(conn, "_dtu").hex("tenant", 10)
            creds = self._create_tenant(conn, tenant, fixture, fresh_credentials=True)
            return {"tenant": tenant, "credentials": creds}

        return self.store.run_sync(work)

    def tenants(self) -> list[dict[str, Any]]:
        return self.store.run_sync(
            lambda conn: [
                {"tenant": r.id, "created_at": r.created_at, "credentials": r.credentials}
                for r in conn.execute(
                    select(self._tenants_t).order_by(self._tenants_t.c.created_at, self._tenants_t.c.id)
                )
            ]
        )

    def tenant_exists(self, tenant: str) -> bool:
        """Asked by most control-plane calls that name a tenant: one prebuilt statement."""
        stmt = self._tenant_exists
        return self.store.run_sync(lambda conn: stmt.first(conn, {"tenant": tenant}) is not None)

    def delete_tenant(self, tenant: str) -> None:
        self.store.run_sync(lambda conn: self.store.wipe(conn, tenant))
        self._forget(tenant)

    def _forget(self, tenant: str | None) -> None:
        self._tenant_of.clear()
        self.limiter.clear(tenant)
        self.deliveries.clear(tenant)
        self.journal.clear(tenant)
        if tenant is None:
            self.faults.clear()
            self.clocks.reset()
        else:
            self.faults.drop_tenant(tenant)
            self.clocks.drop_tenant(tenant)

    def reset(self, tenant: str | None = None) -> None:
        """Back to the default fixture: the whole twin (every tenant dropped) or one tenant."""
        if tenant is None:

            def work(conn: Connection) -> None:
                self.store.wipe(conn)
                self._create_tenant(conn, DEFAULT_TENANT, None, fresh_credentials=False)
        else:

            def work(conn: Connection) -> None:
                row = conn.execute(select(self._tenants_t).where(self._tenants_t.c.id == tenant)).first()
                if row is None:
                    raise KeyError(tenant)
                self.store.wipe(conn, tenant)
                # Minted credentials are a function of (seed, tenant, counter), and the wipe
                # rewound the counters: the tenant gets back the very credentials it was handed.
                self._create_tenant(conn, tenant, row.fixture, fresh_credentials=tenant != DEFAULT_TENANT)

        self.store.run_sync(work)
        self._forget(tenant)

    def seed(self, fixture: dict[str, Any], tenant: str | None = None) -> dict[str, Any]:
        tenant = tenant or DEFAULT_TENANT
        return self.store.run_sync(
            lambda conn: self.spec.load_fixture(self.context(conn, tenant), fixture, False)
        )

    # -- snapshots ------------------------------------------------------------------------

    def snapshot(self, tenant: str | None = None) -> str:
        data = self.store.run_sync(lambda conn: self.store.dump(conn, tenant))
        snap_id = f"snap-{next(self._snap_seq)}"
        self._snapshots[snap_id] = {
            "tenant": tenant,
            "data": data,
            "clocks": self.clocks.export(),
            "fingerprint": self.store.schema_fingerprint(),
            "version": __version__,
        }
        return snap_id

    def restore(self, snap_id: str) -> dict[str, Any]:
        snap = self._snapshots[snap_id]
        if snap["fingerprint"] != self.store.schema_fingerprint():
            raise ValueError("snapshot was taken with another schema; it cannot be restored")
        tenant = snap["tenant"]

        def work(conn: Connection) -> None:
            self.store.wipe(conn, tenant)
            self.store.load(conn, snap["data"])

        self.store.run_sync(work)
        self._tenant_of.clear()
        if tenant is None:
            self.clocks.load(snap["clocks"])
        return {"id": snap_id, "tenant": tenant}

    def snapshots(self) -> list[dict[str, Any]]:
        return [{"id": k, "tenant": v["tenant"], "version": v["version"]} for k, v in self._snapshots.items()]

    # -- faults -----------------------------------------------------------------------------

    def set_faults(self, profile: FaultProfile | None, tenant: str | None = None) -> None:
        if profile is not None:
            validate_against(
                profile,
                twin=self.spec.name,
                operations=set(self.spec.operations),
                points=set(self.spec.fault_points),
                deliveries=set(self.spec.deliveries),
            )
        self.faults.set(profile, tenant)

    # -- credentials ------------------------------------------------------------------------

    def tenant_for(self, credential: str) -> str | None:
        """The tenant a credential belongs to (cached; the cache empties on reset)."""
        tenant = self._tenant_of.get(credential)
        if tenant is None:
            tenant = self.store.run_sync(lambda conn: self.spec.tenant_of_credential(conn, credential))
            if tenant is not None:
                self._tenant_of[credential] = tenant
        return tenant

    # -- caches ---------------------------------------------------------------------------

    def cache(self, name: str, *tables: Table) -> TenantCache[Any, Any]:
        """The cache `name`, of values read from `tables` (see dtu/cache.py); off when several
        processes share the database (`TwinSettings.cache`)."""
        found = self._caches.get(name)
        if found is None:
            found = TenantCache(self.store.versions, [t.name for t in tables], enabled=self.settings.cache)
            self._caches[name] = found
        return found

    # -- units of work --------------------------------------------------------------------

    def _work(
        self, tenant: str, fn: Callable[[TwinContext], T], extra: dict[str, Any], box: list[TwinContext]
    ) -> Callable[[Connection], T]:
        def work(conn: Connection) -> T:
            ctx = self.context(conn, tenant, **extra)
            box.append(ctx)
            return fn(ctx)

        return work

    def _committed(self, ctx: TwinContext) -> None:
        for delivery in ctx.outbox:
            self.deliveries.enqueue(delivery)
        for hook in ctx.after_commit:
            hook()

    async def unit(self, tenant: str, fn: Callable[[TwinContext], T], **extra: Any) -> T:
        """Run `fn(ctx)` in one transaction; deliveries leave only after it commits."""
        box: list[TwinContext] = []
        result = await self.store.run(self._work(tenant, fn, extra, box))
        self._committed(box[0])
        return result

    async def unit_resolving(
        self, resolve: Callable[[Connection], tuple[str, dict[str, Any]]], fn: Callable[[TwinContext], T]
    ) -> T:
        """`unit` for a call whose tenant is known only from the database (its credential's row):
        `resolve(conn)` answers the tenant and the context extras in the same transaction as
        `fn`, one round of begin/commit (and, on PostgreSQL, one thread hop) instead of two."""
        box: list[TwinContext] = []

        def work(conn: Connection) -> T:
            tenant, extra = resolve(conn)
            ctx = self.context(conn, tenant, **extra)
            box.append(ctx)
            return fn(ctx)

        result = await self.store.run(work)
        self._committed(box[0])
        return result

    def unit_sync(self, tenant: str, fn: Callable[[TwinContext], T], **extra: Any) -> T:
        box: list[TwinContext] = []
        result = self.store.run_sync(self._work(tenant, fn, extra, box))
        self._committed(box[0])
        return result
