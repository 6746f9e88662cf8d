"""The seeded fault engine: a pure decision per request or delivery.

Decisions are reproducible under concurrency because nothing is drawn from a shared random
stream: whether rule R fires on its n-th matching call in tenant T is `hash(seed, R, T, n)`.
Counters (calls, fires, window start) are kept per rule *and per tenant*, so each trajectory
of the harness, in its own tenant, sees the same faults whenever it is replayed with the same
seed, whatever the other trajectories are doing.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from dtu.clock import ClockRegistry
from dtu.faults.model import Delay, FaultProfile, Rule
from dtu.ids import stable_hash


@dataclass
class Decision:
    rule_id: str
    action: Any
    ordinal: int
    delay_s: float = 0.0

    @property
    def kind(self) -> str:
        return str(self.action.kind)

    def describe(self) -> dict[str, Any]:
        return {"rule": self.rule_id, "kind": self.kind, "ordinal": self.ordinal}


@dataclass
class _RuleState:
    calls: int = 0
    fires: int = 0
    window_start: float | None = None


@dataclass
class _Loaded:
    profile: FaultProfile
    loaded_at: float
    state: dict[tuple[str, str | None], _RuleState] = field(default_factory=dict)
    # Each tenant's own clock reading at load (tenants whose clock was moved before the
    # profile loaded): `at_s` counts from here on the clock that tenant sees.
    tenant_loaded_at: dict[str, float] = field(default_factory=dict)

    def start(self, tenant: str | None) -> float:
        return self.tenant_loaded_at.get(tenant, self.loaded_at) if tenant is not None else self.loaded_at


class FaultEngine:
    """Holds the twin-wide profile and any per-tenant profiles, and decides."""

    def __init__(self, twin: str, clocks: ClockRegistry) -> None:
        self.twin = twin
        self._clocks = clocks
        self._global: _Loaded | None = None
        self._tenants: dict[str, _Loaded] = {}

    # -- profile management -----------------------------------------------------------------

    def set(self, profile: FaultProfile | None, tenant: str | None = None) -> None:
        loaded = _Loaded(profile, self._clocks.now(tenant)) if profile is not None else None
        if tenant is None:
            if loaded is not None:
                loaded.tenant_loaded_at = {t: self._clocks.now(t) for t in self._clocks.tenants()}
            self._global = loaded
        elif loaded is None:
            self._tenants.pop(tenant, None)
        else:
            self._tenants[tenant] = loaded

    def get(self, tenant: str | None = None) -> FaultProfile | None:
        loaded = self._tenants.get(tenant) if tenant is not None else self._global
        return loaded.profile if loaded else None

    def clear(self) -> None:
        self._global = None
        self._tenants.clear()

    def drop_tenant(self, tenant: str) -> None:
        self._tenants.pop(tenant, None)
        if self._global is not None:
            for key in [k for k in self._global.state if k[1] == tenant]:
                del self._global.state[key]

    @property
    def active(self) -> bool:
        return self._global is not None or bool(self._tenants)

    # -- decisions --------------------------------------------------------------------------

    def decide(
        self,
        *,
        operation: str | None,
        method: str,
        path: str,
        tenant: str | None,
        delivery: str | None = None,
    ) -> Decision | None:
        """The action for this request (or delivery), if a rule fires."""
        loaded = self._tenants.get(tenant) if tenant is not None else None
        if loaded is None:
            loaded = self._global
        if loaded is None:
            return None
        now = self._clocks.now(tenant)
        seed = loaded.profile.seed
        for rule in loaded.profile.rules:
            if not rule.match.matches(
                twin=self.twin,
                operation=operation,
                method=method,
                path=path,
                tenant=tenant,
                delivery=delivery,
            ):
                continue
            state = loaded.state.setdefault((rule.id, tenant), _RuleState())
            state.calls += 1
            ordinal = state.calls
            if not self._in_window(rule, state, ordinal, now, loaded.start(tenant)):
                continue
            if rule.budget is not None and state.fires >= rule.budget.max_fires:
                continue
            if rule.probability < 1.0:
                draw = stable_hash(seed, rule.id, tenant, ordinal) / 2**64
                if draw >= rule.probability:
                    continue
            state.fires += 1
            decision = Decision(rule.id, rule.action, ordinal)
            if isinstance(rule.action, Delay):
                decision.delay_s = delay_seconds(
                    rule.action, stable_hash(seed, rule.id, tenant, ordinal, "delay")
                )
            return decision
        return None

    @staticmethod
    def _in_window(rule: Rule, state: _RuleState, ordinal: int, now: float, loaded_at: float) -> bool:
        when = rule.when
        if when is None:
            return True
        if when.at_s is not None:
            start = loaded_at + when.at_s
            return now >= start and (when.for_s is None or now < start + when.for_s)
        if when.after_calls is not None and ordinal <= when.after_calls:
            return False
        if when.for_s is not None:
            if state.window_start is None:
                state.window_start = now
            return now < state.window_start + when.for_s
        return True


def delay_seconds(action: Delay, draw_seed: int) -> float:
    """Seconds to wait, from the action's distribution, drawn from a per-call seed."""
    dist = action.distribution or "fixed"
    if dist == "fixed":
        return (action.ms or 0.0) / 1000
    rng = random.Random(draw_seed)
    if dist == "uniform":
        return rng.uniform(action.min_ms or 0.0, action.max_ms or 0.0) / 1000
    assert action.median_ms is not None and action.p99_ms is not None
    sigma = math.log(action.p99_ms / action.median_ms) / 2.3263478740408408
    return action.median_ms * math.exp(sigma * rng.gauss(0.0, 1.0)) / 1000
