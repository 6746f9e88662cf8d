"""App manifests: apps.manifest.create, update, export and validate.

https://docs.slack.dev/reference/app-manifest . A manifest is the whole configuration of an
app: its name, bot user, OAuth scopes, Events API request URL and subscriptions, interactivity
URL and slash commands. `update` replaces the configuration entirely. Setting a new events
request URL makes Slack send the app a signed `url_verification` challenge first; an app that
does not echo it gets `invalid_manifest` with an error pointing at the URL (the handshake is
made by the route between `plan_*` and `apply_*`, outside any transaction).

Divergences: the twin accepts `http://` request URLs (Slack wants HTTPS) so that apps on
loopback can be tested, and `create` also installs the new app into the workspace at once
(bot user and bot token), where Slack would wait for an OAuth install.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson
from sqlalchemy import Row, bindparam, insert, select, update

from dtu.context import TwinContext
from dtu.db import table
from dtu.sql import Prepared
from twins.slack import events, models
from twins.slack.errors import InvalidArguments, SlackError
from twins.slack.service import common
from twins.slack.service.common import APP, USER

TOKEN = table(models.Token)
# Every harness trajectory sets its app's manifest: the app row is read on a prebuilt statement.
_APP_ROW = Prepared(select(APP).where(APP.c.tenant_id == bindparam("tenant"), APP.c.id == bindparam("app")))
METADATA = {"major_version": 1, "minor_version": 1}
REQUEST_URL_POINTER = "/settings/event_subscriptions/request_url"
_APP_ID = re.compile(r"^A[A-Z0-9]{8,}$")
_COLOR = re.compile(r"^#([0-9a-fA-F]{3}){1,2}$")
_BOT_NAME = re.compile(r"^[a-z0-9._-]+$")
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_DIGITS = "0123456789"

# https://docs.slack.dev/reference/app-manifest : field limits
MAX_APP_NAME = 35
MAX_DESCRIPTION = 140
LONG_DESCRIPTION = (175, 4000)
MAX_BOT_NAME = 80
MAX_SLASH_COMMANDS = 50
MAX_COMMAND = 32
MAX_COMMAND_DESCRIPTION = 2000
MAX_USAGE_HINT = 1000
MAX_EVENTS = 100
MAX_SHORTCUTS = 10
MAX_SHORTCUT_NAME = 24
MAX_SHORTCUT_DESCRIPTION = 150
MAX_CALLBACK_ID = 255


# -- parsing and validation --------------------------------------------------------------------


def parse_manifest(raw: Any) -> Any:
    """The `manifest` argument: a JSON string in form bodies, the object itself in JSON bodies."""
    if raw is None or raw == "":
        raise InvalidArguments(messages=["[ERROR] missing required field: manifest"])
    if isinstance(raw, str | bytes):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise SlackError(
                "invalid_manifest",
                extra={
                    "errors": [
                        {"message": "must be a JSON object (the manifest is not valid JSON)", "pointer": "/"}
                    ]
                },
            ) from None
    return raw


def _is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class _Errors:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, message: str, pointer: str) -> None:
        self.items.append({"message": message, "pointer": pointer})

    def obj(self, value: Any, pointer: str) -> dict[str, Any] | None:
        """The value if it is an object (absent is fine), else an error."""
        if value is None:
            return None
        if not isinstance(value, dict):
            self.add("must be object", pointer)
            return None
        return value

    def strings(self, value: Any, pointer: str) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add("must be array of strings", pointer)
            return []
        return value

    def text(
        self,
        container: dict[str, Any],
        key: str,
        pointer: str,
        *,
        required: bool = False,
        max_len: int | None = None,
        min_len: int | None = None,
    ) -> str | None:
        value = container.get(key)
        if value is None:
            if required:
                self.add(f"must have required property '{key}'", pointer)
            return None
        if not isinstance(value, str):
            self.add("must be string", f"{pointer}/{key}")
            return None
        if max_len is not None and len(value) > max_len:
            self.add(f"must NOT have more than {max_len} characters", f"{pointer}/{key}")
        if min_len is not None and len(value) < min_len:
            self.add(f"must NOT have fewer than {min_len} characters", f"{pointer}/{key}")
        return value

    def boolean(self, container: dict[str, Any], key: str, pointer: str, *, required: bool = False) -> bool:
        value = container.get(key)
        if value is None:
            if required:
                self.add(f"must have required property '{key}'", pointer)
            return False
        if not isinstance(value, bool):
            self.add("must be boolean", f"{pointer}/{key}")
            return False
        return value

    def url(self, container: dict[str, Any], key: str, pointer: str) -> str | None:
        value = container.get(key)
        if value is None:
            return None
        if not _is_url(value):
            self.add('must match format "uri"', f"{pointer}/{key}")
            return None
        return str(value)


def manifest_errors(manifest: Any) -> list[dict[str, str]]:
    """Every problem with a manifest, as Slack lists them: [{message, pointer}] (JSON pointers)."""
    e = _Errors()
    if not isinstance(manifest, dict):
        e.add("must be object", "/")
        return e.items
    info = e.obj(manifest.get("display_information"), "/display_information")
    if "display_information" not in manifest:
        e.add("must have required property 'display_information'", "/")
    if info is not None:
        name = e.text(info, "name", "/display_information", required=True, max_len=MAX_APP_NAME, min_len=1)
        if name is not None and not name.strip():
            e.add("must NOT be blank", "/display_information/name")
        e.text(info, "description", "/display_information", max_len=MAX_DESCRIPTION)
        e.text(
            info,
            "long_description",
            "/display_information",
            min_len=LONG_DESCRIPTION[0],
            max_len=LONG_DESCRIPTION[1],
        )
        color = e.text(info, "background_color", "/display_information")
        if color is not None and not _COLOR.match(color):
            e.add('must match pattern "^#([0-9a-fA-F]{3}){1,2}$"', "/display_information/background_color")
    settings = e.obj(manifest.get("settings"), "/settings") or {}
    socket_mode = e.boolean(settings, "socket_mode_enabled", "/settings")
    for flag in ("org_deploy_enabled", "token_rotation_enabled", "is_hosted"):
        e.boolean(settings, flag, "/settings")
    features = e.obj(manifest.get("features"), "/features") or {}
    bot_user = e.obj(features.get("bot_user"), "/features/bot_user")
    if bot_user is not None:
        handle = e.text(
            bot_user, "display_name", "/features/bot_user", required=True, max_len=MAX_BOT_NAME, min_len=1
        )
        if handle and not _BOT_NAME.match(handle):
            e.add(
                "may contain only lowercase letters, numbers, periods, hyphens and underscores",
                "/features/bot_user/display_name",
            )
        e.boolean(bot_user, "always_online", "/features/bot_user")
    _slash_commands(e, features.get("slash_commands"), socket_mode)
    _shortcuts(e, features.get("shortcuts"))
    oauth = e.obj(manifest.get("oauth_config"), "/oauth_config") or {}
    scopes = e.obj(oauth.get("scopes"), "/oauth_config/scopes") or {}
    bot_scopes = e.strings(scopes.get("bot"), "/oauth_config/scopes/bot")
    e.strings(scopes.get("user"), "/oauth_config/scopes/user")
    for i, url in enumerate(e.strings(oauth.get("redirect_urls"), "/oauth_config/redirect_urls")):
        if not _is_url(url):
            e.add('must match format "uri"', f"/oauth_config/redirect_urls/{i}")
    if bot_scopes and bot_user is None:
        e.add("A bot user is required when bot scopes are requested", "/features/bot_user")
    subs = e.obj(settings.get("event_subscriptions"), "/settings/event_subscriptions")
    if subs is not None:
        request_url = e.url(subs, "request_url", "/settings/event_subscriptions")
        bot_events = e.strings(subs.get("bot_events"), "/settings/event_subscriptions/bot_events")
        user_events = e.strings(subs.get("user_events"), "/settings/event_subscriptions/user_events")
        if len(bot_events) > MAX_EVENTS:
            e.add(f"must NOT have more than {MAX_EVENTS} items", "/settings/event_subscriptions/bot_events")
        if (bot_events or user_events) and not request_url and not socket_mode and "request_url" not in subs:
            e.add(
                "Event Subscription requires either Request URL or Socket Mode Enabled",
                "/settings/event_subscriptions",
            )
        if bot_events and bot_user is None:
            e.add("Bot events require a bot user", "/features/bot_user")
        for i, name in enumerate(bot_events):
            needed = events.EVENT_SCOPES.get(name)
            pointer = f"/settings/event_subscriptions/bot_events/{i}"
            if needed is None:
                e.add(f"`{name}` is not a valid bot event", pointer)
            elif needed and not set(needed) & set(bot_scopes):
                e.add(f"Bot event `{name}` requires one of these bot scopes: {', '.join(needed)}", pointer)
    interactivity = e.obj(settings.get("interactivity"), "/settings/interactivity")
    if interactivity is not None:
        enabled = e.boolean(interactivity, "is_enabled", "/settings/interactivity", required=True)
        actions_url = e.url(interactivity, "request_url", "/settings/interactivity")
        e.url(interactivity, "message_menu_options_url", "/settings/interactivity")
        if enabled and not actions_url and not socket_mode and "request_url" not in interactivity:
            e.add("Interactivty requires a Request URL", "/settings/interactivity")  # sic, Slack's spelling
    return e.items


def _slash_commands(e: _Errors, value: Any, socket_mode: bool) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        e.add("must be array", "/features/slash_commands")
        return
    if len(value) > MAX_SLASH_COMMANDS:
        e.add(f"must NOT have more than {MAX_SLASH_COMMANDS} items", "/features/slash_commands")
    seen: set[str] = set()
    for i, cmd in enumerate(value):
        ptr = f"/features/slash_commands/{i}"
        if not isinstance(cmd, dict):
            e.add("must be object", ptr)
            continue
        name = e.text(cmd, "command", ptr, required=True, max_len=MAX_COMMAND)
        if name is not None:
            if not name.startswith("/") or len(name) < 2 or any(c.isspace() for c in name):
                e.add("must start with a slash and contain no spaces", f"{ptr}/command")
            elif name.lower() in seen:
                e.add("must be unique", f"{ptr}/command")
            seen.add(name.lower())
        e.text(cmd, "description", ptr, required=True, max_len=MAX_COMMAND_DESCRIPTION)
        e.text(cmd, "usage_hint", ptr, max_len=MAX_USAGE_HINT)
        e.boolean(cmd, "should_escape", ptr)
        url = e.url(cmd, "url", ptr)
        if url is None and "url" not in cmd and not socket_mode:
            e.add("must have required property 'url'", ptr)


def _shortcuts(e: _Errors, value: Any) -> None:
    """features.shortcuts: https://docs.slack.dev/reference/app-manifest#shortcuts"""
    if value is None:
        return
    if not isinstance(value, list):
        e.add("must be array", "/features/shortcuts")
        return
    if len(value) > MAX_SHORTCUTS:
        e.add(f"must NOT have more than {MAX_SHORTCUTS} items", "/features/shortcuts")
    seen: set[str] = set()
    for i, item in enumerate(value):
        ptr = f"/features/shortcuts/{i}"
        if not isinstance(item, dict):
            e.add("must be object", ptr)
            continue
        e.text(item, "name", ptr, required=True, max_len=MAX_SHORTCUT_NAME, min_len=1)
        kind = e.text(item, "type", ptr, required=True)
        if kind is not None and kind not in ("global", "message"):
            e.add("must be equal to one of the allowed values: global, message", f"{ptr}/type")
        callback = e.text(item, "callback_id", ptr, required=True, max_len=MAX_CALLBACK_ID, min_len=1)
        if callback is not None:
            if callback in seen:
                e.add("must be unique", f"{ptr}/callback_id")
            seen.add(callback)
        e.text(item, "description", ptr, required=True, max_len=MAX_SHORTCUT_DESCRIPTION, min_len=1)


def require_valid(manifest: Any) -> dict[str, Any]:
    errors = manifest_errors(manifest)
    if errors:
        raise SlackError("invalid_manifest", extra={"errors": errors})
    assert isinstance(manifest, dict)
    return manifest


def url_rejected(message: str) -> SlackError:
    """The handshake failed: Slack refuses the manifest and points at the request URL."""
    return SlackError(
        "invalid_manifest", extra={"errors": [{"message": message, "pointer": REQUEST_URL_POINTER}]}
    )


# -- what a manifest configures ----------------------------------------------------------------


def _events_url(manifest: dict[str, Any]) -> str | None:
    settings = manifest.get("settings") or {}
    if settings.get("socket_mode_enabled"):
        return None  # events then flow over Socket Mode, which the twin does not serve
    url = (settings.get("event_subscriptions") or {}).get("request_url")
    return str(url) if url else None


def _bot_scopes(manifest: dict[str, Any]) -> list[str]:
    return list(((manifest.get("oauth_config") or {}).get("scopes") or {}).get("bot") or [])


def _configuration(manifest: dict[str, Any]) -> dict[str, Any]:
    """The `App` columns a manifest sets."""
    settings = manifest.get("settings") or {}
    subs = settings.get("event_subscriptions") or {}
    interactivity = settings.get("interactivity") or {}
    commands = [
        {
            "command": c["command"],
            "url": c.get("url"),
            "description": c["description"],
            "usage_hint": c.get("usage_hint", ""),
            "should_escape": bool(c.get("should_escape", False)),
        }
        for c in (manifest.get("features") or {}).get("slash_commands") or []
    ]
    enabled = bool(interactivity.get("is_enabled"))
    return {
        "name": manifest["display_information"]["name"],
        "manifest": manifest,
        "request_url": _events_url(manifest),
        "bot_events": list(subs.get("bot_events") or []),
        "user_events": list(subs.get("user_events") or []),
        "interactivity_url": interactivity.get("request_url") if enabled else None,
        "options_url": interactivity.get("message_menu_options_url") if enabled else None,
        "slash_commands": commands,
        "shortcuts": list((manifest.get("features") or {}).get("shortcuts") or []),
        "redirect_urls": list((manifest.get("oauth_config") or {}).get("redirect_urls") or []),
    }


def _normalized(manifest: dict[str, Any]) -> dict[str, Any]:
    """What export shows: the manifest as stored, with the defaults Slack fills in."""
    out = copy.deepcopy(manifest)
    out.setdefault("_metadata", dict(METADATA))
    settings = out.setdefault("settings", {})
    for flag in ("org_deploy_enabled", "socket_mode_enabled", "token_rotation_enabled"):
        settings.setdefault(flag, False)
    bot_user = (out.get("features") or {}).get("bot_user")
    if isinstance(bot_user, dict):
        bot_user.setdefault("always_online", False)
    return out


def _from_fixture(ctx: TwinContext, app: Row[Any]) -> dict[str, Any]:
    """A manifest for an app that came from a fixture rather than a manifest."""
    manifest: dict[str, Any] = {"_metadata": dict(METADATA), "display_information": {"name": app.name}}
    features: dict[str, Any] = {}
    bot_scopes: list[str] = []
    if app.bot_user_id:
        bot = ctx.conn.execute(
            select(USER.c.name).where(USER.c.tenant_id == ctx.tenant, USER.c.id == app.bot_user_id)
        ).first()
        features["bot_user"] = {"display_name": bot.name if bot else app.name.lower(), "always_online": False}
        bot_scopes = sorted(
            ctx.conn.execute(
                select(TOKEN.c.scopes).where(
                    TOKEN.c.tenant_id == ctx.tenant, TOKEN.c.app_id == app.id, TOKEN.c.kind == "bot"
                )
            ).scalar()
            or []
        )
    if app.slash_commands:
        features["slash_commands"] = list(app.slash_commands)
    if app.shortcuts:
        features["shortcuts"] = list(app.shortcuts)
    if features:
        manifest["features"] = features
    oauth_config: dict[str, Any] = {}
    if app.redirect_urls:
        oauth_config["redirect_urls"] = list(app.redirect_urls)
    if bot_scopes:
        oauth_config["scopes"] = {"bot": bot_scopes}
    if oauth_config:
        manifest["oauth_config"] = oauth_config
    settings: dict[str, Any] = {}
    if app.request_url or app.bot_events:
        subs: dict[str, Any] = {"bot_events": list(app.bot_events or [])}
        if app.request_url:
            subs["request_url"] = app.request_url
        settings["event_subscriptions"] = subs
    if app.interactivity_url:
        settings["interactivity"] = {"is_enabled": True, "request_url": app.interactivity_url}
        if app.options_url:
            settings["interactivity"]["message_menu_options_url"] = app.options_url
    manifest["settings"] = settings
    return _normalized(manifest)


def current_manifest(ctx: TwinContext, app: Row[Any]) -> dict[str, Any]:
    return _normalized(app.manifest) if app.manifest else _from_fixture(ctx, app)


def get_app(ctx: TwinContext, app_id: str | None) -> Row[Any]:
    """An app of this workspace: a malformed id is `invalid_app_id`, an unknown one `app_not_found`."""
    if not app_id:
        raise InvalidArguments(messages=["[ERROR] missing required field: app_id"])
    if not _APP_ID.match(app_id):
        raise SlackError("invalid_app_id")
    row: Row[Any] | None = _APP_ROW.first(ctx.conn, {"tenant": ctx.tenant, "app": app_id})
    if row is None:
        raise SlackError("app_not_found")
    return row


# -- methods -----------------------------------------------------------------------------------


def validate(ctx: TwinContext, *, manifest: Any, app_id: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/apps.manifest.validate — no handshake here."""
    if app_id:
        get_app(ctx, app_id)
    require_valid(manifest)
    return {"errors": []}


def export(ctx: TwinContext, *, app_id: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/apps.manifest.export"""
    return {"manifest": current_manifest(ctx, get_app(ctx, app_id))}


@dataclass
class Plan:
    """What a manifest call will write, decided before the handshake (which needs the secrets)."""

    app_id: str
    verify_url: str | None  # the events request URL to verify, when it is new
    verification_token: str
    signing_secret: str
    challenge: str
    minted: dict[str, Any] = field(default_factory=dict)


def _challenge(ctx: TwinContext) -> str:
    return ctx.ids.token("url-challenge", length=48, alphabet=_ALNUM)


def plan_update(ctx: TwinContext, *, app_id: str | None, manifest: dict[str, Any]) -> Plan:
    app = get_app(ctx, app_id)
    url = _events_url(manifest)
    return Plan(
        app_id=app.id,
        verify_url=url if url and url != app.request_url else None,
        verification_token=app.verification_token,
        signing_secret=app.signing_secret,
        challenge=_challenge(ctx),
    )


def apply_update(ctx: TwinContext, *, plan: Plan, manifest: dict[str, Any]) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/apps.manifest.update — replaces the whole
    configuration; `permissions_updated` says the scopes changed (Slack then asks for a
    reinstall: the installed tokens keep their scopes)."""
    app = get_app(ctx, plan.app_id)
    before = current_manifest(ctx, app)
    old_scopes = (before.get("oauth_config") or {}).get("scopes") or {}
    new_scopes = (manifest.get("oauth_config") or {}).get("scopes") or {}
    changed = any(sorted(old_scopes.get(k) or []) != sorted(new_scopes.get(k) or []) for k in ("bot", "user"))
    ctx.conn.execute(
        update(APP)
        .where(APP.c.tenant_id == ctx.tenant, APP.c.id == app.id)
        .values(**_configuration(manifest))
    )
    handle = ((manifest.get("features") or {}).get("bot_user") or {}).get("display_name")
    if app.bot_user_id and handle:
        ctx.conn.execute(
            update(USER)
            .where(USER.c.tenant_id == ctx.tenant, USER.c.id == app.bot_user_id)
            .values(name=handle, real_name=manifest["display_information"]["name"], updated=int(ctx.now()))
        )
    return {"app_id": app.id, "permissions_updated": changed}


def plan_create(ctx: TwinContext, *, manifest: dict[str, Any], team_id: str | None) -> Plan:
    if team_id and team_id != common.team_id(ctx):
        raise SlackError("invalid_team_id")
    app_id = ctx.ids.token("app", prefix="A", length=11)
    minted = {
        "client_id": ctx.ids.token("client-id", length=13, alphabet=_DIGITS)
        + "."
        + ctx.ids.token("client-id", length=13, alphabet=_DIGITS),
        "client_secret": ctx.ids.hex("client-secret", 32),
    }
    return Plan(
        app_id=app_id,
        verify_url=_events_url(manifest),
        verification_token=ctx.ids.token("verification-token", length=24, alphabet=_ALNUM),
        signing_secret=ctx.ids.hex("signing-secret", 32),
        challenge=_challenge(ctx),
        minted=minted,
    )


def apply_create(ctx: TwinContext, *, plan: Plan, manifest: dict[str, Any]) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/apps.manifest.create — a new app, owned by the
    caller, with its own credentials; a `bot_user` in the manifest gets a bot user and token."""
    config = _configuration(manifest)
    bot_user_id = bot_id = None
    handle = ((manifest.get("features") or {}).get("bot_user") or {}).get("display_name")
    now = int(ctx.now())
    team = common.team_id(ctx)
    if handle:
        bot_user_id = ctx.ids.token("user", prefix="U", length=11)
        bot_id = ctx.ids.token("bot", prefix="B", length=11)
        ctx.conn.execute(
            insert(USER).values(
                tenant_id=ctx.tenant,
                id=bot_user_id,
                team_id=team,
                name=handle,
                real_name=config["name"],
                display_name="",
                email=None,
                title="",
                is_admin=False,
                is_owner=False,
                is_bot=True,
                is_app_user=False,
                bot_id=bot_id,
                deleted=False,
                profile={},
                updated=now,
            )
        )
        token = (
            "xoxb-"
            + ctx.ids.token("token", length=12, alphabet=_DIGITS)
            + "-"
            + ctx.ids.token("token", length=13, alphabet=_DIGITS)
            + "-"
            + ctx.ids.token("token-secret", length=24, alphabet=_ALNUM)
        )
        ctx.conn.execute(
            insert(TOKEN).values(
                tenant_id=ctx.tenant,
                token=token,
                kind="bot",
                user_id=bot_user_id,
                app_id=plan.app_id,
                scopes=_bot_scopes(manifest),
                revoked=False,
            )
        )
    ctx.conn.execute(
        insert(APP).values(
            tenant_id=ctx.tenant,
            id=plan.app_id,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            signing_secret=plan.signing_secret,
            verification_token=plan.verification_token,
            client_id=plan.minted["client_id"],
            client_secret=plan.minted["client_secret"],
            **config,
        )
    )
    user_scopes = list(((manifest.get("oauth_config") or {}).get("scopes") or {}).get("user") or [])
    query = {"client_id": plan.minted["client_id"], "scope": ",".join(_bot_scopes(manifest))}
    if user_scopes:
        query["user_scope"] = ",".join(user_scopes)
    return {
        "app_id": plan.app_id,
        "credentials": {
            "client_id": plan.minted["client_id"],
            "client_secret": plan.minted["client_secret"],
            "verification_token": plan.verification_token,
            "signing_secret": plan.signing_secret,
        },
        "oauth_authorize_url": f"{ctx.base_url}/oauth/v2/authorize?{urlencode(query, safe=',:')}",
    }
