"""The example app's own behaviour where two paths meet: the "I'm all set" button and an Okta
suspension both close the same onboarding ticket."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from jira import JIRA

from examples.onboarding.app import Install, Onboarding, Settings
from tests.harness.conftest import campaign, scenario


def test_click_while_suspended_closes_the_ticket_once(twin_urls: dict[str, str], app_url: str) -> None:
    """The race the harness found (replays that disagreed): both paths closing the ticket made
    it reopen or left the offboarding undone. Now every trajectory is satisfied, and replays
    do the very same writes."""
    result = campaign(twin_urls, app_url, [scenario("done-click-while-suspended")], n=4, replays=4)
    assert all(t["satisfied"] for t in result.traces), [t["cause"] for t in result.traces]
    assert result.flaky and all(f["identical"] and f["agree"] for f in result.flaky), result.flaky
    for t in result.traces:
        transitions = [e for e in t["journal"]["jira"] if e["operation"] == "doTransition"]
        assert [e["status"] for e in transitions] == [204, 204]  # To Do -> In Progress -> Done, once


def _site(jira_url: str, name: str) -> dict[str, Any]:
    r = httpx.post(jira_url + "/_dtu/tenants", json={"tenant": name})
    assert r.status_code == 201, r.text
    return dict(r.json()["credentials"])


def test_two_replicas_closing_the_same_tickets(twin_urls: dict[str, str], dtu_db_url: str | None) -> None:
    """Two app processes (no shared lock) close the same tickets at once: check-then-transition
    with Jira's refusal handled. Each ticket ends Done (never reopened), closed by one replica
    with one comment.

    On PostgreSQL the Jira twin does not yet refuse the second of two simultaneous transitions
    out of the same status (it checks the edge against the row it read, without a lock), so
    both replicas may "close" it there; the ticket still ends Done."""
    atomic = dtu_db_url is None  # SQLite serializes the twin's writes
    jira_url = twin_urls["jira"]
    creds = _site(jira_url, "race-two-replicas")
    try:
        admin = JIRA(server=jira_url, basic_auth=(creds["email"], creds["api_token"]), get_server_info=False)
        keys = [
            admin.create_issue(
                fields={
                    "project": {"key": creds["project"]},
                    "issuetype": {"name": "Task"},
                    "summary": f"Onboard person {i}",
                    "labels": ["onboarding"],
                }
            ).key
            for i in range(6)
        ]
        replicas = [Onboarding(Settings(jira_url=jira_url)) for _ in range(2)]
        inst = Install(
            id="race",
            team_id="T0RACE",
            bot_token="xoxb-x",
            signing_secret="s",
            okta_token="",
            jira_email=creds["email"],
            jira_token=creds["api_token"],
            jira_project=creds["project"],
            hook_secret="h",
        )
        installs = [Install(**{**inst.__dict__, "_jira": None, "_okta": None}) for _ in replicas]
        with ThreadPoolExecutor(max_workers=4) as pool:
            closed = list(
                pool.map(
                    lambda job: job[0].close_ticket(job[1], job[2], f"closed by replica {job[3]}"),
                    [(r, installs[n], key, n) for key in keys for n, r in enumerate(replicas)],
                )
            )
        for i, key in enumerate(keys):
            issue = admin.issue(key, fields="status,comment")
            assert issue.fields.status.name == "Done" and any(closed[2 * i : 2 * i + 2])
            if atomic:
                assert closed[2 * i] != closed[2 * i + 1], f"{key}: exactly one replica closed it"
                assert [c.body for c in issue.fields.comment.comments] in (
                    ["closed by replica 0"],
                    ["closed by replica 1"],
                )
            # a ticket already done is left alone: no transition back, no comment
            assert replicas[0].close_ticket(installs[0], key, "again") is False
        if atomic:
            comments: Any = admin.issue(
                keys[0], fields="comment"
            ).fields.comment  # pycontribs types it without `total`
            assert comments.total == 1
    finally:
        httpx.delete(jira_url + "/_dtu/tenants/race-two-replicas")


def test_a_connection_lost_while_reading_okta_is_read_again(
    twin_urls: dict[str, str], app_url: str, fragile_app_url: str
) -> None:
    """The okta SDK neither retries a request whose connection is lost nor reports it cleanly
    (it fails on the missing response); aiohttp sends a read again once by itself only when
    the lost connection was a pooled one. Two connections lost in a row: the resilient app
    reads the person a third time; without resilience, the onboarding is lost."""
    faults = {
        "version": 1,
        "name": "okta-connection-lost",
        "rules": [
            {
                "id": "lost",
                "match": {"twin": "okta", "operation": "getUser"},
                "budget": {"max_fires": 2},
                "action": {"kind": "drop"},
            }
        ],
    }
    (good,) = campaign(twin_urls, app_url, [scenario("onboarding-happy-path")], faults=faults).traces
    assert good["satisfied"], good["cause"]
    reads = [(e["fault"] or {}).get("rule") for e in good["journal"]["okta"] if e["operation"] == "getUser"]
    assert reads == ["lost", "lost", None]  # dropped twice, then read again
    (bad,) = campaign(
        twin_urls, fragile_app_url, [scenario("onboarding-happy-path", within_s=3)], faults=faults
    ).traces
    assert not bad["satisfied"] and bad["cause"].endswith("[faults: lost]"), bad["cause"]
    assert [e["operation"] for e in bad["journal"]["okta"]].count("getUser") in (1, 2)  # aiohttp's own
