"""Issues: create, get, edit, delete, assign, transitions, comments and changelog."""

from __future__ import annotations

import httpx
import pytest
from atlassian import Jira, JiraCloud
from jira import JIRA, JIRAError
from requests import HTTPError

from dtu.testing.plugin import Tenant


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


def test_comment_restricted_to_a_project_role(jira: JIRA, carol: JIRA, jira_tenant: Tenant) -> None:
    key = jira.create_issue(project="DEMO", summary="roles", issuetype={"name": "Task"}).key
    jira.add_comment(key, "everyone")
    jira.add_comment(key, "admins only", visibility={"type": "role", "value": "Administrators"})
    assert [c.body for c in jira.comments(key)] == ["everyone", "admins only"]
    assert [c.body for c in carol.comments(key)] == ["everyone"]  # not an actor of the role
    with pytest.raises(JIRAError) as err:
        carol.add_comment(key, "mine", visibility={"type": "role", "value": "Administrators"})
    assert err.value.status_code == 400
    assert err.value.response.json()["errors"] == {
        "commentLevel": "You are currently not a member of the project role: Administrators."
    }
    # a role reached through a group: Developers holds jira-software-users, carol's group
    carol.add_comment(key, "devs", visibility={"type": "role", "value": "Developers"})
    assert [c.body for c in carol.comments(key)] == ["everyone", "devs"]


def test_rendered_html_of_wiki_and_adf(jira: JIRA, cloud: Jira) -> None:
    issue = jira.create_issue(
        project="DEMO",
        summary="render",
        issuetype={"name": "Task"},
        description="h2. Plan\n\nShip *now* and _then_ [docs|https://example.com]\n* one\n* two",
    )
    rendered = jira.issue(issue.key, expand="renderedFields").raw["renderedFields"]
    assert rendered["description"] == (
        '<h2><a name="Plan"></a>Plan</h2>\n'
        '<p>Ship <b>now</b> and <em>then</em> <a href="https://example.com" class="external-link" '
        'rel="nofollow noreferrer">docs</a></p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>'
    )
    assert rendered["created"].count("/") == 2 and rendered["created"][-2:] in ("AM", "PM")
    adf = {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "x<y", "marks": [{"type": "code"}]}]}
        ],
    }
    comment = cloud.issue_add_comment(issue.key, adf)
    got = cloud.get(
        f"rest/api/3/issue/{issue.key}/comment/{comment['id']}", params={"expand": "renderedBody"}
    )
    assert got["renderedBody"] == "<p><tt>x&lt;y</tt></p>" and got["body"] == adf
    full = jira.issue(issue.key, expand="renderedFields").raw["renderedFields"]["comment"]["comments"]
    assert full[0]["body"] == "<p><tt>x&lt;y</tt></p>"


def test_changelog_by_ids_and_bulk(jira: JIRA, jira_cloud: JiraCloud) -> None:
    a = jira.create_issue(project="DEMO", summary="one", issuetype={"name": "Task"})
    b = jira.create_issue(project="DEMO", summary="two", issuetype={"name": "Task"})
    a.update(summary="one!")
    a.update(fields={"labels": ["x"]})
    b.update(summary="two!")
    ids = [int(h["id"]) for h in jira_cloud.get_change_logs(a.key)["values"]]
    picked = jira_cloud.get_change_logs_by_ids(a.key, data={"changelogIds": ids[1:]})
    assert [h["items"][0]["field"] for h in picked["histories"]] == ["labels"]
    bulk = jira_cloud.get_bulk_changelogs(
        data={"issueIdsOrKeys": [a.key, b.key, "DEMO-999"], "fieldIds": ["summary"]}
    )
    assert [(log["issueId"], len(log["changeHistories"])) for log in bulk["issueChangeLogs"]] == [
        (a.id, 1),
        (b.id, 1),
    ]
    paged = jira_cloud.get_bulk_changelogs(data={"issueIdsOrKeys": [a.key, b.key], "maxResults": 2})
    assert sum(len(log["changeHistories"]) for log in paged["issueChangeLogs"]) == 2
    rest = jira_cloud.get_bulk_changelogs(
        data={"issueIdsOrKeys": [a.key, b.key], "maxResults": 2, "nextPageToken": paged["nextPageToken"]}
    )
    assert rest["issueChangeLogs"] == [
        {"issueId": b.id, "changeHistories": rest["issueChangeLogs"][0]["changeHistories"]}
    ]
    assert "nextPageToken" not in rest
    with pytest.raises(HTTPError) as err:
        jira_cloud.get_bulk_changelogs(data={"issueIdsOrKeys": []})
    assert err.value.response.status_code == 400


def test_all_labels(jira: JIRA, jira_cloud: JiraCloud) -> None:
    jira.create_issue(project="DEMO", summary="l", issuetype={"name": "Task"}, labels=["zeta", "alpha"])
    jira.create_issue(project="OPS", summary="l", issuetype={"name": "Task"}, labels=["alpha", "mid"])
    assert jira_cloud.get_all_labels()["values"] == ["alpha", "mid", "zeta"]
    page = jira_cloud.get_all_labels(start_at=1, max_results=1)
    assert page["values"] == ["mid"] and page["isLast"] is False and page["total"] == 3


def test_fields_and_update_of_the_wrong_json_type(jira_tenant: Tenant, jira: JIRA) -> None:
    auth = (jira_tenant.email, jira_tenant.api_token)
    api = jira_tenant.url + "/rest/api/2"
    for body in ({"fields": ["summary"]}, {"fields": {"summary": "x"}, "update": "labels"}):
        resp = httpx.post(api + "/issue", json=body, auth=auth)
        assert resp.status_code == 400 and resp.json()["errorMessages"], resp.text
    bulk = httpx.post(api + "/issue/bulk", json={"issueUpdates": [{"fields": 7}]}, auth=auth).json()
    assert bulk["issues"] == [] and bulk["errors"][0]["failedElementNumber"] == 0
    key = jira.create_issue(project="DEMO", summary="t", issuetype={"name": "Task"}).key
    resp = httpx.put(f"{api}/issue/{key}", json={"update": []}, auth=auth)
    assert resp.status_code == 400


def test_moved_issue_gets_a_new_key_and_keeps_the_old_one(jira: JIRA, jira_cloud: JiraCloud) -> None:
    issue = jira.create_issue(
        project="DEMO", summary="mover", issuetype={"name": "Task"}, components=[{"name": "Backend"}]
    )
    sub = jira.create_issue(
        project="DEMO", summary="sub", issuetype={"name": "Sub-task"}, parent={"key": issue.key}
    )
    jira.transition_issue(issue.key, "Start Progress")
    task = jira_cloud.submit_bulk_move(
        data={
            "targetToSourcesMapping": {
                "OPS,10003": {
                    "issueIdsOrKeys": [issue.key],
                    "inferStatusDefaults": True,
                    "inferFieldDefaults": True,
                }
            },
            "sendBulkNotification": False,
        }
    )
    progress = jira_cloud.get_bulk_operation_progress(task["taskId"])
    assert progress["status"] == "COMPLETE" and progress["progressPercent"] == 100
    assert (
        progress["processedAccessibleIssues"] == [int(issue.id), int(sub.id)]
        and progress["totalIssueCount"] == 2
    )
    moved = jira.issue(issue.key)  # the old key still leads to it
    assert (moved.id, moved.key, moved.fields.project.key) == (issue.id, "OPS-1", "OPS")
    assert (moved.fields.issuetype.name, moved.fields.status.name, moved.fields.components) == (
        "Bug",
        "In Progress",
        [],
    )
    assert jira.issue(sub.key).key == "OPS-2" and jira.issue("OPS-2").fields.parent.key == "OPS-1"
    assert [i.key for i in jira.search_issues(f"key = {issue.key}")] == ["OPS-1"]
    items = [
        (i.field, i.fromString, i.toString)
        for h in jira.issue("OPS-1", expand="changelog").changelog.histories
        for i in h.items
    ]
    assert ("Key", issue.key, "OPS-1") in items and ("project", "Demo Project", "Operations") in items
    # keys are never reused: DEMO goes on from where it was
    assert jira.create_issue(project="DEMO", summary="next", issuetype={"name": "Task"}).key == "DEMO-3"


def test_bulk_move_errors(jira: JIRA, jira_cloud: JiraCloud) -> None:
    ops = jira.create_issue(project="OPS", summary="in review", issuetype={"name": "Task"})
    for name in ("In Progress", "Review"):
        jira.transition_issue(ops.key, name)
    for body, message in (
        ({"targetToSourcesMapping": {}}, "targetToSourcesMapping must map at least one target"),
        (
            {"targetToSourcesMapping": {"NOPE,10001": {"issueIdsOrKeys": [ops.key]}}},
            "The target project 'NOPE'",
        ),
        ({"targetToSourcesMapping": {"DEMO,10002": {"issueIdsOrKeys": [ops.key]}}}, "is a sub-task type"),
        (
            {"targetToSourcesMapping": {"DEMO,10001": {"issueIdsOrKeys": ["DEMO-999"]}}},
            "Issue 'DEMO-999' does not",
        ),
    ):
        with pytest.raises(HTTPError) as err:
            jira_cloud.submit_bulk_move(data=body)
        assert err.value.response.status_code == 400 and message in err.value.response.text
    # "In Review" is not in DEMO's workflow: without inferStatusDefaults the task reports the issue
    task = jira_cloud.submit_bulk_move(
        data={"targetToSourcesMapping": {"DEMO,10001": {"issueIdsOrKeys": [ops.key]}}}
    )
    progress = jira_cloud.get_bulk_operation_progress(task["taskId"])
    assert progress["processedAccessibleIssues"] == [] and list(progress["failedAccessibleIssues"]) == [
        ops.id
    ]
    assert jira.issue(ops.key).key == ops.key  # nothing moved
    mapped = {"issueIdsOrKeys": [ops.key], "targetStatus": [{"statuses": {"10001": ["10002"]}}]}
    jira_cloud.submit_bulk_move(data={"targetToSourcesMapping": {"DEMO,10001": mapped}})
    moved = jira.issue(ops.key)
    assert moved.fields.project.key == "DEMO" and moved.fields.status.name == "Done"


def test_fixture_issues_loaded_in_two_batches_get_fresh_ids(jira_tenant: Tenant, jira: JIRA) -> None:
    """`POST /_dtu/seed` reserves issue ids and numbers in blocks: a second load goes on after the
    first (it once reused the first block's ids and failed with a conflict)."""
    specs = [{"project": "DEMO", "summary": f"seeded {i}", "issuetype": "Task"} for i in range(3)]
    for batch in range(2):
        created = jira_tenant.twin.control(
            "POST", "/seed", params={"tenant": jira_tenant.tenant}, json={"issues": specs}
        )["created"]["issues"]
        assert created == [f"DEMO-{3 * batch + n}" for n in (1, 2, 3)]
    assert jira.create_issue(project="DEMO", summary="after", issuetype={"name": "Task"}).key == "DEMO-7"
    ids = [int(jira.issue(f"DEMO-{n}").id) for n in range(1, 8)]
    assert ids == sorted(set(ids))
