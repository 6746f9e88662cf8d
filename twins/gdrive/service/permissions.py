"""Drive `permissions`: share files and folders, list, get, update, delete.

https://developers.google.com/workspace/drive/api/reference/rest/v3/permissions . Sharing
needs the owner role (or writer, when `writersCanShare`); a folder's permissions reach every
file under it. Ownership moves only with `transferOwnership=true`; the old owner stays a writer.
Divergences: no notification emails are sent (`sendNotificationEmail` is accepted and ignored);
shared-drive roles (organizer, fileOrganizer) are refused on My Drive items.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update

from dtu.context import TwinContext
from twins._workspace import common, store
from twins._workspace.common import FOLDER, RANK, ROLES
from twins.gdrive.errors import GoogleError, insufficient_file_permissions, permission_not_found
from twins.gdrive.service.common import Access, Renderer, caller

PERM = store.PERM
F = store.F


def _can_share(access: Access, row: Any) -> None:
    role = access.role(row.id)
    if row.drive_id is not None and row.id == row.drive_id:  # a shared drive's members
        if role == "organizer":
            return
        raise insufficient_file_permissions()
    if role == "owner" or (role is not None and RANK[role] >= RANK["writer"] and row.writers_can_share):
        return
    raise insufficient_file_permissions()


def _perm_row(ctx: TwinContext, file_id: str, permission_id: str) -> Any:
    row = ctx.conn.execute(
        select(PERM).where(
            PERM.c.tenant_id == ctx.tenant, PERM.c.file_id == file_id, PERM.c.id == permission_id
        )
    ).first()
    if row is None:
        raise permission_not_found(permission_id)
    return row


def _render(ctx: TwinContext, access: Access, file_id: str, permission_id: str) -> dict[str, Any]:
    access.graph = store.graph(ctx)
    return Renderer(ctx, access).permission(_perm_row(ctx, file_id, permission_id))


def _field(name: str, message: str | None = None) -> GoogleError:
    return GoogleError(
        message or f"The permission {name} field is required.",
        status=400,
        reason="required",
        location=f"permission.{name}",
        location_type="other",
    )


def create(
    ctx: TwinContext,
    *,
    file_id: str,
    body: dict[str, Any],
    transfer_ownership: bool = False,
    send_notification_email: bool | None = None,
) -> dict[str, Any]:
    """`permissions.create`."""
    access = Access(ctx)
    row = access.file(file_id)
    _can_share(access, row)
    type_, role = body.get("type"), body.get("role")
    if not type_:
        raise _field("type")
    if type_ not in ("user", "group", "domain", "anyone"):
        raise GoogleError(
            "The value of the permission type field is invalid.",
            status=400,
            reason="invalid",
            location="permission.type",
            location_type="other",
        )
    if not role:
        raise _field("role")
    if role not in ROLES:
        raise GoogleError(
            "The value of the permission role field is invalid.",
            status=400,
            reason="invalid",
            location="permission.role",
            location_type="other",
        )
    if role in ("organizer", "fileOrganizer") and row.drive_id is None:
        raise GoogleError(
            "The provided role is not allowed for this item.", status=400, reason="invalidSharingRequest"
        )
    email = body.get("emailAddress")
    domain = body.get("domain")
    if type_ in ("user", "group") and not email:
        raise _field("emailAddress")
    if type_ == "domain" and not domain:
        raise _field("domain")
    if type_ in ("user", "group") and (not isinstance(email, str) or "@" not in email):
        raise GoogleError(
            f"Invalid sharing request. The email address {email} is not valid.",
            status=400,
            reason="invalidSharingRequest",
        )
    if (
        type_ == "group"
        and not ctx.conn.execute(
            select(store.G.c.email).where(
                store.G.c.tenant_id == ctx.tenant, store.G.c.email == str(email).lower()
            )
        ).first()
    ):
        raise GoogleError(
            f'Bad Request. User message: "You are trying to invite {email}. Since there is no Google '
            'account associated with this email address, you must check the \\"Notify people\\" box '
            'to invite this recipient."',
            status=400,
            reason="invalidSharingRequest",
        )
    expiration = None
    if body.get("expirationTime"):
        try:
            expiration = common.parse_rfc3339(str(body["expirationTime"]))
        except ValueError:
            raise GoogleError("Invalid value for expirationTime.", status=400, reason="invalid") from None
        if expiration <= ctx.now():
            raise GoogleError(
                "The expiration time must be in the future.", status=400, reason="invalidExpirationTime"
            )
    if role == "owner":
        if not transfer_ownership:
            raise GoogleError(
                "The transferOwnership parameter must be enabled when the permission role is 'owner'.",
                status=403,
                reason="forbidden",
                location="transferOwnership",
                location_type="parameter",
            )
        if type_ != "user":
            raise GoogleError(
                "The provided role is not allowed for this item.", status=400, reason="invalidSharingRequest"
            )
        if access.role(row.id) != "owner":
            raise insufficient_file_permissions()
        return _transfer(ctx, access, row, str(email))
    perm_id = store.add_permission(
        ctx,
        row.id,
        type_=type_,
        role_name=role,
        email=email,
        domain=domain,
        allow_file_discovery=bool(body.get("allowFileDiscovery")),
        expiration_time=expiration,
    )
    store.touch(ctx, row.id, user=caller(ctx).email)
    _changed(ctx, row)
    return _render(ctx, access, row.id, perm_id)


def _transfer(ctx: TwinContext, access: Access, row: Any, email: str) -> dict[str, Any]:
    if store.principal(ctx, email) is None:
        raise GoogleError(
            'Bad Request. User message: "You can\'t change the owner of this item."',
            status=400,
            reason="invalidSharingRequest",
        )
    old = row.owner
    store.add_permission(ctx, row.id, type_="user", role_name="writer", email=old)
    perm_id = store.add_permission(ctx, row.id, type_="user", role_name="owner", email=email)
    ctx.conn.execute(
        update(F).where(F.c.tenant_id == ctx.tenant, F.c.id == row.id).values(owner=email.lower())
    )
    store.touch(ctx, row.id, user=caller(ctx).email)
    store.record_change(ctx, row.id, "update", changed=("permissions",))
    return _render(ctx, access, row.id, perm_id)


def list_permissions(ctx: TwinContext, *, file_id: str) -> dict[str, Any]:
    """`permissions.list`: the file's own permissions (writers and owners may list them)."""
    access = Access(ctx)
    row = access.file(file_id, min_role="writer")
    renderer = Renderer(ctx, access)
    perms = sorted(access.graph.perms_of(row.id), key=lambda p: p.seq)
    return {"kind": "drive#permissionList", "permissions": [renderer.permission(p) for p in perms]}


def get(ctx: TwinContext, *, file_id: str, permission_id: str) -> dict[str, Any]:
    access = Access(ctx)
    row = access.file(file_id, min_role="writer")
    return Renderer(ctx, access).permission(_perm_row(ctx, row.id, permission_id))


def update_permission(
    ctx: TwinContext,
    *,
    file_id: str,
    permission_id: str,
    body: dict[str, Any],
    transfer_ownership: bool = False,
    remove_expiration: bool = False,
) -> dict[str, Any]:
    """`permissions.update`: change the role (or expiration) of one permission."""
    access = Access(ctx)
    row = access.file(file_id)
    _can_share(access, row)
    perm = _perm_row(ctx, row.id, permission_id)
    role = body.get("role", perm.role)
    if role not in ROLES:
        raise GoogleError(
            "The value of the permission role field is invalid.",
            status=400,
            reason="invalid",
            location="permission.role",
            location_type="other",
        )
    if perm.role == "owner" and role != "owner":
        raise GoogleError("The owner of a file cannot be removed.", status=403, reason="cannotRemoveOwner")
    if role == "owner" and perm.role != "owner":
        if not transfer_ownership:
            raise GoogleError(
                "The transferOwnership parameter must be enabled when the permission role is 'owner'.",
                status=403,
                reason="forbidden",
                location="transferOwnership",
                location_type="parameter",
            )
        return _transfer(ctx, access, row, perm.email)
    values: dict[str, Any] = {"role": role}
    if remove_expiration:
        values["expiration_time"] = None
    elif body.get("expirationTime"):
        values["expiration_time"] = common.parse_rfc3339(str(body["expirationTime"]))
    ctx.conn.execute(
        update(PERM)
        .where(PERM.c.tenant_id == ctx.tenant, PERM.c.file_id == row.id, PERM.c.id == permission_id)
        .values(**values)
    )
    _changed(ctx, row)
    return _render(ctx, access, row.id, permission_id)


def delete_permission(ctx: TwinContext, *, file_id: str, permission_id: str) -> None:
    """`permissions.delete`: the owner's permission cannot be removed."""
    access = Access(ctx)
    row = access.file(file_id)
    perm = _perm_row(ctx, row.id, permission_id)
    me = caller(ctx).email
    if not (perm.type == "user" and perm.email == me):  # anyone may remove their own access
        _can_share(access, row)
    if perm.role == "owner":
        raise GoogleError("The owner of a file cannot be removed.", status=403, reason="cannotRemoveOwner")
    reach = [row.id, *(store.descendants(ctx, row.id) if row.mime_type == FOLDER else [])]
    before = store.snapshot(ctx, reach)  # unsharing a folder ends access to what is inside too
    ctx.conn.execute(
        delete(PERM).where(
            PERM.c.tenant_id == ctx.tenant, PERM.c.file_id == row.id, PERM.c.id == permission_id
        )
    )
    store.record_access_loss(ctx, before, skip=row.id, drive_id=row.drive_id)
    lost = sorted(before[row.id] - set(store.viewers(ctx, row.id)))
    _changed(ctx, row, seen_by=lost)


def _changed(ctx: TwinContext, row: Any, seen_by: list[str] | None = None) -> None:
    """A file's permissions changed; on a shared drive's root, its membership (a `drive`
    change: the drive appears in, or leaves, its members' change logs)."""
    state = "drive" if row.drive_id is not None and row.id == row.drive_id else "update"
    store.record_change(ctx, row.id, state, drive_id=row.drive_id, changed=("permissions",), seen_by=seen_by)
