"""Schemathesis 4 against the live twin's `/openapi.json` (Atlassian's own OpenAPI description of
the platform v3 and Agile operations the twin serves, twins/jira/spec/PROVENANCE.md): whatever
the input, never a 5xx, and every error is Jira's envelope.

Each generated request (valid and invalid ones) is sent with the site admin's API token, then
again without credentials and with a garbage token. Answers of 400 and up must be JSON
`{"errorMessages": [...], "errors": {...}}` with Jira's `application/json;charset=UTF-8`,
never a framework body. Path parameters are sometimes pointed at a scratch project, issue,
board, sprint, filter and version of this test, so that the fuzz gets past the 404s into the
operations' own checks (never at the seeded DEMO and OPS projects). After the fuzz the seeded
site still reads back unchanged.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import orjson
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, CheckContext, GenerationMode, Response
from schemathesis.checks import not_a_server_error

from dtu.testing.plugin import Tenant
from twins.jira.openapi import openapi

EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 3}
GARBAGE = "Basic " + base64.b64encode(b"nobody@example.com:garbage-token").decode()


def _family(path: str) -> str:
    parts = path.strip("/").split("/")
    return f"{parts[1]}-{parts[3]}"  # api-issue, agile-board...


FAMILIES = sorted({_family(p) for p in openapi("")["paths"]})
# Path parameters the fuzz may point at the test's scratch objects, by name.
ANCHORS = {
    "issueIdOrKey": "issue",
    "projectIdOrKey": "project",
    "projectKeyOrId": "project",
    "boardId": "board",
    "sprintId": "sprint",
    "epicIdOrKey": "epic",
    "epicId": "epic",
    "id": None,  # by family: a filter, version or component
}


def _header(response: Response, name: str) -> str | None:
    values = {k.lower(): v for k, v in response.headers.items()}.get(name.lower())
    return values[0] if values else None


def no_server_error(ctx: CheckContext, response: Response, case: Case) -> None:
    assert response.status_code < 500, f"HTTP {response.status_code}: {response.content[:300]!r}"


def jira_envelope(ctx: CheckContext, response: Response, case: Case) -> None:
    """Errors are Jira's: `{errorMessages: [str], errors: {field: str}}`, JSON."""
    if response.status_code < 400:
        return
    media = _header(response, "content-type") or ""
    assert media == "application/json;charset=UTF-8", f"HTTP {response.status_code} with {media!r}"
    try:
        body = orjson.loads(response.content or b"null")
    except orjson.JSONDecodeError:
        raise AssertionError(f"the body is not JSON: {response.content[:200]!r}") from None
    assert isinstance(body, dict) and set(body) == {"errorMessages", "errors"}, body
    assert isinstance(body["errorMessages"], list) and isinstance(body["errors"], dict), body
    assert all(isinstance(m, str) for m in body["errorMessages"]), body
    assert body["errorMessages"] or body["errors"], body


CHECKS: list[Callable[..., Any]] = [not_a_server_error, no_server_error, jira_envelope]


def _resend(http: requests.Session, response: Response, auth: str | None) -> requests.Response:
    request = response.request.copy()
    request.headers.pop("Authorization", None)
    if auth is not None:
        request.headers["Authorization"] = auth
    return http.send(request, timeout=30)


def _anchor(case: Case, anchors: dict[str, str], draw: Callable[..., Any]) -> None:
    for name in list(case.path_parameters or {}):
        kind = ANCHORS.get(name, "")
        if name == "id":
            kind = next((k for k in ("filter", "version", "component") if f"/{k}/" in case.path), "")
        if kind and draw(st.booleans(), label=f"aim {name} at the scratch {kind}"):
            case.path_parameters[name] = anchors[kind]


def _fuzzer(
    op: Any, mode: GenerationMode, tenant: Tenant, http: requests.Session, anchors: dict[str, str]
) -> Callable[[], None]:
    auth = "Basic " + base64.b64encode(f"{tenant.email}:{tenant.api_token}".encode()).decode()

    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=op.as_strategy(generation_mode=mode), data=st.data())
    def fuzz(case: Case, data: st.DataObject) -> None:
        _anchor(case, anchors, data.draw)
        # attachments need Jira's XSRF opt-out header (else Jira's 403)
        headers = {"Authorization": auth, "X-Atlassian-Token": "no-check"}
        response = case.call(base_url=tenant.url, session=http, headers=headers)
        case.validate_response(response, checks=CHECKS)
        for other in (None, GARBAGE):
            again = Response.from_any(_resend(http, response, other))
            case.validate_response(again, checks=CHECKS)
            assert again.status_code in (400, 401, 404, 405, 413, 415), again.status_code

    result: Callable[[], None] = fuzz
    return result


@pytest.fixture(scope="module")
def http() -> Any:
    with requests.Session() as session:
        yield session


def test_the_twin_serves_its_openapi_document(jira_tenant: Tenant, http: requests.Session) -> None:
    doc = http.get(jira_tenant.url + "/openapi.json", timeout=30).json()
    assert doc["openapi"].startswith("3.") and doc["servers"][0]["url"]
    ops = {(m.upper(), p) for p, item in doc["paths"].items() for m in item if m != "parameters"}
    assert ("POST", "/rest/api/3/issue") in ops and ("GET", "/rest/api/3/search/jql") in ops
    assert ("POST", "/rest/agile/1.0/sprint") in ops and ("GET", "/rest/api/3/groups/picker") in ops


def _anchors(t: Tenant, http: requests.Session) -> dict[str, str]:
    """A scratch project with an issue, an epic, a component and a version; a filter, a board
    and a sprint on it: what anchored path parameters point at."""
    h = {"Authorization": "Basic " + base64.b64encode(f"{t.email}:{t.api_token}".encode()).decode()}
    api = t.url + "/rest/api/3"
    me = http.get(api + "/myself", headers=h).json()["accountId"]
    project = http.post(
        api + "/project",
        headers=h,
        json={"key": "FUZZ", "name": "Fuzz", "projectTypeKey": "software", "leadAccountId": me},
    ).json()
    issue = http.post(
        api + "/issue",
        headers=h,
        json={"fields": {"project": {"key": "FUZZ"}, "summary": "fuzz me", "issuetype": {"name": "Task"}}},
    ).json()
    epic = http.post(
        api + "/issue",
        headers=h,
        json={"fields": {"project": {"key": "FUZZ"}, "summary": "epic", "issuetype": {"name": "Epic"}}},
    ).json()
    version = http.post(api + "/version", headers=h, json={"name": "v1", "projectId": project["id"]}).json()
    component = http.post(api + "/component", headers=h, json={"name": "c1", "project": "FUZZ"}).json()
    filt = http.post(api + "/filter", headers=h, json={"name": "fuzz", "jql": "project = FUZZ"}).json()
    board = http.post(
        t.url + "/rest/agile/1.0/board",
        headers=h,
        json={
            "name": "fuzz",
            "type": "scrum",
            "filterId": int(filt["id"]),
            "location": {"type": "project", "projectKeyOrId": "FUZZ"},
        },
    ).json()
    sprint = http.post(
        t.url + "/rest/agile/1.0/sprint", headers=h, json={"name": "fuzz", "originBoardId": board["id"]}
    ).json()
    return {
        "project": "FUZZ",
        "issue": issue["key"],
        "epic": epic["key"],
        "version": str(version["id"]),
        "component": str(component["id"]),
        "filter": str(filt["id"]),
        "board": str(board["id"]),
        "sprint": str(sprint["id"]),
    }


def _snapshot(t: Tenant, http: requests.Session) -> dict[str, Any]:
    h = {"Authorization": "Basic " + base64.b64encode(f"{t.email}:{t.api_token}".encode()).decode()}
    api = t.url + "/rest/api/3"
    demo = http.get(api + "/project/DEMO", headers=h).json()
    return {
        "demo": (demo["name"], demo["lead"]["accountId"], [c["name"] for c in demo["components"]]),
        "ops": http.get(api + "/project/OPS", headers=h).status_code,
        "statuses": sorted(s["name"] for s in http.get(api + "/status", headers=h).json()),
        "groups": {g["name"] for g in http.get(api + "/group/bulk", headers=h).json()["values"]},
        "me": http.get(api + "/myself", headers=h).status_code,
    }


@pytest.mark.parametrize("family", FAMILIES)
def test_fuzz_family(family: str, jira_tenant: Tenant, http: requests.Session) -> None:
    schema = schemathesis.openapi.from_url(jira_tenant.url + "/openapi.json")
    operations = [r.ok() for r in schema.get_all_operations()]
    operations = [op for op in operations if _family(op.path) == family]
    assert operations
    anchors = _anchors(jira_tenant, http)
    before = _snapshot(jira_tenant, http)
    journal = jira_tenant.twin.control("GET", "/journal", params={"limit": 1})["entries"]
    mark = journal[-1]["seq"] if journal else 0
    failures: list[str] = []
    skipped: list[str] = []
    for op in operations:
        for mode in EXAMPLES:
            try:
                _fuzzer(op, mode, jira_tenant, http, anchors)()
            except Unsatisfiable:
                skipped.append(f"{op.label} ({mode.value})")  # nothing to negate
            except Exception as exc:  # every operation is fuzzed; the failures are reported together
                failures.append(f"{op.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
    assert len(skipped) <= len(operations) * len(EXAMPLES) // 2 + 1, skipped
    sent = jira_tenant.twin.control("GET", "/journal", params={"since": mark, "limit": 0})["entries"]
    assert len(sent) >= 3 * len(operations)  # the fuzz reached the twin
    after = _snapshot(jira_tenant, http)
    # The fuzz creates things (issues, users, groups) but never corrupts what was there.
    assert after["demo"] == before["demo"] and after["statuses"] == before["statuses"]
    assert after["ops"] == 200 and after["me"] == 200
    assert {"site-admins", "ops-team", "jira-software-users"} <= after["groups"]
