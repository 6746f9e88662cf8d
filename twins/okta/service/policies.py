"""Policies and their rules: OKTA_SIGN_ON, MFA_ENROLL and PASSWORD (`/api/v1/policies`).

https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Policy/ and
https://developer.okta.com/docs/concepts/policies/ . Every org has one default (`system`) policy
of each type with a default rule; both stay last in priority and cannot be deleted. For a user,
the first ACTIVE policy (by priority) whose people conditions include them applies, and within
it the first ACTIVE rule that includes them. Authn and the token endpoint ask this module:
whether sign-on is allowed and needs a second factor (`sign_on`), which factors must be
enrolled (`enrollment`), and after how many failed sign-ins the user is locked out (`lockout`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, select, update

from dtu.context import TwinContext
from dtu.db import table
from dtu.sql import Prepared
from twins.okta import constants, models
from twins.okta.errors import Forbidden, OktaError, not_found, validation
from twins.okta.service import factors, syslog
from twins.okta.service.common import href, iso, okta_id, okta_id_at

_POLICY = table(models.Policy)
_RULE = table(models.PolicyRule)
_GROUP = table(models.Group)
_ORG = table(models.Org)

# policy type -> the type of its rules
RULE_TYPES = {"OKTA_SIGN_ON": "SIGN_ON", "MFA_ENROLL": "MFA_ENROLL", "PASSWORD": "PASSWORD"}
# Every policy type Okta knows; the twin runs the three above (others are E0000001).
KNOWN_TYPES = frozenset(
    {
        "ACCESS_POLICY",
        "DEVICE_SIGNAL_COLLECTION",
        "ENTITY_RISK",
        "IDP_DISCOVERY",
        "MFA_ENROLL",
        "OKTA_SIGN_ON",
        "PASSWORD",
        "POST_AUTH_SESSION",
        "PROFILE_ENROLLMENT",
    }
)
ENROLL_STATES = ("REQUIRED", "OPTIONAL", "NOT_ALLOWED")
ENROLL_MODES = ("CHALLENGE", "LOGIN", "NEVER")
# Enrollment keys (classic `factors` and Identity Engine `authenticators`) the twin can enroll:
# all are TOTP (`token:software:totp`) factors of a provider.
ENROLLABLE = {"okta_otp": "OKTA", "okta_verify": "OKTA", "google_otp": "GOOGLE"}
FACTOR_KEYS = frozenset(
    {
        *ENROLLABLE,
        "custom_app",
        "custom_otp",
        "duo",
        "external_idp",
        "fido_webauthn",
        "okta_call",
        "okta_email",
        "okta_password",
        "okta_push",
        "okta_question",
        "okta_sms",
        "onprem_mfa",
        "phone_number",
        "rsa_token",
        "security_question",
        "symantec_vip",
        "webauthn",
        "yubikey_token",
    }
)


# -- defaults -------------------------------------------------------------------------------------


def _default_settings(policy_type: str, lockout: int) -> dict[str, Any]:
    if policy_type == "PASSWORD":
        return {
            "password": {
                "complexity": {
                    "minLength": constants.PASSWORD_MIN_LENGTH,
                    "minLowerCase": 1,
                    "minUpperCase": 1,
                    "minNumber": 1,
                    "minSymbol": 0,
                    "excludeUsername": True,
                    "dictionary": {"common": {"exclude": False}},
                    "excludeAttributes": [],
                },
                "age": {"maxAgeDays": 0, "expireWarnDays": 0, "minAgeMinutes": 0, "historyCount": 0},
                "lockout": {
                    "maxAttempts": lockout,
                    "autoUnlockMinutes": 0,
                    "userLockoutNotificationChannels": [],
                    "showLockoutFailures": False,
                },
            },
            "recovery": {
                "factors": {
                    "recovery_question": {"status": "ACTIVE", "properties": {"complexity": {"minLength": 4}}},
                    "okta_email": {
                        "status": "ACTIVE",
                        "properties": {"recoveryToken": {"tokenLifetimeMinutes": 60}},
                    },
                    "okta_sms": {"status": "INACTIVE"},
                    "okta_call": {"status": "INACTIVE"},
                }
            },
            "delegation": {"options": {"skipUnlock": False}},
        }
    if policy_type == "MFA_ENROLL":
        return {
            "type": "FACTORS",
            "factors": {
                "okta_otp": {"enroll": {"self": "OPTIONAL"}, "consent": {"type": "NONE"}},
                "google_otp": {"enroll": {"self": "OPTIONAL"}, "consent": {"type": "NONE"}},
            },
        }
    return {}


def _default_actions(rule_type: str) -> dict[str, Any]:
    if rule_type == "SIGN_ON":
        return {
            "signon": {
                "access": "ALLOW",
                "requireFactor": False,
                "primaryFactor": "PASSWORD_IDP_ANY_FACTOR",
                "rememberDeviceByDefault": False,
                "session": {
                    "usePersistentCookie": False,
                    "maxSessionIdleMinutes": constants.SESSION_TTL_S // 60,
                    "maxSessionLifetimeMinutes": 0,
                },
            }
        }
    if rule_type == "MFA_ENROLL":
        return {"enroll": {"self": "CHALLENGE"}}
    return {
        "passwordChange": {"access": "ALLOW"},
        "selfServicePasswordReset": {"access": "ALLOW"},
        "selfServiceUnlock": {"access": "DENY"},
    }


def _default_rule_conditions(rule_type: str) -> dict[str, Any]:
    out: dict[str, Any] = {"people": {"users": {"exclude": []}}, "network": {"connection": "ANYWHERE"}}
    if rule_type == "SIGN_ON":
        out["authContext"] = {"authType": "ANY"}
    return out


# What every new org runs (ensure_defaults), built once (dtu/sql.py).
_EVERYONE = Prepared(
    select(_GROUP.c.id).where(_GROUP.c.tenant_id == bindparam("tenant"), _GROUP.c.type == "BUILT_IN")
)
_SYSTEM_POLICY = Prepared(
    select(_POLICY).where(
        _POLICY.c.tenant_id == bindparam("tenant"),
        _POLICY.c.type == bindparam("type"),
        _POLICY.c.system.is_(True),
    )
)
_SET_SETTINGS = Prepared(
    update(_POLICY)
    .where(_POLICY.c.tenant_id == bindparam("k_tenant"), _POLICY.c.id == bindparam("k_id"))
    .values(settings=bindparam("v_settings"))
)
_INSERT_POLICY = Prepared(_POLICY.insert(), columns=[c.name for c in _POLICY.columns])
_INSERT_RULE = Prepared(_RULE.insert(), columns=[c.name for c in _RULE.columns])


def _everyone(ctx: TwinContext) -> list[str]:
    return [r[0] for r in _EVERYONE.all(ctx.conn, {"tenant": ctx.tenant})]


def ensure_defaults(ctx: TwinContext, lockout: int | None = None) -> None:
    """The org's default policy (and default rule) of each type; with `lockout`, the default
    password policy's `lockout.maxAttempts` is set to it (the fixture's `org.lockout_attempts`).
    The ids of the missing ones are reserved at once (`ids.take`: the same ids as one by one)."""
    now = ctx.now()
    missing: list[tuple[str, str]] = []
    for policy_type, rule_type in RULE_TYPES.items():
        row = _SYSTEM_POLICY.first(ctx.conn, {"tenant": ctx.tenant, "type": policy_type})
        if row is None:
            missing.append((policy_type, rule_type))
        elif lockout is not None and policy_type == "PASSWORD":
            settings = dict(row.settings or {})
            password = dict(settings.get("password") or {})
            password["lockout"] = {**(password.get("lockout") or {}), "maxAttempts": lockout}
            settings["password"] = password
            _SET_SETTINGS.execute(ctx.conn, {"k_tenant": ctx.tenant, "k_id": row.id, "v_settings": settings})
    if not missing:
        return
    n = len(missing)
    ids = ctx.ids
    policy, policy_seq = ids.take("policy", n), ids.take("policy-seq", n)
    rule, rule_seq = ids.take("policy-rule", n), ids.take("policy-rule-seq", n)
    everyone = _everyone(ctx)
    for i, (policy_type, rule_type) in enumerate(missing):
        conditions: dict[str, Any] = {"people": {"groups": {"include": list(everyone)}}}
        if policy_type == "PASSWORD":
            conditions["authProvider"] = {"provider": "OKTA"}
        pid = okta_id_at(ctx, "00p", "policy", policy + i)
        _INSERT_POLICY.execute(
            ctx.conn,
            {
                "tenant_id": ctx.tenant,
                "id": pid,
                "type": policy_type,
                "name": "Default Policy",
                "description": "The default policy applies in all situations if no other policy applies.",
                "status": "ACTIVE",
                "priority": 1,
                "system": True,
                "conditions": conditions,
                "settings": _default_settings(
                    policy_type, constants.LOCKOUT_MAX_ATTEMPTS if lockout is None else lockout
                ),
                "created": now,
                "last_updated": now,
                "seq": policy_seq + i,
            },
        )
        _INSERT_RULE.execute(
            ctx.conn,
            {
                "tenant_id": ctx.tenant,
                "id": okta_id_at(ctx, "0pr", "policy-rule", rule + i),
                "policy_id": pid,
                "type": rule_type,
                "name": "Default Rule",
                "status": "ACTIVE",
                "priority": 1,
                "system": True,
                "conditions": _default_rule_conditions(rule_type),
                "actions": _default_actions(rule_type),
                "created": now,
                "last_updated": now,
                "seq": rule_seq + i,
            },
        )


# -- rendering ------------------------------------------------------------------------------------


def _allow(*methods: str) -> dict[str, Any]:
    return {"allow": list(methods)}


def render(ctx: TwinContext, row: Any) -> dict[str, Any]:
    base = f"/api/v1/policies/{row.id}"
    links: dict[str, Any] = {
        "self": href(ctx, base, hints=_allow("GET", "PUT") if row.system else _allow("GET", "PUT", "DELETE")),
        "rules": href(ctx, base + "/rules", hints=_allow("GET", "POST")),
    }
    if not row.system:
        action = "deactivate" if row.status == "ACTIVE" else "activate"
        links[action] = href(ctx, f"{base}/lifecycle/{action}", hints=_allow("POST"))
    out: dict[str, Any] = {
        "id": row.id,
        "type": row.type,
        "status": row.status,
        "name": row.name,
        "description": row.description,
        "priority": row.priority,
        "system": bool(row.system),
        "conditions": dict(row.conditions or {}),
        "created": iso(row.created),
        "lastUpdated": iso(row.last_updated),
        "_links": links,
    }
    if row.type != "OKTA_SIGN_ON":
        out["settings"] = dict(row.settings or {})
    return out


def render_rule(ctx: TwinContext, row: Any) -> dict[str, Any]:
    base = f"/api/v1/policies/{row.policy_id}/rules/{row.id}"
    links: dict[str, Any] = {
        "self": href(ctx, base, hints=_allow("GET", "PUT") if row.system else _allow("GET", "PUT", "DELETE"))
    }
    if not row.system:
        action = "deactivate" if row.status == "ACTIVE" else "activate"
        links[action] = href(ctx, f"{base}/lifecycle/{action}", hints=_allow("POST"))
    return {
        "id": row.id,
        "type": row.type,
        "status": row.status,
        "name": row.name,
        "priority": row.priority,
        "system": bool(row.system),
        "conditions": dict(row.conditions or {}),
        "actions": dict(row.actions or {}),
        "created": iso(row.created),
        "lastUpdated": iso(row.last_updated),
        "_links": links,
    }


def find(ctx: TwinContext, policy_id: str) -> Any:
    row = ctx.conn.execute(
        select(_POLICY).where(_POLICY.c.tenant_id == ctx.tenant, _POLICY.c.id == policy_id)
    ).first()
    if row is None:
        raise not_found(policy_id, "Policy")
    return row


def find_rule(ctx: TwinContext, policy_id: str, rule_id: str) -> Any:
    find(ctx, policy_id)
    row = ctx.conn.execute(
        select(_RULE).where(
            _RULE.c.tenant_id == ctx.tenant, _RULE.c.policy_id == policy_id, _RULE.c.id == rule_id
        )
    ).first()
    if row is None:
        raise not_found(rule_id, "PolicyRule")
    return row


# -- validation -----------------------------------------------------------------------------------


def _policy_ref(row: Any) -> dict[str, Any]:
    return syslog.ref(row.id, "PolicyEntity", row.name, row.name)


def _log_policy(ctx: TwinContext, event: str, row: Any, display: str) -> None:
    """`policy.lifecycle.*`: the policy is the target (its type in debugData)."""
    syslog.emit(ctx, event, targets=[_policy_ref(row)], display=display, debug={"policyType": row.type})


def _log_rule(ctx: TwinContext, event: str, policy: Any, rule: Any, display: str) -> None:
    """`policy.rule.*`: the policy and the rule are the targets."""
    syslog.emit(
        ctx,
        event,
        targets=[_policy_ref(policy), syslog.ref(rule.id, "PolicyRule", rule.name, rule.name)],
        display=display,
        debug={"policyType": policy.type},
    )


def _object(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise validation(name, f"{name}: The field must be a JSON object.")
    return value


def _id_list(ctx: TwinContext, value: Any, name: str, kind: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise validation(name, f"{name}: The field must be an array of ids.")
    if kind == "group":
        known = set(
            ctx.conn.execute(
                select(_GROUP.c.id).where(_GROUP.c.tenant_id == ctx.tenant, _GROUP.c.id.in_(value))
            ).scalars()
        )
        missing = [v for v in value if v not in known]
        if missing:
            raise validation(name, f"{name}: Group '{missing[0]}' does not exist.")
    return list(dict.fromkeys(value))


def _people(ctx: TwinContext, conditions: dict[str, Any], where: str) -> dict[str, Any]:
    """Check `conditions.people` (groups/users include/exclude id lists) and keep it as given."""
    people = _object(conditions.get("people"), f"{where}.people")
    for kind, key in (("group", "groups"), ("user", "users")):
        part = _object(people.get(key), f"{where}.people.{key}")
        for side in ("include", "exclude"):
            if side in part:
                part[side] = _id_list(ctx, part[side], f"{where}.people.{key}.{side}", kind)
        if part:
            people[key] = part
    if people:
        conditions["people"] = people
    return conditions


def _int(value: Any, name: str, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise validation(name, f"{name}: The value must be an integer of at least {minimum}.")
    return value


def _settings(policy_type: str, body: Any, current: dict[str, Any] | None) -> dict[str, Any]:
    """MFA_ENROLL `factors` (classic) or `authenticators` (Identity Engine) with `enroll.self`
    REQUIRED/OPTIONAL/NOT_ALLOWED; PASSWORD settings merged over the defaults (ints checked)."""
    given = _object(body, "settings")
    if policy_type == "OKTA_SIGN_ON":
        return {}
    base = current if current is not None else _default_settings(policy_type, constants.LOCKOUT_MAX_ATTEMPTS)
    if policy_type == "MFA_ENROLL":
        if not given:
            return base
        kind = given.get("type") or ("AUTHENTICATORS" if "authenticators" in given else "FACTORS")
        if kind == "AUTHENTICATORS":
            items = given.get("authenticators")
            if not isinstance(items, list):
                raise validation("settings", "settings.authenticators: The field must be an array.")
            pairs = [
                (a.get("key"), (a.get("enroll") or {}).get("self")) for a in items if isinstance(a, dict)
            ]
            if len(pairs) != len(items):
                raise validation("settings", "settings.authenticators: Each item must be an object.")
        elif kind == "FACTORS":
            table_ = _object(given.get("factors"), "settings.factors")
            pairs = [
                (k, (_object(v, f"settings.factors.{k}").get("enroll") or {}).get("self"))
                for k, v in table_.items()
            ]
        else:
            raise validation("settings", f"settings.type: '{kind}' is not a valid settings type.")
        for key, state in pairs:
            if key not in FACTOR_KEYS:
                raise validation("settings", f"settings: '{key}' is not a valid authenticator key.")
            if state not in ENROLL_STATES:
                raise validation(
                    "settings", f"settings: enroll.self of '{key}' must be one of {', '.join(ENROLL_STATES)}."
                )
        return {**given, "type": kind}
    password = dict(base.get("password") or {})
    for section, fields in (
        ("complexity", ("minLength", "minLowerCase", "minUpperCase", "minNumber", "minSymbol")),
        ("age", ("maxAgeDays", "expireWarnDays", "minAgeMinutes", "historyCount")),
        ("lockout", ("maxAttempts", "autoUnlockMinutes")),
    ):
        update_ = _object(
            _object(given.get("password"), "settings.password").get(section), f"settings.password.{section}"
        )
        for f in fields:
            if f in update_ and update_[f] is not None:
                _int(update_[f], f"settings.password.{section}.{f}", 1 if f == "minLength" else 0)
        password[section] = {**(password.get(section) or {}), **update_}
    out = {**base, **{k: v for k, v in given.items() if k != "password"}, "password": password}
    return out


def _check_name(ctx: TwinContext, name: Any, policy_type: str, exclude: str | None) -> str:
    if not isinstance(name, str) or not name.strip():
        raise validation("name", "name: The field cannot be left blank")
    if len(name) > 255:
        raise validation("name", "name: The field is too long")
    for row in ctx.conn.execute(
        select(_POLICY.c.id, _POLICY.c.name).where(
            _POLICY.c.tenant_id == ctx.tenant, _POLICY.c.type == policy_type
        )
    ):
        if row.id != exclude and row.name.lower() == name.strip().lower():
            raise validation("name", "name: A policy with the same name already exists.")
    return name.strip()


def _renumber(ctx: TwinContext, rows: list[Any], table_: Any, moved: str | None, wanted: int | None) -> None:
    """Priorities 1..n in order, the system one last; `moved` goes to `wanted` (clamped)."""
    ordered = sorted((r for r in rows if not r.system and r.id != moved), key=lambda r: (r.priority, r.seq))
    ids = [r.id for r in ordered]
    if moved is not None:
        pos = len(ids) if wanted is None else max(0, min(wanted - 1, len(ids)))
        ids.insert(pos, moved)
    ids += [r.id for r in rows if r.system]
    for i, rid in enumerate(ids, start=1):
        ctx.conn.execute(
            update(table_).where(table_.c.tenant_id == ctx.tenant, table_.c.id == rid).values(priority=i)
        )


def _policies_of(ctx: TwinContext, policy_type: str) -> list[Any]:
    return list(
        ctx.conn.execute(
            select(_POLICY).where(_POLICY.c.tenant_id == ctx.tenant, _POLICY.c.type == policy_type)
        ).all()
    )


def _rules_of(ctx: TwinContext, policy_id: str) -> list[Any]:
    return list(
        ctx.conn.execute(
            select(_RULE).where(_RULE.c.tenant_id == ctx.tenant, _RULE.c.policy_id == policy_id)
        ).all()
    )


def _priority(value: Any) -> int | None:
    return None if value is None else _int(value, "priority", 0) or 1


# -- policies -------------------------------------------------------------------------------------


def list_policies(
    ctx: TwinContext, *, policy_type: str | None, status: str | None, q: str | None
) -> list[dict[str, Any]]:
    """GET /api/v1/policies?type=...: `type` is required; `status` and `q` (name prefix) refine."""
    if not policy_type:
        raise validation("type", "type: The field cannot be left blank")
    if policy_type not in KNOWN_TYPES:
        raise validation("type", f"type: '{policy_type}' is not a valid policy type.")
    if status is not None and status not in ("ACTIVE", "INACTIVE"):
        raise validation("status", "status: The value must be ACTIVE or INACTIVE.")
    rows = sorted(_policies_of(ctx, policy_type), key=lambda r: (r.priority, r.seq))
    return [
        render(ctx, r)
        for r in rows
        if (status is None or r.status == status) and (not q or r.name.lower().startswith(q.lower()))
    ]


def get_policy(ctx: TwinContext, *, policy_id: str, expand: str | None = None) -> dict[str, Any]:
    row = find(ctx, policy_id)
    out = render(ctx, row)
    if expand == "rules":
        out["_embedded"] = {
            "rules": [render_rule(ctx, r) for r in sorted(_rules_of(ctx, row.id), key=lambda r: r.priority)]
        }
    return out


def create_policy(ctx: TwinContext, *, body: dict[str, Any], activate: bool) -> dict[str, Any]:
    """POST /api/v1/policies: placed before the default policy unless `priority` says where."""
    policy_type = body.get("type")
    if not isinstance(policy_type, str) or not policy_type:
        raise validation("type", "type: The field cannot be left blank")
    if policy_type not in KNOWN_TYPES:
        raise validation("type", f"type: '{policy_type}' is not a valid policy type.")
    if policy_type not in RULE_TYPES:
        raise validation("type", f"type: Policies of type {policy_type} are not supported by this org.")
    name = _check_name(ctx, body.get("name"), policy_type, None)
    conditions = _people(ctx, dict(_object(body.get("conditions"), "conditions")), "conditions")
    if policy_type == "PASSWORD":
        conditions.setdefault("authProvider", {"provider": "OKTA"})
    settings = _settings(policy_type, body.get("settings"), None)
    desc = body.get("description")
    if desc is not None and not isinstance(desc, str):
        raise validation("description", "description: The field must be a string")
    now = ctx.now()
    pid = okta_id(ctx, "00p", "policy")
    existing = _policies_of(ctx, policy_type)
    ctx.conn.execute(
        _POLICY.insert().values(
            tenant_id=ctx.tenant,
            id=pid,
            type=policy_type,
            name=name,
            description=desc,
            status="ACTIVE" if activate else "INACTIVE",
            priority=0,
            system=False,
            conditions=conditions,
            settings=settings,
            created=now,
            last_updated=now,
            seq=ctx.ids.next("policy-seq"),
        )
    )
    _renumber(ctx, existing, _POLICY, pid, _priority(body.get("priority")))
    row = find(ctx, pid)
    _log_policy(ctx, "policy.lifecycle.create", row, "Create policy")
    if activate:
        _log_policy(ctx, "policy.lifecycle.activate", row, "Activate policy")
    return render(ctx, row)


def replace_policy(ctx: TwinContext, *, policy_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """PUT /api/v1/policies/{id}: name, description, priority, conditions, settings (not type)."""
    row = find(ctx, policy_id)
    if body.get("type") not in (None, row.type):
        raise validation("type", "type: The policy type cannot be changed.")
    name = _check_name(ctx, body.get("name"), row.type, row.id)
    conditions = _people(ctx, dict(_object(body.get("conditions"), "conditions")), "conditions")
    if not conditions:
        conditions = dict(row.conditions or {})
    if row.type == "PASSWORD":
        conditions.setdefault("authProvider", {"provider": "OKTA"})
    settings = _settings(row.type, body.get("settings"), dict(row.settings or {}))
    ctx.conn.execute(
        update(_POLICY)
        .where(_POLICY.c.tenant_id == ctx.tenant, _POLICY.c.id == row.id)
        .values(
            name=name,
            description=body.get("description")
            if isinstance(body.get("description"), str)
            else row.description,
            conditions=conditions,
            settings=settings,
            last_updated=ctx.now(),
        )
    )
    if not row.system and body.get("priority") is not None:
        _renumber(ctx, _policies_of(ctx, row.type), _POLICY, row.id, _priority(body.get("priority")))
    row = find(ctx, row.id)
    _log_policy(ctx, "policy.lifecycle.update", row, "Update policy")
    return render(ctx, row)


def delete_policy(ctx: TwinContext, *, policy_id: str) -> None:
    """DELETE /api/v1/policies/{id}: its rules go with it; the default policy stays (E0000006)."""
    row = find(ctx, policy_id)
    if row.system:
        raise Forbidden(causes=["The default policy cannot be deleted."])
    ctx.conn.execute(delete(_RULE).where(_RULE.c.tenant_id == ctx.tenant, _RULE.c.policy_id == row.id))
    ctx.conn.execute(delete(_POLICY).where(_POLICY.c.tenant_id == ctx.tenant, _POLICY.c.id == row.id))
    _renumber(ctx, _policies_of(ctx, row.type), _POLICY, None, None)
    _log_policy(ctx, "policy.lifecycle.delete", row, "Delete policy")


def set_status(ctx: TwinContext, *, policy_id: str, active: bool) -> None:
    """POST /api/v1/policies/{id}/lifecycle/activate|deactivate (the default one stays ACTIVE)."""
    row = find(ctx, policy_id)
    if row.system and not active:
        raise Forbidden(causes=["The default policy cannot be deactivated."])
    ctx.conn.execute(
        update(_POLICY)
        .where(_POLICY.c.tenant_id == ctx.tenant, _POLICY.c.id == row.id)
        .values(status="ACTIVE" if active else "INACTIVE", last_updated=ctx.now())
    )
    if active:
        _log_policy(ctx, "policy.lifecycle.activate", row, "Activate policy")
    else:
        _log_policy(ctx, "policy.lifecycle.deactivate", row, "Deactivate policy")


# -- rules ----------------------------------------------------------------------------------------


def _actions(rule_type: str, body: Any, current: dict[str, Any] | None) -> dict[str, Any]:
    given = _object(body, "actions")
    base = current if current is not None else _default_actions(rule_type)
    if rule_type == "SIGN_ON":
        signon = {**base.get("signon", {}), **_object(given.get("signon"), "actions.signon")}
        if signon.get("access") not in ("ALLOW", "DENY"):
            raise validation("actions", "actions.signon.access: The value must be ALLOW or DENY.")
        if not isinstance(signon.get("requireFactor", False), bool):
            raise validation("actions", "actions.signon.requireFactor: The value must be a boolean.")
        if signon.get("requireFactor"):
            mode = signon.setdefault("factorPromptMode", "ALWAYS")
            if mode not in ("ALWAYS", "DEVICE", "SESSION"):
                raise validation(
                    "actions", "actions.signon.factorPromptMode: The value must be ALWAYS, DEVICE or SESSION."
                )
            signon.setdefault("factorLifetime", 15)
        return {**base, **given, "signon": signon}
    if rule_type == "MFA_ENROLL":
        enroll = {**base.get("enroll", {}), **_object(given.get("enroll"), "actions.enroll")}
        if enroll.get("self") not in ENROLL_MODES:
            raise validation(
                "actions", f"actions.enroll.self: The value must be one of {', '.join(ENROLL_MODES)}."
            )
        return {**base, **given, "enroll": enroll}
    out = {**base, **given}
    for key in ("passwordChange", "selfServicePasswordReset", "selfServiceUnlock"):
        access = _object(out.get(key), f"actions.{key}").get("access")
        if access not in ("ALLOW", "DENY"):
            raise validation("actions", f"actions.{key}.access: The value must be ALLOW or DENY.")
    return out


def list_rules(ctx: TwinContext, *, policy_id: str) -> list[dict[str, Any]]:
    row = find(ctx, policy_id)
    return [render_rule(ctx, r) for r in sorted(_rules_of(ctx, row.id), key=lambda r: (r.priority, r.seq))]


def get_rule(ctx: TwinContext, *, policy_id: str, rule_id: str) -> dict[str, Any]:
    return render_rule(ctx, find_rule(ctx, policy_id, rule_id))


def _rule_name(ctx: TwinContext, policy_id: str, name: Any, exclude: str | None) -> str:
    if not isinstance(name, str) or not name.strip():
        raise validation("name", "name: The field cannot be left blank")
    for row in _rules_of(ctx, policy_id):
        if row.id != exclude and row.name.lower() == name.strip().lower():
            raise validation("name", "name: A rule with the same name already exists in this policy.")
    return name.strip()


def create_rule(ctx: TwinContext, *, policy_id: str, body: dict[str, Any], activate: bool) -> dict[str, Any]:
    """POST /api/v1/policies/{id}/rules: a rule of the policy's rule type, before the default rule."""
    policy = find(ctx, policy_id)
    rule_type = RULE_TYPES[policy.type]
    if body.get("type") not in (None, rule_type):
        raise validation("type", f"type: Rules of a {policy.type} policy have type {rule_type}.")
    name = _rule_name(ctx, policy.id, body.get("name"), None)
    conditions = _people(ctx, dict(_object(body.get("conditions"), "conditions")), "conditions")
    if not conditions:
        conditions = _default_rule_conditions(rule_type)
    actions = _actions(rule_type, body.get("actions"), None)
    now = ctx.now()
    rid = okta_id(ctx, "0pr", "policy-rule")
    existing = _rules_of(ctx, policy.id)
    ctx.conn.execute(
        _RULE.insert().values(
            tenant_id=ctx.tenant,
            id=rid,
            policy_id=policy.id,
            type=rule_type,
            name=name,
            status="ACTIVE" if activate else "INACTIVE",
            priority=0,
            system=False,
            conditions=conditions,
            actions=actions,
            created=now,
            last_updated=now,
            seq=ctx.ids.next("policy-rule-seq"),
        )
    )
    _renumber(ctx, existing, _RULE, rid, _priority(body.get("priority")))
    rule = find_rule(ctx, policy.id, rid)
    _log_rule(ctx, "policy.rule.add", policy, rule, "Add policy rule")
    if activate:
        _log_rule(ctx, "policy.rule.activate", policy, rule, "Activate policy rule")
    return render_rule(ctx, rule)


def replace_rule(ctx: TwinContext, *, policy_id: str, rule_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """PUT /api/v1/policies/{id}/rules/{ruleId}: name, priority, conditions, actions."""
    row = find_rule(ctx, policy_id, rule_id)
    if body.get("type") not in (None, row.type):
        raise validation("type", "type: The rule type cannot be changed.")
    name = _rule_name(ctx, policy_id, body.get("name"), row.id)
    conditions = _people(ctx, dict(_object(body.get("conditions"), "conditions")), "conditions")
    actions = _actions(row.type, body.get("actions"), dict(row.actions or {}))
    ctx.conn.execute(
        update(_RULE)
        .where(_RULE.c.tenant_id == ctx.tenant, _RULE.c.id == row.id)
        .values(
            name=name,
            conditions=conditions or dict(row.conditions or {}),
            actions=actions,
            last_updated=ctx.now(),
        )
    )
    if not row.system and body.get("priority") is not None:
        _renumber(ctx, _rules_of(ctx, policy_id), _RULE, row.id, _priority(body.get("priority")))
    rule = find_rule(ctx, policy_id, rule_id)
    _log_rule(ctx, "policy.rule.update", find(ctx, policy_id), rule, "Update policy rule")
    return render_rule(ctx, rule)


def delete_rule(ctx: TwinContext, *, policy_id: str, rule_id: str) -> None:
    row = find_rule(ctx, policy_id, rule_id)
    if row.system:
        raise Forbidden(causes=["The default rule cannot be deleted."])
    ctx.conn.execute(delete(_RULE).where(_RULE.c.tenant_id == ctx.tenant, _RULE.c.id == row.id))
    _renumber(ctx, _rules_of(ctx, policy_id), _RULE, None, None)
    _log_rule(ctx, "policy.rule.delete", find(ctx, policy_id), row, "Delete policy rule")


def set_rule_status(ctx: TwinContext, *, policy_id: str, rule_id: str, active: bool) -> None:
    row = find_rule(ctx, policy_id, rule_id)
    if row.system and not active:
        raise Forbidden(causes=["The default rule cannot be deactivated."])
    ctx.conn.execute(
        update(_RULE)
        .where(_RULE.c.tenant_id == ctx.tenant, _RULE.c.id == row.id)
        .values(status="ACTIVE" if active else "INACTIVE", last_updated=ctx.now())
    )
    policy = find(ctx, policy_id)
    if active:
        _log_rule(ctx, "policy.rule.activate", policy, row, "Activate policy rule")
    else:
        _log_rule(ctx, "policy.rule.deactivate", policy, row, "Deactivate policy rule")


# -- evaluation -----------------------------------------------------------------------------------


def _includes(conditions: dict[str, Any], user_id: str, group_ids: set[str]) -> bool:
    people = (conditions or {}).get("people") or {}
    groups = people.get("groups") or {}
    users = people.get("users") or {}
    if user_id in (users.get("exclude") or []) or group_ids & set(groups.get("exclude") or []):
        return False
    include_users, include_groups = users.get("include") or [], groups.get("include") or []
    if include_users or include_groups:
        return user_id in include_users or bool(group_ids & set(include_groups))
    return True


def effective(ctx: TwinContext, policy_type: str, user_id: str) -> tuple[Any, Any] | None:
    """(policy, rule) that applies to the user: the first ACTIVE policy by priority that includes
    them with an ACTIVE rule that includes them (a policy with no such rule is passed over)."""
    from twins.okta.service import groups

    group_ids = set(groups.user_group_ids(ctx, user_id))
    policies = sorted(
        (p for p in _policies_of(ctx, policy_type) if p.status == "ACTIVE"), key=lambda p: (p.priority, p.seq)
    )
    for policy in policies:
        if not _includes(policy.conditions, user_id, group_ids):
            continue
        rules = sorted(
            (r for r in _rules_of(ctx, policy.id) if r.status == "ACTIVE"), key=lambda r: (r.priority, r.seq)
        )
        for rule in rules:
            if _includes(rule.conditions, user_id, group_ids):
                return policy, rule
    return None


def lockout(ctx: TwinContext, user_id: str) -> int:
    """`settings.password.lockout.maxAttempts` of the user's password policy (0: never locked)."""
    found = effective(ctx, "PASSWORD", user_id)
    if found is None:
        org = ctx.conn.execute(select(_ORG.c.lockout_attempts).where(_ORG.c.tenant_id == ctx.tenant)).scalar()
        return int(org if org is not None else constants.LOCKOUT_MAX_ATTEMPTS)
    value = (((found[0].settings or {}).get("password") or {}).get("lockout") or {}).get("maxAttempts")
    return int(value or 0)


def complexity(ctx: TwinContext, user_id: str) -> dict[str, Any]:
    """The user's password policy `complexity` (the default policy's when none applies)."""
    found = effective(ctx, "PASSWORD", user_id)
    settings = (found[0].settings if found is not None else None) or _default_settings("PASSWORD", 0)
    return dict(((settings.get("password") or {}).get("complexity")) or {})


def sign_on(ctx: TwinContext, user_id: str) -> dict[str, Any]:
    """`actions.signon` of the user's sign-on rule (ALLOW without a factor when none applies)."""
    found = effective(ctx, "OKTA_SIGN_ON", user_id)
    if found is None:
        return dict(_default_actions("SIGN_ON")["signon"])
    return dict((found[1].actions or {}).get("signon") or {})


def enrollment(ctx: TwinContext, user_id: str) -> tuple[str, list[tuple[str, str, str]]]:
    """(enroll.self of the rule, [(key, provider, REQUIRED|OPTIONAL)]) of the user's MFA
    enrollment policy, keeping only the factors the twin can enroll (TOTP)."""
    found = effective(ctx, "MFA_ENROLL", user_id)
    if found is None:
        return "NEVER", []
    policy, rule = found
    settings = policy.settings or {}
    if settings.get("type") == "AUTHENTICATORS":
        pairs = [
            (a.get("key"), (a.get("enroll") or {}).get("self")) for a in settings.get("authenticators") or []
        ]
    else:
        pairs = [(k, (v.get("enroll") or {}).get("self")) for k, v in (settings.get("factors") or {}).items()]
    out: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for key, state in pairs:
        provider = ENROLLABLE.get(str(key))
        if provider is None or state not in ("REQUIRED", "OPTIONAL") or provider in seen:
            continue
        seen.add(provider)
        out.append((str(key), provider, str(state)))
    return str((rule.actions or {}).get("enroll", {}).get("self", "CHALLENGE")), out


def next_step(ctx: TwinContext, user: Any, *, prompt_enrolled: bool = True) -> tuple[str, list[Any]]:
    """What follows a right password: ("SUCCESS", []), ("MFA_REQUIRED", active factors) or
    ("MFA_ENROLL", [(key, provider, requirement, enrolled)]). A DENY sign-on rule is E0000004.
    `prompt_enrolled`: a user with an ACTIVE factor is asked for it even when the sign-on rule
    does not require one (the twin's hosted sign-in and Authn API; see docs divergences)."""
    from twins.okta.errors import AuthenticationFailed

    signon = sign_on(ctx, user.id)
    if signon.get("access") == "DENY":
        raise AuthenticationFailed(causes=["Sign-on policy denied access."])
    active = factors.active_factors(ctx, user.id)
    required = bool(signon.get("requireFactor"))
    mode, wanted = enrollment(ctx, user.id)
    enrolled = {f.provider for f in active if f.factor_type == factors.TOTP}
    listing = [(key, provider, state, provider in enrolled) for key, provider, state in wanted]
    missing = [x for x in listing if x[2] == "REQUIRED" and not x[3]]
    prompting = required or (prompt_enrolled and bool(active))
    if missing and (mode == "LOGIN" or (mode == "CHALLENGE" and prompting)):
        return "MFA_ENROLL", listing
    if prompting and active:
        return "MFA_REQUIRED", active
    if required:
        if not listing:
            raise AuthenticationFailed(causes=["No factor is available to enroll."])
        return "MFA_ENROLL", listing
    return "SUCCESS", []


__all__ = ["OktaError", "effective", "ensure_defaults", "lockout", "next_step"]
