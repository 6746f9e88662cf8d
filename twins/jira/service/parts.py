"""Issue links, remote links, watchers, votes, attachments, entity properties, project roles.

https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-links/ ,
.../api-group-issue-remote-links/ , .../api-group-issue-watchers/ , .../api-group-issue-votes/ ,
.../api-group-issue-attachments/ , .../api-group-issue-properties/ ,
.../api-group-project-roles/ and .../api-group-project-role-actors/ . Attachments need the
`X-Atlassian-Token: no-check` header (XSRF) and are limited to 10 MB each (413 beyond).
Divergences: attachment content is served directly (Jira redirects to its media service);
no thumbnails; roles are Administrators, Developers and Users in every project.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from sqlalchemy import Row, bindparam, delete, insert, select, update

from dtu.context import TwinContext
from dtu.db import table
from dtu.sql import Prepared
from twins.jira import constants, models
from twins.jira.errors import FieldErrors, Forbidden, JiraError, NotFound
from twins.jira.service import common, linktypes

LINK = table(models.IssueLink)
LINKTYPE = table(models.IssueLinkType)
REMOTE = table(models.RemoteLink)
ATTACH = table(models.Attachment)
_LINKS_OF = Prepared(
    select(LINK)
    .where(
        LINK.c.tenant_id == bindparam("tenant"),
        (LINK.c.inward_issue_id == bindparam("issue")) | (LINK.c.outward_issue_id == bindparam("issue")),
    )
    .order_by(LINK.c.id)
)
ISSUE = common.ISSUE
_ISSUE = Prepared(
    select(ISSUE).where(ISSUE.c.tenant_id == bindparam("tenant"), ISSUE.c.id == bindparam("id"))
)
ROLES = {"10002": "Administrators", "10001": "Developers", "10000": "Users"}
MAX_PROPERTY_BYTES = 32768


def _emit(ctx: TwinContext, kind: str, *args: Any) -> None:
    from twins.jira import events

    getattr(events, kind)(ctx, *args)


# -- issue links ------------------------------------------------------------------------------


def _short(ctx: TwinContext, row: Row[Any]) -> dict[str, Any]:
    from twins.jira.service import issues

    return issues.issue_short(ctx, row)


def links_of(ctx: TwinContext, issue_id: str) -> list[dict[str, Any]]:
    """The `issuelinks` field: each link as seen from this issue (the other end only)."""
    rows = _LINKS_OF.all(ctx.conn, {"tenant": ctx.tenant, "issue": issue_id})
    out = []
    types = {r.id: r for r in linktypes.rows(ctx)} if rows else {}
    for link in rows:
        lt = types.get(link.type_id)
        if lt is None:
            continue
        other_id, side = (
            (link.inward_issue_id, "inwardIssue")
            if link.outward_issue_id == issue_id
            else (link.outward_issue_id, "outwardIssue")
        )
        other = _ISSUE.first(ctx.conn, {"tenant": ctx.tenant, "id": other_id})
        if other is None:
            continue
        out.append(
            {
                "id": link.id,
                "self": f"{common.api_base(ctx)}/issueLink/{link.id}",
                "type": linktypes.linktype_json(ctx, lt),
                side: _short(ctx, other),
            }
        )
    return out


def _link_type_for(ctx: TwinContext, value: Any) -> Row[Any]:
    if not isinstance(value, dict) or not (value.get("name") or value.get("id")):
        raise FieldErrors({"issueLinkType": "Link type must be specified (id or name)."})
    rows = linktypes.rows(ctx)
    if value.get("id"):
        hit = next((r for r in rows if r.id == str(value["id"])), None)
        if hit is None:
            raise NotFound(f"No issue link type with id '{value['id']}' found.")
        return hit
    hit = next((r for r in rows if r.name.lower() == str(value["name"]).lower()), None)
    if hit is None:
        raise NotFound(f"No issue link type with name '{value['name']}' found.")
    return hit


def _end(ctx: TwinContext, value: Any, field: str) -> Row[Any]:
    ident = value.get("key") or value.get("id") if isinstance(value, dict) else None
    if not ident:
        raise FieldErrors({field: f"The {field} must be given by id or key."})
    return common.issue_row(ctx, str(ident))


def create_link(ctx: TwinContext, *, data: dict[str, Any]) -> None:
    """`POST /issueLink` (201, empty): the same link twice is not duplicated."""
    lt = _link_type_for(ctx, data.get("type"))
    inward = _end(ctx, data.get("inwardIssue"), "inwardIssue")
    outward = _end(ctx, data.get("outwardIssue"), "outwardIssue")
    if inward.id == outward.id:
        raise JiraError("You cannot link an issue to itself.")
    exists = ctx.conn.execute(
        select(LINK).where(
            LINK.c.tenant_id == ctx.tenant,
            LINK.c.type_id == lt.id,
            LINK.c.inward_issue_id == inward.id,
            LINK.c.outward_issue_id == outward.id,
        )
    ).first()
    if exists is None:
        lid = common.next_id(ctx, "issuelink")
        ctx.conn.execute(
            insert(LINK).values(
                tenant_id=ctx.tenant,
                id=lid,
                type_id=lt.id,
                inward_issue_id=inward.id,
                outward_issue_id=outward.id,
            )
        )
        _emit(
            ctx,
            "link_event",
            "issuelink_created",
            {
                "id": int(lid),
                "sourceIssueId": int(inward.id),
                "destinationIssueId": int(outward.id),
                "issueLinkType": {
                    "id": int(lt.id),
                    "name": lt.name,
                    "outwardName": lt.outward,
                    "inwardName": lt.inward,
                },
            },
        )
    comment = data.get("comment")
    if isinstance(comment, dict) and comment.get("body") is not None:
        from twins.jira.service import issues

        issues.add_comment(ctx, issue=inward.id, body=comment["body"], visibility=comment.get("visibility"))


def _link_row(ctx: TwinContext, link_id: str) -> Row[Any]:
    row = ctx.conn.execute(select(LINK).where(LINK.c.tenant_id == ctx.tenant, LINK.c.id == link_id)).first()
    if row is None:
        raise NotFound(f"No issue link with id '{link_id}' exists.")
    common.issue_row(ctx, row.inward_issue_id)
    common.issue_row(ctx, row.outward_issue_id)
    return row


def get_link(ctx: TwinContext, *, link_id: str) -> dict[str, Any]:
    row = _link_row(ctx, link_id)
    lt = ctx.conn.execute(
        select(LINKTYPE).where(LINKTYPE.c.tenant_id == ctx.tenant, LINKTYPE.c.id == row.type_id)
    ).one()
    return {
        "id": row.id,
        "self": f"{common.api_base(ctx)}/issueLink/{row.id}",
        "type": linktypes.linktype_json(ctx, lt),
        "inwardIssue": _short(ctx, common.issue_row(ctx, row.inward_issue_id)),
        "outwardIssue": _short(ctx, common.issue_row(ctx, row.outward_issue_id)),
    }


def delete_link(ctx: TwinContext, *, link_id: str) -> None:
    row = _link_row(ctx, link_id)
    ctx.conn.execute(delete(LINK).where(LINK.c.tenant_id == ctx.tenant, LINK.c.id == row.id))
    _emit(
        ctx,
        "link_event",
        "issuelink_deleted",
        {
            "id": int(row.id),
            "sourceIssueId": int(row.inward_issue_id),
            "destinationIssueId": int(row.outward_issue_id),
        },
    )


def application_links(ctx: TwinContext) -> list[dict[str, Any]]:
    """`/rest/applinks/latest/listApplicationlinks`: none are configured on the twin's site."""
    return []


# -- remote links -----------------------------------------------------------------------------


def remote_json(ctx: TwinContext, row: Row[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": int(row.id),
        "self": f"{common.api_base(ctx)}/issue/{row.issue_id}/remotelink/{row.id}",
    }
    if row.global_id:
        out["globalId"] = row.global_id
    if row.application:
        out["application"] = row.application
    if row.relationship:
        out["relationship"] = row.relationship
    out["object"] = row.object
    return out


def list_remote(ctx: TwinContext, *, issue: str, global_id: str | None) -> Any:
    row = common.issue_row(ctx, issue)
    rows = ctx.conn.execute(
        select(REMOTE)
        .where(REMOTE.c.tenant_id == ctx.tenant, REMOTE.c.issue_id == row.id)
        .order_by(REMOTE.c.id)
    ).all()
    if global_id is not None:
        hit = next((r for r in rows if r.global_id == global_id), None)
        if hit is None:
            raise NotFound(f"No remote link with global id '{global_id}' exists on this issue.")
        return remote_json(ctx, hit)
    return [remote_json(ctx, r) for r in rows]


def _remote_values(data: dict[str, Any]) -> dict[str, Any]:
    obj = data.get("object")
    errors = {}
    if not isinstance(obj, dict):
        errors["object"] = "'object' is required."
    else:
        if not obj.get("url"):
            errors["url"] = "'url' is required."
        if not obj.get("title"):
            errors["title"] = "'title' is required."
    if errors:
        raise FieldErrors(errors)
    return {
        "global_id": common.text(data.get("globalId"), "globalId", "global id", required=False),
        "relationship": common.text(data.get("relationship"), "relationship", "relationship", required=False),
        "application": data.get("application"),
        "object": obj,
    }


def upsert_remote(ctx: TwinContext, *, issue: str, data: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """`POST /issue/{key}/remotelink`: 201 `{id, self}`, or 200 when `globalId` names an existing one."""
    row = common.issue_row(ctx, issue)
    values = _remote_values(data)
    existing = None
    if values["global_id"]:
        existing = ctx.conn.execute(
            select(REMOTE).where(
                REMOTE.c.tenant_id == ctx.tenant,
                REMOTE.c.issue_id == row.id,
                REMOTE.c.global_id == values["global_id"],
            )
        ).first()
    if existing is not None:
        ctx.conn.execute(
            update(REMOTE)
            .where(REMOTE.c.tenant_id == ctx.tenant, REMOTE.c.id == existing.id)
            .values(**values)
        )
        rid, created = existing.id, False
    else:
        rid = common.next_id(ctx, "remotelink")
        ctx.conn.execute(insert(REMOTE).values(tenant_id=ctx.tenant, id=rid, issue_id=row.id, **values))
        created = True
    return {"id": int(rid), "self": f"{common.api_base(ctx)}/issue/{row.id}/remotelink/{rid}"}, created


def _remote(ctx: TwinContext, issue: str, link_id: str) -> Row[Any]:
    row = common.issue_row(ctx, issue)
    hit = ctx.conn.execute(
        select(REMOTE).where(
            REMOTE.c.tenant_id == ctx.tenant, REMOTE.c.issue_id == row.id, REMOTE.c.id == link_id
        )
    ).first()
    if hit is None:
        raise NotFound(f"No remote link with id '{link_id}' exists on this issue.")
    return hit


def get_remote(ctx: TwinContext, *, issue: str, link_id: str) -> dict[str, Any]:
    return remote_json(ctx, _remote(ctx, issue, link_id))


def update_remote(ctx: TwinContext, *, issue: str, link_id: str, data: dict[str, Any]) -> None:
    hit = _remote(ctx, issue, link_id)
    ctx.conn.execute(
        update(REMOTE)
        .where(REMOTE.c.tenant_id == ctx.tenant, REMOTE.c.id == hit.id)
        .values(**_remote_values(data))
    )


def delete_remote(ctx: TwinContext, *, issue: str, link_id: str) -> None:
    hit = _remote(ctx, issue, link_id)
    ctx.conn.execute(delete(REMOTE).where(REMOTE.c.tenant_id == ctx.tenant, REMOTE.c.id == hit.id))


# -- watchers and votes -----------------------------------------------------------------------


def _set_list(ctx: TwinContext, row: Row[Any], column: str, value: list[str]) -> None:
    ctx.conn.execute(
        update(ISSUE).where(ISSUE.c.tenant_id == ctx.tenant, ISSUE.c.id == row.id).values(**{column: value})
    )


def watchers(ctx: TwinContext, *, issue: str) -> dict[str, Any]:
    row = common.issue_row(ctx, issue)
    people = list(row.watchers or [])
    return {
        "self": f"{common.api_base(ctx)}/issue/{row.key}/watchers",
        "isWatching": common.me(ctx).account_id in people,
        "watchCount": len(people),
        "watchers": [u for u in (common.user_json(ctx, a) for a in people) if u is not None],
    }


def add_watcher(ctx: TwinContext, *, issue: str, account_id: Any) -> None:
    """`POST /issue/{key}/watchers` (204): the body is the accountId as a JSON string (none = me)."""
    row = common.issue_row(ctx, issue)
    who = common.me(ctx).account_id if account_id is None else account_id
    if not isinstance(who, str) or common.user_row(ctx, who) is None:
        raise NotFound(f"The user with account ID '{who}' does not exist.")
    me = common.me(ctx)
    if who != me.account_id and not me.is_admin:
        raise Forbidden("You do not have the permission to manage the watcher list.")
    project = common.project_row(ctx, row.project_id, check=False)
    if not common.can_browse(ctx, project, who):
        raise JiraError(f"The user '{who}' does not have permission to view this issue.")
    if who not in (row.watchers or []):
        _set_list(ctx, row, "watchers", [*(row.watchers or []), who])


def remove_watcher(ctx: TwinContext, *, issue: str, account_id: str | None) -> None:
    row = common.issue_row(ctx, issue)
    if not account_id:
        raise JiraError("The accountId query parameter is required.")
    me = common.me(ctx)
    if account_id != me.account_id and not me.is_admin:
        raise Forbidden("You do not have the permission to manage the watcher list.")
    if common.user_row(ctx, account_id) is None:
        raise NotFound(f"The user with account ID '{account_id}' does not exist.")
    _set_list(ctx, row, "watchers", [w for w in row.watchers or [] if w != account_id])


def votes(ctx: TwinContext, *, issue: str) -> dict[str, Any]:
    row = common.issue_row(ctx, issue)
    people = list(row.voters or [])
    return {
        "self": f"{common.api_base(ctx)}/issue/{row.key}/votes",
        "votes": len(people),
        "hasVoted": common.me(ctx).account_id in people,
        "voters": [u for u in (common.user_json(ctx, a) for a in people) if u is not None],
    }


def vote(ctx: TwinContext, *, issue: str, add: bool) -> None:
    """`POST`/`DELETE /issue/{key}/votes` (204): reporters may not vote; resolved issues neither."""
    row = common.issue_row(ctx, issue)
    me = common.me(ctx).account_id
    if add:
        if row.reporter == me:
            raise NotFound("You cannot vote for an issue you have reported.")
        if row.resolution_id is not None:
            raise NotFound("You cannot vote for a resolved issue.")
        if me not in (row.voters or []):
            _set_list(ctx, row, "voters", [*(row.voters or []), me])
    else:
        _set_list(ctx, row, "voters", [v for v in row.voters or [] if v != me])


# -- attachments ------------------------------------------------------------------------------


def attachment_json(ctx: TwinContext, row: Row[Any]) -> dict[str, Any]:
    base = common.api_base(ctx)
    return {
        "self": f"{base}/attachment/{row.id}",
        "id": row.id,
        "filename": row.filename,
        "author": common.user_json(ctx, row.author),
        "created": common.ts(row.created),
        "size": row.size,
        "mimeType": row.mime_type,
        "content": f"{base}/attachment/content/{row.id}",
    }


def attachments_of(ctx: TwinContext, issue_id: str) -> list[dict[str, Any]]:
    rows = _ATTACHMENTS_OF.all(ctx.conn, {"tenant": ctx.tenant, "issue": issue_id})
    return [attachment_json(ctx, r) for r in rows]


_ATTACHMENTS_OF = Prepared(
    select(ATTACH)
    .where(ATTACH.c.tenant_id == bindparam("tenant"), ATTACH.c.issue_id == bindparam("issue"))
    .order_by(ATTACH.c.id)
)


def add_attachments(
    ctx: TwinContext, *, issue: str, files: list[tuple[str, str, bytes]]
) -> list[dict[str, Any]]:
    """`POST /issue/{key}/attachments`: every multipart `file` part; 413 over the size limit."""
    row = common.issue_row(ctx, issue)
    if not files:
        raise JiraError(
            "No attachments were found in the request: send multipart/form-data parts named 'file'."
        )
    out = []
    now = ctx.now()
    for filename, sent_mime, content in files:
        # Jira detects the type itself: a generic upload type gives way to the file name's.
        mime = sent_mime
        if not mime or mime == "application/octet-stream":
            mime = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        if len(content) > constants.ATTACHMENT_MAX_BYTES:
            raise JiraError(
                f"The field file exceeds its maximum permitted size of {constants.ATTACHMENT_MAX_BYTES} bytes.",
                status=413,
            )
        aid = common.next_id(ctx, "attachment")
        ctx.conn.execute(
            insert(ATTACH).values(
                tenant_id=ctx.tenant,
                id=aid,
                issue_id=row.id,
                filename=filename,
                author=common.me(ctx).account_id,
                mime_type=mime,
                size=len(content),
                content=content,
                created=now,
            )
        )
        arow = ctx.conn.execute(
            select(ATTACH).where(ATTACH.c.tenant_id == ctx.tenant, ATTACH.c.id == aid)
        ).one()
        meta = attachment_json(ctx, arow)
        out.append(meta)
        _emit(ctx, "attachment_event", "attachment_created", {**meta, "issueId": row.id})
    ctx.conn.execute(
        update(ISSUE)
        .where(ISSUE.c.tenant_id == ctx.tenant, ISSUE.c.id == row.id)
        .values(updated=now, written_at=now)
    )
    return out


def _attachment(ctx: TwinContext, attachment_id: str) -> Row[Any]:
    row = ctx.conn.execute(
        select(ATTACH).where(ATTACH.c.tenant_id == ctx.tenant, ATTACH.c.id == attachment_id)
    ).first()
    if row is None:
        raise NotFound(f"The attachment with id '{attachment_id}' does not exist.")
    try:
        common.issue_row(ctx, row.issue_id)
    except NotFound:
        raise NotFound(f"The attachment with id '{attachment_id}' does not exist.") from None
    return row


def get_attachment(ctx: TwinContext, *, attachment_id: str) -> dict[str, Any]:
    return attachment_json(ctx, _attachment(ctx, attachment_id))


def attachment_content(ctx: TwinContext, *, attachment_id: str) -> tuple[bytes, str, str]:
    row = _attachment(ctx, attachment_id)
    return bytes(row.content), row.mime_type, row.filename


def delete_attachment(ctx: TwinContext, *, attachment_id: str) -> None:
    row = _attachment(ctx, attachment_id)
    me = common.me(ctx)
    if row.author != me.account_id and not me.is_admin:
        raise Forbidden("You do not have permission to delete this attachment.")
    meta = attachment_json(ctx, row)
    ctx.conn.execute(delete(ATTACH).where(ATTACH.c.tenant_id == ctx.tenant, ATTACH.c.id == row.id))
    _emit(ctx, "attachment_event", "attachment_deleted", {**meta, "issueId": row.issue_id})


def attachment_meta(ctx: TwinContext) -> dict[str, Any]:
    return {"enabled": True, "uploadLimit": constants.ATTACHMENT_MAX_BYTES}


# -- issue properties -------------------------------------------------------------------------


def property_keys(ctx: TwinContext, *, issue: str) -> dict[str, Any]:
    row = common.issue_row(ctx, issue)
    base = f"{common.api_base(ctx)}/issue/{row.id}/properties"
    return {"keys": [{"self": f"{base}/{k}", "key": k} for k in sorted(row.properties or {})]}


def get_property(ctx: TwinContext, *, issue: str, key: str) -> dict[str, Any]:
    row = common.issue_row(ctx, issue)
    props = row.properties or {}
    if key not in props:
        raise NotFound(f"The property with key '{key}' does not exist.")
    return {"key": key, "value": props[key]}


def set_property(ctx: TwinContext, *, issue: str, key: str, value: Any, size: int) -> bool:
    """`PUT /issue/{key}/properties/{prop}`: 201 when new, 200 when replaced; 32 KB max, key 255."""
    row = common.issue_row(ctx, issue)
    if not key or len(key) > 255:
        raise JiraError("The property key must be between 1 and 255 characters long.")
    if size > MAX_PROPERTY_BYTES:
        raise JiraError(f"The property value must not be longer than {MAX_PROPERTY_BYTES} bytes.")
    props = dict(row.properties or {})
    created = key not in props
    props[key] = value
    ctx.conn.execute(
        update(ISSUE).where(ISSUE.c.tenant_id == ctx.tenant, ISSUE.c.id == row.id).values(properties=props)
    )
    _emit(ctx, "property_event", "issue_property_set", row.id, {"key": key, "value": value})
    return created


def delete_property(ctx: TwinContext, *, issue: str, key: str) -> None:
    row = common.issue_row(ctx, issue)
    props = dict(row.properties or {})
    if key not in props:
        raise NotFound(f"The property with key '{key}' does not exist.")
    props.pop(key)
    _emit(ctx, "property_event", "issue_property_deleted", row.id, {"key": key})
    ctx.conn.execute(
        update(ISSUE).where(ISSUE.c.tenant_id == ctx.tenant, ISSUE.c.id == row.id).values(properties=props)
    )


# -- project roles ----------------------------------------------------------------------------


def _roles(project: Row[Any]) -> dict[str, dict[str, list[str]]]:
    stored = project.roles or {}
    out = {}
    for rid in ROLES:
        entry = stored.get(rid) or {}
        default_users = [project.lead] if rid == "10002" and project.lead and rid not in stored else []
        default_groups = ["jira-software-users"] if rid == "10001" and rid not in stored else []
        out[rid] = {
            "users": list(entry.get("users", default_users)),
            "groups": list(entry.get("groups", default_groups)),
        }
    return out


def in_role(ctx: TwinContext, project: Row[Any], role: str, account_id: str) -> bool:
    """Whether the account is an actor of the project role (named or by id), itself or
    through one of its groups."""
    rid = role if role in ROLES else next((k for k, v in ROLES.items() if v.lower() == role.lower()), None)
    if rid is None:
        return False
    members = _roles(project)[rid]
    return account_id in members["users"] or bool(
        set(members["groups"]) & set(common.groups_of(ctx, account_id))
    )


def project_roles(ctx: TwinContext, *, project: str) -> dict[str, str]:
    row = common.project_row(ctx, project)
    return {name: f"{common.api_base(ctx)}/project/{row.id}/role/{rid}" for rid, name in ROLES.items()}


def _actor_json(ctx: TwinContext, kind: str, ident: str, n: int) -> dict[str, Any]:
    if kind == "users":
        user = common.user_row(ctx, ident)
        return {
            "id": n,
            "displayName": user.display_name if user else ident,
            "type": "atlassian-user-role-actor",
            "actorUser": {"accountId": ident},
        }
    return {
        "id": n,
        "displayName": ident,
        "type": "atlassian-group-role-actor",
        "name": ident,
        "actorGroup": {"name": ident, "displayName": ident},
    }


def project_role(ctx: TwinContext, *, project: str, role_id: str) -> dict[str, Any]:
    row = common.project_row(ctx, project)
    if role_id not in ROLES:
        raise NotFound(f"Can not retrieve a role actor for a null project role. (role id {role_id})")
    members = _roles(row)[role_id]
    actors = [_actor_json(ctx, "users", u, i) for i, u in enumerate(members["users"], 10000)]
    actors += [_actor_json(ctx, "groups", g, i) for i, g in enumerate(members["groups"], 20000)]
    return {
        "self": f"{common.api_base(ctx)}/project/{row.id}/role/{role_id}",
        "name": ROLES[role_id],
        "id": int(role_id),
        "description": f"{ROLES[role_id]} of the project",
        "actors": actors,
        "scope": {"type": "PROJECT", "project": {"id": row.id}},
    }


def _require_project_admin(ctx: TwinContext, project: Row[Any]) -> None:
    me = common.me(ctx)
    if not me.is_admin and me.account_id not in _roles(project)["10002"]["users"]:
        raise Forbidden("You cannot edit the configuration of this project.")


def add_role_actors(
    ctx: TwinContext, *, project: str, role_id: str, users: Any, groups: Any
) -> dict[str, Any]:
    """`POST /project/{key}/role/{id}`: add users (accountIds) and/or groups (names)."""
    row = common.project_row(ctx, project)
    if role_id not in ROLES:
        raise NotFound(f"Can not retrieve a role actor for a null project role. (role id {role_id})")
    _require_project_admin(ctx, row)
    roles = _roles(row)
    for acct in users or []:
        if common.user_row(ctx, str(acct)) is None:
            raise JiraError(f"User with account ID '{acct}' does not exist.")
        if acct not in roles[role_id]["users"]:
            roles[role_id]["users"].append(str(acct))
    known = set(
        ctx.conn.execute(select(common.GROUP.c.name).where(common.GROUP.c.tenant_id == ctx.tenant)).scalars()
    )
    for name in groups or []:
        if name not in known:
            raise JiraError(f"Group '{name}' does not exist.")
        if name not in roles[role_id]["groups"]:
            roles[role_id]["groups"].append(str(name))
    ctx.conn.execute(
        update(common.PROJECT)
        .where(common.PROJECT.c.tenant_id == ctx.tenant, common.PROJECT.c.id == row.id)
        .values(roles=roles)
    )
    return project_role(ctx, project=row.id, role_id=role_id)


def remove_role_actor(
    ctx: TwinContext, *, project: str, role_id: str, user: str | None, group: str | None
) -> None:
    row = common.project_row(ctx, project)
    if role_id not in ROLES:
        raise NotFound(f"Can not retrieve a role actor for a null project role. (role id {role_id})")
    _require_project_admin(ctx, row)
    roles = _roles(row)
    if user is None and group is None:
        raise JiraError("Either 'user' or 'group' must be given.")
    if user is not None:
        if user not in roles[role_id]["users"]:
            raise NotFound(f"The user '{user}' is not an actor of this role.")
        roles[role_id]["users"].remove(user)
    if group is not None:
        if group not in roles[role_id]["groups"]:
            raise NotFound(f"The group '{group}' is not an actor of this role.")
        roles[role_id]["groups"].remove(group)
    ctx.conn.execute(
        update(common.PROJECT)
        .where(common.PROJECT.c.tenant_id == ctx.tenant, common.PROJECT.c.id == row.id)
        .values(roles=roles)
    )


def all_roles(ctx: TwinContext) -> list[dict[str, Any]]:
    """`GET /role` (site admins): the project roles of the site."""
    if not common.me(ctx).is_admin:
        raise Forbidden("You do not have administrative permissions.")
    return [
        {
            "self": f"{common.api_base(ctx)}/role/{rid}",
            "name": name,
            "id": int(rid),
            "description": f"{name} of the project",
        }
        for rid, name in sorted(ROLES.items())
    ]
