"""Hypothesis: user lifecycle transitions against Okta's documented status diagram, over HTTP.

https://developer.okta.com/docs/concepts/user-lifecycle/ and the UserLifecycle / UserCred
operations. A reference model (a dict of statuses, and each user's password) predicts, for each
operation, the next status or the Okta error code; the twin must agree after every step. Besides
the admin operations it drives what users do themselves: ten wrong passwords (lockout), the
activation token of a PROVISIONED user and the reset link of a RECOVERY one redeemed through the
Authn API, and a password change. Runs against the session's twin, a fresh tenant per example.
"""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from dtu.testing.server import TwinServer

_TWIN: list[TwinServer] = []
ALL = ("STAGED", "PROVISIONED", "ACTIVE", "RECOVERY", "PASSWORD_EXPIRED", "LOCKED_OUT", "SUSPENDED")

# op -> {from status: to status}; anything else is refused with the code in ERRORS.
MODEL: dict[str, dict[str, str]] = {
    "suspend": {"ACTIVE": "SUSPENDED"},
    "unsuspend": {"SUSPENDED": "ACTIVE"},
    "deactivate": {s: "DEPROVISIONED" for s in ALL},
    "unlock": {"LOCKED_OUT": "ACTIVE", "ACTIVE": "ACTIVE"},
    "expire_password": {
        s: "PASSWORD_EXPIRED" for s in ("ACTIVE", "PASSWORD_EXPIRED", "RECOVERY", "LOCKED_OUT")
    },
    "reset_password": {
        s: "RECOVERY" for s in ("PROVISIONED", "ACTIVE", "RECOVERY", "PASSWORD_EXPIRED", "LOCKED_OUT")
    },
    "reactivate": {"PROVISIONED": "PROVISIONED", "RECOVERY": "RECOVERY"},
    "forgot_password": {"ACTIVE": "ACTIVE"},
}
NEEDS_PASSWORD = {"expire_password"}
ERRORS = {
    "suspend": "E0000001",
    "unsuspend": "E0000001",
    "deactivate": "E0000038",
    "unlock": "E0000032",
    "expire_password": "E0000038",
    "reset_password": "E0000038",
    "reactivate": "E0000038",
    "forgot_password": "E0000038",
    "activate": "E0000016",
    "change_password": "E0000038",
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
        self.password: dict[str, str | None] = {}
        self.login: dict[str, str] = {}
        self.n = 0

    def teardown(self) -> None:
        if hasattr(self, "http"):
            self.http.close()
            _TWIN[0].delete_tenant(self.tenant)

    def _next_password(self) -> str:
        self.n += 1
        return f"Abcdefg{self.n}-x"

    @rule(password=st.booleans(), activate=st.booleans())
    def create(self, password: bool, activate: bool) -> None:
        self.n += 1
        login = f"u{self.n}@example.com"
        body: dict[str, Any] = {
            "profile": {"firstName": "U", "lastName": "N", "login": login, "email": login}
        }
        pw = self._next_password() if password else None
        if pw is not None:
            body["credentials"] = {"password": {"value": pw}}
        r = self.http.post("/api/v1/users", params={"activate": str(activate).lower()}, json=body)
        assert r.status_code == 200, r.text
        expected = "STAGED" if not activate else ("ACTIVE" if password else "PROVISIONED")
        assert r.json()["status"] == expected
        uid = r.json()["id"]
        self.status[uid], self.password[uid], self.login[uid] = expected, pw, login

    def _pick(self, data: st.DataObject) -> str | None:
        if not self.status:
            return None
        return str(data.draw(st.sampled_from(sorted(self.status))))

    def _refused(self, r: httpx.Response, op: str, before: str) -> None:
        assert r.status_code in (400, 403), (op, before, r.text)
        assert r.json()["errorCode"] == ERRORS[op], (op, before, r.json())

    @rule(data=st.data(), op=st.sampled_from([*sorted(MODEL), "activate"]))
    def transition(self, data: st.DataObject, op: str) -> None:
        uid = self._pick(data)
        if uid is None:
            return
        before = self.status[uid]
        path = "credentials" if op == "forgot_password" else "lifecycle"
        r = self.http.post(f"/api/v1/users/{uid}/{path}/{op}", params={"sendEmail": "false"})
        if op == "activate":
            allowed = before in ("STAGED", "DEPROVISIONED")
            after = "ACTIVE" if self.password[uid] else "PROVISIONED"
        else:
            allowed = before in MODEL[op] and (op not in NEEDS_PASSWORD or self.password[uid] is not None)
            after = MODEL[op].get(before, before)
        if allowed:
            assert r.status_code == 200, (op, before, r.text)
            self.status[uid] = after
        else:
            self._refused(r, op, before)

    @rule(data=st.data())
    def ten_wrong_passwords(self, data: st.DataObject) -> None:
        """The default password policy locks a user out after 10 failed sign-ins."""
        uid = self._pick(data)
        if uid is None:
            return
        for _ in range(10):
            r = self.http.post("/api/v1/authn", json={"username": self.login[uid], "password": "Wr0ng-pass"})
            assert r.status_code in (200, 401), r.text
        if self.status[uid] in ("ACTIVE", "PASSWORD_EXPIRED") and self.password[uid]:
            self.status[uid] = "LOCKED_OUT"

    @rule(data=st.data())
    def redeem_activation_token(self, data: st.DataObject) -> None:
        """PROVISIONED -> ACTIVE: a fresh activation token (reactivate), then Authn's
        PASSWORD_RESET and reset_password."""
        uid = self._pick(data)
        if uid is None:
            return
        before = self.status[uid]
        r = self.http.post(f"/api/v1/users/{uid}/lifecycle/reactivate", params={"sendEmail": "false"})
        if before not in MODEL["reactivate"]:
            self._refused(r, "reactivate", before)
            return
        assert r.status_code == 200, r.text
        if before == "RECOVERY":
            return  # a RECOVERY user's way back is the reset link (redeem_reset_link)
        token = r.json()["activationToken"]
        started = self.http.post("/api/v1/authn", json={"token": token})
        assert started.json()["status"] == "PASSWORD_RESET", started.text
        self._finish_reset(uid, started.json()["stateToken"])

    @rule(data=st.data())
    def redeem_reset_link(self, data: st.DataObject) -> None:
        """reset_password's one-time link, redeemed: -> ACTIVE with a new password."""
        uid = self._pick(data)
        if uid is None:
            return
        before = self.status[uid]
        r = self.http.post(f"/api/v1/users/{uid}/lifecycle/reset_password", params={"sendEmail": "false"})
        if before not in MODEL["reset_password"]:
            self._refused(r, "reset_password", before)
            return
        assert r.status_code == 200, r.text
        token = r.json()["resetPasswordUrl"].rsplit("/", 1)[1]
        verified = self.http.post("/api/v1/authn/recovery/token", json={"recoveryToken": token})
        assert verified.json()["status"] == "PASSWORD_RESET", verified.text
        self._finish_reset(uid, verified.json()["stateToken"])

    def _finish_reset(self, uid: str, state: str) -> None:
        pw = self._next_password()
        done = self.http.post(
            "/api/v1/authn/credentials/reset_password", json={"stateToken": state, "newPassword": pw}
        )
        assert done.json()["status"] == "SUCCESS", done.text
        self.status[uid], self.password[uid] = "ACTIVE", pw

    @rule(data=st.data())
    def change_password(self, data: st.DataObject) -> None:
        uid = self._pick(data)
        if uid is None:
            return
        before, old = self.status[uid], self.password[uid]
        new = self._next_password()
        r = self.http.post(
            f"/api/v1/users/{uid}/credentials/change_password",
            json={"oldPassword": {"value": old or "Nothing-1x"}, "newPassword": {"value": new}},
        )
        if before in ("STAGED", "ACTIVE", "PASSWORD_EXPIRED", "RECOVERY") and old is not None:
            assert r.status_code == 200, (before, r.text)
            self.password[uid] = new
            if before in ("PASSWORD_EXPIRED", "RECOVERY"):
                self.status[uid] = "ACTIVE"
        else:
            self._refused(r, "change_password", before)

    @invariant()
    def statuses_agree(self) -> None:
        for uid, status in getattr(self, "status", {}).items():
            assert self.http.get(f"/api/v1/users/{uid}").json()["status"] == status


def test_lifecycle_follows_the_status_diagram(okta_twin: TwinServer) -> None:
    _TWIN[:] = [okta_twin]
    run_state_machine_as_test(
        Lifecycle,
        settings=settings(
            max_examples=20,
            stateful_step_count=14,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
