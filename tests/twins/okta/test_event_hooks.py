"""Event hooks through the okta SDK: CRUD, the verification handshake, and delivery of System Log
events to a local receiver, with delivery faults."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from okta.models import EventHook

from dtu.testing.plugin import Tenant
from dtu.testing.receiver import Received, Receiver
from tests.twins.okta.conftest import Sdk, api_error, new_user


def _echo(r: Received) -> tuple[int, bytes] | None:
    """Answer Okta's one-time verification GET with the challenge, as a hook must."""
    challenge = r.headers.get("x-okta-verification-challenge")
    if r.method == "GET" and challenge:
        return 200, json.dumps({"verification": challenge}).encode()
    return None


@pytest.fixture
def hook_server() -> Iterator[Receiver]:
    with Receiver(respond=_echo, content_type="application/json") as r:
        yield r


def _hook(uri: str, *events: str, name: str = "Audit sink") -> EventHook:
    return EventHook.from_dict(
        {
            "name": name,
            "events": {"type": "EVENT_TYPE", "items": list(events) or ["user.lifecycle.create"]},
            "channel": {
                "type": "HTTP",
                "version": "1.0.0",
                "config": {
                    "uri": uri + "hooks/okta",
                    "headers": [{"key": "X-Extra", "value": "extra-1"}],
                    "authScheme": {"type": "HEADER", "key": "Authorization", "value": "hook-secret"},
                },
            },
        }
    )


def _verified(sdk: Sdk, uri: str, *events: str) -> Any:
    hook = sdk.create_event_hook(_hook(uri, *events))
    return sdk.verify_event_hook(hook.id)


def test_create_get_list_and_secret_is_write_only(sdk: Sdk, hook_server: Receiver) -> None:
    hook = sdk.create_event_hook(_hook(hook_server.url))
    assert hook.id.startswith("who") and hook.status == "ACTIVE" and hook.verification_status == "UNVERIFIED"
    auth = hook.channel.config.auth_scheme
    assert auth.key == "Authorization" and auth.value is None
    assert sdk.get_event_hook(hook.id).events.items == ["user.lifecycle.create"]
    assert [h.id for h in sdk.list_event_hooks()] == [hook.id]


def test_verify_handshake(sdk: Sdk, hook_server: Receiver) -> None:
    hook = _verified(sdk, hook_server.url)
    assert hook.verification_status == "VERIFIED"
    (req,) = hook_server.wait_for(lambda r: r.method == "GET")
    assert req.path == "/hooks/okta" and req.headers["authorization"] == "hook-secret"
    assert req.headers["x-extra"] == "extra-1" and len(req.headers["x-okta-verification-challenge"]) == 40


def test_verify_fails_when_hook_does_not_echo(sdk: Sdk) -> None:
    with Receiver(status=200, body='{"verification": "wrong"}') as bad:
        hook = sdk.create_event_hook(_hook(bad.url, name="Broken"))
        err = api_error(sdk.verify_event_hook, hook.id)
    assert err.error_code == "E0000001" and err.error_summary == "Api validation failed: eventHook"
    assert err.error_causes[0]["errorSummary"] == "Unable to verify event hook. Hook Broken execution failed"
    assert sdk.get_event_hook(hook.id).verification_status == "UNVERIFIED"


def test_delivers_subscribed_events_with_auth_header(sdk: Sdk, hook_server: Receiver) -> None:
    _verified(sdk, hook_server.url, "user.lifecycle.create", "group.user_membership.add")
    user = sdk.create_user(new_user())
    # Deliveries leave concurrently: find the create event among what arrived.
    posts = hook_server.wait_for(
        lambda r: r.method == "POST" and r.json()["data"]["events"][0]["eventType"] == "user.lifecycle.create"
    )
    body = posts[0].json()
    assert body["eventType"] == "com.okta.event_hook" and body["eventTypeVersion"] == "1.0"
    assert body["cloudEventsVersion"] == "0.1" and body["contentType"] == "application/json"
    assert body["source"].endswith("/api/v1/eventHooks/" + sdk.list_event_hooks()[0].id)
    event = body["data"]["events"][0]
    assert event["eventType"] == "user.lifecycle.create" and event["target"][0]["id"] == user.id
    assert posts[0].headers["authorization"] == "hook-secret" and posts[0].headers["x-extra"] == "extra-1"
    # the user also joined Everyone: a second, subscribed event
    hook_server.wait_for(lambda r: r.method == "POST", count=2)
    types = [p.json()["data"]["events"][0]["eventType"] for p in hook_server.requests if p.method == "POST"]
    assert sorted(types) == ["group.user_membership.add", "user.lifecycle.create"]


def test_unverified_or_inactive_hooks_get_nothing(
    okta_tenant: Tenant, sdk: Sdk, hook_server: Receiver
) -> None:
    sdk.create_event_hook(_hook(hook_server.url))
    sdk.create_user(new_user())
    hook = sdk.list_event_hooks()[0]
    sdk.verify_event_hook(hook.id)
    sdk.deactivate_event_hook(hook.id)
    sdk.create_user(new_user("eve@example.com"))
    assert okta_tenant.twin.deliveries(tenant=okta_tenant.tenant, kind="event_hooks") == []
    assert [r.method for r in hook_server.requests] == ["GET"]


def test_replace_deactivate_and_delete(sdk: Sdk, hook_server: Receiver) -> None:
    hook = _verified(sdk, hook_server.url)
    body = _hook(hook_server.url, "user.lifecycle.deactivate", name="Renamed")
    out = sdk.replace_event_hook(hook.id, body)
    assert out.name == "Renamed" and out.events.items == ["user.lifecycle.deactivate"]
    assert out.verification_status == "VERIFIED"
    err = api_error(sdk.delete_event_hook, hook.id)
    assert err.status == 403
    assert sdk.deactivate_event_hook(hook.id).status == "INACTIVE"
    sdk.delete_event_hook(hook.id)
    assert api_error(sdk.get_event_hook, hook.id).error_code == "E0000007"


def test_validation(sdk: Sdk, hook_server: Receiver) -> None:
    body = _hook(hook_server.url).to_dict()
    body["events"]["items"] = []
    err = api_error(sdk.create_event_hook, EventHook.from_dict(body))
    assert err.error_code == "E0000001" and err.error_summary == "Api validation failed: events"


def _faults(t: Tenant, kind: str) -> None:
    t.twin.set_faults(
        {
            "version": 1,
            "name": "hooks",
            "rules": [
                {"id": kind, "match": {"twin": "okta", "delivery": "event_hooks"}, "action": {"kind": kind}}
            ],
        },
        tenant=t.tenant,
    )


def test_duplicate_fault_delivers_twice(okta_tenant: Tenant, sdk: Sdk, hook_server: Receiver) -> None:
    _verified(sdk, hook_server.url)
    _faults(okta_tenant, "duplicate")
    sdk.create_user(new_user())
    posts = hook_server.wait_for(lambda r: r.method == "POST", count=2)
    assert posts[0].json()["eventId"] == posts[1].json()["eventId"]


def test_drop_fault_delivers_nothing(okta_tenant: Tenant, sdk: Sdk, hook_server: Receiver) -> None:
    _verified(sdk, hook_server.url)
    _faults(okta_tenant, "drop")
    sdk.create_user(new_user())
    journal = okta_tenant.twin.deliveries(tenant=okta_tenant.tenant, kind="event_hooks")
    assert [d["state"] for d in journal] == ["dropped"]
    assert [r.method for r in hook_server.requests] == ["GET"]


def test_delivers_lifecycle_events_it_is_subscribed_to(
    okta_tenant: Tenant, sdk: Sdk, hook_server: Receiver, http: httpx.Client
) -> None:
    """Only the subscribed types leave, each as its own delivery, in the order they happened."""
    wanted = ("user.lifecycle.suspend", "user.account.update_password", "policy.lifecycle.update")
    _verified(sdk, hook_server.url, *wanted)
    user = sdk.create_user(new_user())
    sdk.suspend_user(user.id)
    sdk.unsuspend_user(user.id)
    sdk.reset_password(user.id, send_email=False)
    token = http.post(f"/api/v1/users/{user.id}/lifecycle/reset_password", params={"sendEmail": "false"})
    recovery = token.json()["resetPasswordUrl"].rsplit("/", 1)[1]
    state = http.post("/api/v1/authn/recovery/token", json={"recoveryToken": recovery}).json()["stateToken"]
    http.post(
        "/api/v1/authn/credentials/reset_password", json={"stateToken": state, "newPassword": "N3w-Passw0rd"}
    )
    policy = http.get("/api/v1/policies", params={"type": "PASSWORD"}).json()[0]
    http.put(f"/api/v1/policies/{policy['id']}", json={"name": policy["name"], "description": "edited"})
    posts = hook_server.wait_for(lambda r: r.method == "POST", count=3)
    assert sorted(p.json()["data"]["events"][0]["eventType"] for p in posts) == sorted(wanted)
    # The twin queued them in the order they happened (they leave concurrently, as Okta's do).
    journal = okta_tenant.twin.deliveries(tenant=okta_tenant.tenant, kind="event_hooks")
    assert [d["meta"]["type"] for d in journal] == list(wanted)


def test_a_failed_delivery_is_retried_once_after_a_minute(okta_tenant: Tenant, sdk: Sdk) -> None:
    calls: list[int] = []

    def flaky(r: Received) -> tuple[int, bytes] | None:
        echoed = _echo(r)
        if echoed is not None:
            return echoed
        calls.append(1)
        return (500, b"{}") if len(calls) == 1 else (200, b"{}")

    with Receiver(respond=flaky, content_type="application/json") as receiver:
        _verified(sdk, receiver.url)
        sdk.create_user(new_user())
        receiver.wait_for(lambda r: r.method == "POST")
        first = _settled(okta_tenant, 1)
        assert first["state"] == "pending" and [a["status"] for a in first["attempts"]] == [500]
        okta_tenant.twin.clock(tenant=okta_tenant.tenant, advance_s=61)
        posts = receiver.wait_for(lambda r: r.method == "POST", count=2)
        assert posts[0].json()["eventId"] == posts[1].json()["eventId"]
        done = _settled(okta_tenant, 2)
        assert done["state"] == "delivered" and [a["status"] for a in done["attempts"]] == [500, 200]


def _settled(t: Tenant, attempts: int) -> dict[str, Any]:
    """The tenant's one event hook delivery once the twin's delivery journal has recorded
    `attempts` answered attempts (the receiver sees a request before the engine records it)."""
    for _ in range(500):
        (delivery,) = t.twin.deliveries(tenant=t.tenant, kind="event_hooks")
        done = [a for a in delivery["attempts"] if a.get("status")]
        if len(done) >= attempts:
            return delivery
    raise AssertionError(f"the delivery never had {attempts} attempts: {delivery}")
