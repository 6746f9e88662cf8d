"""Settings of one twin process (CLI flags, or `DTU_<TWIN>_<FIELD>` environment variables)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any


@dataclass
class TwinSettings:
    db_url: str = "sqlite://"
    seed: int = 0
    public_url: str | None = None
    admin_token: str | None = None
    faults_file: str | None = None
    fixture_file: str | None = None
    delivery_retry_scale: float = 1.0
    tick_s: float = 0.1
    workers: int = 1
    """Worker processes serving this twin (`dtu serve --workers N`): with more than one, the
    read caches are off and the control plane refuses what lives in one process."""
    cache: bool = True
    """In-process read caches (dtu/cache.py): only right when this process is the only one
    writing the twin's tables; `dtu serve --workers N` turns them off."""
    units_in_threads: bool = False
    """PostgreSQL: run each unit of work in a worker thread instead of on the event loop. On the
    loop (the default), a write costs 2-3x less CPU (no thread hop, no GIL contention between
    threads; bench/PROFILE.md), but a long unit (a list over 100,000 files) holds up the other
    requests of this process while it runs. SQLite units always run on the loop."""

    @classmethod
    def from_env(cls, twin: str, **overrides: Any) -> TwinSettings:
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = os.environ.get(f"DTU_{twin.upper()}_{f.name.upper()}") or os.environ.get(
                f"DTU_{f.name.upper()}"
            )
            if raw is None:
                continue
            default: Any = f.default
            if isinstance(default, bool):
                values[f.name] = raw.strip().lower() not in ("0", "false", "no", "off", "")
            elif isinstance(default, int | float):
                values[f.name] = type(default)(raw)
            else:
                values[f.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
