"""Okta's documented limits and defaults, with where they are written down."""

from __future__ import annotations

import re

# https://developer.okta.com/docs/reference/rl-global-mgmt/ : per-minute buckets of a Workforce
# org (the defaults; an org's tier and add-ons raise them). Longest matching prefix wins;
# `{id}` stands for one path segment.
RATE_LIMITS: list[tuple[str, str | None, int]] = [
    # (path pattern, method or None for any, calls per minute)
    (r"^/api/v1/apps$", None, 100),
    (r"^/api/v1/apps/[^/]+$", None, 500),
    (r"^/api/v1/groups$", None, 500),
    (r"^/api/v1/groups/[^/]+$", None, 1000),
    (r"^/api/v1/users$", None, 600),
    (r"^/api/v1/users/[^/]+$", "GET", 2000),
    (r"^/api/v1/users/[^/]+$", None, 600),
    (r"^/api/v1/logs", None, 120),
    (r"^/api/v1/sessions", None, 750),
    (r"^/api/v1/authn", None, 500),
    (r"^/api/v1/eventHooks", None, 100),
    (r"^/oauth2/[^/]+/v1/(token|authorize|userinfo|introspect|revoke|keys)", None, 2000),
    (r"^/oauth2/v1/(token|authorize|userinfo|introspect|revoke|keys)", None, 2000),
    (r"^/", None, 1200),
]
RATE_LIMIT_PATTERNS = [(re.compile(p), m, n) for p, m, n in RATE_LIMITS]
RATE_WINDOW_S = 60.0

# https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/listUsers
USERS_DEFAULT_LIMIT = 200
USERS_MAX_LIMIT = 200
USERS_Q_DEFAULT_LIMIT = 10
# https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/#tag/Group/operation/listGroups
GROUPS_DEFAULT_LIMIT = 10000
GROUPS_MAX_LIMIT = 10000
GROUP_USERS_DEFAULT_LIMIT = 1000
# https://developer.okta.com/docs/api/openapi/okta-management/management/tag/GroupOwner/ : limit defaults to 1000
GROUP_OWNERS_DEFAULT_LIMIT = 1000
# https://developer.okta.com/docs/api/openapi/okta-management/management/tag/SystemLog/
LOGS_DEFAULT_LIMIT = 100
LOGS_MAX_LIMIT = 1000
LOGS_DEFAULT_WINDOW_S = 7 * 24 * 3600  # `since` defaults to 7 days ago
APPS_DEFAULT_LIMIT = 20
APPS_MAX_LIMIT = 200
# https://developer.okta.com/docs/api/openapi/okta-management/management/tag/ApplicationUsers/#tag/ApplicationUsers/operation/listApplicationUsers
APP_USERS_DEFAULT_LIMIT = 50
APP_USERS_MAX_LIMIT = 500

# The default password policy: https://help.okta.com/en-us/content/topics/security/policies/configure-password-policies.htm
LOCKOUT_MAX_ATTEMPTS = 10
PASSWORD_MIN_LENGTH = 8

# https://developer.okta.com/docs/reference/api/authn/ : a session token lives 5 minutes, a state token 1 hour
SESSION_TOKEN_TTL_S = 300
STATE_TOKEN_TTL_S = 3600
# https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Session/ : default max idle 2 h
SESSION_TTL_S = 2 * 3600
# https://developer.okta.com/docs/guides/validate-access-tokens/ : access and ID tokens live 1 hour,
# authorization codes 5 minutes, refresh tokens (default policy) 90 days.
ACCESS_TOKEN_TTL_S = 3600
ID_TOKEN_TTL_S = 3600
AUTH_CODE_TTL_S = 300
REFRESH_TOKEN_TTL_S = 90 * 24 * 3600
# Event hooks: https://developer.okta.com/docs/concepts/event-hooks/ (3 s timeout, one retry)
EVENT_HOOK_TIMEOUT_S = 3.0
EVENT_HOOK_RETRIES_S = [60.0]
