"""The default Workspace customer (CONTRACT.md section 4) and its fixture loader.

One tenant = one Workspace customer, valid on all three Google twins: the same people
(alice admin, bob, carol), a service account with domain-wide delegation, an OAuth client
with a refresh token for alice, and the quick-start bearer `ya29.dtu-google-token` (alice, all
scopes, never expires). Loading is idempotent (an upsert by key), because a second Google
twin opening the same database loads the same default customer again.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert, select, update

from dtu.context import TwinContext
from dtu.db import table, upsert
from twins._workspace import common, models, oauth, store

DEFAULT_TOKEN = "ya29.dtu-google-token"
DEFAULT_REFRESH = "1//dtu-google-refresh-token"
DEFAULT_CLIENT_ID = "dtu-google-client.apps.googleusercontent.com"
DEFAULT_CLIENT_SECRET = "dtu-google-secret"
DEFAULT_SA = "dtu-service-account@dtu-project.iam.gserviceaccount.com"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


@lru_cache(maxsize=1)
def _key_pair() -> dict[str, str]:
    data: dict[str, str] = json.loads(
        (Path(__file__).parent / "data" / "service_account_key.json").read_text()
    )
    return data


def default_fixture() -> dict[str, Any]:
    keys = _key_pair()
    return {
        "customer": {"id": "C0dtu0001", "domain": "example.com", "name": "DTU Example"},
        "people": [
            {"email": "alice@example.com", "name": "Alice Anderson", "admin": True},
            {"email": "bob@example.com", "name": "Bob Brown"},
            {"email": "carol@example.com", "name": "Carol Chen"},
        ],
        "groups": [
            {
                "email": "engineering@example.com",
                "name": "Engineering",
                "members": ["bob@example.com", "carol@example.com"],
            }
        ],
        "service_accounts": [
            {
                "client_email": DEFAULT_SA,
                "client_id": "100000000000000000001",
                "project_id": "dtu-project",
                "private_key_id": "0d7c5e1f3a2b4c6d8e9f0a1b2c3d4e5f6a7b8c9d",
                "public_key": keys["public_key"],
                "private_key": keys["private_key"],
                "delegation_scopes": oauth.ALL_SCOPES,
            }
        ],
        "oauth_clients": [{"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET}],
        "tokens": [
            {
                "token": DEFAULT_TOKEN,
                "kind": "access",
                "email": "alice@example.com",
                "scopes": oauth.ALL_SCOPES,
            },
            {
                "token": DEFAULT_REFRESH,
                "kind": "refresh",
                "email": "alice@example.com",
                "client_id": DEFAULT_CLIENT_ID,
                "scopes": oauth.ALL_SCOPES,
            },
        ],
        "files": [],
    }


def universe_fixture(universe: dict[str, Any]) -> dict[str, Any]:
    """The Google part of a universe: its `people` become the customer's users (the first
    admin gets the quick-start token), then the `google` section's keys replace the defaults."""
    fixture = default_fixture()
    people = universe.get("people")
    if people is not None:
        if not isinstance(people, list) or not all(isinstance(p, dict) and p.get("email") for p in people):
            raise ValueError("universe `people` is a list of mappings, each with an email")
        fixture["people"] = [
            {
                "email": p["email"],
                "admin": bool(p.get("admin")),
                "name": p.get("real_name") or p.get("name") or p["email"].split("@")[0],
            }
            for p in people
        ]
        admin = next((p["email"] for p in fixture["people"] if p["admin"]), fixture["people"][0]["email"])
        for tok in fixture["tokens"]:
            tok["email"] = admin
        fixture["customer"]["domain"] = store.domain_of(admin)
        fixture["groups"] = []
    section = universe.get("google") or {}
    if not isinstance(section, dict):
        raise ValueError("universe `google` is a mapping")
    fixture.update(section)
    return fixture


def _upsert(ctx: TwinContext, table: Table, key: dict[str, Any], values: dict[str, Any]) -> bool:
    return upsert(ctx.conn, table, {"tenant_id": ctx.tenant, **key}, values)


_KEYS = {"customer", "people", "groups", "service_accounts", "oauth_clients", "tokens", "files"}


def load_fixture(ctx: TwinContext, data: dict[str, Any], fresh_credentials: bool) -> dict[str, Any]:
    """Load a Workspace fixture into ctx's tenant. With fresh_credentials (a new tenant), the
    tokens, refresh tokens and service-account emails are minted anew so they lead here alone."""
    unknown = set(data) - _KEYS
    if unknown:
        raise ValueError(f"unknown fixture keys {sorted(unknown)}")
    created: dict[str, Any] = {"people": [], "files": [], "tokens": 0}
    customer = data.get("customer")
    if customer:
        _upsert(
            ctx,
            table(models.Customer),
            {"id": customer["id"]},
            {
                "domain": customer.get("domain", "example.com"),
                "name": customer.get("name", ""),
                "quotas": dict(customer.get("quotas") or {}),
            },
        )
    for person in data.get("people", []):
        _put_principal(
            ctx,
            person["email"],
            "user",
            person.get("name") or person["email"].split("@")[0],
            bool(person.get("admin")),
        )
        created["people"].append(person["email"].lower())
    for group in data.get("groups", []):
        _upsert(
            ctx,
            table(models.Group),
            {"email": group["email"].lower()},
            {"name": group.get("name", ""), "members": [m.lower() for m in group.get("members", [])]},
        )
    sa_emails: dict[str, str] = {}
    for sa in data.get("service_accounts", []):
        email = sa["client_email"]
        if fresh_credentials:
            local, _, host = email.partition("@")
            email = f"{local[:20]}-{common.ids(ctx).token('sa', length=8, alphabet='0123456789abcdefghijklmnopqrstuvwxyz')}@{host}"
        sa_emails[sa["client_email"]] = email
        _upsert(
            ctx,
            table(models.ServiceAccount),
            {"client_email": email},
            {
                "client_id": sa.get("client_id", ""),
                "project_id": sa.get("project_id", "dtu-project"),
                "private_key_id": sa.get("private_key_id", ""),
                "public_key": sa["public_key"],
                "private_key": sa.get("private_key", ""),
                "delegation_scopes": list(sa.get("delegation_scopes", [])),
            },
        )
        _put_principal(ctx, email, "service_account", sa.get("display_name") or email.split("@")[0], False)
    client_ids: dict[str, str] = {}
    for client in data.get("oauth_clients", []):
        _upsert(
            ctx,
            table(models.OAuthClient),
            {"client_id": client["client_id"]},
            {"client_secret": client["client_secret"]},
        )
        client_ids[client["client_id"]] = client["client_id"]
    for tok in data.get("tokens", []):
        kind = tok.get("kind", "access")
        token = tok["token"]
        if fresh_credentials:
            token = common.access_token(ctx) if kind == "access" else common.refresh_token(ctx)
        _upsert(
            ctx,
            table(models.Token),
            {"token": token},
            {
                "kind": kind,
                "email": tok["email"].lower(),
                "client_id": tok.get("client_id", ""),
                "scopes": list(tok.get("scopes", oauth.ALL_SCOPES)),
                "expires_at": tok.get("expires_at"),
                "revoked": False,
            },
        )
        created["tokens"] += 1
    for f in data.get("files", []):
        created["files"].append(_put_file(ctx, f))
    return created


def _put_principal(ctx: TwinContext, email: str, kind: str, name: str, admin: bool) -> None:
    email = email.lower()
    existing = store.principal(ctx, email)
    if existing is not None:
        ctx.conn.execute(
            update(table(models.Principal))
            .where(
                table(models.Principal).c.tenant_id == ctx.tenant,
                table(models.Principal).c.email == email,
            )
            .values(display_name=name, is_admin=admin, kind=kind)
        )
        return
    root = (
        "0A"
        + common.ids(ctx).token(
            "root", length=17, alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        )
        + "Uk9PVA"
    )
    ctx.conn.execute(
        insert(table(models.Principal)).values(
            tenant_id=ctx.tenant,
            email=email,
            kind=kind,
            display_name=name,
            permission_id=store.permission_id_for(email),
            is_admin=admin,
            root_id=root,
        )
    )
    store.insert_file(
        ctx,
        caller_email=email,
        name="My Drive",
        mime=common.FOLDER,
        parent_ids=[],
        file_id=root,
        is_root=True,
    )


def _put_file(ctx: TwinContext, f: dict[str, Any]) -> str:
    """A fixture file: `name`, `mimeType`, `owner` (email), `parents` (ids, or `root`), `content`
    (text), `starred`, `description`, `properties`, `permissions` ([{type, role, emailAddress}])."""
    owner = str(f.get("owner", "alice@example.com")).lower()
    if f.get("id") and store.get(ctx, f["id"]) is not None:
        return str(f["id"])
    person = store.principal(ctx, owner)
    if person is None:
        raise ValueError(f"fixture file owner {owner} is not a person of the customer")
    parents = [person.root_id if p == "root" else p for p in f.get("parents", ["root"])]
    text = f.get("content")
    fid = store.insert_file(
        ctx,
        caller_email=owner,
        name=f.get("name", "Untitled"),
        mime=f.get("mimeType", common.FOLDER if f.get("folder") else "text/plain"),
        parent_ids=parents,
        data=text.encode() if isinstance(text, str) else None,
        file_id=f.get("id"),
        description=f.get("description"),
        starred=bool(f.get("starred")),
        properties=f.get("properties"),
        app_properties=f.get("appProperties"),
    )
    for perm in f.get("permissions", []):
        store.add_permission(
            ctx,
            fid,
            type_=perm.get("type", "user"),
            role_name=perm.get("role", "reader"),
            email=perm.get("emailAddress"),
            domain=perm.get("domain"),
            allow_file_discovery=bool(perm.get("allowFileDiscovery")),
        )
    return fid


def credentials(ctx: TwinContext) -> dict[str, Any]:
    """What `POST /_dtu/tenants` answers (CONTRACT.md: Google `access_token`), plus per-user
    tokens, the refresh grant and the service-account key file (its `token_uri` is Google's
    until `service_account_info(..., token_uri=...)` points it at a twin)."""
    tok = table(models.Token)
    rows = ctx.conn.execute(select(tok).where(tok.c.tenant_id == ctx.tenant).order_by(tok.c.token)).all()
    admin = ctx.conn.execute(
        select(table(models.Principal).c.email)
        .where(
            table(models.Principal).c.tenant_id == ctx.tenant,
            table(models.Principal).c.is_admin.is_(True),
        )
        .order_by(table(models.Principal).c.email)
    ).scalar()
    access = [r for r in rows if r.kind == "access" and r.expires_at is None]
    refresh = next((r for r in rows if r.kind == "refresh"), None)
    client = ctx.conn.execute(
        select(table(models.OAuthClient)).where(table(models.OAuthClient).c.tenant_id == ctx.tenant)
    ).first()
    first = next((r.token for r in access if r.email == admin), access[0].token if access else None)
    return {
        "access_token": first,
        "user_tokens": {r.email: r.token for r in access},
        "refresh_token": refresh.token if refresh else None,
        "client_id": client.client_id if client else None,
        "client_secret": client.client_secret if client else None,
        "service_account": service_account_info(ctx),
        "admin": admin,
    }


def service_account_info(ctx: TwinContext, token_uri: str = GOOGLE_TOKEN_URI) -> dict[str, Any] | None:
    """A `type: service_account` key file, as the Cloud console downloads it."""
    sa_t = table(models.ServiceAccount)
    sa = ctx.conn.execute(
        select(sa_t).where(sa_t.c.tenant_id == ctx.tenant).order_by(sa_t.c.client_email)
    ).first()
    if sa is None:
        return None
    return key_file(
        client_email=sa.client_email,
        client_id=sa.client_id,
        project_id=sa.project_id,
        private_key_id=sa.private_key_id,
        private_key=sa.private_key,
        token_uri=token_uri,
    )


def key_file(
    *,
    client_email: str,
    client_id: str,
    project_id: str,
    private_key_id: str,
    private_key: str,
    token_uri: str,
) -> dict[str, Any]:
    return {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": private_key_id,
        "private_key": private_key,
        "client_email": client_email,
        "client_id": client_id,
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{client_email.replace('@', '%40')}",
        "universe_domain": "googleapis.com",
    }


def default_key_file(token_uri: str) -> dict[str, Any]:
    """The default customer's service-account key file (`dtu google-credentials`)."""
    sa = default_fixture()["service_accounts"][0]
    return key_file(
        client_email=sa["client_email"],
        client_id=sa["client_id"],
        project_id=sa["project_id"],
        private_key_id=sa["private_key_id"],
        private_key=sa["private_key"],
        token_uri=token_uri,
    )
