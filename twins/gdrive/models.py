"""Drive state: the Workspace tables (`twins._workspace.models`), shared with Sheets and Docs.

Drive keeps no table of its own: its upload sessions, push channels, comments and replies are
Workspace tables too, so that a reset or a snapshot through any Google twin covers them.
https://developers.google.com/workspace/drive/api/reference/rest/v3
"""

from __future__ import annotations

from twins._workspace.models import COLLECTIONS, TABLES, Channel, Comment, Reply, Upload

__all__ = ["COLLECTIONS", "TABLES", "Channel", "Comment", "Reply", "Upload"]
