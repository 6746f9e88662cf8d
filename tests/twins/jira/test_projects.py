"""Projects, fields, issue types and create-meta."""

from __future__ import annotations

import pytest
from jira import JIRA, JIRAError


def test_projects_lists_browsable_projects(jira: JIRA, carol: JIRA) -> None:
    assert sorted(p.key for p in jira.projects()) == ["DEMO", "OPS"]
    assert [p.key for p in carol.projects()] == ["DEMO"]


def test_project_not_browsable_is_404(carol: JIRA) -> None:
    with pytest.raises(JIRAError) as err:
        carol.project("OPS")
    assert err.value.status_code == 404 and "No project could be found with key 'OPS'." in err.value.text


def test_create_project_then_issue_gets_key_1(jira: JIRA) -> None:
    resp = jira._session.post(
        jira._get_url("project"), json={"key": "NEWP", "name": "New project", "projectTypeKey": "software"}
    )
    assert resp.status_code == 201 and resp.json()["key"] == "NEWP"
    issue = jira.create_issue(project="NEWP", summary="x", issuetype={"name": "Task"})
    assert issue.key == "NEWP-1"


def test_create_project_bad_key(jira: JIRA) -> None:
    with pytest.raises(JIRAError) as err:
        jira._session.post(jira._get_url("project"), json={"key": "bad key", "name": "n"})
    assert err.value.status_code == 400 and "projectKey" in err.value.response.json()["errors"]


def test_fields_include_custom_fields(jira: JIRA) -> None:
    by_id = {f["id"]: f for f in jira.fields()}
    assert by_id["customfield_10030"]["schema"]["type"] == "option"
    assert by_id["summary"]["custom"] is False


def test_createmeta_issuetypes_and_fields(jira: JIRA) -> None:
    # pycontribs refuses these endpoints on Cloud (it wants the removed `createmeta`): raw session calls
    types = jira._get_json("issue/createmeta/DEMO/issuetypes")["issueTypes"]
    task = next(t for t in types if t["name"] == "Task")
    meta = jira._get_json(f"issue/createmeta/DEMO/issuetypes/{task['id']}")
    fields = {f["fieldId"]: f for f in meta["fields"]}
    assert fields["summary"]["required"] is True
    assert {v["value"] for v in fields["customfield_10030"]["allowedValues"]} == {
        "Critical",
        "Major",
        "Minor",
    }


def test_components_and_versions(jira: JIRA) -> None:
    assert [c.name for c in jira.project_components("DEMO")] == ["Backend", "Frontend"]
    jira.create_version("3.0", "DEMO")
    assert [v.name for v in jira.project_versions("DEMO")] == ["1.0", "2.0", "3.0"]
