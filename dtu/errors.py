"""One error path: a twin raises a vendor-named `TwinError`; only its `ErrorAdapter` renders.

Design note. Client libraries break on error bodies that are only slightly wrong, so no
FastAPI default body may ever leave a twin. `dtu.app.create_twin_app` routes every non-2xx
response through the twin's adapter: raised `TwinError`s, request validation failures,
unknown routes, wrong methods, uncaught exceptions, and the faults the engine injects.

    class ChannelNotFound(SlackError):
        code = "channel_not_found"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import orjson
from starlette.responses import Response


class TwinError(Exception):
    """A vendor error: `code` is the vendor's own code, `message` its own wording."""

    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 400
    message: ClassVar[str] = ""

    def __init__(self, message: str | None = None, *, status: int | None = None, **details: Any) -> None:
        self.text = message if message is not None else self.message.format(**details)
        self.status = status if status is not None else self.http_status
        self.details = details
        super().__init__(self.text or self.code)


@dataclass
class RequestFacts:
    """What the core knows of a request before a twin handles it."""

    twin: str
    method: str
    path: str
    operation: str | None = None
    tenant: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class ErrorAdapter(Protocol):
    """Renders a twin's errors in the vendor's envelope; one per twin."""

    def render(self, err: TwinError, facts: RequestFacts) -> Response: ...

    def validation(self, detail: str, facts: RequestFacts) -> TwinError:
        """Input the service would reject (wrong types, malformed body)."""
        ...

    def not_found(self, facts: RequestFacts) -> TwinError:
        """A path the vendor does not serve (Slack: `unknown_method`)."""
        ...

    def method_not_allowed(self, facts: RequestFacts) -> TwinError: ...

    def internal(self, exc: BaseException, facts: RequestFacts) -> TwinError: ...

    def rate_limited(self, retry_after_s: int, facts: RequestFacts) -> Response: ...

    def unavailable(self, facts: RequestFacts) -> Response:
        """The vendor's outage answer (Slack 503 `service_unavailable`, Okta 503, Google 503)."""
        ...

    def injected(self, status: int, code: str | None, facts: RequestFacts) -> Response:
        """A fault profile's `error` action: the vendor's body for that status (and code)."""
        ...


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None, media_type: str = "application/json"
) -> Response:
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type=media_type)
