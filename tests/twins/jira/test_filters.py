"""Saved filters (`/rest/api/{2,3}/filter`) and the agile boards built on them, through
pycontribs `jira` and atlassian-python-api."""

from __future__ import annotations

import httpx
import pytest
from atlassian import JiraCloud, JiraSoftware
from jira import JIRA, JIRAError
from requests import HTTPError

from dtu.testing.plugin import Tenant


@pytest.fixture
def software(jira_tenant: Tenant) -> JiraSoftware:
    return JiraSoftware(url=jira_tenant.url, username=jira_tenant.email, password=jira_tenant.api_token)


@pytest.fixture
def api(jira_tenant: Tenant) -> JiraCloud:
    return JiraCloud(url=jira_tenant.url, username=jira_tenant.email, password=jira_tenant.api_token)


@pytest.fixture
def bob(jira_tenant: Tenant) -> JIRA:
    return JIRA(
        server=jira_tenant.url, basic_auth=("bob@example.com", jira_tenant.api_tokens["bob@example.com"])
    )


def _task(jira: JIRA, summary: str, itype: str = "Task") -> str:
    key: str = jira.create_issue(project="DEMO", summary=summary, issuetype={"name": itype}).key
    return key


# -- filters ----------------------------------------------------------------------------------


def test_filter_crud_and_favourites(jira: JIRA, api: JiraCloud) -> None:
    made = jira.create_filter(name="My bugs", description="open bugs", jql="issuetype = Bug", favourite=True)
    assert made.name == "My bugs" and made.jql == "issuetype = Bug" and made.favourite is True
    assert made.owner.emailAddress == "admin@example.com" and made.favouritedCount == 1
    assert made.viewUrl.endswith(f"/issues/?filter={made.id}") and "/search?jql=" in made.searchUrl
    assert [f.name for f in jira.favourite_filters()] == ["My bugs"]
    assert jira.filter(made.id).description == "open bugs"
    changed = jira.update_filter(made.id, jql="issuetype = Bug AND project = DEMO")
    assert changed.jql == "issuetype = Bug AND project = DEMO" and changed.name == "My bugs"
    api.delete_favourite_for_filter(made.id)
    assert jira.favourite_filters() == []
    api.set_favourite_for_filter(made.id)
    assert [f.id for f in jira.favourite_filters()] == [made.id]
    mine = api.get_my_filters()
    assert [f["name"] for f in mine] == [
        "Filter for DEMO board",
        "My bugs",
    ]  # the DEMO board's is the admin's
    api.delete_filter(made.id)
    with pytest.raises(JIRAError) as err:
        jira.filter(made.id)
    assert err.value.status_code == 400 and "not available to you" in err.value.text


def test_filter_search_paging_and_expand(jira: JIRA, api: JiraCloud) -> None:
    for name in ("Zeta work", "alpha work", "Mid"):
        jira.create_filter(name=name, jql="project = DEMO")
    page = api.get_filters_paginated(filter_name="work", max_results=1)
    assert (
        page["total"] == 2
        and page["isLast"] is False
        and [f["name"] for f in page["values"]] == ["alpha work"]
    )
    assert set(page["values"][0]) == {"expand", "self", "id", "name"}
    expanded = api.get_filters_paginated(filter_name="zeta", expand="jql,owner,favourite")
    (only,) = expanded["values"]
    assert only["jql"] == "project = DEMO" and only["owner"]["emailAddress"] == "admin@example.com"
    by_id = api.get_filters_paginated(order_by="-id")
    ids = [int(f["id"]) for f in by_id["values"]]
    assert ids == sorted(ids, reverse=True)
    with pytest.raises(HTTPError) as err:
        api.get_filters_paginated(order_by="colour")
    assert err.value.response.status_code == 400


def test_filter_validation_and_visibility(jira: JIRA, bob: JIRA, jira_tenant: Tenant) -> None:
    private = jira.create_filter(name="Private", jql="project = DEMO")
    with pytest.raises(JIRAError) as err:
        jira.create_filter(name="Private", jql="project = DEMO")
    assert err.value.status_code == 400 and "Filter with same name already exists." in err.value.text
    with pytest.raises(JIRAError) as err:
        jira.create_filter(name="Broken", jql="status = Nope")
    assert (
        err.value.status_code == 400
        and "The value 'Nope' does not exist for the field 'status'." in err.value.text
    )
    with pytest.raises(JIRAError) as err:
        bob.filter(private.id)  # private to its owner
    assert err.value.status_code == 400
    shared = httpx.post(
        jira_tenant.url + "/rest/api/3/filter",
        json={
            "name": "Team",
            "jql": "project = DEMO",
            "sharePermissions": [{"type": "group", "group": {"name": "ops-team"}}],
        },
        auth=(jira_tenant.email, jira_tenant.api_token),
    ).json()
    assert shared["sharePermissions"][0]["group"]["name"] == "ops-team"
    assert bob.filter(shared["id"]).name == "Team"  # bob is in ops-team
    with pytest.raises(JIRAError) as err:
        bob.update_filter(shared["id"], name="Bob's now")
    assert err.value.status_code == 400  # only the owner edits
    bob_auth = ("bob@example.com", jira_tenant.api_tokens["bob@example.com"])
    assert (
        httpx.delete(jira_tenant.url + f"/rest/api/2/filter/{shared['id']}", auth=bob_auth).status_code == 401
    )


# -- boards -----------------------------------------------------------------------------------


def test_board_shows_its_filter(jira: JIRA, software: JiraSoftware) -> None:
    bug = _task(jira, "a bug", "Bug")
    _task(jira, "a task")
    bugs = jira.create_filter(name="DEMO bugs", jql="project = DEMO AND issuetype = Bug ORDER BY key DESC")
    board = jira.create_board(
        "Bug board", bugs.id, preset="kanban", location_type="project", location_id="DEMO"
    )
    assert board.name == "Bug board" and board.type == "kanban"
    got = software.get_board(board.id)
    assert got["location"]["projectKey"] == "DEMO"
    assert [i["key"] for i in software.get_issues_for_board(board.id)["issues"]] == [bug]
    config = software.get_configuration(board.id)
    assert config["filter"]["id"] == bugs.id and config["location"]["key"] == "DEMO"
    assert [b["id"] for b in software.get_board_by_filter_id(bugs.id)["values"]] == [board.id]
    jira.update_filter(bugs.id, jql="project = DEMO ORDER BY key ASC")  # the filter decides
    assert len(software.get_issues_for_board(board.id)["issues"]) == 2
    quick = software.get_all_quick_filters(board.id)
    assert [(q["name"], q["jql"], q["position"]) for q in quick["values"]] == [
        ("Only My Issues", "assignee = currentUser()", 0),
        ("Recently Updated", "updatedDate >= -1d", 1),
    ]
    first = quick["values"][0]
    assert software.get_quick_filter(board.id, first["id"])["name"] == "Only My Issues"
    board.delete()  # pycontribs' `delete_board(id)` builds a Board without `self`: use the resource
    with pytest.raises(HTTPError) as err:
        software.get_board(board.id)
    assert err.value.response.status_code == 404


def test_user_located_scrum_board_and_errors(
    jira: JIRA, software: JiraSoftware, bob: JIRA, jira_tenant: Tenant
) -> None:
    mine = jira.create_filter(name="Everything of mine", jql="reporter = currentUser()")
    made = software.create_board(
        data={"name": "Personal", "type": "scrum", "filterId": int(mine.id), "location": {"type": "user"}}
    )
    board = software.get_board(made["id"])
    assert board["location"]["displayName"] == "DTU Admin" and board["isPrivate"] is True
    assert made["id"] not in [b.id for b in bob.boards()]  # bob sees neither the filter nor the board
    with pytest.raises(HTTPError) as err:
        software.create_board(data={"name": "x", "type": "timeline", "filterId": int(mine.id)})
    assert err.value.response.status_code == 400 and "type" in err.value.response.json()["errors"]
    with pytest.raises(HTTPError) as err:
        software.create_board(data={"name": "x", "type": "scrum", "filterId": 99999})
    assert err.value.response.status_code == 400 and "filterId" in err.value.response.json()["errors"]
    bob_software = JiraSoftware(
        url=jira_tenant.url, username="bob@example.com", password=jira_tenant.api_tokens["bob@example.com"]
    )
    with pytest.raises(HTTPError) as err:
        bob_software.delete_board(1)  # neither admin nor the board's creator
    assert err.value.response.status_code == 403
    software.delete_board(made["id"])
    assert made["id"] not in [b["id"] for b in software.get_all_boards()["values"]]


def test_one_active_sprint_per_board(jira: JIRA) -> None:
    dates = {"startDate": "2025-01-06T09:00:00.000+0000", "endDate": "2025-01-20T09:00:00.000+0000"}
    first = jira.create_sprint("First", 1)
    second = jira.create_sprint("Second", 1)
    jira.update_sprint(first.id, name="First", state="active", **dates)
    with pytest.raises(JIRAError) as err:
        jira.update_sprint(second.id, name="Second", state="active", **dates)
    assert err.value.status_code == 400 and "already has an active sprint" in err.value.text
    jira.update_sprint(first.id, name="First", state="closed")
    assert jira.update_sprint(second.id, name="Second", state="active", **dates)["state"] == "active"
