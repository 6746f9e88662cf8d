"""Workflows: statuses and their categories, the workflow API, transitions with fields."""

from __future__ import annotations

import pytest
from atlassian import JiraCloud
from jira import JIRA, JIRAError
from requests import HTTPError

from dtu.testing.plugin import Tenant


def test_statuses_carry_their_categories(jira: JIRA, jira_cloud: JiraCloud) -> None:
    by_name = {s.name: s.statusCategory.key for s in jira.statuses()}
    assert by_name == {
        "To Do": "new",
        "In Progress": "indeterminate",
        "In Review": "indeterminate",
        "Done": "done",
    }
    assert [c["key"] for c in jira_cloud.get_status_categories()] == [
        "undefined",
        "new",
        "indeterminate",
        "done",
    ]
    per_type = {t["name"]: [s["name"] for s in t["statuses"]] for t in jira_cloud.get_all_statuses("OPS")}
    assert per_type["Bug"] == ["To Do", "In Progress", "In Review", "Done"]


def test_workflow_search_shows_transitions_and_statuses(jira_cloud: JiraCloud) -> None:
    page = jira_cloud.get_workflows_paginated(expand="transitions,statuses,projects")
    assert [w["id"]["name"] for w in page["values"]] == ["DTU Simplified Workflow", "DTU Software Workflow"]
    simple = page["values"][0]
    names = {s["id"]: s["name"] for s in simple["statuses"]}
    edges = {
        (t["name"], t["type"], tuple(names[f] for f in t["from"]), names[t["to"]])
        for t in simple["transitions"]
    }
    assert edges == {
        ("Create", "initial", (), "To Do"),
        ("Start Progress", "directed", ("To Do",), "In Progress"),
        ("Stop Progress", "directed", ("In Progress",), "To Do"),
        ("Done", "directed", ("In Progress",), "Done"),
        ("Reopen", "directed", ("Done",), "To Do"),
    }
    assert [p["key"] for p in simple["projects"]] == ["DEMO"]
    software = page["values"][1]
    assert any(t["type"] == "global" and t["from"] == [] for t in software["transitions"])
    only = jira_cloud.get_workflows_paginated(workflow_name=["DTU Software Workflow"])
    assert only["total"] == 1 and "transitions" not in only["values"][0]
    assert jira_cloud.get_workflows_paginated(query_string="simpl")["total"] == 1


def test_workflow_search_is_for_admins(jira_tenant: Tenant) -> None:
    bob = JiraCloud(
        jira_tenant.url, username="bob@example.com", password=jira_tenant.api_tokens["bob@example.com"]
    )
    with pytest.raises(HTTPError) as err:
        bob.get_workflows_paginated()
    assert err.value.response.status_code == 403


def test_transition_with_fields_and_resolution(jira: JIRA, jira_cloud: JiraCloud) -> None:
    bob = jira.search_users(query="bob")[0].accountId
    key = jira.create_issue(project="OPS", summary="review me", issuetype={"name": "Task"}).key
    jira.transition_issue(key, "In Progress")
    jira.transition_issue(key, "Review")
    offered = jira_cloud.get_transitions(key, expand="transitions.fields")["transitions"]
    done = next(t for t in offered if t["to"]["name"] == "Done")
    assert done["hasScreen"] and done["fields"]["resolution"]["required"] is True
    with pytest.raises(HTTPError) as err:  # the screen requires a resolution
        jira_cloud.do_transition(key, data={"transition": {"id": done["id"]}})
    assert err.value.response.json()["errors"] == {"resolution": "Resolution is required."}
    jira_cloud.do_transition(
        key,
        data={
            "transition": {"id": done["id"]},
            "fields": {"resolution": {"name": "Duplicate"}, "assignee": {"accountId": bob}},
            "update": {
                "comment": [
                    {
                        "add": {
                            "body": {
                                "type": "doc",
                                "version": 1,
                                "content": [
                                    {"type": "paragraph", "content": [{"type": "text", "text": "dup"}]}
                                ],
                            }
                        }
                    }
                ]
            },
        },
    )
    issue = jira.issue(key, expand="changelog,transitions")
    assert (issue.fields.status.name, issue.fields.resolution.name) == ("Done", "Duplicate")
    assert issue.fields.assignee.accountId == bob and issue.fields.resolutiondate
    assert [c.body for c in jira.comments(key)] == ["dup"]
    last = issue.changelog.histories[-1]
    assert {(i.field, i.toString) for i in last.items} == {
        ("status", "Done"),
        ("resolution", "Duplicate"),
        ("assignee", "Bob Brown"),
    }
    assert [t["name"] for t in issue.raw["transitions"]] == ["To Do"]  # the global one
    # leaving a done status clears the resolution
    jira.transition_issue(key, "To Do")
    reopened = jira.issue(key)
    assert reopened.fields.resolution is None and reopened.fields.resolutiondate is None


def test_fields_off_the_transition_screen_are_refused(jira: JIRA) -> None:
    key = jira.create_issue(project="DEMO", summary="no screen", issuetype={"name": "Task"}).key
    with pytest.raises(JIRAError) as err:
        jira.transition_issue(key, "Start Progress", fields={"resolution": {"name": "Done"}})
    assert err.value.response.json()["errors"] == {
        "resolution": "Field 'resolution' cannot be set. It is not on the appropriate screen, or unknown."
    }
