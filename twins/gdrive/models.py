"""Drive state: the shared Workspace tables, plus what only Drive's wire needs.

The file graph (files, parents, permissions, revisions, changes) is the Workspace store in
`twins._workspace.models`, shared with the Sheets and Docs twins. Drive adds its resumable
upload sessions and its push-notification channels.
https://developers.google.com/workspace/drive/api/reference/rest/v3
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dtu.db import Base, TenantScoped, table
from twins._workspace import models as ws


class Upload(TenantScoped, Base):
    """A resumable upload session (`uploadType=resumable`): what the initial request asked
    for, and the bytes received so far. https://developers.google.com/workspace/drive/api/guides/manage-uploads#resumable"""

    __tablename__ = "gdrive_upload"
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
    """A push-notification channel (`files.watch`, `changes.watch`).
    https://developers.google.com/workspace/drive/api/guides/push"""

    __tablename__ = "gdrive_channel"
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
    """A comment on a file (replies are `Reply` rows).
    https://developers.google.com/workspace/drive/api/reference/rest/v3/comments"""

    __tablename__ = "gdrive_comment"
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

    __tablename__ = "gdrive_reply"
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


TABLES = [*ws.TABLES, table(Upload), table(Channel), table(Comment), table(Reply)]
COLLECTIONS = {
    **ws.COLLECTIONS,
    "uploads": table(Upload),
    "channels": table(Channel),
    "comments": table(Comment),
    "replies": table(Reply),
}
