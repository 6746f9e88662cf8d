"""Properties of the Slack twin, checked with Hypothesis through slack_sdk over HTTP.

* Cursor pagination (https://docs.slack.dev/apis/web-api/pagination) serves every item
  exactly once for any page size, with writes between pages: history pages newest-first, so
  messages posted meanwhile never show up on later pages; lists ordered by id or creation
  show an item added meanwhile exactly when it sorts after the cursor.
* History stays newest-first with unique, increasing ts under any interleaving of posts,
  replies, edits and deletes (a state machine against a small reference model).
* The same fault profile seed with the same calls meets the same faults: on a replay in the
  same tenant, and on a fresh twin with the same settings (whose first tenant is the same).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from dtu.settings import TwinSettings
from dtu.testing.plugin import Tenant
from dtu.testing.server import TwinServer

PROFILE = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TOMBSTONE = "This message was deleted."
DEFAULT_USERS = ["U0DTUALICE", "U0DTUBOB01", "U0DTUBOT01", "U0DTUCAROL"]
# Candidate ids for seeded users: they sort before, between and after the default users.
USER_POOL = [f"U{c}{i:02d}PROPX" for c in "0AKZ" for i in range(8)]
# Message texts: no `&<>` (Slack escapes those) and never blank (Slack refuses blank text).
texts = st.from_regex(r"[A-Za-z0-9é中🙂][\w .,!?'é中🙂-]{0,19}", fullmatch=True)
NAMES = itertools.count()
# Writes between pages: how many items to add after page 1, page 2, ... (none after the last count).
between = st.lists(st.integers(min_value=0, max_value=2), min_size=1, max_size=6)


def _pages(
    fetch: Callable[[str | None], dict[str, Any]], key: str, after_page: Callable[[int, list[Any]], None]
) -> list[Any]:
    """Follow `next_cursor` to the end; `after_page(i, page)` writes between pages."""
    items: list[Any] = []
    cursor: str | None = None
    for i in range(500):
        response = fetch(cursor)
        page = list(response[key])
        items.extend(page)
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if cursor is None:
            return items
        assert page, "a page with a next_cursor has items"
        after_page(i, page)
    raise AssertionError("pagination does not end")


def _count(writes: list[int], page: int) -> int:
    """Writes after the given page: the drawn counts for the first pages, then none."""
    return writes[page] if page < len(writes) else 0


def _post(client: WebClient, channel: str, text: str, **kwargs: Any) -> str:
    return str(client.chat_postMessage(channel=channel, text=text, **kwargs)["ts"])


# -- pagination --------------------------------------------------------------------------------


@PROFILE
@given(n=st.integers(min_value=1, max_value=12), data=st.data(), writes=between)
def test_history_pages_newest_first_exactly_once(
    bot: WebClient, n: int, data: st.DataObject, writes: list[int]
) -> None:
    limit = data.draw(st.integers(min_value=1, max_value=n), label="limit")
    channel_id = bot.conversations_create(name=f"history-{next(NAMES)}")["channel"]["id"]
    posted = [_post(bot, channel_id, f"m{i}") for i in range(n)]
    late: list[str] = []

    def write(i: int, _page: list[Any]) -> None:
        late.extend(_post(bot, channel_id, f"late{i}.{j}") for j in range(_count(writes, i)))

    seen = _pages(
        lambda c: bot.conversations_history(channel=channel_id, limit=limit, cursor=c).data, "messages", write
    )
    assert [m["ts"] for m in seen] == posted[::-1]
    assert late == sorted(late) and (not late or late[0] > posted[-1])


@PROFILE
@given(n=st.integers(min_value=0, max_value=10), data=st.data(), writes=between)
def test_replies_page_oldest_first_exactly_once(
    bot: WebClient, general: str, n: int, data: st.DataObject, writes: list[int]
) -> None:
    limit = data.draw(st.integers(min_value=1, max_value=n + 1), label="limit")
    parent = _post(bot, general, "thread")
    replies = [_post(bot, general, f"r{i}", thread_ts=parent) for i in range(n)]
    late: list[str] = []

    def write(i: int, _page: list[Any]) -> None:
        late.extend(_post(bot, general, f"late{i}.{j}", thread_ts=parent) for j in range(_count(writes, i)))

    seen = _pages(
        lambda c: bot.conversations_replies(channel=general, ts=parent, limit=limit, cursor=c).data,
        "messages",
        write,
    )
    # Replies written between pages are newer than every page served so far: they come last.
    assert [m["ts"] for m in seen] == [parent, *replies, *late]


def _expected_after_cursor(initial: list[str], added: list[tuple[str, str | None]]) -> list[str]:
    """Keyset paging by id: an item added after the page whose last id is K shows up iff id > K."""
    return sorted(set(initial) | {item for item, key in added if key is None or item > key})


@PROFILE
@given(data=st.data(), writes=between)
def test_users_list_pages_every_user_exactly_once(
    slack_twin: TwinServer, data: st.DataObject, writes: list[int]
) -> None:
    pool = list(USER_POOL)
    initial = data.draw(st.lists(st.sampled_from(pool), unique=True, max_size=10), label="initial")
    limit = data.draw(st.integers(min_value=1, max_value=len(initial) + 4), label="limit")
    made = slack_twin.create_tenant()
    tenant = made["tenant"]
    try:
        bot = WebClient(token=made["credentials"]["bot_token"], base_url=slack_twin.url + "/api/")
        if initial:
            slack_twin.control(
                "POST",
                "/seed",
                params={"tenant": tenant},
                json={"users": [{"id": u, "name": u.lower()} for u in initial]},
            )
        spare = [u for u in pool if u not in initial]
        added: list[tuple[str, str | None]] = []

        def write(i: int, page: list[Any]) -> None:
            for _ in range(_count(writes, i)):
                if spare:
                    user = spare.pop(data.draw(st.integers(0, len(spare) - 1), label="added"))
                    slack_twin.control(
                        "POST",
                        "/seed",
                        params={"tenant": tenant},
                        json={"users": [{"id": user, "name": user.lower()}]},
                    )
                    added.append((user, page[-1]["id"]))

        seen = [
            u["id"] for u in _pages(lambda c: bot.users_list(limit=limit, cursor=c).data, "members", write)
        ]
        assert seen == _expected_after_cursor(DEFAULT_USERS + initial, added)
    finally:
        slack_twin.delete_tenant(tenant)


@PROFILE
@given(n=st.integers(min_value=0, max_value=8), data=st.data(), writes=between)
def test_conversations_list_pages_every_channel_exactly_once(
    slack_twin: TwinServer, n: int, data: st.DataObject, writes: list[int]
) -> None:
    limit = data.draw(st.integers(min_value=1, max_value=n + 2), label="limit")
    made = slack_twin.create_tenant()
    try:
        bot = WebClient(token=made["credentials"]["bot_token"], base_url=slack_twin.url + "/api/")
        first = [c["id"] for c in bot.conversations_list()["channels"]]
        created = [bot.conversations_create(name=f"chan-{i}")["channel"]["id"] for i in range(n)]
        late: list[str] = []

        def write(i: int, _page: list[Any]) -> None:
            for j in range(_count(writes, i)):
                late.append(bot.conversations_create(name=f"late-{i}-{j}")["channel"]["id"])

        seen = [
            c["id"]
            for c in _pages(lambda c: bot.conversations_list(limit=limit, cursor=c).data, "channels", write)
        ]
        # Channels list in creation order, so channels created between pages come last.
        assert seen == first + created + late
    finally:
        slack_twin.delete_tenant(made["tenant"])


@pytest.fixture
def people(slack_tenant: Tenant) -> list[str]:
    """Extra users in the tenant for membership properties."""
    slack_tenant.twin.control(
        "POST",
        "/seed",
        params={"tenant": slack_tenant.tenant},
        json={"users": [{"id": u, "name": u.lower()} for u in USER_POOL]},
    )
    return list(USER_POOL)


@PROFILE
@given(data=st.data(), writes=between)
def test_conversations_members_pages_every_member_exactly_once(
    bot: WebClient, people: list[str], data: st.DataObject, writes: list[int]
) -> None:
    initial = data.draw(st.lists(st.sampled_from(people), unique=True, max_size=10), label="initial")
    limit = data.draw(st.integers(min_value=1, max_value=len(initial) + 2), label="limit")
    channel_id = bot.conversations_create(name=f"members-{next(NAMES)}")["channel"]["id"]
    if initial:
        bot.conversations_invite(channel=channel_id, users=initial)
    spare = [u for u in people if u not in initial]
    added: list[tuple[str, str | None]] = []

    def write(i: int, page: list[Any]) -> None:
        for _ in range(_count(writes, i)):
            if spare:
                user = spare.pop(data.draw(st.integers(0, len(spare) - 1), label="invited"))
                bot.conversations_invite(channel=channel_id, users=[user])
                added.append((user, page[-1]))

    seen = _pages(
        lambda c: bot.conversations_members(channel=channel_id, limit=limit, cursor=c).data, "members", write
    )
    assert seen == _expected_after_cursor(["U0DTUBOT01", *initial], added)


# -- history under any interleaving ------------------------------------------------------------


def test_history_matches_a_reference_model(bot: WebClient) -> None:
    """Posts, replies, edits and deletes in any order: history is newest-first, every ts is
    unique and increasing in its channel, and a parent deleted with replies stays as a
    tombstone until its last reply goes (as in Slack)."""

    class History(RuleBasedStateMachine):
        channel: str
        top: dict[str, dict[str, Any]]  # ts -> {"text", "replies": [ts], "tombstone"}
        reply_parent: dict[str, str]
        every_ts: list[str]

        @initialize()
        def channel_for_this_run(self) -> None:
            self.channel = bot.conversations_create(name=f"model-{next(NAMES)}")["channel"]["id"]
            self.top, self.reply_parent, self.every_ts = {}, {}, []

        def _minted(self, ts: str) -> str:
            assert not self.every_ts or ts > self.every_ts[-1], "ts must increase in the channel"
            self.every_ts.append(ts)
            return ts

        def _live(self) -> list[str]:
            return sorted(ts for ts, m in self.top.items() if not m["tombstone"])

        @rule(text=texts)
        def post(self, text: str) -> None:
            ts = self._minted(_post(bot, self.channel, text))
            self.top[ts] = {"text": text, "replies": [], "tombstone": False}

        @precondition(lambda self: bool(self._live()))
        @rule(data=st.data(), text=texts)
        def reply(self, data: st.DataObject, text: str) -> None:
            parent = data.draw(st.sampled_from(self._live()), label="parent")
            ts = self._minted(_post(bot, self.channel, text, thread_ts=parent))
            self.top[parent]["replies"].append(ts)
            self.reply_parent[ts] = parent

        @precondition(lambda self: bool(self._live()))
        @rule(data=st.data(), text=texts)
        def edit(self, data: st.DataObject, text: str) -> None:
            ts = data.draw(st.sampled_from(self._live()), label="edited")
            assert bot.chat_update(channel=self.channel, ts=ts, text=text)["ts"] == ts
            self.top[ts]["text"] = text

        @precondition(lambda self: bool(self._live()))
        @rule(data=st.data())
        def delete_top(self, data: st.DataObject) -> None:
            ts = data.draw(st.sampled_from(self._live()), label="deleted")
            bot.chat_delete(channel=self.channel, ts=ts)
            if self.top[ts]["replies"]:
                self.top[ts].update(text=TOMBSTONE, tombstone=True)
            else:
                del self.top[ts]

        @precondition(lambda self: bool(self.reply_parent))
        @rule(data=st.data())
        def delete_reply(self, data: st.DataObject) -> None:
            ts = data.draw(st.sampled_from(sorted(self.reply_parent)), label="deleted reply")
            bot.chat_delete(channel=self.channel, ts=ts)
            parent = self.reply_parent.pop(ts)
            self.top[parent]["replies"].remove(ts)
            if self.top[parent]["tombstone"] and not self.top[parent]["replies"]:
                del self.top[parent]

        def _gone(self) -> list[str]:
            return [ts for ts in self.every_ts if ts not in self.top and ts not in self.reply_parent]

        @precondition(lambda self: bool(self._gone()))
        @rule(data=st.data())
        def deleted_message_is_gone(self, data: st.DataObject) -> None:
            ts = data.draw(st.sampled_from(self._gone()), label="gone")
            with pytest.raises(SlackApiError) as err:
                bot.chat_update(channel=self.channel, ts=ts, text="again")
            assert err.value.response["error"] == "message_not_found"

        @rule(limit=st.integers(min_value=1, max_value=4))
        def page_through(self, limit: int) -> None:
            seen = _pages(
                lambda c: bot.conversations_history(channel=self.channel, limit=limit, cursor=c).data,
                "messages",
                lambda i, page: None,
            )
            assert [m["ts"] for m in seen] == sorted(self.top, reverse=True)

        @invariant()
        def history_is_the_model(self) -> None:
            if not hasattr(self, "channel"):
                return
            messages = bot.conversations_history(channel=self.channel, limit=999)["messages"]
            stamps = [m["ts"] for m in messages]
            assert stamps == sorted(set(stamps), reverse=True), "newest first, each ts once"
            assert stamps == sorted(self.top, reverse=True)
            for m in messages:
                model = self.top[m["ts"]]
                note(f"{m['ts']}: {m}")
                assert m["text"] == model["text"]
                assert (m.get("subtype") == "tombstone") == model["tombstone"]
                assert m.get("reply_count", 0) == len(model["replies"])

    run_state_machine_as_test(History, settings=settings(PROFILE, max_examples=25, stateful_step_count=12))


# -- fault determinism -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def twin_pair() -> Iterator[tuple[TwinServer, TwinServer]]:
    """Two fresh twins with the same settings: their n-th tenants have the same id and tokens."""
    first = TwinServer("slack", TwinSettings(db_url="sqlite://", seed=7)).start()
    second = TwinServer("slack", TwinSettings(db_url="sqlite://", seed=7)).start()
    yield first, second
    first.stop()
    second.stop()


CALLS = {
    "auth.test": ("POST", {}),
    "users.list": ("GET", {"limit": "2"}),
    "conversations.list": ("GET", {}),
    "chat.postMessage": ("POST", {"channel": "C0DTUGENRL", "text": "hello"}),
}


def _run(twin: TwinServer, tenant: dict[str, Any], calls: list[str]) -> list[tuple[int, str | None]]:
    token = tenant["credentials"]["bot_token"]
    outcome: list[tuple[int, str | None]] = []
    with httpx.Client(base_url=twin.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        for name in calls:
            verb, args = CALLS[name]
            if verb == "GET":
                response = http.get(f"/api/{name}", params=args)
            else:
                response = http.post(f"/api/{name}", data=args)
            outcome.append((response.status_code, response.json().get("error")))
    return outcome


@settings(PROFILE, max_examples=20)
@given(
    seed=st.integers(min_value=0, max_value=2**31),
    error_p=st.sampled_from([0.2, 0.5, 0.8]),
    limit_p=st.sampled_from([0.1, 0.3]),
    calls=st.lists(st.sampled_from(sorted(CALLS)), min_size=5, max_size=20),
)
def test_same_seed_same_faults(
    twin_pair: tuple[TwinServer, TwinServer], seed: int, error_p: float, limit_p: float, calls: list[str]
) -> None:
    profile = {
        "name": "coins",
        "seed": seed,
        "rules": [
            {
                "id": "limited",
                "match": {"operation": "users.*"},
                "probability": limit_p,
                "action": {"kind": "rate_limit", "retry_after_s": 3},
            },
            {
                "id": "broken",
                "match": {"operation": "c*"},
                "probability": error_p,
                "action": {"kind": "error", "status": 503, "code": "service_unavailable"},
            },
            {"id": "flaky", "probability": error_p / 2, "action": {"kind": "error", "status": 500}},
        ],
    }
    first, second = twin_pair
    tenants = [first.create_tenant(), second.create_tenant()]
    try:
        assert tenants[0]["tenant"] == tenants[1]["tenant"]
        assert tenants[0]["credentials"] == tenants[1]["credentials"]
        outcomes = []
        for twin, tenant in zip(twin_pair, tenants, strict=True):
            twin.set_faults(profile, tenant=tenant["tenant"])
            outcomes.append(_run(twin, tenant, calls))
        note(f"statuses: {outcomes[0]}")
        assert outcomes[0] == outcomes[1]
        first.reset(tenants[0]["tenant"])  # same tenant, same credentials; the profile is dropped
        first.set_faults(profile, tenant=tenants[0]["tenant"])
        assert _run(first, tenants[0], calls) == outcomes[0]
    finally:
        for twin, tenant in zip(twin_pair, tenants, strict=True):
            twin.delete_tenant(tenant["tenant"])
