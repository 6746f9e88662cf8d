"""Drive contract tests: google-api-python-client (with google-auth) against a fresh tenant of
a live Drive twin, over real HTTP."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import google.oauth2.credentials
import pytest
import uvicorn
from google.oauth2 import service_account
from googleapiclient.discovery import build

from dtu.testing.plugin import Tenant

DRIVE = "https://www.googleapis.com/auth/drive"


def discovery_url(tenant: Tenant) -> str:
    return tenant.url + "/discovery/v1/apis/{api}/{apiVersion}/rest"


def user_creds(token: str) -> google.oauth2.credentials.Credentials:
    return google.oauth2.credentials.Credentials(token=token)


def drive_for(tenant: Tenant, token: str) -> Any:
    """A Drive client built from the twin's own discovery document (uploads go to the twin)."""
    return build(
        "drive",
        "v3",
        credentials=user_creds(token),
        discoveryServiceUrl=discovery_url(tenant),
        static_discovery=False,
        cache_discovery=False,
    )


def sa_info(tenant: Tenant) -> dict[str, Any]:
    """The tenant's service-account key file, its token_uri pointing at the twin."""
    info: dict[str, Any] = dict(tenant.service_account)
    info["token_uri"] = tenant.url + "/token"
    return info


@pytest.fixture
def drive(gdrive_tenant: Tenant) -> Any:
    """Alice (admin), with the tenant's quick-start bearer."""
    return drive_for(gdrive_tenant, gdrive_tenant.access_token)


@pytest.fixture
def as_user(gdrive_tenant: Tenant) -> Callable[[str], Any]:
    """A Drive client acting as another person, through the service account's domain-wide delegation."""

    def make(email: str, scopes: tuple[str, ...] = (DRIVE,)) -> Any:
        creds = service_account.Credentials.from_service_account_info(
            sa_info(gdrive_tenant), scopes=list(scopes), subject=email
        )
        return build(
            "drive",
            "v3",
            credentials=creds,
            discoveryServiceUrl=discovery_url(gdrive_tenant),
            static_discovery=False,
            cache_discovery=False,
        )

    return make


@pytest.fixture
def bob(as_user: Callable[[str], Any]) -> Any:
    return as_user("bob@example.com")


@pytest.fixture
def carol(as_user: Callable[[str], Any]) -> Any:
    return as_user("carol@example.com")


def error_of(exc: Any) -> dict[str, Any]:
    """Drive's error body of an HttpError."""
    import json

    body: dict[str, Any] = json.loads(exc.content)["error"]
    return body


@contextlib.contextmanager
def serve(app: Any, **tls: str) -> Iterator[str]:
    """An ASGI app (a twin built another way than TwinServer builds it) on 127.0.0.1 and a free
    port, with its lifespan (the delivery engine) running; `ssl_certfile`/`ssl_keyfile` serve it
    over TLS. Yields its URL."""
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            lifespan="on",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,  # httplib2 keeps its connections open
            **tls,  # type: ignore[arg-type]
        )
    )
    thread = threading.Thread(target=server.run, name="dtu-gdrive-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the app did not start"
        time.sleep(0.01)
    scheme = "https" if tls else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
