"""Groups, memberships and group rules.

https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/ and
https://developer.okta.com/docs/api/openapi/okta-management/management/tag/GroupRule/ .
The built-in `Everyone` group holds every user and cannot be edited. Group rules assign users
whose profile matches an Okta Expression Language condition; active rules are evaluated when
they are activated and whenever a user is created or updated.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update

from dtu.context import TwinContext
from dtu.db import table
from dtu.sql import Prepared
from twins.okta import models
from twins.okta.errors import Forbidden, OktaError, not_found, validation
from twins.okta.service import query, syslog
from twins.okta.service.common import decode_after, encode_after, href, iso, okta_id

_GROUP = table(models.Group)
_MEMBER = table(models.GroupMember)
_RULE = table(models.GroupRule)
_USER = table(models.User)
_APP_GROUP = table(models.AppGroup)
_OWNER = table(models.GroupOwner)
_APP = table(models.App)

# What every user creation runs (joining Everyone, group rules), built once (dtu/sql.py).
_BY_ID = Prepared(
    select(_GROUP).where(_GROUP.c.tenant_id == bindparam("tenant"), _GROUP.c.id == bindparam("id"))
)
_USER_BY_ID = Prepared(
    select(_USER).where(_USER.c.tenant_id == bindparam("tenant"), _USER.c.id == bindparam("id"))
)
_IS_MEMBER = Prepared(
    select(_MEMBER.c.user_id).where(
        _MEMBER.c.tenant_id == bindparam("tenant"),
        _MEMBER.c.group_id == bindparam("group"),
        _MEMBER.c.user_id == bindparam("user"),
    )
)
_ADD_MEMBER = Prepared(_MEMBER.insert(), columns=["tenant_id", "group_id", "user_id", "seq", "rule_id"])
_TOUCH = Prepared(
    update(_GROUP)
    .where(_GROUP.c.tenant_id == bindparam("k_tenant"), _GROUP.c.id == bindparam("k_id"))
    .values(last_membership_updated=bindparam("v_now"), written_at=bindparam("v_now2"))
)
_BUILT_IN = Prepared(
    select(_GROUP.c.id).where(_GROUP.c.tenant_id == bindparam("tenant"), _GROUP.c.type == "BUILT_IN")
)
_ACTIVE_RULES = Prepared(
    select(_RULE)
    .where(_RULE.c.tenant_id == bindparam("tenant"), _RULE.c.status == "ACTIVE")
    .order_by(_RULE.c.seq)
)


def render(ctx: TwinContext, row: Any) -> dict[str, Any]:
    base = f"/api/v1/groups/{row.id}"
    out: dict[str, Any] = {
        "id": row.id,
        "created": iso(row.created),
        "lastUpdated": iso(row.last_updated),
        "lastMembershipUpdated": iso(row.last_membership_updated),
        "objectClass": ["okta:user_group"],
        "type": row.type,
        "profile": dict(row.profile or {}),
        "_links": {
            "logo": [
                {
                    "name": "medium",
                    "href": f"{ctx.base_url}/img/logos/groups/okta-medium.png",
                    "type": "image/png",
                },
                {
                    "name": "large",
                    "href": f"{ctx.base_url}/img/logos/groups/okta-large.png",
                    "type": "image/png",
                },
            ],
            "users": href(ctx, base + "/users"),
            "apps": href(ctx, base + "/apps"),
        },
    }
    if row.source_app_id:
        # Groups imported from an app name it as their `source` (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/).
        out["source"] = {"id": row.source_app_id}
        out["_links"]["source"] = href(ctx, f"/api/v1/apps/{row.source_app_id}")
    return out


def find(ctx: TwinContext, group_id: str) -> Any:
    row = _BY_ID.first(ctx.conn, {"tenant": ctx.tenant, "id": group_id})
    if row is None:
        raise not_found(group_id, "UserGroup")
    return row


def _group_ref(row: Any) -> dict[str, Any]:
    return syslog.ref(row.id, "UserGroup", (row.profile or {}).get("name"), (row.profile or {}).get("name"))


def _check_profile(ctx: TwinContext, profile: Any, exclude: str | None = None) -> dict[str, Any]:
    if not isinstance(profile, dict):
        raise validation("profile", "profile: The field cannot be left blank")
    name = profile.get("name")
    if not isinstance(name, str) or not name.strip():
        raise validation("name", "name: The field cannot be left blank")
    if len(name) > 255:
        raise validation("name", "name: The field is too long")
    desc = profile.get("description")
    if desc is not None and not isinstance(desc, str):
        raise validation("description", "description: The field must be a string")
    for row in ctx.conn.execute(
        select(_GROUP.c.id, _GROUP.c.profile).where(_GROUP.c.tenant_id == ctx.tenant)
    ):
        if row.id != exclude and (row.profile or {}).get("name", "").lower() == name.lower():
            raise validation(
                "name", "name: An object with this field already exists in the current organization"
            )
    return {k: v for k, v in profile.items() if v is not None}


def create_group(ctx: TwinContext, *, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v1/groups: an OKTA_GROUP; the name is unique in the org (E0000001)."""
    profile = _check_profile(ctx, body.get("profile"))
    now = ctx.now()
    gid = okta_id(ctx, "00g")
    ctx.conn.execute(
        _GROUP.insert().values(
            tenant_id=ctx.tenant,
            id=gid,
            type="OKTA_GROUP",
            profile=profile,
            created=now,
            last_updated=now,
            last_membership_updated=now,
            seq=ctx.ids.next("group-seq"),
            written_at=now,
        )
    )
    row = find(ctx, gid)
    syslog.emit(ctx, "group.lifecycle.create", targets=[_group_ref(row)], display="Create okta group")
    return render(ctx, row)


def get_group(ctx: TwinContext, *, group_id: str, expand: str | None = None) -> dict[str, Any]:
    rec = render(ctx, find(ctx, group_id))
    embed(ctx, [rec], expand)
    return rec


EXPANDS = frozenset({"stats", "app"})


def embed(ctx: TwinContext, records: list[dict[str, Any]], expand: str | None) -> None:
    """`expand=stats` and/or `expand=app` (comma-separated): `_embedded.stats` for every group,
    `_embedded.app` for groups sourced from an app (APP_GROUP); other values are E0000001."""
    wanted = {x.strip() for x in (expand or "").split(",") if x.strip()}
    bad = sorted(wanted - EXPANDS)
    if bad:
        raise validation("expand", f"expand: '{bad[0]}' is not a valid value. Possible values: stats, app")
    for rec in records:
        if "stats" in wanted:
            rec.setdefault("_embedded", {})["stats"] = stats(ctx, rec["id"])
        source = (rec.get("source") or {}).get("id")
        if "app" in wanted and source:
            app = ctx.conn.execute(
                select(_APP).where(_APP.c.tenant_id == ctx.tenant, _APP.c.id == source)
            ).first()
            if app is not None:
                rec.setdefault("_embedded", {})["app"] = {
                    "id": app.id,
                    "name": app.name,
                    "label": app.label,
                    "signOnMode": app.sign_on_mode,
                    "_links": {"self": href(ctx, f"/api/v1/apps/{app.id}")},
                }


def replace_group(ctx: TwinContext, *, group_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """PUT /api/v1/groups/{id}: replaces the profile (OKTA_GROUP only; E0000006 for Everyone)."""
    row = find(ctx, group_id)
    if row.type != "OKTA_GROUP":
        raise Forbidden()
    profile = _check_profile(ctx, body.get("profile"), exclude=row.id)
    now = ctx.now()
    ctx.conn.execute(
        update(_GROUP)
        .where(_GROUP.c.tenant_id == ctx.tenant, _GROUP.c.id == row.id)
        .values(profile=profile, last_updated=now, written_at=now)
    )
    row = find(ctx, group_id)
    syslog.emit(ctx, "group.profile.update", targets=[_group_ref(row)], display="Update group profile")
    return render(ctx, row)


def delete_group(ctx: TwinContext, *, group_id: str) -> None:
    """DELETE /api/v1/groups/{id}: memberships and app assignments go with it; Everyone cannot go."""
    row = find(ctx, group_id)
    if row.type != "OKTA_GROUP":
        raise Forbidden()
    t = ctx.tenant
    ctx.conn.execute(delete(_MEMBER).where(_MEMBER.c.tenant_id == t, _MEMBER.c.group_id == row.id))
    ctx.conn.execute(delete(_APP_GROUP).where(_APP_GROUP.c.tenant_id == t, _APP_GROUP.c.group_id == row.id))
    ctx.conn.execute(delete(_OWNER).where(_OWNER.c.tenant_id == t, _OWNER.c.group_id == row.id))
    ctx.conn.execute(
        delete(_OWNER).where(_OWNER.c.tenant_id == t, _OWNER.c.owner_id == row.id, _OWNER.c.type == "GROUP")
    )
    ctx.conn.execute(delete(_GROUP).where(_GROUP.c.tenant_id == t, _GROUP.c.id == row.id))
    syslog.emit(ctx, "group.lifecycle.delete", targets=[_group_ref(row)], display="Delete okta group")


def list_groups(
    ctx: TwinContext,
    *,
    q: str | None,
    filter_: str | None,
    search: str | None,
    limit: int,
    after: str | None,
    sort_by: str | None = None,
    sort_order: str | None = None,
    expand: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """GET /api/v1/groups: `q` (name prefix), `filter`, `search`, `limit`/`after`;
    `expand=stats` embeds each group's counts (`_embedded.stats`)."""
    matcher: Callable[[dict[str, Any]], bool] | None = None
    if search:
        node = query.parse(search, query.GROUP_SEARCH)
        matcher = lambda rec: query.matches(node, query.getter(rec))  # noqa: E731
    elif filter_:
        node = query.parse(filter_, query.GROUP_FILTER)
        matcher = lambda rec: query.matches(node, query.getter(rec))  # noqa: E731
    elif q:
        needle = q.lower()
        matcher = lambda rec: str(rec["profile"].get("name", "")).lower().startswith(needle)  # noqa: E731
    filters = {"q": q, "filter": filter_, "search": search, "sortBy": sort_by, "sortOrder": sort_order}
    key = decode_after(after, filters)
    stmt = select(_GROUP).where(_GROUP.c.tenant_id == ctx.tenant)
    vb = ctx.visible_before()
    if vb is not None:
        stmt = stmt.where(_GROUP.c.written_at <= vb)
    if key is not None:
        stmt = stmt.where(_GROUP.c.seq > int(key[0]))
    items: list[tuple[int, dict[str, Any]]] = []
    for row in ctx.conn.execute(stmt.order_by(_GROUP.c.seq)):
        rec = render(ctx, row)
        if matcher is None or matcher(rec):
            items.append((row.seq, rec))
        if len(items) > limit:
            break
    page = items[:limit]
    embed(ctx, [rec for _, rec in page], expand)
    return [r for _, r in page], encode_after([page[-1][0]], filters) if len(items) > limit else None


def stats(ctx: TwinContext, group_id: str) -> dict[str, Any]:
    """`_embedded.stats` of `expand=stats`: how many users are members and apps are assigned.
    https://support.okta.com/help/s/article/Is-there-an-API-that-returns-the-number-of-users-in-a-group"""
    users = ctx.conn.execute(
        select(func.count())
        .select_from(_MEMBER)
        .where(_MEMBER.c.tenant_id == ctx.tenant, _MEMBER.c.group_id == group_id)
    ).scalar()
    apps = ctx.conn.execute(
        select(func.count())
        .select_from(_APP_GROUP)
        .where(_APP_GROUP.c.tenant_id == ctx.tenant, _APP_GROUP.c.group_id == group_id)
    ).scalar()
    return {
        "usersCount": int(users or 0),
        "appsCount": int(apps or 0),
        "groupPushMappingsCount": 0,
        "hasAdminPrivilege": False,
        "_links": {"self": href(ctx, f"/api/v1/groups/{group_id}/stats")},
    }


# -- membership -----------------------------------------------------------------------------------


def _user(ctx: TwinContext, user_id: str) -> Any:
    row = _USER_BY_ID.first(ctx.conn, {"tenant": ctx.tenant, "id": user_id})
    if row is None:
        raise not_found(user_id, "User")
    return row


def _touch(ctx: TwinContext, group_id: str) -> None:
    now = ctx.now()
    _TOUCH.execute(ctx.conn, {"k_tenant": ctx.tenant, "k_id": group_id, "v_now": now, "v_now2": now})


def add_member(
    ctx: TwinContext, *, group_id: str, user_id: str, rule_id: str | None = None, check_type: bool = True
) -> None:
    """PUT /api/v1/groups/{groupId}/users/{userId}: idempotent; Everyone is managed by Okta (E0000006)."""
    group = find(ctx, group_id)
    user = _user(ctx, user_id)
    if check_type and group.type != "OKTA_GROUP":
        raise Forbidden()
    exists = _IS_MEMBER.first(ctx.conn, {"tenant": ctx.tenant, "group": group_id, "user": user_id})
    if exists is not None:
        return
    _ADD_MEMBER.execute(
        ctx.conn,
        {
            "tenant_id": ctx.tenant,
            "group_id": group_id,
            "user_id": user_id,
            "seq": ctx.ids.next("member-seq"),
            "rule_id": rule_id,
        },
    )
    _touch(ctx, group_id)
    syslog.emit(
        ctx,
        "group.user_membership.add",
        targets=[syslog.user_ref(user), _group_ref(group)],
        display="Add user to group membership",
    )


def remove_member(ctx: TwinContext, *, group_id: str, user_id: str) -> None:
    """DELETE /api/v1/groups/{groupId}/users/{userId}."""
    group = find(ctx, group_id)
    user = _user(ctx, user_id)
    if group.type != "OKTA_GROUP":
        raise Forbidden()
    result = ctx.conn.execute(
        delete(_MEMBER).where(
            _MEMBER.c.tenant_id == ctx.tenant, _MEMBER.c.group_id == group_id, _MEMBER.c.user_id == user_id
        )
    )
    if result.rowcount:
        _touch(ctx, group_id)
        syslog.emit(
            ctx,
            "group.user_membership.remove",
            targets=[syslog.user_ref(user), _group_ref(group)],
            display="Remove user from group membership",
        )


def list_members(
    ctx: TwinContext, *, group_id: str, limit: int, after: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """GET /api/v1/groups/{groupId}/users: in the order they were added."""
    from twins.okta.service import users

    find(ctx, group_id)
    filters = {"group": group_id}
    key = decode_after(after, filters)
    stmt = (
        select(_USER, _MEMBER.c.seq.label("mseq"))
        .select_from(_MEMBER)
        .join(_USER, (_USER.c.tenant_id == _MEMBER.c.tenant_id) & (_USER.c.id == _MEMBER.c.user_id))
        .where(_MEMBER.c.tenant_id == ctx.tenant, _MEMBER.c.group_id == group_id)
    )
    if key is not None:
        stmt = stmt.where(_MEMBER.c.seq > int(key[0]))
    rows = ctx.conn.execute(stmt.order_by(_MEMBER.c.seq).limit(limit + 1)).all()
    page = rows[:limit]
    nxt = encode_after([page[-1].mseq], filters) if len(rows) > limit else None
    return [users.render(ctx, r) for r in page], nxt


def list_user_groups(ctx: TwinContext, *, user_id: str) -> list[dict[str, Any]]:
    """GET /api/v1/users/{id}/groups."""
    from twins.okta.service import users

    user = users.find(ctx, user_id)
    rows = ctx.conn.execute(
        select(_GROUP)
        .select_from(_MEMBER)
        .join(_GROUP, (_GROUP.c.tenant_id == _MEMBER.c.tenant_id) & (_GROUP.c.id == _MEMBER.c.group_id))
        .where(_MEMBER.c.tenant_id == ctx.tenant, _MEMBER.c.user_id == user.id)
        .order_by(_GROUP.c.seq)
    ).all()
    return [render(ctx, r) for r in rows]


def user_group_ids(ctx: TwinContext, user_id: str) -> list[str]:
    return [
        r[0]
        for r in ctx.conn.execute(
            select(_MEMBER.c.group_id).where(_MEMBER.c.tenant_id == ctx.tenant, _MEMBER.c.user_id == user_id)
        )
    ]


def join_everyone(ctx: TwinContext, user_id: str) -> None:
    for (gid,) in _BUILT_IN.all(ctx.conn, {"tenant": ctx.tenant}):
        add_member(ctx, group_id=gid, user_id=user_id, check_type=False)


# -- owners ------------------------------------------------------------------------------------
# https://developer.okta.com/docs/api/openapi/okta-management/management/tag/GroupOwner/


def _render_owner(ctx: TwinContext, row: Any) -> dict[str, Any]:
    if row.type == "USER":
        user = ctx.conn.execute(
            select(_USER.c.profile).where(_USER.c.tenant_id == ctx.tenant, _USER.c.id == row.owner_id)
        ).first()
        p = (user.profile if user is not None else None) or {}
        name = p.get("displayName") or " ".join(x for x in (p.get("firstName"), p.get("lastName")) if x)
    else:
        group = ctx.conn.execute(
            select(_GROUP.c.profile).where(_GROUP.c.tenant_id == ctx.tenant, _GROUP.c.id == row.owner_id)
        ).first()
        name = ((group.profile if group is not None else None) or {}).get("name")
    return {
        "id": row.owner_id,
        "type": row.type,
        "resolved": True,
        "originId": None,
        "originType": "OKTA_DIRECTORY",
        "displayName": name,
        "lastUpdated": iso(row.last_updated),
    }


OWNER_SEARCH = query.Language(
    "search", fields={"type": "string", "id": "string"}, ops={"string": frozenset({"eq"})}
)


def assign_owner(ctx: TwinContext, *, group_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v1/groups/{groupId}/owners {id, type}: a user (not deactivated) or an OKTA_GROUP
    owns an OKTA_GROUP; assigning an owner again answers the same owner."""
    group = find(ctx, group_id)
    if group.type != "OKTA_GROUP":
        raise Forbidden(causes=["Group owners can only be assigned to Okta groups."])
    owner_type, owner_id = body.get("type"), body.get("id")
    if owner_type not in ("USER", "GROUP"):
        raise validation("type", "type: The value must be USER or GROUP.")
    if not isinstance(owner_id, str) or not owner_id:
        raise validation("id", "id: The field cannot be left blank")
    if owner_type == "USER":
        user = _user(ctx, owner_id)
        if user.status == "DEPROVISIONED":
            raise validation("id", "id: A deactivated user cannot own a group.")
    else:
        owner = find(ctx, owner_id)
        if owner.type != "OKTA_GROUP":
            raise validation("id", "id: Only Okta groups can own a group.")
    existing = ctx.conn.execute(
        select(_OWNER).where(
            _OWNER.c.tenant_id == ctx.tenant, _OWNER.c.group_id == group.id, _OWNER.c.owner_id == owner_id
        )
    ).first()
    if existing is None:
        ctx.conn.execute(
            _OWNER.insert().values(
                tenant_id=ctx.tenant,
                group_id=group.id,
                owner_id=owner_id,
                type=owner_type,
                last_updated=ctx.now(),
                seq=ctx.ids.next("group-owner-seq"),
            )
        )
    row = ctx.conn.execute(
        select(_OWNER).where(
            _OWNER.c.tenant_id == ctx.tenant, _OWNER.c.group_id == group.id, _OWNER.c.owner_id == owner_id
        )
    ).one()
    return _render_owner(ctx, row)


def list_owners(
    ctx: TwinContext, *, group_id: str, search: str | None, limit: int, after: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """GET /api/v1/groups/{groupId}/owners: in the order they were assigned; `search` on `type`."""
    group = find(ctx, group_id)
    node = query.parse(search, OWNER_SEARCH) if search else None
    filters = {"group": group.id, "search": search}
    key = decode_after(after, filters)
    stmt = select(_OWNER).where(_OWNER.c.tenant_id == ctx.tenant, _OWNER.c.group_id == group.id)
    if key is not None:
        stmt = stmt.where(_OWNER.c.seq > int(key[0]))
    out: list[tuple[int, dict[str, Any]]] = []
    for row in ctx.conn.execute(stmt.order_by(_OWNER.c.seq)):
        rec = _render_owner(ctx, row)
        if node is None or query.matches(node, query.getter(rec)):
            out.append((row.seq, rec))
        if len(out) > limit:
            break
    page = out[:limit]
    return [r for _, r in page], encode_after([page[-1][0]], filters) if len(out) > limit else None


def delete_owner(ctx: TwinContext, *, group_id: str, owner_id: str) -> None:
    """DELETE /api/v1/groups/{groupId}/owners/{ownerId}: E0000007 when not an owner."""
    group = find(ctx, group_id)
    row = ctx.conn.execute(
        select(_OWNER).where(
            _OWNER.c.tenant_id == ctx.tenant, _OWNER.c.group_id == group.id, _OWNER.c.owner_id == owner_id
        )
    ).first()
    if row is None:
        raise not_found(owner_id, "GroupOwner")
    ctx.conn.execute(
        delete(_OWNER).where(
            _OWNER.c.tenant_id == ctx.tenant, _OWNER.c.group_id == group.id, _OWNER.c.owner_id == owner_id
        )
    )


# -- group rules ----------------------------------------------------------------------------------

_EL_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|(?P<op>==|!=|&&|\|\||!|\(|\)|,|>=|<=|>|<)'
    r"|(?P<num>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][\w.]*))"
)


class ExpressionError(ValueError):
    pass


def _el_tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _EL_TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ExpressionError(text)
        pos = m.end()
        assert m.lastgroup is not None
        out.append((m.lastgroup, m.group(m.lastgroup)))
    return out


class _EL:
    """A small Okta Expression Language evaluator: `user.attr`, string/number/boolean literals,
    `== != > < >= <=`, `&& || !`, parentheses, `String.stringContains/startsWith/endsWith`,
    `isMemberOfAnyGroup(...)`, `isMemberOfGroup(...)`."""

    def __init__(self, text: str, user: dict[str, Any], groups: list[str]) -> None:
        self.toks = _el_tokens(text)
        self.i = 0
        self.user = user
        self.groups = groups

    def peek(self) -> str | None:
        return self.toks[self.i][1] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        if self.i >= len(self.toks):
            raise ExpressionError("unexpected end")
        self.i += 1
        return self.toks[self.i - 1]

    def run(self) -> Any:
        value = self.or_()
        if self.i != len(self.toks):
            raise ExpressionError("trailing input")
        return value

    def or_(self) -> Any:
        v = self.and_()
        while self.peek() == "||":
            self.i += 1
            r = self.and_()
            v = bool(v) or bool(r)
        return v

    def and_(self) -> Any:
        v = self.cmp()
        while self.peek() == "&&":
            self.i += 1
            r = self.cmp()
            v = bool(v) and bool(r)
        return v

    def cmp(self) -> Any:
        v = self.unary()
        op = self.peek()
        if op in ("==", "!=", ">", "<", ">=", "<="):
            self.i += 1
            r = self.unary()
            if op == "==":
                return v == r
            if op == "!=":
                return v != r
            try:
                return {">": v > r, "<": v < r, ">=": v >= r, "<=": v <= r}[op]
            except TypeError:
                return False
        return v

    def unary(self) -> Any:
        if self.peek() == "!":
            self.i += 1
            return not self.unary()
        return self.atom()

    def atom(self) -> Any:
        kind, text = self.take()
        if text == "(" and kind == "op":
            v = self.or_()
            if self.take()[1] != ")":
                raise ExpressionError("missing )")
            return v
        if kind == "str":
            return re.sub(r"\\(.)", r"\1", text[1:-1])
        if kind == "num":
            return float(text) if "." in text else int(text)
        if kind != "name":
            raise ExpressionError(text)
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        if self.peek() == "(":
            self.i += 1
            args: list[Any] = []
            if self.peek() != ")":
                args.append(self.or_())
                while self.peek() == ",":
                    self.i += 1
                    args.append(self.or_())
            if self.take()[1] != ")":
                raise ExpressionError("missing )")
            return self.call(text, args)
        if text.startswith("user."):
            return self.user.get(text[5:])
        raise ExpressionError(text)

    def call(self, name: str, args: list[Any]) -> Any:
        if name in ("String.stringContains", "String.startsWith", "String.endsWith") and len(args) == 2:
            a, b = (str(x) if x is not None else None for x in args)
            if a is None or b is None:
                return False
            return (
                b in a
                if name.endswith("Contains")
                else a.startswith(b)
                if "starts" in name
                else a.endswith(b)
            )
        if name in ("isMemberOfAnyGroup", "isMemberOfGroup"):
            return any(str(a) in self.groups for a in args)
        raise ExpressionError(name)


def check_expression(expression: str) -> None:
    try:
        _EL(expression, {}, []).run()
    except ExpressionError:
        raise validation("conditions.expression.value", "Invalid condition expression.") from None


def _rule_matches(rule: Any, user: Any, groups: list[str]) -> bool:
    try:
        return bool(_EL(rule.expression, dict(user.profile or {}), groups).run())
    except ExpressionError:
        return False


def render_rule(row: Any) -> dict[str, Any]:
    return {
        "type": "group_rule",
        "id": row.id,
        "status": row.status,
        "name": row.name,
        "created": iso(row.created),
        "lastUpdated": iso(row.last_updated),
        "conditions": {
            "people": {"users": {"exclude": list(row.exclude_users or [])}, "groups": {"exclude": []}},
            "expression": {"value": row.expression, "type": "urn:okta:expression:1.0"},
        },
        "actions": {"assignUserToGroups": {"groupIds": list(row.group_ids or [])}},
    }


def _rule_fields(ctx: TwinContext, body: dict[str, Any]) -> dict[str, Any]:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise validation("name", "name: The field cannot be left blank")
    expression = (((body.get("conditions") or {}).get("expression")) or {}).get("value")
    if not isinstance(expression, str) or not expression.strip():
        raise validation(
            "conditions.expression.value", "conditions.expression.value: The field cannot be left blank"
        )
    check_expression(expression)
    group_ids = (((body.get("actions") or {}).get("assignUserToGroups")) or {}).get("groupIds")
    if not isinstance(group_ids, list) or not group_ids:
        raise validation("actions.assignUserToGroups.groupIds", "groupIds: The field cannot be left blank")
    for gid in group_ids:
        if find(ctx, str(gid)).type != "OKTA_GROUP":
            raise validation("groupIds", "groupIds: Rules can only assign users to OKTA_GROUP groups.")
    exclude = ((((body.get("conditions") or {}).get("people") or {}).get("users") or {}).get("exclude")) or []
    return {
        "name": name,
        "expression": expression,
        "group_ids": [str(g) for g in group_ids],
        "exclude_users": [str(u) for u in exclude],
    }


def find_rule(ctx: TwinContext, rule_id: str) -> Any:
    row = ctx.conn.execute(
        select(_RULE).where(_RULE.c.tenant_id == ctx.tenant, _RULE.c.id == rule_id)
    ).first()
    if row is None:
        raise not_found(rule_id, "GroupRule")
    return row


def create_rule(ctx: TwinContext, *, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v1/groups/rules: created INACTIVE (activate to evaluate)."""
    fields = _rule_fields(ctx, body)
    now = ctx.now()
    rid = okta_id(ctx, "0pr")
    ctx.conn.execute(
        _RULE.insert().values(
            tenant_id=ctx.tenant,
            id=rid,
            status="INACTIVE",
            created=now,
            last_updated=now,
            seq=ctx.ids.next("rule-seq"),
            **fields,
        )
    )
    return render_rule(find_rule(ctx, rid))


def replace_rule(ctx: TwinContext, *, rule_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """PUT /api/v1/groups/rules/{id}: only INACTIVE rules can change (E0000001 otherwise)."""
    row = find_rule(ctx, rule_id)
    if row.status == "ACTIVE":
        raise validation("status", "Cannot update rule in ACTIVE status. Deactivate the rule first.")
    fields = _rule_fields(ctx, body)
    ctx.conn.execute(
        update(_RULE)
        .where(_RULE.c.tenant_id == ctx.tenant, _RULE.c.id == row.id)
        .values(last_updated=ctx.now(), **fields)
    )
    return render_rule(find_rule(ctx, rule_id))


def list_rules(ctx: TwinContext, *, search: str | None) -> list[dict[str, Any]]:
    rows = ctx.conn.execute(select(_RULE).where(_RULE.c.tenant_id == ctx.tenant).order_by(_RULE.c.seq)).all()
    return [render_rule(r) for r in rows if not search or search.lower() in r.name.lower()]


def get_rule(ctx: TwinContext, *, rule_id: str) -> dict[str, Any]:
    return render_rule(find_rule(ctx, rule_id))


def set_rule_status(ctx: TwinContext, *, rule_id: str, active: bool) -> None:
    """Activating evaluates the rule for every user at once."""
    row = find_rule(ctx, rule_id)
    ctx.conn.execute(
        update(_RULE)
        .where(_RULE.c.tenant_id == ctx.tenant, _RULE.c.id == row.id)
        .values(status="ACTIVE" if active else "INACTIVE", last_updated=ctx.now())
    )
    if active:
        for uid in (
            ctx.conn.execute(select(_USER.c.id).where(_USER.c.tenant_id == ctx.tenant)).scalars().all()
        ):
            apply_rules(ctx, uid)


def delete_rule(ctx: TwinContext, *, rule_id: str, remove_users: bool) -> None:
    """DELETE /api/v1/groups/rules/{id}: ACTIVE rules cannot be deleted (E0000001)."""
    row = find_rule(ctx, rule_id)
    if row.status == "ACTIVE":
        raise OktaError("Api validation failed: status", causes=["Cannot delete rule in ACTIVE status."])
    if remove_users:
        ctx.conn.execute(
            delete(_MEMBER).where(_MEMBER.c.tenant_id == ctx.tenant, _MEMBER.c.rule_id == row.id)
        )
    ctx.conn.execute(delete(_RULE).where(_RULE.c.tenant_id == ctx.tenant, _RULE.c.id == row.id))


def apply_rules(ctx: TwinContext, user_id: str) -> None:
    """Evaluate the active group rules for one user (on create, update and rule activation):
    the groups of the rules the user matches are added; a membership an active rule made is
    removed when no active rule that the user matches assigns that group any more (Okta keeps
    rule memberships in step with the profile). Memberships made by hand are never touched, nor
    those of rules since deactivated."""
    tenant = ctx.tenant
    # Cached per org (dtu/cache.py): most orgs have no active rule, and every user write asks.
    rules: list[Any] = ctx.runtime.cache("okta.group_rules", _RULE).get(
        tenant, lambda: (tenant, _ACTIVE_RULES.all(ctx.conn, {"tenant": tenant}))
    )
    if not rules:
        return
    user = _user(ctx, user_id)
    if user.status == "DEPROVISIONED":
        return
    groups = user_group_ids(ctx, user_id)
    matching = [r for r in rules if user_id not in (r.exclude_users or []) and _rule_matches(r, user, groups)]
    wanted = {str(gid) for r in matching for gid in (r.group_ids or [])}
    made = ctx.conn.execute(
        select(_MEMBER.c.group_id).where(
            _MEMBER.c.tenant_id == ctx.tenant,
            _MEMBER.c.user_id == user_id,
            _MEMBER.c.rule_id.in_([r.id for r in rules]),
        )
    ).scalars()
    for gid in list(made):
        if gid not in wanted:
            remove_member(ctx, group_id=gid, user_id=user_id)
            groups = [g for g in groups if g != gid]
    for rule in matching:
        for gid in rule.group_ids or []:
            if gid not in groups:
                try:
                    add_member(ctx, group_id=gid, user_id=user_id, rule_id=rule.id)
                except OktaError:
                    continue
                groups.append(gid)
