"""A new tenant's fixture loads the same through the fast path as through the upserting one.

`seed.load_fixture` writes a plain fixture into an empty org with one prebuilt insert per row
and the ids of each kind reserved at once (`_load_empty`), and anything else by upserts. Both
must leave exactly the same rows and id counters, and answer the same errors: the same random
fixtures (plain ones, and ones with repeated ids, nulls and missing keys) are loaded into a
tenant of the same name with its clock frozen, once as they come and once with the fast path
switched off, and the control plane's answers and the stored rows compared."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dtu.settings import TwinSettings
from dtu.testing.server import TwinServer
from twins.okta import seed

FROZEN_AT = 1_800_000_000.0


@pytest.fixture(scope="module")
def twin(dtu_db_url: str | None) -> Iterator[TwinServer]:
    server = TwinServer("okta", TwinSettings(db_url=dtu_db_url or "sqlite://")).start()
    try:
        yield server
    finally:
        server.stop()
        server.runtime.store.dispose()


def _load(twin: TwinServer, name: str, fixture: dict[str, Any] | None, fast: bool) -> Any:
    """POST /_dtu/tenants with the fixture; the answer and the tenant's rows (then drops it)."""
    plain = seed._plain
    if not fast:
        seed._plain = lambda data: False  # type: ignore[assignment]
    try:
        rt = twin.runtime
        rt.clocks.set(name, freeze=True, at=FROZEN_AT)
        body: dict[str, Any] = {"tenant": name}
        if fixture is not None:
            body["fixture"] = copy.deepcopy(fixture)
        # A database error the control plane does not catch (the driver's own IntegrityError,
        # from prebuilt statements) ends as a 500 or a dropped connection, whichever uvicorn manages.
        try:
            r = twin.admin.post("/_dtu/tenants", json=body)
            answer: Any = (r.status_code, r.text) if r.status_code != 500 else "server error"
        except httpx.HTTPError:
            answer = "server error"
        rows = rt.store.run_sync(lambda conn: rt.store.dump(conn, name))
        if answer[0] == 201:
            twin.delete_tenant(name)
        return answer, {t: sorted(map(repr, v)) for t, v in rows.items()}
    finally:
        seed._plain = plain  # type: ignore[assignment]


ids = st.sampled_from(["00ua", "00ub", "00uc"])
users = st.lists(
    st.fixed_dictionaries(
        {"id": ids, "login": st.sampled_from(["a@x.com", "B@x.com", "c@x.com"])},
        optional={
            "firstName": st.sampled_from(["A", None]),
            "password": st.just("Passw0rd!"),
            "status": st.sampled_from(["ACTIVE", "STAGED", None]),
            "admin": st.booleans(),
            "profile": st.sampled_from([{"nickName": "n"}, None]),
            "provider": st.sampled_from(["OKTA", "FEDERATION"]),
        },
    ),
    max_size=3,
)
groups = st.lists(
    st.fixed_dictionaries(
        {"id": st.sampled_from(["00g1", "00g2"]), "name": st.sampled_from(["G", "H"])},
        optional={
            "type": st.sampled_from(["BUILT_IN", "OKTA_GROUP"]),
            "description": st.just("d"),
            "members": st.one_of(st.just("*"), st.lists(ids, max_size=3)),
        },
    ),
    max_size=2,
)
apps = st.lists(
    st.fixed_dictionaries(
        {"id": st.sampled_from(["0oa1", "0oa2"])},
        optional={
            "label": st.just("L"),
            "type": st.sampled_from(["web", "service"]),
            "assign": st.just("everyone"),
            "scopes": st.just(["okta.users.read"]),
            "refresh_token": st.just({"rotation_type": "ROTATE"}),
            "pkce_required": st.booleans(),
        },
    ),
    max_size=2,
)
tokens = st.lists(
    st.fixed_dictionaries(
        {"user": st.sampled_from(["00ua", None]), "token": st.sampled_from(["t1", "t2"])},
        optional={"id": st.sampled_from(["00T1", "00T2", ""]), "name": st.just("n")},
    ),
    max_size=2,
)
servers = st.lists(
    st.fixed_dictionaries(
        {"id": st.sampled_from(["default", "aus2", "org"])},
        optional={"name": st.just("s"), "scopes": st.just(["x.read"])},
    ),
    max_size=2,
)
fixtures = st.fixed_dictionaries(
    {},
    optional={
        "org": st.sampled_from(
            [{}, {"id": "00oX"}, {"id": "00oX", "lockout_attempts": 3}, {"name": "no id"}]
        ),
        "users": users,
        "groups": groups,
        "apps": apps,
        "api_tokens": tokens,
        "auth_servers": servers,
        "schema": st.sampled_from([{}, {"badgeId": {"type": "string"}}]),
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fixture=fixtures)
@example(fixture=seed.default_fixture())
@example(
    fixture=seed.universe_fixture({"people": [{"email": "a@x.com", "admin": True}, {"email": "b@x.com"}]})
)
@example(fixture={})
def test_fast_and_upserting_loads_agree(twin: TwinServer, fixture: dict[str, Any]) -> None:
    fast = _load(twin, "loaded", fixture, fast=True)
    upserting = _load(twin, "loaded", fixture, fast=False)
    assert fast == upserting


def test_the_default_fixture_takes_the_fast_path(twin: TwinServer) -> None:
    """What every harness trajectory loads is plain (else the fast path would go unused)."""
    assert seed._plain(twin.runtime.default_fixture)
    assert _load(twin, "loaded", None, fast=True) == _load(twin, "loaded", None, fast=False)


def test_reset_of_the_default_tenant_agrees(twin: TwinServer) -> None:
    """A reset of `default` reloads the fixture without fresh credentials."""
    answers = []
    for fast in (True, False):
        plain = seed._plain
        if not fast:
            seed._plain = lambda data: False  # type: ignore[assignment]
        try:
            twin.runtime.clocks.set("default", freeze=True, at=FROZEN_AT)
            twin.reset("default")
            store = twin.runtime.store
            rows = store.run_sync(lambda conn, store=store: store.dump(conn, "default"))
            answers.append({t: sorted(map(repr, v)) for t, v in rows.items()})
        finally:
            seed._plain = plain  # type: ignore[assignment]
    assert answers[0] == answers[1]
