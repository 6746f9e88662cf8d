"""Google's error envelopes, for the three Google twins.

https://cloud.google.com/apis/design/errors . Drive still sends the legacy body, with an
`errors[]` array of `{domain, reason, message, location?, locationType?}` (and a `status`
only on some auth errors); Sheets and Docs send the google.rpc body (`status`, optional
`details`, no `errors`). The OAuth endpoints (`/token`, `/tokeninfo`) answer RFC 6749's
`{"error": "...", "error_description": "..."}`. One adapter class renders all three; each twin
picks its style.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from dtu.errors import RequestFacts, TwinError

JSON = "application/json; charset=UTF-8"

_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    412: "FAILED_PRECONDITION",
    413: "INVALID_ARGUMENT",
    416: "OUT_OF_RANGE",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class GoogleError(TwinError):
    """A Google API error: HTTP status, message, and Drive's `errors[0]` (domain, reason,
    location). `status` (the rpc code name) is sent by Drive only on some errors."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        reason: str = "badRequest",
        domain: str = "global",
        location: str | None = None,
        location_type: str | None = None,
        rpc_status: str | None = None,
        with_status: bool = False,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, status=status)
        self.reason = reason
        self.domain = domain
        self.location = location
        self.location_type = location_type
        self.rpc_status = rpc_status or _STATUS.get(status, "UNKNOWN")
        self.with_status = with_status
        self.rpc_details = details
        self.headers = headers or {}


class OAuthError(TwinError):
    """An error of the OAuth 2.0 endpoints: `{"error": code, "error_description": text}`."""

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        super().__init__(description, status=status)
        self.error = error


# -- the errors every Google API shares ----------------------------------------------------------


def invalid_value(location: str | None = None, message: str = "Invalid Value") -> GoogleError:
    return GoogleError(
        message,
        status=400,
        reason="invalid",
        location=location,
        location_type="parameter" if location else None,
    )


def required(location: str, message: str | None = None) -> GoogleError:
    return GoogleError(
        message or f"Required parameter: {location}",
        status=400,
        reason="required",
        location=location,
        location_type="parameter",
    )


def login_required() -> GoogleError:
    return GoogleError(
        "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie "
        "or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.",
        status=401,
        reason="required",
        location="Authorization",
        location_type="header",
        with_status=True,
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
    )


def invalid_credentials() -> GoogleError:
    return GoogleError(
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
        "other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.",
        status=401,
        reason="authError",
        location="Authorization",
        location_type="header",
        with_status=True,
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'},
    )


def insufficient_scopes(service: str, method: str) -> GoogleError:
    """403 `ACCESS_TOKEN_SCOPE_INSUFFICIENT` (the token lacks every scope the method accepts)."""
    return GoogleError(
        "Request had insufficient authentication scopes.",
        status=403,
        reason="insufficientPermissions",
        with_status=True,
        details=[
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                "domain": "googleapis.com",
                "metadata": {"service": service, "method": method},
            }
        ],
        headers={
            "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="insufficient_scope"'
        },
    )


class GoogleErrorAdapter:
    """Renders every failure of a Google twin in that API's envelope (`drive` or `rpc`)."""

    def __init__(self, style: str = "drive", service: str = "drive.googleapis.com") -> None:
        self.style = style
        self.service = service

    def body(self, err: GoogleError) -> dict[str, Any]:
        inner: dict[str, Any] = {"code": err.status, "message": err.text}
        if self.style == "drive":
            item: dict[str, Any] = {"message": _item_message(err), "domain": err.domain, "reason": err.reason}
            if err.location:
                item["location"] = err.location
            if err.location_type:
                item["locationType"] = err.location_type
            inner["errors"] = [item]
            if err.with_status:
                inner["status"] = err.rpc_status
        else:
            inner["status"] = err.rpc_status
        if err.rpc_details:
            inner["details"] = err.rpc_details
        return {"error": inner}

    def render(self, err: TwinError, facts: RequestFacts) -> Response:
        if isinstance(err, OAuthError):
            return Response(
                orjson.dumps({"error": err.error, "error_description": err.text}),
                status_code=err.status,
                media_type=JSON,
            )
        if not isinstance(err, GoogleError):
            err = GoogleError(err.text or "Bad Request", status=err.status)
        return Response(
            orjson.dumps(self.body(err)), status_code=err.status, media_type=JSON, headers=err.headers or None
        )

    def validation(self, detail: str, facts: RequestFacts) -> TwinError:
        return GoogleError(
            f"Invalid value: {detail}" if detail else "Bad Request",
            status=400,
            reason="invalid" if detail else "badRequest",
        )

    def not_found(self, facts: RequestFacts) -> TwinError:
        return GoogleError("Not Found", status=404, reason="notFound")

    def method_not_allowed(self, facts: RequestFacts) -> TwinError:
        # Google's front end answers a known path with a method it does not route as unknown.
        return GoogleError("Not Found", status=404, reason="notFound")

    def internal(self, exc: BaseException, facts: RequestFacts) -> TwinError:
        return GoogleError("Internal Error", status=500, reason="internalError")

    def rate_limited(self, retry_after_s: int, facts: RequestFacts) -> Response:
        if self.style == "drive":
            err = GoogleError(
                "Rate Limit Exceeded", status=429, reason="rateLimitExceeded", domain="usageLimits"
            )
        else:
            err = GoogleError(
                f"Quota exceeded for quota metric 'Requests' and limit 'Requests per minute per user' of service "
                f"'{self.service}'.",
                status=429,
                details=[
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "RATE_LIMIT_EXCEEDED",
                        "domain": "googleapis.com",
                        "metadata": {"service": self.service},
                    }
                ],
            )
        return self.render(err, facts)

    def unavailable(self, facts: RequestFacts) -> Response:
        return self.render(
            GoogleError(
                "The service is currently unavailable.", status=503, reason="backendError", with_status=True
            ),
            facts,
        )

    def injected(self, status: int, code: str | None, facts: RequestFacts) -> Response:
        if status == 429:
            return self.rate_limited(1, facts)
        known = {
            "userRateLimitExceeded": ("User Rate Limit Exceeded", "usageLimits"),
            "rateLimitExceeded": ("Rate Limit Exceeded", "usageLimits"),
            "dailyLimitExceeded": ("Daily Limit Exceeded", "usageLimits"),
            "sharingRateLimitExceeded": (
                'Rate limit exceeded. User message: "Sorry, you have exceeded your sharing quota."',
                "usageLimits",
            ),
            "storageQuotaExceeded": ("The user's Drive storage quota has been exceeded.", "usageLimits"),
            "backendError": ("Backend Error", "global"),
            "internalError": ("Internal Error", "global"),
        }
        if code in known:
            message, domain = known[code]
            err = GoogleError(message, status=status, reason=code, domain=domain)
        elif status >= 500:
            err = GoogleError(
                "Backend Error" if status != 503 else "The service is currently unavailable.",
                status=status,
                reason=code or "backendError",
            )
        else:
            err = GoogleError(
                "Bad Request" if status == 400 else "Forbidden" if status == 403 else "Error",
                status=status,
                reason=code or ("badRequest" if status == 400 else "forbidden"),
            )
        return self.render(err, facts)


def _item_message(err: GoogleError) -> str:
    """Drive's `errors[0].message`: the top message, except on auth errors where it is short."""
    if err.reason == "authError":
        return "Invalid Credentials"
    if err.reason == "required" and err.location == "Authorization":
        return "Login Required."
    if err.reason == "insufficientPermissions":
        return "Insufficient Permission"
    return err.text
