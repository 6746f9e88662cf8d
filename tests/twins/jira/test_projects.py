"""Projects, fields, issue types and create-meta."""

from __future__ import annotations

import pytest
from atlassian import JiraCloud
from jira import JIRA, JIRAError
from requests import HTTPError


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


def test_pycontribs_create_project_finds_the_schemes(jira: JIRA, jira_cloud: JiraCloud) -> None:
    # pycontribs reads /permissionscheme, /issuesecurityschemes and /projectCategory first
    created = jira.create_project("PYC", "Made by pycontribs")
    assert created["key"] == "PYC"
    project = jira.project("PYC")
    assert (
        project.lead.accountId == jira.myself()["accountId"] and project.raw["assigneeType"] == "PROJECT_LEAD"
    )
    scheme = jira_cloud.get_assigned_permission_scheme("PYC")
    assert scheme["name"] == "Default Permission Scheme" and scheme["id"] == 0
    assert [s["name"] for s in jira_cloud.get_issue_security_schemes()["issueSecuritySchemes"]] == [
        "Default Issue Security Scheme"
    ]
    assert jira_cloud.get_notification_schemes()["values"][0]["id"] == 10000


def test_project_category_and_scheme_errors(jira: JIRA, jira_cloud: JiraCloud) -> None:
    category = jira_cloud.create_project_category(data={"name": "Platform", "description": "core"})
    assert jira_cloud.get_all_project_categories() == [category]
    body = {
        "key": "CAT",
        "name": "Categorised",
        "projectTypeKey": "software",
        "categoryId": int(category["id"]),
    }
    jira_cloud.create_project(data=body)
    assert jira.project("CAT").raw["projectCategory"]["name"] == "Platform"
    with pytest.raises(HTTPError) as err:
        jira_cloud.create_project(data={"key": "BAD", "name": "Bad", "permissionScheme": 777})
    assert err.value.response.status_code == 400
    assert err.value.response.json()["errors"] == {
        "permissionScheme": "The permission scheme with id 777 does not exist."
    }
    with pytest.raises(HTTPError) as err:
        jira_cloud.create_project_category(data={"name": "platform"})
    assert err.value.response.status_code == 400


def test_component_crud_and_delete_moves_issues(jira: JIRA, jira_cloud: JiraCloud) -> None:
    infra = jira.create_component("Infra", "DEMO", description="pipes")
    ops = jira.create_component("Ops", "DEMO")
    issue = jira.create_issue(
        project="DEMO", summary="c", issuetype={"name": "Task"}, components=[{"name": "Infra"}]
    )
    assert jira.component(infra.id).name == "Infra"
    infra.update(name="Infrastructure", description="pipes and wires")
    got = jira_cloud.get_component(infra.id)
    assert (got["name"], got["description"]) == ("Infrastructure", "pipes and wires")
    paged = jira_cloud.get_project_components_paginated("DEMO", order_by="-name", query="o")
    assert [c["name"] for c in paged["values"]] == ["Ops", "Frontend"]  # names with an "o"
    counted = jira_cloud.get_project_components_paginated("DEMO", query="infra")["values"]
    assert counted[0]["issueCount"] == 1
    jira_cloud.delete_component(infra.id, move_issues_to=ops.id)
    assert [c.name for c in jira.issue(issue.key).fields.components] == ["Ops"]
    items = [i for h in jira.issue(issue.key, expand="changelog").changelog.histories for i in h.items]
    assert [(i.field, i.fromString, i.toString) for i in items] == [
        ("Component", "Infrastructure", None),
        ("Component", None, "Ops"),
    ]
    with pytest.raises(JIRAError) as err:
        jira.component(infra.id)
    assert err.value.status_code == 404


def test_versions_paged_with_status_and_order(jira: JIRA, jira_cloud: JiraCloud) -> None:
    jira.create_version("3.0", "DEMO", releaseDate="2031-01-01")
    page = jira_cloud.get_project_versions_paginated("DEMO", max_results=2, order_by="-name")
    assert [v["name"] for v in page["values"]] == ["3.0", "2.0"]
    assert page["isLast"] is False and page["total"] == 3 and "startAt=2" in page["nextPage"]
    released = jira_cloud.get_project_versions_paginated("DEMO", status="released")
    assert [v["name"] for v in released["values"]] == ["1.0"]
    with pytest.raises(HTTPError) as err:
        jira_cloud.get_project_versions_paginated("DEMO", status="someday")
    assert err.value.response.status_code == 400


def test_legacy_createmeta(jira: JIRA) -> None:
    meta = jira.createmeta(projectKeys="DEMO", issuetypeNames="Bug", expand="projects.issuetypes.fields")
    [project] = meta["projects"]
    [bug] = project["issuetypes"]
    assert project["key"] == "DEMO" and bug["name"] == "Bug"
    assert bug["fields"]["summary"]["required"] is True
    assert {o["value"] for o in bug["fields"]["customfield_10030"]["allowedValues"]} >= {"Critical"}
    assert "fields" not in jira.createmeta(projectKeys="DEMO")["projects"][0]["issuetypes"][0]


def test_catalogue_items(jira_cloud: JiraCloud) -> None:
    assert jira_cloud.get_priority("2")["name"] == "High"
    assert jira_cloud.get_resolution("10001")["name"] == "Won't Do"
    assert jira_cloud.get_status_category("done")["id"] == 3
    assert jira_cloud.get_status_category("4")["key"] == "indeterminate"
    assert [r["name"] for r in jira_cloud.get_all_project_roles()] == [
        "Users",
        "Developers",
        "Administrators",
    ]
    with pytest.raises(HTTPError) as err:
        jira_cloud.get_priority("99")
    assert err.value.response.status_code == 404


def test_field_search_by_type_query_and_id(jira_cloud: JiraCloud) -> None:
    custom = jira_cloud.get_fields_paginated(type=["custom"], max_results=100)
    kinds = {f["id"]: f["schema"].get("custom", "") for f in custom["values"]}
    for fid, kind in (
        ("customfield_10016", "float"),
        ("customfield_10030", "select"),
        ("customfield_10031", "multiselect"),
        ("customfield_10032", "datepicker"),
        ("customfield_10033", "userpicker"),
        ("customfield_10034", "labels"),
    ):
        assert kinds[fid].endswith(kind), (fid, kinds[fid])
    found = jira_cloud.get_fields_paginated(query="sever")
    assert [f["id"] for f in found["values"]] == ["customfield_10030"] and found["isLast"]
    system = jira_cloud.get_fields_paginated(type=["system"], id=["summary", "customfield_10030"])
    assert [f["id"] for f in system["values"]] == ["summary"]
