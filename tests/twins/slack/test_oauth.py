"""Installing an app with OAuth v2: the authorize step a simulated person approves, then
oauth.v2.access, through slack_sdk and through slack_bolt's own OAuth flow over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from slack_bolt import Ack, App, Say
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import FileInstallationStore
from slack_sdk.oauth.state_store import FileOAuthStateStore

from dtu.testing.plugin import Tenant
from dtu.testing.receiver import AppServer
from tests.twins.slack.conftest import slack_error

REDIRECT = "https://app.example.com/slack/oauth_redirect"


def _configure(tenant: Tenant, **app: Any) -> None:
    """The default app, with redirect URLs and anything else given, through a fixture."""
    row = tenant.twin.state("apps", tenant.tenant)[0]
    tenant.twin.control(
        "POST",
        "/seed",
        params={"tenant": tenant.tenant},
        json={
            "apps": [
                {
                    "id": row["id"],
                    "name": row["name"],
                    "bot_id": row["bot_id"],
                    "bot_user": {"id": row["bot_user_id"], "name": "dtu-app", "real_name": "DTU App"},
                    "bot_token": tenant.bot_token,
                    "signing_secret": tenant.signing_secret,
                    "client_id": tenant.client_id,
                    "client_secret": tenant.client_secret,
                    **app,
                }
            ]
        },
    )


def _approve(tenant: Tenant, **body: Any) -> httpx.Response:
    return tenant.twin.admin.post("/_dtu/slack/oauth/authorize", json={"tenant": tenant.tenant, **body})


def _code(redirect: str) -> str:
    return parse_qs(urlsplit(redirect).query)["code"][0]


@pytest.fixture
def oauth_app(slack_tenant: Tenant) -> Tenant:
    _configure(slack_tenant, redirect_urls=[REDIRECT])
    return slack_tenant


def test_approve_then_exchange_the_code(oauth_app: Tenant) -> None:
    approved = _approve(
        oauth_app,
        user="bob@example.com",
        client_id=oauth_app.client_id,
        scope="chat:write,channels:read",
        user_scope="search:read",
        state="xyz",
    )
    assert approved.status_code == 200, approved.text
    redirect = approved.json()["redirect"]
    assert redirect.startswith(REDIRECT + "?code=") and parse_qs(urlsplit(redirect).query)["state"] == ["xyz"]
    anonymous = WebClient(base_url=oauth_app.api_url)
    answer = anonymous.oauth_v2_access(
        client_id=oauth_app.client_id, client_secret=oauth_app.client_secret, code=_code(redirect)
    )
    assert answer["token_type"] == "bot" and answer["app_id"] == oauth_app.app_id
    assert answer["access_token"] == oauth_app.bot_token  # a reinstall keeps the bot token
    assert answer["bot_user_id"] == "U0DTUBOT01" and answer["team"]["id"] == oauth_app.team_id
    assert answer["authed_user"]["id"] == "U0DTUBOB01" and answer["authed_user"]["token_type"] == "user"
    assert "search:read" in answer["authed_user"]["scope"].split(",")
    user = WebClient(token=answer["authed_user"]["access_token"], base_url=oauth_app.api_url)
    assert user.auth_test()["user_id"] == "U0DTUBOB01"
    assert answer["is_enterprise_install"] is False and answer["enterprise"] is None


def test_a_code_is_spent_once(oauth_app: Tenant) -> None:
    code = _code(
        _approve(oauth_app, user="U0DTUALICE", client_id=oauth_app.client_id, scope="chat:write").json()[
            "redirect"
        ]
    )
    anonymous = WebClient(base_url=oauth_app.api_url)
    anonymous.oauth_v2_access(client_id=oauth_app.client_id, client_secret=oauth_app.client_secret, code=code)
    assert (
        slack_error(
            anonymous.oauth_v2_access,
            client_id=oauth_app.client_id,
            client_secret=oauth_app.client_secret,
            code=code,
        )
        == "invalid_code"
    )


def test_a_code_expires_after_ten_minutes(oauth_app: Tenant) -> None:
    code = _code(
        _approve(oauth_app, user="U0DTUALICE", client_id=oauth_app.client_id, scope="chat:write").json()[
            "redirect"
        ]
    )
    oauth_app.twin.clock(tenant=oauth_app.tenant, advance_s=601)
    anonymous = WebClient(base_url=oauth_app.api_url)
    assert (
        slack_error(
            anonymous.oauth_v2_access,
            client_id=oauth_app.client_id,
            client_secret=oauth_app.client_secret,
            code=code,
        )
        == "invalid_code"
    )


def test_oauth_v2_access_errors(oauth_app: Tenant) -> None:
    redirect = _approve(
        oauth_app,
        user="U0DTUALICE",
        client_id=oauth_app.client_id,
        scope="chat:write",
        redirect_uri=REDIRECT + "/x",
    ).json()["redirect"]
    code = _code(redirect)
    anonymous = WebClient(base_url=oauth_app.api_url)
    secret = oauth_app.client_secret
    assert slack_error(anonymous.oauth_v2_access, client_id="1.2", client_secret=secret, code="nope") == (
        "invalid_client_id"
    )
    assert slack_error(
        anonymous.oauth_v2_access, client_id=oauth_app.client_id, client_secret=secret, code="nope"
    ) == ("invalid_code")
    assert slack_error(
        anonymous.oauth_v2_access, client_id=oauth_app.client_id, client_secret="wrong", code=code
    ) == ("bad_client_secret")
    assert (
        slack_error(
            anonymous.oauth_v2_access,
            client_id=oauth_app.client_id,
            client_secret=secret,
            code=code,
            redirect_uri=REDIRECT,
        )
        == "bad_redirect_uri"
    )
    assert (
        slack_error(
            anonymous.oauth_v2_access,
            client_id=oauth_app.client_id,
            client_secret=secret,
            grant_type="password",
        )
        == "invalid_grant_type"
    )
    # Form credentials work as well as HTTP Basic; the code survived the failures above.
    answer = httpx.post(
        oauth_app.api_url + "oauth.v2.access",
        data={
            "client_id": oauth_app.client_id,
            "client_secret": secret,
            "code": code,
            "redirect_uri": REDIRECT + "/x",
        },
    ).json()
    assert answer["ok"] is True and answer["access_token"] == oauth_app.bot_token


def test_cancel_redirects_with_access_denied(oauth_app: Tenant) -> None:
    denied = _approve(
        oauth_app,
        user="U0DTUCAROL",
        client_id=oauth_app.client_id,
        scope="chat:write",
        state="s1",
        approve=False,
    )
    query = parse_qs(urlsplit(denied.json()["redirect"]).query)
    assert query == {"error": ["access_denied"], "state": ["s1"]}
    assert oauth_app.twin.state("oauth_codes", oauth_app.tenant) == []


def test_authorize_refusals(oauth_app: Tenant) -> None:
    assert _approve(oauth_app, user="U0DTUALICE", client_id="0.0", scope="chat:write").status_code == 400
    bad = _approve(
        oauth_app,
        user="U0DTUALICE",
        client_id=oauth_app.client_id,
        scope="chat:write",
        redirect_uri="https://evil.example/",
    )
    assert bad.status_code == 400 and "redirect_uri" in bad.json()["error"]["message"]
    assert _approve(oauth_app, user="U0DTUALICE", client_id=oauth_app.client_id).status_code == 400
    assert (
        _approve(oauth_app, user="U0DTUBOT01", client_id=oauth_app.client_id, scope="chat:write").status_code
        == 400
    )
    webhook = _approve(oauth_app, user="U0DTUALICE", client_id=oauth_app.client_id, scope="incoming-webhook")
    assert webhook.status_code == 400 and webhook.json()["error"]["field"] == "channel"


def test_incoming_webhook_install(oauth_app: Tenant) -> None:
    code = _code(
        _approve(
            oauth_app,
            user="U0DTUALICE",
            client_id=oauth_app.client_id,
            scope="incoming-webhook",
            channel="C0DTURANDM",
        ).json()["redirect"]
    )
    answer = WebClient(base_url=oauth_app.api_url).oauth_v2_access(
        client_id=oauth_app.client_id, client_secret=oauth_app.client_secret, code=code
    )
    hook = answer["incoming_webhook"]
    assert hook["channel"] == "#random" and hook["channel_id"] == "C0DTURANDM"
    assert httpx.post(hook["url"], json={"text": "hello from the hook"}).text == "ok"
    user = WebClient(token=oauth_app.user_token, base_url=oauth_app.api_url)
    assert user.conversations_history(channel="C0DTURANDM")["messages"][0]["text"] == "hello from the hook"


def test_the_authorize_page_names_the_app(oauth_app: Tenant) -> None:
    page = httpx.get(
        f"{oauth_app.url}/oauth/v2/authorize",
        params={"client_id": oauth_app.client_id, "scope": "chat:write"},
    )
    assert page.status_code == 200 and "DTU App" in page.text and "chat:write" in page.text
    assert httpx.get(f"{oauth_app.url}/oauth/v2/authorize", params={"client_id": "0.0"}).status_code == 400


# -- slack_bolt's OAuth flow, end to end -------------------------------------------------------


class BoltOAuth:
    """A Bolt app with OAuth (installation and state stores on disk), served over HTTP."""

    def __init__(self, tenant: Tenant, tmp: Path) -> None:
        self.store = FileInstallationStore(base_dir=str(tmp / "installations"))
        self.app = App(
            signing_secret=tenant.signing_secret,
            client=WebClient(base_url=tenant.api_url),
            process_before_response=True,
            oauth_settings=OAuthSettings(
                client_id=tenant.client_id,
                client_secret=tenant.client_secret,
                scopes=["chat:write", "commands"],
                user_scopes=["search:read"],
                installation_store=self.store,
                state_store=FileOAuthStateStore(expiration_seconds=600, base_dir=str(tmp / "states")),
                authorization_url=f"{tenant.url}/oauth/v2/authorize",
                install_page_rendering_enabled=False,
            ),
        )
        self.server = AppServer(SlackRequestHandler(self.app), wsgi=True).start()
        _configure(
            tenant,
            redirect_urls=[f"{self.server.url}/slack/oauth_redirect"],
            interactivity_url=f"{self.server.url}/slack/events",
            slash_commands=[
                {"command": "/hello", "url": f"{self.server.url}/slack/events", "description": "Hi"}
            ],
        )


@pytest.fixture
def bolt_oauth(slack_tenant: Tenant, tmp_path: Path) -> Iterator[BoltOAuth]:
    served = BoltOAuth(slack_tenant, tmp_path)
    yield served
    served.server.stop()


def test_bolt_install_flow_end_to_end(slack_tenant: Tenant, bolt_oauth: BoltOAuth) -> None:
    said: list[str] = []

    @bolt_oauth.app.command("/hello")
    def hello(ack: Ack, say: Say, context: Any) -> None:
        ack()
        said.append(context["bot_token"])
        say("Hello from an installed app")

    browser = httpx.Client(follow_redirects=False)
    install = browser.get(f"{bolt_oauth.server.url}/slack/install")
    assert install.status_code == 302
    authorize_url = install.headers["location"]
    assert authorize_url.startswith(f"{slack_tenant.url}/oauth/v2/authorize?")
    approved = _approve(slack_tenant, user="alice@example.com", url=authorize_url)
    assert approved.status_code == 200, approved.text
    # The browser returns to the app with its state cookie (Bolt marks it Secure; browsers send
    # it to localhost over http, httpx does not: hand it over as the browser would).
    cookie = install.headers["set-cookie"].split(";", 1)[0]
    back = browser.get(approved.json()["redirect"], headers={"cookie": cookie})
    assert back.status_code == 200, back.text
    installation = bolt_oauth.store.find_installation(enterprise_id=None, team_id=slack_tenant.team_id)
    assert installation is not None and installation.bot_token == slack_tenant.bot_token
    assert installation.user_id == "U0DTUALICE" and installation.user_token
    assert set(installation.bot_scopes or []) >= {"chat:write", "commands"}

    # The installed app serves people: Bolt authorizes the command from its installation store.
    result = slack_tenant.twin.admin.post(
        "/_dtu/slack/commands",
        json={
            "tenant": slack_tenant.tenant,
            "user": "U0DTUBOB01",
            "channel": "C0DTUGENRL",
            "command": "/hello",
        },
    )
    assert result.json()["outcome"] == "acknowledged"
    assert said == [slack_tenant.bot_token]
    history = WebClient(token=slack_tenant.bot_token, base_url=slack_tenant.api_url).conversations_history(
        channel="C0DTUGENRL", limit=1
    )
    assert history["messages"][0]["text"] == "Hello from an installed app"


def test_bolt_rejects_a_redirect_without_its_state(slack_tenant: Tenant, bolt_oauth: BoltOAuth) -> None:
    install = httpx.get(f"{bolt_oauth.server.url}/slack/install")
    approved = _approve(slack_tenant, user="alice@example.com", url=install.headers["location"])
    forged = httpx.get(approved.json()["redirect"])  # no state cookie: another browser
    assert forged.status_code == 400
    assert bolt_oauth.store.find_installation(enterprise_id=None, team_id=slack_tenant.team_id) is None
