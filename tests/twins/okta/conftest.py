"""Okta contract tests: the official okta SDK (async client) pointed at a fresh tenant of a live twin.

The SDK refuses `http://` org URLs unless its HTTPS check is turned off, which it documents
through the `OKTA_TESTING_TESTINGDISABLEHTTPSCHECK` environment variable.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from okta.client import Client
from okta.errors.okta_api_error import OktaAPIError

from dtu.testing.plugin import Tenant

os.environ["OKTA_TESTING_TESTINGDISABLEHTTPSCHECK"] = "true"
T = TypeVar("T")


class Sdk:
    """The okta SDK, driven synchronously: `sdk.get_user(id)` returns the model or raises the
    SDK's own `OktaAPIError`; `sdk.call(name, ...)` returns the SDK's (data, resp, err) tuple."""

    def __init__(self, url: str, token: str, **config: Any) -> None:
        self.config = {"orgUrl": url, "token": token, **config}

    def run(self, fn: Callable[[Client], Awaitable[T]]) -> T:
        async def go() -> T:
            return await fn(Client(dict(self.config)))

        return asyncio.run(go())

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self.run(lambda c: getattr(c, name)(*args, **kwargs))

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def method(*args: Any, **kwargs: Any) -> Any:
            result = self.call(name, *args, **kwargs)
            data, err = result[0], result[-1]
            if err is not None:
                raise err if isinstance(err, BaseException) else AssertionError(err)
            return data

        return method


def api_error(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> OktaAPIError:
    """The OktaAPIError a call must fail with."""
    with pytest.raises(OktaAPIError) as err:
        fn(*args, **kwargs)
    return err.value


@pytest.fixture
def sdk(okta_tenant: Tenant) -> Sdk:
    """The okta SDK with the tenant's API token (alice, a super admin)."""
    return Sdk(okta_tenant.url, okta_tenant.api_token)


@pytest.fixture
def http(okta_tenant: Tenant) -> httpx.Client:
    """Raw HTTP with the tenant's API token, for what the SDK cannot express (bad bodies, headers)."""
    with httpx.Client(
        base_url=okta_tenant.url,
        headers={"Authorization": f"SSWS {okta_tenant.api_token}", "Accept": "application/json"},
    ) as client:
        yield client


def new_user(login: str = "dan@example.com", *, password: str | None = "Secr3t-Pass", **profile: Any) -> Any:
    from okta.models import CreateUserRequest

    body: dict[str, Any] = {
        "profile": {
            "firstName": profile.pop("firstName", "Dan"),
            "lastName": profile.pop("lastName", "Doe"),
            "email": profile.pop("email", login),
            "login": login,
            **profile,
        }
    }
    if password is not None:
        body["credentials"] = {"password": {"value": password}}
    return CreateUserRequest.from_dict(body)
