"""`google_twin(...)`: the TwinSpec of a Google twin, with the Workspace parts filled in.

The three Google twins are front doors over one Workspace store, so what makes them share it
is set here once and cannot be set otherwise by a twin: the store group (one tenant registry,
`workspace_tenant`, and one set of id counters), every Workspace table (a reset, a tenant
deletion or a snapshot through any door covers them all), the fixture loader (a tenant made
through one door is a customer of all three), the credentials a tenant answers and how a
bearer token leads to its tenant.

What this means for the control plane (CONTRACT.md section 5) when the twins share a database:
`POST /_dtu/tenants` on any Google twin makes a customer that the others list and serve;
`POST /_dtu/reset?tenant=X` or `DELETE /_dtu/tenants/X` through any of them resets or drops X
for all; a whole-twin `POST /_dtu/reset` puts the Workspace back to the default customer for
all three, since they serve one state. What a reset leaves alone is each twin's own process
state: its fault profile, clock, journal and delivery queue change only through that twin's own
control plane.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter

from dtu.errors import ErrorAdapter
from dtu.twin import TwinSpec
from twins._workspace import models, oauth, push, seed


def google_twin(
    *,
    name: str,
    default_port: int,
    error_adapter: ErrorAdapter,
    routers: Sequence[APIRouter],
    operations: frozenset[str],
    **kwargs: Any,
) -> TwinSpec:
    """A Google twin's spec; `kwargs` are the twin's own TwinSpec fields (fault points,
    deliveries, limits...), never the Workspace's."""
    shared = {
        "tables",
        "collections",
        "store_group",
        "default_fixture",
        "load_fixture",
        "credentials",
        "credential_of",
        "tenant_of_credential",
        "universe",
    }
    clash = shared & set(kwargs)
    if clash:
        raise TypeError(f"the Workspace sets {sorted(clash)} for every Google twin")
    # every door's writes notify Drive's push channels (twins/_workspace/push.py)
    kwargs["deliveries"] = frozenset(kwargs.get("deliveries", frozenset())) | {push.KIND}
    return TwinSpec(
        name=name,
        default_port=default_port,
        error_adapter=error_adapter,
        routers=routers,
        operations=operations,
        tables=models.TABLES,
        collections=models.COLLECTIONS,
        store_group=models.GROUP,
        default_fixture=seed.default_fixture,
        load_fixture=seed.load_fixture,
        credentials=seed.credentials,
        credential_of=oauth.credential_of,
        tenant_of_credential=oauth.tenant_of_token,
        universe=seed.universe_fixture,
        **kwargs,
    )
