"""The Slack twin's OpenAPI document, built from the method catalog for the methods it serves.

Slack's own OpenAPI (slackapi/slack-api-specs) is Swagger 2.0 frozen in 2020, and FastAPI
cannot describe the twin because one route serves every method. So `GET /openapi.json`
answers this document: per implemented method, `/api/<method>` by GET (arguments in the
query) and by POST (`application/x-www-form-urlencoded`, plus `application/json` where Slack
accepts JSON bodies, https://docs.slack.dev/apis/web-api/#posting-json), bearer tokens, and
the answers Slack gives (https://docs.slack.dev/apis/web-api/#responses): HTTP 200 with
`{"ok": true, ...}` or the error envelope `{"ok": false, "error": "<code>"}`, 429
`ratelimited` with an integer `Retry-After` (https://docs.slack.dev/apis/web-api/rate-limits),
503 during an outage and 413 for bodies over the size limit. Schemathesis fuzzes the twin
against it (tests/twins/slack/test_fuzz.py).
"""

from __future__ import annotations

from typing import Any

from dtu import __version__
from twins.slack import catalog

OPENAPI_VERSION = "3.1.0"
DOCS = "https://docs.slack.dev/reference/methods/"
JSON_MEDIA = "application/json"
FORM_MEDIA = "application/x-www-form-urlencoded"

# On the wire of a query string or a form body every argument is text: arrays travel as
# comma-separated ids or JSON (`users=U1,U2`, `blocks=[...]`), objects as JSON strings.
_WIRE_TEXT = {"array": "string", "object": "string"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _arg_schema(arg: dict[str, Any], *, json_body: bool) -> dict[str, Any]:
    kind = str(arg.get("type") or "string")
    if json_body:
        if kind == "array":
            return {"type": "array", "items": {"type": "string"}}
        if kind == "object":
            return {"type": "object"}
    kind = kind if json_body else _WIRE_TEXT.get(kind, kind)
    if kind not in ("string", "boolean", "integer", "number", "array", "object"):
        kind = "string"
    return {"type": kind}


def _body_schema(info: catalog.MethodInfo, *, json_body: bool) -> dict[str, Any]:
    args = {name: a for name, a in info.args.items() if name != "token"}
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {name: _arg_schema(a, json_body=json_body) for name, a in sorted(args.items())},
    }
    required = sorted(name for name, a in args.items() if a.get("required"))
    if required:
        schema["required"] = required
    return schema


def _responses() -> dict[str, Any]:
    error = {"content": {JSON_MEDIA: {"schema": _ref("Error")}}}
    return {
        "200": {
            "description": "Slack answers success and failure alike with HTTP 200; `ok` tells them apart.",
            "content": {JSON_MEDIA: {"schema": _ref("Response")}},
        },
        "413": {"description": "The request body is over the size limit.", **error},
        "429": {
            "description": "Rate limited: retry after `Retry-After` seconds.",
            "headers": {"Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 0}}},
            "content": {JSON_MEDIA: {"schema": _ref("RateLimited")}},
        },
        "503": {"description": "Slack is unavailable.", **error},
    }


def _operation(info: catalog.MethodInfo, verb: str, needs_auth: bool) -> dict[str, Any]:
    group = info.name.rsplit(".", 1)[0] if "." in info.name else info.name
    scopes = "; ".join(f"{kind}: {', '.join(s) or '(none)'}" for kind, s in sorted(info.scopes.items()))
    op: dict[str, Any] = {
        "operationId": f"{info.name}:{verb}",
        "summary": info.name,
        "description": f"Tokens and scopes: {scopes or 'any'}. Rate-limit tier: {info.tier or 'none'}.",
        "tags": [group],
        "externalDocs": {"url": DOCS + info.name},
        "security": [{"bearerAuth": []}] if needs_auth else [],
        "responses": _responses(),
        "x-slack-errors": list(info.errors),
    }
    args = {name: a for name, a in info.args.items() if name != "token"}
    if verb == "get":
        op["parameters"] = [
            {
                "name": name,
                "in": "query",
                "required": bool(a.get("required")),
                "schema": _arg_schema(a, json_body=False),
            }
            for name, a in sorted(args.items())
        ]
        return op
    content = {FORM_MEDIA: {"schema": _body_schema(info, json_body=False)}}
    if info.json_input:
        content[JSON_MEDIA] = {"schema": _body_schema(info, json_body=True)}
    op["requestBody"] = {"required": any(a.get("required") for a in args.values()), "content": content}
    return op


def _components() -> dict[str, Any]:
    metadata = {
        "type": "object",
        "properties": {
            "next_cursor": {"type": "string"},
            "messages": {"type": "array", "items": {"type": "string"}},
            "warnings": {"type": "array", "items": {"type": "string"}},
        },
    }
    return {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "A bot (xoxb-), user (xoxp-) or configuration (xoxe-) token.",
            }
        },
        "schemas": {
            "Success": {
                "type": "object",
                "required": ["ok"],
                "properties": {"ok": {"const": True}, "response_metadata": metadata},
            },
            "Error": {
                "type": "object",
                "required": ["ok", "error"],
                "properties": {
                    "ok": {"const": False},
                    "error": {"type": "string", "minLength": 1},
                    "needed": {"type": "string"},
                    "provided": {"type": "string"},
                    "warning": {"type": "string"},
                    "response_metadata": metadata,
                },
            },
            "RateLimited": {"allOf": [_ref("Error"), {"properties": {"error": {"const": "ratelimited"}}}]},
            "Response": {"oneOf": [_ref("Success"), _ref("Error")]},
        },
    }


def openapi(server_url: str) -> dict[str, Any]:
    """The document for every method the twin implements (registered by importing the routes)."""
    import twins.slack.routes  # noqa: F401  (registers the methods)
    from twins.slack.dependencies import METHODS

    paths: dict[str, Any] = {}
    for name in sorted(METHODS):
        info = catalog.info(name)
        if info is None:
            continue
        needs_auth = METHODS[name].needs_auth
        paths[f"/api/{name}"] = {verb: _operation(info, verb, needs_auth) for verb in ("get", "post")}
    doc: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "DTU Slack twin: Slack Web API",
            "version": __version__,
            "description": "The Slack Web API methods this twin implements (https://docs.slack.dev/apis/web-api/).",
        },
        "paths": paths,
        "components": _components(),
    }
    if server_url:
        doc["servers"] = [{"url": server_url.rstrip("/")}]
    return doc
