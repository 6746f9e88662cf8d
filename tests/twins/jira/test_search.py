"""JQL search through both clients, paging, and Jira's 400s for bad JQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from atlassian import Jira
from jira import JIRA, JIRAError

from dtu.testing.plugin import Tenant


@pytest.fixture
def seeded(jira: JIRA) -> JIRA:
    jira.create_issue(
        project="DEMO",
        summary="login fails on Safari",
        issuetype={"name": "Bug"},
        labels=["web"],
        priority={"name": "High"},
    )
    jira.create_issue(project="DEMO", summary="write docs", issuetype={"name": "Task"}, labels=["docs"])
    b = jira.create_issue(project="DEMO", summary="logging cleanup", issuetype={"name": "Task"})
    jira.assign_issue(b, "bob@example.com")
    jira.create_issue(project="OPS", summary="rotate keys", issuetype={"name": "Task"})
    return jira


def keys(issues) -> list[str]:  # type: ignore[no-untyped-def]
    return [i.key for i in issues]


def test_equality_and_order(seeded: JIRA) -> None:
    assert keys(seeded.search_issues("project = DEMO ORDER BY key ASC")) == ["DEMO-1", "DEMO-2", "DEMO-3"]
    assert keys(seeded.search_issues("project = DEMO")) == ["DEMO-3", "DEMO-2", "DEMO-1"]


def test_and_or_not_parentheses(seeded: JIRA) -> None:
    got = keys(seeded.search_issues("(labels = web OR labels = docs) AND NOT issuetype = Bug"))
    assert got == ["DEMO-2"]


def test_text_search_and_empty(seeded: JIRA) -> None:
    assert keys(seeded.search_issues('summary ~ "log*" ORDER BY key')) == ["DEMO-1", "DEMO-3"]
    assert keys(seeded.search_issues("project = DEMO AND assignee IS EMPTY ORDER BY key")) == [
        "DEMO-1",
        "DEMO-2",
    ]
    assert keys(seeded.search_issues("assignee = currentUser()")) == []


def test_summary_text_search_folds_ascii_case_only(jira: JIRA) -> None:
    """The database's pre-filter for `summary ~` (a substring test, ASCII case folded) keeps
    every issue the evaluator matches: upper case, `_` and `%` in words, non-ASCII letters."""
    summaries = ["Deploy_Service NOW", "deploy service now", "ÜBER deploy", "100% DONE", "Straße fix"]
    for summary in summaries:
        jira.create_issue(project="DEMO", summary=summary, issuetype={"name": "Task"})
    cases = {
        'summary ~ "deploy_service"': ["DEMO-1"],
        "summary ~ DEPLOY": ["DEMO-2", "DEMO-3"],
        "summary ~ now": ["DEMO-1", "DEMO-2"],
        'summary ~ "über"': ["DEMO-3"],
        'summary ~ "100"': ["DEMO-4"],
        'summary ~ "done"': ["DEMO-4"],
        'summary ~ "straße"': ["DEMO-5"],
        'summary ~ "dep*"': ["DEMO-1", "DEMO-2", "DEMO-3"],
    }
    for jql, want in cases.items():
        assert keys(jira.search_issues(jql + " ORDER BY key")) == want, jql


def test_in_and_priority_order(seeded: JIRA) -> None:
    got = keys(seeded.search_issues("project IN (DEMO, OPS) ORDER BY priority DESC, key ASC"))
    assert got[0] == "DEMO-1" and set(got) == {"DEMO-1", "DEMO-2", "DEMO-3", "OPS-1"}


def test_relative_dates_and_functions(seeded: JIRA) -> None:
    assert len(seeded.search_issues("created >= -1d AND created <= now()")) == 4
    assert len(seeded.search_issues("created < startOfDay(-2)")) == 0


def test_paging_with_next_page_token(seeded: JIRA) -> None:
    first = seeded.enhanced_search_issues("project = DEMO ORDER BY key", maxResults=2)
    assert keys(first) == ["DEMO-1", "DEMO-2"] and first.nextPageToken
    rest = seeded.enhanced_search_issues(
        "project = DEMO ORDER BY key", maxResults=2, nextPageToken=first.nextPageToken
    )
    assert keys(rest) == ["DEMO-3"]


def test_old_search_has_total(cloud: Jira, seeded: JIRA) -> None:
    page = cloud.get("rest/api/3/search", params={"jql": "project = DEMO", "maxResults": 2, "startAt": 1})
    assert page["total"] == 3 and len(page["issues"]) == 2 and page["startAt"] == 1


def test_enhanced_jql_through_atlassian(cloud: Jira, seeded: JIRA) -> None:
    result = cloud.enhanced_jql("labels = docs", fields="summary")
    assert [i["fields"]["summary"] for i in result["issues"]] == ["write docs"]


def test_approximate_count(seeded: JIRA) -> None:
    assert seeded.approximate_issue_count("project = DEMO") == 3


def test_invisible_project_is_unknown_value(seeded: JIRA, carol: JIRA) -> None:
    with pytest.raises(JIRAError) as err:
        carol.search_issues("project = OPS")
    assert "The value 'OPS' does not exist for the field 'project'." in err.value.text


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        (
            "project =",
            "Error in the JQL Query: Expecting either a value, list or function before the end of the query.",
        ),
        ("nosuchfield = 1", "Field 'nosuchfield' does not exist or you do not have permission to view it."),
        ("status = Nope", "The value 'Nope' does not exist for the field 'status'."),
        ("status ~ open", "The operator '~' is not supported by the 'status' field."),
        ("created > yesterday", "Date value 'yesterday' for field 'created' is invalid."),
        ('summary ~ "open', "The quoted string 'open' has not been completed."),
        ("ORDER BY created", "Unbounded JQL queries are not allowed here."),
    ],
)
def test_bad_jql_is_400(seeded: JIRA, jql: str, message: str) -> None:
    with pytest.raises(JIRAError) as err:
        seeded.search_issues(jql)
    assert err.value.status_code == 400 and message in err.value.text


def test_was_and_changed(seeded: JIRA) -> None:
    issue = seeded.issue("DEMO-2")
    seeded.transition_issue(issue, "Start Progress")
    assert keys(seeded.search_issues('status WAS "To Do" AND status = "In Progress"')) == ["DEMO-2"]
    assert keys(seeded.search_issues('status CHANGED FROM "To Do" TO "In Progress"')) == ["DEMO-2"]


def test_offset_pages_count_every_match(seeded: JIRA, jira_tenant: Tenant) -> None:
    """`/search` pages decided by the database still count every match (a window count), also
    past the last page and for `maxResults=0`."""
    jql = "project in (DEMO, OPS) ORDER BY key DESC"
    auth = (jira_tenant.email, jira_tenant.api_token)

    def page(start: int, size: int) -> dict[str, Any]:
        params = {"jql": jql, "startAt": start, "maxResults": size, "fields": "summary"}
        out: dict[str, Any] = httpx.get(
            jira_tenant.url + "/rest/api/2/search", params=params, auth=auth
        ).json()
        return out

    first = page(0, 2)
    assert first["total"] == 4 and [i["key"] for i in first["issues"]] == ["OPS-1", "DEMO-3"]
    assert [i["key"] for i in page(2, 2)["issues"]] == ["DEMO-2", "DEMO-1"]
    beyond = page(10, 2)
    assert beyond["total"] == 4 and beyond["issues"] == []
    assert page(0, 0)["total"] == 4


def test_resolution_unresolved_is_the_empty_field(seeded: JIRA) -> None:
    assert len(seeded.search_issues("project = DEMO AND resolution = Unresolved")) == 3
    assert len(seeded.search_issues("project = DEMO AND resolution != Unresolved")) == 0


def test_parent_is_empty_and_initial_values_were_set_by_the_creator(jira: JIRA) -> None:
    parent = jira.create_issue(project="DEMO", summary="parent", issuetype={"name": "Task"})
    sub = jira.create_issue(
        project="DEMO", summary="sub", issuetype={"name": "Sub-task"}, parent={"key": parent.key}
    )
    keys = {parent.key, sub.key}
    assert {i.key for i in jira.search_issues("parent IS EMPTY")} & keys == {parent.key}
    assert {i.key for i in jira.search_issues("parent IS NOT EMPTY")} & keys == {sub.key}
    # never changed: the value it was created with was set by its creator
    assert {i.key for i in jira.search_issues('status WAS "To Do" BY currentUser()')} >= keys
    assert {i.key for i in jira.search_issues('status WAS "To Do" BY "bob@example.com"')} & keys == set()


def test_field_errors_come_before_the_unbounded_check(jira_tenant: Tenant) -> None:
    resp = httpx.get(
        jira_tenant.url + "/rest/api/3/search/jql",
        params={"jql": "order by nosuchfield"},
        auth=(jira_tenant.email, jira_tenant.api_token),
    )
    assert resp.status_code == 400
    assert resp.json()["errorMessages"] == [
        "Field 'nosuchfield' does not exist or you do not have permission to view it."
    ]
    resp = httpx.get(
        jira_tenant.url + "/rest/api/3/search/jql",
        params={"jql": "order by key"},
        auth=(jira_tenant.email, jira_tenant.api_token),
    )
    assert resp.json()["errorMessages"] == [
        "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"jql": 926},
        {"jql": ["project = DEMO"]},
        {"jql": "project = DEMO", "maxResults": "ten"},
        {"jql": "project = DEMO", "startAt": {}},
    ],
)
def test_search_bodies_of_the_wrong_json_type(jira_tenant: Tenant, body: dict[str, Any]) -> None:
    for path in ("/search", "/search/jql", "/search/approximate-count"):
        resp = httpx.post(
            jira_tenant.url + "/rest/api/3" + path, json=body, auth=(jira_tenant.email, jira_tenant.api_token)
        )
        assert resp.status_code in (200, 400), resp.text  # approximate-count ignores paging members
        if resp.status_code == 400:
            assert resp.json()["errorMessages"][0].startswith("Can not deserialize value of type")


def test_jql_parse_structure_and_errors(jira_tenant: Tenant) -> None:
    resp = httpx.post(
        jira_tenant.url + "/rest/api/3/jql/parse",
        json={
            "queries": ["project = DEMO AND labels IN (a, b) ORDER BY created DESC", "foo = 1", "summary ~"]
        },
        auth=(jira_tenant.email, jira_tenant.api_token),
    ).json()["queries"]
    where = resp[0]["structure"]["where"]
    assert where["operator"] == "and" and where["clauses"][0]["field"]["name"] == "project"
    assert where["clauses"][1]["operand"]["values"][0]["value"] == "a"
    assert resp[0]["structure"]["orderBy"]["fields"] == [
        {"field": {"name": "created", "encodedName": "created"}, "direction": "desc"}
    ]
    assert resp[1]["errors"] == ["Field 'foo' does not exist or you do not have permission to view it."]
    assert resp[2]["errors"][0].startswith("Error in the JQL Query")


def test_issue_picker_sections(jira: JIRA, jira_tenant: Tenant) -> None:
    hit = jira.create_issue(project="DEMO", summary="picker target alpha", issuetype={"name": "Task"})
    jira.create_issue(project="OPS", summary="picker target beta", issuetype={"name": "Task"})
    auth = (jira_tenant.email, jira_tenant.api_token)
    got = httpx.get(
        jira_tenant.url + "/rest/api/3/issue/picker",
        params={"query": "picker", "currentJQL": "project = DEMO"},
        auth=auth,
    ).json()
    keys = [i["key"] for s in got["sections"] for i in s["issues"]]
    assert keys == [hit.key]
    by_key = httpx.get(
        jira_tenant.url + "/rest/api/3/issue/picker", params={"query": hit.key}, auth=auth
    ).json()
    assert hit.key in [i["key"] for s in by_key["sections"] for i in s["issues"]]


def test_index_lag_fault_point_hides_fresh_writes(jira: JIRA, jira_tenant: Tenant) -> None:
    t = jira_tenant.twin
    t.clock(tenant=jira_tenant.tenant, freeze=True, at=1_800_000_000.0)
    t.set_faults(
        {
            "version": 1,
            "name": "lag",
            "rules": [
                {
                    "id": "lag",
                    "match": {"twin": "jira", "operation": "searchAndReconsileIssuesUsingJql"},
                    "action": {
                        "kind": "fault_point",
                        "point": "jira.search.index_lag",
                        "params": {"lag_s": 30},
                    },
                }
            ],
        },
        tenant=jira_tenant.tenant,
    )
    try:
        key = jira.create_issue(project="DEMO", summary="fresh", issuetype={"name": "Task"}).key
        assert jira.issue(key).key == key  # reads by key see it at once
        assert [i.key for i in jira.search_issues("project = DEMO")] == []  # the index has not
        t.clock(tenant=jira_tenant.tenant, advance_s=31)
        assert [i.key for i in jira.search_issues("project = DEMO")] == [key]
    finally:
        t.set_faults(None, tenant=jira_tenant.tenant)
        t.clock(tenant=jira_tenant.tenant, freeze=False)
