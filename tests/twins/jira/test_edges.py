"""Edge values in every member of every write body: never a 500, always Jira's envelope.

Random generation rarely hits what breaks a store (a 5,000-character name in a VARCHAR(255),
an object where a string goes, integers past 64 bits, NUL characters PostgreSQL text cannot
hold), so each operation below gets a valid body, pointed at a scratch project, issue, board
and sprint, and then each member of it (and each issue field) replaced by each edge value in
turn. Any answer but a 5xx is fine; errors must be Jira's `{errorMessages, errors}`.
"""

from __future__ import annotations

import base64
import itertools
import json
from typing import Any

import httpx
import orjson
import pytest

from dtu.testing.plugin import Tenant

EDGE_VALUES: dict[str, Any] = {
    "long": "x" * 5000,
    "huge int": 2**70,
    "big float": 1e308,
    "negative": -1,
    "object": {"a": {"b": [1]}},
    "list": [1, "x", None, {"k": "v"}],
    "null": None,
    "true": True,
    "nul": "a\x00b",
    "empty": "",
}
ADF = {
    "type": "doc",
    "version": 1,
    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "t"}]}],
}
ISSUE_FIELDS = [
    "project",
    "issuetype",
    "summary",
    "description",
    "environment",
    "labels",
    "priority",
    "assignee",
    "reporter",
    "duedate",
    "components",
    "fixVersions",
    "versions",
    "parent",
    "customfield_10016",
    "customfield_10030",
    "customfield_10031",
    "customfield_10032",
    "customfield_10033",
    "customfield_10034",
    "customfield_10035",
]


def _basic(email: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()


class Site:
    """Scratch objects of the test, and a client that sends as the site admin."""

    def __init__(self, tenant: Tenant) -> None:
        self.url = tenant.url
        self.http = httpx.Client(
            base_url=tenant.url, headers={"Authorization": _basic(tenant.email, tenant.api_token)}
        )
        self.app = {"Authorization": f"Bearer {tenant.api_token}"}
        self.me = self.http.get("/rest/api/3/myself").json()["accountId"]
        self.http.post(
            "/rest/api/3/project",
            json={"key": "EDGE", "name": "Edge", "projectTypeKey": "software", "leadAccountId": self.me},
        ).raise_for_status()
        self.issue = self._issue("edge")
        self.other = self._issue("other")
        self.epic = self._issue("epic", "Epic")
        self.comment = self.http.post(f"/rest/api/3/issue/{self.issue}/comment", json={"body": ADF}).json()[
            "id"
        ]
        self.component = self.http.post(
            "/rest/api/3/component", json={"name": "c", "project": "EDGE"}
        ).json()["id"]
        self.version = self.http.post("/rest/api/3/version", json={"name": "v", "project": "EDGE"}).json()[
            "id"
        ]
        self.filter = self.http.post(
            "/rest/api/3/filter", json={"name": "f", "jql": "project = EDGE"}
        ).json()["id"]
        self.board = self.http.post(
            "/rest/agile/1.0/board",
            json={
                "name": "b",
                "type": "scrum",
                "filterId": int(self.filter),
                "location": {"type": "project", "projectKeyOrId": "EDGE"},
            },
        ).json()["id"]
        self.sprint = self.http.post(
            "/rest/agile/1.0/sprint", json={"name": "s", "originBoardId": self.board}
        ).json()["id"]
        self.hook = (
            self.http.post(
                "/rest/webhooks/1.0/webhook",
                json={"name": "h", "url": "http://127.0.0.1:9/h", "events": ["jira:issue_created"]},
            )
            .json()["self"]
            .rsplit("/", 1)[1]
        )

    def _issue(self, summary: str, itype: str = "Task") -> str:
        body = {"fields": {"project": {"key": "EDGE"}, "summary": summary, "issuetype": {"name": itype}}}
        key: str = self.http.post("/rest/api/3/issue", json=body).json()["key"]
        return key


def _operations(s: Site) -> list[tuple[str, str, dict[str, Any], dict[str, str]]]:
    """(method, path, valid body, extra headers) of every write operation with a JSON object body."""
    api, agile, issue = "/rest/api/3", "/rest/agile/1.0", f"/rest/api/3/issue/{s.issue}"
    new_issue = {
        "project": {"key": "EDGE"},
        "summary": "s",
        "issuetype": {"name": "Task"},
        "description": ADF,
    }
    return [
        ("POST", f"{api}/issue", {"fields": new_issue, "update": {}}, {}),
        ("PUT", issue, {"fields": {"summary": "edited"}, "update": {"labels": [{"add": "x"}]}}, {}),
        ("POST", f"{api}/issue/bulk", {"issueUpdates": [{"fields": new_issue}]}, {}),
        (
            "POST",
            f"{issue}/comment",
            {"body": ADF, "visibility": {"type": "group", "value": "site-admins"}},
            {},
        ),
        ("PUT", f"{issue}/comment/{s.comment}", {"body": ADF}, {}),
        (
            "POST",
            f"{issue}/worklog",
            {"timeSpent": "1h", "comment": ADF, "started": "2024-01-01T10:00:00.000+0000"},
            {},
        ),
        ("POST", f"{issue}/worklog", {"timeSpentSeconds": 60}, {}),
        ("POST", f"{issue}/transitions", {"transition": {"id": "21"}, "fields": {}, "update": {}}, {}),
        ("PUT", f"{issue}/assignee", {"accountId": s.me}, {}),
        (
            "POST",
            f"{issue}/remotelink",
            {
                "globalId": "g",
                "relationship": "r",
                "object": {"url": "https://e.com", "title": "t"},
                "application": {},
            },
            {},
        ),
        ("POST", f"{issue}/changelog/list", {"changelogIds": [1]}, {}),
        (
            "POST",
            f"{api}/issueLink",
            {"type": {"name": "Blocks"}, "inwardIssue": {"key": s.issue}, "outwardIssue": {"key": s.other}},
            {},
        ),
        ("POST", f"{api}/issueLinkType", {"name": "Edges", "inward": "in", "outward": "out"}, {}),
        (
            "POST",
            f"{api}/component",
            {"name": "c2", "project": "EDGE", "description": "d", "leadAccountId": s.me},
            {},
        ),
        (
            "PUT",
            f"{api}/component/{s.component}",
            {"name": "c3", "description": "d", "leadAccountId": s.me},
            {},
        ),
        (
            "POST",
            f"{api}/version",
            {
                "name": "v2",
                "project": "EDGE",
                "releaseDate": "2030-01-01",
                "released": False,
                "description": "d",
            },
            {},
        ),
        (
            "PUT",
            f"{api}/version/{s.version}",
            {"name": "v3", "released": True, "startDate": "2029-01-01"},
            {},
        ),
        (
            "POST",
            f"{api}/project",
            {
                "key": "EDGF",
                "name": "Edge F",
                "projectTypeKey": "software",
                "leadAccountId": s.me,
                "description": "d",
                "assigneeType": "UNASSIGNED",
                "permissionScheme": 0,
            },
            {},
        ),
        (
            "PUT",
            f"{api}/project/EDGE",
            {"name": "Edge!", "description": "d", "assigneeType": "PROJECT_LEAD"},
            {},
        ),
        ("POST", f"{api}/projectCategory", {"name": "cat", "description": "d"}, {}),
        (
            "POST",
            f"{api}/field",
            {
                "name": "f",
                "type": "com.atlassian.jira.plugin.system.customfieldtypes:float",
                "description": "d",
            },
            {},
        ),
        ("POST", f"{api}/group", {"name": "edge-group"}, {}),
        ("POST", f"{api}/group/user?groupname=ops-team", {"accountId": s.me}, {}),
        ("POST", f"{api}/user", {"emailAddress": "edge@example.com", "displayName": "E", "products": []}, {}),
        (
            "POST",
            f"{api}/filter",
            {"name": "f2", "jql": "project = EDGE", "description": "d", "favourite": True},
            {},
        ),
        ("PUT", f"{api}/filter/{s.filter}", {"name": "f3", "jql": "project = EDGE"}, {}),
        (
            "POST",
            f"{api}/search",
            {"jql": "project = EDGE", "startAt": 0, "maxResults": 5, "fields": ["summary"]},
            {},
        ),
        ("POST", f"{api}/search/jql", {"jql": "project = EDGE", "maxResults": 5, "fields": ["summary"]}, {}),
        ("POST", f"{api}/search/approximate-count", {"jql": "project = EDGE"}, {}),
        ("POST", f"{api}/jql/parse", {"queries": ["project = EDGE"]}, {}),
        (
            "POST",
            f"{api}/changelog/bulkfetch",
            {"issueIdsOrKeys": [s.issue], "fieldIds": [], "maxResults": 5},
            {},
        ),
        (
            "POST",
            f"{api}/bulk/issues/move",
            {
                "targetToSourcesMapping": {
                    "EDGE,10003": {"issueIdsOrKeys": [s.other], "inferStatusDefaults": True}
                }
            },
            {},
        ),
        (
            "POST",
            "/rest/webhooks/1.0/webhook",
            {"name": "h2", "url": "http://127.0.0.1:9/h", "events": ["jira:issue_created"], "secret": "s"},
            {},
        ),
        (
            "PUT",
            f"/rest/webhooks/1.0/webhook/{s.hook}",
            {"name": "h3", "excludeBody": True, "enabled": False},
            {},
        ),
        (
            "POST",
            f"{api}/webhook",
            {
                "url": "http://127.0.0.1:9/d",
                "webhooks": [{"events": ["jira:issue_created"], "jqlFilter": "project = EDGE"}],
            },
            s.app,
        ),
        ("PUT", f"{api}/webhook/refresh", {"webhookIds": [1]}, s.app),
        ("DELETE", f"{api}/webhook", {"webhookIds": [999]}, s.app),
        (
            "POST",
            f"{agile}/board",
            {
                "name": "b2",
                "type": "kanban",
                "filterId": int(s.filter),
                "location": {"type": "project", "projectKeyOrId": "EDGE"},
            },
            {},
        ),
        ("POST", f"{agile}/sprint", {"name": "s2", "originBoardId": s.board, "goal": "g"}, {}),
        ("POST", f"{agile}/sprint/{s.sprint}", {"name": "s3", "goal": "g2"}, {}),
        ("PUT", f"{agile}/sprint/{s.sprint}", {"name": "s4", "state": "future"}, {}),
        ("POST", f"{agile}/sprint/{s.sprint}/issue", {"issues": [s.issue], "rankBeforeIssue": s.other}, {}),
        ("POST", f"{agile}/backlog/issue", {"issues": [s.issue]}, {}),
        ("POST", f"{agile}/epic/{s.epic}/issue", {"issues": [s.other]}, {}),
        ("PUT", f"{agile}/issue/rank", {"issues": [s.other], "rankAfterIssue": s.issue}, {}),
    ]


_serial = itertools.count(1)


def _fresh(body: Any, varied: str) -> Any:
    """The body with its unique members (names, project keys, emails) made unique again, so
    that each variant gets past "already exists" to the member it varies."""
    if not isinstance(body, dict):
        return body
    n = next(_serial)
    out = dict(body)
    for member in ("name", "globalId"):
        if member != varied and isinstance(out.get(member), str):
            out[member] = f"{out[member]}-{n}"
    if varied != "key" and isinstance(out.get("key"), str):
        letters = ""
        while n:
            n, r = divmod(n, 26)
            letters += chr(65 + r)
        out["key"] = "E" + letters[:9]
    if varied != "emailAddress" and isinstance(out.get("emailAddress"), str):
        out["emailAddress"] = f"edge{n}@example.com"
    return out


def _variants(body: dict[str, Any]) -> list[tuple[str, Any]]:
    """(member path, body) with one member, or one issue field, replaced by each edge value."""
    out: list[tuple[str, Any]] = []
    for member in body:
        for label, value in EDGE_VALUES.items():
            out.append((f"{member}={label}", _fresh({**body, member: value}, member)))
    if isinstance(body.get("fields"), dict) and "summary" in body["fields"]:  # an issue's fields
        for field in ISSUE_FIELDS:
            for label, value in EDGE_VALUES.items():
                out.append((f"fields.{field}={label}", {**body, "fields": {**body["fields"], field: value}}))
        if "update" in body:
            for field in [*ISSUE_FIELDS, "comment"]:
                for verb in ("set", "add", "remove", "edit"):
                    for label, value in EDGE_VALUES.items():
                        others = {k: v for k, v in body["fields"].items() if k != field}
                        variant = {"fields": others, "update": {field: [{verb: value}]}}
                        out.append((f"update.{field}.{verb}={label}", variant))
    for label, value in EDGE_VALUES.items():
        out.append((f"body={label}", value))
    return out


def _check(resp: httpx.Response) -> str | None:
    if resp.status_code >= 500:
        return f"HTTP {resp.status_code}: {resp.text[:200]}"
    if resp.status_code >= 400:
        try:
            body = orjson.loads(resp.content)
        except orjson.JSONDecodeError:
            return f"HTTP {resp.status_code} not JSON: {resp.text[:200]}"
        if not (isinstance(body, dict) and set(body) == {"errorMessages", "errors"}):
            return f"HTTP {resp.status_code} not Jira's envelope: {resp.text[:200]}"
    return None


@pytest.mark.parametrize("part", range(4))
def test_edge_values_in_every_body_member(jira_tenant: Tenant, part: int) -> None:
    site = Site(jira_tenant)
    failures = []
    operations = _operations(site)
    for method, path, body, headers in operations[part::4]:
        for label, variant in _variants(body):
            resp = site.http.request(
                method,
                path,
                content=json.dumps(variant).encode(),
                headers={"Content-Type": "application/json", **headers},
            )
            problem = _check(resp)
            if problem:
                failures.append(f"{method} {path} {label}: {problem}")
    assert not failures, "\n".join(failures)
    # the scratch objects and the seeded site still read back
    assert site.http.get("/rest/api/3/project/DEMO").json()["name"] == "Demo Project"
    assert site.http.get(f"/rest/api/3/issue/{site.issue}").status_code == 200
