"""The request journal: what each call was, how it ended, and which fault it met.

Observation only (never replayed as persistence). Bounded, newest kept; entries carry a
monotonically increasing `seq` so a poller can ask for `since=seq`. Credentials never enter it.

Indexed by tenant: the harness reads one tenant's entries past a cursor many times a second
while thousands of other tenants' entries sit in the log, so a read walks that tenant's own
entries from the newest back to the cursor, and dropping a tenant touches only its own entries
(they are marked gone in the shared log and skipped, which is compacted now and then).
"""

from __future__ import annotations

import itertools
import time as _time
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Entry:
    seq: int
    time: float
    twin: str
    tenant: str | None
    operation: str | None
    method: str
    path: str
    status: int
    latency_ms: float
    fault: dict[str, Any] | None = None
    gone: bool = False  # its tenant was cleared: still in the shared log, never answered

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "twin": self.twin,
            "tenant": self.tenant,
            "operation": self.operation,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "latency_ms": self.latency_ms,
            "fault": dict(self.fault) if self.fault is not None else None,
        }


@dataclass(slots=True)
class _TenantLog:
    entries: deque[Entry] = field(default_factory=deque)
    last_at: float = 0.0  # time.monotonic() of its last entry


class Journal:
    def __init__(self, twin: str, maxlen: int = 20_000) -> None:
        self.twin = twin
        self.maxlen = maxlen
        self._all: deque[Entry] = deque()  # every tenant's, in seq order (gone ones included)
        self._tenants: dict[str | None, _TenantLog] = {}
        self._live = 0  # entries not gone: the bound applies to these
        self._gone = 0
        self._last_at: float | None = None
        self._seq = itertools.count(1)

    def record(
        self,
        *,
        time: float,
        tenant: str | None,
        operation: str | None,
        method: str,
        path: str,
        status: int,
        latency_ms: float,
        fault: dict[str, Any] | None,
    ) -> None:
        entry = Entry(
            next(self._seq),
            time,
            self.twin,
            tenant,
            operation,
            method,
            path,
            status,
            round(latency_ms, 3),
            fault,
        )
        self._all.append(entry)
        log = self._tenants.get(tenant)
        if log is None:
            log = self._tenants[tenant] = _TenantLog()
        log.entries.append(entry)
        log.last_at = self._last_at = _time.monotonic()
        self._live += 1
        while self._live > self.maxlen:  # the oldest live entry goes, and gone ones before it
            old = self._all.popleft()
            if old.gone:
                self._gone -= 1
                continue
            self._live -= 1
            own = self._tenants[old.tenant]
            own.entries.popleft()  # the oldest of the shared log is the oldest of its tenant
            if not own.entries:
                del self._tenants[old.tenant]
        while self._all and self._all[0].gone:
            self._all.popleft()
            self._gone -= 1

    def query(
        self, *, tenant: str | None = None, since: int = 0, limit: int = 1000, operation: str | None = None
    ) -> list[dict[str, Any]]:
        """Entries past `since` (of one tenant, or all), oldest first; the newest `limit` of
        them (0: all). Walks back from the newest and stops at the cursor."""
        if tenant is not None:
            log = self._tenants.get(tenant)
            source: deque[Entry] = log.entries if log is not None else deque()
        else:
            source = self._all
        out: list[Entry] = []
        for e in reversed(source):
            if e.seq <= since:
                break
            if e.gone or (operation is not None and e.operation != operation):
                continue
            out.append(e)
            if limit and len(out) >= limit:
                break
        out.reverse()
        return [e.as_dict() for e in out]

    def idle_s(self, tenant: str | None = None) -> float | None:
        """Seconds (real time) since the last entry of the tenant (of any tenant without one);
        None when it has none."""
        last = self._last_at if tenant is None else getattr(self._tenants.get(tenant), "last_at", None)
        return None if last is None else max(_time.monotonic() - last, 0.0)

    def clear(self, tenant: str | None = None) -> None:
        if tenant is None:
            self._all.clear()
            self._tenants.clear()
            self._live = self._gone = 0
            self._last_at = None
            return
        log = self._tenants.pop(tenant, None)
        if log is None:
            return
        for e in log.entries:
            e.gone = True
        self._live -= len(log.entries)
        self._gone += len(log.entries)
        if self._gone > max(self._live, 1024):  # compact: amortized over as many clears
            self._all = deque(e for e in self._all if not e.gone)
            self._gone = 0
