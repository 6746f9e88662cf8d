"""Users: create, read, update, delete, list/search, and the lifecycle state machine.

https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/ and
https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserLifecycle/ .
Status diagram (https://developer.okta.com/docs/concepts/user-lifecycle/): STAGED ->
PROVISIONED (no password) or ACTIVE (password) on activate; ACTIVE <-> SUSPENDED; ACTIVE ->
LOCKED_OUT (failed sign-ins) -> ACTIVE on unlock; ACTIVE -> PASSWORD_EXPIRED / RECOVERY ->
ACTIVE on a new password; anything -> DEPROVISIONED on deactivate; DEPROVISIONED -> deleted.
Divergence: activation is synchronous (`transitioningToStatus` is always null).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, or_, select, update

from dtu.context import TwinContext
from dtu.db import table
from dtu.sql import Prepared
from twins.okta import constants, models
from twins.okta.errors import (
    AlreadyActive,
    ApiValidationFailed,
    CredentialsUpdateFailed,
    ExpireNeedsActivate,
    ExpireNeedsPassword,
    OktaError,
    StatusNotAllowed,
    UnlockNotAllowed,
    not_found,
    validation,
)
from twins.okta.service import query, syslog
from twins.okta.service.common import (
    BASE62,
    answer_hash,
    decode_after,
    encode_after,
    href,
    iso,
    okta_id,
    parse_iso,
    password_hash,
)

_USER = table(models.User)
_SCHEMA = table(models.SchemaProperty)
_MEMBER = table(models.GroupMember)
_APP_USER = table(models.AppUser)
_SESSION = table(models.Session)

# The statements of the lifecycle calls, built once (dtu/sql.py): building a Core statement
# costs more than running it on SQLite.
_BY_ID = Prepared(
    select(_USER).where(_USER.c.tenant_id == bindparam("tenant"), _USER.c.id == bindparam("id"))
)
_BY_LOGIN = Prepared(
    select(_USER).where(_USER.c.tenant_id == bindparam("tenant"), _USER.c.login_lower == bindparam("login"))
)
_ID_BY_LOGIN = Prepared(
    select(_USER.c.id).where(
        _USER.c.tenant_id == bindparam("tenant"), _USER.c.login_lower == bindparam("login")
    )
)
_SCHEMA_ROWS = Prepared(
    select(_SCHEMA.c.name, _SCHEMA.c.definition).where(_SCHEMA.c.tenant_id == bindparam("tenant"))
)
# Every column, in table order: the insert names them all (Prepared applies no column defaults).
_INSERT_COLUMNS = [c.name for c in _USER.columns]
_INSERT = Prepared(_USER.insert(), columns=_INSERT_COLUMNS)
# Python-side defaults of the columns an insert may leave out (what Core would fill in).
_INSERT_DEFAULTS: dict[str, Any] = {
    c.name: c.default.arg  # type: ignore[attr-defined]
    for c in _USER.columns
    if c.default is not None and c.default.is_scalar
}
_CLOSE_SESSIONS = Prepared(
    update(_SESSION)
    .where(_SESSION.c.tenant_id == bindparam("tenant"), _SESSION.c.user_id == bindparam("user"))
    .values(status="CLOSED")
)
_DROP_APP_USERS = Prepared(
    delete(_APP_USER).where(
        _APP_USER.c.tenant_id == bindparam("tenant"), _APP_USER.c.user_id == bindparam("user")
    )
)
_UPDATES: dict[tuple[str, ...], Prepared] = {}


def _update(columns: tuple[str, ...]) -> Prepared:
    """`UPDATE okta_user SET <columns>` of one user, built once per set of columns."""
    found = _UPDATES.get(columns)
    if found is None:
        found = _UPDATES[columns] = Prepared(
            update(_USER)
            .where(_USER.c.tenant_id == bindparam("k_tenant"), _USER.c.id == bindparam("k_id"))
            .values({c: bindparam("v_" + c) for c in columns})
        )
    return found


STATUSES = (
    "STAGED",
    "PROVISIONED",
    "ACTIVE",
    "RECOVERY",
    "PASSWORD_EXPIRED",
    "LOCKED_OUT",
    "SUSPENDED",
    "DEPROVISIONED",
)
DEFAULT_TYPE = "oty1dtudefaultusertyp"[:20]

# The default user profile schema's base attributes (https://developer.okta.com/docs/reference/api/schemas/).
BASE_ATTRIBUTES: dict[str, dict[str, Any]] = {
    "login": {"title": "Username", "type": "string", "required": True, "minLength": 5, "maxLength": 100},
    "firstName": {"title": "First name", "type": "string", "required": True, "minLength": 1, "maxLength": 50},
    "lastName": {"title": "Last name", "type": "string", "required": True, "minLength": 1, "maxLength": 50},
    "email": {"title": "Primary email", "type": "string", "required": True, "format": "email"},
    **{
        name: {"title": title, "type": "string"}
        for name, title in (
            ("middleName", "Middle name"),
            ("honorificPrefix", "Honorific prefix"),
            ("honorificSuffix", "Honorific suffix"),
            ("title", "Title"),
            ("displayName", "Display name"),
            ("nickName", "Nickname"),
            ("profileUrl", "Profile Url"),
            ("secondEmail", "Secondary email"),
            ("mobilePhone", "Mobile phone"),
            ("primaryPhone", "Primary phone"),
            ("streetAddress", "Street address"),
            ("city", "City"),
            ("state", "State"),
            ("zipCode", "Zip code"),
            ("countryCode", "Country code"),
            ("postalAddress", "Postal Address"),
            ("preferredLanguage", "Preferred language"),
            ("locale", "Locale"),
            ("timezone", "Time zone"),
            ("userType", "User type"),
            ("employeeNumber", "Employee number"),
            ("costCenter", "Cost center"),
            ("organization", "Organization"),
            ("division", "Division"),
            ("department", "Department"),
            ("managerId", "ManagerId"),
            ("manager", "Manager"),
        )
    },
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SCHEMA_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "boolean": bool,
    "integer": int,
    "number": (int, float),
    "array": list,
}


# -- reading --------------------------------------------------------------------------------------


def _links(ctx: TwinContext, row: Any) -> dict[str, Any]:
    base = f"/api/v1/users/{row.id}"

    def post(path: str) -> dict[str, Any]:
        return href(ctx, base + path, method="POST")

    links: dict[str, Any] = {
        "self": href(ctx, base),
        "type": href(ctx, f"/api/v1/meta/types/user/{row.type_id}"),
        "schema": href(ctx, "/api/v1/meta/schemas/user/default"),
    }
    status = row.status
    if status in ("STAGED", "DEPROVISIONED"):
        links["activate"] = post("/lifecycle/activate")
    if status == "PROVISIONED":
        links["reactivate"] = post("/lifecycle/reactivate")
    if status == "ACTIVE":
        links["suspend"] = post("/lifecycle/suspend")
    if status == "SUSPENDED":
        links["unsuspend"] = post("/lifecycle/unsuspend")
    if status == "LOCKED_OUT":
        links["unlock"] = post("/lifecycle/unlock")
    if status not in ("STAGED", "DEPROVISIONED", "SUSPENDED"):
        links["resetPassword"] = post("/lifecycle/reset_password")
        links["resetFactors"] = post("/lifecycle/reset_factors")
    if status in ("ACTIVE", "PASSWORD_EXPIRED", "RECOVERY", "LOCKED_OUT") and row.password_hash:
        links["expirePassword"] = post("/lifecycle/expire_password")
    if status in ("STAGED", "ACTIVE", "PASSWORD_EXPIRED", "RECOVERY") and row.password_hash:
        links["changePassword"] = post("/credentials/change_password")
        links["changeRecoveryQuestion"] = post("/credentials/change_recovery_question")
    if status == "ACTIVE":
        links["forgotPassword"] = post("/credentials/forgot_password")
    if status != "DEPROVISIONED":
        links["deactivate"] = post("/lifecycle/deactivate")
    return links


def render(ctx: TwinContext, row: Any) -> dict[str, Any]:
    """A User object as the Users API returns it."""
    creds: dict[str, Any] = {}
    if row.password_hash:
        creds["password"] = {}
    email = (row.profile or {}).get("email")
    if email:
        creds["emails"] = [{"value": email, "status": "VERIFIED", "type": "PRIMARY"}]
    if row.recovery_question:
        creds["recovery_question"] = {"question": row.recovery_question}
    creds["provider"] = {"type": row.provider, "name": row.provider}
    return {
        "id": row.id,
        "status": row.status,
        "created": iso(row.created),
        "activated": iso(row.activated),
        "statusChanged": iso(row.status_changed),
        "lastLogin": iso(row.last_login),
        "lastUpdated": iso(row.last_updated),
        "passwordChanged": iso(row.password_changed),
        "type": {"id": row.type_id},
        "transitioningToStatus": None,
        "profile": dict(row.profile or {}),
        "credentials": creds,
        "_links": _links(ctx, row),
    }


def find(ctx: TwinContext, id_or_login: str) -> Any:
    """A user by id, or by login (case-insensitive; a login's short name works too, as in Okta)."""
    t = ctx.tenant
    row = _BY_ID.first(ctx.conn, {"tenant": t, "id": id_or_login})
    if row is None:
        row = _BY_LOGIN.first(ctx.conn, {"tenant": t, "login": id_or_login.lower()})
    if row is None and "@" not in id_or_login:
        rows = ctx.conn.execute(
            select(_USER).where(
                _USER.c.tenant_id == t, _USER.c.login_lower.like(id_or_login.lower().replace("%", "") + "@%")
            )
        ).all()
        row = rows[0] if len(rows) == 1 else None
    if row is None:
        raise not_found(id_or_login, "User")
    return row


def get_user(ctx: TwinContext, *, user_id: str) -> dict[str, Any]:
    """GET /api/v1/users/{id}: by id or login."""
    return render(ctx, find(ctx, user_id))


def custom_schema(ctx: TwinContext) -> dict[str, dict[str, Any]]:
    """The org's custom profile attributes (a fresh copy: callers may change it)."""
    tenant = ctx.tenant
    rows: list[Any] = ctx.runtime.cache("okta.schema", _SCHEMA).get(
        tenant, lambda: (tenant, _SCHEMA_ROWS.all(ctx.conn, {"tenant": tenant}))
    )
    return {r.name: dict(r.definition or {}) for r in rows}


# -- validation -----------------------------------------------------------------------------------


def _check_profile(
    ctx: TwinContext, profile: Any, *, full: bool, exclude: str | None = None
) -> dict[str, Any]:
    """Okta's profile validation: known attributes, types, required base attributes, unique login."""
    if not isinstance(profile, dict):
        raise validation("profile", "profile: The field must be a JSON object.")
    schema = {**BASE_ATTRIBUTES, **custom_schema(ctx)}
    for name, value in profile.items():
        definition = schema.get(name)
        if definition is None:
            raise validation(name, f"Property name '{name}' is not defined in profile")
        if value is None:
            continue
        py = _SCHEMA_TYPES.get(definition.get("type", "string"), str)
        if not isinstance(value, py) or (
            definition.get("type") in ("integer", "number") and isinstance(value, bool)
        ):
            raise validation(name, f"{name}: The field must be of type {definition.get('type', 'string')}.")
        if isinstance(value, str):
            if definition.get("maxLength") and len(value) > definition["maxLength"]:
                raise validation(name, f"{name}: The field is too long.")
            if definition.get("enum") and value not in definition["enum"]:
                raise validation(name, f"{name}: Does not match any of the allowed values.")
    if full:
        for name, definition in schema.items():
            if definition.get("required") and not profile.get(name):
                raise validation(name, f"{name}: The field cannot be left blank")
    login = profile.get("login")
    if login is not None:
        if not _EMAIL.match(login):
            raise validation("login", "login: Username must be in the form of an email address")
        clash = _ID_BY_LOGIN.scalar(ctx.conn, {"tenant": ctx.tenant, "login": login.lower()})
        if clash is not None and clash != exclude:
            raise validation(
                "login", "login: An object with this field already exists in the current organization"
            )
    email = profile.get("email")
    if email is not None and not _EMAIL.match(email):
        raise validation("email", "email: Does not match required pattern")
    return profile


def check_password(login: str, password: Any) -> str:
    """The default password policy: 8+ characters, lower, upper, number, no part of the username."""
    if not isinstance(password, str):
        raise validation("password", "password: The field must be a string.")
    user_part = login.split("@")[0].lower()
    ok = (
        len(password) >= constants.PASSWORD_MIN_LENGTH
        and re.search(r"[a-z]", password)
        and re.search(r"[A-Z]", password)
        and re.search(r"\d", password)
        and not (len(user_part) >= 3 and user_part in password.lower())
    )
    if not ok:
        raise validation(
            "password",
            "password: Password requirements were not met. Password requirements: at least "
            "8 characters, a lowercase letter, an uppercase letter, a number, no parts of "
            "your username.",
        )
    return password


def _credentials(ctx: TwinContext, creds: Any, login: str) -> dict[str, Any]:
    """Column values from a `credentials` object (password, recovery_question, provider)."""
    if creds is None:
        return {}
    if not isinstance(creds, dict):
        raise validation("credentials", "credentials: The field must be a JSON object.")
    out: dict[str, Any] = {}
    pw = creds.get("password")
    if pw is not None:
        if not isinstance(pw, dict):
            raise validation("password", "password: The field must be a JSON object.")
        if "hash" in pw or "hook" in pw:
            raise validation("password", "password: Password import is not supported by this twin.")
        if "value" in pw:
            out["password_hash"] = password_hash(ctx.tenant, check_password(login, pw["value"]))
    rq = creds.get("recovery_question")
    if rq is not None:
        if not isinstance(rq, dict) or not rq.get("question") or not rq.get("answer"):
            raise validation("recovery_question", "recovery_question: The question and answer are required.")
        if len(str(rq["answer"])) < 4:
            raise validation(
                "answer", "answer: The security question answer must be at least 4 characters in length"
            )
        out["recovery_question"] = str(rq["question"])
        out["recovery_answer_hash"] = answer_hash(ctx.tenant, str(rq["answer"]))
    provider = creds.get("provider")
    if provider is not None:
        ptype = provider.get("type") if isinstance(provider, dict) else None
        if ptype not in ("OKTA", "FEDERATION", "ACTIVE_DIRECTORY", "LDAP", "SOCIAL", "IMPORT"):
            raise validation("provider", "provider: Invalid provider type.")
        out["provider"] = ptype
    return out


# -- writing --------------------------------------------------------------------------------------


def _set(ctx: TwinContext, row: Any, **values: Any) -> Any:
    now = ctx.now()
    values.setdefault("last_updated", now)
    values["written_at"] = now
    if "status" in values and values["status"] != row.status:
        values.setdefault("status_changed", now)
    params = {"v_" + k: v for k, v in values.items()}
    params.update(k_tenant=ctx.tenant, k_id=row.id)
    _update(tuple(values)).execute(ctx.conn, params)
    found = _BY_ID.first(ctx.conn, {"tenant": ctx.tenant, "id": row.id})
    if found is None:
        raise RuntimeError(f"user {row.id} vanished while it was updated")
    return found


def _token(ctx: TwinContext, kind: str) -> str:
    return ctx.ids.token(kind, length=20, alphabet=BASE62)


def create_user(
    ctx: TwinContext, *, body: dict[str, Any], activate: bool, provider: bool, next_login: str | None
) -> dict[str, Any]:
    """POST /api/v1/users. `activate` defaults to true: with a password the user is ACTIVE, without
    one PROVISIONED (an activation email goes out); `activate=false` leaves them STAGED;
    `provider=true` makes a federated user ACTIVE without a password; `nextLogin=changePassword`
    expires the password at once (E0000124/E0000125 when that cannot be)."""
    unknown = set(body) - {"profile", "credentials", "groupIds", "type", "realmId"}
    if unknown:
        name = sorted(unknown)[0]
        raise validation(name, f"Property name '{name}' is not defined in the User object")
    profile = _check_profile(ctx, body.get("profile"), full=True)
    cols = _credentials(ctx, body.get("credentials"), profile["login"])
    if provider:
        cols.setdefault("provider", "FEDERATION")
    cols.setdefault("provider", "OKTA")
    if next_login is not None and next_login != "changePassword":
        raise validation("nextLogin", "nextLogin: Invalid value.")
    if next_login == "changePassword":
        if not cols.get("password_hash"):
            raise ExpireNeedsPassword(causes=[ExpireNeedsPassword.message])
        if not activate:
            raise ExpireNeedsActivate(causes=[ExpireNeedsActivate.message])
    group_ids = body.get("groupIds") or []
    if not isinstance(group_ids, list):
        raise validation("groupIds", "groupIds: The field must be an array.")
    type_id = DEFAULT_TYPE
    if body.get("type") is not None:
        t = body["type"]
        if not isinstance(t, dict) or t.get("id") not in (DEFAULT_TYPE, None):
            raise validation("type", "type: Invalid user type.")
    now = ctx.now()
    status = "STAGED"
    activated = None
    if activate:
        activated = now
        if cols.get("provider") not in (None, "OKTA") or cols.get("password_hash"):
            status = "ACTIVE"
        else:
            status = "PROVISIONED"
        if next_login == "changePassword":
            status = "PASSWORD_EXPIRED"
    user_id = okta_id(ctx, "00u")
    values: dict[str, Any] = dict.fromkeys(_INSERT_COLUMNS)
    values.update(_INSERT_DEFAULTS)
    values.update(
        tenant_id=ctx.tenant,
        id=user_id,
        login_lower=profile["login"].lower(),
        status=status,
        profile=profile,
        created=now,
        activated=activated,
        status_changed=now if activate else None,
        last_login=None,
        last_updated=now,
        password_changed=now if cols.get("password_hash") else None,
        type_id=type_id,
        seq=ctx.ids.next("user-seq"),
        written_at=now,
        activation_token=_token(ctx, "activation") if status == "PROVISIONED" else None,
        **cols,
    )
    _INSERT.execute(ctx.conn, values)
    row = find(ctx, user_id)
    syslog.emit(ctx, "user.lifecycle.create", targets=[syslog.user_ref(row)], display="Create okta user")
    if activate:
        syslog.emit(
            ctx, "user.lifecycle.activate", targets=[syslog.user_ref(row)], display="Activate Okta user"
        )
    from twins.okta.service import groups

    groups.join_everyone(ctx, user_id)
    for gid in group_ids:
        groups.add_member(ctx, group_id=str(gid), user_id=user_id)
    groups.apply_rules(ctx, user_id)
    return render(ctx, find(ctx, user_id))


def update_user(ctx: TwinContext, *, user_id: str, body: dict[str, Any], partial: bool) -> dict[str, Any]:
    """POST (partial: only the given profile attributes change) or PUT (full replacement: the
    profile is replaced, so required attributes must all be there) /api/v1/users/{id}."""
    row = find(ctx, user_id)
    unknown = set(body) - {
        "profile",
        "credentials",
        "type",
        "realmId",
        "id",
        "status",
        "created",
        "activated",
        "statusChanged",
        "lastLogin",
        "lastUpdated",
        "passwordChanged",
        "_links",
        "transitioningToStatus",
        "_embedded",
    }
    if unknown:
        name = sorted(unknown)[0]
        raise validation(name, f"Property name '{name}' is not defined in the User object")
    values: dict[str, Any] = {}
    profile = dict(row.profile or {})
    changed_profile = False
    if "profile" in body and body["profile"] is not None:
        incoming = body["profile"]
        if not isinstance(incoming, dict):
            raise validation("profile", "profile: The field must be a JSON object.")
        new_profile = {**profile, **incoming} if partial else dict(incoming)
        new_profile = {k: v for k, v in new_profile.items() if v is not None}
        _check_profile(ctx, new_profile, full=True, exclude=row.id)
        _check_profile(ctx, incoming, full=False, exclude=row.id)
        changed_profile = new_profile != profile
        profile = new_profile
        values["profile"] = profile
        values["login_lower"] = profile["login"].lower()
    elif not partial:
        raise validation("profile", "profile: The field cannot be left blank")
    creds = _credentials(ctx, body.get("credentials"), profile["login"])
    new_password = "password_hash" in creds
    if creds.get("provider") and creds["provider"] != row.provider:
        raise validation("provider", "provider: The credential provider cannot be changed.")
    creds.pop("provider", None)
    values.update(creds)
    if new_password:
        values["password_changed"] = ctx.now()
        if row.status in ("PASSWORD_EXPIRED", "RECOVERY"):
            values["status"] = "ACTIVE"
    row = _set(ctx, row, **values)
    if changed_profile:
        syslog.emit(
            ctx,
            "user.account.update_profile",
            targets=[syslog.user_ref(row)],
            display="Update user profile for Okta",
        )
    if new_password:
        syslog.emit(
            ctx,
            "user.account.update_password",
            targets=[syslog.user_ref(row)],
            display="Update password for user",
        )
    from twins.okta.service import groups

    groups.apply_rules(ctx, row.id)
    return render(ctx, find(ctx, row.id))


def delete_user(ctx: TwinContext, *, user_id: str) -> None:
    """DELETE /api/v1/users/{id}: deactivates a user that is not DEPROVISIONED; a second DELETE
    removes them (with their memberships, app assignments and sessions)."""
    row = find(ctx, user_id)
    if row.status != "DEPROVISIONED":
        _deactivate(ctx, row)
        return
    t = ctx.tenant
    syslog.emit(
        ctx, "user.lifecycle.delete.initiated", targets=[syslog.user_ref(row)], display="Delete Okta user"
    )
    for tbl in (_MEMBER, _APP_USER, _SESSION):
        ctx.conn.execute(delete(tbl).where(tbl.c.tenant_id == t, tbl.c.user_id == row.id))
    from twins.okta.service import factors

    factors.reset_all(ctx, row.id)
    ctx.conn.execute(delete(_USER).where(_USER.c.tenant_id == t, _USER.c.id == row.id))
    syslog.emit(
        ctx, "user.lifecycle.delete.completed", targets=[syslog.user_ref(row)], display="Delete Okta user"
    )


# -- lifecycle ------------------------------------------------------------------------------------


def _activation(ctx: TwinContext, token: str, send_email: bool) -> dict[str, Any]:
    if send_email:
        return {}
    return {"activationUrl": f"{ctx.base_url}/welcome/{token}", "activationToken": token}


def activate(ctx: TwinContext, *, user_id: str, send_email: bool) -> dict[str, Any]:
    """STAGED or DEPROVISIONED -> ACTIVE (with a password or a federated provider) or PROVISIONED
    (the user finishes with the activation token). Anything else: E0000016."""
    row = find(ctx, user_id)
    if row.status not in ("STAGED", "DEPROVISIONED"):
        raise AlreadyActive()
    active = bool(row.password_hash) or row.provider != "OKTA"
    token = _token(ctx, "activation")
    row = _set(
        ctx,
        row,
        status="ACTIVE" if active else "PROVISIONED",
        activated=ctx.now(),
        activation_token=None if active else token,
    )
    syslog.emit(ctx, "user.lifecycle.activate", targets=[syslog.user_ref(row)], display="Activate Okta user")
    return {} if active else _activation(ctx, token, send_email)


def reactivate(ctx: TwinContext, *, user_id: str, send_email: bool) -> dict[str, Any]:
    """PROVISIONED (or RECOVERY) only: a new activation token; E0000038 otherwise."""
    row = find(ctx, user_id)
    if row.status not in ("PROVISIONED", "RECOVERY"):
        raise StatusNotAllowed()
    token = _token(ctx, "activation")
    row = _set(ctx, row, activation_token=token)
    syslog.emit(
        ctx, "user.lifecycle.reactivate", targets=[syslog.user_ref(row)], display="Reactivate Okta user"
    )
    return _activation(ctx, token, send_email)


def _deactivate(ctx: TwinContext, row: Any) -> Any:
    t = ctx.tenant
    row = _set(ctx, row, status="DEPROVISIONED", activation_token=None, recovery_token=None)
    _CLOSE_SESSIONS.execute(ctx.conn, {"tenant": t, "user": row.id})
    # Deprovisioned users lose their app assignments (their group memberships stay).
    _DROP_APP_USERS.execute(ctx.conn, {"tenant": t, "user": row.id})
    syslog.emit(
        ctx, "user.lifecycle.deactivate", targets=[syslog.user_ref(row)], display="Deactivate Okta user"
    )
    return row


def deactivate(ctx: TwinContext, *, user_id: str) -> None:
    """Anything but DEPROVISIONED -> DEPROVISIONED (sessions closed, app assignments removed)."""
    row = find(ctx, user_id)
    if row.status == "DEPROVISIONED":
        raise StatusNotAllowed()
    _deactivate(ctx, row)


def suspend(ctx: TwinContext, *, user_id: str) -> None:
    """ACTIVE -> SUSPENDED; other statuses: E0000001 "Cannot suspend a user that is not active"."""
    row = find(ctx, user_id)
    if row.status != "ACTIVE":
        raise ApiValidationFailed(
            "Api validation failed: status", causes=["Cannot suspend a user that is not active"]
        )
    row = _set(ctx, row, status="SUSPENDED")
    _CLOSE_SESSIONS.execute(ctx.conn, {"tenant": ctx.tenant, "user": row.id})
    syslog.emit(ctx, "user.lifecycle.suspend", targets=[syslog.user_ref(row)], display="Suspend Okta user")


def unsuspend(ctx: TwinContext, *, user_id: str) -> None:
    """SUSPENDED -> ACTIVE; other statuses: E0000001 "Cannot unsuspend a user that is not suspended"."""
    row = find(ctx, user_id)
    if row.status != "SUSPENDED":
        raise ApiValidationFailed(
            "Api validation failed: status", causes=["Cannot unsuspend a user that is not suspended"]
        )
    row = _set(ctx, row, status="ACTIVE")
    syslog.emit(
        ctx, "user.lifecycle.unsuspend", targets=[syslog.user_ref(row)], display="Unsuspend Okta user"
    )


def unlock(ctx: TwinContext, *, user_id: str) -> None:
    """LOCKED_OUT -> ACTIVE (failed sign-in count reset); ACTIVE is a no-op; else E0000032."""
    row = find(ctx, user_id)
    if row.status not in ("LOCKED_OUT", "ACTIVE"):
        raise UnlockNotAllowed()
    row = _set(ctx, row, status="ACTIVE", failed_logins=0)
    syslog.emit(ctx, "user.account.unlock", targets=[syslog.user_ref(row)], display="Unlock user account")


def _close_sessions(ctx: TwinContext, user_id: str) -> None:
    """`revokeSessions=true`: the user's open sessions end (each one a `user.session.end` event)."""
    from twins.okta.service import authn

    authn.close_user_sessions(ctx, user_id)


def expire_password(
    ctx: TwinContext, *, user_id: str, temp_password: bool = False, revoke_sessions: bool = False
) -> dict[str, Any]:
    """-> PASSWORD_EXPIRED (the user must change it at next sign-in); E0000038 without a password
    or from STAGED/PROVISIONED/SUSPENDED/DEPROVISIONED. With a temporary password the answer is
    `{"tempPassword"}` (the current API's `tempPassword` object)."""
    row = find(ctx, user_id)
    if row.status not in ("ACTIVE", "PASSWORD_EXPIRED", "RECOVERY", "LOCKED_OUT") or not row.password_hash:
        raise StatusNotAllowed()
    values: dict[str, Any] = {"status": "PASSWORD_EXPIRED"}
    temp = None
    if temp_password:
        temp = "Tmp" + ctx.ids.token("temp-password", length=9, alphabet=BASE62) + "9a"
        values["password_hash"] = password_hash(ctx.tenant, temp)
    row = _set(ctx, row, **values)
    syslog.emit(
        ctx, "user.account.expire_password", targets=[syslog.user_ref(row)], display="Expire user password"
    )
    if revoke_sessions:
        _close_sessions(ctx, row.id)
    if temp is not None:
        return {"tempPassword": temp}
    return render(ctx, row)


def _reset_url(ctx: TwinContext, token: str) -> str:
    """The one-time reset link; its token is redeemed at `POST /api/v1/authn/recovery/token`."""
    return f"{ctx.base_url}/reset_password/{token}"


def reset_password(
    ctx: TwinContext, *, user_id: str, send_email: bool, revoke_sessions: bool = False
) -> dict[str, Any]:
    """-> RECOVERY with a one-time reset token (`resetPasswordUrl` when sendEmail=false); the
    user cannot sign in until the reset is done (`/api/v1/authn/recovery/token`, then
    `/api/v1/authn/credentials/reset_password`)."""
    row = find(ctx, user_id)
    if row.status in ("STAGED", "SUSPENDED", "DEPROVISIONED"):
        raise StatusNotAllowed()
    token = _token(ctx, "recovery")
    row = _set(ctx, row, status="RECOVERY", recovery_token=token)
    syslog.emit(
        ctx,
        "user.account.reset_password",
        targets=[syslog.user_ref(row)],
        display="Fired when the user's Okta password is reset",
    )
    if revoke_sessions:
        _close_sessions(ctx, row.id)
    return {} if send_email else {"resetPasswordUrl": _reset_url(ctx, token)}


def forgot_password(
    ctx: TwinContext, *, user_id: str, send_email: bool, body: dict[str, Any] | None
) -> dict[str, Any]:
    """POST .../credentials/forgot_password, ACTIVE users only (E0000038). Without a body: a
    one-time reset token (`resetPasswordUrl` when sendEmail=false); the status does not change.
    With the classic body (`recovery_question.answer` and `password.value`) it sets the new
    password as `forgot_password_recovery_question` does."""
    row = find(ctx, user_id)
    if row.status != "ACTIVE":
        raise StatusNotAllowed()
    if body:
        return forgot_password_set_new_password(ctx, user_id=row.id, body=body)
    token = _token(ctx, "recovery")
    row = _set(ctx, row, recovery_token=token)
    syslog.emit(
        ctx,
        "user.account.reset_password",
        targets=[syslog.user_ref(row)],
        display="Fired when the user's Okta password is reset",
    )
    return {} if send_email else {"resetPasswordUrl": _reset_url(ctx, token)}


def forgot_password_set_new_password(
    ctx: TwinContext, *, user_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """POST .../credentials/forgot_password_recovery_question {password, recovery_question.answer}:
    ACTIVE users with a recovery question; a wrong answer is E0000014 and changes nothing."""
    row = find(ctx, user_id)
    if row.status != "ACTIVE":
        raise StatusNotAllowed()
    rq = body.get("recovery_question")
    pw = body.get("password")
    answer = rq.get("answer") if isinstance(rq, dict) else None
    value = pw.get("value") if isinstance(pw, dict) else None
    if value is None:
        raise validation("password", "password: The field cannot be left blank")
    if (
        not row.recovery_answer_hash
        or answer is None
        or answer_hash(ctx.tenant, str(answer)) != row.recovery_answer_hash
    ):
        raise CredentialsUpdateFailed(causes=["The recovery question answer did not match our records."])
    hashed = password_hash(ctx.tenant, check_password(row.profile.get("login", ""), value))
    row = _set(ctx, row, password_hash=hashed, password_changed=ctx.now(), failed_logins=0)
    syslog.emit(
        ctx,
        "user.account.update_password",
        targets=[syslog.user_ref(row)],
        display="Update password for user",
    )
    return _credentials_view(row)


def change_recovery_question(ctx: TwinContext, *, user_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST .../credentials/change_recovery_question {password.value, recovery_question}: the
    current password must check out (E0000014); STAGED, ACTIVE, PASSWORD_EXPIRED and RECOVERY
    users with a password only (E0000038)."""
    row = find(ctx, user_id)
    if row.status not in ("STAGED", "ACTIVE", "PASSWORD_EXPIRED", "RECOVERY") or not row.password_hash:
        raise StatusNotAllowed()
    pw = body.get("password")
    value = pw.get("value") if isinstance(pw, dict) else None
    if not isinstance(value, str) or password_hash(ctx.tenant, value) != row.password_hash:
        raise CredentialsUpdateFailed(causes=["password: The credentials provided were incorrect."])
    if body.get("recovery_question") is None:
        raise validation("recovery_question", "recovery_question: The field cannot be left blank")
    cols = _credentials(ctx, {"recovery_question": body["recovery_question"]}, row.profile.get("login", ""))
    row = _set(ctx, row, **cols)
    return _credentials_view(row)


def clear_sessions(ctx: TwinContext, *, user_id: str, oauth_tokens: bool) -> None:
    """DELETE /api/v1/users/{id}/sessions: every open session of the user ends
    (`user.session.clear`); with `oauthTokens=true` the OAuth tokens issued to them too."""
    row = find(ctx, user_id)
    syslog.emit(ctx, "user.session.clear", targets=[syslog.user_ref(row)], display="Clear user session")
    _close_sessions(ctx, row.id)
    if oauth_tokens:
        tokens = table(models.OAuthToken)
        ctx.conn.execute(
            update(tokens)
            .where(tokens.c.tenant_id == ctx.tenant, tokens.c.user_id == row.id)
            .values(revoked=True)
        )


def reset_factors(ctx: TwinContext, *, user_id: str) -> None:
    """POST .../lifecycle/reset_factors: every MFA enrollment is removed (the status stays);
    E0000038 for DEPROVISIONED users."""
    row = find(ctx, user_id)
    if row.status in ("STAGED", "DEPROVISIONED"):
        raise StatusNotAllowed()
    from twins.okta.service import factors

    factors.reset_all(ctx, row.id)
    _set(ctx, row)
    syslog.emit(
        ctx,
        "user.mfa.factor.reset_all",
        targets=[syslog.user_ref(row)],
        display="Reset all factors for user",
    )


def _credentials_view(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"password": {}, "provider": {"type": row.provider, "name": row.provider}}
    if row.recovery_question:
        out["recovery_question"] = {"question": row.recovery_question}
    return out


def change_password(ctx: TwinContext, *, user_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Verifies `oldPassword` then sets `newPassword`; RECOVERY and PASSWORD_EXPIRED become ACTIVE.
    A wrong old password is E0000014."""
    row = find(ctx, user_id)
    if row.status not in ("STAGED", "ACTIVE", "PASSWORD_EXPIRED", "RECOVERY") or not row.password_hash:
        raise StatusNotAllowed()
    old = (body.get("oldPassword") or {}).get("value") if isinstance(body.get("oldPassword"), dict) else None
    new = (body.get("newPassword") or {}).get("value") if isinstance(body.get("newPassword"), dict) else None
    if old is None or new is None:
        raise validation(
            "oldPassword" if old is None else "newPassword",
            f"{'oldPassword' if old is None else 'newPassword'}: The field cannot be left blank",
        )
    if password_hash(ctx.tenant, str(old)) != row.password_hash:
        raise CredentialsUpdateFailed(causes=["oldPassword: The credentials provided were incorrect."])
    if new == old:
        raise CredentialsUpdateFailed(causes=["password: Password cannot be your current password"])
    try:
        check_password(row.profile.get("login", ""), new)
    except OktaError as err:
        raise CredentialsUpdateFailed(causes=err.causes) from None
    values: dict[str, Any] = {"password_hash": password_hash(ctx.tenant, new), "password_changed": ctx.now()}
    if row.status in ("RECOVERY", "PASSWORD_EXPIRED"):
        values["status"] = "ACTIVE"
        values["recovery_token"] = None
    row = _set(ctx, row, **values)
    syslog.emit(
        ctx,
        "user.account.update_password",
        targets=[syslog.user_ref(row)],
        display="Update password for user",
    )
    if body.get("revokeSessions") is True:
        _close_sessions(ctx, row.id)
    return _credentials_view(row)


# -- listing --------------------------------------------------------------------------------------


def _schema_types(ctx: TwinContext) -> dict[str, str]:
    return {
        name: {"integer": "number"}.get(d.get("type", "string"), d.get("type", "string"))
        for name, d in custom_schema(ctx).items()
        if d.get("type") in ("string", "integer", "number", "boolean")
    }


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (1, "")
    if isinstance(value, bool):
        return (0, str(value))
    if isinstance(value, int | float):
        return (0, f"{value:030.6f}")
    return (0, str(value).lower())


def _date_clause(column: Any, op: str, value: Any) -> Any:
    """A bound every row matching `date op value` meets: the rendered date is the stored one cut
    to milliseconds, so the stored one lies within a millisecond above it."""
    at = parse_iso(str(value))
    if at is None:
        return None
    return {
        "gt": column > at,
        "ge": column >= at,
        "lt": column < at + 0.001,
        "le": column < at + 0.001,
        "eq": and_(column >= at, column < at + 0.001),
    }.get(op)


_DATE_COLUMNS = {
    "created": _USER.c.created,
    "activated": _USER.c.activated,
    "statusChanged": _USER.c.status_changed,
    "lastUpdated": _USER.c.last_updated,
    "passwordChanged": _USER.c.password_changed,
    "lastLogin": _USER.c.last_login,
}


def _string_clause(column: Any, op: str, value: Any) -> Any:
    if not isinstance(value, str):
        return None
    want = value.lower()
    if op == "eq":
        return column == want
    if op == "sw":
        return column.startswith(want, autoescape=True)
    if op == "co":
        return column.contains(want, autoescape=True)
    return None


def _sql_of(node: query.Node, strings: frozenset[str]) -> Any:
    """A SQL condition that every user matching `node` meets, or None where none can be said
    (`not`, `pr`, arrays, numbers). Rows it keeps are still checked by `query.matches`, so it
    only has to be necessary: it narrows the scan, the Python evaluator decides.
    `strings`: the profile attributes that hold plain strings (safe to compare in SQL,
    case-folded like the evaluator does; SQL's lower() folds ASCII)."""
    if isinstance(node, query.BoolOp):
        left, right = _sql_of(node.left, strings), _sql_of(node.right, strings)
        if node.op == "and":
            parts = [c for c in (left, right) if c is not None]
            return and_(*parts) if parts else None
        return or_(left, right) if left is not None and right is not None else None
    if not isinstance(node, query.Compare):
        return None
    path, op, value = node.path, node.op, node.value
    if path == "status":
        return _USER.c.status == str(value).upper() if op == "eq" and isinstance(value, str) else None
    if path == "id":
        return func.lower(_USER.c.id) == value.lower() if op == "eq" and isinstance(value, str) else None
    if path == "type.id":
        return _USER.c.type_id == value if op == "eq" and value == DEFAULT_TYPE else None
    if path in _DATE_COLUMNS:
        return _date_clause(_DATE_COLUMNS[path], op, value)
    if path == "profile.login":
        return _string_clause(_USER.c.login_lower, op, value)
    if path.startswith("profile.") and path[8:] in strings:
        return _string_clause(func.lower(_USER.c.profile[path[8:]].as_string()), op, value)
    return None


def _row_getter(row: Any) -> Callable[[str], Any]:
    """`get(path)` over a stored user, as `query.getter` reads a rendered one (dates as Okta
    renders them), without rendering it."""
    profile = row.profile or {}
    top: dict[str, Any] = {"status": row.status, "id": row.id, "type.id": row.type_id}

    def get(path: str) -> Any:
        if path.startswith("profile."):
            return query.getter(profile)(path[8:])
        if path in _DATE_COLUMNS:
            return iso(getattr(row, _DATE_COLUMNS[path].key))
        return top.get(path)

    return get


def _string_attributes(ctx: TwinContext) -> frozenset[str]:
    custom = {n for n, d in custom_schema(ctx).items() if d.get("type", "string") == "string"}
    return frozenset(BASE_ATTRIBUTES) | frozenset(custom)


def list_users(
    ctx: TwinContext,
    *,
    q: str | None,
    filter_: str | None,
    search: str | None,
    limit: int,
    after: str | None,
    sort_by: str | None,
    sort_order: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """GET /api/v1/users. Without a query, every user but DEPROVISIONED ones, in creation order;
    `q` is a prefix match on firstName, lastName and email; `filter` and `search` are the
    expression languages of `service/query.py` (and can return DEPROVISIONED users); `sortBy`/
    `sortOrder` apply to `search`. Pages follow `after` (E0000029 for a cursor of another query).

    What SQL can decide is pushed down (`_sql_of`: status, id, dates, login and string profile
    attributes with eq/sw/co, and/or); the rest is evaluated on the rows SQL keeps, and only the
    page that is answered is rendered."""
    node: query.Node | None = None
    if search:
        node = query.parse(search, query.typed_profile_fields(query.USER_SEARCH, _schema_types(ctx)))
    elif filter_:
        node = query.parse(filter_, query.USER_FILTER)
    if sort_by is not None and not search:
        raise validation("sortBy", "sortBy: sortBy is only supported with search.")
    order = (sort_order or "asc").lower()
    if order not in ("asc", "desc"):
        raise validation("sortOrder", "sortOrder: The value must be asc or desc.")
    filters = {"q": q, "filter": filter_, "search": search, "sortBy": sort_by, "sortOrder": sort_order}
    key = decode_after(after, filters)
    stmt = select(_USER).where(_USER.c.tenant_id == ctx.tenant)
    vb = ctx.visible_before()
    if vb is not None:
        stmt = stmt.where(_USER.c.written_at <= vb)
    if node is None:
        stmt = stmt.where(_USER.c.status != "DEPROVISIONED")
    else:
        clause = _sql_of(node, _string_attributes(ctx))
        if clause is not None:
            stmt = stmt.where(clause)
    needle = q.lower() if q and node is None else None
    by_seq = sort_by is None  # creation order: the cursor and the stop are pushed into SQL too
    if by_seq and key is not None:
        stmt = stmt.where(_USER.c.seq < int(key[1]) if order == "desc" else _USER.c.seq > int(key[1]))
    stmt = stmt.order_by(_USER.c.seq.desc() if order == "desc" else _USER.c.seq)
    records: list[tuple[list[Any], int, Any]] = []
    for row in ctx.conn.execute(stmt):
        get = _row_getter(row)
        if node is not None and not query.matches(node, get):
            continue
        if needle is not None:
            p = row.profile or {}
            if not any(
                str(p.get(k) or "").lower().startswith(needle) for k in ("firstName", "lastName", "email")
            ):
                continue
        sort_value = _sort_key(get(sort_by)) if sort_by else (0, "")
        records.append((list(sort_value), row.seq, row))
        if by_seq and len(records) > limit:
            break
    if not by_seq:
        records.sort(key=lambda r: (r[0], r[1]), reverse=order == "desc")
        if key is not None:
            kv, kseq = key[0], key[1]
            if order == "desc":
                records = [r for r in records if (r[0], r[1]) < (kv, kseq)]
            else:
                records = [r for r in records if (r[0], r[1]) > (kv, kseq)]
    page = records[:limit]
    next_after = encode_after([page[-1][0], page[-1][1]], filters) if len(records) > limit else None
    return [render(ctx, r[2]) for r in page], next_after


def count(ctx: TwinContext) -> int:
    return int(
        ctx.conn.execute(
            select(func.count()).select_from(_USER).where(_USER.c.tenant_id == ctx.tenant)
        ).scalar()
        or 0
    )


# -- schema ---------------------------------------------------------------------------------------


def get_schema(ctx: TwinContext) -> dict[str, Any]:
    """GET /api/v1/meta/schemas/user/default: base attributes and the `#custom` ones."""
    base_props = {
        name: {
            **{k: v for k, v in d.items() if k != "required"},
            "required": bool(d.get("required")),
            "mutability": "READ_WRITE",
            "scope": "NONE",
            "permissions": [{"principal": "SELF", "action": "READ_WRITE"}],
            "master": {"type": "PROFILE_MASTER"},
        }
        for name, d in BASE_ATTRIBUTES.items()
    }
    custom = custom_schema(ctx)
    return {
        "id": f"{ctx.base_url}/meta/schemas/user/{DEFAULT_TYPE}",
        "$schema": "http://json-schema.org/draft-04/schema#",
        "name": "user",
        "title": "User",
        "description": "Okta user profile template with default permission settings",
        "lastUpdated": iso(ctx.now()),
        "created": iso(ctx.now()),
        "definitions": {
            "custom": {"id": "#custom", "type": "object", "properties": custom, "required": []},
            "base": {
                "id": "#base",
                "type": "object",
                "properties": base_props,
                "required": ["login", "firstName", "lastName", "email"],
            },
        },
        "type": "object",
        "properties": {
            "profile": {"allOf": [{"$ref": "#/definitions/custom"}, {"$ref": "#/definitions/base"}]}
        },
        "_links": {
            "self": href(ctx, "/api/v1/meta/schemas/user/default", method="GET"),
            "type": href(ctx, f"/api/v1/meta/types/user/{DEFAULT_TYPE}"),
        },
    }


def update_schema(ctx: TwinContext, *, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v1/meta/schemas/user/default: add, change or (with a null definition) remove
    custom attributes under `definitions.custom.properties`. Base attributes cannot be redefined."""
    custom = ((body.get("definitions") or {}).get("custom") or {}).get("properties")
    if custom is None:
        return get_schema(ctx)
    if not isinstance(custom, dict):
        raise validation("definitions", "definitions: custom.properties must be an object.")
    for name, definition in custom.items():
        if name in BASE_ATTRIBUTES:
            raise validation(name, f"{name}: A base property cannot be redefined as a custom property.")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
            raise validation("name", f"name: Invalid property name '{name}'.")
        ctx.conn.execute(delete(_SCHEMA).where(_SCHEMA.c.tenant_id == ctx.tenant, _SCHEMA.c.name == name))
        if definition is None:
            continue
        if not isinstance(definition, dict) or definition.get("type") not in _SCHEMA_TYPES:
            raise validation(
                "type", f"{name}: The type must be one of string, boolean, integer, number, array."
            )
        ctx.conn.execute(_SCHEMA.insert().values(tenant_id=ctx.tenant, name=name, definition=definition))
    return get_schema(ctx)
