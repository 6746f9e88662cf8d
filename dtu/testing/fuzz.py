"""Schemathesis against a live twin's `/openapi.json`: one driver for every twin's fuzz suite
(and for users who fuzz their own twin set-ups).

A twin's suite says what is particular to it (its credentials, its error envelope as checks,
which path or body values to point at scratch objects, what a resent request without valid
credentials must answer); `Fuzz` does the rest: one derandomized Hypothesis test per operation
and generation mode, each case sent with the credentials, then resent byte for byte with other
`Authorization` values, and every failure of every operation reported together.

    fuzz = Fuzz(base_url=tenant.url, http=session, checks=[no_server_error, my_envelope],
                examples={GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 3},
                headers=lambda op: {"Authorization": f"Bearer {token}"},
                resend_as=lambda op: [None, "Bearer garbage"])
    outcome = fuzz.run(operations)
    assert not outcome.failures, "\\n\\n".join(outcome.failures)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, CheckContext, GenerationMode, Response

Check = Callable[..., Any]
Anchor = Callable[[Case[Any], st.DataObject, GenerationMode], None]
AfterResend = Callable[[Any, Case[Any], "str | None", Response], None]


def header(response: Response, name: str) -> str | None:
    """The first value of a response header, by case-insensitive name."""
    values = {k.lower(): v for k, v in response.headers.items()}.get(name.lower())
    return values[0] if values else None


def json_of(response: Response) -> Any:
    try:
        return orjson.loads(response.content or b"null")
    except orjson.JSONDecodeError:
        raise AssertionError(f"the body is not JSON: {response.content[:200]!r}") from None


def no_server_error(ctx: CheckContext, response: Response, case: Case[Any]) -> None:
    """No fault is active while fuzzing: bad input gets the vendor's error, never a 5xx."""
    assert response.status_code < 500, f"HTTP {response.status_code}: {response.content[:300]!r}"


def no_framework_body(ctx: CheckContext, response: Response, case: Case[Any]) -> None:
    """FastAPI's and Starlette's default bodies must never leave a twin."""
    try:
        body = orjson.loads(response.content or b"null")
    except orjson.JSONDecodeError:
        return
    assert not (isinstance(body, dict) and "detail" in body), f"framework body: {body!r}"


def resend(http: requests.Session, response: Response, authorization: str | None) -> Response:
    """The very request a case sent, with another `Authorization` value, or none."""
    request = response.request.copy()
    request.headers.pop("Authorization", None)
    if authorization is not None:
        request.headers["Authorization"] = authorization
    return Response.from_any(http.send(request, timeout=30))


@dataclass
class Outcome:
    failures: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # nothing to generate (e.g. nothing to negate)


@dataclass
class Fuzz:
    base_url: str
    http: requests.Session
    checks: Sequence[Check]
    examples: Mapping[GenerationMode, int]
    headers: Callable[[Any], dict[str, str]] = lambda _op: {}
    """The headers (credentials) an operation's cases are sent with."""
    anchor: Anchor | None = None
    """Points some generated values at objects that exist, so that the fuzz gets past the 404s."""
    resend_as: Callable[[Any], Sequence[str | None]] = lambda _op: ()
    """`Authorization` values (None: no header) each case of an operation is resent with."""
    after_resend: AfterResend | None = None
    """What a resent answer must also be: (operation, case, authorization, response)."""

    def test(self, op: Any, mode: GenerationMode) -> Callable[[], None]:
        """The Hypothesis test of one operation in one generation mode."""
        headers = self.headers(op)
        others = self.resend_as(op)

        @settings(
            max_examples=self.examples[mode],
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=op.as_strategy(generation_mode=mode), data=st.data())
        def fuzz(case: Case[Any], data: st.DataObject) -> None:
            if self.anchor is not None:
                self.anchor(case, data, mode)
            response = case.call(base_url=self.base_url, session=self.http, headers=headers)
            case.validate_response(response, checks=list(self.checks))
            for authorization in others:
                again = resend(self.http, response, authorization)
                case.validate_response(again, checks=list(self.checks))
                if self.after_resend is not None:
                    self.after_resend(op, case, authorization, again)

        result: Callable[[], None] = fuzz
        return result

    def run(self, operations: Iterable[Any]) -> Outcome:
        """Every operation in every mode; failures are collected, not raised one by one."""
        outcome = Outcome()
        for op in operations:
            for mode in self.examples:
                try:
                    self.test(op, mode)()
                except Unsatisfiable:
                    outcome.skipped.append(f"{op.label} ({mode.value})")
                except Exception as exc:  # every operation is fuzzed; failures are reported together
                    outcome.failures.append(f"{op.label} ({mode.value}): {exc}")
        return outcome
