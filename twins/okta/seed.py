"""Okta datasets: the default org (CONTRACT.md section 4) and the fixture loader.

A fixture is JSON: `org`, `users` (login, names, password, status, admin), `groups` (with
`members`), `apps` (OIDC web and service apps with their client credentials, redirect URIs,
grant types and `okta.*` scopes), `api_tokens`, `schema` (custom profile attributes) and
`auth_servers`. Loading is an upsert by id, so `POST /_dtu/seed` adds to a running org.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select, update

from dtu.context import TwinContext
from dtu.db import table, upsert
from twins.okta import models
from twins.okta.service.common import BASE62, okta_id, password_hash

ORG = "00odtuorg00000000001"
ALICE, BOB, CAROL = "00udtualice000000001", "00udtubob00000000002", "00udtucarol000000003"
EVERYONE, ENGINEERING, IT_ADMINS = "00gdtueveryone000001", "00gdtuengineering001", "00gdtuitadmins000001"
WEB_APP, SERVICE_APP = "0oadtuwebapp00000001", "0oadtuserviceapp0001"
PASSWORD = "Dtu-Passw0rd!"
MANAGEMENT_SCOPES = [
    f"okta.{r}.{a}"
    for r in ("users", "groups", "apps", "logs", "eventHooks", "schemas", "sessions", "policies")
    for a in ("read", "manage")
]


def default_fixture() -> dict[str, Any]:
    return {
        "org": {"id": ORG, "name": "DTU Org", "subdomain": "dtu"},
        "users": [
            {
                "id": ALICE,
                "login": "alice@example.com",
                "firstName": "Alice",
                "lastName": "Anderson",
                "title": "IT Administrator",
                "department": "IT",
                "password": PASSWORD,
                "admin": True,
            },
            {
                "id": BOB,
                "login": "bob@example.com",
                "firstName": "Bob",
                "lastName": "Brown",
                "title": "Engineer",
                "department": "Engineering",
                "password": PASSWORD,
            },
            {
                "id": CAROL,
                "login": "carol@example.com",
                "firstName": "Carol",
                "lastName": "Chen",
                "title": "Engineering Manager",
                "department": "Engineering",
                "password": PASSWORD,
            },
        ],
        "groups": [
            {
                "id": EVERYONE,
                "type": "BUILT_IN",
                "name": "Everyone",
                "description": "All users in your organization",
                "members": "*",
            },
            {"id": ENGINEERING, "name": "Engineering", "description": "Engineers", "members": [BOB, CAROL]},
            {"id": IT_ADMINS, "name": "IT Admins", "description": "IT administrators", "members": [ALICE]},
        ],
        "apps": [
            {
                "id": WEB_APP,
                "label": "DTU Web App",
                "type": "web",
                "client_id": "dtu-web-app",
                "client_secret": "dtu-web-secret",
                "redirect_uris": ["http://localhost:8765/callback"],
                "post_logout_redirect_uris": ["http://localhost:8765/"],
                "grant_types": ["authorization_code", "refresh_token"],
                "refresh_token": {"rotation_type": "ROTATE", "leeway": 30},
                "scopes": ["okta.users.read.self", "okta.users.manage.self"],
                "assign": "everyone",
            },
            {
                "id": SERVICE_APP,
                "label": "DTU Service App",
                "type": "service",
                "client_id": "dtu-service-app",
                "client_secret": "dtu-service-secret",
                "grant_types": ["client_credentials"],
                "scopes": MANAGEMENT_SCOPES,
            },
        ],
        "api_tokens": [{"token": "dtu-okta-token", "name": "DTU API token", "user": ALICE}],
        "schema": {},
        "auth_servers": [
            {
                "id": "default",
                "name": "default",
                "audiences": ["api://default"],
                "scopes": ["dtu.read", "dtu.write"],
            },
        ],
    }


def universe_fixture(universe: dict[str, Any]) -> dict[str, Any]:
    """The Okta part of a universe: its `people` become the org's users (each with the default
    password, the admin ones owning the API token), then the `okta` section's keys replace the
    defaults (groups, apps, api_tokens, schema...)."""
    fixture = default_fixture()
    people = universe.get("people")
    if people is not None:
        if not isinstance(people, list) or not all(isinstance(p, dict) and p.get("email") for p in people):
            raise ValueError("universe `people` is a list of mappings, each with an email")
        users = []
        for person in people:
            digest = hashlib.sha256(person["email"].lower().encode()).hexdigest()
            name = person.get("name") or person["email"].split("@")[0]
            users.append(
                {
                    "id": person.get("okta_id") or "00u" + digest[:17],
                    "login": person["email"],
                    "firstName": person.get("first_name") or name.title(),
                    "lastName": person.get("last_name") or "User",
                    "title": person.get("title"),
                    "password": person.get("password", PASSWORD),
                    "admin": bool(person.get("admin")),
                }
            )
        fixture["users"] = users
        admin = next((u["id"] for u in users if u["admin"]), users[0]["id"] if users else None)
        fixture["api_tokens"] = [{"token": "dtu-okta-token", "name": "DTU API token", "user": admin}]
        fixture["groups"] = [g if g["id"] == EVERYONE else {**g, "members": []} for g in fixture["groups"]]
    section = universe.get("okta") or {}
    if not isinstance(section, dict):
        raise ValueError("universe `okta` is a mapping")
    fixture.update(section)
    return fixture


def _secret(ctx: TwinContext, kind: str, length: int = 40) -> str:
    return ctx.ids.token(kind, length=length, alphabet=BASE62 + "-_")


def load_fixture(ctx: TwinContext, data: dict[str, Any], fresh_credentials: bool) -> dict[str, Any]:
    """Load a fixture into ctx's tenant. With fresh_credentials (a new tenant) the API token and
    the apps' client ids and secrets are minted anew, so that they lead to this tenant alone."""
    from twins.okta.service.users import BASE_ATTRIBUTES, DEFAULT_TYPE

    conn, t = ctx.conn, ctx.tenant
    now = ctx.now()
    unknown = set(data) - {"org", "users", "groups", "apps", "api_tokens", "schema", "auth_servers"}
    if unknown:
        raise ValueError(f"unknown fixture keys {sorted(unknown)}")
    created: dict[str, Any] = {"users": [], "groups": [], "apps": [], "api_tokens": 0}
    default_policies = False
    org = data.get("org")
    if (
        org
        or conn.execute(select(table(models.Org).c.id).where(table(models.Org).c.tenant_id == t)).first()
        is None
    ):
        org = org or {"id": ORG, "name": "DTU Org", "subdomain": "dtu"}
        upsert(
            conn,
            table(models.Org),
            {"tenant_id": t, "id": org["id"]},
            {
                "name": org.get("name", "DTU Org"),
                "subdomain": org.get("subdomain", "dtu"),
                "lockout_attempts": int(org.get("lockout_attempts", 10)),
            },
        )
        default_policies = True
        upsert(
            conn,
            table(models.AuthServer),
            {"tenant_id": t, "id": "org"},
            {"name": "org", "audiences": [], "scopes": []},
        )
    for name, definition in (data.get("schema") or {}).items():
        upsert(conn, table(models.SchemaProperty), {"tenant_id": t, "name": name}, {"definition": definition})
    for u in data.get("users", []):
        profile = {k: v for k, v in u.items() if k in BASE_ATTRIBUTES and v is not None}
        profile.update(u.get("profile") or {})
        profile.setdefault("email", u["login"])
        status = u.get("status", "ACTIVE")
        pw = u.get("password")
        inserted = upsert(
            conn,
            table(models.User),
            {"tenant_id": t, "id": u["id"]},
            {
                "login_lower": u["login"].lower(),
                "status": status,
                "profile": profile,
                "created": now,
                "activated": now if status != "STAGED" else None,
                "status_changed": now,
                "last_login": None,
                "last_updated": now,
                "password_changed": now if pw else None,
                "password_hash": password_hash(t, pw) if pw else None,
                "provider": u.get("provider", "OKTA"),
                "type_id": DEFAULT_TYPE,
                "is_admin": bool(u.get("admin")),
                "written_at": now,
                "totp_secret": u.get("totp_secret"),
                "seq": 0,
            },
        )
        if inserted:
            conn.execute(
                update(table(models.User))
                .where(table(models.User).c.tenant_id == t, table(models.User).c.id == u["id"])
                .values(seq=ctx.ids.next("user-seq"))
            )
        created["users"].append(u["id"])
    all_users = [
        r[0]
        for r in conn.execute(
            select(table(models.User).c.id)
            .where(table(models.User).c.tenant_id == t)
            .order_by(table(models.User).c.seq)
        )
    ]
    for g in data.get("groups", []):
        profile = {"name": g["name"], **({"description": g["description"]} if g.get("description") else {})}
        inserted = upsert(
            conn,
            table(models.Group),
            {"tenant_id": t, "id": g["id"]},
            {
                "type": g.get("type", "OKTA_GROUP"),
                "source_app_id": g.get("source"),
                "profile": profile,
                "created": now,
                "last_updated": now,
                "last_membership_updated": now,
                "written_at": now,
                "seq": 0,
            },
        )
        if inserted:
            conn.execute(
                update(table(models.Group))
                .where(table(models.Group).c.tenant_id == t, table(models.Group).c.id == g["id"])
                .values(seq=ctx.ids.next("group-seq"))
            )
        members = all_users if g.get("members") == "*" else g.get("members", [])
        for uid in members:
            if upsert(
                conn,
                table(models.GroupMember),
                {"tenant_id": t, "group_id": g["id"], "user_id": uid},
                {"seq": 0},
            ):
                conn.execute(
                    update(table(models.GroupMember))
                    .where(
                        table(models.GroupMember).c.tenant_id == t,
                        table(models.GroupMember).c.group_id == g["id"],
                        table(models.GroupMember).c.user_id == uid,
                    )
                    .values(seq=ctx.ids.next("member-seq"))
                )
        created["groups"].append(g["id"])
    for a in data.get("apps", []):
        client_id = okta_id(ctx, "0oa", "client-id") if fresh_credentials else a.get("client_id")
        secret = _secret(ctx, "client-secret") if fresh_credentials else a.get("client_secret")
        settings = {
            "type": a.get("type", "web"),
            "redirect_uris": list(a.get("redirect_uris", [])),
            "post_logout_redirect_uris": list(a.get("post_logout_redirect_uris", [])),
            "grant_types": list(a.get("grant_types", ["authorization_code"])),
            "scopes": list(a.get("scopes", [])),
            "groups_claim": a.get("groups_claim"),
            "token_endpoint_auth_method": a.get("token_endpoint_auth_method", "client_secret_basic"),
        }
        if a.get("refresh_token") is not None:
            settings["refresh_token"] = dict(a["refresh_token"])
        if a.get("pkce_required") is not None:
            settings["pkce_required"] = bool(a["pkce_required"])
        inserted = upsert(
            conn,
            table(models.App),
            {"tenant_id": t, "id": a["id"]},
            {
                "name": "oidc_client",
                "label": a.get("label", a["id"]),
                "status": a.get("status", "ACTIVE"),
                "sign_on_mode": "OPENID_CONNECT",
                "client_id": client_id,
                "client_secret": secret,
                "settings": settings,
                "created": now,
                "last_updated": now,
                "written_at": now,
                "seq": 0,
            },
        )
        if inserted:
            conn.execute(
                update(table(models.App))
                .where(table(models.App).c.tenant_id == t, table(models.App).c.id == a["id"])
                .values(seq=ctx.ids.next("app-seq"))
            )
        if a.get("assign") == "everyone":
            for gid in [g["id"] for g in data.get("groups", []) if g.get("type") == "BUILT_IN"]:
                upsert(
                    conn,
                    table(models.AppGroup),
                    {"tenant_id": t, "app_id": a["id"], "group_id": gid},
                    {"priority": 0, "created": now, "seq": ctx.ids.next("app-group-seq")},
                )
        created["apps"].append(a["id"])
    for tok in data.get("api_tokens", []):
        token = ("00" + _secret(ctx, "api-token", 40)) if fresh_credentials else tok["token"]
        upsert(
            conn,
            table(models.ApiToken),
            {"tenant_id": t, "id": tok.get("id") or okta_id(ctx, "00T")},
            {"token": token, "name": tok.get("name", "API token"), "user_id": tok["user"], "created": now},
        )
        created["api_tokens"] += 1
    for s in data.get("auth_servers", []):
        upsert(
            conn,
            table(models.AuthServer),
            {"tenant_id": t, "id": s["id"]},
            {
                "name": s.get("name", s["id"]),
                "audiences": list(s.get("audiences", ["api://default"])),
                "scopes": list(s.get("scopes", [])),
            },
        )
    if default_policies:
        from twins.okta.service import policies

        policies.ensure_defaults(ctx, int((org or {}).get("lockout_attempts", 10)))
    return created


def credentials(ctx: TwinContext) -> dict[str, Any]:
    """What `POST /_dtu/tenants` hands back (CONTRACT.md section 4 names, plus the service app)."""
    conn, t = ctx.conn, ctx.tenant
    tok = conn.execute(
        select(table(models.ApiToken).c.token)
        .where(table(models.ApiToken).c.tenant_id == t)
        .order_by(table(models.ApiToken).c.created, table(models.ApiToken).c.id)
    ).scalar()
    apps = conn.execute(
        select(table(models.App)).where(table(models.App).c.tenant_id == t).order_by(table(models.App).c.seq)
    ).all()
    web = next((a for a in apps if (a.settings or {}).get("type") == "web"), None)
    service = next((a for a in apps if (a.settings or {}).get("type") == "service"), None)
    users = table(models.User)
    admin = conn.execute(
        select(users.c.profile)
        .where(users.c.tenant_id == t, users.c.is_admin.is_(True))
        .order_by(users.c.seq)
    ).scalar()
    return {
        "api_token": tok,
        "client_id": web.client_id if web else None,
        "client_secret": web.client_secret if web else None,
        "username": (admin or {}).get("login"),
        "password": PASSWORD,
        "service_client_id": service.client_id if service else None,
        "service_client_secret": service.client_secret if service else None,
    }
