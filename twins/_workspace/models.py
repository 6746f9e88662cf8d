"""Workspace tables: one Google Workspace customer per tenant, shared by every Google twin.

https://developers.google.com/workspace/drive/api/reference/rest/v3 . Every table is scoped by
tenant with a composite primary key. Times are twin-clock seconds (floats); wire formatting
(RFC 3339, int64-as-string) happens in the twins. The tables are named `workspace_*` (not
after one twin) because Drive, Sheets and Docs read and write the same rows when they share
a database.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dtu.db import Base, TenantScoped, table


class Customer(TenantScoped, Base):
    """The Workspace customer (one per tenant): its primary domain."""

    __tablename__ = "workspace_customer"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    domain: Mapped[str]
    name: Mapped[str] = mapped_column(default="")


class Counter(TenantScoped, Base):
    """Id sequences of the Workspace store, shared by the Google twins (their own
    `<twin>_counter` tables would mint the same file id twice in one shared database)."""

    __tablename__ = "workspace_counter"
    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int]


class Principal(TenantScoped, Base):
    """A user or a service account of the customer (Drive's `User` resource)."""

    __tablename__ = "workspace_principal"
    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    kind: Mapped[str] = mapped_column(default="user")  # user | service_account
    display_name: Mapped[str] = mapped_column(default="")
    permission_id: Mapped[str] = mapped_column(String(32))  # Drive's numeric id of the user
    is_admin: Mapped[bool] = mapped_column(default=False)
    root_id: Mapped[str] = mapped_column(String(64))  # the My Drive folder (`root` alias)
    quota_limit: Mapped[int] = mapped_column(BigInteger, default=15 * 1024**3)


class Group(TenantScoped, Base):
    """A Google group and its members (permissions of `type: group`)."""

    __tablename__ = "workspace_group"
    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    name: Mapped[str] = mapped_column(default="")
    members: Mapped[list[str]] = mapped_column(JSON, default=list)


class ServiceAccount(TenantScoped, Base):
    """A service account key (what a `type: service_account` key file holds), and whether the
    admin granted it domain-wide delegation (and for which scopes)."""

    __tablename__ = "workspace_service_account"
    client_email: Mapped[str] = mapped_column(String(254), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(32))
    project_id: Mapped[str] = mapped_column(String(64))
    private_key_id: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[str]
    private_key: Mapped[str]  # handed back in the key file (`dtu google-credentials`)
    delegation_scopes: Mapped[list[str]] = mapped_column(JSON, default=list)  # [] = no DWD


class OAuthClient(TenantScoped, Base):
    """An OAuth client (installed/web app) whose refresh tokens the token endpoint accepts."""

    __tablename__ = "workspace_oauth_client"
    client_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    client_secret: Mapped[str]


class Token(TenantScoped, Base):
    """An access token (`ya29.`) or refresh token (`1//`) for one principal and scope set."""

    __tablename__ = "workspace_token"
    __table_args__ = (Index("ix_workspace_token_token", "token", unique=True),)
    token: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(default="access")  # access | refresh
    email: Mapped[str] = mapped_column(String(254))
    client_id: Mapped[str] = mapped_column(String(254), default="")
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    expires_at: Mapped[float | None]  # twin clock; None = never
    revoked: Mapped[bool] = mapped_column(default=False)


class File(TenantScoped, Base):
    """A Drive file or folder (and the Drive side of every spreadsheet and document).
    https://developers.google.com/workspace/drive/api/reference/rest/v3/files"""

    __tablename__ = "workspace_file"
    __table_args__ = (Index("ix_workspace_file_seq", "tenant_id", "seq"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int]  # creation order
    name: Mapped[str] = mapped_column(default="Untitled")
    mime_type: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None]
    owner: Mapped[str | None] = mapped_column(String(254))  # None in a shared drive
    drive_id: Mapped[str | None] = mapped_column(String(64))
    starred: Mapped[bool] = mapped_column(default=False)
    trashed: Mapped[bool] = mapped_column(default=False)
    explicitly_trashed: Mapped[bool] = mapped_column(default=False)
    trashed_time: Mapped[float | None]
    trashing_user: Mapped[str | None] = mapped_column(String(254))
    created_time: Mapped[float]
    modified_time: Mapped[float]
    last_modifying_user: Mapped[str | None] = mapped_column(String(254))
    viewed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # email -> viewedByMeTime
    modified_by: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # email -> modifiedByMeTime
    version: Mapped[int] = mapped_column(default=1)
    size: Mapped[int | None] = mapped_column(BigInteger)
    md5: Mapped[str | None] = mapped_column(String(32))
    head_revision_id: Mapped[str | None] = mapped_column(String(64))
    original_filename: Mapped[str | None]
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    app_properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    writers_can_share: Mapped[bool] = mapped_column(default=True)
    copy_requires_writer_permission: Mapped[bool] = mapped_column(default=False)
    shortcut_target: Mapped[str | None] = mapped_column(String(64))
    folder_color: Mapped[str | None] = mapped_column(String(16))
    is_root: Mapped[bool] = mapped_column(default=False)  # a My Drive root: never listed
    written_at: Mapped[float] = mapped_column(default=0.0)  # twin clock (stale reads)


class SharedDrive(TenantScoped, Base):
    """A shared drive. Its id is also the id of its root folder (a `File` row with `is_root`),
    and its members are that folder's permissions.
    https://developers.google.com/workspace/drive/api/reference/rest/v3/drives"""

    __tablename__ = "workspace_drive"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int]
    name: Mapped[str]
    creator: Mapped[str] = mapped_column(String(254))
    request_id: Mapped[str | None] = mapped_column(String(255))  # drives.create idempotency (per creator)
    created_time: Mapped[float]
    color_rgb: Mapped[str | None] = mapped_column(String(16))
    theme_id: Mapped[str | None] = mapped_column(String(64))
    restrictions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    hidden_for: Mapped[list[str]] = mapped_column(JSON, default=list)  # hiding is per user


class Parent(TenantScoped, Base):
    """An edge of the parent graph (a file in a folder, or at a drive's root)."""

    __tablename__ = "workspace_parent"
    __table_args__ = (Index("ix_workspace_parent_parent", "tenant_id", "parent_id"),)
    file_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    parent_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class Permission(TenantScoped, Base):
    """A permission on a file, folder or shared drive (its members).
    https://developers.google.com/workspace/drive/api/reference/rest/v3/permissions"""

    __tablename__ = "workspace_permission"
    __table_args__ = (Index("ix_workspace_permission_file", "tenant_id", "file_id"),)
    file_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    type: Mapped[str] = mapped_column(String(16))  # user | group | domain | anyone
    role: Mapped[str] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(254))
    domain: Mapped[str | None] = mapped_column(String(254))
    allow_file_discovery: Mapped[bool] = mapped_column(default=False)
    expiration_time: Mapped[float | None]
    pending_owner: Mapped[bool] = mapped_column(default=False)
    created_time: Mapped[float] = mapped_column(default=0.0)


class Revision(TenantScoped, Base):
    """A revision of a file's content; the head revision's bytes are the file's content.
    https://developers.google.com/workspace/drive/api/reference/rest/v3/revisions"""

    __tablename__ = "workspace_revision"
    file_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int]
    mime_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    md5: Mapped[str] = mapped_column(String(32))
    modified_time: Mapped[float]
    last_modifying_user: Mapped[str | None] = mapped_column(String(254))
    original_filename: Mapped[str | None]
    keep_forever: Mapped[bool] = mapped_column(default=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


class Change(TenantScoped, Base):
    """One entry of the change log (`changes.list`); `id` is the page-token sequence."""

    __tablename__ = "workspace_change"
    __table_args__ = (Index("ix_workspace_change_file", "tenant_id", "file_id"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    file_id: Mapped[str] = mapped_column(String(64))
    drive_id: Mapped[str | None] = mapped_column(String(64))
    time: Mapped[float]
    removed: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(16), default="update")  # add|update|trash|untrash|remove
    # who could see the file when it was removed: a removal reaches only their change logs
    viewers: Mapped[list[str]] = mapped_column(JSON, default=list)


TABLES = [
    table(Customer),
    table(Counter),
    table(Principal),
    table(Group),
    table(ServiceAccount),
    table(OAuthClient),
    table(Token),
    table(File),
    table(SharedDrive),
    table(Parent),
    table(Permission),
    table(Revision),
    table(Change),
]

COLLECTIONS = {
    "customers": table(Customer),
    "principals": table(Principal),
    "groups": table(Group),
    "service_accounts": table(ServiceAccount),
    "tokens": table(Token),
    "files": table(File),
    "drives": table(SharedDrive),
    "parents": table(Parent),
    "permissions": table(Permission),
    "revisions": table(Revision),
    "changes": table(Change),
}
