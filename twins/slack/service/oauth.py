"""Installing an app with OAuth v2: the authorize step a person approves, and oauth.v2.access.

https://docs.slack.dev/authentication/installing-with-oauth . The app sends the installer's
browser to `/oauth/v2/authorize?client_id=...&scope=...&user_scope=...&redirect_uri=...&state=...`
(the `oauth_authorize_url` apps.manifest.create answers); a simulated person approves it through
the control plane (`POST /_dtu/slack/oauth/authorize`), which answers the redirect to the app
with a temporary `code` (or `error=access_denied`). The app exchanges the code with
oauth.v2.access (client credentials in HTTP Basic auth or the form) for its bot token and, with
user scopes, the installer's user token. Codes are single-use and live 10 minutes on the twin
clock. Reinstalling keeps the same tokens and adds the newly granted scopes, as Slack does.
Token rotation is not modelled (`refresh_token` grants answer `invalid_refresh_token`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from sqlalchemy import Connection, Row, insert, select, update

from dtu.context import TwinContext
from dtu.db import table
from twins.slack import models
from twins.slack.errors import SlackError
from twins.slack.service import common
from twins.slack.service.common import APP, TEAM
from twins.slack.service.interactions import Refused, install_webhook, resolve_user

CODE = table(models.OAuthCode)
TOKEN = table(models.Token)
CODE_TTL_S = 600  # "The code expires after ten minutes."
_DIGITS = "0123456789"
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _scopes(value: Any) -> list[str]:
    """`scope=chat:write,commands` (commas or spaces), in the order asked, without repeats."""
    if value is None:
        return []
    if not isinstance(value, str):
        raise Refused(400, "scopes are a comma-separated string", "scope")
    out: list[str] = []
    for part in value.replace(" ", ",").split(","):
        if part and part not in out:
            out.append(part)
    return out


def _redirect_target(app: Row[Any], given: Any) -> str:
    """The URL the person goes back to: the one asked for if it is (under) a configured redirect
    URL, else the first configured one."""
    configured = [str(u) for u in app.redirect_urls or []]
    if given is None or given == "":
        if not configured:
            raise Refused(
                400, f"app {app.id} has no redirect URL (oauth_config.redirect_urls)", "redirect_uri"
            )
        return configured[0]
    if not isinstance(given, str):
        raise Refused(400, "redirect_uri is a URL", "redirect_uri")
    for url in configured:
        base = url.rstrip("/")
        if given in (url, base) or given.startswith((base + "/", base + "?")):
            return given
    raise Refused(400, "redirect_uri did not match any configured URIs", "redirect_uri")


def _with_query(url: str, params: dict[str, str]) -> str:
    return url + ("&" if urlsplit(url).query else "?") + urlencode(params)


def authorize(
    ctx: TwinContext, *, user: Any, request: dict[str, Any], channel: Any, approve: bool
) -> dict[str, Any]:
    """A person opens the authorize URL and presses Allow (or Cancel). `request` holds the
    authorize URL's parameters. Answers where the browser is redirected."""
    person = resolve_user(ctx, user)
    client_id = request.get("client_id")
    app = ctx.conn.execute(
        select(APP).where(
            APP.c.tenant_id == ctx.tenant, APP.c.client_id == (client_id or ""), APP.c.client_id != ""
        )
    ).first()
    if app is None:
        raise Refused(400, "Invalid client_id parameter", "client_id")
    scopes, user_scopes = _scopes(request.get("scope")), _scopes(request.get("user_scope"))
    if not scopes and not user_scopes:
        raise Refused(400, "Invalid permissions requested: no scope or user_scope", "scope")
    if scopes and not app.bot_user_id:
        raise Refused(400, f"app {app.id} has no bot user to grant bot scopes to", "scope")
    target = _redirect_target(app, request.get("redirect_uri"))
    state = request.get("state")
    params: dict[str, str] = {}
    if not approve:
        params["error"] = "access_denied"
        if isinstance(state, str) and state:
            params["state"] = state
        return {"outcome": "denied", "redirect": _with_query(target, params), "app_id": app.id}
    webhook_channel = None
    if "incoming-webhook" in scopes:
        if not channel or not isinstance(channel, str):
            raise Refused(
                400, "incoming-webhook asks the person to pick a channel: give `channel`", "channel"
            )
        try:
            conv = common.get_conversation(ctx, channel)
        except SlackError:
            raise Refused(404, f"no channel {channel!r} in this workspace", "channel") from None
        webhook_channel = conv.id
    code = (
        ctx.ids.token("oauth-code", length=10, alphabet=_DIGITS)
        + "."
        + ctx.ids.token("oauth-code", length=13, alphabet=_DIGITS)
        + "."
        + ctx.ids.hex("oauth-code-secret", 64)
    )
    ctx.conn.execute(
        insert(CODE).values(
            tenant_id=ctx.tenant,
            code=code,
            app_id=app.id,
            user_id=person.id,
            scopes=scopes,
            user_scopes=user_scopes,
            redirect_uri=request.get("redirect_uri") or None,
            webhook_channel=webhook_channel,
            issued_at=ctx.now(),
            used=False,
        )
    )
    params["code"] = code
    if isinstance(state, str) and state:
        params["state"] = state
    return {"outcome": "approved", "redirect": _with_query(target, params), "code": code, "app_id": app.id}


def authorize_params(url: Any) -> dict[str, Any]:
    """The parameters of an authorize URL as the app built it."""
    if not isinstance(url, str) or "/oauth/v2/authorize" not in url:
        raise Refused(400, "url is the app's /oauth/v2/authorize URL", "url")
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


# -- oauth.v2.access ---------------------------------------------------------------------------


def tenant_of_code(conn: Connection, code: str) -> str | None:
    """The tenant a code was minted in (the code is the only thing that names it)."""
    found = conn.execute(select(CODE.c.tenant_id).where(CODE.c.code == code)).scalar()
    return str(found) if found is not None else None


def client_known(conn: Connection, client_id: str) -> bool:
    return (
        conn.execute(select(APP.c.id).where(APP.c.client_id == client_id, APP.c.client_id != "")).first()
        is not None
    )


def _mint(ctx: TwinContext, prefix: str) -> str:
    return (
        prefix
        + ctx.ids.token("token", length=12, alphabet=_DIGITS)
        + "-"
        + ctx.ids.token("token", length=13, alphabet=_DIGITS)
        + "-"
        + ctx.ids.token("token-secret", length=24, alphabet=_ALNUM)
    )


def _grant(
    ctx: TwinContext, *, kind: str, app_id: str, user_id: str, scopes: list[str]
) -> tuple[str, list[str]]:
    """The app's token for this user (its bot user, or the installer): kept across reinstalls,
    with the new scopes added to those granted before."""
    row = ctx.conn.execute(
        select(TOKEN)
        .where(
            TOKEN.c.tenant_id == ctx.tenant,
            TOKEN.c.app_id == app_id,
            TOKEN.c.user_id == user_id,
            TOKEN.c.kind == kind,
            TOKEN.c.revoked.is_(False),
        )
        .order_by(TOKEN.c.token)
    ).first()
    if row is None:
        token = _mint(ctx, "xoxb-" if kind == "bot" else "xoxp-")
        ctx.conn.execute(
            insert(TOKEN).values(
                tenant_id=ctx.tenant,
                token=token,
                kind=kind,
                user_id=user_id,
                app_id=app_id,
                scopes=scopes,
                revoked=False,
            )
        )
        return token, scopes
    granted = list(row.scopes or []) + [s for s in scopes if s not in (row.scopes or [])]
    ctx.conn.execute(
        update(TOKEN)
        .where(TOKEN.c.tenant_id == ctx.tenant, TOKEN.c.token == row.token)
        .values(scopes=granted)
    )
    return str(row.token), granted


def access(
    ctx: TwinContext,
    *,
    code: str,
    client_id: str | None,
    client_secret: str | None,
    redirect_uri: str | None,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/oauth.v2.access"""
    row = ctx.conn.execute(select(CODE).where(CODE.c.tenant_id == ctx.tenant, CODE.c.code == code)).one()
    app = ctx.conn.execute(select(APP).where(APP.c.tenant_id == ctx.tenant, APP.c.id == row.app_id)).one()
    if client_id != app.client_id:
        raise SlackError("invalid_client_id")
    if client_secret != app.client_secret:
        raise SlackError("bad_client_secret")
    if row.used or ctx.now() - row.issued_at > CODE_TTL_S:
        raise SlackError("invalid_code")
    if row.redirect_uri is not None and redirect_uri != row.redirect_uri:
        raise SlackError("bad_redirect_uri")
    if row.redirect_uri is None and redirect_uri and redirect_uri not in (app.redirect_urls or [])[:1]:
        raise SlackError("bad_redirect_uri")
    ctx.conn.execute(
        update(CODE).where(CODE.c.tenant_id == ctx.tenant, CODE.c.code == code).values(used=True)
    )
    team = ctx.conn.execute(select(TEAM).where(TEAM.c.tenant_id == ctx.tenant)).one()
    out: dict[str, Any] = {"app_id": app.id}
    if row.scopes:
        token, granted = _grant(
            ctx, kind="bot", app_id=app.id, user_id=app.bot_user_id, scopes=list(row.scopes)
        )
        out.update(access_token=token, token_type="bot", scope=",".join(granted), bot_user_id=app.bot_user_id)
    authed: dict[str, Any] = {"id": row.user_id}
    if row.user_scopes:
        token, granted = _grant(
            ctx, kind="user", app_id=app.id, user_id=row.user_id, scopes=list(row.user_scopes)
        )
        authed.update(scope=",".join(granted), access_token=token, token_type="user")
    out.update(
        authed_user=authed,
        team={"name": team.name, "id": team.id},
        enterprise=None,
        is_enterprise_install=False,
    )
    if row.webhook_channel:
        conv = common.get_conversation(ctx, row.webhook_channel)
        path = install_webhook(ctx, conv, app, installer=row.user_id)
        out["incoming_webhook"] = {
            "channel": f"#{conv.name}" if conv.kind in ("channel", "group") else conv.id,
            "channel_id": conv.id,
            "configuration_url": f"https://{team.domain}.slack.com/services/{path.split('/')[0]}",
            "url": f"{ctx.base_url}/services/{team.id}/{path}",
        }
    return out


def consent_page(conn: Connection, params: dict[str, str]) -> tuple[int, str]:
    """What a browser sees at the authorize URL: the app asking for its scopes. The twin has no
    signed-in person, so approving is the control plane's `POST /_dtu/slack/oauth/authorize`."""
    from html import escape

    client_id = params.get("client_id", "")
    app = conn.execute(select(APP.c.name).where(APP.c.client_id == client_id, APP.c.client_id != "")).first()
    if app is None:
        return 400, "<!doctype html><title>Slack</title><h1>Invalid client_id parameter</h1>"
    scopes = ", ".join(_scopes(params.get("scope")) + _scopes(params.get("user_scope")))
    return 200, (
        f"<!doctype html><title>Slack</title><h1>{escape(app.name)} is requesting permission</h1>"
        f"<p>Scopes: {escape(scopes)}</p>"
        "<p>Approve as a simulated person: <code>POST /_dtu/slack/oauth/authorize</code> with this URL.</p>"
    )
