"""Properties of search and workflows, checked with Hypothesis against tiny reference models,
plus bad input that must get Jira's own errors (never a 500).

Each Hypothesis example works in the same tenant but tags its issues' summaries with a word of
its own and bounds every query by that word, so examples never see each other's issues.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jira import JIRA, JIRAError

from dtu.testing.plugin import Tenant

PROPS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TYPES = ["Task", "Bug", "Story"]
PRIORITIES = ["Highest", "High", "Medium", "Low", "Lowest"]  # weight 5..1
WEIGHT = {p: 5 - i for i, p in enumerate(PRIORITIES)}
LABELS = ["red", "green", "blue"]
WORDS = ["kilo", "lima", "papa", "zulu"]
_example = itertools.count(1)


@dataclass
class Spec:
    itype: str
    priority: str
    labels: list[str]
    word: str
    points: int | None = None  # customfield_10016, "Story point estimate" (a number field)


issue_specs = st.lists(
    st.builds(
        Spec,
        st.sampled_from(TYPES),
        st.sampled_from(PRIORITIES),
        st.lists(st.sampled_from(LABELS), unique=True, max_size=2),
        st.sampled_from(WORDS),
        st.one_of(st.none(), st.integers(min_value=0, max_value=8)),
    ),
    min_size=1,
    max_size=6,
)

# -- a small JQL grammar, each clause paired with its reference meaning ------------------------

Clause = tuple[str, Any]  # (jql text, predicate over Spec)


def _in(values: list[str]) -> str:
    return "(" + ", ".join(values) + ")"


CMP = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


@st.composite
def priority_clause(draw: st.DrawFn) -> Clause:
    """`priority <op> <name>`, compared by weight (Highest is the greatest)."""
    op = draw(st.sampled_from(list(CMP)))
    val = draw(st.sampled_from(PRIORITIES))
    return f"priority {op} {val}", lambda s, v=val, c=CMP[op]: c(WEIGHT[s.priority], WEIGHT[v])


@st.composite
def clause(draw: st.DrawFn) -> Clause:
    kind = draw(st.sampled_from(["type", "priority", "labels", "text", "empty", "points"]))
    if kind == "points":
        name = draw(st.sampled_from(["cf[10016]", "customfield_10016", '"Story point estimate"']))
        op = draw(st.sampled_from([*CMP, "IS", "IS NOT"]))
        if op in ("IS", "IS NOT"):
            return f"{name} {op} EMPTY", lambda s, o=op: (s.points is None) == (o == "IS")
        n = draw(st.integers(min_value=0, max_value=8))
        # a comparison never matches an issue without a value (`!=` neither)
        return f"{name} {op} {n}", lambda s, n=n, c=CMP[op]: s.points is not None and c(s.points, n)
    if kind == "type":
        op = draw(st.sampled_from(["=", "!=", "IN", "NOT IN"]))
        if op in ("IN", "NOT IN"):
            vals = draw(st.lists(st.sampled_from(TYPES), min_size=1, max_size=2, unique=True))
            inside = op == "IN"
            return f"issuetype {op} {_in(vals)}", lambda s, v=vals, i=inside: (s.itype in v) == i
        val = draw(st.sampled_from(TYPES))
        return f"issuetype {op} {val}", lambda s, v=val, o=op: (s.itype == v) == (o == "=")
    if kind == "priority":
        return draw(priority_clause())
    if kind == "labels":
        op = draw(st.sampled_from(["=", "!=", "IN", "NOT IN"]))
        vals = draw(st.lists(st.sampled_from(LABELS), min_size=1, max_size=2, unique=True))
        # Jira: `!=` and `NOT IN` never match an issue whose field is empty.
        if op == "=":
            return f"labels = {vals[0]}", lambda s, v=vals[0]: v in s.labels
        if op == "!=":
            return f"labels != {vals[0]}", lambda s, v=vals[0]: bool(s.labels) and v not in s.labels
        if op == "IN":
            return f"labels IN {_in(vals)}", lambda s, v=vals: bool(set(v) & set(s.labels))
        return f"labels NOT IN {_in(vals)}", lambda s, v=vals: bool(s.labels) and not set(v) & set(s.labels)
    if kind == "text":
        word = draw(st.sampled_from(WORDS))
        return f"summary ~ {word}", lambda s, w=word: s.word == w
    negate = draw(st.booleans())
    return (f"labels IS {'NOT ' if negate else ''}EMPTY", lambda s, n=negate: bool(s.labels) == n)


def combine(children: st.SearchStrategy[Clause]) -> st.SearchStrategy[Clause]:
    def both(pair: tuple[Clause, Clause], op: str) -> Clause:
        (lt, lf), (rt, rf) = pair
        if op == "AND":
            return f"({lt} AND {rt})", lambda s: lf(s) and rf(s)
        return f"({lt} OR {rt})", lambda s: lf(s) or rf(s)

    return st.one_of(
        st.tuples(children, children).map(lambda p: both(p, "AND")),
        st.tuples(children, children).map(lambda p: both(p, "OR")),
        children.map(lambda c: (f"NOT ({c[0]})", lambda s, f=c[1]: not f(s))),
    )


queries = st.recursive(clause(), combine, max_leaves=4)


def _seed(jira: JIRA, specs: list[Spec]) -> tuple[str, list[str]]:
    tag = f"ex{next(_example)}"
    keys = []
    for s in specs:
        extra = {"customfield_10016": s.points} if s.points is not None else {}
        issue = jira.create_issue(
            project="DEMO",
            summary=f"{s.word} issue {tag}",
            issuetype={"name": s.itype},
            priority={"name": s.priority},
            labels=s.labels,
            **extra,
        )
        keys.append(issue.key)
    return tag, keys


def _number(key: str) -> int:
    return int(key.rsplit("-", 1)[1])


# -- properties -------------------------------------------------------------------------------


@PROPS
@given(specs=issue_specs, query=queries)
def test_random_jql_agrees_with_reference(jira: JIRA, specs: list[Spec], query: Clause) -> None:
    tag, keys = _seed(jira, specs)
    text, predicate = query
    # Reference: filter, then ORDER BY priority DESC, key ASC.
    expected = sorted(
        (k for k, s in zip(keys, specs, strict=True) if predicate(s)),
        key=lambda k: (-WEIGHT[specs[keys.index(k)].priority], _number(k)),
    )
    jql = f"summary ~ {tag} AND {text} ORDER BY priority DESC, key ASC"
    got = [i.key for i in jira.search_issues(jql, maxResults=100, fields="summary")]
    assert got == expected, jql


@PROPS
@given(specs=issue_specs, page_size=st.integers(min_value=1, max_value=4), desc=st.booleans())
def test_paged_search_returns_each_match_once_in_order(
    jira: JIRA, jira_tenant: Tenant, specs: list[Spec], page_size: int, desc: bool
) -> None:
    tag, keys = _seed(jira, specs)
    direction = "DESC" if desc else "ASC"
    jql = f"summary ~ {tag} ORDER BY priority {direction}, key ASC"
    sign = -1 if desc else 1
    expected = sorted(keys, key=lambda k: (sign * WEIGHT[specs[keys.index(k)].priority], _number(k)))
    auth = (jira_tenant.email, jira_tenant.api_token)
    # /search/jql: nextPageToken until isLast
    seen: list[str] = []
    params: dict[str, Any] = {"jql": jql, "maxResults": page_size, "fields": "summary"}
    for _ in range(20):
        page = httpx.get(f"{jira_tenant.url}/rest/api/3/search/jql", params=params, auth=auth).json()
        assert len(page["issues"]) <= page_size
        seen += [i["key"] for i in page["issues"]]
        if page["isLast"]:
            assert "nextPageToken" not in page
            break
        params["nextPageToken"] = page["nextPageToken"]
    assert seen == expected
    # /search: startAt offsets, `total` constant across pages
    offset_seen: list[str] = []
    for start in range(0, len(keys), page_size):
        page = httpx.get(
            f"{jira_tenant.url}/rest/api/2/search",
            params={"jql": jql, "startAt": start, "maxResults": page_size},
            auth=auth,
        ).json()
        assert page["total"] == len(keys) and page["startAt"] == start
        offset_seen += [i["key"] for i in page["issues"]]
    assert offset_seen == expected


# The default DEMO workflow, as a reference model: transition id -> (from statuses, to status)
WORKFLOW = {
    "21": ({"To Do"}, "In Progress"),
    "11": ({"In Progress"}, "To Do"),
    "31": ({"In Progress"}, "Done"),
    "41": ({"Done"}, "To Do"),
}


@PROPS
@given(steps=st.lists(st.sampled_from([*WORKFLOW, "99"]), min_size=1, max_size=8))
def test_transitions_only_along_workflow_edges(jira: JIRA, steps: list[str]) -> None:
    issue = jira.create_issue(project="DEMO", summary="walk", issuetype={"name": "Task"})
    status = "To Do"
    for tid in steps:
        offered = {t["id"] for t in jira.transitions(issue.key)}
        assert offered == {k for k, (src, _to) in WORKFLOW.items() if status in src}
        allowed = tid in WORKFLOW and status in WORKFLOW[tid][0]
        if allowed:
            jira.transition_issue(issue.key, tid)
            status = WORKFLOW[tid][1]
        else:
            with pytest.raises(JIRAError) as err:
                jira.transition_issue(issue.key, tid)
            assert err.value.status_code == 400
            assert f"Transition id '{tid}' is not valid for this issue." in err.value.text
        fields = jira.issue(issue.key, fields="status,resolution").fields
        assert fields.status.name == status
        assert (fields.resolution is not None) == (status == "Done")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from(list("ab =!~<>()\"',*-_ANDORNTIS0123456789")), max_size=30))
def test_arbitrary_jql_is_200_or_jira_400(jira_tenant: Tenant, text: str) -> None:
    resp = httpx.post(
        f"{jira_tenant.url}/rest/api/3/search",
        json={"jql": text, "maxResults": 1},
        auth=(jira_tenant.email, jira_tenant.api_token),
    )
    assert resp.status_code in (200, 400), (text, resp.text)
    if resp.status_code == 400:
        body = resp.json()
        assert body["errorMessages"] and body["errors"] == {}


# -- history: WAS and CHANGED against a reference model ------------------------------------------
#
# Each issue walks the DEMO workflow and changes hands (alice, bob, nobody) at random; the
# reference keeps every value each field has had and every change (from, to). WAS matches a
# value the field ever had (the current one too), WAS NOT one it never had, CHANGED any change,
# FROM/TO one change between those values; every change here is the admin's (BY currentUser()).

STEPS = [*WORKFLOW, "alice", "bob", "nobody"]
STATUSES = ["To Do", "In Progress", "Done"]


@dataclass
class Walk:
    status_values: list[str]
    status_changes: list[tuple[str, str]]
    assignee_values: list[str | None]
    assignee_changes: list[tuple[str | None, str | None]]


def _walk(jira: JIRA, key: str, steps: list[str]) -> Walk:
    walk = Walk(["To Do"], [], [None], [])
    for step in steps:
        status, assignee = walk.status_values[-1], walk.assignee_values[-1]
        if step in WORKFLOW:
            src, dst = WORKFLOW[step]
            if status in src:
                jira.transition_issue(key, step)
                walk.status_values.append(dst)
                walk.status_changes.append((status, dst))
        else:
            who = None if step == "nobody" else step
            jira.assign_issue(key, PEOPLE[who] if who else None)
            if who != assignee:
                walk.assignee_values.append(who)
                walk.assignee_changes.append((assignee, who))
    return walk


def _who(name: str | None) -> str:
    return f'"{name}@example.com"' if name else "EMPTY"


@st.composite
def history_clause(draw: st.DrawFn) -> tuple[str, Any]:
    kind = draw(
        st.sampled_from(["was", "was not", "was in", "changed", "from-to", "to", "a-was", "a-changed"])
    )
    x, y = draw(st.sampled_from(STATUSES)), draw(st.sampled_from(STATUSES))
    who = draw(st.sampled_from([None, "alice", "bob"]))
    by = draw(st.sampled_from(["", " BY currentUser()"]))
    if kind == "was":
        return f'status WAS "{x}"{by}', lambda w: x in w.status_values
    if kind == "was not":
        return f'status WAS NOT "{x}"', lambda w: x not in w.status_values
    if kind == "was in":
        return f'status WAS IN ("{x}", "{y}")', lambda w: bool({x, y} & set(w.status_values))
    if kind == "changed":
        return f"status CHANGED{by}", lambda w: bool(w.status_changes)
    if kind == "from-to":
        return f'status CHANGED FROM "{x}" TO "{y}"', lambda w: (x, y) in w.status_changes
    if kind == "to":
        return f'status CHANGED TO "{y}"', lambda w: any(t == y for _f, t in w.status_changes)
    if kind == "a-was":
        return f"assignee WAS {_who(who)}", lambda w: who in w.assignee_values
    return f"assignee CHANGED{by}", lambda w: bool(w.assignee_changes)


def combine_history(children: st.SearchStrategy[tuple[str, Any]]) -> st.SearchStrategy[tuple[str, Any]]:
    def both(pair: tuple[tuple[str, Any], tuple[str, Any]], op: str) -> tuple[str, Any]:
        (lt, lf), (rt, rf) = pair
        if op == "AND":
            return f"({lt} AND {rt})", lambda w: lf(w) and rf(w)
        return f"({lt} OR {rt})", lambda w: lf(w) or rf(w)

    return st.one_of(
        st.tuples(children, children).map(lambda p: both(p, "AND")),
        st.tuples(children, children).map(lambda p: both(p, "OR")),
        children.map(lambda c: (f"NOT ({c[0]})", lambda w, f=c[1]: not f(w))),
    )


@PROPS
@given(
    walks=st.lists(st.lists(st.sampled_from(STEPS), max_size=6), min_size=1, max_size=4),
    query=st.recursive(history_clause(), combine_history, max_leaves=3),
)
def test_history_jql_agrees_with_reference(
    jira: JIRA, walks: list[list[str]], query: tuple[str, Any]
) -> None:
    tag = f"hist{next(_example)}"
    keys, models = [], []
    for steps in walks:
        key = jira.create_issue(project="DEMO", summary=f"{tag} walk", issuetype={"name": "Task"}).key
        keys.append(key)
        models.append(_walk(jira, key, steps))
    text, predicate = query
    jql = f"summary ~ {tag} AND {text} ORDER BY key ASC"
    got = [i.key for i in jira.search_issues(jql, maxResults=100, fields="summary")]
    assert got == [k for k, m in zip(keys, models, strict=True) if predicate(m)], jql


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"customfield_10016": "five"}, "customfield_10016", "Operation value must be a number."),
        ({"labels": "not-a-list"}, "labels", "Operation value must be an array of strings."),
        ({"labels": ["has space"]}, "labels", "The label 'has space' contains spaces which is invalid."),
        ({"duedate": "31/12/2025"}, "duedate", "Error parsing date string: 31/12/2025"),
        ({"priority": {"name": "Urgent"}}, "priority", "Priority name 'Urgent' is not valid"),
        (
            {"nosuchfield": 1},
            "nosuchfield",
            "cannot be set. It is not on the appropriate screen, or unknown.",
        ),
        ({"assignee": {"accountId": "nobody"}}, "assignee", "Specified user does not exist"),
    ],
)
def test_bad_field_values_are_field_errors(
    jira: JIRA, fields: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(JIRAError) as err:
        jira.create_issue(project="DEMO", summary="bad", issuetype={"name": "Task"}, **fields)
    assert err.value.status_code == 400
    assert message in err.value.response.json()["errors"][field]


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'"text"'],
)
def test_unreadable_bodies_are_400(jira_tenant: Tenant, body: bytes) -> None:
    resp = httpx.post(
        f"{jira_tenant.url}/rest/api/2/issue",
        content=body,
        headers={"Content-Type": "application/json"},
        auth=(jira_tenant.email, jira_tenant.api_token),
    )
    assert resp.status_code == 400 and resp.json()["errorMessages"]


def test_transition_without_id_and_unknown_issue(jira: JIRA, jira_tenant: Tenant) -> None:
    key = jira.create_issue(project="DEMO", summary="t", issuetype={"name": "Task"}).key
    auth = (jira_tenant.email, jira_tenant.api_token)
    resp = httpx.post(f"{jira_tenant.url}/rest/api/2/issue/{key}/transitions", json={}, auth=auth)
    assert resp.status_code == 400 and resp.json()["errorMessages"] == ["Missing 'transition' identifier"]
    resp = httpx.post(
        f"{jira_tenant.url}/rest/api/2/issue/DEMO-999/transitions",
        json={"transition": {"id": "21"}},
        auth=auth,
    )
    assert resp.status_code == 404


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/rest/api/2/search", {"jql": "project = DEMO", "startAt": "x"}),
        ("/rest/api/2/search", {"jql": "project = DEMO", "startAt": "-1"}),
        ("/rest/api/2/search/jql", {"jql": "project = DEMO", "nextPageToken": "garbage"}),
        ("/rest/agile/1.0/board/abc", {}),
        ("/rest/agile/1.0/board", {"type": "weird"}),
        ("/rest/agile/1.0/board/1/sprint", {"state": "someday"}),
    ],
)
def test_bad_parameters_are_400(jira_tenant: Tenant, path: str, params: dict[str, str]) -> None:
    resp = httpx.get(jira_tenant.url + path, params=params, auth=(jira_tenant.email, jira_tenant.api_token))
    assert resp.status_code == 400 and resp.json()["errorMessages"]


# -- the SQL pushdown agrees with the evaluator --------------------------------------------------
#
# `labels = <tag>` (with the rest of a query over the common fields) is decided and sorted by the
# database; adding `summary ~ <tag>` (text search, the evaluator's) sends the same query through
# the Python evaluator over the database's candidates. Both must give the same issues in the
# same order, and the set must be the reference model's.

ALICE, BOB = "5f0c1e8a2b7d3c0012a0a11c", "5f0c1e8a2b7d3c0012a0b0b0"
PEOPLE = {"alice": ALICE, "bob": BOB}


@dataclass
class Wide:
    itype: str
    priority: str
    labels: list[str]
    assignee: str | None
    started: bool


wide_specs = st.lists(
    st.builds(
        Wide,
        st.sampled_from(TYPES),
        st.sampled_from(PRIORITIES),
        st.lists(st.sampled_from(LABELS), unique=True, max_size=2),
        st.sampled_from([None, "alice", "bob"]),
        st.booleans(),
    ),
    min_size=1,
    max_size=6,
)


@st.composite
def wide_clause(draw: st.DrawFn) -> Clause:
    kind = draw(st.sampled_from(["assignee", "status", "category", "type", "priority", "labels", "misc"]))
    if kind == "assignee":
        form = draw(st.sampled_from(["=", "!=", "IS", "IS NOT", "IN", "NOT IN", "me"]))
        who = draw(st.sampled_from(["alice", "bob"]))
        if form == "=":
            return f'assignee = "{who}@example.com"', lambda s, w=who: s.assignee == w
        if form == "!=":
            return f"assignee != {PEOPLE[who]}", lambda s, w=who: s.assignee is not None and s.assignee != w
        if form in ("IS", "IS NOT"):
            want = form == "IS"
            return f"assignee {form} EMPTY", lambda s, w=want: (s.assignee is None) == w
        if form == "IN":
            return f"assignee IN ({PEOPLE[who]}, EMPTY)", lambda s, w=who: s.assignee in (w, None)
        if form == "NOT IN":
            return (
                f"assignee NOT IN ({PEOPLE[who]})",
                lambda s, w=who: s.assignee is not None and s.assignee != w,
            )
        return "assignee = currentUser()", lambda s: False  # the admin is nobody's assignee here
    if kind == "status":
        started = draw(st.booleans())
        op = draw(st.sampled_from(["=", "!="]))
        name = "In Progress" if started else "To Do"
        return f'status {op} "{name}"', lambda s, v=started, o=op: (s.started == v) == (o == "=")
    if kind == "category":
        op = draw(st.sampled_from(["=", "!="]))
        return f"statusCategory {op} Done", lambda s, o=op: o == "!="
    if kind == "type":
        op = draw(st.sampled_from(["IN", "NOT IN"]))
        vals = draw(st.lists(st.sampled_from(TYPES), min_size=1, max_size=2, unique=True))
        return f"issuetype {op} {_in(vals)}", lambda s, v=vals, o=op: (s.itype in v) == (o == "IN")
    if kind == "priority":
        return draw(priority_clause())
    if kind == "labels":
        op = draw(st.sampled_from(["=", "!=", "IS EMPTY", "IS NOT EMPTY"]))
        val = draw(st.sampled_from(LABELS))
        if op == "=":
            return f"labels = {val}", lambda s, v=val: v in s.labels
        if op == "!=":  # every issue has its tag label, so none is empty here
            return f"labels != {val}", lambda s, v=val: v not in s.labels
        return f"labels {op}", lambda s, o=op: o == "IS NOT EMPTY"
    form = draw(st.sampled_from(["unresolved", "resolved", "recent", "old"]))
    return {
        "unresolved": ("resolution = Unresolved", lambda s: True),
        "resolved": ("resolution != Unresolved", lambda s: False),
        "recent": ("created >= -1d AND updated <= 1d", lambda s: True),
        "old": ("created < -1d", lambda s: False),
    }[form]


wide_queries = st.recursive(wide_clause(), combine, max_leaves=4)
ORDERS = [
    "key ASC",
    "priority DESC, key ASC",
    "assignee ASC",
    "assignee DESC, priority ASC",
    "status DESC",
    "created DESC",
    "updated ASC, priority ASC",
    "rank ASC",
    "id DESC",
    "project ASC, key DESC",
]


@PROPS
@given(specs=wide_specs, query=wide_queries, order=st.sampled_from(ORDERS))
def test_database_and_evaluator_agree(jira: JIRA, specs: list[Wide], query: Clause, order: str) -> None:
    tag = f"wide{next(_example)}"
    keys = []
    for s in specs:
        fields: dict[str, Any] = {
            "project": "DEMO",
            "summary": f"{tag} issue",
            "issuetype": {"name": s.itype},
            "priority": {"name": s.priority},
            "labels": [*s.labels, tag],
        }
        if s.assignee:
            fields["assignee"] = {"accountId": PEOPLE[s.assignee]}
        issue = jira.create_issue(**fields)
        if s.started:
            jira.transition_issue(issue, "21")
        keys.append(issue.key)
    text, predicate = query
    in_sql = f"labels = {tag} AND ({text}) ORDER BY {order}"
    in_python = f"labels = {tag} AND ({text}) AND summary ~ {tag} ORDER BY {order}"
    by_sql = [i.key for i in jira.search_issues(in_sql, maxResults=100, fields="summary")]
    by_python = [i.key for i in jira.search_issues(in_python, maxResults=100, fields="summary")]
    assert by_sql == by_python, in_sql
    assert set(by_sql) == {k for k, s in zip(keys, specs, strict=True) if predicate(s)}, in_sql
