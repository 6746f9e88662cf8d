"""Who sees an entry of the change log: the rule `changes.list` and push notifications share.

https://developers.google.com/workspace/drive/api/guides/manage-changes . The Workspace keeps
one change log per customer (`workspace_change`, written by every Google front door through
`store.record_change`); each person reads it through their own view: a changed file they can
see now is a `file` entry; a file they could see and no longer can (deleted, unshared, moved
out of a folder shared with them) is a `removed` entry, because the change that ended their view
lists them in its `viewers`. Shared-drive items appear only where the request asks for them
(`driveId`, or `includeItemsFromAllDrives`); a shared drive itself changes as `changeType:
drive` entries (state `drive`) for its members.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dtu.context import TwinContext
from twins._workspace import store


@dataclass(frozen=True)
class Scope:
    """What one `changes.list` (or the channel of one `changes.watch`) asks for."""

    drive_id: str | None = None  # one shared drive's changes only
    all_drives: bool = False  # includeItemsFromAllDrives: shared-drive items with My Drive's
    restrict_to_my_drive: bool = False
    include_removed: bool = True


class Viewer:
    """One person's view of the file graph, for one decision pass (roles are cached: build a
    new Viewer after the graph changed)."""

    def __init__(self, ctx: TwinContext, email: str, graph: store.Graph | None = None) -> None:
        self.ctx = ctx
        self.email = email.lower()
        self.who = store.Grants(
            self.email, store.groups_of(ctx, self.email), store.domain_of(self.email), ctx.now()
        )
        self.graph = graph or store.graph(ctx)
        self._root: str | None = None

    def role(self, file_id: str) -> str | None:
        return self.graph.role(file_id, self.who)

    def in_my_drive(self, file_id: str) -> bool:
        if self._root is None:
            row = store.principal(self.ctx, self.email)
            self._root = str(row.root_id) if row is not None else ""
        seen: set[str] = set()
        todo = [file_id]
        while todo:
            current = todo.pop()
            if current == self._root:
                return True
            if current in seen:
                continue
            seen.add(current)
            todo.extend(self.graph.parents_of(current))
        return False


DRIVE_STATES = ("drive", "drive_removed")


def decide(
    viewer: Viewer,
    *,
    file_id: str,
    state: str,
    drive_id: str | None,
    row: Any,
    lost_by: Iterable[str],
    scope: Scope,
) -> str | None:
    """`file` (the file as it is now), `removed`, `drive`, `drive_removed`, or None (the
    entry is not in this person's log). `row` is the file now (None: deleted; for a drive
    change, the drive's root folder); `lost_by` the people whose view of it the changes in the
    range ended."""
    if scope.drive_id is not None:
        if drive_id != scope.drive_id:
            return None
    elif drive_id is not None and not scope.all_drives:
        return None
    if state in DRIVE_STATES:
        member = state == "drive" and row is not None and viewer.role(row.id) is not None
        if member:
            return "drive"
        return "drive_removed" if scope.include_removed and viewer.email in set(lost_by) else None
    if drive_id is not None and file_id == drive_id:
        return None  # a shared drive's root folder changes as the drive itself
    if row is not None and not row.is_root and viewer.role(row.id) is not None:
        if scope.restrict_to_my_drive and not viewer.in_my_drive(row.id):
            return None
        return "file"
    if scope.include_removed and viewer.email in set(lost_by):
        return "removed"
    return None
