"""Drive datasets: the default Workspace customer (shared with Sheets and Docs) and its loader.

The fixture format and loader live in `twins._workspace.seed` because a tenant is one
Workspace customer on all three Google twins; see there for the keys (`people`, `groups`,
`service_accounts`, `oauth_clients`, `tokens`, `files`).
"""

from __future__ import annotations

from twins._workspace.seed import (
    DEFAULT_TOKEN,
    credentials,
    default_fixture,
    default_key_file,
    load_fixture,
    service_account_info,
    universe_fixture,
)

__all__ = [
    "DEFAULT_TOKEN",
    "credentials",
    "default_fixture",
    "default_key_file",
    "load_fixture",
    "service_account_info",
    "universe_fixture",
]
