"""Jira's error envelope: `{"errorMessages": [...], "errors": {field: message}}`.

https://developer.atlassian.com/cloud/jira/platform/rest/v3/intro/#status-codes . Every
failure of the Jira twin (service errors, unknown routes, validation, injected faults) is
rendered here with `Content-Type: application/json;charset=UTF-8`, Jira's exact casing:
atlassian-python-api parses a 401 body as JSON only for that literal header value.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from dtu.errors import RequestFacts, TwinError

JSON = "application/json;charset=UTF-8"

NOT_AUTHENTICATED = "Client must be authenticated to access this resource."
ISSUE_NOT_FOUND = "Issue does not exist or you do not have permission to see it."


class JiraError(TwinError):
    """Any Jira error: `messages` go to `errorMessages`, `errors` maps a field to its message."""

    code = "jira_error"
    http_status = 400

    def __init__(
        self,
        *messages: str,
        errors: dict[str, str] | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__("; ".join([*messages, *(errors or {}).values()]) or "error", status=status)
        self.messages = list(messages)
        self.errors = dict(errors or {})
        self.headers = headers or {}


class NotAuthenticated(JiraError):
    """401: no credentials, or an email/API token pair Jira does not know."""

    http_status = 401

    def __init__(self) -> None:
        super().__init__(NOT_AUTHENTICATED, status=401)


class NotFound(JiraError):
    """404 with Jira's message for the missing (or invisible) object."""

    http_status = 404

    def __init__(self, message: str) -> None:
        super().__init__(message, status=404)


class IssueNotFound(NotFound):
    """Jira does not tell a missing issue from one the caller may not browse."""

    def __init__(self) -> None:
        super().__init__(ISSUE_NOT_FOUND)


class Forbidden(JiraError):
    http_status = 403

    def __init__(self, message: str = "You do not have permission to perform this operation.") -> None:
        super().__init__(message, status=403)


class FieldErrors(JiraError):
    """400 with per-field messages (create/edit validation)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors=errors, status=400)


def _body(messages: list[str], errors: dict[str, Any] | None = None) -> bytes:
    return orjson.dumps({"errorMessages": messages, "errors": errors or {}})


class JiraErrorAdapter:
    """Renders every failure of the Jira twin as Jira Cloud does."""

    def render(self, err: TwinError, facts: RequestFacts) -> Response:
        if isinstance(err, JiraError):
            body = _body(err.messages, err.errors)
            headers = dict(err.headers)
        else:
            body = _body([err.text])
            headers = {}
        return Response(body, status_code=err.status, media_type=JSON, headers=headers or None)

    def validation(self, detail: str, facts: RequestFacts) -> TwinError:
        return JiraError(detail, status=400)

    def not_found(self, facts: RequestFacts) -> TwinError:
        # Jersey's answer for a path no resource serves.
        return JiraError(f"null for uri: {facts.path}", status=404)

    def method_not_allowed(self, facts: RequestFacts) -> TwinError:
        return JiraError("Method Not Allowed", status=405)

    def internal(self, exc: BaseException, facts: RequestFacts) -> TwinError:
        return JiraError("Internal server error", status=500)

    def rate_limited(self, retry_after_s: int, facts: RequestFacts) -> Response:
        # https://developer.atlassian.com/cloud/jira/platform/rate-limiting/ : 429 + Retry-After (int s)
        return Response(
            _body(["Rate limit exceeded."]),
            status_code=429,
            media_type=JSON,
            headers={
                "Retry-After": str(max(1, int(retry_after_s))),
                "RateLimit-Reason": "jira-burst-based",
                "X-RateLimit-NearLimit": "true",
            },
        )

    def unavailable(self, facts: RequestFacts) -> Response:
        return Response(
            _body(["Service Unavailable"]), status_code=503, media_type=JSON, headers={"Retry-After": "1"}
        )

    def injected(self, status: int, code: str | None, facts: RequestFacts) -> Response:
        if status == 429:
            return self.rate_limited(1, facts)
        messages = {
            400: "Bad Request",
            401: NOT_AUTHENTICATED,
            403: "You do not have permission to perform this operation.",
            404: ISSUE_NOT_FOUND if "/issue" in facts.path else "Not Found",
            409: "Conflict",
            503: "Service Unavailable",
        }
        text = code or messages.get(status, "Internal server error")
        return Response(_body([text]), status_code=status, media_type=JSON)
