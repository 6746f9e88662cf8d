"""Schemathesis 4 against the live twin's `/openapi.json` (Okta's own OpenAPI description of the
operations the twin implements, spec/PROVENANCE.md): whatever the input, never a 5xx, never a
framework body, always Okta's envelope.

Each generated request (valid and invalid ones) is sent with the tenant's API token, then again
without one and with a garbage one. Management API answers of 400 and up must be Okta's error
body (`errorCode`, `errorSummary`, `errorLink`, `errorId` `oae...`, `errorCauses`), JSON; the
OAuth endpoints answer RFC 6749 bodies (`error`, `error_description`) or, for what Okta itself
answers with its error body (unknown authorization server, rate limits), that body. After the
fuzz the org's seeded state still reads back unchanged.
"""

from __future__ import annotations

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
from twins.okta import catalog

EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 3}
GARBAGE = "SSWS 00garbage-token-0000000000000000000000"
ALICE = "00udtualice000000001"


def _family(path: str) -> str:
    parts = path.strip("/").split("/")
    if parts[0] == "api":
        return parts[2]
    if parts[0] == "oauth2":
        return "oauth2-org" if parts[1] == "v1" else "oauth2-custom"
    return "well-known"


FAMILIES = sorted({_family(p) for p in catalog.openapi("")["paths"]})


def _header(response: Response, name: str) -> str | None:
    values = {k.lower(): v for k, v in response.headers.items()}.get(name.lower())
    return values[0] if values else None


def _json(response: Response) -> Any:
    try:
        return orjson.loads(response.content or b"null")
    except orjson.JSONDecodeError:
        raise AssertionError(f"the body is not JSON: {response.content[:200]!r}") from None


def no_server_error(ctx: CheckContext, response: Response, case: Case) -> None:
    assert response.status_code < 500, f"HTTP {response.status_code}: {response.content[:300]!r}"


def okta_envelope(ctx: CheckContext, response: Response, case: Case) -> None:
    """Errors are Okta's: the Management API's error object, or RFC 6749's on OAuth endpoints."""
    media = (_header(response, "content-type") or "").split(";")[0].strip()
    assert _header(response, "x-rate-limit-limit") is not None, "no X-Rate-Limit-Limit"
    if response.status_code < 400:
        return
    assert media == "application/json", f"HTTP {response.status_code} with Content-Type {media!r}"
    body = _json(response)
    assert isinstance(body, dict), f"not an object: {body!r}"
    assert "detail" not in body, f"framework body: {body!r}"
    oauth = case.path.startswith("/oauth2/") and "errorCode" not in body
    if oauth:
        assert isinstance(body.get("error"), str) and body["error"], f"no OAuth error: {body!r}"
        assert isinstance(body.get("error_description"), str), f"no error_description: {body!r}"
        return
    assert set(body) == {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}, body
    assert str(body["errorCode"]).startswith("E0000") and str(body["errorId"]).startswith("oae"), body
    assert isinstance(body["errorCauses"], list), body


# (Schemathesis' response_schema_conformance is left out: Okta's documents omit `nullable` where
# Okta answers null, e.g. a LogEvent's `legacyEventType` or `client.id`.)
CHECKS: list[Callable[..., Any]] = [not_a_server_error, no_server_error, okta_envelope]


def _resend(http: requests.Session, response: Response, auth: str | None) -> requests.Response:
    request = response.request.copy()
    request.headers.pop("Authorization", None)
    if auth is not None:
        request.headers["Authorization"] = auth
    return http.send(request, timeout=30)


def _fuzzer(
    op: Any, mode: GenerationMode, tenant: Tenant, http: requests.Session, anchors: dict[str, str]
) -> Callable[[], None]:
    token = {"Authorization": f"SSWS {tenant.api_token}"} if op.path.startswith("/api/") else {}

    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=op.as_strategy(generation_mode=mode), data=st.data())
    def fuzz(case: Case, data: st.DataObject) -> None:
        if case.path_parameters and data.draw(st.booleans(), label="aim at a scratch object"):
            # Point ids at a scratch user and group of this test, so that the fuzz reaches past
            # E0000007 into the operations' own checks (never at the seeded admin).
            for name in list(case.path_parameters):
                if name in ("id", "userId") and case.path.startswith("/api/v1/users"):
                    case.path_parameters[name] = anchors["user"]
                elif name == "groupId":
                    case.path_parameters[name] = anchors["group"]
        response = case.call(base_url=tenant.url, session=http, headers=token)
        case.validate_response(response, checks=CHECKS)
        if op.path.startswith("/api/"):
            for auth in (None, GARBAGE):
                again = Response.from_any(_resend(http, response, auth))
                case.validate_response(again, checks=CHECKS)
                assert again.status_code in (400, 401, 403, 404, 405, 413, 415), again.status_code

    result: Callable[[], None] = fuzz
    return result


@pytest.fixture(scope="module")
def http() -> Any:
    with requests.Session() as session:
        yield session


def test_the_twin_serves_its_openapi_document(okta_tenant: Tenant, http: requests.Session) -> None:
    doc = http.get(okta_tenant.url + "/openapi.json", timeout=30).json()
    assert doc["openapi"].startswith("3.") and doc["servers"]
    ops = {(m.upper(), p) for p, item in doc["paths"].items() for m in item if m != "parameters"}
    assert ("GET", "/api/v1/users") in ops and ("POST", "/oauth2/{authorizationServerId}/v1/token") in ops
    assert ("POST", "/api/v1/users/{id}/lifecycle/reset_factors") in ops


def _snapshot(t: Tenant, http: requests.Session) -> dict[str, Any]:
    h = {"Authorization": f"SSWS {t.api_token}"}
    alice = http.get(f"{t.url}/api/v1/users/{ALICE}", headers=h, timeout=30).json()
    return {
        "alice": (alice["status"], alice["profile"]),
        "groups": sorted(g["profile"]["name"] for g in http.get(f"{t.url}/api/v1/groups", headers=h).json()),
        "users": sorted(u["id"] for u in http.get(f"{t.url}/api/v1/users", headers=h).json()),
        "discovery": http.get(f"{t.url}/oauth2/default/.well-known/openid-configuration").status_code,
    }


@pytest.mark.parametrize("family", FAMILIES)
def test_fuzz_family(family: str, okta_tenant: Tenant, http: requests.Session) -> None:
    schema = schemathesis.openapi.from_url(okta_tenant.url + "/openapi.json")
    operations = [r.ok() for r in schema.get_all_operations()]
    operations = [op for op in operations if _family(op.path) == family]
    assert operations
    h = {"Authorization": f"SSWS {okta_tenant.api_token}"}
    user = http.post(
        f"{okta_tenant.url}/api/v1/users",
        headers=h,
        json={
            "profile": {
                "firstName": "F",
                "lastName": "Z",
                "login": "fuzz@example.com",
                "email": "fuzz@example.com",
            },
            "credentials": {"password": {"value": "Secr3t-Passw0rd"}},
        },
    ).json()
    group = http.post(
        f"{okta_tenant.url}/api/v1/groups", headers=h, json={"profile": {"name": "Fuzz"}}
    ).json()
    anchors = {"user": user["id"], "group": group["id"]}
    before = _snapshot(okta_tenant, http)
    journal = okta_tenant.twin.control("GET", "/journal", params={"limit": 1})["entries"]
    mark = journal[-1]["seq"] if journal else 0
    failures: list[str] = []
    skipped: list[str] = []
    for op in operations:
        for mode in EXAMPLES:
            try:
                _fuzzer(op, mode, okta_tenant, http, anchors)()
            except Unsatisfiable:
                # Nothing to negate (an operation whose only input is a free-form path id).
                skipped.append(f"{op.label} ({mode.value})")
            except Exception as exc:  # every operation is fuzzed; the failures are reported together
                failures.append(f"{op.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
    assert len(skipped) <= len(operations) * len(EXAMPLES) // 2, skipped
    sent = okta_tenant.twin.control("GET", "/journal", params={"since": mark, "limit": 0})["entries"]
    assert len(sent) >= 3 * len(operations)  # the fuzz reached the twin
    after = _snapshot(okta_tenant, http)
    # Fuzzing creates things (users, groups) but never corrupts what was there.
    assert after["alice"] == before["alice"] and after["discovery"] == 200
    seeded = {"Everyone", "Engineering", "IT Admins"}
    assert seeded <= set(after["groups"]) and {ALICE} <= set(after["users"])


# -- edge values where the OpenAPI documents have no schema (the classic Authn API) -----------

AUTHN_PATHS = [
    "/api/v1/authn",
    "/api/v1/authn/factors",
    "/api/v1/authn/factors/ostnothere000000000/verify",
    "/api/v1/authn/factors/ostnothere000000000/lifecycle/activate",
    "/api/v1/authn/previous",
    "/api/v1/authn/cancel",
    "/api/v1/authn/credentials/change_password",
    "/api/v1/authn/credentials/reset_password",
    "/api/v1/authn/recovery/token",
    "/api/v1/authn/recovery/answer",
    "/api/v1/sessions",
]
EDGE_BODIES: list[bytes] = [
    b"",
    b"[]",
    b'"text"',
    b"null",
    b"{not json",
    b'{"stateToken": 1}',
    b'{"stateToken": {"a": 1}, "passCode": [1]}',
    b'{"username": ["x"], "password": 1}',
    b'{"username": "alice@example.com", "password": null}',
    b'{"token": 5}',
    b'{"token": "' + b"x" * 50_000 + b'"}',
    b'{"recoveryToken": [], "sessionToken": {}}',
    b'{"stateToken": "a\\u0000b", "newPassword": 1e400, "answer": {"x": 1}}',
    b'{"a":' * 300 + b"1" + b"}" * 300,
]


def test_edge_bodies_on_the_authn_api(okta_tenant: Tenant, http: requests.Session) -> None:
    failures: list[str] = []
    for path in AUTHN_PATHS:
        for body in EDGE_BODIES:
            for headers in ({}, {"Authorization": f"SSWS {okta_tenant.api_token}"}):
                r = http.post(
                    okta_tenant.url + path,
                    data=body,
                    headers={"Content-Type": "application/json", **headers},
                    timeout=30,
                )
                try:
                    assert r.status_code < 500, r.status_code
                    assert r.status_code >= 400, f"{r.status_code} {r.text[:200]}"
                    data = r.json()
                    assert set(data) == {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}
                except (AssertionError, ValueError) as exc:
                    failures.append(f"{path} {body[:40]!r} {sorted(headers)}: {exc} {r.text[:200]}")
    assert not failures, "\n".join(failures)


OAUTH_EDGES: list[dict[str, str]] = [
    {},
    {"grant_type": "authorization_code", "code": "x" * 5000, "redirect_uri": "\x00"},
    {"grant_type": "refresh_token", "refresh_token": ""},
    {"grant_type": "password", "username": "alice@example.com", "password": ""},
    {"grant_type": "client_credentials", "scope": " " * 300},
    {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": "x.y.z"},
    {"token": "x", "token_type_hint": "bogus"},
    {"client_id": "\u00e9\u00e9", "client_secret": "\x00"},
]


def test_edge_forms_on_the_oauth_endpoints(okta_tenant: Tenant, http: requests.Session) -> None:
    t = okta_tenant
    failures: list[str] = []
    for server in ("/oauth2/v1", "/oauth2/default/v1", "/oauth2/ausnothere000000/v1"):
        for endpoint in ("token", "introspect", "revoke", "authorize", "logout"):
            for form in OAUTH_EDGES:
                for auth in (None, (t.client_id, t.client_secret), ("nobody", "x")):
                    r = http.post(
                        f"{t.url}{server}/{endpoint}", data=form, auth=auth, timeout=30, allow_redirects=False
                    )
                    try:
                        assert r.status_code < 500, r.status_code
                        if r.status_code >= 400:
                            body = r.json()
                            assert "error" in body or "errorCode" in body, body
                    except (AssertionError, ValueError) as exc:
                        failures.append(f"{server}/{endpoint} {form} {auth}: {exc} {r.text[:200]}")
        for bad in (
            {"client_id": t.client_id, "redirect_uri": REDIRECT_EDGE},
            {"client_id": ["a", "b"]},
            {"state": "s"},
        ):
            r = http.get(f"{t.url}{server}/authorize", params=bad, timeout=30, allow_redirects=False)
            if r.status_code >= 500:
                failures.append(f"{server}/authorize {bad}: {r.status_code}")
        r = http.get(f"{t.url}{server}/logout", params={"id_token_hint": "a.b.c"}, timeout=30)
        if r.status_code >= 500:
            failures.append(f"{server}/logout: {r.status_code}")
        r = http.get(f"{t.url}{server}/userinfo", headers={"Authorization": "Bearer \x7f"}, timeout=30)
        if r.status_code >= 500:
            failures.append(f"{server}/userinfo: {r.status_code}")
    assert not failures, "\n".join(failures)


REDIRECT_EDGE = "http://localhost:8765/callback?x=\x00"
