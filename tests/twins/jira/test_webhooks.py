"""Webhooks: dynamic registration (apps), admin webhooks, and what a receiver gets."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator

import pytest
from atlassian import Jira, JiraCloud
from jira import JIRA
from requests import HTTPError

from dtu.testing.plugin import Tenant
from dtu.testing.receiver import Received, Receiver


@pytest.fixture
def app(jira_tenant: Tenant) -> JiraCloud:
    """An OAuth 2.0 app: atlassian-python-api's JiraCloud with a bearer token (dynamic webhooks
    are app-only)."""
    return JiraCloud(url=jira_tenant.url, token=jira_tenant.api_token)


@pytest.fixture
def api_v3(jira_tenant: Tenant) -> JiraCloud:
    """atlassian-python-api's JiraCloud as the site admin (Basic auth)."""
    return JiraCloud(url=jira_tenant.url, username=jira_tenant.email, password=jira_tenant.api_token)


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def _event(hook: Receiver, name: str, count: int = 1) -> list[Received]:
    return hook.wait_for(lambda r: r.payload.get("webhookEvent") == name, count=count)


def _register(app: JiraCloud, url: str, *items: dict[str, object]) -> list[dict[str, object]]:
    result = app.register_dynamic_webhooks(data={"url": url, "webhooks": list(items)})
    out: list[dict[str, object]] = result["webhookRegistrationResult"]
    return out


def _admin_hook(
    cloud: Jira, url: str, events: list[str], jql: str = "", **extra: object
) -> dict[str, object]:
    body = {"name": "hook", "url": url, "events": events, "filters": {"issue-related-events-section": jql}}
    made: dict[str, object] = cloud.post("rest/webhooks/1.0/webhook", data={**body, **extra})
    return made


# -- registration -----------------------------------------------------------------------------


def test_register_list_delete(app: JiraCloud) -> None:
    results = _register(
        app,
        "https://app.example.com/hook",
        {"events": ["jira:issue_created"], "jqlFilter": "project = DEMO"},
        {"events": ["comment_created"], "jqlFilter": "project = DEMO", "fieldIdsFilter": ["summary"]},
    )
    ids = [r["createdWebhookId"] for r in results]
    assert len(ids) == 2 and all(isinstance(i, int) for i in ids)
    page = app.get_dynamic_webhooks_for_app(max_results=1)
    assert page["isLast"] is False and page["total"] == 2 and len(page["values"]) == 1
    first = page["values"][0]
    assert first["id"] == ids[0] and first["jqlFilter"] == "project = DEMO"
    assert first["events"] == ["jira:issue_created"] and first["expirationDate"].endswith("+0000")
    app.delete_webhook_by_id(data={"webhookIds": [ids[0]]})
    assert [w["id"] for w in app.get_dynamic_webhooks_for_app()["values"]] == [ids[1]]


def test_registration_errors_are_per_item(app: JiraCloud) -> None:
    results = _register(
        app,
        "https://app.example.com/hook",
        {"events": ["jira:issue_created"], "jqlFilter": "summary ~ foo"},
        {"events": ["jira:issue_created"], "jqlFilter": "project = DEMO"},
        {"events": ["jira:issue_created"], "jqlFilter": "status = Nope"},
        {"events": ["sprint_started"], "jqlFilter": "project = DEMO"},
        {"events": ["jira:issue_created"]},
    )
    assert results[0] == {"errors": ["The clause summary is unsupported"]}
    assert "createdWebhookId" in results[1]
    assert results[2] == {"errors": ["The value 'Nope' does not exist for the field 'status'."]}
    assert "errors" in results[3] and "errors" in results[4]


def test_basic_auth_user_is_not_an_app(jira_tenant: Tenant) -> None:
    user = JiraCloud(url=jira_tenant.url, username=jira_tenant.email, password=jira_tenant.api_token)
    with pytest.raises(HTTPError) as err:
        user.get_dynamic_webhooks_for_app()
    assert err.value.response.status_code == 403
    assert "Only Connect and OAuth 2.0 apps" in str(err.value)


def test_refresh_extends_by_30_days_on_the_twin_clock(app: JiraCloud, jira_tenant: Tenant) -> None:
    (made,) = _register(
        app, "https://a.example.com", {"events": ["jira:issue_created"], "jqlFilter": "project = DEMO"}
    )
    jira_tenant.twin.clock(tenant=jira_tenant.tenant, advance_s=10 * 86400)
    now = jira_tenant.twin.clock(tenant=jira_tenant.tenant)["now"]
    refreshed = app.refresh_webhooks(data={"webhookIds": [made["createdWebhookId"]]})
    from datetime import UTC, datetime

    expected = datetime.fromtimestamp(now + 30 * 86400, UTC).strftime("%Y-%m-%dT%H:%M")
    assert refreshed["expirationDate"].startswith(expected)
    assert app.get_dynamic_webhooks_for_app()["values"][0]["expirationDate"] == refreshed["expirationDate"]


def test_refresh_without_ids_is_400(app: JiraCloud) -> None:
    with pytest.raises(HTTPError) as err:
        app.refresh_webhooks(data={"webhookIds": []})
    assert err.value.response.status_code == 400


def test_expired_webhook_gets_nothing(
    app: JiraCloud, jira: JIRA, jira_tenant: Tenant, hook: Receiver
) -> None:
    _register(app, hook.url + "old", {"events": ["jira:issue_created"], "jqlFilter": "project = DEMO"})
    jira_tenant.twin.clock(tenant=jira_tenant.tenant, advance_s=31 * 86400)
    jira.create_issue(project="DEMO", summary="after expiry", issuetype={"name": "Task"})
    _register(app, hook.url + "new", {"events": ["jira:issue_created"], "jqlFilter": "project = DEMO"})
    jira.create_issue(project="DEMO", summary="second", issuetype={"name": "Task"})
    (got,) = _event(hook, "jira:issue_created")
    assert got.path == "/new" and got.payload["issue"]["key"] == "DEMO-2"
    assert [r.path for r in hook.requests] == ["/new"]


# -- deliveries -------------------------------------------------------------------------------


def test_issue_created_payload_and_jql_filter(app: JiraCloud, jira: JIRA, hook: Receiver) -> None:
    results = _register(
        app,
        hook.url,
        {"events": ["jira:issue_created"], "jqlFilter": "project = DEMO AND issuetype = Bug"},
    )
    jira.create_issue(project="DEMO", summary="a task", issuetype={"name": "Task"})
    bug = jira.create_issue(project="DEMO", summary="a bug", issuetype={"name": "Bug"}, description="*b*")
    (got,) = _event(hook, "jira:issue_created")
    body = got.payload
    assert body["issue"]["key"] == bug.key and body["issue_event_type_name"] == "issue_created"
    assert body["issue"]["fields"]["description"] == "*b*"  # v2 (wiki) representation
    assert body["user"]["emailAddress"] == "admin@example.com" and isinstance(body["timestamp"], int)
    assert body["matchedWebhookIds"] == [results[0]["createdWebhookId"]]
    assert got.headers["x-atlassian-webhook-identifier"] and "x-hub-signature" not in got.headers
    assert len(hook.requests) == 1


def test_issue_updated_carries_changelog_and_field_filter(app: JiraCloud, jira: JIRA, hook: Receiver) -> None:
    _register(
        app,
        hook.url,
        {"events": ["jira:issue_updated"], "jqlFilter": "project = DEMO", "fieldIdsFilter": ["status"]},
    )
    issue = jira.create_issue(project="DEMO", summary="s", issuetype={"name": "Task"})
    issue.update(summary="renamed")  # not a status change: filtered out
    jira.transition_issue(issue, "Start Progress")
    (got,) = _event(hook, "jira:issue_updated")
    items = got.payload["changelog"]["items"]
    assert items == [
        {
            "field": "status",
            "fieldtype": "jira",
            "fieldId": "status",
            "from": "10000",
            "fromString": "To Do",
            "to": "3",
            "toString": "In Progress",
        }
    ]
    assert got.payload["changelog"]["id"].isdigit()
    assert len(hook.requests) == 1


def test_issue_deleted(app: JiraCloud, jira: JIRA, hook: Receiver) -> None:
    _register(app, hook.url, {"events": ["jira:issue_deleted"], "jqlFilter": "project = DEMO"})
    issue = jira.create_issue(project="DEMO", summary="doomed", issuetype={"name": "Task"})
    issue.delete()
    (got,) = _event(hook, "jira:issue_deleted")
    assert got.payload["issue"]["key"] == issue.key


def test_comment_events(app: JiraCloud, jira: JIRA, hook: Receiver) -> None:
    _register(
        app,
        hook.url,
        {"events": ["comment_created", "comment_updated", "comment_deleted"], "jqlFilter": "project = DEMO"},
    )
    issue = jira.create_issue(project="DEMO", summary="talk", issuetype={"name": "Task"})
    comment = jira.add_comment(issue, "first")
    comment.update(body="second")
    comment.delete()
    (created,) = _event(hook, "comment_created")
    assert created.payload["comment"]["body"] == "first" and created.payload["issue"]["key"] == issue.key
    assert set(created.payload["issue"]["fields"]) >= {"summary", "status", "issuetype", "project"}
    assert _event(hook, "comment_updated")[0].payload["comment"]["body"] == "second"
    assert _event(hook, "comment_deleted")[0].payload["comment"]["id"] == comment.id


def test_worklog_events_reach_admin_webhooks(cloud: Jira, jira: JIRA, hook: Receiver) -> None:
    _admin_hook(cloud, hook.url, ["worklog_created", "worklog_updated", "worklog_deleted"])
    issue = jira.create_issue(project="DEMO", summary="work", issuetype={"name": "Task"})
    log = jira.add_worklog(issue, timeSpent="1h 30m", comment="did it")
    log.update(timeSpent="2h")
    log.delete()
    (created,) = _event(hook, "worklog_created")
    worklog = created.payload["worklog"]
    assert worklog["issueId"] == issue.id and worklog["timeSpentSeconds"] == 5400
    assert worklog["timeSpent"] == "1h 30m" and worklog["comment"] == "did it"
    assert _event(hook, "worklog_updated")[0].payload["worklog"]["timeSpentSeconds"] == 7200
    assert _event(hook, "worklog_deleted")[0].payload["worklog"]["id"] == log.id


def test_secret_signs_with_x_hub_signature(cloud: Jira, jira: JIRA, hook: Receiver) -> None:
    _admin_hook(cloud, hook.url, ["jira:issue_created"], secret="s3cret")
    jira.create_issue(project="DEMO", summary="signed", issuetype={"name": "Task"})
    (got,) = _event(hook, "jira:issue_created")
    expected = hmac.new(b"s3cret", got.body, hashlib.sha256).hexdigest()
    assert got.headers["x-hub-signature"] == f"sha256={expected}"


def test_failed_delivery_is_retried_with_the_same_identifier(
    cloud: Jira, jira: JIRA, jira_tenant: Tenant, hook: Receiver
) -> None:
    hook.set(status=500)
    _admin_hook(cloud, hook.url, ["jira:issue_created"])
    jira.create_issue(project="DEMO", summary="retry me", issuetype={"name": "Task"})
    (first,) = _event(hook, "jira:issue_created")
    assert "x-atlassian-webhook-retry" not in first.headers
    hook.set(status=200)
    jira_tenant.twin.clock(tenant=jira_tenant.tenant, advance_s=11)
    second = _event(hook, "jira:issue_created", count=2)[1]
    assert second.headers["x-atlassian-webhook-retry"] == "1"
    assert second.headers["x-atlassian-webhook-identifier"] == first.headers["x-atlassian-webhook-identifier"]
    deadline = time.monotonic() + 5  # the engine records the answer just after the receiver saw it
    while True:
        (delivery,) = jira_tenant.twin.deliveries(tenant=jira_tenant.tenant, kind="webhooks")
        if delivery["state"] != "pending" or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert [a["status"] for a in delivery["attempts"]] == [500, 200] and delivery["state"] == "delivered"


def test_admin_jql_filter_and_exclude_body(cloud: Jira, jira: JIRA, hook: Receiver) -> None:
    _admin_hook(cloud, hook.url + "bugs", ["jira:issue_created"], jql="issuetype = Bug")
    _admin_hook(cloud, hook.url + "bare", ["jira:issue_created"], excludeBody=True)
    jira.create_issue(project="DEMO", summary="task", issuetype={"name": "Task"})
    hook.wait_for(lambda r: r.path == "/bare")
    jira.create_issue(project="DEMO", summary="bug", issuetype={"name": "Bug"})
    (bug,) = hook.wait_for(lambda r: r.path == "/bugs")
    assert bug.payload["issue"]["fields"]["summary"] == "bug"
    bare = hook.wait_for(lambda r: r.path == "/bare", count=2)
    assert all(r.body == b"" for r in bare)


# -- admin webhooks CRUD ----------------------------------------------------------------------


def test_admin_webhook_crud(cloud: Jira) -> None:
    made = _admin_hook(cloud, "https://example.com/h", ["jira:issue_created"], jql="project = DEMO")
    assert made["self"].endswith(f"/rest/webhooks/1.0/webhook/{made['self'].rsplit('/', 1)[1]}")
    assert made["filters"] == {"issue-related-events-section": "project = DEMO"} and made["enabled"] is True
    wid = made["self"].rsplit("/", 1)[1]
    updated = cloud.put(f"rest/webhooks/1.0/webhook/{wid}", data={"name": "renamed", "enabled": False})
    assert (
        updated["name"] == "renamed"
        and updated["enabled"] is False
        and updated["url"] == "https://example.com/h"
    )
    assert [w["name"] for w in cloud.get("rest/webhooks/1.0/webhook")] == ["renamed"]
    cloud.delete(f"rest/webhooks/1.0/webhook/{wid}")
    assert cloud.get("rest/webhooks/1.0/webhook") == []
    with pytest.raises(HTTPError) as err:
        cloud.get(f"rest/webhooks/1.0/webhook/{wid}")
    assert err.value.response.status_code == 404


def test_admin_webhook_validation_and_permission(cloud: Jira, jira_tenant: Tenant) -> None:
    with pytest.raises(HTTPError) as err:
        _admin_hook(cloud, "not a url", ["jira:issue_created"], jql="status = Nope")
    errors = err.value.response.json()["errors"]
    assert errors["url"] and errors["filters"] == "The value 'Nope' does not exist for the field 'status'."
    bob = Jira(
        url=jira_tenant.url,
        username="bob@example.com",
        password=jira_tenant.api_tokens["bob@example.com"],
        cloud=True,
    )
    with pytest.raises(HTTPError) as err:
        bob.get("rest/webhooks/1.0/webhook")
    assert err.value.response.status_code == 403


# -- projects, versions, users, sprints and boards ---------------------------------------------


def test_project_events(cloud: Jira, api_v3: JiraCloud, hook: Receiver) -> None:
    names = [
        "project_created",
        "project_updated",
        "project_soft_deleted",
        "project_restored_deleted",
        "project_deleted",
    ]
    _admin_hook(cloud, hook.url, names, jql="project = DEMO")  # JQL does not apply to project events
    made = api_v3.create_project(data={"key": "HOOK", "name": "Hooked", "projectTypeKey": "software"})
    api_v3.update_project("HOOK", data={"name": "Hooked again", "description": "now described"})
    api_v3.delete_project("HOOK")  # to the trash (enableUndo defaults to true)
    with pytest.raises(HTTPError) as err:
        api_v3.get_project("HOOK")
    assert err.value.response.status_code == 404
    api_v3.post("rest/api/3/project/HOOK/restore")
    assert api_v3.get_project("HOOK")["name"] == "Hooked again"
    api_v3.delete_project("HOOK", enable_undo=False)
    created = _event(hook, "project_created")[0].payload
    assert created["project"]["key"] == "HOOK" and created["project"]["id"] == made["id"]
    assert created["project"]["projectLead"]["emailAddress"] == "admin@example.com"
    assert _event(hook, "project_updated")[0].payload["project"]["name"] == "Hooked again"
    for name in ("project_soft_deleted", "project_restored_deleted", "project_deleted"):
        assert _event(hook, name)[0].payload["project"]["key"] == "HOOK"
    with pytest.raises(HTTPError) as err:
        api_v3.post("rest/api/3/project/HOOK/restore")  # deleted for good
    assert err.value.response.status_code == 404


def test_version_events(cloud: Jira, api_v3: JiraCloud, jira: JIRA, hook: Receiver) -> None:
    names = [
        "jira:version_created",
        "jira:version_updated",
        "jira:version_released",
        "jira:version_unreleased",
        "jira:version_deleted",
    ]
    _admin_hook(cloud, hook.url, names)
    v3 = api_v3.create_version(data={"name": "3.0", "project": "DEMO"})
    api_v3.update_version(v3["id"], data={"description": "the third"})
    api_v3.update_version(v3["id"], data={"released": True, "releaseDate": "2025-03-01"})
    api_v3.update_version(v3["id"], data={"released": False})
    issue = jira.create_issue(
        project="DEMO", summary="fixed in 3", issuetype={"name": "Task"}, fixVersions=[{"id": v3["id"]}]
    )
    api_v3.delete_version(v3["id"], move_fix_issues_to="10001")
    assert [v.name for v in jira.issue(issue.key).fields.fixVersions] == ["2.0"]
    created = _event(hook, "jira:version_created")[0].payload["version"]
    assert created["name"] == "3.0" and created["projectId"] == 10000 and created["released"] is False
    assert _event(hook, "jira:version_updated")[0].payload["version"]["description"] == "the third"
    released = _event(hook, "jira:version_released")[0].payload["version"]
    assert released["released"] is True and released["releaseDate"] == "2025-03-01"
    assert _event(hook, "jira:version_unreleased")[0].payload["version"]["released"] is False
    assert _event(hook, "jira:version_deleted")[0].payload["version"]["id"] == v3["id"]
    with pytest.raises(HTTPError) as err:
        api_v3.get_version(v3["id"])
    assert err.value.response.status_code == 404


def test_user_events(cloud: Jira, api_v3: JiraCloud, hook: Receiver) -> None:
    _admin_hook(cloud, hook.url, ["user_created", "user_deleted"])
    made = api_v3.create_user(
        data={"emailAddress": "dave@example.com", "displayName": "Dave", "products": ["jira-software"]}
    )
    assert made["displayName"] == "Dave" and made["accountId"]
    with pytest.raises(HTTPError) as err:
        api_v3.create_user(data={"emailAddress": "dave@example.com", "products": []})
    assert err.value.response.status_code == 400
    api_v3.remove_user(account_id=made["accountId"])
    assert _event(hook, "user_created")[0].payload["user"]["accountId"] == made["accountId"]
    assert _event(hook, "user_deleted")[0].payload["user"]["displayName"] == "Dave"
    with pytest.raises(HTTPError) as err:
        api_v3.get_user(account_id=made["accountId"])
    assert err.value.response.status_code == 404


def test_sprint_and_board_events(cloud: Jira, jira: JIRA, hook: Receiver) -> None:
    names = [
        "sprint_created",
        "sprint_started",
        "sprint_updated",
        "sprint_closed",
        "sprint_deleted",
        "board_created",
        "board_deleted",
    ]
    _admin_hook(cloud, hook.url, names)
    sprint = jira.create_sprint("Hooked sprint", 1, goal="listen")
    jira.update_sprint(
        sprint.id,
        name="Hooked sprint",
        startDate="2025-01-06T09:00:00.000+0000",
        endDate="2025-01-20T09:00:00.000+0000",
        state="active",
    )
    jira.update_sprint(sprint.id, name="Hooked sprint", state="closed")
    doomed = jira.create_sprint("Doomed", 1)
    jira.sprint(doomed.id).delete()
    filt = jira.create_filter(name="hook board filter", jql="project = DEMO")
    board = jira.create_board(
        "Hook board", filt.id, preset="kanban", location_type="project", location_id="DEMO"
    )
    board.delete()
    created = {
        r.payload["sprint"]["name"]: r.payload["sprint"] for r in _event(hook, "sprint_created", count=2)
    }
    assert set(created) == {"Hooked sprint", "Doomed"} and created["Hooked sprint"]["goal"] == "listen"
    started = _event(hook, "sprint_started")[0].payload["sprint"]
    assert started["state"] == "active" and started["originBoardId"] == 1  # a PUT is a full update: no goal
    # deliveries travel concurrently: compare as a set, not in arrival order
    updates = {
        (r.payload["oldValue"]["state"], r.payload["sprint"]["state"])
        for r in _event(hook, "sprint_updated", count=2)
    }
    assert updates == {("future", "active"), ("active", "closed")}
    assert _event(hook, "sprint_closed")[0].payload["sprint"]["state"] == "closed"
    assert _event(hook, "sprint_deleted")[0].payload["sprint"]["id"] == doomed.id
    assert _event(hook, "board_created")[0].payload["board"] == {
        "id": board.id,
        "self": board.self,
        "name": "Hook board",
        "type": "kanban",
    }
    assert _event(hook, "board_deleted")[0].payload["board"]["id"] == board.id


# -- failed deliveries ------------------------------------------------------------------------


def test_failed_webhooks_after_every_retry(
    app: JiraCloud, jira: JIRA, jira_tenant: Tenant, hook: Receiver
) -> None:
    hook.set(status=503)
    _register(app, hook.url, {"events": ["jira:issue_created"], "jqlFilter": "project = DEMO"})
    assert app.get_failed_webhooks() == {"values": [], "maxResults": 100}
    issue = jira.create_issue(project="DEMO", summary="never lands", issuetype={"name": "Task"})
    for n, wait in enumerate([10, 20, 40, 80, 160], start=1):  # Jira's retry schedule, on the twin clock
        _event(hook, "jira:issue_created", count=n)
        jira_tenant.twin.clock(tenant=jira_tenant.tenant, advance_s=wait + 1)
    attempts = _event(hook, "jira:issue_created", count=6)
    (delivery,) = jira_tenant.twin.deliveries(tenant=jira_tenant.tenant, kind="webhooks")
    deadline = time.monotonic() + 5  # the last answer is recorded just after the receiver saw it
    while delivery["state"] != "failed" and time.monotonic() < deadline:
        time.sleep(0.01)
        (delivery,) = jira_tenant.twin.deliveries(tenant=jira_tenant.tenant, kind="webhooks")
    assert delivery["state"] == "failed"
    failed = app.get_failed_webhooks()
    (item,) = failed["values"]
    assert item["id"] == attempts[0].headers["x-atlassian-webhook-identifier"] and item["url"] == hook.url
    assert issue.key in item["body"] and failed["next"].endswith(
        f"failedAfter={item['failureTime']}&maxResults=100"
    )
    assert app.get_failed_webhooks(after=item["failureTime"])["values"] == []
    jira_tenant.twin.clock(tenant=jira_tenant.tenant, advance_s=73 * 3600)  # kept 72 hours
    assert app.get_failed_webhooks()["values"] == []
    user = JiraCloud(url=jira_tenant.url, username=jira_tenant.email, password=jira_tenant.api_token)
    with pytest.raises(HTTPError) as err:
        user.get_failed_webhooks()
    assert err.value.response.status_code == 403
