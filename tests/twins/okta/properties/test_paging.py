"""Link paging: for every page size, following `rel="next"` yields the full listing once, in order."""

from __future__ import annotations

import httpx

from dtu.testing.plugin import Tenant


def _walk(http: httpx.Client, path: str, limit: int, **params: str) -> list[str]:
    ids: list[str] = []
    r = http.get(path, params={"limit": limit, **params})
    while True:
        assert r.status_code == 200
        ids += [x["id"] for x in r.json()]
        nxt = [x for x in r.headers.get_list("link") if 'rel="next"' in x]
        if not nxt:
            return ids
        assert len(r.json()) == limit
        r = http.get(nxt[0].split(">")[0][1:])


def test_pages_concatenate_to_the_full_listing(okta_tenant: Tenant) -> None:
    with httpx.Client(
        base_url=okta_tenant.url, headers={"Authorization": f"SSWS {okta_tenant.api_token}"}
    ) as http:
        for i in range(6):
            body = {
                "profile": {
                    "firstName": f"P{i}",
                    "lastName": "Q",
                    "login": f"p{i}@example.com",
                    "email": f"p{i}@example.com",
                }
            }
            assert http.post("/api/v1/users", json=body).status_code == 200
        full = [u["id"] for u in http.get("/api/v1/users").json()]
        assert len(full) == 9
        for limit in range(1, 11):
            assert _walk(http, "/api/v1/users", limit) == full
            assert _walk(
                http,
                "/api/v1/users",
                limit,
                search='profile.lastName eq "Q"',
                sortBy="profile.firstName",
                sortOrder="desc",
            ) == [
                u["id"]
                for u in reversed(
                    http.get("/api/v1/users", params={"search": 'profile.lastName eq "Q"'}).json()
                )
            ]
