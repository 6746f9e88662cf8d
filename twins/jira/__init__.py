"""The Jira twin: Jira Cloud REST v3 and v2, workflows, JQL, webhooks and the Agile API.

https://developer.atlassian.com/cloud/jira/platform/rest/v3/intro/ and
https://developer.atlassian.com/cloud/jira/software/rest/intro/ .
"""

from __future__ import annotations

from fastapi.routing import APIRoute

from dtu.errors import RequestFacts
from dtu.ratelimit import Limit
from dtu.twin import TwinSpec
from twins.jira import constants, models, seed
from twins.jira.dependencies import credential_of, tenant_of_credential
from twins.jira.errors import JiraErrorAdapter
from twins.jira.fault_points import FAULT_POINTS
from twins.jira.front import ROUTES
from twins.jira.openapi import openapi
from twins.jira.routes import router


def _real_limit(facts: RequestFacts) -> Limit | None:
    """Jira's burst limit: calls per tenant per second (cost-based quotas are not modelled)."""
    return Limit("jira-burst-based", constants.BURST_PER_SECOND, 1.0)


OPERATIONS = frozenset(r.operation_id for r in router.routes if isinstance(r, APIRoute) and r.operation_id)


TWIN = TwinSpec(
    name="jira",
    default_port=7102,
    error_adapter=JiraErrorAdapter(),
    routers=[router],
    tables=models.TABLES,
    default_fixture=seed.default_fixture,
    load_fixture=seed.load_fixture,
    credentials=seed.credentials,
    credential_of=credential_of,
    tenant_of_credential=tenant_of_credential,
    operations=OPERATIONS,
    collections=models.COLLECTIONS,
    operation_of=ROUTES.operation_of,
    fault_points=FAULT_POINTS,
    deliveries=frozenset({"webhooks"}),
    real_limit=_real_limit,
    universe=seed.universe_fixture,
    openapi=openapi,
    # one 10 MB attachment plus its multipart envelope reaches the service, which answers Jira's 413
    max_body_bytes=constants.ATTACHMENT_MAX_BYTES + 1024 * 1024,
    description="A behavioral clone of Jira Cloud REST v3/v2 and Agile 1.0 "
    "(https://developer.atlassian.com/cloud/jira/platform/rest/v3/intro/).",
)
