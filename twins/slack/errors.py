"""Slack's error envelope: HTTP 200 with `{"ok": false, "error": "<code>"}`.

https://docs.slack.dev/apis/web-api/#responses . Slack answers almost every failure with
HTTP 200 and a machine-readable `error`; the exceptions are rate limiting (429 with
`Retry-After`) and hard failures. Codes are the vendor's, verbatim; `warning` and
`response_metadata.messages` carry details as Slack does for `invalid_arguments`.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from dtu.errors import RequestFacts, TwinError

JSON = "application/json; charset=utf-8"


class SlackError(TwinError):
    """Any Slack error; instantiate with the vendor code when no class names it."""

    http_status = 200

    def __init__(
        self,
        code: str | None = None,
        *,
        messages: list[str] | None = None,
        extra: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(code or self.code, status=status)
        self.slack_code = code or self.code
        self.messages = messages or []
        self.extra = extra or {}


def _error(name: str, code: str, doc: str) -> type[SlackError]:
    return type(name, (SlackError,), {"code": code, "__doc__": doc})


NotAuthed = _error("NotAuthed", "not_authed", "No token was provided.")
InvalidAuth = _error("InvalidAuth", "invalid_auth", "The token is unknown, or for another workspace.")
TokenRevoked = _error("TokenRevoked", "token_revoked", "The token was revoked (auth.revoke).")
AccountInactive = _error("AccountInactive", "account_inactive", "The token's user was deactivated.")
NotAllowedTokenType = _error(
    "NotAllowedTokenType",
    "not_allowed_token_type",
    "The method does not accept this kind of token (bot, user, configuration).",
)
UnknownMethod = _error("UnknownMethod", "unknown_method", "No such method (or one this twin does not serve).")
InvalidArguments = _error("InvalidArguments", "invalid_arguments", "An argument has the wrong type or shape.")
InvalidFormData = _error("InvalidFormData", "invalid_form_data", "The form body could not be parsed.")
InvalidJson = _error("InvalidJson", "invalid_json", "The JSON body could not be parsed.")
InvalidPostType = _error("InvalidPostType", "invalid_post_type", "The Content-Type is not one Slack accepts.")
InvalidCursor = _error("InvalidCursor", "invalid_cursor", "The cursor was not minted for this call.")
ChannelNotFound = _error(
    "ChannelNotFound",
    "channel_not_found",
    "Unknown channel, or one the caller cannot see: Slack does not tell them apart.",
)
NotInChannel = _error("NotInChannel", "not_in_channel", "The caller is not a member of the conversation.")
IsArchived = _error("IsArchived", "is_archived", "The conversation is archived.")
UserNotFound = _error("UserNotFound", "user_not_found", "Unknown user id.")
UsersNotFound = _error("UsersNotFound", "users_not_found", "No user has that email address.")
MessageNotFound = _error(
    "MessageNotFound", "message_not_found", "No message with that ts in the conversation."
)
ThreadNotFound = _error("ThreadNotFound", "thread_not_found", "No thread with that ts in the conversation.")
NoText = _error("NoText", "no_text", "A message needs text, blocks or attachments.")
MsgTooLong = _error("MsgTooLong", "msg_too_long", "Message text is longer than 40,000 characters.")
InvalidBlocks = _error("InvalidBlocks", "invalid_blocks", "Blocks are not valid Block Kit.")
InvalidBlocksFormat = _error("InvalidBlocksFormat", "invalid_blocks_format", "Blocks are not a JSON array.")
MissingScope = _error("MissingScope", "missing_scope", "The token lacks a scope the method needs.")
RateLimited = _error("RateLimited", "ratelimited", "Too many calls: HTTP 429 with Retry-After.")


def rate_limited(retry_after_s: int) -> SlackError:
    """Slack's 429: `{"ok": false, "error": "ratelimited"}` and an integer `Retry-After`."""
    err = RateLimited(status=429)
    err.details["retry_after"] = retry_after_s
    return err


InternalError = _error("InternalError", "internal_error", "The server failed.")
FatalError = _error("FatalError", "fatal_error", "The server could not complete the operation.")
ServiceUnavailable = _error("ServiceUnavailable", "service_unavailable", "Slack is having an outage.")
RequestTimeout = _error("RequestTimeout", "request_timeout", "The request took too long.")


class SlackErrorAdapter:
    """Renders every failure of the Slack twin as Slack does."""

    def render(self, err: TwinError, facts: RequestFacts) -> Response:
        code = getattr(err, "slack_code", None) or err.code
        body: dict[str, Any] = {"ok": False, "error": code}
        if isinstance(err, SlackError):
            body.update(err.extra)
            if err.messages:
                body.setdefault("response_metadata", {})["messages"] = err.messages
        headers = {"Retry-After": str(err.details["retry_after"])} if "retry_after" in err.details else None
        return Response(orjson.dumps(body), status_code=err.status, media_type=JSON, headers=headers)

    def validation(self, detail: str, facts: RequestFacts) -> TwinError:
        return InvalidArguments(messages=[f"[ERROR] {detail}"])

    def not_found(self, facts: RequestFacts) -> TwinError:
        # Slack answers unknown paths under /api with 200 unknown_method, and others with 404.
        if facts.path.startswith("/api/"):
            return UnknownMethod(extra={"req_method": facts.path[5:]})
        return UnknownMethod(status=404)

    def method_not_allowed(self, facts: RequestFacts) -> TwinError:
        return InvalidPostType(status=200)

    def internal(self, exc: BaseException, facts: RequestFacts) -> TwinError:
        return InternalError(status=500)

    def rate_limited(self, retry_after_s: int, facts: RequestFacts) -> Response:
        return Response(
            orjson.dumps({"ok": False, "error": "ratelimited"}),
            status_code=429,
            media_type=JSON,
            headers={"Retry-After": str(int(retry_after_s))},
        )

    def unavailable(self, facts: RequestFacts) -> Response:
        return Response(
            orjson.dumps({"ok": False, "error": "service_unavailable"}), status_code=503, media_type=JSON
        )

    def injected(self, status: int, code: str | None, facts: RequestFacts) -> Response:
        if status == 429:
            return self.rate_limited(1, facts)
        default = "internal_error" if status >= 500 else "invalid_arguments"
        return Response(
            orjson.dumps({"ok": False, "error": code or default}), status_code=status, media_type=JSON
        )
