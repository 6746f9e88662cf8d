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

    @classmethod
    def from_env(cls, twin: str, **overrides: Any) -> TwinSettings:
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = os.environ.get(f"DTU_{twin.upper()}_{f.name.upper()}") or os.environ.get(
                f"DTU_{f.name.upper()}"
            )
            if raw is None:
                continue
            kind = type(f.default) if f.default is not None else str
            values[f.name] = kind(raw) if kind in (int, float) else raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
