"""The read caches change nothing a client can see.

The same random sequence of Slack calls runs against the session twin (caches on, the default)
and against a twin with `TwinSettings(cache=False)`, each in a fresh tenant with its clock
frozen at the same instant; every answer must be the same, error for error. The calls move
exactly what the caches hold: conversations by id and by name (rename), memberships
(invite, kick, join, leave), archive state, reactions and pins on history pages, and tokens
(auth.revoke)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from dtu.settings import TwinSettings
from dtu.testing.server import TwinServer
from twins.slack.seed import BOB, GENERAL, RANDOM

FROZEN_AT = 1_800_000_000.0
CHANNELS = [GENERAL, RANDOM, "#general", "#random", "#renamed", "C0NOSUCHCH"]
ACTORS = ["bot", "alice", "bob"]


@pytest.fixture(scope="module")
def uncached(dtu_db_url: str | None) -> Iterator[TwinServer]:
    """A twin without caches, on the same kind of store (on PostgreSQL the same database,
    as a second process sharing it would be; tenants keep the two apart)."""
    twin = TwinServer("slack", TwinSettings(db_url=dtu_db_url or "sqlite://", cache=False)).start()
    try:
        yield twin
    finally:
        twin.stop()
        twin.runtime.store.dispose()


class Side:
    """One twin's tenant and its clients."""

    def __init__(self, twin: TwinServer) -> None:
        self.twin = twin
        made = twin.create_tenant()
        self.tenant = made["tenant"]
        creds = made["credentials"]
        # Frozen, then reloaded under the frozen clock (fixture rows carry creation times),
        # then frozen again (a reset drops the tenant's clock).
        for _ in range(2):
            twin.control("POST", "/clock", params={"tenant": self.tenant}, json={"freeze": FROZEN_AT})
            if not _:
                twin.reset(self.tenant)
        base = twin.url + "/api/"
        self.clients = {
            "bot": WebClient(token=creds["bot_token"], base_url=base),
            "alice": WebClient(token=creds["user_token"], base_url=base),
            "bob": WebClient(token=creds["user_tokens"]["bob@example.com"], base_url=base),
        }
        # A fresh tenant gets its own team id: answers are compared with it written as TEAM.
        me = self.clients["alice"].auth_test()
        self.names = {me["team_id"]: "TEAM", me["url"]: "https://DOMAIN.slack.com/"}

    def call(self, actor: str, method: str, args: dict[str, Any]) -> Any:
        try:
            data = self.clients[actor].api_call(method, json=args).data
        except SlackApiError as err:
            data = err.response.data
        assert isinstance(data, dict)
        data = _replaced(data, self.names)
        return {k: v for k, v in data.items() if k not in ("warning", "response_metadata")} | {
            "next_cursor": (data.get("response_metadata") or {}).get("next_cursor")
        }

    def close(self) -> None:
        self.twin.delete_tenant(self.tenant)


channel = st.sampled_from(CHANNELS)
actor = st.sampled_from(ACTORS)
text = st.sampled_from(["hi", "hello <@U0DTUBOT01>", "x" * 50])
calls = st.one_of(
    st.tuples(actor, st.just("chat.postMessage"), st.fixed_dictionaries({"channel": channel, "text": text})),
    st.tuples(
        actor,
        st.just("conversations.history"),
        st.fixed_dictionaries(
            {"channel": channel}, optional={"limit": st.integers(1, 4), "inclusive": st.booleans()}
        ),
    ),
    st.tuples(actor, st.just("conversations.info"), st.fixed_dictionaries({"channel": channel})),
    st.tuples(actor, st.just("conversations.members"), st.fixed_dictionaries({"channel": channel})),
    st.tuples(
        st.just("alice"),
        st.just("conversations.rename"),
        st.fixed_dictionaries(
            {"channel": channel, "name": st.sampled_from(["renamed", "general", "random"])}
        ),
    ),
    st.tuples(
        actor,
        st.sampled_from(["conversations.archive", "conversations.unarchive"]),
        st.fixed_dictionaries({"channel": channel}),
    ),
    st.tuples(
        actor,
        st.just("conversations.kick"),
        st.fixed_dictionaries({"channel": channel, "user": st.just(BOB)}),
    ),
    st.tuples(
        actor,
        st.just("conversations.invite"),
        st.fixed_dictionaries({"channel": channel, "users": st.just(BOB)}),
    ),
    st.tuples(
        actor,
        st.sampled_from(["conversations.join", "conversations.leave"]),
        st.fixed_dictionaries({"channel": channel}),
    ),
    st.tuples(actor, st.sampled_from(["reactions.add", "reactions.remove"]), st.just({"name": "tada"})),
    st.tuples(actor, st.sampled_from(["pins.add", "pins.remove"]), st.just({})),
    st.tuples(st.just("bob"), st.just("auth.revoke"), st.just({})),
    st.tuples(
        st.sampled_from(["alice", "bob"]),
        st.just("users.profile.set"),
        st.fixed_dictionaries(
            {"profile": st.fixed_dictionaries({"display_name": st.sampled_from(["b", "bobby"])})}
        ),
    ),
    st.tuples(actor, st.just("users.info"), st.fixed_dictionaries({"user": st.just(BOB)})),
    st.tuples(actor, st.just("auth.test"), st.just({})),
)


def _with_last_message(
    side: Side, method: str, args: dict[str, Any], last: dict[str, str] | None
) -> dict[str, Any]:
    """Reactions and pins act on the last message posted (if any)."""
    if method.startswith(("reactions.", "pins.")):
        if last is None:
            return {**args, "channel": GENERAL, "timestamp": "1.000000"}
        return {**args, "channel": last["channel"], "timestamp": last["ts"]}
    return args


def _replaced(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _replaced(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_replaced(v, names) for v in value]
    return names.get(value, value) if isinstance(value, str) else value


def _diff(got: Any, want: Any, path: str = "") -> list[str]:
    if isinstance(got, dict) and isinstance(want, dict):
        return [d for k in got.keys() | want.keys() for d in _diff(got.get(k), want.get(k), f"{path}.{k}")]
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        return [
            d for i, (g, w) in enumerate(zip(got, want, strict=True)) for d in _diff(g, w, f"{path}[{i}]")
        ]
    return [] if got == want else [f"{path}: {got!r} != {want!r}"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=st.lists(calls, min_size=1, max_size=25))
def test_answers_do_not_depend_on_the_caches(
    slack_twin: TwinServer, uncached: TwinServer, sequence: list[tuple[str, str, dict[str, Any]]]
) -> None:
    cached_side, plain_side = Side(slack_twin), Side(uncached)
    try:
        last: dict[str, str] | None = None
        for who, method, args in sequence:
            full = _with_last_message(cached_side, method, args, last)
            got = cached_side.call(who, method, full)
            want = plain_side.call(who, method, full)
            note(f"{who} {method} {full} -> {got}")
            assert got == want, (who, method, full, _diff(got, want))
            if method == "chat.postMessage" and got.get("ok"):
                last = {"channel": got["channel"], "ts": got["ts"]}
        for ch in (GENERAL, RANDOM):
            args = {"channel": ch, "limit": 100}
            assert cached_side.call("alice", "conversations.history", args) == plain_side.call(
                "alice", "conversations.history", args
            )
    finally:
        cached_side.close()
        plain_side.close()
