"""The System Log through the okta SDK over HTTP."""

from __future__ import annotations

import httpx

from dtu.testing.plugin import Tenant
from tests.twins.okta.conftest import Sdk, api_error, new_user


def test_user_create_is_logged(sdk: Sdk) -> None:
    user = sdk.create_user(new_user())
    events = sdk.list_log_events(filter='eventType eq "user.lifecycle.create"')
    assert len(events) == 1
    event = events[0]
    assert event.event_type == "user.lifecycle.create"
    assert event.outcome.result == "SUCCESS"
    assert event.actor.alternate_id == "alice@example.com"
    assert event.target[0].id == user.id and event.target[0].type == "User"


def test_lifecycle_and_membership_events(sdk: Sdk) -> None:
    user = sdk.create_user(new_user())
    sdk.suspend_user(user.id)
    sdk.unsuspend_user(user.id)
    sdk.assign_user_to_group("00gdtuengineering001", user.id)
    types = [e.event_type for e in sdk.list_log_events(filter=f'target.id eq "{user.id}"')]
    assert types == [
        "user.lifecycle.create",
        "user.lifecycle.activate",
        "group.user_membership.add",
        "user.lifecycle.suspend",
        "user.lifecycle.unsuspend",
        "group.user_membership.add",
    ]


def test_polling_next_link_returns_new_events(http: httpx.Client, sdk: Sdk) -> None:
    first = http.get("/api/v1/logs")
    assert first.status_code == 200
    nxt = next(x for x in first.headers.get_list("link") if 'rel="next"' in x).split(">")[0][1:]
    assert http.get(nxt).json() == []
    sdk.create_user(new_user())
    later = http.get(nxt).json()
    assert [e["eventType"] for e in later][:1] == ["user.lifecycle.create"]


def test_descending_with_limit_and_until(http: httpx.Client, sdk: Sdk, okta_tenant: Tenant) -> None:
    sdk.create_user(new_user())
    r = http.get("/api/v1/logs", params={"sortOrder": "DESCENDING", "limit": 1})
    assert r.json()[0]["eventType"] == "group.user_membership.add"
    r2 = http.get(
        "/api/v1/logs", params={"until": "2000-01-01T00:00:00.000Z", "since": "1999-01-01T00:00:00Z"}
    )
    assert r2.json() == [] and not [x for x in r2.headers.get_list("link") if 'rel="next"' in x]


def test_q_keyword_search(sdk: Sdk) -> None:
    sdk.create_user(new_user())
    assert {e.event_type for e in sdk.list_log_events(q="dan@example.com")} >= {"user.lifecycle.create"}


def test_bad_since_and_filter(sdk: Sdk) -> None:
    assert api_error(sdk.list_log_events, since="yesterday").error_code == "E0000001"
    assert api_error(sdk.list_log_events, filter="eventType eq").error_code == "E0000031"
