"""Bad input gets Slack's own error, never a 500, and never changes stored state.

Malformed bodies go out through raw httpx (slack_sdk cannot send them); everything else
through slack_sdk. Error codes are Slack's (https://docs.slack.dev/apis/web-api/#responses,
and the `errors` list of each method's reference page).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from dtu.testing.plugin import Tenant

JSON_UTF8 = "application/json; charset=utf-8"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def raw(slack_tenant: Tenant) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=slack_tenant.url, timeout=60) as client:
        yield client


def _state(slack_tenant: Tenant) -> dict[str, Any]:
    twin, tenant = slack_tenant.twin, slack_tenant.tenant
    return {name: twin.state(name, tenant=tenant) for name in ("messages", "conversations", "members")}


@pytest.fixture
def stored(slack_tenant: Tenant, bot: WebClient, general: str) -> Iterator[None]:
    """A message in #general; after the test, messages, channels and members are as they were."""
    bot.chat_postMessage(channel=general, text="stored before the bad input")
    before = _state(slack_tenant)
    yield
    assert _state(slack_tenant) == before


def _auth(slack_tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {slack_tenant.bot_token}"}


def _slack_error(response: httpx.Response, code: str, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["ok"] is False and body["error"] == code, body
    return body


def _sdk_error(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as err:
        call()
    data: dict[str, Any] = err.value.response.data
    return data


# -- bodies ----------------------------------------------------------------------------------


def test_malformed_json_body_is_invalid_json(
    raw: httpx.Client, slack_tenant: Tenant, general: str, stored: Any
) -> None:
    response = raw.post(
        "/api/chat.postMessage",
        content=b'{"channel": "' + general.encode() + b'", "text": ',
        headers={**_auth(slack_tenant), "Content-Type": JSON_UTF8},
    )
    _slack_error(response, "invalid_json")


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"42", b"null"])
def test_json_body_that_is_not_an_object_is_json_not_object(
    raw: httpx.Client, slack_tenant: Tenant, stored: Any, body: bytes
) -> None:
    response = raw.post(
        "/api/chat.postMessage", content=body, headers={**_auth(slack_tenant), "Content-Type": JSON_UTF8}
    )
    _slack_error(response, "json_not_object")


def test_form_body_that_is_not_utf8_is_invalid_charset(
    raw: httpx.Client, slack_tenant: Tenant, general: str, stored: Any
) -> None:
    body = b"channel=" + general.encode() + b"&text=caf\xe9\xff\xfe"
    response = raw.post(
        "/api/chat.postMessage", content=body, headers={**_auth(slack_tenant), "Content-Type": FORM}
    )
    _slack_error(response, "invalid_charset")


def test_unknown_charset_is_invalid_charset(
    raw: httpx.Client, slack_tenant: Tenant, general: str, stored: Any
) -> None:
    response = raw.post(
        "/api/chat.postMessage",
        content=f"channel={general}&text=hi".encode(),
        headers={**_auth(slack_tenant), "Content-Type": f"{FORM}; charset=ebcdic-cp-us"},
    )
    _slack_error(response, "invalid_charset")


def test_iso_8859_1_form_body_is_read_as_latin1(
    raw: httpx.Client, slack_tenant: Tenant, bot: WebClient, general: str
) -> None:
    response = raw.post(
        "/api/chat.postMessage",
        content=b"channel=" + general.encode() + b"&text=caf\xe9",
        headers={**_auth(slack_tenant), "Content-Type": f"{FORM}; charset=ISO-8859-1"},
    )
    assert response.json()["ok"] is True, response.text
    assert bot.conversations_history(channel=general, limit=1)["messages"][0]["text"] == "café"


def test_broken_percent_encoding_is_read_leniently(
    raw: httpx.Client, slack_tenant: Tenant, bot: WebClient, general: str
) -> None:
    """Slack's form parser, like PHP's, keeps a stray `%` and empty pairs rather than failing."""
    body = f"channel={general}&&=&text=100%+sure%zz".encode()
    response = raw.post(
        "/api/chat.postMessage", content=body, headers={**_auth(slack_tenant), "Content-Type": FORM}
    )
    assert response.json()["ok"] is True, response.text
    assert bot.conversations_history(channel=general, limit=1)["messages"][0]["text"] == "100% sure%zz"


def test_body_without_content_type_is_missing_post_type(
    raw: httpx.Client, slack_tenant: Tenant, stored: Any
) -> None:
    response = raw.post("/api/auth.test", content=b"a=b", headers=_auth(slack_tenant))
    _slack_error(response, "missing_post_type")


def test_unsupported_content_type_is_invalid_post_type(
    raw: httpx.Client, slack_tenant: Tenant, stored: Any
) -> None:
    response = raw.post(
        "/api/chat.postMessage",
        content=b"<channel/>",
        headers={**_auth(slack_tenant), "Content-Type": "application/xml"},
    )
    _slack_error(response, "invalid_post_type")


def test_broken_multipart_body_is_invalid_form_data(
    raw: httpx.Client, slack_tenant: Tenant, stored: Any
) -> None:
    response = raw.post(
        "/api/chat.postMessage",
        content=b"--xyz\r\nContent-Disposition: form-data\r\n\r\nhal",
        headers={**_auth(slack_tenant), "Content-Type": "multipart/form-data; boundary=xyz"},
    )
    _slack_error(response, "invalid_form_data")


def test_oversize_body_is_413_with_the_error_envelope(
    raw: httpx.Client, slack_tenant: Tenant, general: str, stored: Any
) -> None:
    body = f"channel={general}&text=".encode() + b"x" * (10 * 1024 * 1024 + 1)
    response = raw.post(
        "/api/chat.postMessage", content=body, headers={**_auth(slack_tenant), "Content-Type": FORM}
    )
    _slack_error(response, "invalid_arguments", status=413)


def test_array_where_a_string_is_expected_is_invalid_arguments(
    raw: httpx.Client, slack_tenant: Tenant, general: str, stored: Any
) -> None:
    response = raw.post(
        "/api/chat.postMessage", json={"channel": [general], "text": "hi"}, headers=_auth(slack_tenant)
    )
    body = _slack_error(response, "invalid_arguments")
    assert "channel" in body["response_metadata"]["messages"][0]


# -- arguments -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["conversations_list", "conversations_members"])
def test_limit_that_is_not_a_number_is_invalid_limit(
    bot: WebClient, general: str, stored: Any, method: str
) -> None:
    """conversations.list and conversations.members document `invalid_limit`."""
    data = _sdk_error(
        lambda: bot.api_call(
            method.replace("_", "."), http_verb="GET", params={"channel": general, "limit": "abc"}
        )
    )
    assert data["error"] == "invalid_limit"


def test_limit_that_is_not_a_number_elsewhere_is_invalid_arguments(
    bot: WebClient, general: str, stored: Any
) -> None:
    data = _sdk_error(lambda: bot.conversations_history(channel=general, limit="abc"))  # type: ignore[arg-type]
    assert data["error"] == "invalid_arguments"
    assert any("limit" in m for m in data["response_metadata"]["messages"])


def test_boolean_that_is_not_a_boolean_is_invalid_arguments(bot: WebClient, stored: Any) -> None:
    data = _sdk_error(lambda: bot.conversations_list(exclude_archived="maybe"))  # type: ignore[arg-type]
    assert data["error"] == "invalid_arguments"


def test_unknown_method(bot: WebClient, stored: Any) -> None:
    data = _sdk_error(lambda: bot.api_call("chat.postMessages"))
    assert data["error"] == "unknown_method"
    assert data["req_method"] == "chat.postMessages"


def test_unknown_nested_path_under_api_is_unknown_method(raw: httpx.Client, stored: Any) -> None:
    _slack_error(raw.get("/api/chat/postMessage"), "unknown_method")


@pytest.mark.parametrize("cursor", ["not-a-cursor", "dXNlcjpVMDYxTkZUVDI=", "%%%"])
def test_garbage_cursor_is_invalid_cursor(bot: WebClient, stored: Any, cursor: str) -> None:
    data = _sdk_error(lambda: bot.conversations_list(cursor=cursor))
    assert data["error"] == "invalid_cursor"


def test_cursor_from_another_channel_is_invalid_cursor(
    slack_tenant: Tenant, bot: WebClient, general: str
) -> None:
    other = bot.conversations_create(name="cursor-elsewhere")["channel"]["id"]
    for i in range(3):
        bot.chat_postMessage(channel=other, text=str(i))
    cursor = bot.conversations_history(channel=other, limit=1)["response_metadata"]["next_cursor"]
    assert cursor
    before = _state(slack_tenant)
    data = _sdk_error(lambda: bot.conversations_history(channel=general, cursor=cursor, limit=1))
    assert data["error"] == "invalid_cursor"
    assert _state(slack_tenant) == before


# -- tokens ----------------------------------------------------------------------------------


def test_no_token_is_not_authed(slack_tenant: Tenant, general: str, stored: Any) -> None:
    client = WebClient(base_url=slack_tenant.api_url)
    data = _sdk_error(lambda: client.chat_postMessage(channel=general, text="anonymous"))
    assert data["error"] == "not_authed"


def test_token_in_a_json_body_is_not_read(
    raw: httpx.Client, slack_tenant: Tenant, general: str, stored: Any
) -> None:
    """With JSON bodies the token must travel in the Authorization header."""
    response = raw.post(
        "/api/chat.postMessage",
        json={"token": slack_tenant.bot_token, "channel": general, "text": "token in body"},
    )
    _slack_error(response, "not_authed")


def test_unknown_token_is_invalid_auth(slack_tenant: Tenant, general: str, stored: Any) -> None:
    client = WebClient(token="xoxb-1234-not-a-real-token", base_url=slack_tenant.api_url)
    data = _sdk_error(lambda: client.chat_postMessage(channel=general, text="forged"))
    assert data["error"] == "invalid_auth"


def test_revoked_token_is_token_revoked(slack_tenant: Tenant, bob: WebClient, general: str) -> None:
    assert bob.auth_revoke(test=True)["revoked"] is False
    assert bob.auth_test()["ok"]
    assert bob.auth_revoke()["revoked"] is True
    assert (
        _sdk_error(lambda: bob.chat_postMessage(channel=general, text="after revoke"))["error"]
        == "token_revoked"
    )
    assert _sdk_error(lambda: bob.auth_test())["error"] == "token_revoked"


def test_token_of_a_deactivated_user_is_account_inactive(slack_tenant: Tenant, stored: Any) -> None:
    token = f"xoxp-gone-{slack_tenant.tenant}"
    slack_tenant.twin.control(
        "POST",
        "/seed",
        params={"tenant": slack_tenant.tenant},
        json={
            "users": [{"id": "U0DTUGONE1", "name": "gone", "deleted": True}],
            "tokens": [{"token": token, "kind": "user", "user": "U0DTUGONE1", "scopes": ["users:read"]}],
        },
    )
    client = WebClient(token=token, base_url=slack_tenant.api_url)
    assert _sdk_error(lambda: client.users_list())["error"] == "account_inactive"


def test_user_token_only_method_with_a_bot_token(bot: WebClient, stored: Any) -> None:
    data = _sdk_error(lambda: bot.search_messages(query="anything"))
    assert data["error"] == "not_allowed_token_type"


@pytest.fixture
def limited(slack_tenant: Tenant) -> WebClient:
    """A bot token of the default app granted users:read only."""
    token = f"xoxb-limited-{slack_tenant.tenant}"
    slack_tenant.twin.control(
        "POST",
        "/seed",
        params={"tenant": slack_tenant.tenant},
        json={
            "tokens": [
                {
                    "token": token,
                    "kind": "bot",
                    "user": "U0DTUBOT01",
                    "app": "A0DTUAPP01",
                    "scopes": ["users:read"],
                }
            ],
        },
    )
    return WebClient(token=token, base_url=slack_tenant.api_url)


def test_missing_scope_names_needed_and_provided(limited: WebClient, general: str, stored: Any) -> None:
    data = _sdk_error(lambda: limited.chat_postMessage(channel=general, text="no scope"))
    assert data["error"] == "missing_scope"
    assert data["needed"] == "chat:write"
    assert data["provided"] == "users:read"


def test_granted_scope_still_works_on_a_limited_token(limited: WebClient, stored: Any) -> None:
    response = limited.users_list()
    assert response["ok"] and response.headers["x-oauth-scopes"] == "users:read"


# -- control plane ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        ({"rules": [{"id": "r1", "action": {"kind": "explode"}}]}, "rules[0].action.kind"),
        ({"rules": [{"id": "r1", "action": {"kind": "error", "status": 200}}]}, "rules[0].action.status"),
        ({"rules": [{"id": "r1", "probability": 2, "action": {"kind": "outage"}}]}, "rules[0].probability"),
        ({"rules": [{"id": "r1", "action": {"kind": "outage"}, "colour": "red"}]}, "rules[0].colour"),
        (
            {
                "rules": [
                    {
                        "id": "r1",
                        "match": {"twin": "slack", "operation": "chat.postMesage"},
                        "action": {"kind": "outage"},
                    }
                ]
            },
            "rules[0].match.operation",
        ),
    ],
)
def test_bad_fault_profile_is_400_naming_the_field(
    slack_tenant: Tenant, bot: WebClient, stored: Any, profile: dict[str, Any], field: str
) -> None:
    response = slack_tenant.twin.admin.put(
        "/_dtu/faults", params={"tenant": slack_tenant.tenant}, json=profile
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["field"] == field
    assert (
        slack_tenant.twin.control("GET", "/faults", params={"tenant": slack_tenant.tenant})["profile"] is None
    )
    assert bot.auth_test()["ok"]


def test_fault_profile_that_is_not_json_or_yaml_is_400(slack_tenant: Tenant, stored: Any) -> None:
    response = slack_tenant.twin.admin.put(
        "/_dtu/faults", content=b"rules: [\n  - {id: r1", params={"tenant": slack_tenant.tenant}
    )
    assert response.status_code == 400
    assert "message" in response.json()["error"]
