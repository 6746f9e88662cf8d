"""The twins a run talks to, and the app under test: URLs and one pooled HTTP client.

Twins are reached over HTTP only (in-process `TwinServer`s or a running `dtu up`), through
their control plane (`/_dtu/...`) for tenants, faults, seeds, inspection, journal and
deliveries, and through their APIs for everything a person or the app does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.http import Http, HttpError


class InfraError(Exception):
    """A twin or the app could not be reached or refused the harness: not the app's fault."""


class ControlError(Exception):
    """The control plane answered 4xx/5xx (e.g. a seed that does not load)."""


@dataclass
class Universe:
    urls: dict[str, str]
    app_url: str | None = None
    admin_token: str | None = None
    timeout_s: float = 30.0
    http: Http = field(init=False)

    def __post_init__(self) -> None:
        headers = {"X-DTU-Admin-Token": self.admin_token} if self.admin_token else {}
        self.http = Http(timeout_s=self.timeout_s, headers=headers)

    async def aclose(self) -> None:
        await self.http.aclose()

    def url(self, twin: str) -> str:
        try:
            return self.urls[twin].rstrip("/")
        except KeyError:
            raise InfraError(f"no {twin} twin in this run (give its URL, or let dtu run start it)") from None

    async def control(
        self, twin: str, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> Any:
        url = f"{self.url(twin)}/_dtu{path}"
        try:
            resp = await self.http.request(method, url, params=params, json=json)
        except HttpError as exc:
            raise InfraError(f"{twin} twin unreachable at {self.url(twin)}: {exc}") from None
        if resp.status_code >= 400:
            try:
                err = resp.json().get("error") or {}
                message = err.get("message") if isinstance(err, dict) else str(err)
            except ValueError:
                message = resp.text[:200]
            raise ControlError(f"{twin} {method} /_dtu{path}: {resp.status_code} {message}")
        return resp.json() if resp.content else None

    async def state(self, twin: str, collection: str, tenant: str, **filters: Any) -> list[dict[str, Any]]:
        params = {"tenant": tenant, "limit": 10000, **{k: v for k, v in filters.items() if v is not None}}
        data = await self.control(twin, "GET", f"/state/{collection}", params=params)
        items: list[dict[str, Any]] = data["items"]
        return items

    async def health(self, twin: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.control(twin, "GET", "/health")
        return result

    async def app_health(self) -> dict[str, Any]:
        """GET {app}/health, or InfraError naming the URL."""
        if not self.app_url:
            raise InfraError("no app under test (give --app-url or --app-cmd)")
        try:
            resp = await self.http.get(self.app_url.rstrip("/") + "/health", timeout=5)
        except HttpError as exc:
            raise InfraError(f"the app at {self.app_url} is unreachable: {exc}") from None
        if resp.status_code != 200:
            raise InfraError(f"the app at {self.app_url} answered /health with {resp.status_code}")
        try:
            data: dict[str, Any] = resp.json()
        except ValueError:
            data = {}
        return data
