"""The System Log: one event per change, with Okta's eventType names (developer.okta.com's event
types catalog), actor, target and outcome, read back through the okta SDK's `list_log_events`
(whose LogEvent model parses each one); and the query parameters (`since`, `until`, `filter`,
`q`, `sortOrder`, `limit`/`after`, polling) over raw HTTP.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from okta.models import (
    ApplicationGroupAssignment,
    AppUserAssignRequest,
    EventHook,
    UpdateUserRequest,
)

from dtu.testing.plugin import Tenant
from dtu.testing.receiver import Received, Receiver
from tests.twins.okta.conftest import Sdk, api_error, new_user
from tests.twins.okta.test_apps import _web_app
from tests.twins.okta.test_groups import _group
from tests.twins.okta.test_oidc import _discovery, _login

ALICE = "00udtualice000000001"


def _echo(r: Received) -> tuple[int, bytes] | None:
    challenge = r.headers.get("x-okta-verification-challenge")
    if r.method == "GET" and challenge:
        return 200, json.dumps({"verification": challenge}).encode()
    return None


def _types(sdk: Sdk, **query: Any) -> list[str]:
    return [e.event_type for e in sdk.list_log_events(limit=1000, **query)]


def test_user_and_group_changes(sdk: Sdk, http: httpx.Client) -> None:
    user = sdk.create_user(new_user())
    sdk.update_user(user.id, UpdateUserRequest.from_dict({"profile": {"title": "Boss"}}))
    sdk.update_user(
        user.id, UpdateUserRequest.from_dict({"credentials": {"password": {"value": "An0ther-Pass"}}})
    )
    sdk.suspend_user(user.id)
    sdk.unsuspend_user(user.id)
    sdk.reset_password(user.id, send_email=False)
    sdk.expire_password(user.id)
    sdk.deactivate_user(user.id)
    sdk.activate_user(user.id, send_email=False)
    g = sdk.add_group(_group("Sales"))
    sdk.assign_user_to_group(g.id, user.id)
    sdk.unassign_user_from_group(g.id, user.id)
    sdk.replace_group(g.id, _group("Sales EMEA"))
    sdk.delete_group(g.id)
    assert _types(sdk, filter=f'target.id eq "{user.id}"') == [
        "user.lifecycle.create",
        "user.lifecycle.activate",
        "group.user_membership.add",
        "user.account.update_profile",
        "user.account.update_password",
        "user.lifecycle.suspend",
        "user.lifecycle.unsuspend",
        "user.account.reset_password",
        "user.account.expire_password",
        "user.lifecycle.deactivate",
        "user.lifecycle.activate",
        "group.user_membership.add",
        "group.user_membership.remove",
    ]
    assert _types(sdk, filter=f'target.id eq "{g.id}"') == [
        "group.lifecycle.create",
        "group.user_membership.add",
        "group.user_membership.remove",
        "group.profile.update",
        "group.lifecycle.delete",
    ]
    # Each event names who did it (the API token's admin), what it touched, and how it went.
    for event in sdk.list_log_events(filter=f'target.id eq "{user.id}"'):
        assert event.actor.id == ALICE and event.actor.type == "User"
        assert (
            event.actor.alternate_id == "alice@example.com" and event.actor.display_name == "Alice Anderson"
        )
        assert event.outcome.result == "SUCCESS" and event.severity.value == "INFO"
        assert user.id in [t.id for t in event.target] and event.published is not None
        assert event.uuid and event.transaction.id
    membership = sdk.list_log_events(filter='eventType eq "group.user_membership.remove"')[0]
    assert {(t.type, t.id) for t in membership.target} == {("User", user.id), ("UserGroup", g.id)}


def test_app_policy_hook_and_secret_changes(sdk: Sdk, http: httpx.Client) -> None:
    app = sdk.create_application(_web_app())
    sdk.assign_user_to_application(
        app.id, AppUserAssignRequest.from_dict({"id": ALICE, "scope": "USER", "profile": {}})
    )
    sdk.assign_user_to_application(
        app.id, AppUserAssignRequest.from_dict({"id": ALICE, "scope": "USER", "profile": {"x": 1}})
    )
    sdk.unassign_user_from_application(app.id, ALICE)
    sdk.assign_group_to_application(app.id, "00gdtuitadmins000001", ApplicationGroupAssignment())
    sdk.unassign_application_from_group(app.id, "00gdtuitadmins000001")
    secret = http.post(f"/api/v1/apps/{app.id}/credentials/secrets", json={}).json()
    assert http.post(
        f"/api/v1/apps/{app.id}/credentials/secrets/{secret['id']}/lifecycle/deactivate"
    ).is_success
    assert http.delete(f"/api/v1/apps/{app.id}/credentials/secrets/{secret['id']}").status_code == 204
    sdk.deactivate_application(app.id)
    sdk.activate_application(app.id)
    sdk.deactivate_application(app.id)
    sdk.delete_application(app.id)
    assert _types(sdk, filter=f'target.id eq "{app.id}"') == [
        "application.lifecycle.create",
        "application.lifecycle.activate",
        "application.user_membership.add",
        "application.user_membership.update",
        "application.user_membership.remove",
        "group.application_assignment.add",
        "group.application_assignment.remove",
        "app.oauth2.credentials.lifecycle.create",
        "app.oauth2.credentials.lifecycle.deactivate",
        "app.oauth2.credentials.lifecycle.delete",
        "application.lifecycle.deactivate",
        "application.lifecycle.activate",
        "application.lifecycle.deactivate",
        "application.lifecycle.delete",
    ]

    policy = http.post(
        "/api/v1/policies",
        params={"activate": "false"},
        json={"type": "OKTA_SIGN_ON", "name": "Contractors", "conditions": {}},
    ).json()
    rule = http.post(
        f"/api/v1/policies/{policy['id']}/rules",
        json={"name": "Deny", "actions": {"signon": {"access": "DENY"}}},
    ).json()
    base = f"/api/v1/policies/{policy['id']}"
    assert http.put(f"{base}/rules/{rule['id']}", json={"name": "Deny all"}).is_success
    assert http.post(f"{base}/rules/{rule['id']}/lifecycle/deactivate").is_success
    assert http.delete(f"{base}/rules/{rule['id']}").is_success
    assert http.post(f"{base}/lifecycle/activate").is_success
    assert http.put(base, json={"name": "Contractors 2"}).is_success
    assert http.post(f"{base}/lifecycle/deactivate").is_success
    assert http.delete(base).is_success
    assert _types(sdk, filter=f'target.id eq "{policy["id"]}"') == [
        "policy.lifecycle.create",
        "policy.rule.add",
        "policy.rule.activate",
        "policy.rule.update",
        "policy.rule.deactivate",
        "policy.rule.delete",
        "policy.lifecycle.activate",
        "policy.lifecycle.update",
        "policy.lifecycle.deactivate",
        "policy.lifecycle.delete",
    ]

    with Receiver(respond=_echo, content_type="application/json") as receiver:
        hook = sdk.create_event_hook(
            EventHook.from_dict(
                {
                    "name": "Audit",
                    "events": {"type": "EVENT_TYPE", "items": ["user.lifecycle.create"]},
                    "channel": {"type": "HTTP", "version": "1.0.0", "config": {"uri": receiver.url}},
                }
            )
        )
        sdk.verify_event_hook(hook.id)
        sdk.deactivate_event_hook(hook.id)
        sdk.activate_event_hook(hook.id)
        sdk.deactivate_event_hook(hook.id)
        sdk.delete_event_hook(hook.id)
    assert _types(sdk, filter=f'target.id eq "{hook.id}"') == [
        "event_hook.created",
        "event_hook.verified",
        "event_hook.deactivated",
        "event_hook.activated",
        "event_hook.deactivated",
        "event_hook.deleted",
    ]


def test_sign_in_tokens_sessions_and_keys(okta_tenant: Tenant, sdk: Sdk) -> None:
    t = okta_tenant
    bad = httpx.post(
        f"{t.url}/api/v1/authn",
        json={"username": "bob@example.com", "password": "nope"},
        headers={"Authorization": f"SSWS {t.api_token}"},
    )
    assert bad.status_code == 401
    meta = _discovery(t)
    client, _, callback, verifier = _login(t, meta)
    token = client.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    auth = (t.client_id, t.client_secret)
    httpx.post(meta["revocation_endpoint"], auth=auth, data={"token": token["refresh_token"]})
    t.twin.control("POST", "/okta/keys/rotate", params={"tenant": t.tenant})
    failure = sdk.list_log_events(filter='outcome.result eq "FAILURE"')[0]
    assert failure.event_type == "user.session.start" and failure.outcome.reason == "INVALID_CREDENTIALS"
    assert failure.actor.alternate_id == "bob@example.com"
    custom = _types(sdk, filter='eventType sw "app.oauth2.as."')
    assert custom == [
        "app.oauth2.as.authorize.code",
        "app.oauth2.as.token.grant.access_token",
        "app.oauth2.as.token.grant.id_token",
        "app.oauth2.as.token.grant.refresh_token",
        "app.oauth2.as.token.revoke",
        "app.oauth2.as.key.rollover",
    ]
    grant = sdk.list_log_events(filter='eventType eq "app.oauth2.as.token.grant.access_token"')[0]
    assert grant.actor.alternate_id == "alice@example.com"
    assert grant.debug_context.debug_data["grantType"] == "authorization_code"
    assert _types(sdk, filter='eventType eq "app.oauth2.key.rollover"') == ["app.oauth2.key.rollover"]
    # The org server's events drop the `.as`.
    org = _discovery(t, "org")
    client, _, callback, verifier = _login(t, org, scope="openid")
    client.fetch_token(org["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    assert _types(sdk, filter='eventType sw "app.oauth2.authorize"') == ["app.oauth2.authorize.code"]


def test_query_parameters(okta_tenant: Tenant, http: httpx.Client, sdk: Sdk) -> None:
    for i in range(5):
        sdk.create_user(new_user(f"u{i}@example.com", firstName=f"Zed{i}"))
    created = http.get("/api/v1/logs", params={"filter": 'eventType eq "user.lifecycle.create"'}).json()
    assert [e["target"][0]["alternateId"] for e in created] == [f"u{i}@example.com" for i in range(5)]
    # since / until bound `published` (until is exclusive).
    third = created[2]["published"]
    window = http.get(
        "/api/v1/logs",
        params={
            "filter": 'eventType eq "user.lifecycle.create"',
            "since": third,
            "until": created[4]["published"],
        },
    ).json()
    assert [e["uuid"] for e in window] == [created[2]["uuid"], created[3]["uuid"]]
    # DESCENDING, limit and after: newest first, pages joined by Link rel="next".
    seen: list[str] = []
    url: str | None = "/api/v1/logs"
    params: dict[str, Any] | None = {
        "filter": 'eventType eq "user.lifecycle.create"',
        "sortOrder": "DESCENDING",
        "limit": 2,
        "until": "2999-01-01T00:00:00.000Z",
    }
    while url is not None:
        r = http.get(url, params=params)
        seen += [e["uuid"] for e in r.json()]
        nxt = [x for x in r.headers.get_list("link") if 'rel="next"' in x]
        url, params = (nxt[0].split(">")[0][1:], None) if nxt else (None, None)
    assert seen == [e["uuid"] for e in reversed(created)]
    # q: every term must appear (case-insensitive).
    assert [e["uuid"] for e in http.get("/api/v1/logs", params={"q": "ZED3 lifecycle.create"}).json()] == [
        created[3]["uuid"]
    ]
    assert {
        e["eventType"]
        for e in http.get(
            "/api/v1/logs", params={"filter": 'target.type eq "UserGroup" and eventType co "membership"'}
        ).json()
    } == {"group.user_membership.add"}
    errors = {
        "since": http.get("/api/v1/logs", params={"since": "not-a-date"}),
        "until before since": http.get(
            "/api/v1/logs", params={"since": "2024-01-02T00:00:00Z", "until": "2024-01-01T00:00:00Z"}
        ),
        "sortOrder": http.get("/api/v1/logs", params={"sortOrder": "SIDEWAYS"}),
        "limit": http.get("/api/v1/logs", params={"limit": "many"}),
    }
    for name, r in errors.items():
        assert r.status_code == 400 and r.json()["errorCode"] == "E0000001", name
    assert http.get("/api/v1/logs", params={"filter": "eventType eq"}).json()["errorCode"] == "E0000031"
    assert http.get("/api/v1/logs", params={"filter": 'nope eq "x"'}).json()["errorCode"] == "E0000031"
    cursor = http.get("/api/v1/logs", params={"after": "garbage"})
    assert cursor.status_code == 400 and cursor.json()["errorCode"] == "E0000029"


def test_polling_follows_next_links(okta_tenant: Tenant, http: httpx.Client, sdk: Sdk) -> None:
    """Without `until` an ascending query is a poll: `next` is always there, even on an empty
    page, and following it returns only what was written since. With `until` the last page
    has no `next`."""
    first = http.get("/api/v1/logs", params={"filter": 'eventType sw "user.lifecycle"'})
    before = len(first.json())
    nxt = _next(first)
    assert nxt is not None and "after=" in nxt and parse_qs(urlparse(nxt).query)["filter"]
    empty = http.get(nxt)
    assert empty.json() == [] and _next(empty) is not None
    user = sdk.create_user(new_user())
    sdk.suspend_user(user.id)
    page = http.get(_next(empty) or "")
    assert [e["eventType"] for e in page.json()] == [
        "user.lifecycle.create",
        "user.lifecycle.activate",
        "user.lifecycle.suspend",
    ]
    assert http.get(_next(page) or "").json() == []
    bounded = http.get(
        "/api/v1/logs", params={"filter": 'eventType sw "user.lifecycle"', "until": "2999-01-01T00:00:00Z"}
    )
    assert len(bounded.json()) == before + 3 and _next(bounded) is None
    # A poll through the SDK: its resp follows the same links.
    assert api_error(sdk.list_log_events, sort_order="UP").error_code == "E0000001"


def _next(r: httpx.Response) -> str | None:
    links = [x for x in r.headers.get_list("link") if 'rel="next"' in x]
    return links[0].split(">")[0][1:] if links else None
