"""`TwinContext`: everything a service function needs, passed explicitly (never imported).

Services are plain Python: `post_message(ctx, *, channel_id, text)`. The context carries the
open connection (one transaction), the tenant, the tenant's clock and id minting, the facts
the fault engine attached to this request (stale reads, fault points, real limits), and an
outbox of deliveries that is handed to the delivery engine only after the transaction commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from dtu.clock import Clock
from dtu.delivery import Delivery
from dtu.ids import Ids

if TYPE_CHECKING:
    from dtu.runtime import TwinRuntime


@dataclass
class TwinContext:
    conn: Connection
    tenant: str
    clock: Clock
    ids: Ids
    runtime: TwinRuntime
    base_url: str = ""
    principal: Any = None
    stale_lag_s: float | None = None
    points: dict[str, dict[str, Any]] = field(default_factory=dict)
    real_limits: bool = False
    outbox: list[Delivery] = field(default_factory=list)
    after_commit: list[Any] = field(default_factory=list)

    def now(self) -> float:
        return self.clock.now()

    def deliver(self, delivery: Delivery) -> None:
        """Send after commit: an app must never be told of a write that then rolled back."""
        self.outbox.append(delivery)

    def point(self, name: str) -> dict[str, Any] | None:
        """The params of a semantic fault point if the profile turned it on for this call."""
        return self.points.get(name)

    def visible_before(self) -> float | None:
        """With `stale_reads` active, lists and searches miss rows written after this time."""
        return self.now() - self.stale_lag_s if self.stale_lag_s else None
