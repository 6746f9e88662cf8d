"""Issues: create, get, edit, delete, assign, transitions, comments and changelog."""

from __future__ import annotations

import pytest
from atlassian import Jira
from jira import JIRA, JIRAError


def _task(jira: JIRA, summary: str = "a task", **fields):  # type: ignore[no-untyped-def]
    return jira.create_issue(project="DEMO", summary=summary, issuetype={"name": "Task"}, **fields)


def test_keys_are_sequential_and_ids_numeric(jira: JIRA) -> None:
    a, b = _task(jira), _task(jira)
    assert (a.key, b.key) == ("DEMO-1", "DEMO-2")
    assert a.id.isdigit() and int(b.id) == int(a.id) + 1
    assert a.fields.created.endswith("+0000")


def test_create_without_summary_is_field_error(jira: JIRA) -> None:
    with pytest.raises(JIRAError) as err:
        jira.create_issue(project="DEMO", issuetype={"name": "Task"})
    assert err.value.status_code == 400
    assert err.value.response.json()["errors"] == {"summary": "You must specify a summary of the issue."}


def test_create_with_unknown_field(jira: JIRA) -> None:
    with pytest.raises(JIRAError) as err:
        _task(jira, customfield_99999="x")
    assert "cannot be set. It is not on the appropriate screen, or unknown." in err.value.text


def test_custom_field_types_validated_and_rendered(jira: JIRA) -> None:
    with pytest.raises(JIRAError) as err:
        _task(jira, customfield_10016="five")
    assert err.value.response.json()["errors"]["customfield_10016"] == "Operation value must be a number."
    issue = _task(
        jira,
        customfield_10016=5,
        customfield_10030={"value": "Major"},
        customfield_10031=[{"value": "Web"}, {"value": "iOS"}],
        customfield_10032="2025-03-01",
    )
    assert issue.fields.customfield_10016 == 5
    assert issue.fields.customfield_10030.value == "Major"
    assert [o.value for o in issue.fields.customfield_10031] == ["Web", "iOS"]


def test_v3_description_is_adf_and_v2_is_wiki(jira: JIRA, cloud: Jira) -> None:
    issue = _task(jira, description="hello *world*")
    adf = cloud.issue(issue.key)["fields"]["description"]
    assert adf["type"] == "doc" and adf["content"][0]["content"][1]["marks"] == [{"type": "strong"}]
    cloud.update_issue_field(
        issue.key,
        {
            "description": {
                "type": "doc",
                "version": 1,
                "content": [
                    {
                        "type": "paragraph",
                        "content": [{"type": "text", "text": "via", "marks": [{"type": "em"}]}],
                    }
                ],
            }
        },
    )
    assert jira.issue(issue.key).fields.description == "_via_"


def test_v3_refuses_string_description(cloud: Jira) -> None:
    with pytest.raises(Exception) as err:
        cloud.create_issue(
            fields={
                "project": {"key": "DEMO"},
                "summary": "s",
                "issuetype": {"name": "Task"},
                "description": "plain",
            }
        )
    assert "Atlassian Document" in str(err.value)


def test_edit_update_operations_and_changelog(jira: JIRA) -> None:
    issue = _task(jira, labels=["a"])
    issue.update(update={"labels": [{"add": "b"}, {"remove": "a"}]}, fields={"summary": "renamed"})
    issue = jira.issue(issue.key, expand="changelog")
    assert issue.fields.labels == ["b"] and issue.fields.summary == "renamed"
    items = {i.field: i for h in issue.changelog.histories for i in h.items}
    assert items["summary"].fromString == "a task" and items["summary"].toString == "renamed"
    assert items["labels"].toString == "b"


def test_transitions_follow_the_workflow(jira: JIRA) -> None:
    issue = _task(jira)
    assert [t["name"] for t in jira.transitions(issue)] == ["Start Progress"]
    with pytest.raises(JIRAError) as err:
        jira.transition_issue(issue, "31")
    assert "Transition id '31' is not valid for this issue." in err.value.text
    jira.transition_issue(issue, "Start Progress")
    jira.transition_issue(issue, "Done")
    done = jira.issue(issue.key)
    assert done.fields.status.name == "Done" and done.fields.resolution.name == "Done"
    assert done.fields.resolutiondate is not None
    jira.transition_issue(issue, "Reopen")
    assert jira.issue(issue.key).fields.resolution is None


def test_software_done_requires_resolution_screen(jira: JIRA) -> None:
    issue = jira.create_issue(project="OPS", summary="ops", issuetype={"name": "Task"})
    jira.transition_issue(issue, "Won't Do", fields={"resolution": {"name": "Won't Do"}})
    assert jira.issue(issue.key).fields.resolution.name == "Won't Do"


def test_assign_and_unassign(jira: JIRA) -> None:
    issue = _task(jira)
    jira.assign_issue(issue, "alice@example.com")
    assert jira.issue(issue.key).fields.assignee.emailAddress == "alice@example.com"
    jira.assign_issue(issue, None)
    assert jira.issue(issue.key).fields.assignee is None


def test_comments_roundtrip_between_versions(jira: JIRA, cloud: Jira) -> None:
    issue = _task(jira)
    comment = jira.add_comment(issue, "see *this*")
    v3 = cloud.issue_get_comments(issue.key)["comments"][0]["body"]
    assert v3["type"] == "doc"
    comment.update(body="edited")
    assert [c.body for c in jira.comments(issue)] == ["edited"]
    comment.delete()
    assert jira.comments(issue) == []


def test_subtask_and_delete_with_subtasks(jira: JIRA) -> None:
    parent = _task(jira)
    sub = jira.create_issue(
        project="DEMO", summary="sub", issuetype={"name": "Sub-task"}, parent={"key": parent.key}
    )
    assert [s.key for s in jira.issue(parent.key).fields.subtasks] == [sub.key]
    with pytest.raises(JIRAError) as err:
        parent.delete()
    assert err.value.status_code == 400
    parent.delete(deleteSubtasks=True)
    with pytest.raises(JIRAError) as err:
        jira.issue(sub.key)
    assert err.value.status_code == 404


def test_issue_not_browsable_is_404(jira: JIRA, carol: JIRA) -> None:
    issue = jira.create_issue(project="OPS", summary="secret", issuetype={"name": "Task"})
    with pytest.raises(JIRAError) as err:
        carol.issue(issue.key)
    assert err.value.status_code == 404
    assert "Issue does not exist or you do not have permission to see it." in err.value.text
