"""A small OpenAI-compatible chat completions endpoint for the LLM judge's tests: no network,
no model. It answers deterministically from the conversation, as the model name says:

    model "<style>:<word>": the verdict is "satisfied" when the user message contains <word>
    styles: json (the strict format), chatty (prose around a ```json fence), lines
    (`VERDICT: ...` / `REASON: ...`), garbage (no verdict), 500 (a server error), 401 (needs
    the key "sk-test")

Requests it cannot read get OpenAI's error envelope (400 invalid_request_error), as the real
API answers them. Every request is recorded for the tests to read.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def _error(status: int, message: str, kind: str, param: str | None = None) -> Response:
    return JSONResponse(
        {"error": {"message": message, "type": kind, "param": param, "code": None}},
        status_code=status,
        headers={"Retry-After": "0"} if status >= 500 else None,
    )


def create_app() -> Starlette:
    seen: list[dict[str, Any]] = []

    async def completions(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "We could not parse the JSON body of your request.", "invalid_request_error")
        if not isinstance(body, dict):
            return _error(400, "The body must be a JSON object.", "invalid_request_error")
        model, messages = body.get("model"), body.get("messages")
        if not isinstance(model, str) or not model:
            return _error(400, "you must provide a model parameter", "invalid_request_error", "model")
        if (
            not isinstance(messages, list)
            or not messages
            or not all(
                isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
                for m in messages
            )
        ):
            return _error(
                400,
                "'messages' must be a non-empty list of {role, content}",
                "invalid_request_error",
                "messages",
            )
        seen.append({"body": body, "authorization": request.headers.get("authorization")})
        style, _, word = model.partition(":")
        if style == "500":
            return _error(500, "The server had an error while processing your request.", "server_error")
        if style == "401" and request.headers.get("authorization") != "Bearer sk-test":
            return _error(401, "Incorrect API key provided.", "invalid_request_error")
        user = "\n".join(m["content"] for m in messages if m["role"] == "user")
        ok = bool(word) and word in user
        verdict = "satisfied" if ok else "unsatisfied"
        reason = f"the trace {'shows' if ok else 'does not show'} {word}"
        content = {
            "json": f'{{"verdict": "{verdict}", "reason": "{reason}"}}',
            "401": f'{{"verdict": "{verdict}", "reason": "{reason}"}}',
            "chatty": f'Looking at the trace.\n```json\n{{"verdict": "{verdict}", "reason": "{reason}"}}\n```\nDone.',
            "lines": f"VERDICT: {verdict.upper()}\nREASON: {reason}",
            "garbage": "It is hard to say from here.",
        }.get(style, "?")
        return JSONResponse(
            {
                "id": f"chatcmpl-{len(seen)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": len(user) // 4,
                    "completion_tokens": 20,
                    "total_tokens": len(user) // 4 + 20,
                },
            }
        )

    async def recorded(_request: Request) -> Response:  # for the tests: what the judge sent
        return JSONResponse(seen)

    async def not_found(request: Request) -> Response:
        return _error(404, f"Invalid URL ({request.method} {request.url.path})", "invalid_request_error")

    app = Starlette(
        routes=[
            Route("/v1/chat/completions", completions, methods=["POST"]),
            Route("/_recorded", recorded, methods=["GET"]),
            Route("/{path:path}", not_found, methods=["GET", "POST"]),
        ]
    )
    app.state.seen = seen
    return app
