"""The Okta twin's read caches change nothing a client can see.

The same random sequence of Management API calls runs against a twin with its caches (the
default) and one with `TwinSettings(cache=False)`, each in its own store, in a tenant of the
same name with its clock frozen at the same instant, so ids, timestamps and request ids come
out the same; every answer must be the same, error for error (errorIds aside: they count
errors process-wide), and so must the event hook deliveries and, at the end, every collection.
The calls move exactly what the caches hold: API tokens' admins (suspend, deactivate, and
back), users' profiles (the actor of every System Log event), event hooks (create, verify,
deactivate), custom profile attributes, and active group rules."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

from dtu.settings import TwinSettings
from dtu.testing.receiver import Received, Receiver
from dtu.testing.server import TwinServer
from tests.conftest import _drop_pg_database, _fresh_pg_database
from twins.okta.models import COLLECTIONS
from twins.okta.seed import ALICE, BOB, ENGINEERING, default_fixture

FROZEN_AT = 1_800_000_000.0
_names = itertools.count(1)


def _echo(r: Received) -> tuple[int, bytes] | None:
    challenge = r.headers.get("x-okta-verification-challenge")
    if r.method == "GET" and challenge:
        return 200, json.dumps({"verification": challenge}).encode()
    return None


@pytest.fixture(scope="module")
def hooks() -> Iterator[Receiver]:
    with Receiver(respond=_echo, content_type="application/json") as r:
        yield r


@pytest.fixture(scope="module")
def twins(dtu_db_url: str | None) -> Iterator[dict[str, TwinServer]]:
    """Two twins, caches on and off, each on a store of its own (a fresh database each on
    PostgreSQL), so that both can hold a tenant of the same name."""
    started: dict[str, TwinServer] = {}
    dropped: list[str] = []
    base = os.environ.get("DTU_TEST_POSTGRES_URL")
    try:
        for side, cache in (("cached", True), ("plain", False)):
            url = "sqlite://"
            if dtu_db_url is not None and base:
                url, name = _fresh_pg_database(base)
                dropped.append(name)
            started[side] = TwinServer("okta", TwinSettings(db_url=url, cache=cache)).start()
        yield started
    finally:
        for twin in started.values():
            twin.stop()
            twin.runtime.store.dispose()
        for name in dropped:
            assert base is not None
            _drop_pg_database(base, name)


class Side:
    """One twin's tenant, and raw HTTP as alice's and bob's API tokens."""

    def __init__(self, twin: TwinServer, tenant: str) -> None:
        self.twin, self.tenant = twin, tenant
        fixture = default_fixture()
        fixture["api_tokens"] = [
            {"token": "a", "name": "alice's", "user": ALICE},
            {"token": "b", "name": "bob's", "user": BOB},
        ]
        twin.control("POST", "/tenants", json={"tenant": tenant, "fixture": fixture})
        # Frozen, then reloaded under the frozen clock (fixture rows carry creation times),
        # then frozen again (a reset drops the tenant's clock).
        for again in (False, True):
            twin.control("POST", "/clock", params={"tenant": tenant}, json={"freeze": FROZEN_AT})
            if not again:
                twin.reset(tenant)
        tokens = {t["user_id"]: t["token"] for t in twin.state("api_tokens", tenant)}
        self.http = {
            who: httpx.Client(
                base_url=twin.url,
                headers={"Authorization": f"SSWS {tokens[uid]}", "Accept": "application/json"},
            )
            for who, uid in (("alice", ALICE), ("bob", BOB))
        }

    def _same(self, value: Any) -> Any:
        """Links name the twin's port: written as TWIN on both sides."""
        return json.loads(json.dumps(value).replace(self.twin.url, "http://TWIN"))

    def call(self, who: str, method: str, path: str, body: Any = None) -> Any:
        r = self.http[who].request(method, path, json=body)
        data = self._same(r.json()) if r.content else None
        if isinstance(data, dict):
            data.pop("errorId", None)
        return r.status_code, data

    def deliveries(self) -> Any:
        """What was queued for the app (attempt outcomes and timings race the comparison)."""
        queued = self.twin.deliveries(self.tenant)
        return self._same([(d["kind"], d["target"], d["meta"], d["payload"]) for d in queued])

    def state(self) -> dict[str, Any]:
        return {
            name: self._same(self.twin.state(name, self.tenant, limit=10000)) for name in sorted(COLLECTIONS)
        }

    def close(self) -> None:
        for client in self.http.values():
            client.close()
        self.twin.delete_tenant(self.tenant)


who = st.sampled_from(["alice", "bob"])
person = st.sampled_from([ALICE, BOB, "dan@example.com"])
login = st.sampled_from(["dan@example.com", "eve@example.com"])


def _create(login: str, dept: str | None = None, badge: str | None = None) -> dict[str, Any]:
    extra = {**({"department": dept} if dept else {}), **({"badgeId": badge} if badge else {})}
    return {"profile": {"login": login, "email": login, "firstName": "D", "lastName": "E", **extra}}


def _schema(definition: dict[str, Any] | None) -> dict[str, Any]:
    return {"definitions": {"custom": {"properties": {"badgeId": definition}}}}


RULE = {
    "type": "group_rule",
    "name": "Sales to Engineering",
    "conditions": {"expression": {"value": 'user.department=="Sales"'}},
    "actions": {"assignUserToGroups": {"groupIds": [ENGINEERING]}},
}
create_user = st.tuples(
    who,
    st.just("POST"),
    st.sampled_from(["/api/v1/users?activate=true", "/api/v1/users?activate=false"]),
    st.builds(_create, login, st.sampled_from([None, "Sales"]), st.sampled_from([None, "cc-1"])),
)
read_user = st.tuples(who, st.just("GET"), person.map(lambda p: f"/api/v1/users/{p}"), st.none())
lifecycle = st.tuples(
    who,
    st.just("POST"),
    st.builds(
        lambda p, op: f"/api/v1/users/{p}/lifecycle/{op}",
        person,
        st.sampled_from(["deactivate", "activate", "suspend", "unsuspend"]),
    ),
    st.none(),
)
rename = st.tuples(
    who,
    st.just("POST"),
    st.sampled_from([ALICE, BOB]).map(lambda p: f"/api/v1/users/{p}"),
    st.builds(lambda n: {"profile": {"firstName": n}}, st.sampled_from(["Al", "Bobby", "Z"])),
)
schema = st.tuples(
    who,
    st.just("POST"),
    st.just("/api/v1/meta/schemas/user/default"),
    st.sampled_from([{"type": "string"}, None]).map(_schema),
)
# The calls that move what the caches hold come up more often (one_of picks a branch evenly).
calls = st.one_of(
    create_user,
    read_user,
    read_user,
    lifecycle,
    lifecycle,
    lifecycle,
    rename,
    rename,
    schema,
    st.tuples(who, st.just("POST"), st.just("/api/v1/groups/rules"), st.just(RULE)),
    st.tuples(who, st.sampled_from(["activate", "deactivate"]), st.just("rule"), st.none()),
    st.tuples(who, st.just("POST"), st.just("/api/v1/eventHooks"), st.just("hook")),
    st.tuples(who, st.sampled_from(["verify", "deactivate", "activate"]), st.just("hook"), st.none()),
    st.tuples(who, st.just("GET"), st.just("/api/v1/logs?limit=1000"), st.none()),
)
DAN = "/api/v1/users/dan@example.com"
# One sequence per cache that a missed invalidation would break for sure.
EXAMPLES = {
    "principal": [
        ("alice", "GET", f"/api/v1/users/{BOB}", None),
        ("bob", "POST", f"/api/v1/users/{ALICE}/lifecycle/suspend", None),
        ("alice", "GET", f"/api/v1/users/{BOB}", None),
        ("bob", "POST", f"/api/v1/users/{ALICE}/lifecycle/unsuspend", None),
        ("alice", "GET", f"/api/v1/users/{BOB}", None),
    ],
    "actor": [
        ("alice", "POST", "/api/v1/users?activate=true", _create("dan@example.com")),
        ("bob", "POST", f"/api/v1/users/{ALICE}", {"profile": {"firstName": "Al"}}),
        ("alice", "POST", f"{DAN}/lifecycle/deactivate", None),
        ("alice", "GET", "/api/v1/logs?limit=1000", None),
    ],
    "hooks": [
        ("alice", "POST", "/api/v1/eventHooks", "hook"),
        ("alice", "POST", "/api/v1/users?activate=true", _create("dan@example.com")),
        ("alice", "verify", "hook", None),
        ("alice", "POST", f"{DAN}/lifecycle/deactivate", None),
        ("alice", "deactivate", "hook", None),
        ("alice", "POST", f"{DAN}/lifecycle/activate", None),
    ],
    "schema": [
        ("alice", "POST", "/api/v1/users?activate=true", _create("dan@example.com", badge="b-1")),
        ("alice", "POST", "/api/v1/meta/schemas/user/default", _schema({"type": "string"})),
        ("alice", "POST", "/api/v1/users?activate=true", _create("dan@example.com", badge="b-1")),
        ("alice", "POST", "/api/v1/meta/schemas/user/default", _schema(None)),
        ("alice", "POST", "/api/v1/users?activate=true", _create("eve@example.com", badge="b-1")),
    ],
    "group_rules": [
        ("alice", "POST", "/api/v1/users?activate=true", _create("dan@example.com", "Sales")),
        ("alice", "POST", "/api/v1/groups/rules", RULE),
        ("alice", "activate", "rule", None),
        ("alice", "POST", "/api/v1/users?activate=true", _create("eve@example.com", "Sales")),
        ("alice", "deactivate", "rule", None),
        ("bob", "POST", f"{DAN}", {"profile": {"department": "Sales"}}),
    ],
}


def _resolve(call: tuple[str, str, str, Any], last: dict[str, str], hook_url: str) -> tuple[str, str, Any]:
    """Calls on "the last rule" or "the last hook", and the hook body with the receiver's URL."""
    _, method, path, body = call
    if path in ("rule", "hook"):
        target = last.get(path, "none")
        base = "/api/v1/groups/rules" if path == "rule" else "/api/v1/eventHooks"
        if method in ("verify", "activate", "deactivate"):
            return "POST", f"{base}/{target}/lifecycle/{method}", None
    if body == "hook":
        body = {
            "name": "app",
            "events": {
                "type": "EVENT_TYPE",
                "items": [
                    "user.lifecycle.activate",
                    "user.lifecycle.deactivate",
                    "user.account.update_profile",
                ],
            },
            "channel": {
                "type": "HTTP",
                "version": "1.0.0",
                "config": {
                    "uri": hook_url + "okta",
                    "authScheme": {"type": "HEADER", "key": "X-K", "value": "v"},
                },
            },
        }
    return method, path, body


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=st.lists(calls, min_size=1, max_size=25))
@example(sequence=EXAMPLES["principal"])
@example(sequence=EXAMPLES["actor"])
@example(sequence=EXAMPLES["hooks"])
@example(sequence=EXAMPLES["schema"])
@example(sequence=EXAMPLES["group_rules"])
def test_answers_do_not_depend_on_the_caches(
    twins: dict[str, TwinServer], hooks: Receiver, sequence: list[tuple[str, str, str, Any]]
) -> None:
    tenant = f"coherence{next(_names)}"
    cached, plain = Side(twins["cached"], tenant), Side(twins["plain"], tenant)
    try:
        last: dict[str, str] = {}
        for call in sequence:
            method, path, body = _resolve(call, last, hooks.url)
            got = cached.call(call[0], method, path, body)
            want = plain.call(call[0], method, path, body)
            note(f"{call[0]} {method} {path} {body} -> {got}")
            assert got == want, (call[0], method, path, body)
            status, data = got
            if (
                status == 200
                and isinstance(data, dict)
                and path in ("/api/v1/groups/rules", "/api/v1/eventHooks")
            ):
                last["rule" if "rules" in path else "hook"] = data["id"]
            assert cached.deliveries() == plain.deliveries()
        assert cached.state() == plain.state()
    finally:
        cached.close()
        plain.close()
