"""Read caches that stay coherent with the store, for what every request of a twin reads.

A Slack call reads its token, its user and app, its conversation and membership before doing
anything; those rows change rarely and are read on every call. `TenantCache` keeps them in
memory, and `Versions` tells it when a cached value may be stale:

- every write to a tracked table (through Core, or a `dtu.sql.Prepared` statement) bumps the
  (tenant, table) version as it runs, and again once its transaction has committed or rolled
  back; a write whose tenant is unknown (the control plane's wipe, load, restore) bumps the
  epoch, which every stamp includes;
- a value is cached only if no bump of its tables happened while it was being loaded, so a
  concurrent writer (PostgreSQL runs units in threads) can never leave an old value behind.

Versions are per process: when several processes write one database (`dtu serve --workers
N`), the runtime turns the caches off (`TwinSettings.cache`), and every get loads.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

K = TypeVar("K")
V = TypeVar("V")

UNKNOWN_TENANT = "*"


class Versions:
    """Write counters per (tenant, table), drawn from one process-wide sequence."""

    def __init__(self) -> None:
        self.tracked: set[str] = set()
        self.epoch = 0
        self.last = 0
        self._seq = itertools.count(1)
        self._v: dict[tuple[str, str], int] = {}

    def track(self, tables: Iterable[str]) -> None:
        self.tracked.update(tables)

    def stamp(self, tenant: str, tables: tuple[str, ...]) -> tuple[int, ...]:
        v = self._v
        return (self.epoch, *[v.get((tenant, t), 0) for t in tables])

    def bump(self, tenant: str, table: str) -> None:
        n = next(self._seq)  # unique, so a stamp can never come back to an earlier value
        if tenant == UNKNOWN_TENANT:
            self.epoch = n
        else:
            self._v[(tenant, table)] = n
        self.last = n

    def on_write(self, conn: Connection, statement: Any) -> None:
        """A write ran in `conn`'s unit of work (`dtu.db.Store` wires this up)."""
        table = getattr(statement, "table", None)
        name = getattr(table, "name", None)
        if name is not None and name not in self.tracked:
            return
        info = conn.info
        tenant = (info.get("dtu.tenant") or UNKNOWN_TENANT) if name is not None else UNKNOWN_TENANT
        key = (tenant, name or "")
        written: set[tuple[str, str]] | None = info.get("dtu.written")
        if written is not None:
            written.add(key)
        self.bump(*key)

    def settle(self, written: set[tuple[str, str]]) -> None:
        """After commit or rollback: what was cached meanwhile from those tables is stale."""
        for tenant, table in written:
            self.bump(tenant, table)


class TenantCache(Generic[K, V]):
    """Values that depend on some tables of one tenant: `get(key, load)`, where `load()` answers
    `(tenant, value)` (the tenant may only be known once loaded, as for a token)."""

    def __init__(
        self, versions: Versions, tables: Iterable[str], *, enabled: bool = True, max_entries: int = 50_000
    ) -> None:
        self.versions = versions
        self.tables = tuple(tables)
        versions.track(self.tables)
        self.enabled = enabled
        self.max_entries = max_entries
        self._data: dict[K, tuple[str, tuple[int, ...], V]] = {}

    def get(self, key: K, load: Callable[[], tuple[str, V]]) -> V:
        if not self.enabled:
            return load()[1]
        versions = self.versions
        hit = self._data.get(key)
        if hit is not None:
            tenant, stamp, value = hit
            if versions.stamp(tenant, self.tables) == stamp:
                return value
        before = versions.last
        tenant, value = load()
        stamp = versions.stamp(tenant, self.tables)
        if max(stamp) <= before:
            if len(self._data) >= self.max_entries:
                self._data.clear()
            self._data[key] = (tenant, stamp, value)
        return value

    def clear(self) -> None:
        self._data.clear()
