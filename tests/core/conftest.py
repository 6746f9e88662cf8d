"""Fixtures for the core tests: a private twin for whole-twin control-plane calls, a local
receiver for outbound deliveries, and small control-plane helpers.

Whole-twin calls (reset without `?tenant=`, whole snapshots, twin-wide faults and clock) would
pull the rug from under the session twin that every other test shares, so they run against
`private_twin`, a twin of their own (on its own PostgreSQL database when the suite runs there).
"""

from __future__ import annotations

import http.server
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient

from dtu.settings import TwinSettings
from dtu.testing.plugin import Tenant
from dtu.testing.server import TwinServer
from twins.slack.seed import GENERAL, default_fixture


def wait_for(predicate: Callable[[], Any], timeout_s: float = 5.0, interval_s: float = 0.02) -> Any:
    """Poll until `predicate()` is truthy (deliveries leave on a background task)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        time.sleep(interval_s)


def put_faults(twin: TwinServer, tenant: str | None, *rules: dict[str, Any], seed: int = 0) -> None:
    """Load a profile (for one tenant, so tests never disturb each other)."""
    twin.set_faults({"version": 1, "name": "test", "seed": seed, "rules": list(rules)}, tenant=tenant)


def journal(twin: TwinServer, tenant: str, **params: Any) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = twin.control("GET", "/journal", params={"tenant": tenant, **params})[
        "entries"
    ]
    return entries


# -- a twin of our own ----------------------------------------------------------------------------


def _pg_database(base_url: str) -> tuple[str, Callable[[], None]]:
    import sqlalchemy as sa

    name = f"dtu_core_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()

    def drop() -> None:
        eng = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        eng.dispose()

    return sa.engine.make_url(base_url).set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="module")
def private_twin(dtu_db_url: str | None) -> Iterator[TwinServer]:
    """A Slack twin for this module alone, on the same kind of store as the session twin."""
    drop: Callable[[], None] | None = None
    url = "sqlite://"
    if dtu_db_url is not None:
        url, drop = _pg_database(os.environ["DTU_TEST_POSTGRES_URL"])
    twin = TwinServer("slack", TwinSettings(db_url=url)).start()
    try:
        yield twin
    finally:
        twin.stop()
        twin.runtime.store.dispose()
        if drop is not None:
            drop()


@pytest.fixture
def fresh_private(private_twin: TwinServer) -> TwinServer:
    """The private twin, reset to the default fixture, with no faults and a real clock."""
    private_twin.reset()
    return private_twin


# -- clients ----------------------------------------------------------------------------------------


@pytest.fixture
def bot(slack_tenant: Tenant) -> WebClient:
    """The tenant's bot token, with no retry handlers: a fault must reach the test as it happened."""
    return WebClient(
        token=slack_tenant.bot_token, base_url=slack_tenant.api_url, retry_handlers=[], timeout=10
    )


@pytest.fixture
def alice(slack_tenant: Tenant) -> WebClient:
    return WebClient(
        token=slack_tenant.user_token, base_url=slack_tenant.api_url, retry_handlers=[], timeout=10
    )


@pytest.fixture
def general() -> str:
    return GENERAL


# -- outbound deliveries ------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        import orjson

        return orjson.loads(self.body)


@dataclass
class Receiver:
    """An app's request URL: records every POST and answers 200."""

    server: http.server.ThreadingHTTPServer
    requests: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/slack/events"

    def events(self) -> list[dict[str, Any]]:
        return [r.json() for r in list(self.requests)]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box: list[Receiver] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            box[0].requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    box.append(Receiver(server))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield box[0]
    server.shutdown()
    server.server_close()


@pytest.fixture
def subscribed(slack_tenant: Tenant, receiver: Receiver) -> Receiver:
    """The tenant's app subscribed to `message.channels` at the receiver (via POST /_dtu/seed)."""
    app = dict(default_fixture()["apps"][0])
    app.update(
        request_url=receiver.url,
        bot_events=["message.channels"],
        bot_token=slack_tenant.bot_token,
        signing_secret=slack_tenant.signing_secret,
    )
    resp = httpx.post(
        f"{slack_tenant.url}/_dtu/seed", params={"tenant": slack_tenant.tenant}, json={"apps": [app]}
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["created"]["apps"] == [app["id"]]
    return receiver
