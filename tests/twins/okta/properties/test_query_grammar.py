"""Hypothesis: the `search` grammar against a tiny reference evaluator, over random expressions.

The reference is written independently of twins/okta/service/query.py: it evaluates a generated
expression tree directly, while the twin parses the rendered text. Both must agree on every user.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twins.okta.errors import OktaError
from twins.okta.service import query

USERS: list[dict[str, Any]] = [
    {
        "id": f"00u{i:017d}",
        "status": status,
        "profile": {
            "firstName": first,
            "lastName": last,
            "login": f"{first.lower()}@{dom}",
            "email": f"{first.lower()}@{dom}",
        },
    }
    for i, (status, first, last, dom) in enumerate(
        [
            ("ACTIVE", "Alice", "Anderson", "example.com"),
            ("STAGED", "Bob", "Brown", "example.org"),
            ("SUSPENDED", "Carol", "Chen", "corp.example"),
            ("ACTIVE", "Dana", "Anders", "example.com"),
            ("DEPROVISIONED", "Eve", "Evans", "example.net"),
            ("PROVISIONED", "al", "B", "x.io"),
        ]
    )
]
FIELDS = ["profile.firstName", "profile.lastName", "profile.login", "profile.email", "status", "id"]
VALUES = [
    "a",
    "A",
    "Al",
    "Alice",
    "b",
    "Brown",
    "example",
    "ACTIVE",
    "active",
    "STAGED",
    "x",
    "",
    "Anders",
    "00u00000000000000003",
]


def leaf() -> st.SearchStrategy[tuple[Any, ...]]:
    ops = st.sampled_from(["eq", "sw", "co", "gt", "lt", "ge", "le", "pr"])

    def build(field: str, op: str, value: str) -> tuple[Any, ...]:
        if op == "co" and field not in query.USER_SEARCH.co_fields:  # type: ignore[operator]
            op = "sw"
        return ("pr", field) if op == "pr" else ("cmp", field, op, value)

    return st.builds(build, st.sampled_from(FIELDS), ops, st.sampled_from(VALUES))


exprs = st.recursive(
    leaf(),
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(["and", "or"]), inner, inner), st.tuples(st.just("not"), inner)
    ),
    max_leaves=6,
)


def render(e: tuple[Any, ...]) -> str:
    if e[0] == "pr":
        return f"{e[1]} pr"
    if e[0] == "cmp":
        return f'{e[1]} {e[2]} "{e[3]}"'
    if e[0] == "not":
        return f"not ({render(e[1])})"
    return f"({render(e[1])}) {e[0]} ({render(e[2])})"


def get(user: dict[str, Any], path: str) -> Any:
    cur: Any = user
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    return cur


def reference(e: tuple[Any, ...], user: dict[str, Any]) -> bool:
    """Okta semantics: case-insensitive strings; `pr` = present and non-empty."""
    if e[0] == "pr":
        return get(user, e[1]) not in (None, "", [])
    if e[0] == "not":
        return not reference(e[1], user)
    if e[0] in ("and", "or"):
        a, b = reference(e[1], user), reference(e[2], user)
        return (a and b) if e[0] == "and" else (a or b)
    _, field, op, value = e
    have = get(user, field)
    if have is None:
        return op == "eq" and False
    h, v = str(have).lower(), value.lower()
    return {
        "eq": h == v,
        "sw": h.startswith(v),
        "co": v in h,
        "gt": h > v,
        "lt": h < v,
        "ge": h >= v,
        "le": h <= v,
    }[op]


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(exprs)
def test_search_matches_reference(e: tuple[Any, ...]) -> None:
    node = query.parse(render(e), query.USER_SEARCH)
    for user in USERS:
        assert query.matches(node, query.getter(user)) == reference(e, user), (
            render(e),
            user["profile"]["login"],
        )


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(alphabet='abcdefgilmnoprstuqwe ."()\\', max_size=40))
def test_garbage_is_e0000031_never_a_crash(text: str) -> None:
    try:
        node = query.parse(text, query.USER_SEARCH)
    except OktaError as err:
        assert err.code == "E0000031" and err.status == 400
        return
    for user in USERS:
        query.matches(node, query.getter(user))


def test_filter_language_is_narrower() -> None:
    for text in (
        'profile.firstName sw "A"',
        'profile.nickName eq "x"',
        "status pr",
        'not status eq "ACTIVE"',
        'status ne "ACTIVE"',
    ):
        try:
            query.parse(text, query.USER_FILTER)
        except OktaError as err:
            assert err.code == "E0000031"
        else:
            raise AssertionError(f"filter accepted {text!r}")
