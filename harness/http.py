"""The harness's HTTP client: one pooled aiohttp session for the control plane, the checks, the
steps that speak raw HTTP, and the vendors' SDKs that take a session (slack_sdk, okta).

Why not httpx: profiling `bench/harness_throughput.py` showed the harness process spending
most of its CPU in httpx/httpcore's pool bookkeeping (each request scans every pooled
connection and probes its socket), which made the harness, not the twins, the bottleneck.
aiohttp does the same work for a fraction of the CPU, and the SDKs can share its pool.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

KEEPALIVE_S = 1.5


class HttpError(Exception):
    """No answer: connection refused or reset, timeout, bad URL."""


@dataclass
class Response:
    """What the harness reads of an answer (the body is read in full)."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    url: str = ""

    def json(self) -> Any:
        """The body as JSON (ValueError when it is not)."""
        return orjson.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Http:
    """A lazily opened aiohttp session (it belongs to the event loop that first uses it)."""

    def __init__(
        self, *, timeout_s: float = 30.0, headers: Mapping[str, str] | None = None, limit: int = 256
    ) -> None:
        self.timeout_s = timeout_s
        self.headers = dict(headers or {})
        self.limit = limit
        self._session: aiohttp.ClientSession | None = None
        self._fresh: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The shared session (SDK clients take it so that they reuse its connections)."""
        if self._session is None or self._session.closed:
            # keep-alive well under the servers' (uvicorn: 5 s), so that a pooled connection is
            # not reused at the moment the server closes it (the SDKs sharing the pool do not
            # retry that); busy connections are reused long before this
            connector = aiohttp.TCPConnector(
                limit=self.limit, keepalive_timeout=KEEPALIVE_S, ttl_dns_cache=None
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                json_serialize=lambda o: orjson.dumps(o).decode(),
                headers=self.headers,
            )
        return self._session

    @property
    def fresh_session(self) -> aiohttp.ClientSession:
        """A session that opens a new connection for every request, for SDKs that neither
        retry a request sent on a pooled connection the server just closed nor survive it
        (the okta SDK crashes with an AttributeError): what they do by default, without
        building a session per request."""
        if self._fresh is None or self._fresh.closed:
            self._fresh = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.limit, force_close=True, ttl_dns_cache=None),
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
            )
        return self._fresh

    async def aclose(self) -> None:
        for session in (self._session, self._fresh):
            if session is not None and not session.closed:
                await session.close()

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
    ) -> Response:
        """Send one request; HttpError when there is no answer. A pooled connection that the
        server had just closed is retried once on a new one."""
        hdrs = dict(headers or {})
        if auth is not None:
            hdrs["Authorization"] = basic_auth(*auth)
        data: bytes | None = None
        if json is not None:
            data = orjson.dumps(json)
            hdrs.setdefault("Content-Type", "application/json")
        query = {k: _param(v) for k, v in params.items() if v is not None} if params else None
        kw: dict[str, Any] = {"params": query, "data": data, "headers": hdrs}
        if timeout is not None:
            kw["timeout"] = aiohttp.ClientTimeout(total=timeout)
        for attempt in (1, 2):
            try:
                async with self.session.request(method, url, **kw) as resp:
                    body = await resp.read()
                    return Response(resp.status, resp.headers, body, str(resp.url))
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                # a pooled connection the server had just closed: once more, on a new one, if
                # the request is idempotent or was not sent at all
                unsent = "Can not write request body" in str(exc)
                if attempt == 2 or not (unsent or method.upper() in ("GET", "HEAD", "PUT", "DELETE")):
                    raise HttpError(f"{method} {url}: {exc!r}") from None
            except TimeoutError:
                raise HttpError(f"{method} {url}: no answer within {timeout or self.timeout_s:g}s") from None
            except (aiohttp.ClientError, OSError, ValueError) as exc:
                raise HttpError(f"{method} {url}: {exc!r}") from None
        raise AssertionError("unreachable")

    async def get(self, url: str, **kw: Any) -> Response:
        return await self.request("GET", url, **kw)

    async def post(self, url: str, **kw: Any) -> Response:
        return await self.request("POST", url, **kw)

    async def put(self, url: str, **kw: Any) -> Response:
        return await self.request("PUT", url, **kw)

    async def delete(self, url: str, **kw: Any) -> Response:
        return await self.request("DELETE", url, **kw)
