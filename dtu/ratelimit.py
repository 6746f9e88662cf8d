"""Documented vendor limits, counted for real when a profile's `real_limits` rule fires.

A fixed window per (tenant, key) on the twin clock: `limit` calls per `window_s`. Fixed windows
are what Slack's tiers ("per minute") and Okta's `X-Rate-Limit-Reset` describe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int
    window_s: float


@dataclass
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float
    retry_after_s: int


class RateLimiter:
    def __init__(self) -> None:
        self._windows: dict[tuple[str | None, str], tuple[float, int]] = {}

    def hit(self, tenant: str | None, limit: Limit, now: float) -> Verdict:
        """Count one call; say whether it is within the limit."""
        start = math.floor(now / limit.window_s) * limit.window_s
        key = (tenant, limit.key)
        window_start, count = self._windows.get(key, (start, 0))
        if window_start != start:
            window_start, count = start, 0
        reset_at = window_start + limit.window_s
        if count >= limit.limit:
            return Verdict(False, limit.limit, 0, reset_at, max(1, math.ceil(reset_at - now)))
        self._windows[key] = (window_start, count + 1)
        return Verdict(True, limit.limit, limit.limit - count - 1, reset_at, 0)

    def peek(self, tenant: str | None, limit: Limit, now: float) -> Verdict:
        start = math.floor(now / limit.window_s) * limit.window_s
        window_start, count = self._windows.get((tenant, limit.key), (start, 0))
        if window_start != start:
            count = 0
        return Verdict(
            count < limit.limit, limit.limit, max(0, limit.limit - count), start + limit.window_s, 0
        )

    def clear(self, tenant: str | None = None) -> None:
        if tenant is None:
            self._windows.clear()
        else:
            for key in [k for k in self._windows if k[0] == tenant]:
                del self._windows[key]
