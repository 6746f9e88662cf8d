"""The one seam for transport faults, the journal, body limits and last-resort errors.

A pure ASGI middleware (not `BaseHTTPMiddleware`, whose task juggling costs time and breaks
streaming). For each API request it resolves the operation and tenant, asks the fault engine
for a decision, applies it (or passes the request on with the semantic facts in
`scope["state"]`), renders any uncaught exception through the twin's `ErrorAdapter`, and
journals the outcome. The control plane (`/_dtu/...`) is exempt from all of it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dtu.errors import RequestFacts, TwinError
from dtu.faults.engine import Decision

if TYPE_CHECKING:
    from dtu.runtime import TwinRuntime

log = logging.getLogger("dtu")


class BodyTooLarge(Exception):
    pass


class ConnectionDropped(Exception):
    """Raised in-process (no socket to close) where a real server would drop the connection."""


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())}


async def _abort(receive: Receive) -> None:
    """Close the client's connection with no response (uvicorn exposes its transport)."""
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionDropped()
    transport.abort()
    await asyncio.sleep(0)  # let the server see the disconnect before the app returns


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands out `body` again, then whatever the server sends next."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


class TwinMiddleware:
    def __init__(self, app: ASGIApp, runtime: TwinRuntime) -> None:
        self.app = app
        self.rt = runtime
        self.spec = runtime.spec
        # The twin's own routes, in order. FastAPI keeps included routers nested (and hides
        # their prefixes), so a twin keeps each router flat, or gives `operation_of` itself.
        self._routes = [r for router in self.spec.routers for r in router.routes if isinstance(r, APIRoute)]
        self._direct = self.spec.direct

    def _app_for(self, scope: Scope) -> ASGIApp:
        if self._direct is not None and scope["path"].startswith(self._direct[0]):
            return self._direct[1]
        return self.app

    def _operation(self, scope: Scope) -> str | None:
        if self.spec.operation_of is not None:
            return self.spec.operation_of(scope)
        for route in self._routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return route.operation_id or route.name
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_dtu"):
            await self.app(scope, receive, send)
            return
        rt = self.rt
        started = time.perf_counter()
        state: dict[str, Any] = scope.setdefault("state", {})
        operation = self._operation(scope)
        state["dtu.operation"] = operation
        tenant: str | None = None
        decision: Decision | None = None
        facts = RequestFacts(self.spec.name, scope["method"], scope["path"], operation, tenant)
        status = [0]
        response_started = [False]

        async def send_tracking(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                response_started[0] = True
            await send(message)

        limit = self.spec.max_body_bytes
        received = [0]

        async def receive_limited() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                received[0] += len(message.get("body", b""))
                if received[0] > limit:
                    raise BodyTooLarge()
            return message

        app = self._app_for(scope)
        app_receive: Receive = receive_limited
        try:
            if rt.faults.active:
                credential = self.spec.credential_of(scope)
                in_body = self.spec.credential_in_body
                if credential is None and in_body is not None and scope["method"] == "POST":
                    # The credential may be in the body (Slack's form `token`): read it now, so
                    # that per-tenant rules see the tenant, and hand the app the same bytes.
                    body = await _read_body(receive_limited)
                    credential = in_body(scope, body)
                    app_receive = _replay(body, receive)
                tenant = rt.tenant_for(credential) if credential else None
                decision = rt.faults.decide(
                    operation=operation, method=scope["method"], path=scope["path"], tenant=tenant
                )
                facts = RequestFacts(self.spec.name, scope["method"], scope["path"], operation, tenant)
            if decision is None or not await self._apply(
                decision, facts, scope, receive, send_tracking, state, app_receive
            ):
                await app(scope, app_receive, send_tracking)
        except TwinError as exc:  # from a direct app: FastAPI's handlers never saw it
            if response_started[0]:
                raise
            facts = RequestFacts(
                self.spec.name, scope["method"], scope["path"], operation, state.get("dtu.tenant") or tenant
            )
            await self.spec.error_adapter.render(exc, facts)(scope, receive, send_tracking)
        except BodyTooLarge:
            if not response_started[0]:
                err = self.spec.error_adapter.validation("request body too large", facts)
                err.status = 413
                await self.spec.error_adapter.render(err, facts)(scope, receive, send_tracking)
        except ConnectionDropped:
            raise
        except Exception as exc:
            if response_started[0]:
                raise
            log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            err = self.spec.error_adapter.internal(exc, facts)
            await self.spec.error_adapter.render(err, facts)(scope, receive, send_tracking)
        finally:
            rt.journal.record(
                time=rt.clocks.now(state.get("dtu.tenant") or tenant),
                tenant=state.get("dtu.tenant") or tenant,
                operation=operation,
                method=scope["method"],
                path=scope["path"],
                status=status[0],
                latency_ms=(time.perf_counter() - started) * 1000,
                fault=decision.describe() if decision is not None else None,
            )

    async def _apply(
        self,
        decision: Decision,
        facts: RequestFacts,
        scope: Scope,
        receive: Receive,
        send: Send,
        state: dict[str, Any],
        app_receive: Receive,
    ) -> bool:
        """Apply a fault; True if the request was answered (or dropped) here. `receive` is the
        server's (dropping the connection goes through it), `app_receive` what the app reads."""
        adapter = self.spec.error_adapter
        kind = decision.kind
        action: Any = decision.action
        if kind == "delay":
            await asyncio.sleep(decision.delay_s)
            return False
        if kind == "error":
            await adapter.injected(action.status, action.code, facts)(scope, receive, send)
            return True
        if kind == "rate_limit":
            await adapter.rate_limited(action.retry_after_s, facts)(scope, receive, send)
            return True
        if kind == "outage":
            await adapter.unavailable(facts)(scope, receive, send)
            return True
        if kind == "real_limits":
            state["dtu.real_limits"] = True
            if self.spec.real_limit is not None:
                limit = self.spec.real_limit(facts)
                if limit is not None:
                    verdict = self.rt.limiter.hit(facts.tenant, limit, self.rt.clocks.now(facts.tenant))
                    state["dtu.rate_verdict"] = verdict
                    if not verdict.allowed:
                        await adapter.rate_limited(verdict.retry_after_s, facts)(scope, receive, send)
                        return True
            return False
        if kind == "stale_reads":
            state["dtu.stale_lag_s"] = action.lag_s
            return False
        if kind == "fault_point":
            state.setdefault("dtu.points", {})[action.point] = dict(action.params)
            return False
        if kind in ("timeout", "drop"):
            if kind == "timeout":
                await asyncio.sleep(action.s)
            await _abort(receive)
            return True
        if kind in ("truncate", "malformed"):
            await self._mangle(kind, action, scope, receive, send, app_receive)
            return True
        raise TwinError(f"unsupported fault kind {kind}")  # the model refuses these on load

    async def _mangle(
        self, kind: str, action: Any, scope: Scope, receive: Receive, send: Send, app_receive: Receive
    ) -> None:
        """Run the request for real, then hand back a cut or unparseable body."""
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self._app_for(scope)(scope, app_receive, capture)
        body = b"".join(chunks)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        if kind == "malformed":
            bad = body[: max(1, len(body) // 2)] + b"<!-- upstream"
            headers.append((b"content-length", str(len(bad)).encode()))
            await send(
                {"type": "http.response.start", "status": start.get("status", 200), "headers": headers}
            )
            await send({"type": "http.response.body", "body": bad})
            return
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start.get("status", 200), "headers": headers})
        await send({"type": "http.response.body", "body": body[: action.bytes], "more_body": True})
        await _abort(receive)
