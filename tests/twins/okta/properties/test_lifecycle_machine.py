"""Hypothesis: user lifecycle transitions against Okta's documented status diagram, in-process.

https://developer.okta.com/docs/concepts/user-lifecycle/ . A reference model (a dict of
statuses) predicts, for each operation, the next status or the Okta error code; the twin must
agree after every step. Runs over HTTP against the session's twin, a fresh tenant per example.
"""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from dtu.testing.server import TwinServer

_TWIN: list[TwinServer] = []

# op -> {from status: to status}; anything else is refused with the code in ERRORS.
MODEL: dict[str, dict[str, str]] = {
    "suspend": {"ACTIVE": "SUSPENDED"},
    "unsuspend": {"SUSPENDED": "ACTIVE"},
    "deactivate": {
        s: "DEPROVISIONED"
        for s in (
            "STAGED",
            "PROVISIONED",
            "ACTIVE",
            "RECOVERY",
            "PASSWORD_EXPIRED",
            "LOCKED_OUT",
            "SUSPENDED",
        )
    },
    "unlock": {"LOCKED_OUT": "ACTIVE", "ACTIVE": "ACTIVE"},
    "expire_password": {
        s: "PASSWORD_EXPIRED" for s in ("ACTIVE", "PASSWORD_EXPIRED", "RECOVERY", "LOCKED_OUT")
    },
    "reset_password": {
        s: "RECOVERY" for s in ("PROVISIONED", "ACTIVE", "RECOVERY", "PASSWORD_EXPIRED", "LOCKED_OUT")
    },
}
ERRORS = {
    "suspend": "E0000001",
    "unsuspend": "E0000001",
    "deactivate": "E0000038",
    "unlock": "E0000032",
    "expire_password": "E0000038",
    "reset_password": "E0000038",
    "activate": "E0000016",
}


class Lifecycle(RuleBasedStateMachine):
    @initialize()
    def fresh(self) -> None:
        twin = _TWIN[0]
        made = twin.create_tenant()
        self.tenant = made["tenant"]
        self.http = httpx.Client(
            base_url=twin.url, headers={"Authorization": f"SSWS {made['credentials']['api_token']}"}
        )
        self.status: dict[str, str] = {}
        self.has_password: dict[str, bool] = {}
        self.n = 0

    def teardown(self) -> None:
        if hasattr(self, "http"):
            self.http.close()
            _TWIN[0].delete_tenant(self.tenant)

    @rule(password=st.booleans(), activate=st.booleans())
    def create(self, password: bool, activate: bool) -> None:
        self.n += 1
        body: dict[str, Any] = {
            "profile": {
                "firstName": "U",
                "lastName": "N",
                "login": f"u{self.n}@example.com",
                "email": f"u{self.n}@example.com",
            }
        }
        if password:
            body["credentials"] = {"password": {"value": "Abcdefg1-x"}}
        r = self.http.post("/api/v1/users", params={"activate": str(activate).lower()}, json=body)
        assert r.status_code == 200, r.text
        expected = "STAGED" if not activate else ("ACTIVE" if password else "PROVISIONED")
        assert r.json()["status"] == expected
        self.status[r.json()["id"]] = expected
        self.has_password[r.json()["id"]] = password

    @rule(data=st.data(), op=st.sampled_from([*sorted(MODEL), "activate"]))
    def transition(self, data: st.DataObject, op: str) -> None:
        if not self.status:
            return
        uid = data.draw(st.sampled_from(sorted(self.status)))
        before = self.status[uid]
        r = self.http.post(f"/api/v1/users/{uid}/lifecycle/{op}", params={"sendEmail": "false"})
        if op == "activate":
            allowed = before in ("STAGED", "DEPROVISIONED")
            after = "ACTIVE" if self.has_password[uid] else "PROVISIONED"
        else:
            allowed = before in MODEL[op] and (op != "expire_password" or self.has_password[uid])
            after = MODEL[op].get(before, before)
        if allowed:
            assert r.status_code == 200, (op, before, r.text)
            self.status[uid] = after
        else:
            assert r.status_code in (400, 403), (op, before, r.text)
            assert r.json()["errorCode"] == ERRORS[op], (op, before, r.json())

    @invariant()
    def statuses_agree(self) -> None:
        for uid, status in getattr(self, "status", {}).items():
            assert self.http.get(f"/api/v1/users/{uid}").json()["status"] == status


def test_lifecycle_follows_the_status_diagram(okta_twin: TwinServer) -> None:
    _TWIN[:] = [okta_twin]
    run_state_machine_as_test(
        Lifecycle,
        settings=settings(
            max_examples=15,
            stateful_step_count=12,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
