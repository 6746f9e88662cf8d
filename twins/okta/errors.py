"""Okta's error envelopes: the Management API's `errorCode` body and OAuth 2.0's `error` body.

https://developer.okta.com/docs/reference/error-codes/ . Every Management API failure answers
`application/json` with `errorCode`, `errorSummary`, `errorLink` (the code again), `errorId`
(`oae` + 22 characters) and `errorCauses` (`[{"errorSummary": ...}]`); the okta SDK raises
`OktaAPIError` only when `errorCode` is present. The OAuth 2.0 / OIDC endpoints answer RFC 6749
`{"error", "error_description"}` instead.
"""

from __future__ import annotations

import itertools
from typing import Any, ClassVar, TypeVar

import orjson
from starlette.responses import Response

from dtu.errors import RequestFacts, TwinError
from dtu.ids import encode, stable_hash

JSON = "application/json"
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_error_seq = itertools.count(1)


def error_id(*parts: object) -> str:
    """`oae` + 22 base62 characters, as real error ids look; a pure function of its parts."""
    return "oae" + encode(stable_hash("errorId", *parts).to_bytes(8, "big") * 3, 22, _ALNUM)


class OktaError(TwinError):
    """A Management API error: `code` is Okta's `E00000nn`, `text` its `errorSummary`."""

    keep_writes: bool = False  # see `kept`
    code: ClassVar[str] = "E0000001"
    http_status: ClassVar[int] = 400
    message: ClassVar[str] = ""
    link: ClassVar[str | None] = None

    def __init__(
        self,
        message: str | None = None,
        *,
        causes: list[str] | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message, status=status, **details)
        self.causes = causes or []
        self.headers = headers or {}

    def body(self, facts: RequestFacts) -> dict[str, Any]:
        return {
            "errorCode": self.code,
            "errorSummary": self.text,
            "errorLink": self.link or self.code,
            "errorId": error_id(facts.tenant, facts.path, next(_error_seq)),
            "errorCauses": [{"errorSummary": c} for c in self.causes],
        }


def _error(
    name: str, code: str, status: int, message: str, doc: str, link: str | None = None
) -> type[OktaError]:
    return type(
        name,
        (OktaError,),
        {"code": code, "http_status": status, "message": message, "link": link, "__doc__": doc},
    )


ApiValidationFailed = _error(
    "ApiValidationFailed",
    "E0000001",
    400,
    "Api validation failed: {field}",
    "A field of the body is missing, unknown or invalid.",
)
MalformedBody = _error(
    "MalformedBody",
    "E0000003",
    400,
    "The request body was not well-formed.",
    "The body is not JSON (or not the JSON object the operation takes).",
)
AuthenticationFailed = _error(
    "AuthenticationFailed",
    "E0000004",
    401,
    "Authentication failed",
    "Primary authentication (`/api/v1/authn`) failed.",
)
InvalidSession = _error(
    "InvalidSession", "E0000005", 403, "Invalid session", "The session is unknown, expired or closed."
)
Forbidden = _error(
    "Forbidden",
    "E0000006",
    403,
    "You do not have permission to perform the requested action",
    "The token lacks the `okta.*` scope the operation needs, or the caller is not an admin.",
)
NotFound = _error(
    "NotFound", "E0000007", 404, "Not found: Resource not found: {id} ({kind})", "No such object (or path)."
)
InternalError = _error(
    "InternalError", "E0000009", 500, "Internal Server Error", "The server failed.", link="E0000000"
)
Unavailable = _error(
    "Unavailable",
    "E0000010",
    503,
    "Service is temporarily unavailable",
    "Okta is unavailable (an `outage` fault).",
)
InvalidToken = _error(
    "InvalidToken",
    "E0000011",
    401,
    "Invalid token provided",
    "The API token or access token is missing, unknown, expired or revoked.",
)
CredentialsUpdateFailed = _error(
    "CredentialsUpdateFailed",
    "E0000014",
    403,
    "Update of credentials failed",
    "change_password with a wrong old password, or a password the policy refuses.",
)
FeatureForbidden = _error(
    "FeatureForbidden",
    "E0000015",
    401,
    "You do not have permission to access the feature you are requesting",
    "The feature is not available to this caller.",
)
AlreadyActive = _error(
    "AlreadyActive",
    "E0000016",
    403,
    "Activation failed because the user is already active",
    "activate on a user that is not STAGED or DEPROVISIONED.",
)
MethodNotAllowed = _error(
    "MethodNotAllowed",
    "E0000022",
    405,
    "The endpoint does not support the provided HTTP method",
    "Wrong HTTP method.",
)
InvalidPaging = _error(
    "InvalidPaging",
    "E0000029",
    400,
    "Invalid paging request.",
    "An `after` cursor this twin did not mint, or minted for other parameters.",
)
InvalidSearch = _error(
    "InvalidSearch",
    "E0000031",
    400,
    "Invalid search criteria.",
    "A `filter` or `search` expression that does not parse or names an unknown property.",
)
UnlockNotAllowed = _error(
    "UnlockNotAllowed",
    "E0000032",
    403,
    "Unlock is not allowed for this user.",
    "unlock on a user that is not LOCKED_OUT.",
)
StatusNotAllowed = _error(
    "StatusNotAllowed",
    "E0000038",
    403,
    "This operation is not allowed in the user's current status.",
    "A lifecycle operation the user's status does not allow.",
)
RateLimited = _error(
    "RateLimited",
    "E0000047",
    429,
    "API call exceeded rate limit due to too many requests.",
    "Too many calls in the endpoint's window.",
)
AppDeleteForbidden = _error(
    "AppDeleteForbidden",
    "E0000056",
    403,
    "Delete application forbidden.",
    "Apps must be INACTIVE before they can be deleted.",
)
InvalidPasscode = _error(
    "InvalidPasscode",
    "E0000068",
    403,
    "Invalid Passcode/Answer",
    "A factor's passcode (TOTP) is wrong, expired or already used.",
)
PasswordPolicyFailed = _error(
    "PasswordPolicyFailed",
    "E0000080",
    403,
    "The password does not meet the complexity requirements of the current password policy.",
    "Authn change_password with a new password the password policy refuses.",
)
RecoveryAnswerMismatch = _error(
    "RecoveryAnswerMismatch",
    "E0000087",
    403,
    "The recovery question answer did not match our records.",
    "Authn recovery/answer with a wrong answer to the user's recovery question.",
)
RecoveryTokenInvalid = _error(
    "RecoveryTokenInvalid",
    "E0000105",
    403,
    "You have accessed an account recovery link that has expired or been previously used.",
    "Authn recovery/token with a reset link's token that is spent or unknown.",
)
MediaTypeMismatch = _error(
    "MediaTypeMismatch",
    "E0000019",
    400,
    "Bad request. Accept and/or Content-Type headers likely do not match supported values.",
    "A JSON operation's body sent with another Content-Type (text/xml, a form...).",
)
ExpireNeedsPassword = _error(
    "ExpireNeedsPassword",
    "E0000124",
    400,
    "Could not create user. To create a user and expire their password immediately, a password must be specified.",
    "nextLogin=changePassword without a password.",
)
ExpireNeedsActivate = _error(
    "ExpireNeedsActivate",
    "E0000125",
    400,
    "Could not create user. To create a user and expire their password immediately, `activate` must be true.",
    "nextLogin=changePassword with activate=false.",
)
MissingHeader = _error(
    "MissingHeader",
    "E0000028",
    400,
    "The request is missing a required parameter.",
    "A required parameter is absent.",
)


E = TypeVar("E", OktaError, "OAuthError")


def kept(err: E) -> E:
    """An error whose unit of work still commits what it wrote (a failed sign-in counts toward
    lockout and is logged, though the request fails): `dependencies.call` commits, then raises."""
    err.keep_writes = True
    return err


def not_found(id_: str, kind: str) -> OktaError:
    return NotFound(id=id_, kind=kind)


def validation(field: str, *causes: str) -> OktaError:
    return ApiValidationFailed(field=field, causes=list(causes))


class OAuthError(TwinError):
    """An OAuth 2.0 / OIDC endpoint error (RFC 6749 section 5.2): `{"error", "error_description"}`."""

    http_status = 400
    keep_writes: bool = False  # see `kept`

    def __init__(
        self,
        error: str,
        description: str,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description, status=status)
        self.error = error
        self.headers = headers or {}


def oauth_body(err: OAuthError) -> dict[str, Any]:
    return {"error": err.error, "error_description": err.text}


class OktaErrorAdapter:
    """Renders every failure of the Okta twin as Okta does."""

    def render(self, err: TwinError, facts: RequestFacts) -> Response:
        if isinstance(err, OAuthError):
            headers = dict(err.headers)
            if err.status == 401 and "WWW-Authenticate" not in headers and facts.path.endswith("/userinfo"):
                headers["WWW-Authenticate"] = (
                    f'Bearer authorization_uri="", realm="", error="{err.error}", '
                    f'error_description="{err.text}"'
                )
            return Response(
                orjson.dumps(oauth_body(err)), status_code=err.status, media_type=JSON, headers=headers
            )
        if not isinstance(err, OktaError):
            err = (
                InternalError(err.text)
                if err.status >= 500
                else ApiValidationFailed(err.text, status=err.status)
            )
        return Response(
            orjson.dumps(err.body(facts)),
            status_code=err.status,
            media_type=JSON,
            headers=err.headers or None,
        )

    def validation(self, detail: str, facts: RequestFacts) -> TwinError:
        return ApiValidationFailed(field=detail.split(":", 1)[0] or "request", causes=[detail])

    def not_found(self, facts: RequestFacts) -> TwinError:
        return NotFound(id=facts.path, kind=facts.method)

    def method_not_allowed(self, facts: RequestFacts) -> TwinError:
        return MethodNotAllowed()

    def internal(self, exc: BaseException, facts: RequestFacts) -> TwinError:
        return InternalError()

    def rate_limited(self, retry_after_s: int, facts: RequestFacts) -> Response:
        # The SDK backs off `X-Rate-Limit-Reset - Date + 1` s, so the window's end must be
        # there; the outer header middleware fills in the rest (and keeps these values).
        err = RateLimited(headers={"X-Rate-Limit-Retry-After-S": str(int(retry_after_s))})
        return self.render(err, facts)

    def unavailable(self, facts: RequestFacts) -> Response:
        return self.render(Unavailable(), facts)

    def injected(self, status: int, code: str | None, facts: RequestFacts) -> Response:
        if status == 429:
            return self.rate_limited(1, facts)
        known = {
            400: ApiValidationFailed("Api validation failed: request"),
            401: InvalidToken(),
            403: Forbidden(),
            404: NotFound(id=facts.path, kind=facts.method),
            405: MethodNotAllowed(),
            503: Unavailable(),
        }
        err = known.get(status) or (
            InternalError(status=status)
            if status >= 500
            else ApiValidationFailed("Api validation failed: request", status=status)
        )
        if code:
            err = type(err)(err.text, status=status)
            err.code = code  # type: ignore[misc]
        return self.render(err, facts)
