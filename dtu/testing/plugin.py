"""The `dtu` pytest plugin: live twins for a test suite, one fresh tenant per test.

    def test_post(slack_tenant):
        client = WebClient(token=slack_tenant.bot_token, base_url=slack_tenant.api_url)

Options: `--dtu-db URL` (or `DTU_TEST_DB_URL`) puts the twins' state in that database instead
of in-memory SQLite. Twins start once per session (per xdist worker) and each test gets its
own tenant, so tests never reset each other's state.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from dtu.settings import TwinSettings
from dtu.testing.server import TwinServer

TWIN_NAMES = ("slack", "okta", "jira", "gdrive", "gsheets", "gdocs")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dtu")
    group.addoption("--dtu-db", default=None, help="database URL for the twins started by the dtu plugin")


@dataclass
class Tenant:
    """A tenant made for one test: its id, credentials and the twin serving it."""

    tenant: str
    credentials: dict[str, Any]
    twin: TwinServer

    def __getattr__(self, name: str) -> Any:
        try:
            return self.credentials[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def url(self) -> str:
        return self.twin.url

    @property
    def api_url(self) -> str:
        """Slack's base_url for slack_sdk (`.../api/`)."""
        return self.twin.url + "/api/"


class TwinPool:
    """Twins started on demand for the session, stopped at its end."""

    def __init__(self, db_url: str | None) -> None:
        self.db_url = db_url
        self._twins: dict[str, TwinServer] = {}

    def get(self, name: str, **settings: Any) -> TwinServer:
        if name not in self._twins:
            self._twins[name] = TwinServer(
                name, TwinSettings(db_url=self.db_url or "sqlite://", **settings)
            ).start()
        return self._twins[name]

    def stop(self) -> None:
        for twin in self._twins.values():
            twin.stop()
        self._twins.clear()


@pytest.fixture(scope="session")
def dtu_db_url(request: pytest.FixtureRequest) -> str | None:
    value: str | None = request.config.getoption("--dtu-db") or os.environ.get("DTU_TEST_DB_URL")
    return value


@pytest.fixture(scope="session")
def dtu_twins(dtu_db_url: str | None) -> Iterator[TwinPool]:
    pool = TwinPool(dtu_db_url)
    yield pool
    pool.stop()


def _tenant_fixture(name: str) -> Any:
    @pytest.fixture
    def fixture(dtu_twins: TwinPool) -> Iterator[Tenant]:
        twin = dtu_twins.get(name)
        made = twin.create_tenant()
        yield Tenant(made["tenant"], made["credentials"], twin)
        twin.delete_tenant(made["tenant"])

    fixture.__name__ = f"{name}_tenant"
    fixture.__doc__ = f"A fresh tenant of the {name} twin for this test (deleted after)."
    return fixture


def _twin_fixture(name: str) -> Any:
    @pytest.fixture
    def fixture(dtu_twins: TwinPool) -> TwinServer:
        return dtu_twins.get(name)

    fixture.__name__ = f"{name}_twin"
    fixture.__doc__ = f"The session's {name} twin (a TwinServer on a free port)."
    return fixture


slack_twin = _twin_fixture("slack")
slack_tenant = _tenant_fixture("slack")
jira_twin = _twin_fixture("jira")
jira_tenant = _tenant_fixture("jira")
okta_twin = _twin_fixture("okta")
okta_tenant = _tenant_fixture("okta")
gdrive_twin = _twin_fixture("gdrive")
gdrive_tenant = _tenant_fixture("gdrive")
