"""Slack datasets: the default workspace (CONTRACT.md section 4) and the fixture loader.

A fixture is JSON: `team`, `users`, `apps` (each with its bot user, bot token, signing secret
and event/interactivity configuration), extra `tokens`, `channels` (with `members`) and
`messages`. Loading is an upsert by id, so `POST /_dtu/seed` can add to a running workspace.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from dtu.context import TwinContext
from dtu.db import table, upsert
from dtu.sql import Prepared
from twins.slack import catalog, models
from twins.slack.service import common

ALICE, BOB, CAROL, BOT_USER = "U0DTUALICE", "U0DTUBOB01", "U0DTUCAROL", "U0DTUBOT01"
GENERAL, RANDOM = "C0DTUGENRL", "C0DTURANDM"


def _scopes(kind: str) -> list[str]:
    return list(_all_scopes(kind))


@functools.cache
def _all_scopes(kind: str) -> tuple[str, ...]:
    """Every scope the implemented methods ask of this token kind (admin scopes aside); once
    per process (every new tenant asks for them, and the catalog walk cost ~1 ms)."""
    from twins.slack.dependencies import METHODS

    wanted: set[str] = set()
    for name in METHODS:
        info = catalog.info(name)
        if info is not None:
            wanted.update(s for s in info.scopes.get(kind, []) if not s.startswith("admin"))
    extra = {
        "bot": [
            "app_mentions:read",
            "commands",
            "incoming-webhook",
            "chat:write.public",
            "chat:write.customize",
            "users:read.email",
        ],
        "user": ["users:read.email", "chat:write"],
    }
    return tuple(sorted(wanted | set(extra.get(kind, []))))


def user_scopes() -> list[str]:
    """The scopes of the user tokens people get (the fixture's, and anyone who joins later)."""
    return _scopes("user")


def default_fixture() -> dict[str, Any]:
    people = [
        {
            "id": ALICE,
            "name": "alice",
            "real_name": "Alice Anderson",
            "email": "alice@example.com",
            "title": "IT Administrator",
            "is_admin": True,
            "is_owner": True,
        },
        {"id": BOB, "name": "bob", "real_name": "Bob Brown", "email": "bob@example.com", "title": "Engineer"},
        {
            "id": CAROL,
            "name": "carol",
            "real_name": "Carol Chen",
            "email": "carol@example.com",
            "title": "Engineering Manager",
        },
    ]
    return {
        "team": {"id": "T0DTUTEAM1", "name": "DTU Workspace", "domain": "dtu", "email_domain": "example.com"},
        "users": people,
        "apps": [
            {
                "id": "A0DTUAPP01",
                "name": "DTU App",
                "bot_id": "B0DTUBOT01",
                "bot_user": {"id": BOT_USER, "name": "dtu-app", "real_name": "DTU App"},
                "bot_token": "xoxb-dtu-bot-token",
                "bot_scopes": _scopes("bot"),
                "signing_secret": "dtu-signing-secret",
                "verification_token": "dtu-verification-token",
                "client_id": "1000000000.1000000000",
                "client_secret": "dtu-client-secret",
            }
        ],
        "tokens": [
            {
                "token": "xoxp-dtu-user-token",
                "kind": "user",
                "user": ALICE,
                "app": "A0DTUAPP01",
                "scopes": _scopes("user"),
            },
            {
                "token": "xoxp-dtu-bob-token",
                "kind": "user",
                "user": BOB,
                "app": "A0DTUAPP01",
                "scopes": _scopes("user"),
            },
            {
                "token": "xoxp-dtu-carol-token",
                "kind": "user",
                "user": CAROL,
                "app": "A0DTUAPP01",
                "scopes": _scopes("user"),
            },
            {
                "token": "xoxe-dtu-config-token",
                "kind": "configuration",
                "user": ALICE,
                "scopes": ["app_configurations:read", "app_configurations:write"],
            },
        ],
        "channels": [
            {
                "id": GENERAL,
                "name": "general",
                "is_general": True,
                "creator": ALICE,
                "members": [ALICE, BOB, CAROL, BOT_USER],
                "purpose": "This is the one channel that will always include everyone.",
            },
            {
                "id": RANDOM,
                "name": "random",
                "creator": ALICE,
                "members": [ALICE, BOB, CAROL],
                "purpose": "A place for non-work-related flimflam.",
            },
        ],
        "messages": [],
    }


def universe_fixture(universe: dict[str, Any]) -> dict[str, Any]:
    """The Slack part of a universe: its `people` become the workspace's members (all in
    #general and #random, each with a user token `xoxp-dtu-<name>-token`), then the `slack`
    section's keys replace the defaults (team, apps, channels, messages, tokens...)."""
    import hashlib

    fixture = default_fixture()
    people = universe.get("people")
    if people is not None:
        if not isinstance(people, list) or not all(isinstance(p, dict) and p.get("email") for p in people):
            raise ValueError("universe `people` is a list of mappings, each with an email")
        users = []
        for person in people:
            name = person.get("name") or person["email"].split("@")[0]
            digest = hashlib.sha256(person["email"].lower().encode()).hexdigest().upper()
            users.append(
                {
                    "id": person.get("slack_id") or "U" + "".join(c for c in digest if c.isalnum())[:10],
                    "name": name,
                    "email": person["email"],
                    "real_name": person.get("real_name")
                    or " ".join(x for x in (person.get("first_name"), person.get("last_name")) if x)
                    or name,
                    "title": person.get("title", ""),
                    "is_admin": bool(person.get("admin")),
                    "is_owner": bool(person.get("admin")),
                }
            )
        fixture["users"] = users
        admin = next((u["id"] for u in users if u["is_admin"]), users[0]["id"] if users else None)
        fixture["tokens"] = [
            {
                "token": "xoxp-dtu-user-token" if u["id"] == admin else f"xoxp-dtu-{u['name']}-token",
                "kind": "user",
                "user": u["id"],
                "app": "A0DTUAPP01",
                "scopes": _scopes("user"),
            }
            for u in users
        ] + [
            {
                "token": "xoxe-dtu-config-token",
                "kind": "configuration",
                "user": admin,
                "scopes": ["app_configurations:read", "app_configurations:write"],
            }
        ]
        everyone = [u["id"] for u in users]
        for channel in fixture["channels"]:
            channel["creator"] = admin
            channel["members"] = everyone + ([BOT_USER] if channel["id"] == GENERAL else [])
    section = universe.get("slack") or {}
    if not isinstance(section, dict):
        raise ValueError("universe `slack` is a mapping")
    fixture.update(section)
    return fixture


def load_fixture(ctx: TwinContext, data: dict[str, Any], fresh_credentials: bool) -> dict[str, Any]:
    """Load a fixture into ctx's tenant. With fresh_credentials (a new tenant), the team id,
    tokens and signing secrets are minted anew so that they lead to this tenant alone."""
    conn, t = ctx.conn, ctx.tenant
    now = int(ctx.now())
    created: dict[str, Any] = {"users": [], "channels": [], "messages": [], "apps": [], "tokens": 0}
    unknown = set(data) - {
        "team",
        "users",
        "apps",
        "tokens",
        "channels",
        "messages",
        "incoming_webhooks",
        "emoji",
    }
    if unknown:
        raise ValueError(f"unknown fixture keys {sorted(unknown)}")
    team_row = conn.execute(select(table(models.Team)).where(table(models.Team).c.tenant_id == t)).first()
    if team_row is None:
        team = dict(data.get("team") or {"id": "T0DTUTEAM1", "name": "DTU Workspace", "domain": "dtu"})
        if fresh_credentials:
            team["id"] = ctx.ids.token("team", prefix="T", length=11)
            team["domain"] = f"{team.get('domain', 'dtu')}-{team['id'].lower()}"
        upsert(
            conn,
            table(models.Team),
            {"tenant_id": t, "id": team["id"]},
            {
                "name": team.get("name", "Workspace"),
                "domain": team.get("domain", "dtu"),
                "email_domain": team.get("email_domain", ""),
                "profile_fields": list(team.get("profile_fields") or []),
            },
        )
        team_id = team["id"]
        created["team"] = team_id
    else:
        team_id = team_row.id

    def put_user(u: dict[str, Any], *, bot_id: str | None = None) -> None:
        profile = {
            k: u[k] for k in ("phone", "status_text", "status_emoji", "first_name", "last_name") if k in u
        }
        upsert(
            conn,
            table(models.User),
            {"tenant_id": t, "id": u["id"]},
            {
                "team_id": team_id,
                "name": u["name"],
                "real_name": u.get("real_name", u["name"]),
                "display_name": u.get("display_name", ""),
                "email": u.get("email"),
                "title": u.get("title", ""),
                "is_admin": bool(u.get("is_admin")),
                "is_owner": bool(u.get("is_owner")),
                "is_bot": bot_id is not None or bool(u.get("is_bot")),
                "bot_id": bot_id,
                "deleted": bool(u.get("deleted")),
                "tz": u.get("tz", "America/Los_Angeles"),
                "tz_offset": int(u.get("tz_offset", -28800)),
                "profile": profile,
                "updated": now,
            },
        )
        created["users"].append(u["id"])

    for u in data.get("users", []):
        put_user(u)

    def put_token(token: str, kind: str, user: str | None, app: str | None, scopes: list[str]) -> str:
        if fresh_credentials:
            prefix = {"bot": "xoxb-", "user": "xoxp-", "configuration": "xoxe-"}[kind]
            token = (
                prefix
                + ctx.ids.token("token", length=12, alphabet="0123456789")
                + "-"
                + ctx.ids.hex("token-secret", 24)
            )
        upsert(
            conn,
            table(models.Token),
            {"tenant_id": t, "token": token},
            {"kind": kind, "user_id": user, "app_id": app, "scopes": list(scopes), "revoked": False},
        )
        created["tokens"] += 1
        return token

    for a in data.get("apps", []):
        bot_user = a["bot_user"]
        put_user({**bot_user, "is_bot": True}, bot_id=a["bot_id"])
        secret = ctx.ids.hex("signing-secret", 32) if fresh_credentials else a["signing_secret"]
        client_id, client_secret = a.get("client_id", ""), a.get("client_secret", "")
        if fresh_credentials and client_id:
            # OAuth client credentials lead to this tenant alone, like the tokens.
            digits = "0123456789"
            client_id = (
                ctx.ids.token("client-id", length=13, alphabet=digits)
                + "."
                + ctx.ids.token("client-id", length=13, alphabet=digits)
            )
            client_secret = ctx.ids.hex("client-secret", 32)
        upsert(
            conn,
            table(models.App),
            {"tenant_id": t, "id": a["id"]},
            {
                "name": a["name"],
                "bot_user_id": bot_user["id"],
                "bot_id": a["bot_id"],
                "manifest": a.get("manifest") or {},
                "request_url": a.get("request_url"),
                "bot_events": list(a.get("bot_events", [])),
                "user_events": list(a.get("user_events", [])),
                "interactivity_url": a.get("interactivity_url"),
                "slash_commands": list(a.get("slash_commands", [])),
                "signing_secret": secret,
                "verification_token": a.get("verification_token", "dtu-verification-token"),
                "client_id": client_id,
                "client_secret": client_secret,
                "shortcuts": list(a.get("shortcuts", [])),
                "options_url": a.get("options_url"),
                "redirect_urls": list(a.get("redirect_urls", [])),
            },
        )
        put_token(a["bot_token"], "bot", bot_user["id"], a["id"], a.get("bot_scopes", _scopes("bot")))
        created["apps"].append(a["id"])

    for tok in data.get("tokens", []):
        put_token(
            tok["token"],
            tok.get("kind", "user"),
            tok.get("user"),
            tok.get("app"),
            tok.get("scopes", _scopes(tok.get("kind", "user"))),
        )

    for c in data.get("channels", []):
        kind = "group" if c.get("is_private") else "channel"
        inserted = upsert(
            conn,
            table(models.Conversation),
            {"tenant_id": t, "id": c["id"]},
            {
                "kind": kind,
                "name": c["name"],
                "is_private": bool(c.get("is_private")),
                "is_archived": bool(c.get("is_archived")),
                "is_general": bool(c.get("is_general")),
                "creator": c.get("creator"),
                "created": int(c.get("created", now)),
                "updated": now,
                "topic": common.text_meta(c.get("topic", ""), c.get("creator"), now),
                "purpose": common.text_meta(c.get("purpose", ""), c.get("creator"), now),
            },
        )
        if inserted:
            _SET_SEQ.execute(conn, {"t": t, "id": c["id"], "seq": ctx.ids.next("conversation-seq")})
        for member in c.get("members", []):
            upsert(
                conn,
                table(models.Member),
                {"tenant_id": t, "conversation_id": c["id"], "user_id": member},
                {"joined": ctx.now()},
            )
        created["channels"].append(c["id"])

    for m in data.get("messages", []):
        ts = common.next_ts(ctx, m["channel"])
        conn.execute(
            insert(table(models.Message)).values(
                tenant_id=t,
                channel_id=m["channel"],
                ts=ts,
                user_id=m.get("user"),
                text=m.get("text", ""),
                blocks=m.get("blocks"),
                thread_ts=None,
                written_at=ctx.now(),
                reply_users=[],
            )
        )
        created["messages"].append({"channel": m["channel"], "ts": ts})
    for name, value in (data.get("emoji") or {}).items():
        alias = value[6:] if isinstance(value, str) and value.startswith("alias:") else None
        upsert(
            conn,
            table(models.Emoji),
            {"tenant_id": t, "name": name},
            {"url": None if alias else value, "alias_for": alias, "created": now},
        )
    if data.get("incoming_webhooks"):
        from twins.slack.service import interactions

        paths = interactions.load_webhooks(
            ctx, data["incoming_webhooks"], fresh_credentials=fresh_credentials
        )
        created["incoming_webhooks"] = [f"services/{team_id}/{path}" for path in paths]
    return created


_APPS, _TOKENS, _USERS = table(models.App), table(models.Token), table(models.User)
_CONVS = table(models.Conversation)
_SET_SEQ = Prepared(
    update(_CONVS)
    .where(_CONVS.c.tenant_id == bindparam("t"), _CONVS.c.id == bindparam("id"))
    .values(seq=bindparam("seq"))
)
# Asked once per new tenant (the harness makes one per trajectory): prebuilt statements.
_FIRST_APP = Prepared(
    select(_APPS.c.id, _APPS.c.bot_user_id, _APPS.c.signing_secret, _APPS.c.client_id, _APPS.c.client_secret)
    .where(_APPS.c.tenant_id == bindparam("t"))
    .order_by(_APPS.c.id)
    .limit(1)
)
_TEAM_ID = Prepared(select(table(models.Team).c.id).where(table(models.Team).c.tenant_id == bindparam("t")))
_TOKEN_ROWS = Prepared(
    select(_TOKENS.c.token, _TOKENS.c.kind, _TOKENS.c.user_id)
    .where(_TOKENS.c.tenant_id == bindparam("t"))
    .order_by(_TOKENS.c.kind, _TOKENS.c.user_id)
)
_EMAILS = Prepared(select(_USERS.c.id, _USERS.c.email).where(_USERS.c.tenant_id == bindparam("t")))
_FIRST_ADMIN = Prepared(
    select(_USERS.c.id)
    .where(_USERS.c.tenant_id == bindparam("t"), _USERS.c.is_admin.is_(True))
    .order_by(_USERS.c.id)
    .limit(1)
)


def credentials(ctx: TwinContext) -> dict[str, Any]:
    """What `POST /_dtu/tenants` hands back (CONTRACT.md section 4 names)."""
    conn, t = ctx.conn, {"t": ctx.tenant}
    app = _FIRST_APP.first(conn, t)
    team = _TEAM_ID.scalar(conn, t)
    rows = _TOKEN_ROWS.all(conn, t)
    emails = dict(_EMAILS.tuples(conn, t))
    admin = _FIRST_ADMIN.scalar(conn, t)
    user_tokens = {emails.get(r.user_id) or r.user_id: r.token for r in rows if r.kind == "user"}
    first_user = next((r.token for r in rows if r.kind == "user" and r.user_id == admin), None)
    return {
        "team_id": team,
        "app_id": app.id if app else None,
        "bot_user_id": app.bot_user_id if app else None,
        "bot_token": next((r.token for r in rows if r.kind == "bot"), None),
        "user_token": first_user or next((r.token for r in rows if r.kind == "user"), None),
        "config_token": next((r.token for r in rows if r.kind == "configuration"), None),
        "signing_secret": app.signing_secret if app else None,
        "client_id": app.client_id if app else None,
        "client_secret": app.client_secret if app else None,
        "user_tokens": user_tokens,
    }
