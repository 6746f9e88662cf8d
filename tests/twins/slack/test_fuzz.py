"""Schemathesis 4 against the live twin's own `/openapi.json`: no input gets a 500 or a
non-Slack body, with a valid token, without one, or with a garbage one.

Every generated request is sent three times: with a fresh tenant's token (the bot's, or
Alice's user token for methods that refuse bot tokens), with no token, and with a garbage
token. Responses must be Slack-shaped (https://docs.slack.dev/apis/web-api/#responses):
JSON `{"ok": bool}`, an `error` string when `ok` is false, an integer `Retry-After` on 429,
never a 5xx and never a framework body such as FastAPI's `{"detail": ...}`. After the fuzz
the tenant's earlier state (a thread in #general, #general itself) must be unchanged.

Random generation rarely hits the values that break servers, so a second test sends each
argument of each method a fixed set of edge values (float overflow, integers past 64 bits,
NaN, NUL, 50,000 characters, deeply nested JSON) with the other arguments pointing at
objects that exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis import Case, CheckContext, GenerationMode, Response
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from slack_sdk import WebClient

from dtu.testing.fuzz import Fuzz, header, json_of, no_framework_body, no_server_error
from dtu.testing.plugin import Tenant
from twins.slack import catalog
from twins.slack.openapi import openapi

# Examples per operation and generation mode: about 0.3 s per operation on SQLite.
EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 3}
GARBAGE_TOKEN = "xoxb-0000000000-garbage"
# Errors Slack raises while reading the request, before it looks at the token.
BODY_ERRORS = {
    "invalid_json",
    "json_not_object",
    "invalid_charset",
    "invalid_form_data",
    "invalid_post_type",
    "missing_post_type",
    "invalid_arguments",
}
BOB = "U0DTUBOB01"
# Arguments the fuzz sometimes points at existing objects, by what they name.
ANCHORED = {
    "channel": "channel",
    "channel_id": "channel",
    "ts": "ts",
    "thread_ts": "ts",
    "message_ts": "ts",
    "timestamp": "ts",
    "user": "user",
    "users": "user",
    "user_id": "user",
}
GROUPS = sorted({path.split("/")[-1].split(".")[0] for path in openapi("")["paths"]})


def slack_envelope(ctx: CheckContext, response: Response, case: Case) -> None:
    """JSON `{"ok": bool}`; an `error` code when `ok` is false; only 200 may be ok."""
    media = (header(response, "content-type") or "").split(";")[0].strip()
    assert media == "application/json", f"Content-Type {media!r}"
    body = json_of(response)
    assert isinstance(body, dict), f"the body is not an object: {body!r}"
    assert isinstance(body.get("ok"), bool), f"no boolean ok: {body!r}"
    if body["ok"]:
        assert response.status_code == 200, f"ok: true with HTTP {response.status_code}"
    else:
        assert isinstance(body.get("error"), str) and body["error"], f"ok: false without an error: {body!r}"
    if response.status_code == 429:
        retry = header(response, "retry-after")
        assert retry is not None and retry.isdigit(), f"429 with Retry-After {retry!r}"
        assert body["error"] == "ratelimited"


CHECKS: list[Callable[..., Any]] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    no_server_error,
    slack_envelope,
    no_framework_body,
]


def _refused(op: Any, case: Case, authorization: str | None, response: Response) -> None:
    """Without a valid token an authenticated method fails (the body may be refused first);
    api.test and oauth.v2.access take no token."""
    from twins.slack.dependencies import METHODS

    method = op.path.split("/")[-1]
    if not METHODS[method].needs_auth:
        return
    wanted = {"not_authed"} if authorization is None else {"invalid_auth"}
    body = json_of(response)
    assert body.get("ok") is False, f"{method} succeeded without a valid token: {body!r}"
    assert body["error"] in wanted | BODY_ERRORS, f"{method} without a valid token: {body['error']!r}"


def _anchor(case: Case, data: st.DataObject, anchors: dict[str, str]) -> None:
    """Point some generated arguments at things that exist (a scratch channel, its message,
    Bob), so that the fuzz reaches past `channel_not_found` into the methods' own checks."""
    args = case.query if case.method == "GET" else case.body
    if not isinstance(args, dict):
        return
    for name in list(args):
        kind = ANCHORED.get(name)
        if kind is not None and data.draw(st.booleans(), label=f"anchor {name}"):
            args[name] = anchors[kind]


def _token_for(method: str, tenant: Tenant) -> str:
    """The bot token, or Alice's user token for methods that take no bot token; auth.revoke
    gets a token of its own (it revokes whatever it is called with)."""
    if method == "auth.revoke":
        token = f"xoxb-revocable-{tenant.tenant}"
        tenant.twin.control(
            "POST",
            "/seed",
            params={"tenant": tenant.tenant},
            json={
                "tokens": [
                    {"token": token, "kind": "bot", "user": "U0DTUBOT01", "app": "A0DTUAPP01", "scopes": []}
                ]
            },
        )
        return token
    info = catalog.info(method)
    if info is not None and info.scopes and "bot" not in info.scopes and "user" in info.scopes:
        return str(tenant.user_token)
    return str(tenant.bot_token)


@pytest.fixture(scope="module")
def http() -> Any:
    with requests.Session() as session:
        yield session


@pytest.fixture
def schema(slack_tenant: Tenant) -> Any:
    """The twin's own document, as `GET /openapi.json` serves it."""
    return schemathesis.openapi.from_url(slack_tenant.url + "/openapi.json")


def _snapshot(client: WebClient, channel: str, ts: str) -> dict[str, Any]:
    info = client.conversations_info(channel=channel)["channel"]
    return {
        "thread": [
            (m["ts"], m["text"], m.get("reply_count"))
            for m in client.conversations_replies(channel=channel, ts=ts)["messages"]
        ],
        "channel": {k: info[k] for k in ("id", "name", "is_archived", "is_general", "topic", "purpose")},
        "members": sorted(client.conversations_members(channel=channel)["members"]),
        "in_history": any(m["ts"] == ts for m in client.conversations_history(channel=channel)["messages"]),
    }


def test_openapi_describes_every_implemented_method(slack_tenant: Tenant, http: requests.Session) -> None:
    from twins.slack.dependencies import METHODS

    doc = http.get(slack_tenant.url + "/openapi.json", timeout=30).json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {f"/api/{name}" for name in METHODS}
    for name, registered in METHODS.items():
        info = catalog.info(name)
        assert info is not None
        item = doc["paths"][f"/api/{name}"]
        assert {p["name"] for p in item["get"]["parameters"]} == set(info.args) - {"token"}
        media = set(item["post"]["requestBody"]["content"])
        assert media == (
            {"application/x-www-form-urlencoded", "application/json"}
            if info.json_input
            else {"application/x-www-form-urlencoded"}
        )
        assert bool(item["post"]["security"]) == registered.needs_auth
        assert item["get"]["responses"]["429"]["headers"]["Retry-After"]["schema"]["type"] == "integer"


def _scratch(bot: WebClient, name: str) -> dict[str, str]:
    """A channel of the bot's with a thread in it, for the fuzz to aim at (not #general)."""
    channel = bot.conversations_create(name=name)["channel"]["id"]
    target = bot.chat_postMessage(channel=channel, text="fuzz target")["ts"]
    bot.chat_postMessage(channel=channel, text="fuzz reply", thread_ts=target)
    return {"channel": channel, "ts": target, "user": BOB}


@pytest.mark.parametrize("group", GROUPS)
def test_fuzz_group(
    group: str, schema: Any, slack_tenant: Tenant, bot: WebClient, general: str, http: requests.Session
) -> None:
    anchors = _scratch(bot, f"fuzz-{group}")
    parent = bot.chat_postMessage(channel=general, text="before the fuzz")["ts"]
    bot.chat_postMessage(channel=general, text="a reply", thread_ts=parent)
    before = _snapshot(bot, general, parent)
    operations = [r.ok() for r in schema.get_all_operations()]
    operations = [op for op in operations if op.path.split("/")[-1].split(".")[0] == group]
    assert operations

    def anchor(case: Case, data: st.DataObject, mode: GenerationMode) -> None:
        if mode is GenerationMode.POSITIVE:
            _anchor(case, data, anchors)

    fuzz = Fuzz(
        base_url=slack_tenant.url,
        http=http,
        checks=CHECKS,
        examples=EXAMPLES,
        headers=lambda op: {"Authorization": f"Bearer {_token_for(op.path.split('/')[-1], slack_tenant)}"},
        anchor=anchor,
        resend_as=lambda _op: [None, f"Bearer {GARBAGE_TOKEN}"],
        after_resend=_refused,
    )
    outcome = fuzz.run(operations)
    assert not outcome.failures, "\n\n".join(outcome.failures)
    assert not outcome.skipped, outcome.skipped
    assert _snapshot(bot, general, parent) == before


# -- edge values ---------------------------------------------------------------------------------

EDGE_VALUES = {
    "float overflow": "1e400",
    "past 64 bits": "-99999999999999999999999",
    "2**63": "9223372036854775808",
    "nan": "nan",
    "nul": "C0\x00x",
    "50k characters": "x" * 50_000,
    "deep json": '{"a":' * 300 + "1" + "}" * 300,
}
# What a required argument is set to when another one carries the edge value.
PLAIN = {
    "name": "edgy",
    "text": "hello",
    "query": "fuzz",
    "email": "bob@example.com",
    "presence": "away",
    "post_at": "4102444800",
    "title": "a title",
    "type": "link",
    "link": "https://example.com/",
    "usergroup": "S0NOTHERE1",
    "handle": "edgy",
    "view": "{}",
    "trigger_id": "1.2.3",
    "file": "F0NOTHERE1",
}


def _plain(name: str, anchors: dict[str, str]) -> str:
    kind = ANCHORED.get(name)
    return anchors[kind] if kind is not None else PLAIN.get(name, "x")


def _methods_of(group: str) -> list[str]:
    return sorted(p.split("/")[-1] for p in openapi("")["paths"] if p.split("/")[-1].split(".")[0] == group)


@pytest.mark.parametrize("group", GROUPS)
def test_edge_values_in_every_argument(
    group: str, slack_tenant: Tenant, bot: WebClient, general: str, http: requests.Session
) -> None:
    before = _snapshot(bot, general, bot.chat_postMessage(channel=general, text="before the edges")["ts"])
    failures: list[str] = []
    for method in _methods_of(group):
        info = catalog.info(method)
        assert info is not None
        anchors = _scratch(bot, f"edge-{method.replace('.', '-').lower()}")
        token = _token_for(method, slack_tenant)
        required = {n: _plain(n, anchors) for n, a in info.args.items() if a.get("required") and n != "token"}
        for arg in sorted(a for a in info.args if a != "token"):
            for label, value in EDGE_VALUES.items():
                response = http.post(
                    f"{slack_tenant.url}/api/{method}",
                    data={**required, arg: value},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                )
                result = Response.from_any(response)
                for check in (no_server_error, slack_envelope, no_framework_body):
                    try:
                        check(None, result, None)  # type: ignore[arg-type]
                    except AssertionError as exc:
                        failures.append(f"{method} {arg}={label}: {exc}")
    assert not failures, "\n".join(failures)
    assert _snapshot(bot, general, before["thread"][0][0]) == before
