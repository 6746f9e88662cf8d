"""The Okta surface: one router per API group, FastAPI routes named by Okta's operationIds."""

from __future__ import annotations

from twins.okta.routes import apps, authn, event_hooks, factors, groups, logs, oauth, policies, users

routers = [
    apps.router,
    event_hooks.router,
    factors.router,
    users.router,
    groups.router,
    logs.router,
    policies.router,
    authn.router,
    oauth.router,
]
