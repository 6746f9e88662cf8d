"""Deterministic, vendor-shaped ids.

An id is a pure function of (seed, tenant, kind, n), where n comes from the tenant's counter
row in the same transaction as the write that needs it: same seed and same calls give the
same ids, across restarts and across workers, and a reset or a snapshot restore rewinds them
with the rest of the state. Never `uuid4()` in a twin.

    ids = Ids(conn, seed=0, tenant="t1")
    ids.next("user")                      # 1, 2, 3 ...
    ids.token("user", prefix="U", length=11)  # 'U07K2M9QZ4A'
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Connection, Table, bindparam, case, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from dtu.db import core_tables
from dtu.sql import Prepared

_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_HEX = "0123456789abcdef"


class Ids:
    """Id minting for one tenant inside one unit of work."""

    __slots__ = ("_c", "_conn", "_seed", "tenant")

    def __init__(self, conn: Connection, *, seed: int, tenant: str, counter: Table | None = None) -> None:
        self._conn = conn
        self._seed = seed
        self.tenant = tenant
        self._c = counter if counter is not None else core_tables("dtu").counter

    def next(self, kind: str) -> int:
        """The next value of the tenant's `kind` sequence (1-based)."""
        return advance(self._conn, self._c, self.tenant, kind, 1)

    def take(self, kind: str, n: int) -> int:
        """Reserve the next `n` values of `kind` at once (bulk loads); answers the first."""
        return advance(self._conn, self._c, self.tenant, kind, n, step=n) - n + 1

    def reserve(self, kind: str, n: int) -> None:
        """Values up to `n` are taken (a fixture chose them): `next` answers more than `n`."""
        advance(self._conn, self._c, self.tenant, kind, n, step=0)

    def peek(self, kind: str) -> int:
        c = self._c
        row = self._conn.execute(
            select(c.c.value).where(c.c.tenant_id == self.tenant, c.c.kind == kind)
        ).first()
        return int(row[0]) if row else 0

    def digest(self, kind: str, n: int) -> bytes:
        return hashlib.sha256(f"{self._seed}:{self.tenant}:{kind}:{n}".encode()).digest()

    def token(self, kind: str, *, prefix: str = "", length: int = 11, alphabet: str = _ALNUM) -> str:
        """`prefix` + characters drawn from the digest of the next `kind` value."""
        return prefix + encode(self.digest(kind, self.next(kind)), length - len(prefix), alphabet)

    def hex(self, kind: str, length: int = 32) -> str:
        return self.token(kind, length=length, alphabet=_HEX)


_ADVANCE: dict[tuple[str, str], Prepared] = {}


def advance(conn: Connection, counter: Table, tenant: str, kind: str, at_least: int, step: int = 1) -> int:
    """Move the (tenant, kind) counter to max(value + step, at_least) and answer it, creating it
    at `at_least` on first use; one upsert, so two units that first use a kind at the same time
    (PostgreSQL runs them in parallel) both succeed."""
    key = (conn.dialect.name, counter.name)
    stmt = _ADVANCE.get(key)
    if stmt is None:
        upsert: Any = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        base = upsert(counter).values(
            tenant_id=bindparam("tenant"), kind=bindparam("kind"), value=bindparam("at_least")
        )
        value = counter.c.value
        stmt = _ADVANCE[key] = Prepared(
            base.on_conflict_do_update(
                index_elements=[counter.c.tenant_id, counter.c.kind],
                set_={
                    "value": case(
                        (value + bindparam("step") > bindparam("at_least"), value + bindparam("step")),
                        else_=bindparam("at_least"),
                    )
                },
            ).returning(counter.c.value)
        )
    return int(stmt.scalar(conn, {"tenant": tenant, "kind": kind, "at_least": at_least, "step": step}))


def encode(digest: bytes, length: int, alphabet: str = _ALNUM) -> str:
    n = int.from_bytes(digest, "big")
    base = len(alphabet)
    out = []
    for _ in range(length):
        n, r = divmod(n, base)
        out.append(alphabet[r])
    return "".join(out)


def stable_hash(*parts: object) -> int:
    """A 64-bit hash that, unlike `hash()`, is the same in every process."""
    h = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:8], "big")
