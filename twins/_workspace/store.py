"""The Workspace file graph: files, parents, permissions (with inheritance), revisions, changes.

https://developers.google.com/workspace/drive/api/guides/manage-sharing . A caller's role on a
file is the best role any permission grants them on the file or on an ancestor folder (or, in
a shared drive, on the drive: its members). Drive hides what a caller may not see: such a file
answers 404 `notFound`, exactly like a file that does not exist. Sheets and Docs use the same
checks on their files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, delete, insert, select, update

from dtu.context import TwinContext
from dtu.db import table
from dtu.ids import stable_hash
from twins._workspace import common, models
from twins._workspace import content as native
from twins._workspace.common import DOCUMENT, FOLDER, GOOGLE_APPS, RANK, SPREADSHEET, Caller

F = table(models.File)
P = table(models.Parent)
PERM = table(models.Permission)
REV = table(models.Revision)
CH = table(models.Change)
G = table(models.Group)
PR = table(models.Principal)


def permission_id_for(key: str) -> str:
    """Drive's permission id of a user, group or domain: the same numeric string on every file."""
    return f"{stable_hash('permission', key.lower()) % 10**20:020d}"


def domain_of(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower()


def is_native(mime: str) -> bool:
    """Google-native (Docs Editors, folders, shortcuts): no binary content of their own."""
    return mime.startswith(GOOGLE_APPS)


def principal(ctx: TwinContext, email: str) -> Row[Any] | None:
    return ctx.conn.execute(
        select(PR).where(PR.c.tenant_id == ctx.tenant, PR.c.email == email.lower())
    ).first()


def root_id(ctx: TwinContext, caller: Caller) -> str:
    row = principal(ctx, caller.email)
    return str(row.root_id) if row is not None else ""


def get(ctx: TwinContext, file_id: str) -> Row[Any] | None:
    return ctx.conn.execute(select(F).where(F.c.tenant_id == ctx.tenant, F.c.id == file_id)).first()


def parents(ctx: TwinContext, file_id: str) -> list[str]:
    return list(
        ctx.conn.execute(
            select(P.c.parent_id)
            .where(P.c.tenant_id == ctx.tenant, P.c.file_id == file_id)
            .order_by(P.c.parent_id)
        ).scalars()
    )


def children(ctx: TwinContext, folder_id: str) -> list[str]:
    return list(
        ctx.conn.execute(
            select(P.c.file_id).where(P.c.tenant_id == ctx.tenant, P.c.parent_id == folder_id)
        ).scalars()
    )


def groups_of(ctx: TwinContext, email: str) -> set[str]:
    out = set()
    for row in ctx.conn.execute(select(G.c.email, G.c.members).where(G.c.tenant_id == ctx.tenant)):
        if email.lower() in {m.lower() for m in row.members or []}:
            out.add(row.email.lower())
    return out


@dataclass
class Grants:
    """What the caller is: their email, groups and domain, for matching permissions. `reach`
    says which permissions count: `all` (access: anyone with the link may open a file), `direct`
    (shared with them or a group of theirs: what `corpora=user` lists), `domain` (direct, plus
    what their domain may find: `corpora=domain`)."""

    email: str
    groups: set[str]
    domain: str
    now: float
    reach: str = "all"

    def matches(self, perm: Any) -> bool:
        if perm.expiration_time is not None and perm.expiration_time <= self.now:
            return False
        if perm.type == "user":
            return bool(perm.email) and perm.email.lower() == self.email
        if perm.type == "group":
            return bool(perm.email) and perm.email.lower() in self.groups
        if self.reach == "direct" or (self.reach == "domain" and not perm.allow_file_discovery):
            return False
        if perm.type == "domain":
            return bool(perm.domain) and perm.domain.lower() == self.domain
        return bool(perm.type == "anyone") and self.reach == "all"

    def narrowed(self, reach: str) -> Grants:
        return Grants(self.email, self.groups, self.domain, self.now, reach)


def grants(ctx: TwinContext, caller: Caller) -> Grants:
    email = caller.email.lower()
    return Grants(email, groups_of(ctx, email), domain_of(email), ctx.now())


class Graph:
    """The parent graph and permissions of the files a unit of work looks at, loaded as they are
    needed: a file and its ancestors (a role is inherited from every folder above), in one query
    per table and per level of the tree for a batch of files, or the tenant's whole graph at
    once for a batch too big for that. Roles are cached per file and `Grants` object
    (`forget_roles` when a Grants object may be reused for someone else)."""

    BULK = 2000  # a batch of more files loads the tenant's whole graph (two queries)
    CHUNK = 500  # ids per `IN (...)`

    def __init__(self, ctx: TwinContext | None = None) -> None:
        self.ctx = ctx
        self.parents: dict[str, list[str]] = {}
        self.perms: dict[str, list[Any]] = {}
        self._role: dict[tuple[int, str], str | None] = {}  # (id of the Grants, file) -> role
        self._complete = ctx is None  # an empty Graph() is what its dicts hold, nothing more

    def load(self, file_ids: Iterable[str]) -> None:
        """Make sure these files and all their ancestors are in memory."""
        if self._complete or self.ctx is None:
            return
        todo = list(dict.fromkeys(f for f in file_ids if f not in self.parents))
        if len(todo) > self.BULK:
            self._load_all()
            return
        ctx = self.ctx
        while todo:
            for at in range(0, len(todo), self.CHUNK):
                chunk = todo[at : at + self.CHUNK]
                for fid in chunk:
                    self.parents.setdefault(fid, [])
                    self.perms.setdefault(fid, [])
                for row in ctx.conn.execute(
                    select(P.c.file_id, P.c.parent_id).where(
                        P.c.tenant_id == ctx.tenant, P.c.file_id.in_(chunk)
                    )
                ):
                    self.parents[row.file_id].append(row.parent_id)
                for row in ctx.conn.execute(
                    select(PERM).where(PERM.c.tenant_id == ctx.tenant, PERM.c.file_id.in_(chunk))
                ):
                    self.perms[row.file_id].append(row)
            todo = list(dict.fromkeys(p for f in todo for p in self.parents[f] if p not in self.parents))

    def _load_all(self) -> None:
        assert self.ctx is not None
        ctx = self.ctx
        self.parents, self.perms = {}, {}
        for row in ctx.conn.execute(select(F.c.id).where(F.c.tenant_id == ctx.tenant)):
            self.parents[row.id] = []
            self.perms[row.id] = []
        for row in ctx.conn.execute(select(P.c.file_id, P.c.parent_id).where(P.c.tenant_id == ctx.tenant)):
            self.parents.setdefault(row.file_id, []).append(row.parent_id)
        for row in ctx.conn.execute(select(PERM).where(PERM.c.tenant_id == ctx.tenant)):
            self.perms.setdefault(row.file_id, []).append(row)
        self._complete = True

    def parents_of(self, file_id: str) -> list[str]:
        self.load([file_id])
        return self.parents.get(file_id, [])

    def perms_of(self, file_id: str) -> list[Any]:
        self.load([file_id])
        return self.perms.get(file_id, [])

    def forget_roles(self) -> None:
        self._role.clear()

    def role(self, file_id: str, who: Grants, _seen: frozenset[str] = frozenset()) -> str | None:
        key = (id(who), file_id)
        if key in self._role:
            return self._role[key]
        if not _seen:
            self.load([file_id])
        best: str | None = None
        for perm in self.perms.get(file_id, ()):
            if who.matches(perm) and (best is None or RANK[perm.role] > RANK[best]):
                best = perm.role
        for parent in self.parents.get(file_id, ()):
            if parent in _seen:
                continue
            inherited = self.role(parent, who, _seen | {file_id})
            if inherited == "owner":
                inherited = "writer"  # a folder's owner edits what others put in it; ownership is per file
            if inherited is not None and (best is None or RANK[inherited] > RANK[best]):
                best = inherited
        self._role[key] = best
        return best


def graph(ctx: TwinContext) -> Graph:
    """The tenant's graph, read as it is needed (see `Graph`)."""
    return Graph(ctx)


def role(ctx: TwinContext, caller: Caller, file_id: str) -> str | None:
    """The caller's effective role on a file (None: no access)."""
    return Graph(ctx).role(file_id, grants(ctx, caller))


def owner_of(role_name: str | None) -> bool:
    return role_name == "owner"


# -- writes ------------------------------------------------------------------------------------------


def everyone(ctx: TwinContext) -> list[Grants]:
    """Every person of the customer, as permissions match them (groups read once)."""
    members: dict[str, set[str]] = {}
    for row in ctx.conn.execute(select(G.c.email, G.c.members).where(G.c.tenant_id == ctx.tenant)):
        for member in row.members or []:
            members.setdefault(member.lower(), set()).add(row.email.lower())
    now = ctx.now()
    return [
        Grants(email.lower(), members.get(email.lower(), set()), domain_of(email), now)
        for email in ctx.conn.execute(select(PR.c.email).where(PR.c.tenant_id == ctx.tenant)).scalars()
    ]


def viewers(
    ctx: TwinContext, file_id: str, g: Graph | None = None, people: list[Grants] | None = None
) -> list[str]:
    """The customer's people who can see a file now (whose change logs a removal reaches)."""
    g = g or graph(ctx)
    out = []
    for who in people if people is not None else everyone(ctx):
        g.forget_roles()
        if g.role(file_id, who) is not None:
            out.append(who.email)
    g.forget_roles()
    return out


def snapshot(ctx: TwinContext, file_ids: list[str]) -> dict[str, set[str]]:
    """Who can see each of these files now: taken before and after a write that may end
    someone's access (unsharing, moving), so that the change log can tell them."""
    g, people = graph(ctx), everyone(ctx)
    g.load(file_ids)
    return {fid: set(viewers(ctx, fid, g, people)) for fid in file_ids}


def record_access_loss(
    ctx: TwinContext, before: dict[str, set[str]], *, skip: str | None = None, drive_id: str | None = None
) -> None:
    """After a write that may have ended someone's access to these files (`before`: a
    `snapshot` taken before it), record a change for each file somebody can no longer see,
    naming them (their `changes.list` then answers `removed`); `skip` is recorded by the caller."""
    after = snapshot(ctx, list(before))
    for fid, was in before.items():
        lost = was - after[fid]
        if fid != skip and lost:
            record_change(
                ctx, fid, "update", drive_id=drive_id, seen_by=sorted(lost), changed=("permissions",)
            )


def record_change(
    ctx: TwinContext,
    file_id: str,
    state: str,
    *,
    drive_id: str | None = None,
    removed: bool = False,
    seen_by: list[str] | None = None,
    changed: Iterable[str] = (),
    parents_before: Iterable[str] | None = None,
) -> int:
    """Append to the change log (`changes.list`; the id is the next page token) and tell the
    push channels that watch it (`push.observe`). `seen_by`: the people whose view of the file
    this change ended (deleted, unshared, moved away); `changed`: what changed (`content`,
    `properties`, `parents`, `permissions`: push's `X-Goog-Changed`); `parents_before`: the
    parents before a move or a deletion (their watchers hear of `children`)."""
    from twins._workspace import push

    seq = common.ids(ctx).next("change")
    lost = sorted({e.lower() for e in seen_by or []})
    ctx.conn.execute(
        insert(CH).values(
            tenant_id=ctx.tenant,
            id=seq,
            file_id=file_id,
            drive_id=drive_id,
            time=ctx.now(),
            removed=removed,
            state=state,
            viewers=lost,
        )
    )
    push.observe(
        ctx,
        push.ChangeInfo(
            file_id=file_id,
            state=state,
            drive_id=drive_id,
            changed=frozenset(changed),
            parents_before=None if parents_before is None else tuple(parents_before),
            lost_by=tuple(lost),
        ),
    )
    return seq


def add_permission(
    ctx: TwinContext,
    file_id: str,
    *,
    type_: str,
    role_name: str,
    email: str | None = None,
    domain: str | None = None,
    allow_file_discovery: bool = False,
    expiration_time: float | None = None,
) -> str:
    """Insert or upgrade a permission; its id is the grantee's Drive permission id."""
    if type_ == "anyone":
        perm_id = "anyone" if allow_file_discovery else "anyoneWithLink"
    elif type_ == "domain":
        perm_id = permission_id_for("domain:" + (domain or ""))
    else:
        perm_id = permission_id_for(email or "")
    existing = ctx.conn.execute(
        select(PERM.c.id).where(
            PERM.c.tenant_id == ctx.tenant, PERM.c.file_id == file_id, PERM.c.id == perm_id
        )
    ).first()
    values = {
        "type": type_,
        "role": role_name,
        "email": email.lower() if email else None,
        "domain": domain.lower() if domain else None,
        "allow_file_discovery": allow_file_discovery,
        "expiration_time": expiration_time,
    }
    if existing is None:
        ctx.conn.execute(
            insert(PERM).values(
                tenant_id=ctx.tenant,
                file_id=file_id,
                id=perm_id,
                seq=common.ids(ctx).next("permission"),
                created_time=ctx.now(),
                **values,
            )
        )
    else:
        ctx.conn.execute(
            update(PERM)
            .where(PERM.c.tenant_id == ctx.tenant, PERM.c.file_id == file_id, PERM.c.id == perm_id)
            .values(**values)
        )
    return perm_id


def new_revision(
    ctx: TwinContext, file_id: str, *, content: bytes, mime: str, user: str | None, filename: str | None
) -> tuple[str, str]:
    """Store content as the file's new head revision; answers (revision id, md5)."""
    seq = common.ids(ctx).next(f"revision:{file_id}")
    rev_id = "0B" + common.ids(ctx).token(
        "revision", length=48, alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    )
    md5 = hashlib.md5(content, usedforsecurity=False).hexdigest()
    ctx.conn.execute(
        insert(REV).values(
            tenant_id=ctx.tenant,
            file_id=file_id,
            id=rev_id,
            seq=seq,
            mime_type=mime,
            size=len(content),
            md5=md5,
            modified_time=ctx.now(),
            last_modifying_user=user,
            original_filename=filename,
            keep_forever=False,
            content=content,
        )
    )
    return rev_id, md5


def content(ctx: TwinContext, file_row: Any) -> bytes:
    if file_row.head_revision_id is None:
        return b""
    data = ctx.conn.execute(
        select(REV.c.content).where(
            REV.c.tenant_id == ctx.tenant, REV.c.file_id == file_row.id, REV.c.id == file_row.head_revision_id
        )
    ).scalar()
    return bytes(data or b"")


def insert_file(
    ctx: TwinContext,
    *,
    caller_email: str,
    name: str,
    mime: str,
    parent_ids: list[str],
    data: bytes | None = None,
    file_id: str | None = None,
    drive_id: str | None = None,
    description: str | None = None,
    starred: bool = False,
    properties: dict[str, Any] | None = None,
    app_properties: dict[str, Any] | None = None,
    original_filename: str | None = None,
    created_time: float | None = None,
    modified_time: float | None = None,
    is_root: bool = False,
    shortcut_target: str | None = None,
    folder_color: str | None = None,
    writers_can_share: bool = True,
    copy_requires_writer_permission: bool = False,
) -> str:
    """Create a file (and its owner permission, first revision and change entry)."""
    fid = file_id or common.file_id(ctx)
    now = ctx.now()
    ctx.conn.execute(
        insert(F).values(
            tenant_id=ctx.tenant,
            id=fid,
            seq=common.ids(ctx).next("file-seq"),
            name=name,
            mime_type=mime,
            description=description,
            owner=None if drive_id else caller_email.lower(),
            drive_id=drive_id,
            starred=starred,
            trashed=False,
            explicitly_trashed=False,
            created_time=created_time or now,
            modified_time=modified_time or now,
            last_modifying_user=caller_email.lower(),
            viewed={caller_email.lower(): now},
            modified_by={caller_email.lower(): now},
            version=1,
            size=None,
            md5=None,
            head_revision_id=None,
            original_filename=original_filename,
            properties=properties or {},
            app_properties=app_properties or {},
            writers_can_share=writers_can_share,
            copy_requires_writer_permission=copy_requires_writer_permission,
            shortcut_target=shortcut_target,
            folder_color=folder_color,
            is_root=is_root,
            written_at=now,
        )
    )
    for parent in dict.fromkeys(parent_ids):
        ctx.conn.execute(insert(P).values(tenant_id=ctx.tenant, file_id=fid, parent_id=parent))
    if drive_id is None:
        add_permission(ctx, fid, type_="user", role_name="owner", email=caller_email)
    if data is not None and not is_native(mime) and mime != FOLDER:
        rev, md5 = new_revision(
            ctx, fid, content=data, mime=mime, user=caller_email.lower(), filename=original_filename
        )
        ctx.conn.execute(
            update(F)
            .where(F.c.tenant_id == ctx.tenant, F.c.id == fid)
            .values(size=len(data), md5=md5, head_revision_id=rev)
        )
    if mime in (SPREADSHEET, DOCUMENT):
        native.create(ctx, fid, mime)
    if not is_root:
        record_change(ctx, fid, "add", drive_id=drive_id)
    return fid


def touch(ctx: TwinContext, file_id: str, *, user: str, content_changed: bool = False, **values: Any) -> None:
    """Apply a write to a file: bump its version, and its modifiedTime when Drive would."""
    row = get(ctx, file_id)
    assert row is not None
    changes: dict[str, Any] = {"version": row.version + 1, "written_at": ctx.now(), **values}
    if content_changed or values.get("name") is not None or values.get("description") is not None:
        changes.setdefault("modified_time", ctx.now())
        changes["last_modifying_user"] = user.lower()
        changes["modified_by"] = {**(row.modified_by or {}), user.lower(): ctx.now()}
    ctx.conn.execute(update(F).where(F.c.tenant_id == ctx.tenant, F.c.id == file_id).values(**changes))


def descendants(ctx: TwinContext, folder_id: str) -> list[str]:
    out: list[str] = []
    todo = [folder_id]
    seen = {folder_id}
    while todo:
        for child in children(ctx, todo.pop()):
            if child not in seen:
                seen.add(child)
                out.append(child)
                todo.append(child)
    return out


def delete_files(ctx: TwinContext, file_ids: list[str]) -> None:
    """Remove files for good (with their edges, permissions and revisions)."""
    t = ctx.tenant
    g, people = graph(ctx), everyone(ctx)
    g.load(file_ids)
    seen = {fid: viewers(ctx, fid, g, people) for fid in file_ids}
    for fid in file_ids:
        row = get(ctx, fid)
        before = parents(ctx, fid)
        ctx.conn.execute(delete(P).where(P.c.tenant_id == t, (P.c.file_id == fid) | (P.c.parent_id == fid)))
        ctx.conn.execute(delete(PERM).where(PERM.c.tenant_id == t, PERM.c.file_id == fid))
        ctx.conn.execute(delete(REV).where(REV.c.tenant_id == t, REV.c.file_id == fid))
        ctx.conn.execute(delete(F).where(F.c.tenant_id == t, F.c.id == fid))
        native.drop(ctx, [fid])
        record_change(
            ctx,
            fid,
            "remove",
            drive_id=row.drive_id if row is not None else None,
            removed=True,
            seen_by=seen[fid],
            parents_before=before,
        )
