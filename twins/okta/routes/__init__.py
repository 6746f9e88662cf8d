"""The Okta surface: one router per API group, FastAPI routes named by Okta's operationIds."""

from __future__ import annotations

from twins.okta.routes import authn, groups, logs, oauth, users

routers = [users.router, groups.router, logs.router, authn.router, oauth.router]
