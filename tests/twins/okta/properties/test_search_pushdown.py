"""Hypothesis, over real HTTP: user `search` with the SQL pushdown answers exactly what the Python
evaluator alone answers. `not (not (E))` is never pushed down (the twin pushes no `not`), so
comparing `search=E` with `search=not (not (E))` on the same org checks every pushed condition
(status, id, dates, login, string attributes with eq/sw/co, and/or) on SQLite and PostgreSQL.
The evaluator itself is checked against an independent reference in test_query_grammar.py."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dtu.testing.plugin import Tenant

PEOPLE = [
    ("Ana", "Ábrego", "ana@example.com", "Engineering", "ACTIVE"),
    ("ana", "Smith", "ANA.S@Example.org", "engineering", "ACTIVE"),
    ("Zoë", "Kelvin", "zoe@corp.example", "Sales 50%_off", "SUSPENDED"),
    ("Bo", "B", "bo@x.io", None, "DEPROVISIONED"),
    ("Dee", "Dee", "dee_1@example.com", "Eng", "STAGED"),
]
FIELDS = [
    "status",
    "id",
    "profile.login",
    "profile.email",
    "profile.department",
    "profile.nickName",
    "profile.score",
    "profile.tags",
    "lastUpdated",
    "created",
    "profile.firstName",
]
VALUES = [
    "ana",
    "ANA",
    "a",
    "Eng",
    "engineering",
    "Sales 50%",
    "50%_",
    "%",
    "_",
    "ACTIVE",
    "active",
    "suspended",
    "example",
    ".org",
    "zoë",
    "Zo",
    "",
    "42",
    "x",
]


@pytest.fixture
def org(okta_tenant: Tenant) -> dict[str, Any]:
    """An org with users whose values test case folding, LIKE wildcards, non-ASCII, numbers,
    arrays and absent attributes; the dates of its users (for date comparisons)."""
    headers = {"Authorization": f"SSWS {okta_tenant.api_token}"}
    with httpx.Client(base_url=okta_tenant.url, headers=headers) as http:
        schema = {
            "definitions": {
                "custom": {
                    "properties": {
                        "score": {"type": "integer"},
                        "tags": {"type": "array", "items": {"type": "string"}},
                    }
                }
            }
        }
        assert http.post("/api/v1/meta/schemas/user/default", json=schema).status_code == 200
        ids = []
        for i, (first, last, login, dept, status) in enumerate(PEOPLE):
            profile: dict[str, Any] = {
                "firstName": first,
                "lastName": last,
                "email": login.lower(),
                "login": login,
                "score": 40 + i,
                "tags": ["ana", "eng"][: i % 3],
            }
            if dept is not None:
                profile["department"] = dept
            if i % 2:
                profile["nickName"] = first.upper()
            activate = "false" if status == "STAGED" else "true"
            user = http.post(
                f"/api/v1/users?activate={activate}",
                json={"profile": profile, "credentials": {"password": {"value": "Secr3t-Pass-x"}}},
            )
            assert user.status_code == 200, user.text
            uid = user.json()["id"]
            ids.append(uid)
            if status == "SUSPENDED":
                http.post(f"/api/v1/users/{uid}/lifecycle/suspend")
            if status == "DEPROVISIONED":
                http.post(f"/api/v1/users/{uid}/lifecycle/deactivate")
        dates = [u["lastUpdated"] for u in http.get("/api/v1/users", params={"search": "id pr"}).json()]
    return {"tenant": okta_tenant, "ids": ids, "dates": dates}


def leaf(dates: list[str], ids: list[str]) -> st.SearchStrategy[str]:
    def build(field: str, op: str, value: str, date: str, uid: str) -> str:
        if field in ("lastUpdated", "created"):
            op = op if op in ("eq", "gt", "ge", "lt", "le") else "eq"
            return f'{field} {op} "{date}"'
        if field == "id":
            return f'id eq "{uid.lower() if value == "a" else uid}"'
        if field == "status":
            return f'status eq "{value}"'
        if op == "co" and field not in ("profile.login", "profile.email", "profile.firstName"):
            op = "sw"
        if field == "profile.score":
            return f"profile.score {op if op in ('eq', 'gt', 'lt') else 'eq'} {len(value) + 40}"
        return f'{field} {op} "{value}"'

    return st.builds(
        build,
        st.sampled_from(FIELDS),
        st.sampled_from(["eq", "sw", "co", "gt", "ge", "lt", "le"]),
        st.sampled_from(VALUES),
        st.sampled_from(dates),
        st.sampled_from(ids),
    )


def test_pushdown_answers_what_the_evaluator_answers(org: dict[str, Any]) -> None:
    t: Tenant = org["tenant"]
    exprs = st.recursive(
        leaf(org["dates"], org["ids"]),
        lambda inner: st.tuples(st.sampled_from(["and", "or"]), inner, inner).map(
            lambda e: f"({e[1]}) {e[0]} ({e[2]})"
        ),
        max_leaves=4,
    )
    headers = {"Authorization": f"SSWS {t.api_token}"}

    with httpx.Client(base_url=t.url, headers=headers) as http:

        @settings(
            max_examples=60,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        )
        @given(exprs)
        def check(expr: str) -> None:
            pushed = http.get("/api/v1/users", params={"search": expr})
            plain = http.get("/api/v1/users", params={"search": f"not (not ({expr}))"})
            assert pushed.status_code == plain.status_code == 200, (expr, pushed.text)
            assert [u["id"] for u in pushed.json()] == [u["id"] for u in plain.json()], expr

        check()
