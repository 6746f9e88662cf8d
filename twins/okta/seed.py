"""Okta datasets: the default org (CONTRACT.md section 4) and the fixture loader.

A fixture is JSON: `org`, `users` (login, names, password, status, admin), `groups` (with
`members`), `apps` (OIDC web and service apps with their client credentials, redirect URIs,
grant types and `okta.*` scopes), `api_tokens`, `schema` (custom profile attributes) and
`auth_servers`. Loading is an upsert by id, so `POST /_dtu/seed` adds to a running org.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import bindparam, select, update

from dtu.context import TwinContext
from dtu.db import table, upsert
from dtu.sql import Prepared
from twins.okta import models
from twins.okta.service.common import BASE62, minted, okta_id, okta_id_at, password_hash

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


SECRET_ALPHABET = BASE62 + "-_"


def _secret(ctx: TwinContext, kind: str, length: int = 40) -> str:
    return ctx.ids.token(kind, length=length, alphabet=SECRET_ALPHABET)


_ORG_T, _AUTH_SERVER_T, _SCHEMA_T = table(models.Org), table(models.AuthServer), table(models.SchemaProperty)
_GROUP_T, _MEMBER_T, _APP_T = table(models.Group), table(models.GroupMember), table(models.App)
_APP_GROUP_T, _API_TOKEN_T = table(models.AppGroup), table(models.ApiToken)
_ORG_OF = Prepared(select(_ORG_T.c.id).where(_ORG_T.c.tenant_id == bindparam("tenant")))


def _insert(t: Any) -> Prepared:
    """An insert naming every column of the table (Prepared applies no column defaults)."""
    return Prepared(t.insert(), columns=[c.name for c in t.columns])


_INSERTS = {
    t.name: _insert(t)
    for t in (_ORG_T, _AUTH_SERVER_T, _SCHEMA_T, _GROUP_T, _MEMBER_T, _APP_T, _APP_GROUP_T, _API_TOKEN_T)
}


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
    has_org = _ORG_OF.first(conn, {"tenant": t}) is not None
    if not has_org and _plain(data):
        return _load_empty(ctx, data, fresh_credentials, created)
    default_policies = False
    org = data.get("org")
    if org or not has_org:
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


# -- a fixture into an empty org ----------------------------------------------------------------
#
# `POST /_dtu/tenants` (the harness makes one per trajectory) loads the default fixture into an
# org that was just made or wiped. Then every upsert is an insert, and each row can be written
# once with its final values, by prebuilt statements, with the ids of each kind reserved in one
# statement (`ids.take` answers the same ids as one `next` per row). The rows, ids and counters
# written are exactly those of the upserting path above, which still loads any fixture that
# is not plain (see `_plain`) and every fixture into an org that holds anything.


def _str(value: Any) -> bool:
    return isinstance(value, str)


def _unique(keys: list[Any]) -> bool:
    return len(set(keys)) == len(keys)


def _optional(item: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> bool:
    """Absent, or present with a value of `kind` (never None: it goes to a NOT NULL column)."""
    return key not in item or isinstance(item[key], kind)


def _plain(data: dict[str, Any]) -> bool:
    """Whether the fixture loads the same with one insert per row: every entry has the shape
    the loader expects, no id repeats (a repeat is an update there), nothing that goes to a NOT
    NULL column is null (a database error would then name other values), and no API token
    mixes a given id with minted ones. Anything else takes the upserting path, which answers
    its errors as it always did."""
    org, schema = data.get("org"), data.get("schema")
    users, groups = data.get("users", []), data.get("groups", [])
    apps, tokens, servers = data.get("apps", []), data.get("api_tokens", []), data.get("auth_servers", [])
    if not (
        (org is None or isinstance(org, dict))
        and (not schema or isinstance(schema, dict))
        and all(isinstance(x, list) for x in (users, groups, apps, tokens, servers))
        and all(isinstance(x, dict) for x in (*users, *groups, *apps, *tokens, *servers))
    ):
        return False
    if org and not (
        _str(org.get("id"))
        and _optional(org, "name", str)
        and _optional(org, "subdomain", str)
        and _optional(org, "lockout_attempts", int)
        and not isinstance(org.get("lockout_attempts"), bool)
    ):
        return False
    if not _unique([u.get("id") for u in users]) or not all(
        _str(u.get("id"))
        and _str(u.get("login"))
        and (u.get("profile") is None or isinstance(u["profile"], dict))
        and _optional(u, "status", str)
        and _optional(u, "provider", str)
        for u in users
    ):
        return False
    if not _unique([g.get("id") for g in groups]) or not all(
        _str(g.get("id"))
        and "name" in g
        and _optional(g, "type", str)
        and (
            g.get("members", []) == "*"
            or (
                isinstance(g.get("members", []), list)
                and all(_str(m) for m in g.get("members", []))
                and _unique(g.get("members", []))
            )
        )
        for g in groups
    ):
        return False
    if not _unique([a.get("id") for a in apps]) or not all(
        _str(a.get("id"))
        and _optional(a, "label", str)
        and _optional(a, "status", str)
        and all(
            _optional(a, k, list)
            for k in ("redirect_uris", "post_logout_redirect_uris", "grant_types", "scopes")
        )
        and (a.get("refresh_token") is None or isinstance(a["refresh_token"], dict))
        for a in apps
    ):
        return False
    given = [tok.get("id") for tok in tokens if tok.get("id")]
    if (given and len(given) != len(tokens)) or not _unique(given):
        return False
    if not all(
        (not tok.get("id") or _str(tok["id"]))
        and tok.get("user") is not None
        and _optional(tok, "name", str)
        and _str(tok.get("token", ""))
        for tok in tokens
    ):
        return False
    return _unique([s.get("id") for s in servers]) and all(
        _str(s.get("id"))
        and s["id"] != "org"
        and _optional(s, "name", str)
        and _optional(s, "audiences", list)
        and _optional(s, "scopes", list)
        for s in servers
    )


def _load_empty(
    ctx: TwinContext, data: dict[str, Any], fresh_credentials: bool, created: dict[str, Any]
) -> dict[str, Any]:
    """`load_fixture` into an org without rows, for a plain fixture (see above)."""
    from twins.okta.service import policies
    from twins.okta.service.users import _INSERT as INSERT_USER
    from twins.okta.service.users import _INSERT_COLUMNS as USER_COLUMNS
    from twins.okta.service.users import _INSERT_DEFAULTS as USER_DEFAULTS
    from twins.okta.service.users import BASE_ATTRIBUTES, DEFAULT_TYPE

    conn, t, ids = ctx.conn, ctx.tenant, ctx.ids
    now = ctx.now()
    org = data.get("org") or {"id": ORG, "name": "DTU Org", "subdomain": "dtu"}
    users, groups = data.get("users", []), data.get("groups", [])
    apps, tokens = data.get("apps", []), data.get("api_tokens", [])
    built_in = [g["id"] for g in groups if g.get("type") == "BUILT_IN"]
    everyone_apps = sum(1 for a in apps if a.get("assign") == "everyone")
    counts = {
        "user-seq": len(users),
        "group-seq": len(groups),
        "member-seq": sum(
            len(users) if g.get("members") == "*" else len(g.get("members", [])) for g in groups
        ),
        "app-seq": len(apps),
        "app-group-seq": everyone_apps * len(built_in),
        "client-id": len(apps) if fresh_credentials else 0,
        "client-secret": len(apps) if fresh_credentials else 0,
        "api-token": len(tokens) if fresh_credentials else 0,
        "00T": sum(1 for tok in tokens if not tok.get("id")),
    }
    # The next value of each kind; a kind nothing draws gets no counter row, as before.
    nxt = {kind: ids.take(kind, n) for kind, n in counts.items() if n}

    def draw(kind: str) -> int:
        n = nxt[kind]
        nxt[kind] = n + 1
        return n

    def insert(t_name: str, row: dict[str, Any]) -> None:
        _INSERTS[t_name].execute(conn, row)

    insert(
        _ORG_T.name,
        {
            "tenant_id": t,
            "id": org["id"],
            "name": org.get("name", "DTU Org"),
            "subdomain": org.get("subdomain", "dtu"),
            "lockout_attempts": int(org.get("lockout_attempts", 10)),
        },
    )
    server_defaults = {"status": "ACTIVE"}
    insert(
        _AUTH_SERVER_T.name,
        {"tenant_id": t, "id": "org", "name": "org", "audiences": [], "scopes": [], **server_defaults},
    )
    for name, definition in (data.get("schema") or {}).items():
        insert(_SCHEMA_T.name, {"tenant_id": t, "name": name, "definition": definition})
    for u in users:
        profile = {k: v for k, v in u.items() if k in BASE_ATTRIBUTES and v is not None}
        profile.update(u.get("profile") or {})
        profile.setdefault("email", u["login"])
        status = u.get("status", "ACTIVE")
        pw = u.get("password")
        row: dict[str, Any] = dict.fromkeys(USER_COLUMNS)
        row.update(USER_DEFAULTS)
        row.update(
            tenant_id=t,
            id=u["id"],
            login_lower=u["login"].lower(),
            status=status,
            profile=profile,
            created=now,
            activated=now if status != "STAGED" else None,
            status_changed=now,
            last_login=None,
            last_updated=now,
            password_changed=now if pw else None,
            password_hash=password_hash(t, pw) if pw else None,
            provider=u.get("provider", "OKTA"),
            type_id=DEFAULT_TYPE,
            is_admin=bool(u.get("admin")),
            written_at=now,
            totp_secret=u.get("totp_secret"),
            seq=draw("user-seq"),
        )
        INSERT_USER.execute(conn, row)
        created["users"].append(u["id"])
    all_users = [u["id"] for u in users]
    for g in groups:
        profile = {"name": g["name"], **({"description": g["description"]} if g.get("description") else {})}
        insert(
            _GROUP_T.name,
            {
                "tenant_id": t,
                "id": g["id"],
                "type": g.get("type", "OKTA_GROUP"),
                "profile": profile,
                "created": now,
                "last_updated": now,
                "last_membership_updated": now,
                "source_app_id": g.get("source"),
                "seq": draw("group-seq"),
                "written_at": now,
            },
        )
        members = all_users if g.get("members") == "*" else g.get("members", [])
        for uid in members:
            insert(
                _MEMBER_T.name,
                {
                    "tenant_id": t,
                    "group_id": g["id"],
                    "user_id": uid,
                    "seq": draw("member-seq"),
                    "rule_id": None,
                },
            )
        created["groups"].append(g["id"])
    for a in apps:
        if fresh_credentials:
            client_id: Any = okta_id_at(ctx, "0oa", "client-id", draw("client-id"))
            secret: Any = minted(
                ctx, "client-secret", draw("client-secret"), length=40, alphabet=SECRET_ALPHABET
            )
        else:
            client_id, secret = a.get("client_id"), a.get("client_secret")
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
        insert(
            _APP_T.name,
            {
                "tenant_id": t,
                "id": a["id"],
                "name": "oidc_client",
                "label": a.get("label", a["id"]),
                "status": a.get("status", "ACTIVE"),
                "sign_on_mode": "OPENID_CONNECT",
                "client_id": client_id,
                "client_secret": secret,
                "settings": settings,
                "created": now,
                "last_updated": now,
                "seq": draw("app-seq"),
                "written_at": now,
            },
        )
        if a.get("assign") == "everyone":
            for gid in built_in:
                insert(
                    _APP_GROUP_T.name,
                    {
                        "tenant_id": t,
                        "app_id": a["id"],
                        "group_id": gid,
                        "priority": 0,
                        "created": now,
                        "seq": draw("app-group-seq"),
                    },
                )
        created["apps"].append(a["id"])
    for tok in tokens:
        if fresh_credentials:
            token = "00" + minted(ctx, "api-token", draw("api-token"), length=40, alphabet=SECRET_ALPHABET)
        else:
            token = tok["token"]
        insert(
            _API_TOKEN_T.name,
            {
                "tenant_id": t,
                "id": tok.get("id") or okta_id_at(ctx, "00T", None, draw("00T")),
                "token": token,
                "name": tok.get("name", "API token"),
                "user_id": tok["user"],
                "created": now,
            },
        )
        created["api_tokens"] += 1
    for server in data.get("auth_servers", []):
        insert(
            _AUTH_SERVER_T.name,
            {
                "tenant_id": t,
                "id": server["id"],
                "name": server.get("name", server["id"]),
                "audiences": list(server.get("audiences", ["api://default"])),
                "scopes": list(server.get("scopes", [])),
                **server_defaults,
            },
        )
    policies.ensure_defaults(ctx, int(org.get("lockout_attempts", 10)))
    return created


_FIRST_TOKEN = Prepared(
    select(_API_TOKEN_T.c.token)
    .where(_API_TOKEN_T.c.tenant_id == bindparam("tenant"))
    .order_by(_API_TOKEN_T.c.created, _API_TOKEN_T.c.id)
)
_CLIENTS = Prepared(
    select(_APP_T.c.settings, _APP_T.c.client_id, _APP_T.c.client_secret)
    .where(_APP_T.c.tenant_id == bindparam("tenant"))
    .order_by(_APP_T.c.seq)
)
_ADMIN_PROFILE = Prepared(
    select(table(models.User).c.profile)
    .where(table(models.User).c.tenant_id == bindparam("tenant"), table(models.User).c.is_admin.is_(True))
    .order_by(table(models.User).c.seq)
)


def credentials(ctx: TwinContext) -> dict[str, Any]:
    """What `POST /_dtu/tenants` hands back (CONTRACT.md section 4 names, plus the service app)."""
    conn, t = ctx.conn, ctx.tenant
    tok = _FIRST_TOKEN.scalar(conn, {"tenant": t})
    apps = _CLIENTS.all(conn, {"tenant": t})
    web = next((a for a in apps if (a.settings or {}).get("type") == "web"), None)
    service = next((a for a in apps if (a.settings or {}).get("type") == "service"), None)
    admin = _ADMIN_PROFILE.scalar(conn, {"tenant": t})
    return {
        "api_token": tok,
        "client_id": web.client_id if web else None,
        "client_secret": web.client_secret if web else None,
        "username": (admin or {}).get("login"),
        "password": PASSWORD,
        "service_client_id": service.client_id if service else None,
        "service_client_secret": service.client_secret if service else None,
    }
