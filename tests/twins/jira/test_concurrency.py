"""Two people move the same issue out of the same status at the same moment: one wins, the
other gets Jira's 400, on every store (PostgreSQL runs the two units in parallel)."""

from __future__ import annotations

import threading

from jira import JIRA
from jira.exceptions import JIRAError

from dtu.testing.plugin import Tenant


def test_one_of_two_simultaneous_transitions_wins(jira_tenant: Tenant, jira: JIRA) -> None:
    project = jira.projects()[0].key
    for _ in range(5):
        issue = jira.create_issue(project=project, summary="contended", issuetype={"name": "Task"})
        start = jira.issue(issue.key).fields.status.name
        first_edge = jira.transitions(issue.key)[0]
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def move(
            client: JIRA,
            key: str = issue.key,
            tid: str = first_edge["id"],
            barrier: threading.Barrier = barrier,
            outcomes: list[str] = outcomes,
        ) -> None:
            barrier.wait()
            try:
                client.transition_issue(key, tid)
                outcomes.append("moved")
            except JIRAError as err:
                outcomes.append(f"refused {err.status_code}")

        clients = [
            JIRA(server=jira_tenant.url, basic_auth=(jira_tenant.email, jira_tenant.api_token))
            for _ in (0, 1)
        ]
        threads = [threading.Thread(target=move, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(outcomes) == ["moved", "refused 400"], outcomes
        changes = [
            item
            for history in jira.issue(issue.key, expand="changelog").changelog.histories
            for item in history.items
            if item.field == "status"
        ]
        assert [(c.fromString, c.toString) for c in changes] == [(start, first_edge["to"]["name"])]
