"""Checks: what must be true afterwards, read from the twins.

Slack and Okta checks read the control plane's read-only inspection (`/_dtu/state/...`): it is
never faulted nor journaled, so a check sees the truth whatever the fault profile does to the
app. `jira.issues` evaluates JQL, which only the API can do: it goes through the REST API
(journaled, and a fault on search makes that poll fail and retry until the deadline).
Every check is polled until it holds or its `within_s` deadline passes.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import Field

from harness.actions import Args, CheckResult, check
from harness.runner import StepFailed, Trajectory, maybe_await
from harness.steps import remembered, resolve, slack_channel_id, slack_user_id
from harness.template import lookup


class _Count(Args):
    count: int | None = Field(None, ge=0)
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)

    def judge(self, n: int) -> bool:
        if self.count is not None:
            return n == self.count
        if self.min is None and self.max is None:
            return n >= 1
        return (self.min is None or n >= self.min) and (self.max is None or n <= self.max)

    def want(self) -> str:
        if self.count is not None:
            return f"exactly {self.count}"
        if self.min is None and self.max is None:
            return "at least 1"
        return " and ".join(
            x
            for x in (
                f">= {self.min}" if self.min is not None else "",
                f"<= {self.max}" if self.max is not None else "",
            )
            if x
        )


# -- Jira --------------------------------------------------------------------------------------


class JiraIssues(_Count):
    jql: str
    assignee: str | None = None
    status: str | None = None


@check("jira.issues", JiraIssues, ("jira",))
async def jira_issues(traj: Trajectory, a: JiraIssues) -> CheckResult:
    """Issues matching JQL (in the tenant's site), how many, and optionally all assigned to
    `assignee` (persona or email) and/or in `status`."""
    creds = traj.creds("jira")
    r = await traj.universe.http.get(
        traj.universe.url("jira") + "/rest/api/2/search",
        params={"jql": a.jql, "maxResults": 100, "fields": "summary,status,assignee"},
        auth=(creds["email"], creds["api_token"]),
    )
    if r.status_code != 200:
        return CheckResult(False, f"search answered {r.status_code}: {r.text[:160]}")
    issues = r.json().get("issues") or []
    n = len(issues)
    if not a.judge(n):
        return CheckResult(False, f"{n} issue(s) match, want {a.want()}: {[i['key'] for i in issues][:5]}")
    for issue in issues:
        fields = issue.get("fields") or {}
        if a.status is not None and (fields.get("status") or {}).get("name", "").lower() != a.status.lower():
            return CheckResult(
                False, f"{issue['key']} is {(fields.get('status') or {}).get('name')!r}, want {a.status!r}"
            )
        if a.assignee is not None:
            want = traj.email_of(a.assignee).lower()
            got = fields.get("assignee") or {}
            names = {
                str(got.get(k, "")).lower() for k in ("emailAddress", "accountId", "displayName", "name")
            }
            if want not in names:
                return CheckResult(
                    False,
                    f"{issue['key']} is assigned to {got.get('emailAddress') or got.get('displayName')}"
                    f", want {want}",
                )
    return CheckResult(True, f"{n} issue(s): {[i['key'] for i in issues][:5]}")


# -- Slack -------------------------------------------------------------------------------------


class SlackMember(Args):
    channel: str
    user: str
    present: bool = True


@check("slack.member", SlackMember, ("slack",), api=False)
async def slack_member(traj: Trajectory, a: SlackMember) -> CheckResult:
    """The person is (or, with `present: false`, is not) a member of the channel."""
    conv_id, person_id = await slack_channel_id(traj, a.channel), await slack_user_id(traj, a.user)
    rows = await traj.state("slack", "members", conversation_id=conv_id, user_id=person_id)
    there = bool(rows)
    return CheckResult(there == a.present, f"{a.user} {'is' if there else 'is not'} in {a.channel}")


class SlackNotInChannels(Args):
    user: str
    except_: list[str] = Field(["#general"], alias="except")


@check("slack.not_in_channels", SlackNotInChannels, ("slack",), api=False)
async def slack_not_in_channels(traj: Trajectory, a: SlackNotInChannels) -> CheckResult:
    """The person is in no channel (but those in `except`, by default #general, which nobody
    can be removed from)."""
    rows = await traj.state("slack", "members", user_id=await slack_user_id(traj, a.user))
    # the workspace's conversations are read once per trajectory, and again only when the
    # person is in one not seen yet
    convs: dict[str, dict[str, Any]] = traj.cache.get("slack-conversations") or {}
    if not convs or any(r["conversation_id"] not in convs for r in rows):
        convs = {c["id"]: c for c in await traj.state("slack", "conversations")}
        traj.cache["slack-conversations"] = convs
    allowed = {x.lstrip("#") for x in a.except_}
    left = sorted(
        "#" + str(convs.get(r["conversation_id"], {}).get("name", r["conversation_id"]))
        for r in rows
        if convs.get(r["conversation_id"], {}).get("kind") in ("channel", "group")
        and convs.get(r["conversation_id"], {}).get("name") not in allowed
    )
    return CheckResult(not left, f"still in {', '.join(left)}" if left else "in no channel")


class SlackMessage(_Count):
    channel: str
    contains: str | None = None
    by: str | None = None  # "app" (the bot), a persona, or an email
    in_thread: bool | None = None


async def _author(traj: Trajectory, by: str) -> str:
    if by == "app":
        bot = traj.creds("slack").get("bot_user_id")  # a twin that hands it out with the tenant
        if bot:
            return str(bot)

        async def fetch() -> dict[str, Any]:
            apps = await traj.state("slack", "apps")
            if not apps:
                raise StepFailed("no app is installed in this workspace")
            return apps[0]

        return str((await remembered(traj, "slack-app", fetch))["bot_user_id"])
    return await slack_user_id(traj, by)


@check("slack.message", SlackMessage, ("slack",), api=False)
async def slack_message(traj: Trajectory, a: SlackMessage) -> CheckResult:
    """Messages in a channel (containing text, by someone, in a thread or not): how many."""
    rows = await traj.state("slack", "messages", channel_id=await slack_channel_id(traj, a.channel))
    author = await _author(traj, a.by) if a.by else None
    hits = [
        m
        for m in rows
        if (a.contains is None or a.contains in (m.get("text") or ""))
        and (author is None or m.get("user_id") == author)
        and (
            a.in_thread is None
            or bool(m.get("thread_ts") and m.get("thread_ts") != m.get("ts")) == a.in_thread
        )
    ]
    ok = a.judge(len(hits))
    return CheckResult(ok, f"{len(hits)} matching message(s) in {a.channel}, want {a.want()}")


class SlackNoDuplicates(Args):
    channel: str | None = None
    by: str | None = "app"


@check("slack.no_duplicates", SlackNoDuplicates, ("slack",), api=False)
async def slack_no_duplicates(traj: Trajectory, a: SlackNoDuplicates) -> CheckResult:
    """No message was posted twice (same channel, thread and text; by default the app's)."""
    filters: dict[str, Any] = {}
    if a.channel:
        filters["channel_id"] = await slack_channel_id(traj, a.channel)
    rows = await traj.state("slack", "messages", **filters)
    author = await _author(traj, a.by) if a.by else None
    seen = Counter(
        (m.get("channel_id"), m.get("thread_ts") or "", m.get("text"))
        for m in rows
        if author is None or m.get("user_id") == author
    )
    twice = [(k[2] or "")[:60] for k, n in seen.items() if n > 1]
    return CheckResult(
        not twice, f"posted more than once: {twice[:3]}" if twice else f"{len(rows)} message(s), no repeat"
    )


# -- Okta --------------------------------------------------------------------------------------


class OktaUser(Args):
    user: str
    status: str | None = None
    exists: bool = True


@check("okta.user", OktaUser, ("okta",), api=False)
async def okta_user(traj: Trajectory, a: OktaUser) -> CheckResult:
    """The person exists in Okta (or not), optionally with a lifecycle status (ACTIVE,
    SUSPENDED, DEPROVISIONED...)."""
    login = traj.email_of(a.user).lower()
    rows = await traj.state("okta", "users", login_lower=login)
    if not rows:
        return CheckResult(not a.exists, f"no Okta user {login}")
    if not a.exists:
        return CheckResult(False, f"{login} exists ({rows[0]['status']})")
    status = rows[0]["status"]
    ok = a.status is None or status == a.status
    return CheckResult(ok, f"{login} is {status}" + ("" if ok else f", want {a.status}"))


# -- results of steps, and code ----------------------------------------------------------------


class StepResult(Args):
    step: str
    path: str = ""
    contains: str | None = None
    equals: Any = None


@check("step.result", StepResult, api=False)
async def step_result(traj: Trajectory, a: StepResult) -> CheckResult:
    """What a step returned (e.g. the app's answer to a slash command) contains or equals."""
    results = traj.vars.get("steps", {})
    if a.step not in results:
        return CheckResult(False, f"step {a.step!r} did not run")
    value = results[a.step]
    if a.path:
        value = lookup({"r": value}, "r." + a.path)
    if a.contains is not None and a.contains not in str(value):
        return CheckResult(False, f"{str(value)[:120]!r} does not contain {a.contains!r}")
    if a.equals is not None and value != a.equals:
        return CheckResult(False, f"{value!r} != {a.equals!r}")
    return CheckResult(True, f"{str(value)[:120]!r}")


class PythonCheck(Args):
    fn: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    args: dict[str, Any] = {}


@check("python", PythonCheck)
async def python_check(traj: Trajectory, a: PythonCheck) -> CheckResult:
    """Escape hatch: `fn(trajectory, args)` returns a bool, `(bool, detail)` or a CheckResult."""
    out = await maybe_await(resolve(a.fn), traj, a.args)
    if isinstance(out, CheckResult):
        return out
    if isinstance(out, tuple):
        return CheckResult(bool(out[0]), str(out[1]))
    return CheckResult(bool(out), "python check " + ("held" if out else "did not hold"))
