"""Steps: what simulated people do in the SaaS tools, and calls to the app under test.

Each runs through the vendor's official SDK against the trajectory's tenant (slack_sdk, the
okta SDK, pycontribs `jira`), or through the twin's simulated-person control plane where the
vendor has no API for it (typing a slash command, clicking a button, pressing Submit: Slack
then calls the app exactly as it would). `as:` names a persona (or an email).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import Field

from harness.actions import Args, step
from harness.http import HttpError
from harness.runner import StepFailed, Trajectory, maybe_await
from harness.universe import ControlError, InfraError

# -- clients -----------------------------------------------------------------------------------

SDKS = {
    "slack": ("slack_sdk.web.async_client",),
    "okta": ("okta.client", "okta.models"),
    "jira": ("jira",),
}


def warm(actions: set[str]) -> None:
    """Import the SDKs these steps use, before any trajectory runs. They are imported on first
    use otherwise, in the middle of a campaign, where importing the okta SDK (3-4 s of CPU)
    stalls every trajectory in flight, and their checks' deadlines with them."""
    import os

    os.environ.setdefault("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true")
    for vendor in sorted({a.split(".", 1)[0] for a in actions} & set(SDKS)):
        for module in SDKS[vendor]:
            importlib.import_module(module)


def slack_client(traj: Trajectory, who: str) -> Any:
    """slack_sdk AsyncWebClient with the person's user token (`bot` for the app's bot token)."""
    from slack_sdk.web.async_client import AsyncWebClient

    creds = traj.creds("slack")
    key = f"slack:{who}"
    if key not in traj.cache:
        if who == "bot":
            token = creds["bot_token"]
        else:
            email = traj.email_of(who)
            token = (creds.get("user_tokens") or {}).get(email)
            if token is None:
                raise StepFailed(f"{email} has no Slack user token in this workspace")
        traj.cache[key] = AsyncWebClient(
            token=token, base_url=traj.universe.url("slack") + "/api/", session=traj.universe.http.session
        )
    return traj.cache[key]


def okta_client(traj: Trajectory) -> Any:
    """The okta SDK's async Client with the org's API token (an Okta admin at work)."""
    import os

    os.environ.setdefault("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true")
    from okta.client import Client

    if "okta" not in traj.cache:
        client: Any = Client(
            {
                "orgUrl": traj.universe.url("okta"),
                "token": traj.creds("okta")["api_token"],
                "cache": {"enabled": False},
                "rateLimit": {"maxRetries": 0},
            }
        )
        client.get_request_executor().set_session(traj.universe.http.fresh_session)
        # the SDK adds a handler to its (disabled) logger for every Client: one per trajectory
        # would pile up over a campaign
        del logging.getLogger("okta-sdk-python").handlers[1:]
        traj.cache["okta"] = client
    return traj.cache["okta"]


def jira_client(traj: Trajectory, who: str | None = None) -> Any:
    """pycontribs `jira` as the site admin, or as `who` (their API token)."""
    from jira import JIRA

    creds = traj.creds("jira")
    email = traj.email_of(who) if who else creds["email"]
    token = creds["api_token"] if email == creds["email"] else (creds.get("api_tokens") or {}).get(email)
    if token is None:
        raise StepFailed(f"{email} has no Jira API token on this site")
    key = f"jira:{email}"
    if key not in traj.cache:
        traj.cache[key] = JIRA(
            server=traj.universe.url("jira"),
            basic_auth=(email, token),
            max_retries=0,
            get_server_info=False,
            timeout=20,
        )
    return traj.cache[key]


async def _okta(result: tuple[Any, ...]) -> Any:
    data, err = result[0], result[-1]
    if err is not None:
        raise StepFailed(f"okta: {getattr(err, 'error_summary', None) or err}")
    if data is None:  # the SDK gives (None, response, None) for an answer it could not read
        resp = result[1] if len(result) > 2 else None
        status = getattr(resp, "status_code", None) or getattr(resp, "status", None)
        raw = getattr(resp, "raw_data", None) or getattr(resp, "data", None)
        raise StepFailed(f"okta answered {status} without a body the SDK could read: {str(raw)[:160]}")
    return data


async def okta_user_id(traj: Trajectory, who: str) -> str:
    """An Okta user id from a persona, an email/login, or an id."""
    login = traj.email_of(who)
    if "@" not in login:
        return login
    known: dict[str, str] = traj.cache.setdefault("okta-ids", {})  # created by a step: no lookup
    if login.lower() in known:
        return known[login.lower()]
    rows = await traj.state("okta", "users", login_lower=login.lower())
    if not rows:
        raise StepFailed(f"no Okta user {login}")
    return str(rows[0]["id"])


async def remembered(
    traj: Trajectory, key: str, fetch: Callable[[], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    """A row looked up once per trajectory: checks poll concurrently and repeatedly, and a
    person's or a channel's id does not change. Concurrent askers share one request; a lookup
    that fails (not there yet) is asked again next time."""
    task = traj.cache.get(key)
    if task is None:
        task = traj.cache[key] = asyncio.ensure_future(fetch())
    try:
        row: dict[str, Any] = await task
    except BaseException:
        if traj.cache.get(key) is task:
            del traj.cache[key]
        raise
    return dict(row)


async def slack_user(traj: Trajectory, who: str) -> dict[str, Any]:
    """The Slack user row of a persona, email or id."""
    email = traj.email_of(who)

    async def fetch() -> dict[str, Any]:
        rows = (
            await traj.state("slack", "users", email=email.lower())
            if "@" in email
            else await traj.state("slack", "users", id=email)
        )
        if not rows:
            raise StepFailed(f"no Slack user {email}")
        return rows[0]

    return await remembered(traj, f"slack-user:{email.lower()}", fetch)


async def slack_channel(traj: Trajectory, channel: str) -> dict[str, Any]:
    """The conversation row of `#name` or an id."""

    async def fetch() -> dict[str, Any]:
        name = channel.lstrip("#")
        rows = (
            await traj.state("slack", "conversations", name=name)
            if channel.startswith("#") or not channel[:1].isupper()
            else await traj.state("slack", "conversations", id=channel)
        )
        if not rows:
            raise StepFailed(f"no Slack channel {channel}")
        return rows[0]

    return await remembered(traj, f"slack-channel:{channel}", fetch)


async def slack_user_id(traj: Trajectory, who: str) -> str:
    """The Slack user id of a persona, email or id: the seed's, else looked up."""
    email = traj.email_of(who)
    seeded = traj.cache.get("slack-seeded-users", {}).get(email.lower())
    return str(seeded) if seeded else str((await slack_user(traj, who))["id"])


async def slack_channel_id(traj: Trajectory, channel: str) -> str:
    """The id of `#name` or an id: the seed's, else looked up."""
    seeded = traj.cache.get("slack-seeded-channels", {})
    name = channel.lstrip("#")
    if (channel.startswith("#") or not channel[:1].isupper()) and name in seeded:
        return str(seeded[name])
    if channel in seeded.values():
        return channel
    return str((await slack_channel(traj, channel))["id"])


async def simulate(traj: Trajectory, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """A person's action in the Slack client, through the twin's control plane."""
    try:
        result: dict[str, Any] = await traj.control(
            "slack", "POST", path, json={"tenant": traj.tenants["slack"]["tenant"], **body}
        )
    except ControlError as exc:
        raise StepFailed(str(exc)) from None
    return result


def _answer_text(report: dict[str, Any]) -> str:
    body = (report.get("response") or {}).get("body") or ""
    return str(body)


# -- Slack -------------------------------------------------------------------------------------


class SlackPost(Args):
    as_: str = Field(alias="as")
    channel: str
    text: str
    thread_ts: str | None = None


@step("slack.post", SlackPost, ("slack",))
async def slack_post(traj: Trajectory, a: SlackPost) -> dict[str, Any]:
    """Post a message in a channel as a person (chat.postMessage with their user token)."""
    channel = await slack_channel_id(traj, a.channel) if a.channel.startswith("#") else a.channel
    resp = await slack_client(traj, a.as_).chat_postMessage(
        channel=channel, text=a.text, thread_ts=a.thread_ts
    )
    return {"channel": resp["channel"], "ts": resp["ts"]}


class SlackCommand(Args):
    as_: str = Field(alias="as")
    command: str
    text: str = ""
    channel: str = "#general"
    expect_ok: bool = True
    expect_text: str | None = None


@step("slack.command", SlackCommand, ("slack",))
async def slack_command(traj: Trajectory, a: SlackCommand) -> dict[str, Any]:
    """Type `/command text` in a channel; the result holds the app's answer (`text`)."""
    report = await simulate(
        traj,
        "/slack/commands",
        {"user": traj.email_of(a.as_), "channel": a.channel, "command": a.command, "text": a.text},
    )
    if a.expect_ok and not 200 <= int(report.get("status") or 0) < 300:
        raise StepFailed(
            f"{a.command}: the app answered {report.get('status')} {report.get('error') or ''}".strip()
        )
    text = _answer_text(report)
    if a.expect_text is not None and a.expect_text not in text:
        raise StepFailed(f"{a.command} answered {text[:160]!r}, not containing {a.expect_text!r}")
    return {"status": report.get("status"), "text": text, "outcome": report.get("outcome")}


class SlackClick(Args):
    as_: str = Field(alias="as")
    channel: str
    action_id: str
    block_id: str | None = None
    message_contains: str | None = None
    value: str | None = None


@step("slack.click", SlackClick, ("slack",))
async def slack_click(traj: Trajectory, a: SlackClick) -> dict[str, Any]:
    """Click a button in the newest message of a channel that has it (and contains the text)."""
    channel_id = await slack_channel_id(traj, a.channel)
    messages = await traj.state("slack", "messages", channel_id=channel_id)
    for msg in sorted(messages, key=lambda m: m["ts"], reverse=True):
        blocks = msg.get("blocks") or []
        if a.message_contains and a.message_contains not in (msg.get("text") or ""):
            continue
        if any(
            e.get("action_id") == a.action_id
            for b in blocks
            for e in b.get("elements") or []
            if isinstance(e, dict)
        ):
            body: dict[str, Any] = {
                "user": traj.email_of(a.as_),
                "channel": channel_id,
                "message_ts": msg["ts"],
                "action_id": a.action_id,
            }
            if a.block_id:
                body["block_id"] = a.block_id
            if a.value is not None:
                body["value"] = a.value
            report = await simulate(traj, "/slack/actions", body)
            if report.get("outcome") != "acknowledged":
                raise StepFailed(
                    f"click on {a.action_id}: {report.get('error_shown') or report.get('error')}"
                )
            return {"status": report.get("status"), "message_ts": msg["ts"]}
    raise StepFailed(f"no message in {a.channel} with a {a.action_id!r} element")


class SlackSubmit(Args):
    as_: str = Field(alias="as")
    values: dict[str, Any] = {}
    callback_id: str | None = None


@step("slack.submit", SlackSubmit, ("slack",))
async def slack_submit(traj: Trajectory, a: SlackSubmit) -> dict[str, Any]:
    """Fill the open modal in front of the person (`values: {block_id: text}`) and press Submit."""
    person_id = await slack_user_id(traj, a.as_)
    views = [
        v
        for v in await traj.state("slack", "views", user_id=person_id)
        if v.get("is_open")
        and v.get("type") == "modal"
        and (a.callback_id is None or (v.get("definition") or {}).get("callback_id") == a.callback_id)
    ]
    if not views:
        raise StepFailed(f"{a.as_} has no open modal" + (f" {a.callback_id!r}" if a.callback_id else ""))
    view = max(views, key=lambda v: v.get("seq") or 0)
    actions = {
        b.get("block_id"): (b.get("element") or {}).get("action_id")
        for b in (view.get("definition") or {}).get("blocks") or []
        if b.get("type") == "input"
    }
    values: dict[str, Any] = {}
    for block, value in a.values.items():
        if block not in actions:
            raise StepFailed(f"the modal has no input block {block!r} (it has {sorted(map(str, actions))})")
        values[block] = value if isinstance(value, dict) else {actions[block]: value}
    report = await simulate(
        traj, "/slack/views/submit", {"user": person_id, "view_id": view["id"], "values": values}
    )
    if report.get("outcome") == "blocked":
        raise StepFailed(f"Slack kept the modal open: {report.get('errors')}")
    return {"status": report.get("status"), "outcome": report.get("outcome"), "view_id": view["id"]}


class SlackAddUser(Args):
    email: str
    name: str | None = None
    real_name: str | None = None
    channels: list[str] = ["#general"]


@step("slack.add_user", SlackAddUser, ("slack",))
async def slack_add_user(traj: Trajectory, a: SlackAddUser) -> dict[str, Any]:
    """A person joins the workspace (SCIM/invite have no Web API here: seeded), in `channels`."""
    from harness.universes import complete_seed, remember_seeded

    user: dict[str, Any] = {"email": a.email, "real_name": a.real_name or a.email.split("@")[0]}
    if a.name:
        user["name"] = a.name
    seed = complete_seed("slack", {"users": [user]}, traj.tenant)
    await traj.control("slack", "POST", "/seed", json=seed)
    uid = seed["users"][0]["id"]
    traj.creds("slack").setdefault("user_tokens", {})[a.email] = seed["tokens"][0]["token"]
    remember_seeded(traj.cache, {"users": seed["users"]})
    for ch in a.channels:
        conv = await slack_channel(traj, ch)
        if not conv.get("is_general"):
            await traj.control(
                "slack", "POST", "/seed", json={"channels": [{**_channel_fixture(conv), "members": [uid]}]}
            )
    return {"id": uid}


def _channel_fixture(conv: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": conv["id"],
        "name": conv["name"],
        "is_private": conv.get("is_private", False),
        "creator": conv.get("creator"),
        "created": conv.get("created"),
    }


# -- Okta --------------------------------------------------------------------------------------


class OktaCreateUser(Args):
    email: str
    first_name: str = "New"
    last_name: str = "Hire"
    department: str | None = None
    manager: str | None = None
    password: str | None = None
    activate: bool = True


@step("okta.create_user", OktaCreateUser, ("okta",))
async def okta_create_user(traj: Trajectory, a: OktaCreateUser) -> dict[str, Any]:
    """An Okta admin creates a person (activated unless `activate: false`)."""
    from okta.models import CreateUserRequest

    profile: dict[str, Any] = {
        "firstName": a.first_name,
        "lastName": a.last_name,
        "email": a.email,
        "login": a.email,
    }
    if a.department:
        profile["department"] = a.department
    if a.manager:
        profile["manager"] = a.manager
    body: dict[str, Any] = {"profile": profile}
    if a.password:
        body["credentials"] = {"password": {"value": a.password}}
    user = await _okta(
        await okta_client(traj).create_user(CreateUserRequest.from_dict(body), activate=a.activate)
    )
    traj.cache.setdefault("okta-ids", {})[a.email.lower()] = str(user.id)
    return {
        "id": user.id,
        "login": a.email,
        "status": str(user.status.value if hasattr(user.status, "value") else user.status),
    }


class OktaUserRef(Args):
    user: str


async def _lifecycle(traj: Trajectory, who: str, op: str) -> dict[str, Any]:
    uid = await okta_user_id(traj, who)
    result = await getattr(okta_client(traj), op)(uid)
    err = result[-1]
    if err is not None:
        raise StepFailed(f"okta {op}: {getattr(err, 'error_summary', None) or err}")
    return {"id": uid}


@step("okta.deactivate", OktaUserRef, ("okta",))
async def okta_deactivate(traj: Trajectory, a: OktaUserRef) -> dict[str, Any]:
    """Deactivate (deprovision) a person: status DEPROVISIONED."""
    return await _lifecycle(traj, a.user, "deactivate_user")


@step("okta.suspend", OktaUserRef, ("okta",))
async def okta_suspend(traj: Trajectory, a: OktaUserRef) -> dict[str, Any]:
    """Suspend a person: status SUSPENDED."""
    return await _lifecycle(traj, a.user, "suspend_user")


@step("okta.unsuspend", OktaUserRef, ("okta",))
async def okta_unsuspend(traj: Trajectory, a: OktaUserRef) -> dict[str, Any]:
    """Unsuspend a person: status ACTIVE."""
    return await _lifecycle(traj, a.user, "unsuspend_user")


@step("okta.activate", OktaUserRef, ("okta",))
async def okta_activate(traj: Trajectory, a: OktaUserRef) -> dict[str, Any]:
    """Activate a STAGED person."""
    uid = await okta_user_id(traj, a.user)
    result = await okta_client(traj).activate_user(uid, send_email=False)
    if result[-1] is not None:
        raise StepFailed(f"okta activate_user: {getattr(result[-1], 'error_summary', None) or result[-1]}")
    return {"id": uid}


class OktaLogin(Args):
    user: str
    password: str = "Dtu-Passw0rd!"
    expect: str = "SUCCESS"


@step("okta.login", OktaLogin, ("okta",))
async def okta_login(traj: Trajectory, a: OktaLogin) -> dict[str, Any]:
    """A person signs in through Okta (the Authn API the sign-in page uses); `expect` the status."""
    url = traj.universe.url("okta") + "/api/v1/authn"
    headers = {"Authorization": f"SSWS {traj.creds('okta')['api_token']}", "Accept": "application/json"}
    try:
        r = await traj.universe.http.post(
            url, json={"username": traj.email_of(a.user), "password": a.password}, headers=headers
        )
    except HttpError as exc:
        raise StepFailed(f"okta authn: {exc!r}") from None
    data = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
    status = data.get("status") or data.get("errorCode") or str(r.status_code)
    if status != a.expect:
        raise StepFailed(
            f"okta authn answered {r.status_code} {status}: {data.get('errorSummary', '')}".strip()
        )
    return {"status": status, "session_token": bool(data.get("sessionToken"))}


# -- Jira --------------------------------------------------------------------------------------


class JiraCreate(Args):
    as_: str | None = Field(None, alias="as")
    project: str | None = None
    type: str = "Task"
    summary: str
    description: str | None = None
    labels: list[str] = []
    assignee: str | None = None


@step("jira.create_issue", JiraCreate, ("jira",))
async def jira_create_issue(traj: Trajectory, a: JiraCreate) -> dict[str, Any]:
    """Create an issue (pycontribs `jira`); the result has its `key`."""

    def go() -> dict[str, Any]:
        jira = jira_client(traj, a.as_)
        fields: dict[str, Any] = {
            "project": {"key": a.project or traj.creds("jira").get("project", "DEMO")},
            "issuetype": {"name": a.type},
            "summary": a.summary,
            "labels": a.labels,
        }
        if a.description:
            fields["description"] = a.description
        if a.assignee:
            found = jira.search_users(query=traj.email_of(a.assignee), maxResults=1)
            if not found:
                raise StepFailed(f"no Jira user {a.assignee}")
            fields["assignee"] = {"accountId": found[0].accountId}
        issue = jira.create_issue(fields=fields)
        return {"key": issue.key, "id": issue.id}

    return await asyncio.to_thread(go)


class JiraTransition(Args):
    as_: str | None = Field(None, alias="as")
    issue: str
    to: str


@step("jira.transition", JiraTransition, ("jira",))
async def jira_transition(traj: Trajectory, a: JiraTransition) -> dict[str, Any]:
    """Move an issue along its workflow to the status named `to` (through intermediate edges)."""

    def go() -> dict[str, Any]:
        jira = jira_client(traj, a.as_)
        for _ in range(4):
            status = jira.issue(a.issue, fields="status").fields.status.name
            if status.lower() == a.to.lower():
                return {"key": a.issue, "status": status}
            moves = jira.transitions(a.issue)
            direct = [t for t in moves if t["to"]["name"].lower() == a.to.lower()]
            pick = direct[0] if direct else next((t for t in moves if t["to"]["name"] != status), None)
            if pick is None:
                break
            jira.transition_issue(a.issue, pick["id"])
        raise StepFailed(f"{a.issue} cannot reach {a.to!r}")

    return await asyncio.to_thread(go)


class JiraComment(Args):
    as_: str | None = Field(None, alias="as")
    issue: str
    body: str


@step("jira.comment", JiraComment, ("jira",))
async def jira_comment(traj: Trajectory, a: JiraComment) -> dict[str, Any]:
    """Comment on an issue."""
    comment = await asyncio.to_thread(lambda: jira_client(traj, a.as_).add_comment(a.issue, a.body))
    return {"id": comment.id}


# -- the app, time, and code -------------------------------------------------------------------


class AppCall(Args):
    method: str = "GET"
    path: str
    json_: Any = Field(None, alias="json")
    expect_status: int | None = None


@step("app.call", AppCall)
async def app_call(traj: Trajectory, a: AppCall) -> dict[str, Any]:
    """Call the app under test directly (its own HTTP API)."""
    if not traj.universe.app_url:
        raise InfraError("app.call needs an app under test")
    try:
        r = await traj.universe.http.request(
            a.method, traj.universe.app_url.rstrip("/") + a.path, json=a.json_
        )
    except HttpError as exc:
        raise StepFailed(f"app {a.method} {a.path}: {exc!r}") from None
    if a.expect_status is not None and r.status_code != a.expect_status:
        raise StepFailed(f"app {a.method} {a.path}: {r.status_code}, expected {a.expect_status}")
    try:
        body: Any = r.json()
    except ValueError:
        body = r.text
    return {"status": r.status_code, "body": body}


class Wait(Args):
    s: float = Field(ge=0, le=300)


@step("wait", Wait)
async def wait(traj: Trajectory, a: Wait) -> dict[str, Any]:
    """Pause (a person reading, a coffee break)."""
    await asyncio.sleep(a.s)
    return {}


class ClockAdvance(Args):
    twin: str
    s: float


@step("clock.advance", ClockAdvance)
async def clock_advance(traj: Trajectory, a: ClockAdvance) -> dict[str, Any]:
    """Move one twin's clock for this tenant (token expiry, scheduled work, delivery retries)."""
    result: dict[str, Any] = await traj.control(a.twin, "POST", "/clock", json={"advance_s": a.s})
    return result


class Python(Args):
    fn: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    args: dict[str, Any] = {}


def resolve(ref: str) -> Any:
    module, _, name = ref.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise StepFailed(f"python: cannot import {ref}: {exc}") from None


@step("python", Python)
async def python_step(traj: Trajectory, a: Python) -> Any:
    """Escape hatch: `fn(trajectory, args)` (sync or async) from an importable module."""
    return await maybe_await(resolve(a.fn), traj, a.args)
