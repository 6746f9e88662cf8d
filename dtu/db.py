"""State store: SQLAlchemy 2.x on SQLite (default) or PostgreSQL (by URL).

Design note. Twins declare their tables as typed ORM classes (for the schema, the
constraints and the inspection API) and run their hot paths as Core statements on a
`Connection`: an ORM unit of work costs several times a Core statement (see bench/).
Every twin row carries `tenant_id` and a composite primary key `(tenant_id, id)`, so one
fixture can be loaded into many tenants with the same vendor ids.

SQLite writes serialize on one file; rather than let a client ever see "database is
locked", the store runs units of work one at a time on the event loop thread (SQLite calls
take microseconds, a thread hop costs more than the query). PostgreSQL units of work run in
the thread pool on a fixed-size connection pool (the default pool churns connections under
load and falls to a third of the throughput).

    store = Store.open("sqlite://")            # or "postgresql+psycopg://..."
    rows = await store.run(lambda conn: conn.execute(select(T)).all())
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    Engine,
    Float,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    delete,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import ClauseElement, TextClause
from starlette.concurrency import run_in_threadpool

from dtu.cache import UNKNOWN_TENANT, Versions
from dtu.sql import Prepared

T = TypeVar("T")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base shared by the core tables and every twin's tables."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, list[str]: JSON}


class TenantScoped:
    """Mixin: the row belongs to one tenant (a Slack workspace, an Okta org, a Jira site...)."""

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)


@dataclass(frozen=True)
class CoreTables:
    """The core's own tables for one twin: its tenants and its id sequences.

    Named after the twin (`slack_tenant`, `slack_counter`) so that several twins can share
    one database (`dtu up --db postgresql://...`) without one's reset touching another's rows.
    """

    tenant: Table
    counter: Table


def table(model: type[Any]) -> Table:
    """The Core `Table` of a declarative model, typed as such.

    SQLAlchemy types `Model.__table__` as the general `FromClause`, which Core
    insert/update/delete and `.c` column typing reject under mypy strict; every declarative
    model here is mapped to a plain `Table`, so the cast is exact."""
    return cast(Table, model.__table__)


FRESH_TENANT = "dtu.fresh_tenant"
"""`conn.info` key: (tenant, keys upserted so far) while a unit loads a tenant it just created
(`TwinRuntime._create_tenant`). Fixture loaders write that tenant through `upsert` only."""


def upsert(conn: Connection, table: Table, key: dict[str, Any], values: dict[str, Any]) -> bool:
    """Insert the row, or update the one with this key; True if it was inserted.

    Fixture loading is an upsert by id (`POST /_dtu/seed` adds to a running tenant), and a
    portable select-then-write keeps it the same on SQLite and PostgreSQL. A new tenant runs
    dozens of these, so the three statements are built once per shape and run on the driver
    (building them cost ten times running them)."""
    if any(isinstance(v, ClauseElement) for v in values.values()):  # an SQL expression
        return _upsert_core(conn, table, key, values)
    plan = _upsert_plan(table, tuple(key), tuple(values))
    params = {"k_" + k: v for k, v in key.items()}
    fresh: tuple[str, set[Any]] | None = conn.info.get(FRESH_TENANT)
    if fresh is not None and key.get("tenant_id") == fresh[0]:
        # A tenant created in this unit holds only what this unit upserted: a key not seen yet
        # cannot exist, so there is nothing to look up (a new tenant runs dozens of these).
        seen = (table.name, *key.items())
        new = seen not in fresh[1]
        fresh[1].add(seen)
    else:
        new = plan.find.first(conn, params) is None
    if new:
        row = {**key, **values}
        for name, default in plan.defaults:
            row[name] = default(None)
        plan.insert.execute(conn, row)
        return True
    if plan.update is not None:
        plan.update.execute(conn, {**params, **{"v_" + k: v for k, v in values.items()}})
    return False


@dataclass(frozen=True)
class _UpsertPlan:
    find: Prepared
    insert: Prepared
    update: Prepared | None
    defaults: tuple[tuple[str, Callable[[Any], Any]], ...]  # Python-side column defaults


_UPSERT_PLANS: dict[tuple[Table, tuple[str, ...], tuple[str, ...]], _UpsertPlan] = {}


def _upsert_plan(table: Table, key: tuple[str, ...], values: tuple[str, ...]) -> _UpsertPlan:
    found = _UPSERT_PLANS.get((table, key, values))
    if found is not None:
        return found
    where = [table.c[k] == bindparam("k_" + k) for k in key]
    given = set(key) | set(values)
    defaults = []
    for column in table.columns:
        default: Any = column.default
        if column.name in given or default is None or not (default.is_scalar or default.is_callable):
            continue
        arg = default.arg
        defaults.append((column.name, arg if default.is_callable else (lambda _ctx, v=arg: v)))
    found = _UpsertPlan(
        find=Prepared(select(*[table.c[k] for k in key]).where(*where)),
        insert=Prepared(insert(table), columns=[*key, *values, *(n for n, _ in defaults)]),
        update=Prepared(update(table).where(*where).values({v: bindparam("v_" + v) for v in values}))
        if values
        else None,
        defaults=tuple(defaults),
    )
    _UPSERT_PLANS[(table, key, values)] = found
    return found


def _upsert_core(conn: Connection, table: Table, key: dict[str, Any], values: dict[str, Any]) -> bool:
    where = [table.c[k] == v for k, v in key.items()]
    if conn.execute(select(*[table.c[k] for k in key]).where(*where)).first() is None:
        conn.execute(insert(table).values(**key, **values))
        return True
    if values:
        conn.execute(update(table).where(*where).values(**values))
    return False


_CORE: dict[str, CoreTables] = {}


def core_tables(twin: str) -> CoreTables:
    if twin not in _CORE:
        tenant = Table(
            f"{twin}_tenant",
            Base.metadata,
            Column("id", String(64), primary_key=True),
            Column("created_at", Float, nullable=False),
            Column("fixture", JSON),
            Column("credentials", JSON, nullable=False),
        )
        counter = Table(
            f"{twin}_counter",
            Base.metadata,
            Column("tenant_id", String(64), primary_key=True),
            Column("kind", String(64), primary_key=True),
            Column("value", BigInteger, nullable=False),  # also clocks in micros (Slack's ts)
        )
        _CORE[twin] = CoreTables(tenant, counter)
    return _CORE[twin]


_LONG_DIGITS = re.compile(r"\d{19}")


def json_loads(text: str | bytes) -> Any:
    """JSON columns are decoded with orjson (a page of messages holds ~100 of them, and the
    stdlib decoder costs ten times more). The stdlib decodes what orjson would not give back
    identically: NaN and infinities (refused) and integers past 64 bits (made floats; any run
    of 19 digits goes to the stdlib)."""
    if text == "null":  # most JSON columns of most rows
        return None
    if len(text) < 19 or not _LONG_DIGITS.search(text if isinstance(text, str) else text.decode()):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def _json_dumps(value: Any) -> str:
    """JSON columns are encoded with orjson; the stdlib encodes what orjson refuses (integers
    past 64 bits, non-string keys), so every value stores as before."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class Store:
    """One database for one twin process, shared by every tenant."""

    def __init__(self, engine: Engine, tables: Sequence[Table], core: CoreTables) -> None:
        self.engine = engine
        self.tables = list(tables)
        self.core = core
        self.is_sqlite = engine.dialect.name == "sqlite"
        # `run` runs units on the caller's thread (the event loop) unless this is set: see
        # `TwinSettings.units_in_threads`. `run_sync` from other threads still runs in parallel.
        self.units_in_threads = False
        self._lock = threading.RLock()
        self.versions = Versions()
        self._conn: Connection | None = None
        self._wipe: list[Prepared] | None = None
        event.listen(engine, "after_execute", self._after_execute)

    def _after_execute(self, conn: Connection, statement: Any, *_rest: Any) -> None:
        if isinstance(statement, UpdateBase):
            self.versions.on_write(conn, statement)
        elif isinstance(statement, str | TextClause):
            text = str(statement).lstrip()[:6].lower()
            if text not in ("select", "pragma"):
                self.versions.on_write(conn, statement)

    @staticmethod
    def note_tenant(conn: Connection, tenant: str) -> None:
        """The unit of work in `conn` acts for `tenant` (its writes bump that tenant's versions);
        a unit that acts for two tenants bumps everyone's."""
        info = conn.info
        current = info.get("dtu.tenant")
        info["dtu.tenant"] = tenant if current in (None, tenant) else UNKNOWN_TENANT

    @classmethod
    def open(cls, url: str, tables: Sequence[Table], *, twin: str = "dtu", pool_size: int = 40) -> Store:
        if url.startswith("sqlite"):
            memory = url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url
            kwargs: dict[str, Any] = {
                "connect_args": {"check_same_thread": False},
                "json_deserializer": json_loads,
                "json_serializer": _json_dumps,
            }
            if memory:
                kwargs["poolclass"] = StaticPool
            engine = create_engine(url, **kwargs)
            if not memory:
                event.listen(engine, "connect", _sqlite_pragmas)
            else:
                event.listen(engine, "connect", lambda c, _r: c.execute("PRAGMA foreign_keys=ON"))
        else:
            engine = create_engine(
                url,
                pool_size=pool_size,
                max_overflow=0,
                pool_pre_ping=False,
                json_deserializer=json_loads,
                json_serializer=_json_dumps,
                # A twin is a test double: a commit need not wait for the WAL to reach the disk
                # (a crash can lose the last few ms of writes, never corrupt them), and waiting
                # for it cost ~4 ms per write on this machine (bench/PROFILE.md).
                connect_args={"options": "-c synchronous_commit=off"},
            )
        store = cls(engine, tables, core_tables(twin))
        Base.metadata.create_all(engine, tables=store.all_tables())
        return store

    def all_tables(self) -> list[Table]:
        return [self.core.tenant, self.core.counter, *self.tables]

    def run_sync(self, fn: Callable[[Connection], T]) -> T:
        """Run one unit of work in one transaction (commits on success, rolls back on error)."""
        written: set[tuple[str, str]] = set()
        try:
            if self.is_sqlite:
                with self._lock:
                    # One connection for the process, kept open: units run one at a time
                    # anyway, and a checkout per unit cost as much as a cached call's statements.
                    if self._conn is None or self._conn.closed:
                        self._conn = self.engine.connect()
                    with self._conn.begin():
                        return self._enter(self._conn, fn, written)
            with self.engine.begin() as conn:
                return self._enter(conn, fn, written)
        finally:
            if written:  # bumped again now that the transaction has ended: see dtu/cache.py
                self.versions.settle(written)

    def _enter(self, conn: Connection, fn: Callable[[Connection], T], written: set[tuple[str, str]]) -> T:
        info = conn.info
        info["dtu.written"] = written
        info["dtu.tenant"] = None
        info["dtu.on_write"] = self.versions.on_write
        return fn(conn)

    async def run(self, fn: Callable[[Connection], T]) -> T:
        if self.is_sqlite or not self.units_in_threads:
            return self.run_sync(fn)
        return await run_in_threadpool(self.run_sync, fn)

    # -- whole-store operations for the control plane --------------------------------------

    def wipe(self, conn: Connection, tenant: str | None = None) -> None:
        """Delete every row (of one tenant), children before parents."""
        if tenant is not None:
            for stmt in self._tenant_wipe():
                stmt.execute(conn, {"tenant": tenant})
            return
        for table in reversed(self.all_tables()):
            conn.execute(delete(table))

    def _tenant_wipe(self) -> list[Prepared]:
        """One tenant's deletes, built once (the harness resets tenants constantly)."""
        if self._wipe is None:
            self._wipe = [
                Prepared(
                    delete(t).where(
                        (t.c.id if t is self.core.tenant else t.c.tenant_id) == bindparam("tenant")
                    )
                )
                for t in reversed(self.all_tables())
                if "tenant_id" in t.c or t is self.core.tenant
            ]
        return self._wipe

    def dump(self, conn: Connection, tenant: str | None = None) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for table in self.all_tables():
            stmt = select(table)
            if tenant is not None:
                if "tenant_id" in table.c:
                    stmt = stmt.where(table.c.tenant_id == tenant)
                elif table is self.core.tenant:
                    stmt = stmt.where(table.c.id == tenant)
            out[table.name] = [dict(r._mapping) for r in conn.execute(stmt)]
        return out

    def load(self, conn: Connection, data: dict[str, Iterable[dict[str, Any]]]) -> None:
        for table in self.all_tables():
            rows = list(data.get(table.name, ()))
            if rows:
                conn.execute(insert(table), rows)

    def schema_fingerprint(self) -> str:
        import hashlib

        desc = ";".join(
            f"{t.name}({','.join(f'{c.name}:{c.type}' for c in t.columns)})" for t in self.all_tables()
        )
        return hashlib.sha256(desc.encode()).hexdigest()[:16]

    def dispose(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.engine.dispose()
