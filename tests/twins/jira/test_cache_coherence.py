"""The read caches change nothing a client can see.

The same random sequence of Jira calls runs against the session twin (caches on, the default)
and against a twin with `TwinSettings(cache=False)`, each in a fresh tenant with its clock
frozen at the same instant; every answer must be the same, status and body. The calls move
exactly what the caches hold (twins/jira/service/common.py `CACHES`): who a token is (a user
removed, groups changing who may browse OPS), users' names (sorting, pickers), projects
(created, renamed, trashed), custom fields, statuses, issue types and workflows (through
`POST /_dtu/seed`), and webhooks (created, disabled, deleted; issue events queue deliveries)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from atlassian import Jira
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from dtu.settings import TwinSettings
from dtu.testing.server import TwinServer
from twins.jira.seed import ALICE, BOB, CAROL

FROZEN_AT = 1_800_000_000.0
ACTORS = ["admin", "bob", "carol"]
EMAILS = {"admin": "admin@example.com", "bob": "bob@example.com", "carol": "carol@example.com"}
JQLS = [
    "project = OPS ORDER BY key ASC",
    "project = DEMO ORDER BY assignee ASC, key ASC",
    "assignee = carol@example.com",
    'status = "To Do" ORDER BY status DESC, key ASC',
    "Customer ~ acme",
    "Region ~ north",
    "project = NEWP",
    "statusCategory != Done ORDER BY priority DESC, key DESC",
    "labels = coh AND summary ~ coherent ORDER BY reporter ASC",
    "issuetype = Chore",
    'status = "Backlog"',
    "assignee in membersOf(ops-team) ORDER BY key",
]
KEYS = ["DEMO-1", "DEMO-2", "OPS-1", "NEWP-1"]
HOOK = "http://127.0.0.1:9/hook"  # nothing listens: deliveries are queued and fail
SEEDS = [
    {"statuses": [{"id": "10000", "name": "Backlog", "category": 2}]},
    {"statuses": [{"id": "10000", "name": "To Do", "category": 2}]},
    {"issuetypes": [{"id": "10001", "name": "Chore", "description": "renamed"}]},
    {
        "workflows": [
            {
                "name": "DTU Simplified Workflow",
                "initial": "3",
                "statuses": ["10000", "3", "10001"],
                "transitions": [{"id": "31", "name": "Done", "from": ["3"], "to": "10001"}],
            }
        ]
    },
    {"users": [{"accountId": CAROL, "email": "carol@example.com", "displayName": "Aaron Carol"}]},
    {"users": [{"accountId": BOB, "email": "bob@example.com", "displayName": "Bob Brown", "active": False}]},
]


@pytest.fixture(scope="module")
def uncached(dtu_db_url: str | None) -> Iterator[TwinServer]:
    """A twin without caches, on the same kind of store (on PostgreSQL the same database,
    as a second process sharing it would be; tenants keep the two apart)."""
    twin = TwinServer("jira", TwinSettings(db_url=dtu_db_url or "sqlite://", cache=False)).start()
    try:
        yield twin
    finally:
        twin.stop()
        twin.runtime.store.dispose()


class Side:
    """One twin's tenant and a client per person (atlassian-python-api, raw answers)."""

    def __init__(self, twin: TwinServer) -> None:
        self.twin = twin
        made = twin.create_tenant()
        self.tenant = made["tenant"]
        tokens = made["credentials"]["api_tokens"]
        # Frozen, then reloaded under the frozen clock (fixture rows carry creation times),
        # then frozen again (a reset drops the tenant's clock).
        # New users' account ids are minted from the tenant: compared by their order of creation.
        self.names: dict[str, str] = {twin.url: "BASE", self.tenant: "TENANT"}
        for first in (True, False):
            twin.clock(self.tenant, freeze=FROZEN_AT)
            if first:
                twin.reset(self.tenant)
        self.clients = {
            who: Jira(url=twin.url, username=EMAILS[who], password=tokens[EMAILS[who]], advanced_mode=True)
            for who in ACTORS
        }

    def call(self, who: str, method: str, path: str, body: Any = None, params: Any = None) -> Any:
        resp = self.clients[who].request(method, path, data=body, params=params, advanced_mode=True)
        try:
            data: Any = resp.json()
        except ValueError:
            data = resp.text
        if (method, path, resp.status_code) == ("POST", "rest/api/2/user", 201):
            n = sum(1 for v in self.names.values() if v.startswith("NEWUSER"))
            self.names[data["accountId"]] = f"NEWUSER{n}"
            self.names[data["accountId"][-12:]] = f"NEWAVATAR{n}"  # avatar URLs hold its tail
        return resp.status_code, _replaced(data, self.names)

    def seed(self, fixture: dict[str, Any]) -> Any:
        made = self.twin.control("POST", "/seed", params={"tenant": self.tenant}, json=fixture)
        return _replaced(made, self.names)

    def deliveries(self) -> list[tuple[Any, ...]]:
        return [
            (d["target"], d["meta"].get("type"), d["meta"].get("webhook_id"))
            for d in self.twin.deliveries(tenant=self.tenant)
        ]

    def close(self) -> None:
        self.twin.delete_tenant(self.tenant)


def _replaced(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _replaced(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_replaced(v, names) for v in value]
    if isinstance(value, str):
        for old, new in names.items():
            value = value.replace(old, new)
    return value


actor = st.sampled_from(ACTORS)
key = st.sampled_from(KEYS)
project = st.sampled_from(["DEMO", "OPS", "NEWP"])
person = st.sampled_from([None, ALICE, BOB, CAROL])
calls = st.one_of(
    st.tuples(
        actor,
        st.just("GET"),
        st.just("rest/api/2/search"),
        st.just(None),
        st.builds(
            lambda jql: {"jql": jql, "fields": "summary,status,assignee,project,issuetype,customfield_10035"},
            st.sampled_from(JQLS),
        ),
    ),
    st.tuples(
        actor,
        st.just("POST"),
        st.just("rest/api/2/issue"),
        st.builds(
            lambda p, who, typ: {
                "fields": {
                    "project": {"key": p},
                    "issuetype": {"name": typ},
                    "summary": "coherent issue",
                    "labels": ["coh"],
                    "customfield_10035": "acme north",
                    **({"assignee": {"accountId": who}} if who else {}),
                }
            },
            project,
            person,
            st.sampled_from(["Task", "Chore", "Bug"]),
        ),
        st.just(None),
    ),
    st.tuples(
        actor, st.just("GET"), key.map(lambda k: f"rest/api/2/issue/{k}"), st.just(None), st.just(None)
    ),
    st.tuples(
        actor,
        st.just("GET"),
        key.map(lambda k: f"rest/api/2/issue/{k}/transitions"),
        st.just(None),
        st.just(None),
    ),
    st.tuples(
        actor,
        st.just("POST"),
        key.map(lambda k: f"rest/api/2/issue/{k}/transitions"),
        st.sampled_from(["11", "21", "31"]).map(lambda t: {"transition": {"id": t}}),
        st.just(None),
    ),
    st.tuples(
        st.just("admin"),
        st.sampled_from(["POST", "DELETE"]),
        st.just("rest/api/2/group/user"),
        st.sampled_from([CAROL, BOB]).map(lambda who: {"accountId": who}),
        st.just({"groupname": "ops-team"}),
    ).map(
        lambda c: (
            c[0],
            c[1],
            c[2],
            c[3] if c[1] == "POST" else None,
            {**c[4], **(c[3] if c[1] == "DELETE" else {})},
        )
    ),
    st.tuples(
        st.just("admin"),
        st.just("POST"),
        st.just("rest/api/2/field"),
        st.just({"name": "Region", "type": "com.atlassian.jira.plugin.system.customfieldtypes:textfield"}),
        st.just(None),
    ),
    st.tuples(
        st.just("admin"),
        st.just("POST"),
        st.just("rest/api/2/project"),
        st.just({"key": "NEWP", "name": "New project", "leadAccountId": ALICE, "projectTypeKey": "software"}),
        st.just(None),
    ),
    st.tuples(
        st.just("admin"),
        st.just("PUT"),
        project.map(lambda p: f"rest/api/2/project/{p}"),
        st.sampled_from(["Renamed", "Demo Project"]).map(lambda n: {"name": n}),
        st.just(None),
    ),
    st.tuples(
        st.just("admin"),
        st.just("DELETE"),
        project.map(lambda p: f"rest/api/2/project/{p}"),
        st.just(None),
        st.just(None),
    ),
    st.tuples(
        st.just("admin"),
        st.sampled_from(["DELETE", "POST"]),
        st.just("rest/api/2/user"),
        st.just(None),
        st.just({"accountId": BOB}),
    ).map(
        lambda c: (
            c
            if c[1] == "DELETE"
            else (
                c[0],
                c[1],
                c[2],
                {"emailAddress": "dave@example.com", "displayName": "Dave", "products": []},
                None,
            )
        )
    ),
    st.tuples(
        st.just("admin"),
        st.just("POST"),
        st.just("rest/webhooks/1.0/webhook"),
        st.sampled_from(["", "project = DEMO"]).map(
            lambda jql: (
                {"name": "h", "url": HOOK, "events": ["jira:issue_created", "jira:issue_updated"]}
                | ({"filters": {"issue-related-events-section": jql}} if jql else {})
            )
        ),
        st.just(None),
    ),
    st.tuples(
        st.just("admin"),
        st.just("PUT"),
        st.sampled_from(["1", "2"]).map(lambda w: f"rest/webhooks/1.0/webhook/{w}"),
        st.booleans().map(lambda on: {"enabled": on}),
        st.just(None),
    ),
    st.tuples(
        st.just("admin"),
        st.just("DELETE"),
        st.sampled_from(["1", "2"]).map(lambda w: f"rest/webhooks/1.0/webhook/{w}"),
        st.just(None),
        st.just(None),
    ),
    st.tuples(actor, st.just("GET"), st.just("rest/api/2/field"), st.just(None), st.just(None)),
    st.tuples(
        actor,
        st.just("GET"),
        st.just("rest/api/2/user/search"),
        st.just(None),
        st.sampled_from(["a", "carol", "b"]).map(lambda q: {"query": q}),
    ),
    st.tuples(actor, st.just("GET"), st.just("rest/api/2/myself"), st.just(None), st.just(None)),
)
# the control plane's seed: the only writer of statuses, issue types and workflows (as often as
# all the API calls together)
calls = st.one_of(
    calls, st.tuples(st.just("seed"), st.just(""), st.just(""), st.sampled_from(SEEDS), st.just(None))
)


# What every example starts with: issues in both projects, assigned, with a custom field value,
# and an admin webhook, so that the probes below see statuses, types, names and deliveries.
PRELUDE: list[tuple[str, str, str, Any, Any]] = [
    (
        "admin",
        "POST",
        "rest/api/2/issue",
        {
            "fields": {
                "project": {"key": p},
                "issuetype": {"name": typ},
                "summary": f"prelude {p}",
                "customfield_10035": "acme",
                "assignee": {"accountId": who},
            }
        },
        None,
    )
    for p, typ, who in (("DEMO", "Task", CAROL), ("DEMO", "Bug", BOB), ("OPS", "Task", ALICE))
] + [
    (
        "admin",
        "POST",
        "rest/webhooks/1.0/webhook",
        {"name": "prelude", "url": HOOK, "events": ["jira:issue_created", "jira:issue_updated"]},
        None,
    )
]

# Reads that see everything the caches hold, made after every step: who a token is, what carol
# (not in ops-team) may browse, issues sorted by assignee's name with their status, type and a
# custom field, the fields, the workflow's transitions, user names, the projects.
PROBES: list[tuple[str, str, str, Any, Any]] = [
    ("bob", "GET", "rest/api/2/myself", None, None),
    (
        "carol",
        "GET",
        "rest/api/2/search",
        None,
        {"jql": "project = OPS ORDER BY key ASC", "fields": "summary,status"},
    ),
    (
        "admin",
        "GET",
        "rest/api/2/search",
        None,
        {
            "jql": "ORDER BY assignee ASC, key ASC",
            "fields": "summary,status,assignee,issuetype,customfield_10035",
        },
    ),
    ("admin", "GET", "rest/api/2/field", None, None),
    ("carol", "GET", "rest/api/2/issue/DEMO-1/transitions", None, None),
    ("admin", "GET", "rest/api/2/user/search", None, {"query": "a"}),
    ("carol", "GET", "rest/api/2/project", None, None),
]


# One of every write that moves a cache, in turn: what the random sequences may miss in a run.
SCRIPT: list[tuple[str, str, str, Any, Any]] = [
    *[("seed", "", "", fixture, None) for fixture in SEEDS[:5]],
    ("admin", "POST", "rest/api/2/group/user", {"accountId": CAROL}, {"groupname": "ops-team"}),
    ("admin", "DELETE", "rest/api/2/group/user", None, {"groupname": "ops-team", "accountId": BOB}),
    (
        "admin",
        "POST",
        "rest/api/2/field",
        {"name": "Region", "type": "com.atlassian.jira.plugin.system.customfieldtypes:textfield"},
        None,
    ),
    (
        "admin",
        "POST",
        "rest/api/2/project",
        {"key": "NEWP", "name": "New project", "leadAccountId": ALICE, "projectTypeKey": "software"},
        None,
    ),
    ("admin", "PUT", "rest/api/2/project/DEMO", {"name": "Renamed"}, None),
    ("admin", "DELETE", "rest/api/2/project/OPS", None, None),
    ("admin", "PUT", "rest/webhooks/1.0/webhook/1", {"enabled": False}, None),
    (
        "admin",
        "POST",
        "rest/api/2/issue",
        {"fields": {"project": {"key": "NEWP"}, "issuetype": {"name": "Bug"}, "summary": "after"}},
        None,
    ),
    ("admin", "PUT", "rest/webhooks/1.0/webhook/1", {"enabled": True}, None),
    (
        "admin",
        "POST",
        "rest/api/2/issue",
        {"fields": {"project": {"key": "DEMO"}, "issuetype": {"name": "Bug"}, "summary": "after"}},
        None,
    ),
    ("admin", "DELETE", "rest/webhooks/1.0/webhook/1", None, None),
    ("seed", "", "", SEEDS[5], None),
    ("admin", "DELETE", "rest/api/2/user", None, {"accountId": BOB}),
    ("admin", "POST", "rest/api/2/user", {"emailAddress": "dave@example.com", "displayName": "Dave"}, None),
]


def _run(
    cached_side: Side, plain_side: Side, sequence: list[tuple[str, str, str, Any, Any]], *, hypothesis: bool
) -> None:
    """Each call on both sides, then every probe: the same answers, and the same deliveries."""
    for who, method, path, body, params in [*PRELUDE, *sequence]:
        if who == "seed":
            got, want = cached_side.seed(body), plain_side.seed(body)
        else:
            got = cached_side.call(who, method, path, body, params)
            want = plain_side.call(who, method, path, body, params)
        if hypothesis:
            note(f"{who} {method} {path} {body} {params} -> {got}")
        assert got == want, (who, method, path, body, params)
        assert cached_side.deliveries() == plain_side.deliveries()
        for probe in PROBES:
            assert cached_side.call(*probe) == plain_side.call(*probe), (
                who,
                method,
                path,
                body,
                params,
                probe,
            )
    final = {"jql": "ORDER BY key ASC", "maxResults": 100, "fields": "*all"}
    assert cached_side.call("admin", "GET", "rest/api/2/search", None, final) == plain_side.call(
        "admin", "GET", "rest/api/2/search", None, final
    )
    assert cached_side.call("admin", "GET", "rest/webhooks/1.0/webhook") == plain_side.call(
        "admin", "GET", "rest/webhooks/1.0/webhook"
    )


def test_every_cached_write_is_seen(jira_twin: TwinServer, uncached: TwinServer) -> None:
    cached_side, plain_side = Side(jira_twin), Side(uncached)
    try:
        _run(cached_side, plain_side, SCRIPT, hypothesis=False)
    finally:
        cached_side.close()
        plain_side.close()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=st.lists(calls, min_size=1, max_size=15))
def test_answers_do_not_depend_on_the_caches(
    jira_twin: TwinServer, uncached: TwinServer, sequence: list[tuple[str, str, str, Any, Any]]
) -> None:
    cached_side, plain_side = Side(jira_twin), Side(uncached)
    try:
        _run(cached_side, plain_side, sequence, hypothesis=True)
    finally:
        cached_side.close()
        plain_side.close()
