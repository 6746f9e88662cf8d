"""The twin's clock: real time by default, frozen or advanced through `/_dtu/clock`.

Every twin reads time only from here (ruff bans `time.time` in `twins/`), so token expiry,
scheduled messages and delivery retries all follow a frozen or advanced clock. A tenant may
carry its own offset or freeze, so one trajectory can jump ahead without moving the others.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any


@dataclass
class _Setting:
    offset_s: float = 0.0
    frozen_at: float | None = None


class Clock:
    """A view of the twin clock for one tenant (or the whole twin)."""

    __slots__ = ("_registry", "_tenant")

    def __init__(self, registry: ClockRegistry, tenant: str | None) -> None:
        self._registry = registry
        self._tenant = tenant

    def now(self) -> float:
        return self._registry.now(self._tenant)


class ClockRegistry:
    """The twin's clock plus per-tenant overrides."""

    def __init__(self) -> None:
        self._twin = _Setting()
        self._tenants: dict[str, _Setting] = {}

    def _setting(self, tenant: str | None) -> _Setting:
        if tenant is not None and tenant in self._tenants:
            return self._tenants[tenant]
        return self._twin

    def now(self, tenant: str | None = None) -> float:
        setting = self._setting(tenant)
        if setting.frozen_at is not None:
            return setting.frozen_at
        base = (
            self._twin.frozen_at if (setting is not self._twin and self._twin.frozen_at is not None) else None
        )
        if base is not None:
            return base + setting.offset_s
        return time.time() + self._twin.offset_s + (setting.offset_s if setting is not self._twin else 0.0)

    def for_tenant(self, tenant: str | None) -> Clock:
        return Clock(self, tenant)

    def set(
        self,
        tenant: str | None = None,
        *,
        freeze: bool | None = None,
        at: float | None = None,
        advance_s: float | None = None,
    ) -> dict[str, Any]:
        """Apply a control-plane change: jump to `at`, `advance_s`, and freeze or thaw."""
        if tenant is not None and tenant not in self._tenants:
            self._tenants[tenant] = _Setting()
        setting = self._setting(tenant)
        current = self.now(tenant)
        target = at if at is not None else current
        if advance_s is not None:
            target += advance_s
        if setting.frozen_at is not None or freeze:
            setting.frozen_at = target
        if freeze is False:
            setting.frozen_at = None
        if setting.frozen_at is None:
            # Running clock: express the jump as an offset against real time. Measured against
            # the running value (not `current`, which is the frozen instant when thawing), so
            # a thawed clock resumes from where it stood instead of jumping back to real time.
            setting.offset_s += target - self.now(tenant)
        return self.describe(tenant)

    def describe(self, tenant: str | None = None) -> dict[str, Any]:
        setting = self._setting(tenant)
        return {
            "now": self.now(tenant),
            "frozen": setting.frozen_at is not None,
            "offset_s": setting.offset_s,
            "tenant": tenant if tenant in self._tenants else None,
        }

    def tenants(self) -> list[str]:
        """Tenants with a clock setting of their own."""
        return list(self._tenants)

    def drop_tenant(self, tenant: str) -> None:
        self._tenants.pop(tenant, None)

    def reset(self) -> None:
        self._twin = _Setting()
        self._tenants.clear()

    def export(self) -> dict[str, Any]:
        return {
            "twin": [self._twin.offset_s, self._twin.frozen_at],
            "tenants": {t: [s.offset_s, s.frozen_at] for t, s in self._tenants.items()},
        }

    def load(self, data: dict[str, Any]) -> None:
        self._twin = _Setting(*data["twin"])
        self._tenants = {t: _Setting(*v) for t, v in data["tenants"].items()}
