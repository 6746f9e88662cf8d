"""Drive's query quotas, counted for real when a fault profile's `real_limits` rule is on.

https://developers.google.com/workspace/drive/api/guides/limits : 12,000 queries per 60 s per
project and 12,000 per 60 s per user (a customer's fixture may set others, as the Cloud console
does: `customer.quotas` `queries_per_minute`, `queries_per_minute_per_user`). Going over answers
403, as Drive does for its quotas: `userRateLimitExceeded` for one user's share,
`rateLimitExceeded` for the project's. (Drive's other, undocumented backend limits answer 429
`rateLimitExceeded`: the `rate_limit` fault action.) Windows are fixed and on the twin clock.
"""

from __future__ import annotations

from sqlalchemy import select

from dtu.context import TwinContext
from dtu.db import table
from dtu.ratelimit import Limit
from twins._workspace import models
from twins.gdrive import constants
from twins.gdrive.errors import GoogleError

C = table(models.Customer)
WINDOW_S = 60.0


def _quotas(ctx: TwinContext) -> dict[str, int]:
    stored = ctx.conn.execute(select(C.c.quotas).where(C.c.tenant_id == ctx.tenant)).scalar() or {}
    return {
        "project": int(stored.get("queries_per_minute", constants.QUERIES_PER_MINUTE)),
        "user": int(stored.get("queries_per_minute_per_user", constants.QUERIES_PER_MINUTE_PER_USER)),
    }


def charge(ctx: TwinContext, email: str) -> None:
    """Count one query of `email` (only under `real_limits`); Drive's 403 past a quota."""
    if not ctx.real_limits:
        return
    limits = _quotas(ctx)
    limiter, now = ctx.runtime.limiter, ctx.now()
    user = limiter.hit(ctx.tenant, Limit("drive-queries:" + email.lower(), limits["user"], WINDOW_S), now)
    if not user.allowed:
        raise GoogleError(
            "User Rate Limit Exceeded. Rate of requests for user exceed configured project quota. You may "
            "consider re-evaluating expected per-user traffic to the API and adjust project quota limits "
            "accordingly. You may monitor aggregate quota usage and adjust limits in the API Console: "
            "https://console.developers.google.com/apis/api/drive.googleapis.com/quotas",
            status=403,
            reason="userRateLimitExceeded",
            domain="usageLimits",
        )
    project = limiter.hit(ctx.tenant, Limit("drive-queries", limits["project"], WINDOW_S), now)
    if not project.allowed:
        raise GoogleError("Rate Limit Exceeded", status=403, reason="rateLimitExceeded", domain="usageLimits")
