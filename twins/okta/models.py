"""Okta org state: https://developer.okta.com/docs/api/openapi/okta-management/management/ .

One tenant = one Okta org. Every table is tenant-scoped with a composite primary key, so one
fixture loads into many tenants with the same vendor ids. Wire formatting lives in `service/`.
`seq` columns are creation order (the listing and paging key); `written_at` is the twin-clock
time of the last write (what `stale_reads` hides from lists).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dtu.db import Base, TenantScoped, table


class Org(TenantScoped, Base):
    """The org itself (`00o...`) and its settings (password policy lockout)."""

    __tablename__ = "okta_org"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str]
    subdomain: Mapped[str]
    lockout_attempts: Mapped[int] = mapped_column(default=10)


class ApiToken(TenantScoped, Base):
    """An SSWS API token; it acts with the permissions of the admin who made it."""

    __tablename__ = "okta_api_token"
    __table_args__ = (Index("ix_okta_api_token_token", "token", unique=True),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token: Mapped[str] = mapped_column(String(255))
    name: Mapped[str]
    user_id: Mapped[str] = mapped_column(String(32))
    created: Mapped[float]


class User(TenantScoped, Base):
    """A person. https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/"""

    __tablename__ = "okta_user"
    __table_args__ = (Index("ix_okta_user_login", "tenant_id", "login_lower"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    login_lower: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32))
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created: Mapped[float]
    activated: Mapped[float | None]
    status_changed: Mapped[float | None]
    last_login: Mapped[float | None]
    last_updated: Mapped[float]
    password_changed: Mapped[float | None]
    password_hash: Mapped[str | None] = mapped_column(String(128))
    recovery_question: Mapped[str | None] = mapped_column(String(255))
    recovery_answer_hash: Mapped[str | None] = mapped_column(String(128))
    provider: Mapped[str] = mapped_column(String(32), default="OKTA")
    type_id: Mapped[str] = mapped_column(String(32))
    failed_logins: Mapped[int] = mapped_column(default=0)
    is_admin: Mapped[bool] = mapped_column(default=False)
    activation_token: Mapped[str | None] = mapped_column(String(64))
    recovery_token: Mapped[str | None] = mapped_column(String(64))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    seq: Mapped[int]
    written_at: Mapped[float]


class SchemaProperty(TenantScoped, Base):
    """A custom attribute of the default user profile schema (`#custom`)."""

    __tablename__ = "okta_schema_property"
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Group(TenantScoped, Base):
    """A group (`OKTA_GROUP`, or the `BUILT_IN` Everyone). https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/"""

    __tablename__ = "okta_group"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    type: Mapped[str] = mapped_column(String(32), default="OKTA_GROUP")
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created: Mapped[float]
    last_updated: Mapped[float]
    last_membership_updated: Mapped[float]
    source_app_id: Mapped[str | None] = mapped_column(String(32), default=None)  # APP_GROUP groups
    seq: Mapped[int]
    written_at: Mapped[float]


class GroupMember(TenantScoped, Base):
    """A user's membership of a group; `seq` is the order members were added."""

    __tablename__ = "okta_group_member"
    __table_args__ = (Index("ix_okta_group_member_user", "tenant_id", "user_id"),)
    group_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int]
    rule_id: Mapped[str | None] = mapped_column(String(32))


class GroupOwner(TenantScoped, Base):
    """An owner of a group: a user or a group (`type` USER or GROUP), managed in Okta."""

    __tablename__ = "okta_group_owner"
    group_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    last_updated: Mapped[float]
    seq: Mapped[int]


class GroupRule(TenantScoped, Base):
    """A group rule: an Okta Expression Language condition that assigns users to groups."""

    __tablename__ = "okta_group_rule"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str]
    status: Mapped[str] = mapped_column(String(16), default="INACTIVE")
    expression: Mapped[str] = mapped_column(Text)
    group_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    exclude_users: Mapped[list[str]] = mapped_column(JSON, default=list)
    created: Mapped[float]
    last_updated: Mapped[float]
    seq: Mapped[int]


class App(TenantScoped, Base):
    """An app integration (OIDC web, service, browser apps). https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Application/"""

    __tablename__ = "okta_app"
    __table_args__ = (Index("ix_okta_app_client", "client_id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), default="oidc_client")
    label: Mapped[str]
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    sign_on_mode: Mapped[str] = mapped_column(String(32), default="OPENID_CONNECT")
    client_id: Mapped[str | None] = mapped_column(String(64))
    client_secret: Mapped[str | None] = mapped_column(String(128))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created: Mapped[float]
    last_updated: Mapped[float]
    seq: Mapped[int]
    written_at: Mapped[float]


class AppUser(TenantScoped, Base):
    """A user assigned to an app (directly, or through a group: `scope` USER or GROUP)."""

    __tablename__ = "okta_app_user"
    app_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scope: Mapped[str] = mapped_column(String(16), default="USER")
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created: Mapped[float]
    seq: Mapped[int]


class AppGroup(TenantScoped, Base):
    """A group assigned to an app."""

    __tablename__ = "okta_app_group"
    app_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    priority: Mapped[int] = mapped_column(default=0)
    created: Mapped[float]
    seq: Mapped[int]


class AppKey(TenantScoped, Base):
    """An app's SAML signing key credential (`credentials.signing.kid`), with its X.509 certificate."""

    __tablename__ = "okta_app_key"
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    app_id: Mapped[str] = mapped_column(String(32))
    private_pem: Mapped[str] = mapped_column(Text)
    cert_der_b64: Mapped[str] = mapped_column(Text)
    created: Mapped[float]
    expires_at: Mapped[float]


class ClientSecret(TenantScoped, Base):
    """An OAuth client secret of an app (`/credentials/secrets`): two may be ACTIVE for rotation."""

    __tablename__ = "okta_client_secret"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(String(32))
    secret: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    created: Mapped[float]
    last_updated: Mapped[float]
    seq: Mapped[int]


class Policy(TenantScoped, Base):
    """A policy (OKTA_SIGN_ON, MFA_ENROLL, PASSWORD); `system` marks the org's default one."""

    __tablename__ = "okta_policy"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str]
    description: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    priority: Mapped[int]
    system: Mapped[bool] = mapped_column(default=False)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created: Mapped[float]
    last_updated: Mapped[float]
    seq: Mapped[int]


class PolicyRule(TenantScoped, Base):
    """A rule of a policy: conditions on people, and the actions that apply when they match."""

    __tablename__ = "okta_policy_rule"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    policy_id: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str]
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    priority: Mapped[int]
    system: Mapped[bool] = mapped_column(default=False)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created: Mapped[float]
    last_updated: Mapped[float]
    seq: Mapped[int]


class LogEvent(TenantScoped, Base):
    """A System Log event (LogEvent object), kept whole as Okta renders it."""

    __tablename__ = "okta_log_event"
    __table_args__ = (Index("ix_okta_log_event_published", "tenant_id", "published"),)
    uuid: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int]
    published: Mapped[float]
    event_type: Mapped[str] = mapped_column(String(128))
    event: Mapped[dict[str, Any]] = mapped_column(JSON)


class EventHook(TenantScoped, Base):
    """An event hook (`who...`): where and how Okta delivers subscribed System Log events."""

    __tablename__ = "okta_event_hook"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str]
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    verification_status: Mapped[str] = mapped_column(String(16), default="UNVERIFIED")
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created: Mapped[float]
    last_updated: Mapped[float]
    seq: Mapped[int]


class Session(TenantScoped, Base):
    """An Okta session (`/api/v1/sessions`), made from a session token."""

    __tablename__ = "okta_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32))
    created: Mapped[float]
    expires_at: Mapped[float]
    last_password_verification: Mapped[float | None]
    last_factor_verification: Mapped[float | None]
    amr: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")


class Factor(TenantScoped, Base):
    """An enrolled MFA factor (TOTP: `token:software:totp`, OKTA or GOOGLE), with its shared secret."""

    __tablename__ = "okta_factor"
    __table_args__ = (Index("ix_okta_factor_user", "tenant_id", "user_id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32))
    factor_type: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), default="PENDING_ACTIVATION")
    secret: Mapped[str] = mapped_column(String(64))
    last_counter: Mapped[int] = mapped_column(default=-1)
    created: Mapped[float]
    last_updated: Mapped[float]


class Transaction(TenantScoped, Base):
    """A one-time credential: an authn `stateToken`, a `sessionToken`, or an authorization `code`."""

    __tablename__ = "okta_transaction"
    __table_args__ = (Index("ix_okta_transaction_token", "token", unique=True),)
    token: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # state | session | code
    user_id: Mapped[str | None] = mapped_column(String(32))
    expires_at: Mapped[float]
    used: Mapped[bool] = mapped_column(default=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AuthServer(TenantScoped, Base):
    """An authorization server: `default`, custom `aus...` ones, and `org` (the org server)."""

    __tablename__ = "okta_auth_server"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str]
    audiences: Mapped[list[str]] = mapped_column(JSON, default=list)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)  # custom scopes
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")


class SigningKey(TenantScoped, Base):
    """An RS256 signing key of the org (`status` ACTIVE, NEXT or EXPIRED); rotated by the control plane."""

    __tablename__ = "okta_signing_key"
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    private_pem: Mapped[str] = mapped_column(Text)
    created: Mapped[float]


class OAuthToken(TenantScoped, Base):
    """An issued access or refresh token (by its jti), for introspect, revoke and rotation."""

    __tablename__ = "okta_oauth_token"
    __table_args__ = (Index("ix_okta_oauth_token_digest", "digest", unique=True),)
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # access | refresh
    auth_server: Mapped[str] = mapped_column(String(32))
    client_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(32))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    issued_at: Mapped[float]
    expires_at: Mapped[float]
    revoked: Mapped[bool] = mapped_column(default=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


TABLES = [
    table(m)
    for m in (
        Org,
        ApiToken,
        User,
        SchemaProperty,
        Group,
        GroupMember,
        GroupOwner,
        GroupRule,
        App,
        AppKey,
        ClientSecret,
        Policy,
        PolicyRule,
        AppUser,
        AppGroup,
        LogEvent,
        EventHook,
        Session,
        Factor,
        Transaction,
        AuthServer,
        SigningKey,
        OAuthToken,
    )
]
COLLECTIONS = {
    "org": table(Org),
    "users": table(User),
    "groups": table(Group),
    "group_members": table(GroupMember),
    "group_owners": table(GroupOwner),
    "group_rules": table(GroupRule),
    "apps": table(App),
    "app_users": table(AppUser),
    "app_groups": table(AppGroup),
    "app_keys": table(AppKey),
    "client_secrets": table(ClientSecret),
    "policies": table(Policy),
    "policy_rules": table(PolicyRule),
    "logs": table(LogEvent),
    "event_hooks": table(EventHook),
    "sessions": table(Session),
    "factors": table(Factor),
    "schema": table(SchemaProperty),
    "auth_servers": table(AuthServer),
    "signing_keys": table(SigningKey),
    "oauth_tokens": table(OAuthToken),
    "api_tokens": table(ApiToken),
}
