"""Issue links, remote links, watchers, votes, attachments, worklogs, properties, project roles."""

from __future__ import annotations

import io

import httpx
import pytest
from atlassian import Jira
from jira import JIRA, JIRAError

from dtu.testing.plugin import Tenant


def _task(jira: JIRA, summary: str = "t") -> str:
    key: str = jira.create_issue(project="DEMO", summary=summary, issuetype={"name": "Task"}).key
    return key


@pytest.fixture
def bob(jira_tenant: Tenant) -> JIRA:
    return JIRA(
        server=jira_tenant.url, basic_auth=("bob@example.com", jira_tenant.api_tokens["bob@example.com"])
    )


# -- links ------------------------------------------------------------------------------------


def test_issue_links_both_ways(jira: JIRA) -> None:
    a, b = _task(jira, "a"), _task(jira, "b")
    jira.create_issue_link("Blocks", a, b, comment={"body": "linking"})
    (link_a,) = jira.issue(a).fields.issuelinks
    assert link_a.type.name == "Blocks" and link_a.outwardIssue.key == b
    (link_b,) = jira.issue(b).fields.issuelinks
    assert link_b.inwardIssue.key == a
    fetched = jira.issue_link(link_a.id)
    assert fetched.inwardIssue.key == a and fetched.outwardIssue.key == b
    assert [c.body for c in jira.comments(a)] == ["linking"]
    jira.delete_issue_link(link_a.id)
    assert jira.issue(a).fields.issuelinks == []


def test_link_by_inward_name_and_errors(jira: JIRA) -> None:
    a, b = _task(jira), _task(jira)
    jira.create_issue_link("is blocked by", a, b)  # pycontribs swaps the ends for an inward name
    assert jira.issue(b).fields.issuelinks[0].outwardIssue.key == a
    with pytest.raises(JIRAError) as err:
        jira.create_issue_link("Blocks", a, "DEMO-999")
    assert err.value.status_code == 404
    with pytest.raises(JIRAError) as err:
        jira.create_issue_link("Blocks", a, a)
    assert err.value.status_code == 400
    assert jira.issue_link_type("10000").name == "Blocks"


def test_remote_links_upsert_by_global_id(jira: JIRA) -> None:
    key = _task(jira)
    link = jira.add_remote_link(
        key, {"url": "https://ci.example.com/1", "title": "Build 1"}, globalId="build-1"
    )
    assert jira.remote_link(key, link.id).object.title == "Build 1"
    jira.add_remote_link(
        key, {"url": "https://ci.example.com/1", "title": "Build 1 (green)"}, globalId="build-1"
    )
    (only,) = jira.remote_links(key)
    assert only.object.title == "Build 1 (green)" and only.globalId == "build-1"
    with pytest.raises(JIRAError) as err:
        jira.add_remote_link(key, {"url": "https://x"})
    assert err.value.status_code == 400 and "title" in err.value.text


# -- watchers and votes -----------------------------------------------------------------------


def test_watchers(jira: JIRA, bob: JIRA, jira_tenant: Tenant) -> None:
    key = _task(jira)
    assert [w.emailAddress for w in jira.watchers(key).watchers] == ["admin@example.com"]
    bob_id = bob.myself()["accountId"]
    jira.add_watcher(key, bob_id)
    watchers = jira.watchers(key)
    assert watchers.watchCount == 2 and watchers.isWatching is True
    jira.remove_watcher(key, bob_id)
    assert jira.watchers(key).watchCount == 1
    with pytest.raises(JIRAError) as err:
        bob.remove_watcher(key, jira.myself()["accountId"])
    assert err.value.status_code == 403


def test_votes(jira: JIRA, bob: JIRA) -> None:
    key = _task(jira)
    with pytest.raises(JIRAError) as err:
        jira.add_vote(key)
    assert err.value.status_code == 404 and "reported" in err.value.text
    bob.add_vote(key)
    votes = jira.votes(key)
    assert votes.votes == 1 and votes.voters[0].emailAddress == "bob@example.com"
    assert jira.issue(key).fields.votes.votes == 1
    bob.remove_vote(key)
    assert jira.votes(key).votes == 0


# -- attachments ------------------------------------------------------------------------------


def test_attachment_upload_download_delete(jira: JIRA) -> None:
    key = _task(jira)
    att = jira.add_attachment(key, attachment=io.BytesIO(b"hello file"), filename="hello.txt")
    assert att.filename == "hello.txt" and att.size == 10
    assert att.get() == b"hello file"
    (listed,) = jira.issue(key).fields.attachment
    assert listed.id == att.id and listed.mimeType.startswith("text/plain")
    assert jira.attachment(att.id).filename == "hello.txt"
    assert jira.attachment_meta()["uploadLimit"] == 10 * 1024 * 1024
    jira.delete_attachment(att.id)
    with pytest.raises(JIRAError) as err:
        jira.attachment(att.id)
    assert err.value.status_code == 404


def test_attachment_needs_xsrf_header(jira_tenant: Tenant) -> None:
    key = (
        JIRA(server=jira_tenant.url, basic_auth=(jira_tenant.email, jira_tenant.api_token))
        .create_issue(project="DEMO", summary="x", issuetype={"name": "Task"})
        .key
    )
    url = f"{jira_tenant.url}/rest/api/2/issue/{key}/attachments"
    auth = (jira_tenant.email, jira_tenant.api_token)
    resp = httpx.post(url, auth=auth, files={"file": ("a.txt", b"x")})
    assert resp.status_code == 403 and resp.json()["errorMessages"] == ["XSRF check failed"]


def test_oversize_attachment_is_413(jira_tenant: Tenant) -> None:
    cloud = Jira(url=jira_tenant.url, username=jira_tenant.email, password=jira_tenant.api_token, cloud=True)
    key = cloud.issue_create(
        fields={"project": {"key": "DEMO"}, "summary": "big", "issuetype": {"name": "Task"}}
    )["key"]
    resp = httpx.post(
        f"{jira_tenant.url}/rest/api/3/issue/{key}/attachments",
        auth=(jira_tenant.email, jira_tenant.api_token),
        headers={"X-Atlassian-Token": "no-check"},
        files={"file": ("big.bin", b"\0" * (10 * 1024 * 1024 + 1))},
        timeout=30,
    )
    assert resp.status_code == 413
    assert resp.json()["errorMessages"] == [
        "The field file exceeds its maximum permitted size of 10485760 bytes."
    ]
    assert cloud.issue(key)["fields"]["attachment"] == []


# -- worklogs ---------------------------------------------------------------------------------


def test_worklogs(jira: JIRA, cloud: Jira) -> None:
    key = _task(jira)
    log = jira.add_worklog(key, timeSpent="1d 2h", comment="long day")
    assert log.timeSpentSeconds == 36000 and log.timeSpent == "1d 2h"
    (listed,) = jira.worklogs(key)
    assert listed.id == log.id and listed.comment == "long day"
    v3 = cloud.get(f"rest/api/3/issue/{key}/worklog")["worklogs"][0]
    assert v3["comment"]["type"] == "doc"
    assert jira.issue(key).fields.timetracking.timeSpentSeconds == 36000
    with pytest.raises(JIRAError) as err:
        jira.add_worklog(key, timeSpent="lots")
    assert err.value.status_code == 400 and "timeLogged" in err.value.response.json()["errors"]
    with pytest.raises(JIRAError) as err:
        jira.worklog(key, "99999")
    assert err.value.status_code == 404


# -- properties -------------------------------------------------------------------------------


def test_issue_properties(jira: JIRA) -> None:
    key = _task(jira)
    jira.add_issue_property(key, "build", {"status": "green", "n": 3})
    assert jira.issue_property(key, "build").value.status == "green"
    assert [p.key for p in jira.issue_properties(key)] == ["build"]
    with pytest.raises(JIRAError) as err:
        jira.issue_property(key, "nope")
    assert err.value.status_code == 404


# -- project roles ----------------------------------------------------------------------------


def test_project_roles(jira: JIRA, bob: JIRA) -> None:
    roles = jira.project_roles("DEMO")
    assert set(roles) == {"Administrators", "Developers", "Users"}
    admins = jira.project_role("DEMO", roles["Administrators"]["id"])
    assert [a.actorUser.accountId for a in admins.actors] == [jira.myself()["accountId"]]
    bob_id = bob.myself()["accountId"]
    devs = jira.project_role("DEMO", roles["Developers"]["id"])
    devs.add_user(users=[bob_id])
    names = [a.displayName for a in jira.project_role("DEMO", roles["Developers"]["id"]).actors]
    assert "Bob Brown" in names and "jira-software-users" in names
    with pytest.raises(JIRAError) as err:
        bob.project_role("DEMO", roles["Developers"]["id"]).add_user(users=[bob_id])
    assert err.value.status_code == 403


# -- link types -------------------------------------------------------------------------------


def test_link_type_crud(cloud: Jira, jira: JIRA) -> None:
    made = cloud.create_issue_link_type("Causes", "is caused by", "causes")
    assert made["name"] == "Causes" and made["self"].endswith(f"/issueLinkType/{made['id']}")
    assert "Causes" in [t.name for t in jira.issue_link_types(force=True)]
    assert jira.issue_link_type(made["id"]).outward == "causes"
    changed = cloud.update_issue_link_type(made["id"], {"outward": "leads to"})
    assert (changed["name"], changed["inward"], changed["outward"]) == ("Causes", "is caused by", "leads to")
    a, b = _task(jira, "a"), _task(jira, "b")
    jira.create_issue_link("Causes", a, b)
    assert [link.type.name for link in jira.issue(a).fields.issuelinks] == ["Causes"]
    cloud.delete_issue_link_type(made["id"])  # its links go with it
    assert jira.issue(a).fields.issuelinks == []
    with pytest.raises(JIRAError) as err:
        jira.issue_link_type(made["id"])
    assert (
        err.value.status_code == 404 and f"No issue link type with id '{made['id']}' found." in err.value.text
    )


def test_link_type_errors(jira_tenant: Tenant, bob: JIRA) -> None:
    url = jira_tenant.url + "/rest/api/3/issueLinkType"
    admin = (jira_tenant.email, jira_tenant.api_token)
    dup = httpx.post(url, json={"name": "blocks", "inward": "x", "outward": "y"}, auth=admin)
    assert dup.status_code == 400
    assert dup.json()["errorMessages"] == ["You cannot create two issue link types with the same name."]
    missing = httpx.post(url, json={"name": "Half", "inward": "x"}, auth=admin)
    assert missing.status_code == 400 and "outward" in missing.json()["errorMessages"][0]
    assert httpx.put(url + "/10000", json={"name": "Relates"}, auth=admin).status_code == 400
    assert httpx.put(url + "/99999", json={"name": "New"}, auth=admin).status_code == 404
    bob_auth = ("bob@example.com", jira_tenant.api_tokens["bob@example.com"])
    assert (
        httpx.post(url, json={"name": "Mine", "inward": "x", "outward": "y"}, auth=bob_auth).status_code
        == 404
    )
    assert httpx.delete(url + "/10000", auth=bob_auth).status_code == 404
    assert [t.name for t in bob.issue_link_types(force=True)][:2] == ["Blocks", "Cloners"]  # reading is open
