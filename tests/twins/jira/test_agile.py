"""Jira Software (Agile 1.0) through pycontribs `jira` and atlassian-python-api."""

from __future__ import annotations

import pytest
from atlassian import JiraSoftware
from jira import JIRA, JIRAError
from requests import HTTPError

from dtu.testing.plugin import Tenant


@pytest.fixture
def software(jira_tenant: Tenant) -> JiraSoftware:
    return JiraSoftware(url=jira_tenant.url, username=jira_tenant.email, password=jira_tenant.api_token)


def _tasks(jira: JIRA, n: int, project: str = "DEMO") -> list[str]:
    return [
        jira.create_issue(project=project, summary=f"t{i}", issuetype={"name": "Task"}).key for i in range(n)
    ]


def test_boards_list_filter_and_get(jira: JIRA) -> None:
    boards = jira.boards()
    assert [(b.id, b.name, b.type) for b in boards] == [
        (1, "DEMO board", "scrum"),
        (2, "OPS board", "kanban"),
    ]
    assert [b.id for b in jira.boards(type="kanban")] == [2]
    assert [b.id for b in jira.boards(projectKeyOrID="DEMO")] == [1]
    assert [b.id for b in jira.boards(name="ops")] == [2]
    page = jira.boards(maxResults=1)
    assert len(page) == 1 and page.total == 2


def test_board_paging_shape(software: JiraSoftware) -> None:
    page = software.get_all_boards(start_at=1, max_results=1)
    assert page["startAt"] == 1 and page["maxResults"] == 1 and page["total"] == 2
    assert page["isLast"] is True and [b["id"] for b in page["values"]] == [2]
    board = software.get_board(1)
    assert board["location"]["projectKey"] == "DEMO" and board["self"].endswith("/rest/agile/1.0/board/1")


def test_board_hidden_from_non_members(carol: JIRA) -> None:
    assert [b.id for b in carol.boards()] == [1]
    with pytest.raises(JIRAError) as err:
        carol.sprints(2)
    assert err.value.status_code == 404


def test_board_configuration(software: JiraSoftware) -> None:
    config = software.get_configuration(1)
    columns = {c["name"]: [s["id"] for s in c["statuses"]] for c in config["columnConfig"]["columns"]}
    assert columns == {"To Do": ["10000"], "In Progress": ["3"], "Done": ["10001"]}
    assert config["ranking"] == {"rankCustomFieldId": 10019} and config["location"]["key"] == "DEMO"


def test_sprint_lifecycle(jira: JIRA) -> None:
    sprint = jira.create_sprint("Sprint 2", 1, goal="ship it")
    assert sprint.state == "future" and sprint.originBoardId == 1 and sprint.goal == "ship it"
    with pytest.raises(JIRAError) as err:
        jira.update_sprint(sprint.id, state="active")  # no dates yet
    assert err.value.status_code == 400
    started = jira.update_sprint(
        sprint.id,
        name="Sprint 2",
        startDate="2025-01-06T09:00:00.000+0000",
        endDate="2025-01-20T09:00:00.000+0000",
        state="active",
    )
    assert started["state"] == "active" and started["startDate"] == "2025-01-06T09:00:00.000+0000"
    closed = jira.update_sprint(sprint.id, name="Sprint 2", state="closed")
    assert closed["state"] == "closed" and "completeDate" in closed
    with pytest.raises(JIRAError) as err:
        jira.update_sprint(sprint.id, name="again")
    assert err.value.status_code == 400
    states = [(s.name, s.state) for s in jira.sprints(1)]
    assert states == [("Sprint 2", "closed"), ("DEMO Sprint 1", "future")]
    assert [s.name for s in jira.sprints(1, state="future")] == ["DEMO Sprint 1"]


def test_sprint_on_kanban_board_is_refused(jira: JIRA) -> None:
    with pytest.raises(JIRAError) as err:
        jira.create_sprint("nope", 2)
    assert err.value.status_code == 400 and "does not support sprints" in err.value.text


def test_add_issues_to_sprint_and_backlog(jira: JIRA, software: JiraSoftware) -> None:
    keys = _tasks(jira, 3)
    jira.add_issues_to_sprint(1, keys[:2])
    in_sprint = software.get_issues_for_sprint(1)
    assert [i["key"] for i in in_sprint["issues"]] == keys[:2]
    assert in_sprint["issues"][0]["fields"]["sprint"]["id"] == 1
    assert [i.key for i in jira.search_issues("sprint = 1 ORDER BY key")] == keys[:2]
    backlog = software.get_issues_for_backlog(1)
    assert [i["key"] for i in backlog["issues"]] == keys[2:]
    jira.move_to_backlog([keys[0]])
    assert [i["key"] for i in software.get_issues_for_backlog(1)["issues"]] == [keys[0], keys[2]]
    history = jira.issue(keys[1], expand="changelog").changelog.histories
    assert any(i.field == "Sprint" and i.toString == "DEMO Sprint 1" for h in history for i in h.items)


def test_add_to_closed_or_missing_sprint(jira: JIRA) -> None:
    (key,) = _tasks(jira, 1)
    with pytest.raises(JIRAError) as err:
        jira.add_issues_to_sprint(999, [key]).raise_for_status()
    assert err.value.status_code == 404


def test_rank_before_and_after(jira: JIRA, software: JiraSoftware) -> None:
    a, b, c = _tasks(jira, 3)

    def order() -> list[str]:
        return [i["key"] for i in software.get_issues_for_board(1, jql="ORDER BY Rank ASC")["issues"]]

    assert order() == [a, b, c]
    jira.rank(c, next_issue=a)
    assert order() == [c, a, b]
    jira.rank(c, prev_issue=b)
    assert order() == [a, b, c]
    jira.rank(a, prev_issue=b)
    assert order() == [b, a, c]
    assert [i.key for i in jira.search_issues("project = DEMO ORDER BY Rank")] == [b, a, c]


def test_rank_errors(jira: JIRA, jira_tenant: Tenant) -> None:
    (a,) = _tasks(jira, 1)
    url = jira_tenant.url + "/rest/agile/1.0/issue/rank"
    with pytest.raises(JIRAError) as err:
        jira._session.put(url, json={"issues": [a]})
    assert err.value.status_code == 400 and "rankBeforeIssue" in err.value.text
    with pytest.raises(JIRAError) as err:
        jira._session.put(url, json={"issues": [a], "rankBeforeIssue": a})
    assert err.value.status_code == 400 and "relative to itself" in err.value.text


def test_epic_issues(jira: JIRA, software: JiraSoftware) -> None:
    epic = jira.create_issue(project="DEMO", summary="big thing", issuetype={"name": "Epic"})
    keys = _tasks(jira, 2)
    jira.add_issues_to_epic(epic.key, keys)
    assert [i["key"] for i in software.get_issues_for_epic(epic.key)["issues"]] == keys
    assert jira.issue(keys[0]).fields.parent.key == epic.key
    assert software.get_epic(epic.key)["name"] == "big thing"
    assert [e["key"] for e in software.get_epics(1)["values"]] == [epic.key]
    with pytest.raises(HTTPError) as err:
        software.get_issues_for_epic(keys[0])
    assert err.value.response.status_code == 400


def test_board_issues_with_jql_and_paging(jira: JIRA, software: JiraSoftware) -> None:
    keys = _tasks(jira, 3)
    jira.create_issue(project="DEMO", summary="a bug", issuetype={"name": "Bug"})
    tasks = software.get_issues_for_board(1, jql="issuetype = Task", start_at=1, max_results=1)
    assert tasks["total"] == 3 and tasks["startAt"] == 1 and [i["key"] for i in tasks["issues"]] == [keys[1]]
    with pytest.raises(HTTPError) as err:
        software.get_issues_for_board(1, jql="status = Nope")
    assert err.value.response.status_code == 400


def test_unknown_board_is_404(software: JiraSoftware) -> None:
    with pytest.raises(HTTPError) as err:
        software.get_board(99)
    assert err.value.response.status_code == 404
    assert err.value.response.json()["errorMessages"] == [
        "Board does not exist or you do not have permission to see it."
    ]


def test_board_epics_and_issues_without_epic(jira: JIRA, software: JiraSoftware) -> None:
    epic = jira.create_issue(project="DEMO", summary="Checkout", issuetype={"name": "Epic"})
    child, loose = _tasks(jira, 2)
    software.move_issues_to_epic(epic.key, data={"issues": [child]})
    other = jira.create_issue(project="OPS", summary="ops task", issuetype={"name": "Task"}).key
    on_board = software.get_board_issues_for_epic(1, epic.id)
    assert [i["key"] for i in on_board["issues"]] == [child]
    assert on_board["issues"][0]["fields"]["epic"]["key"] == epic.key
    without = software.get_issues_without_epic_for_board(1)
    assert [i["key"] for i in without["issues"]] == [loose]  # DEMO board: not the epic, not OPS
    everywhere = {i["key"] for i in software.get_issues_without_epic()["issues"]}
    assert {loose, other} <= everywhere and child not in everywhere and epic.key not in everywhere
    agile = software.get_issue(child)
    assert agile["self"].endswith(f"/rest/agile/1.0/issue/{jira.issue(child).id}")
    assert agile["fields"]["epic"]["key"] == epic.key and agile["fields"]["sprint"] is None


def test_board_projects_and_versions(software: JiraSoftware) -> None:
    assert [p["key"] for p in software.get_projects(1)["values"]] == ["DEMO"]
    versions = software.get_all_versions(1)
    assert [(v["name"], v["released"]) for v in versions["values"]] == [("1.0", True), ("2.0", False)]
    assert [v["name"] for v in software.get_all_versions(1, released="false")["values"]] == ["2.0"]
    with pytest.raises(HTTPError) as err:
        software.get_projects(999)
    assert err.value.response.status_code == 404
