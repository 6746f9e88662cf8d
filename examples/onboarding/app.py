"""Onboarding assistant: an app under test built the way people build them, on the official SDKs.

What it does (one "install" per customer, i.e. per Slack workspace + Okta org + Jira site):

- Okta lifecycle event hooks (`user.lifecycle.activate`, `.deactivate`, `.suspend`) arrive at
  `POST /okta/hooks/{install}`:
  - activate: open a Jira onboarding ticket (label `onboarding`, assigned to the person's
    manager from the Okta profile `manager` email), invite the person to `#new-hires` in Slack
    and post a welcome message there with an "I'm all set" button.
  - deactivate / suspend: remove the person from every Slack channel the bot can see, close
    their open onboarding ticket with a comment, and open an `offboarding` ticket.
- Slack (`POST /slack/events`, one URL for events, commands and interactivity, slack_bolt):
  `/onboarding status EMAIL` answers the ticket's key and status; `/onboarding` alone opens a
  modal whose submission creates (and activates) the person in Okta; the "I'm all set" button
  closes the ticket; an `app_mention` gets a threaded reply.

Configuration comes only from the environment: base URLs (`SLACK_API_URL`, `OKTA_ORG_URL`,
`JIRA_URL`), the default install's credentials (`SLACK_BOT_TOKEN`, `SLACK_SIGNING_SECRET`,
`OKTA_API_TOKEN`, `JIRA_EMAIL`, `JIRA_API_TOKEN`, `JIRA_PROJECT`), and two switches:
`ONBOARDING_RESILIENT` (default 1: retries honouring Retry-After on every SDK, and idempotent
handling of redelivered events; 0 turns both off) and `ONBOARDING_BROKEN` (a deliberately broken
variant for the harness's own tests: `skip-invite` never invites to #new-hires).

More installs are registered with `POST /installs` (what an OAuth install flow would store:
the workspace's team id, bot token and signing secret, the org's API token, the site's
credentials). Slack requests are told apart by `team_id` (Bolt's `authorize`), Okta hooks by
the install id in the hook URL. Registering an install again forgets what the app remembered
for it (a fresh install).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true")  # the twin speaks http://

import aiohttp
from jira import JIRA, JIRAError
from okta.client import Client as OktaClient
from okta.models import CreateUserRequest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

log = logging.getLogger("onboarding")
NEW_HIRES = "new-hires"
HOOK_EVENTS = ["user.lifecycle.activate", "user.lifecycle.deactivate", "user.lifecycle.suspend"]


def _flag(name: str, default: str) -> bool:
    return os.environ.get(name, default).strip().lower() not in ("0", "false", "no", "off", "")


@dataclass
class Settings:
    """Everything the app reads from its environment."""

    slack_api_url: str = "https://slack.com/api/"
    okta_org_url: str = ""
    jira_url: str = ""
    resilient: bool = True
    broken: str = ""
    jira_project: str = "DEMO"

    @classmethod
    def from_env(cls) -> Settings:
        slack = os.environ.get("SLACK_API_URL", "https://slack.com/api/")
        return cls(
            slack_api_url=slack if slack.endswith("/") else slack + "/",
            okta_org_url=os.environ.get("OKTA_ORG_URL", "").rstrip("/"),
            jira_url=os.environ.get("JIRA_URL", "").rstrip("/"),
            resilient=_flag("ONBOARDING_RESILIENT", "1"),
            broken=os.environ.get("ONBOARDING_BROKEN", ""),
            jira_project=os.environ.get("JIRA_PROJECT", "DEMO"),
        )


@dataclass
class Install:
    """One customer: a Slack workspace, an Okta org and a Jira site, with their credentials."""

    id: str
    team_id: str
    bot_token: str
    signing_secret: str
    okta_token: str
    jira_email: str
    jira_token: str
    jira_project: str
    hook_secret: str
    seen: set[str] = field(default_factory=set)  # event ids already handled (idempotency)
    channel_ids: dict[str, str] = field(default_factory=dict)
    _okta: OktaClient | None = None
    _jira: JIRA | None = None


class Onboarding:
    """The app: installs, SDK clients per install, and the behaviour."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.installs: dict[str, Install] = {}
        self.by_team: dict[str, Install] = {}
        self.tasks: set[asyncio.Task[Any]] = set()
        self._ticket_locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._session: aiohttp.ClientSession | None = None
        self._jira_fields: dict[str, dict[str, str]] = {}  # site URL -> field names (see keep_jira_fields)
        retry = (
            [
                AsyncRateLimitErrorRetryHandler(max_retry_count=4),
                AsyncServerErrorRetryHandler(max_retry_count=2),
                AsyncConnectionErrorRetryHandler(max_retry_count=2),
            ]
            if settings.resilient
            else []
        )

        # Bolt passes listener/middleware arguments by name: plain functions, not bound methods.
        async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
            return await self._authorize(enterprise_id, team_id)

        async def verify(req: AsyncBoltRequest, resp: BoltResponse, next: Any) -> BoltResponse:
            return await self._verify_signature(req, next)

        self.bolt = AsyncApp(
            client=AsyncWebClient(base_url=settings.slack_api_url, retry_handlers=retry),
            authorize=authorize,
            request_verification_enabled=False,  # verified per install below
            ssl_check_enabled=False,
            url_verification_enabled=True,
        )
        self.bolt.middleware(verify)
        self._wire_slack()
        self.slack_handler = AsyncSlackRequestHandler(self.bolt)
        default = self._default_install()
        if default is not None:
            self.register(default)

    # -- installs --------------------------------------------------------------------------

    def _default_install(self) -> Install | None:
        token = os.environ.get("SLACK_BOT_TOKEN")
        if not token:
            return None
        return Install(
            id="default",
            team_id=os.environ.get("SLACK_TEAM_ID", "T0DTUTEAM1"),
            bot_token=token,
            signing_secret=os.environ.get("SLACK_SIGNING_SECRET", ""),
            okta_token=os.environ.get("OKTA_API_TOKEN", ""),
            jira_email=os.environ.get("JIRA_EMAIL", ""),
            jira_token=os.environ.get("JIRA_API_TOKEN", ""),
            jira_project=self.settings.jira_project,
            hook_secret=os.environ.get("OKTA_HOOK_SECRET", "dtu-hook-secret"),
        )

    def register(self, install: Install) -> None:
        old = self.installs.pop(install.id, None)
        if old is not None:
            self.by_team.pop(old.team_id, None)
        self.installs[install.id] = install
        self.by_team[install.team_id] = install

    def okta(self, inst: Install) -> OktaClient:
        """The install's okta SDK client, on the app's connection pool (without a session, the
        SDK builds one, and opens a connection, for every request). The SDK does not retry a
        request that met a connection the server had just closed; `okta_user` does, for the
        reads (idle connections are dropped after 1.5 s, long before the server would)."""
        if inst._okta is None:
            inst._okta = OktaClient(
                {
                    "orgUrl": self.settings.okta_org_url,
                    "token": inst.okta_token,
                    "rateLimit": {"maxRetries": 3 if self.settings.resilient else 0},
                    "cache": {"enabled": False},
                    "requestTimeout": 10,
                }
            )
            inst._okta.get_request_executor().set_session(self.session())  # type: ignore[no-untyped-call]
            _drop_okta_log_handlers()
        return inst._okta

    def jira(self, inst: Install) -> JIRA:
        if inst._jira is None:
            inst._jira = JIRA(
                server=self.settings.jira_url,
                basic_auth=(inst.jira_email, inst.jira_token),
                max_retries=3 if self.settings.resilient else 0,
                timeout=10,
                get_server_info=False,  # one call less per install: the app needs no version
            )
            # requests reads proxy settings from the whole environment on every request
            # (two walks of os.environ); the app's configuration is explicit, so it need not
            inst._jira._session.trust_env = False
            known = self._jira_fields.get(self.settings.jira_url)
            if known:  # the site's field names, as a client of this site fetched them
                inst._jira._fields_cache_value = dict(known)
        return inst._jira

    def keep_jira_fields(self, jira: JIRA) -> None:
        """Remember the site's field names once a client has fetched them (its first search
        does, `GET /field`), so that the site's next clients need not: field metadata is per
        site (its URL), and the app only ever asks for standard fields."""
        value = getattr(jira, "_fields_cache_value", None)
        if value and self.settings.jira_url not in self._jira_fields:
            self._jira_fields[self.settings.jira_url] = dict(value)

    def slack(self, inst: Install) -> AsyncWebClient:
        """A Web API client for the install, on the app's one connection pool (slack_sdk
        would otherwise open a session, and a connection, for every call)."""
        base = self.bolt.client
        return AsyncWebClient(
            token=inst.bot_token,
            base_url=base.base_url,
            retry_handlers=list(base.retry_handlers),
            session=self.session(),
        )

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # idle connections are dropped well before the server would (uvicorn: 5 s)
            connector = aiohttp.TCPConnector(limit=200, keepalive_timeout=1.5)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=30)
            )
        return self._session

    def forget(self, install_id: str) -> None:
        """An uninstall: its credentials, and what the app remembered for it."""
        inst = self.installs.pop(install_id, None)
        if inst is not None:
            self.by_team.pop(inst.team_id, None)
        with self._locks_guard:
            for k in [k for k in self._ticket_locks if k[0] == install_id]:
                del self._ticket_locks[k]

    async def okta_user(self, inst: Install, user_id: str) -> Any:
        """GET the person from Okta, up to twice more after a connection error when resilient
        (a read is safe to repeat; the Slack client's connection-error retries are the same).
        The SDK does not retry those, and reports them badly: it gives the aiohttp error back,
        or fails on the missing response with an AttributeError."""
        for attempt in (1, 2, 3):
            err: object
            try:
                user, _, err = await self.okta(inst).get_user(user_id)
            except AttributeError as exc:  # okta SDK: `response.status` of no response
                user, err = None, exc
            if err is None:
                return user
            lost = isinstance(err, aiohttp.ClientConnectionError | AttributeError)
            if attempt == 3 or not self.settings.resilient or not lost:
                raise RuntimeError(f"okta get_user: {err!r}")
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    def first_time(self, inst: Install, event_id: str | None) -> bool:
        """Idempotency: a redelivered event (same id) is acknowledged but not handled again."""
        if not self.settings.resilient or not event_id:
            return True
        if event_id in inst.seen:
            return False
        inst.seen.add(event_id)
        return True

    def spawn(self, coro: Any) -> None:
        """Work after the 200: Okta and Slack both want a quick answer."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("background work failed: %r", task.exception())

    # -- Slack (Bolt) ----------------------------------------------------------------------

    async def _authorize(self, enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        inst = self.by_team.get(team_id or "")
        if inst is None:
            raise ValueError(f"no install for team {team_id}")
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=inst.bot_token)

    async def _verify_signature(self, req: AsyncBoltRequest, next: Any) -> BoltResponse:
        """Slack's signing check (v0 HMAC of the raw body) with the install's own secret."""
        if self.bolt.client.session is None:  # Bolt gives listeners clients on this session
            self.bolt.client.session = self.session()
        inst = self.by_team.get(req.context.team_id or "")
        ts = (req.headers.get("x-slack-request-timestamp") or [""])[0]
        sig = (req.headers.get("x-slack-signature") or [""])[0]
        if inst is None or not ts.isdigit() or abs(time.time() - int(ts)) > 300:
            return BoltResponse(status=401, body="")
        base = f"v0:{ts}:{req.raw_body}".encode()
        expected = "v0=" + hmac.new(inst.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, sig):
            return BoltResponse(status=401, body="")
        req.context["install"] = inst
        return await next()  # type: ignore[no-any-return]

    def _wire_slack(self) -> None:
        app = self.bolt

        @app.command("/onboarding")
        async def onboarding_command(ack: Any, command: dict[str, Any], context: AsyncBoltContext) -> None:
            inst: Install = context["install"]
            words = (command.get("text") or "").split()
            if not words:
                await ack()
                await context.client.views_open(trigger_id=command["trigger_id"], view=_new_hire_modal())
                return
            if words[0] == "status" and len(words) > 1:
                email = words[1].strip("<>").removeprefix("mailto:").split("|")[0]
                issue = await asyncio.to_thread(self.find_ticket, inst, email, "onboarding")
                if issue is None:
                    await ack(f"No onboarding ticket for {email}.")
                else:
                    await ack(f"{issue.key}: {issue.fields.status.name}")
                return
            await ack("Usage: /onboarding status EMAIL, or /onboarding to add a new hire.")

        @app.view("new_hire")
        async def new_hire_submitted(ack: Any, view: dict[str, Any], context: AsyncBoltContext) -> None:
            inst: Install = context["install"]
            values = view["state"]["values"]

            def val(block: str) -> str:
                return str(values.get(block, {}).get("value", {}).get("value") or "").strip()

            email = val("email")
            if "@" not in email:
                await ack(response_action="errors", errors={"email": "An email address, please."})
                return
            await ack()
            body = CreateUserRequest.from_dict(
                {
                    "profile": {
                        "firstName": val("first_name") or email.split("@")[0],
                        "lastName": val("last_name") or "-",
                        "email": email,
                        "login": email,
                        "department": val("department"),
                        "manager": val("manager"),
                    }
                }
            )
            _, _, err = await self.okta(inst).create_user(body, activate=True)
            if err is not None:
                log.warning("okta create_user failed: %s", err)

        @app.action("onboarding_done")
        async def done_clicked(ack: Any, body: dict[str, Any], context: AsyncBoltContext) -> None:
            await ack()
            inst: Install = context["install"]
            key = body["actions"][0]["value"]
            await asyncio.to_thread(self.close_ticket, inst, key, "Marked done from Slack.")
            msg = body.get("message") or {}
            await context.client.chat_update(
                channel=body["channel"]["id"],
                ts=str(msg.get("ts") or ""),
                text=f"{key} is done. Welcome aboard!",
                blocks=[],
            )

        @app.event("app_mention")
        async def mentioned(body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
            inst: Install = context["install"]
            if not self.first_time(inst, body.get("event_id")):
                return
            await context.client.chat_postMessage(
                channel=event["channel"],
                thread_ts=event.get("thread_ts") or event["ts"],
                text=f"Hi <@{event.get('user')}>! Try `/onboarding status EMAIL`.",
            )

    # -- Okta event hooks ------------------------------------------------------------------

    async def okta_hook(self, request: Request) -> Response:
        inst = self.installs.get(request.path_params["install"])
        if inst is None or not hmac.compare_digest(
            request.headers.get("authorization", ""), inst.hook_secret
        ):
            return JSONResponse({"error": "unknown hook"}, status_code=401)
        if request.method == "GET":  # the one-time verification
            return JSONResponse({"verification": request.headers.get("x-okta-verification-challenge", "")})
        payload = await request.json()
        for event in (payload.get("data") or {}).get("events") or []:
            if self.first_time(inst, event.get("uuid")):
                self.spawn(self.on_okta_event(inst, event))
        return Response(status_code=200)

    async def on_okta_event(self, inst: Install, event: dict[str, Any]) -> None:
        target = next((t for t in event.get("target") or [] if t.get("type") == "User"), None)
        if target is None:
            return
        kind = event.get("eventType")
        if kind == "user.lifecycle.activate":
            await self.onboard(inst, target["id"])
        elif kind in ("user.lifecycle.deactivate", "user.lifecycle.suspend"):
            await self.offboard(inst, target.get("alternateId") or "")

    async def onboard(self, inst: Install, user_id: str) -> None:
        user = await self.okta_user(inst, user_id)
        profile = user.profile
        email = profile.email or profile.login
        name = f"{profile.first_name} {profile.last_name}".strip()
        manager = getattr(profile, "manager", None) or ""
        department = getattr(profile, "department", None) or ""
        key = await asyncio.to_thread(self.open_ticket, inst, email, name, department, manager)
        client = self.slack(inst)
        try:
            found = await client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if exc.response.get("error") == "users_not_found":
                return  # not in Slack (yet): nothing to invite
            raise
        slack_user = found["user"]["id"]
        channel = await self.channel_id(inst, client, NEW_HIRES)
        if channel is None:
            return
        if self.settings.broken != "skip-invite":
            try:
                await client.conversations_invite(channel=channel, users=slack_user)
            except SlackApiError as exc:
                if exc.response.get("error") != "already_in_channel":
                    raise
        await client.chat_postMessage(
            channel=channel,
            text=f"Welcome <@{slack_user}>! Your onboarding ticket is {key}.",
            blocks=[
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": f"Welcome <@{slack_user}>! Ticket *{key}*."},
                },
                {
                    "type": "actions",
                    "block_id": "onboarding",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "onboarding_done",
                            "text": {"type": "plain_text", "text": "I'm all set"},
                            "value": key,
                        }
                    ],
                },
            ],
        )

    async def offboard(self, inst: Install, email: str) -> None:
        client = self.slack(inst)
        try:
            found = await client.users_lookupByEmail(email=email)
            slack_user: str | None = found["user"]["id"]
        except SlackApiError as exc:
            if exc.response.get("error") != "users_not_found":
                raise
            slack_user = None
        if slack_user is not None:
            cursor = None
            while True:
                page = await client.users_conversations(
                    user=slack_user, types="public_channel,private_channel", limit=200, cursor=cursor
                )
                for conv in page["channels"]:
                    if conv.get("is_general"):
                        continue
                    with contextlib.suppress(SlackApiError):
                        await client.conversations_kick(channel=conv["id"], user=slack_user)
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        await asyncio.to_thread(self.offboard_tickets, inst, email)

    async def channel_id(self, inst: Install, client: AsyncWebClient, name: str) -> str | None:
        if name not in inst.channel_ids:
            cursor = None
            while True:
                page = await client.conversations_list(types="public_channel", limit=200, cursor=cursor)
                for conv in page["channels"]:
                    inst.channel_ids[conv["name"]] = conv["id"]
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        return inst.channel_ids.get(name)

    # -- Jira (pycontribs `jira`, synchronous: run in a thread) -----------------------------

    def open_ticket(self, inst: Install, email: str, name: str, department: str, manager: str) -> str:
        jira = self.jira(inst)
        fields: dict[str, Any] = {
            "project": {"key": inst.jira_project},
            "issuetype": {"name": "Task"},
            "summary": f"Onboard {name} <{email}>",
            "description": f"New hire {name} ({email}) joins {department or 'the company'}.",
            "labels": ["onboarding"],
        }
        if manager:
            users = jira.search_users(query=manager, maxResults=1)
            if users:
                fields["assignee"] = {"accountId": users[0].accountId}
        return str(jira.create_issue(fields=fields, prefetch=False).key)  # the key is all it needs

    def find_ticket(self, inst: Install, email: str, label: str) -> Any:
        jql = f'project = {inst.jira_project} AND labels = {label} AND summary ~ "\\"{email}\\"" ORDER BY created DESC'
        jira = self.jira(inst)
        found = jira.search_issues(jql, maxResults=1, fields="status")
        self.keep_jira_fields(jira)
        return found[0] if found else None

    def close_ticket(self, inst: Install, key: str, comment: str) -> bool:
        """Move the ticket forward to a done status, with the comment on the closing transition;
        True if this call closed it, False if it was (or got) closed by someone else.

        Two paths can close the same ticket at once (the "I'm all set" button, and the person
        being suspended or deactivated). One closer at a time per ticket in this process (the
        lock), and, for other processes and people in Jira, check-then-transition: only
        forward moves (never "Reopen" from Done), and a transition Jira refuses because the
        ticket moved meanwhile (400: not valid for this issue) means: look again."""
        jira = self.jira(inst)
        with self._ticket_lock(inst, key):
            for _ in range(5):
                status = jira.issue(key, fields="status").fields.status.statusCategory.key
                if status == "done":
                    return False
                moves = jira.transitions(key)
                done = [t for t in moves if t["to"]["statusCategory"]["key"] == "done"]
                ahead = [t for t in moves if t["to"]["statusCategory"]["key"] == "indeterminate"]
                pick = done[0] if done else ahead[0] if ahead and status == "new" else None
                if pick is None:
                    log.warning("%s cannot move towards done from %s", key, status)
                    return False
                closing = pick in done
                try:
                    jira.transition_issue(key, pick["id"], comment=comment if closing else None)
                except JIRAError as exc:
                    if exc.status_code in (400, 409):  # it moved under us: read it again
                        continue
                    raise
                if closing:
                    return True
        return False

    def _ticket_lock(self, inst: Install, key: str) -> threading.Lock:
        with self._locks_guard:
            return self._ticket_locks.setdefault((inst.id, key), threading.Lock())

    def offboard_tickets(self, inst: Install, email: str) -> None:
        jira = self.jira(inst)
        jql = (
            f'project = {inst.jira_project} AND labels = onboarding AND summary ~ "\\"{email}\\"" '
            "AND statusCategory != Done"
        )
        open_tickets = jira.search_issues(jql, maxResults=20, fields="status")
        self.keep_jira_fields(jira)
        for issue in open_tickets:
            self.close_ticket(inst, issue.key, "Cancelled: the person was deprovisioned in Okta.")
        jira.create_issue(
            fields={
                "project": {"key": inst.jira_project},
                "issuetype": {"name": "Task"},
                "summary": f"Offboard <{email}>",
                "labels": ["offboarding"],
            },
            prefetch=False,
        )


def _drop_okta_log_handlers() -> None:
    """The okta SDK adds a StreamHandler to its (disabled) logger for every Client it builds:
    one Client per install would leak one per install. One is enough."""
    handlers = logging.getLogger("okta-sdk-python").handlers
    del handlers[1:]


def _new_hire_modal() -> dict[str, Any]:
    def field_(block: str, label: str) -> dict[str, Any]:
        return {
            "type": "input",
            "block_id": block,
            "label": {"type": "plain_text", "text": label},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }

    return {
        "type": "modal",
        "callback_id": "new_hire",
        "title": {"type": "plain_text", "text": "New hire"},
        "submit": {"type": "plain_text", "text": "Add"},
        "blocks": [
            field_("first_name", "First name"),
            field_("last_name", "Last name"),
            field_("email", "Email"),
            field_("department", "Department"),
            field_("manager", "Manager's email"),
        ],
    }


def manifest(app_url: str) -> dict[str, Any]:
    """The Slack app manifest for this app at `app_url` (what an admin pastes into Slack)."""
    url = app_url.rstrip("/") + "/slack/events"
    return {
        "display_information": {"name": "Onboarding"},
        "features": {
            "bot_user": {"display_name": "onboarding"},
            "slash_commands": [{"command": "/onboarding", "url": url, "description": "New hires"}],
        },
        "oauth_config": {
            "scopes": {
                "bot": [
                    "app_mentions:read",
                    "channels:read",
                    "channels:manage",
                    "chat:write",
                    "commands",
                    "groups:read",
                    "users:read",
                    "users:read.email",
                ]
            }
        },
        "settings": {
            "event_subscriptions": {"request_url": url, "bot_events": ["app_mention"]},
            "interactivity": {"is_enabled": True, "request_url": url},
        },
    }


def create_app(settings: Settings | None = None) -> Starlette:
    """The ASGI app (uvicorn `examples.onboarding.app:create_app --factory`)."""
    core = Onboarding(settings or Settings.from_env())

    async def slack_events(request: Request) -> Response:
        return await core.slack_handler.handle(request)  # type: ignore[no-any-return]

    async def register(request: Request) -> Response:
        body = await request.json()
        try:
            inst = Install(
                id=str(body["install"]),
                team_id=body["slack"]["team_id"],
                bot_token=body["slack"]["bot_token"],
                signing_secret=body["slack"]["signing_secret"],
                okta_token=(body.get("okta") or {}).get("api_token", ""),
                jira_email=(body.get("jira") or {}).get("email", ""),
                jira_token=(body.get("jira") or {}).get("api_token", ""),
                jira_project=(body.get("jira") or {}).get("project") or core.settings.jira_project,
                hook_secret=(body.get("okta") or {}).get("hook_secret", "dtu-hook-secret"),
            )
        except (KeyError, TypeError) as exc:
            return JSONResponse({"error": f"missing {exc}"}, status_code=400)
        core.register(inst)
        answer: dict[str, Any] = {"install": inst.id}
        if inst.okta_token:  # Okta tells the app about lifecycle changes through an event hook
            answer.update(okta_hook_url=f"/okta/hooks/{inst.id}", hook_events=HOOK_EVENTS)
        return JSONResponse(answer, status_code=201)

    async def forget(request: Request) -> Response:
        core.forget(request.path_params["install"])
        return Response(status_code=204)

    async def health(_request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "installs": len(core.installs),
                "resilient": core.settings.resilient,
                "broken": core.settings.broken or None,
                "busy": len(core.tasks),
            }
        )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await core.aclose()

    async def app_manifest(request: Request) -> Response:
        return JSONResponse(manifest(str(request.query_params.get("url") or request.base_url)))

    app = Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/okta/hooks/{install}", core.okta_hook, methods=["GET", "POST"]),
            Route("/installs", register, methods=["POST"]),
            Route("/installs/{install}", forget, methods=["DELETE"]),
            Route("/health", health, methods=["GET"]),
            Route("/manifest", app_manifest, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.core = core
    return app
