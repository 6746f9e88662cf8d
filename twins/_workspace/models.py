"""Workspace tables: one Google Workspace customer per tenant, shared by every Google twin.

https://developers.google.com/workspace/drive/api/reference/rest/v3 . Every table is scoped by
tenant with a composite primary key. Times are twin-clock seconds (floats); wire formatting
(RFC 3339, int64-as-string) happens in the twins. The tables are named `workspace_*` (not
after one twin) because Drive, Sheets and Docs read and write the same rows when they share
a database. Every table of a Google twin is declared here, even one only Drive's wire uses
(upload sessions): the three twins declare the same tables, so that a reset, a tenant
deletion or a snapshot through any of them covers the whole Workspace.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dtu.db import Base, TenantScoped, core_tables, table

GROUP = "workspace"
"""The store group of the Google twins (`TwinSpec.store_group`): their tenant registry and id
counters are `workspace_tenant` and `workspace_counter`, one for the three twins."""
CORE = core_tables(GROUP)


class Customer(TenantScoped, Base):
    """The Workspace customer (one per tenant): its primary domain, and the API quotas of its
    Cloud project where they differ from Google's defaults (as the Cloud console's quota page
    sets them; counted when a fault profile's `real_limits` rule is on)."""

    __tablename__ = "workspace_customer"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    domain: Mapped[str]
    name: Mapped[str] = mapped_column(default="")
    quotas: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


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
    # parent_id first: with tenant_id first SQLite (no statistics) took this index for a
    # file's parents (`tenant_id = ? AND file_id IN (...)`) and read every edge of the tenant
    __table_args__ = (Index("ix_workspace_parent_children", "parent_id", "tenant_id"),)
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


class Upload(TenantScoped, Base):
    """A resumable upload session (`uploadType=resumable`): what the initial request asked
    for, and the bytes received so far. https://developers.google.com/workspace/drive/api/guides/manage-uploads#resumable"""

    __tablename__ = "workspace_upload"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    file_id: Mapped[str | None] = mapped_column(String(64))  # set for files.update uploads
    file_metadata: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    mime_type: Mapped[str] = mapped_column(String(255), default="application/octet-stream")
    total: Mapped[int | None] = mapped_column(BigInteger)
    received: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    created: Mapped[float]
    done_file: Mapped[str | None] = mapped_column(String(64))  # the file the session made, once complete


class Channel(TenantScoped, Base):
    """A push-notification channel (`files.watch`, `changes.watch`); Sheets and Docs writes
    change watched files too. https://developers.google.com/workspace/drive/api/guides/push"""

    __tablename__ = "workspace_channel"
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(64))
    resource_uri: Mapped[str]
    kind: Mapped[str] = mapped_column(String(16))  # file | changes
    file_id: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str]
    token: Mapped[str | None]
    expiration: Mapped[int | None] = mapped_column(BigInteger)  # ms since the epoch
    message_number: Mapped[int] = mapped_column(default=0)
    page_token: Mapped[int | None]
    stopped: Mapped[bool] = mapped_column(default=False)


class Comment(TenantScoped, Base):
    """A comment on a file, Docs and Sheets files included (replies are `Reply` rows).
    https://developers.google.com/workspace/drive/api/reference/rest/v3/comments"""

    __tablename__ = "workspace_comment"
    file_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int]
    author: Mapped[str] = mapped_column(String(254))
    content: Mapped[str] = mapped_column(default="")
    anchor: Mapped[str | None]
    quoted: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_time: Mapped[float]
    modified_time: Mapped[float]
    resolved: Mapped[bool] = mapped_column(default=False)
    deleted: Mapped[bool] = mapped_column(default=False)


class Reply(TenantScoped, Base):
    """A reply to a comment; `action` resolve/reopen changes the comment's `resolved`.
    https://developers.google.com/workspace/drive/api/reference/rest/v3/replies"""

    __tablename__ = "workspace_reply"
    file_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    comment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int]
    author: Mapped[str] = mapped_column(String(254))
    content: Mapped[str] = mapped_column(default="")
    action: Mapped[str | None] = mapped_column(String(16))
    created_time: Mapped[float]
    modified_time: Mapped[float]
    deleted: Mapped[bool] = mapped_column(default=False)


# -- the content of Docs Editors files: where the Sheets and Docs twins keep it ---------------------
# (twins/_workspace/content.py is the API over these rows; Drive exports from them)


class Sheet(TenantScoped, Base):
    """A sheet (tab) of a spreadsheet: the Sheets API's `SheetProperties`.
    https://developers.google.com/workspace/sheets/api/reference/rest/v4/spreadsheets/sheets#SheetProperties"""

    __tablename__ = "workspace_sheet"
    file_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sheet_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    sheet_index: Mapped[int]  # `index`: the tab's position, 0 first
    title: Mapped[str]
    row_count: Mapped[int] = mapped_column(default=1000)
    column_count: Mapped[int] = mapped_column(default=26)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the rest (hidden, tabColor...)


class Cell(TenantScoped, Base):
    """One non-empty cell of a sheet (0-based row and column): the Sheets API's `CellData`.
    https://developers.google.com/workspace/sheets/api/reference/rest/v4/spreadsheets/cells#CellData"""

    __tablename__ = "workspace_cell"
    file_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sheet_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    row_index: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    column_index: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_entered: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # ExtendedValue, as entered
    effective: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # ExtendedValue, as computed
    formatted: Mapped[str | None]  # formattedValue: what the sheet shows (and CSV exports)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # formats, note, hyperlink...


class Document(TenantScoped, Base):
    """The content of a Google Doc: the Docs API's `Document` without `documentId` and `title`
    (the Drive file's id and name), i.e. `body`, `headers`, `footers`, `documentStyle`,
    `namedStyles`, `lists`... https://developers.google.com/workspace/docs/api/reference/rest/v1/documents"""

    __tablename__ = "workspace_document"
    file_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    revision: Mapped[int] = mapped_column(default=1)  # bumped by every write (Docs' revisionId)
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


TABLES = [
    table(Customer),
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
    table(Upload),
    table(Channel),
    table(Comment),
    table(Reply),
    table(Sheet),
    table(Cell),
    table(Document),
]
"""Every table of every Google twin (the core adds `workspace_tenant`, `workspace_counter`)."""

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
    "uploads": table(Upload),
    "channels": table(Channel),
    "comments": table(Comment),
    "replies": table(Reply),
    "sheets": table(Sheet),
    "cells": table(Cell),
    "documents": table(Document),
}
