"""The request journal: what each call was, how it ended, and which fault it met.

Observation only (never replayed as persistence). Bounded, newest kept; entries carry a
monotonically increasing `seq` so a poller can ask for `since=seq`. Credentials never enter it.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Journal:
    def __init__(self, twin: str, maxlen: int = 20_000) -> None:
        self.twin = twin
        self._entries: deque[Entry] = deque(maxlen=maxlen)
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
        self._entries.append(
            Entry(
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
        )

    def query(
        self, *, tenant: str | None = None, since: int = 0, limit: int = 1000, operation: str | None = None
    ) -> list[dict[str, Any]]:
        out = []
        for e in self._entries:
            if e.seq <= since or (tenant is not None and e.tenant != tenant):
                continue
            if operation is not None and e.operation != operation:
                continue
            out.append(e.as_dict())
        return out[-limit:] if limit else out

    def clear(self, tenant: str | None = None) -> None:
        if tenant is None:
            self._entries.clear()
        else:
            kept = [e for e in self._entries if e.tenant != tenant]
            self._entries.clear()
            self._entries.extend(kept)
