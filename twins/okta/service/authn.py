"""Primary authentication (`/api/v1/authn`) and sessions (`/api/v1/sessions`).

https://developer.okta.com/docs/reference/api/authn/ : a right password answers SUCCESS with a
one-time `sessionToken` (5 minutes); a wrong one is 401 E0000004 and counts toward the password
policy's lockout (10 attempts by default), after which the user is LOCKED_OUT; users whose
password expired get PASSWORD_EXPIRED with a `stateToken`.
https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Session/ : a session
is made from a session token, read, refreshed and closed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from dtu.context import TwinContext
from dtu.db import table
from twins.okta import constants, models
from twins.okta.errors import (
    AuthenticationFailed,
    CredentialsUpdateFailed,
    InvalidSession,
    InvalidToken,
    OktaError,
    PasswordPolicyFailed,
    RecoveryAnswerMismatch,
    RecoveryTokenInvalid,
    kept,
    not_found,
    validation,
)
from twins.okta.service import factors, policies, syslog, users
from twins.okta.service.common import BASE62, answer_hash, href, iso, password_hash

_USER = table(models.User)
_ORG = table(models.Org)
_TX = table(models.Transaction)
_SESSION = table(models.Session)


def _user_by_login(ctx: TwinContext, username: str) -> Any:
    row = ctx.conn.execute(
        select(_USER).where(_USER.c.tenant_id == ctx.tenant, _USER.c.login_lower == username.lower())
    ).first()
    if row is None and "@" not in username:
        rows = ctx.conn.execute(
            select(_USER).where(
                _USER.c.tenant_id == ctx.tenant, _USER.c.login_lower.like(username.lower() + "@%")
            )
        ).all()
        row = rows[0] if len(rows) == 1 else None
    return row


def check_credentials(ctx: TwinContext, username: str, password: str) -> tuple[str, Any]:
    """(status, user row): SUCCESS, LOCKED_OUT, PASSWORD_EXPIRED, or raise E0000004. Wrong
    passwords count toward lockout."""
    user = _user_by_login(ctx, username)
    if (
        user is None
        or user.status in ("STAGED", "PROVISIONED", "SUSPENDED", "DEPROVISIONED", "RECOVERY")
        or not user.password_hash
    ):
        syslog.emit(
            ctx,
            "user.session.start",
            targets=[],
            display="User login to Okta",
            result="FAILURE",
            reason="VERIFICATION_ERROR",
            actor=syslog.ref("unknown", "User", username, "unknown"),
        )
        raise kept(AuthenticationFailed())
    if user.status == "LOCKED_OUT":
        return "LOCKED_OUT", user
    if password_hash(ctx.tenant, password) != user.password_hash:
        limit = policies.lockout(ctx, user.id)  # the password policy's lockout.maxAttempts; 0: never
        failed = user.failed_logins + 1
        locks = limit > 0 and failed >= limit
        values: dict[str, Any] = {"failed_logins": failed}
        if locks:
            values.update(status="LOCKED_OUT", status_changed=ctx.now(), last_updated=ctx.now())
        ctx.conn.execute(
            update(_USER).where(_USER.c.tenant_id == ctx.tenant, _USER.c.id == user.id).values(**values)
        )
        syslog.emit(
            ctx,
            "user.session.start",
            targets=[],
            display="User login to Okta",
            result="FAILURE",
            reason="INVALID_CREDENTIALS",
            actor=syslog.user_ref(user),
        )
        if locks:
            syslog.emit(
                ctx,
                "user.account.lock",
                targets=[syslog.user_ref(user)],
                display="Max sign in attempts exceeded",
                actor=syslog.user_ref(user),
            )
        raise kept(AuthenticationFailed())
    ctx.conn.execute(
        update(_USER).where(_USER.c.tenant_id == ctx.tenant, _USER.c.id == user.id).values(failed_logins=0)
    )
    if user.status == "PASSWORD_EXPIRED":
        return "PASSWORD_EXPIRED", user
    return "SUCCESS", user


def _embedded_user(user: Any) -> dict[str, Any]:
    p = user.profile or {}
    return {
        "id": user.id,
        "passwordChanged": iso(user.password_changed),
        "profile": {
            "login": p.get("login"),
            "firstName": p.get("firstName"),
            "lastName": p.get("lastName"),
            "locale": p.get("locale", "en"),
            "timeZone": p.get("timezone", "America/Los_Angeles"),
        },
    }


def _one_time(
    ctx: TwinContext, kind: str, user_id: str, ttl: float, data: dict[str, Any] | None = None
) -> str:
    token = ctx.ids.token(f"tx-{kind}", length=31 if kind == "session" else 40, alphabet=BASE62)
    ctx.conn.execute(
        _TX.insert().values(
            tenant_id=ctx.tenant,
            token=token,
            kind=kind,
            user_id=user_id,
            expires_at=ctx.now() + ttl,
            used=False,
            data=data or {},
        )
    )
    return token


def _policy_embed(ctx: TwinContext, user_id: str) -> dict[str, Any]:
    """`_embedded.policy` of PASSWORD_EXPIRED and PASSWORD_RESET: the password policy's rules."""
    rules = policies.complexity(ctx, user_id)
    return {
        "complexity": {
            k: rules.get(k)
            for k in (
                "minLength",
                "minLowerCase",
                "minUpperCase",
                "minNumber",
                "minSymbol",
                "excludeUsername",
            )
        },
        "age": {"minAgeMinutes": 0, "historyCount": 0},
    }


def _password_reset(ctx: TwinContext, user: Any, state: str) -> dict[str, Any]:
    """PASSWORD_RESET: the user proved who they are (activation or recovery token, recovery
    answer) and must now choose a password at `/api/v1/authn/credentials/reset_password`."""
    return {
        "stateToken": state,
        "expiresAt": iso(ctx.now() + constants.STATE_TOKEN_TTL_S),
        "status": "PASSWORD_RESET",
        "recoveryType": "PASSWORD",
        "_embedded": {"user": _embedded_user(user), "policy": _policy_embed(ctx, user.id)},
        "_links": {
            "next": {
                "name": "resetPassword",
                "href": f"{ctx.base_url}/api/v1/authn/credentials/reset_password",
                "hints": {"allow": ["POST"]},
            },
            "cancel": _links_cancel(ctx),
        },
    }


def tenant_of_user_token(conn: Any, token: str) -> str | None:
    """The org whose user holds this activation or recovery token (the Authn API is public)."""
    tenant: str | None = conn.execute(
        select(_USER.c.tenant_id).where(
            (_USER.c.activation_token == token) | (_USER.c.recovery_token == token)
        )
    ).scalar()
    return tenant


def _activation_authn(ctx: TwinContext, token: Any) -> dict[str, Any]:
    """POST /api/v1/authn {"token": <activationToken>}: a PROVISIONED user's one-time
    activation token (from activate/reactivate with sendEmail=false) answers PASSWORD_RESET;
    the token is spent. Unknown or spent tokens are 401 E0000011.
    https://developer.okta.com/docs/reference/api/authn/#primary-authentication-with-activation-token"""
    user = (
        ctx.conn.execute(
            select(_USER).where(_USER.c.tenant_id == ctx.tenant, _USER.c.activation_token == token)
        ).first()
        if isinstance(token, str) and token
        else None
    )
    if user is None or user.status != "PROVISIONED":
        raise InvalidToken()
    ctx.conn.execute(
        update(_USER)
        .where(_USER.c.tenant_id == ctx.tenant, _USER.c.id == user.id)
        .values(activation_token=None)
    )
    state = _one_time(ctx, "state", user.id, constants.STATE_TOKEN_TTL_S, {"step": "password_reset"})
    return _password_reset(ctx, user, state)


def verify_recovery_token(ctx: TwinContext, *, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v1/authn/recovery/token {recoveryToken}: the one-time token of a reset link
    (reset_password, forgot_password). RECOVERY with the user's recovery question when they
    have one (answer it at /recovery/answer), else PASSWORD_RESET. A spent or unknown token is
    403 E0000105. https://developer.okta.com/docs/reference/api/authn/#verify-recovery-token"""
    token = body.get("recoveryToken")
    user = (
        ctx.conn.execute(
            select(_USER).where(_USER.c.tenant_id == ctx.tenant, _USER.c.recovery_token == token)
        ).first()
        if isinstance(token, str) and token
        else None
    )
    if user is None or user.status not in ("ACTIVE", "RECOVERY", "PASSWORD_EXPIRED", "LOCKED_OUT"):
        raise RecoveryTokenInvalid()
    ctx.conn.execute(
        update(_USER)
        .where(_USER.c.tenant_id == ctx.tenant, _USER.c.id == user.id)
        .values(recovery_token=None)
    )
    if not user.recovery_question:
        state = _one_time(ctx, "state", user.id, constants.STATE_TOKEN_TTL_S, {"step": "password_reset"})
        return _password_reset(ctx, user, state)
    state = _one_time(ctx, "state", user.id, constants.STATE_TOKEN_TTL_S, {"step": "recovery"})
    embedded = _embedded_user(user)
    embedded["recovery_question"] = {"question": user.recovery_question}
    return {
        "stateToken": state,
        "expiresAt": iso(ctx.now() + constants.STATE_TOKEN_TTL_S),
        "status": "RECOVERY",
        "recoveryType": "PASSWORD",
        "_embedded": {"user": embedded},
        "_links": {
            "next": {
                "name": "answer",
                "href": f"{ctx.base_url}/api/v1/authn/recovery/answer",
                "hints": {"allow": ["POST"]},
            },
            "cancel": _links_cancel(ctx),
        },
    }


def answer_recovery_question(ctx: TwinContext, *, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v1/authn/recovery/answer {stateToken, answer}: PASSWORD_RESET, or 403 E0000087
    for a wrong answer (the transaction stays open)."""
    tx = _state(ctx, body.get("stateToken"), step="recovery")
    user = _user_row(ctx, tx.user_id)
    answer = body.get("answer")
    if not isinstance(answer, str) or not answer:
        raise validation("answer", "answer: The field cannot be left blank")
    if answer_hash(ctx.tenant, answer) != user.recovery_answer_hash:
        raise RecoveryAnswerMismatch()
    _set_step(ctx, tx.token, {**(tx.data or {}), "step": "password_reset"})
    return _password_reset(ctx, user, tx.token)


def reset_password(ctx: TwinContext, *, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v1/authn/credentials/reset_password {stateToken, newPassword}: the password the
    policy accepts becomes the user's (403 E0000080 otherwise, the transaction stays open); a
    PROVISIONED user is now ACTIVE (activation done), a RECOVERY one ACTIVE again. Then SUCCESS
    with a sessionToken (or the MFA step the policies ask for).
    https://developer.okta.com/docs/reference/api/authn/#reset-password"""
    tx = _state(ctx, body.get("stateToken"), step="password_reset")
    new = body.get("newPassword")
    if not isinstance(new, str) or not new:
        raise validation("newPassword", "newPassword: The field cannot be left blank")
    user = _user_row(ctx, tx.user_id)
    if user.status in ("SUSPENDED", "DEPROVISIONED", "STAGED"):
        raise InvalidToken()
    if user.password_hash and password_hash(ctx.tenant, new) == user.password_hash:
        raise PasswordPolicyFailed(causes=["password: Password cannot be your current password"])
    try:
        users.check_password((user.profile or {}).get("login", ""), new)
    except OktaError as err:
        raise PasswordPolicyFailed(causes=err.causes) from None
    now = ctx.now()
    values: dict[str, Any] = {
        "password_hash": password_hash(ctx.tenant, new),
        "password_changed": now,
        "status": "ACTIVE",
        "failed_logins": 0,
        "recovery_token": None,
        "activation_token": None,
        "last_updated": now,
        "written_at": now,
    }
    if user.status != "ACTIVE":
        values["status_changed"] = now
    if user.activated is None:
        values["activated"] = now
    ctx.conn.execute(
        update(_USER).where(_USER.c.tenant_id == ctx.tenant, _USER.c.id == user.id).values(**values)
    )
    _spend(ctx, tx.token)
    user = _user_row(ctx, user.id)
    syslog.emit(
        ctx,
        "user.account.update_password",
        targets=[syslog.user_ref(user)],
        display="Update password for user",
        actor=syslog.user_ref(user),
    )
    return _signed_in(ctx, user)


def _signed_in(ctx: TwinContext, user: Any) -> dict[str, Any]:
    """The end of a transaction whose password step is done: the MFA step the policies ask for,
    or SUCCESS with a one-time sessionToken."""
    step, items = policies.next_step(ctx, user)
    if step == "MFA_REQUIRED":
        return _mfa_required(ctx, user, items)
    if step == "MFA_ENROLL":
        return _mfa_enroll(ctx, user, items, start_mfa(ctx, user.id, "mfa_enroll"))
    syslog.emit(
        ctx, "user.session.start", targets=[], display="User login to Okta", actor=syslog.user_ref(user)
    )
    return {
        "expiresAt": iso(ctx.now() + constants.SESSION_TOKEN_TTL_S),
        "status": "SUCCESS",
        "sessionToken": _one_time(ctx, "session", user.id, constants.SESSION_TOKEN_TTL_S),
        "_embedded": {"user": _embedded_user(user)},
    }


def primary_authn(ctx: TwinContext, *, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v1/authn: username and password, or an activation `token`."""
    if "token" in body and "username" not in body:
        return _activation_authn(ctx, body.get("token"))
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not username:
        raise validation("username", "username: The field cannot be left blank")
    if not isinstance(password, str):
        raise validation("password", "password: The field cannot be left blank")
    status, user = check_credentials(ctx, username, password)
    now = ctx.now()
    out: dict[str, Any] = {"status": status, "_embedded": {"user": _embedded_user(user)}}
    if status == "SUCCESS":
        step, items = policies.next_step(ctx, user)
        if step == "MFA_REQUIRED":
            return _mfa_required(ctx, user, items)
        if step == "MFA_ENROLL":
            return _mfa_enroll(ctx, user, items, start_mfa(ctx, user.id, "mfa_enroll"))
    if status == "SUCCESS":
        out["expiresAt"] = iso(now + constants.SESSION_TOKEN_TTL_S)
        out["sessionToken"] = _one_time(ctx, "session", user.id, constants.SESSION_TOKEN_TTL_S)
        syslog.emit(
            ctx, "user.session.start", targets=[], display="User login to Okta", actor=syslog.user_ref(user)
        )
    elif status == "PASSWORD_EXPIRED":
        out["expiresAt"] = iso(now + constants.STATE_TOKEN_TTL_S)
        out["stateToken"] = _one_time(
            ctx, "state", user.id, constants.STATE_TOKEN_TTL_S, {"step": "password_expired"}
        )
        out["_embedded"]["policy"] = _policy_embed(ctx, user.id)
        out["_links"] = {
            "next": {
                "name": "changePassword",
                "href": f"{ctx.base_url}/api/v1/authn/credentials/change_password",
                "hints": {"allow": ["POST"]},
            },
            "cancel": {"href": f"{ctx.base_url}/api/v1/authn/cancel", "hints": {"allow": ["POST"]}},
        }
    else:
        out = {
            "status": "LOCKED_OUT",
            "_links": {
                "next": {
                    "name": "unlock",
                    "href": f"{ctx.base_url}/api/v1/authn/recovery/unlock",
                    "hints": {"allow": ["POST"]},
                }
            },
        }
    return out


def start_mfa(ctx: TwinContext, user_id: str, step: str = "mfa") -> str:
    """A state token for the second factor (the password was right): `mfa` to verify one,
    `mfa_enroll` to enroll one first."""
    return _one_time(ctx, "state", user_id, constants.STATE_TOKEN_TTL_S, {"step": step})


def _links_cancel(ctx: TwinContext) -> dict[str, Any]:
    return {"href": f"{ctx.base_url}/api/v1/authn/cancel", "hints": {"allow": ["POST"]}}


def _mfa_enroll(ctx: TwinContext, user: Any, listing: list[Any], state: str) -> dict[str, Any]:
    """MFA_ENROLL: the password was right, and a policy wants a factor the user has not set up
    (`_embedded.factors`: what the MFA enrollment policy offers, `enrollment` REQUIRED or OPTIONAL).
    https://developer.okta.com/docs/reference/api/authn/#response-example-for-factor-enroll"""
    enroll = {"href": f"{ctx.base_url}/api/v1/authn/factors", "hints": {"allow": ["POST"]}}
    out: dict[str, Any] = {
        "stateToken": state,
        "expiresAt": iso(ctx.now() + constants.STATE_TOKEN_TTL_S),
        "status": "MFA_ENROLL",
        "_embedded": {
            "user": _embedded_user(user),
            "factors": [
                {
                    "factorType": factors.TOTP,
                    "provider": provider,
                    "vendorName": provider,
                    "status": "ACTIVE" if done else "NOT_SETUP",
                    "enrollment": requirement,
                    "_links": {"enroll": enroll},
                }
                for _key, provider, requirement, done in listing
            ],
        },
        "_links": {"cancel": _links_cancel(ctx)},
    }
    return out


def _set_step(ctx: TwinContext, token: str, data: dict[str, Any]) -> None:
    ctx.conn.execute(update(_TX).where(_TX.c.tenant_id == ctx.tenant, _TX.c.token == token).values(data=data))


def _user_row(ctx: TwinContext, user_id: str) -> Any:
    return ctx.conn.execute(select(_USER).where(_USER.c.tenant_id == ctx.tenant, _USER.c.id == user_id)).one()


def enroll_factor(ctx: TwinContext, *, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v1/authn/factors {stateToken, factorType, provider}: a PENDING_ACTIVATION TOTP
    factor (only what the MFA enrollment policy offers) and MFA_ENROLL_ACTIVATE with its secret.
    https://developer.okta.com/docs/reference/api/authn/#enroll-factor"""
    tx = _state(ctx, body.get("stateToken"), step="mfa_enroll")
    user = _user_row(ctx, tx.user_id)
    provider = body.get("provider", "OKTA")
    _mode, wanted = policies.enrollment(ctx, user.id)
    if body.get("factorType") == factors.TOTP and provider not in {p for _k, p, _r in wanted}:
        raise validation("factorType", "factorType: The factor type is not enabled for this org")
    factor = factors.enroll(
        ctx,
        user_id=user.id,
        body={"factorType": body.get("factorType"), "provider": provider},
        activate=False,
    )
    _set_step(ctx, tx.token, {**(tx.data or {}), "step": "mfa_enroll_activate", "factor": factor["id"]})
    return _enroll_activate(ctx, user, tx.token, factor)


def _enroll_activate(ctx: TwinContext, user: Any, state: str, factor: dict[str, Any]) -> dict[str, Any]:
    base = f"{ctx.base_url}/api/v1/authn"
    return {
        "stateToken": state,
        "expiresAt": iso(ctx.now() + constants.STATE_TOKEN_TTL_S),
        "status": "MFA_ENROLL_ACTIVATE",
        "_embedded": {
            "user": _embedded_user(user),
            "factor": {
                k: factor[k]
                for k in ("id", "factorType", "provider", "vendorName", "profile", "_embedded")
                if k in factor
            },
        },
        "_links": {
            "next": {
                "name": "activate",
                "href": f"{base}/factors/{factor['id']}/lifecycle/activate",
                "hints": {"allow": ["POST"]},
            },
            "prev": {"href": f"{base}/previous", "hints": {"allow": ["POST"]}},
            "cancel": _links_cancel(ctx),
        },
    }


def activate_factor(ctx: TwinContext, *, factor_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v1/authn/factors/{factorId}/lifecycle/activate {stateToken, passCode}: a right
    TOTP code activates the factor; then SUCCESS (with a sessionToken whose sessions carry
    `mfa`), or MFA_ENROLL again while a required factor is still missing. A wrong code is 403
    E0000068 and the transaction stays open."""
    tx = _state(ctx, body.get("stateToken"), step="mfa_enroll_activate")
    if (tx.data or {}).get("factor") != factor_id:
        raise not_found(factor_id, "UserFactor")
    user = _user_row(ctx, tx.user_id)
    factors.activate(ctx, user_id=user.id, factor_id=factor_id, body={"passCode": body.get("passCode")})
    step, items = policies.next_step(ctx, user)
    if step == "MFA_ENROLL" and any(req == "REQUIRED" and not done for _k, _p, req, done in items):
        _set_step(ctx, tx.token, {"step": "mfa_enroll"})
        return _mfa_enroll(ctx, user, items, tx.token)
    _spend(ctx, tx.token)
    syslog.emit(
        ctx, "user.session.start", targets=[], display="User login to Okta", actor=syslog.user_ref(user)
    )
    return {
        "expiresAt": iso(ctx.now() + constants.SESSION_TOKEN_TTL_S),
        "status": "SUCCESS",
        "sessionToken": _one_time(
            ctx, "session", user.id, constants.SESSION_TOKEN_TTL_S, {"amr": ["pwd", "otp", "mfa"]}
        ),
        "_embedded": {"user": _embedded_user(user)},
    }


def previous(ctx: TwinContext, *, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v1/authn/previous {stateToken}: from MFA_ENROLL_ACTIVATE back to MFA_ENROLL
    (the pending factor is dropped)."""
    tx = _state(ctx, body.get("stateToken"), step="mfa_enroll_activate")
    user = _user_row(ctx, tx.user_id)
    pending = (tx.data or {}).get("factor")
    if pending:
        try:
            row = factors.find(ctx, user.id, pending)
        except OktaError:
            row = None
        if row is not None and row.status == "PENDING_ACTIVATION":
            factors.unenroll(ctx, user_id=user.id, factor_id=pending)
    _set_step(ctx, tx.token, {"step": "mfa_enroll"})
    _step, items = policies.next_step(ctx, user)
    _mode, wanted = policies.enrollment(ctx, user.id)
    listing = items if _step == "MFA_ENROLL" else [(k, p, r, False) for k, p, r in wanted]
    return _mfa_enroll(ctx, user, listing, tx.token)


def _mfa_required(ctx: TwinContext, user: Any, mfa: list[Any]) -> dict[str, Any]:
    """MFA_REQUIRED: the password was right, an enrolled factor must be verified next."""
    now = ctx.now()
    state = start_mfa(ctx, user.id)
    login = (user.profile or {}).get("login")
    return {
        "stateToken": state,
        "expiresAt": iso(now + constants.STATE_TOKEN_TTL_S),
        "status": "MFA_REQUIRED",
        "_embedded": {
            "user": _embedded_user(user),
            "factors": [
                {
                    "id": f.id,
                    "factorType": f.factor_type,
                    "provider": f.provider,
                    "vendorName": f.provider,
                    "profile": {"credentialId": login},
                    "_links": {
                        "verify": {
                            "href": f"{ctx.base_url}/api/v1/authn/factors/{f.id}/verify",
                            "hints": {"allow": ["POST"]},
                        }
                    },
                }
                for f in mfa
            ],
            "policy": {
                "allowRememberDevice": False,
                "rememberDeviceLifetimeInMinutes": 0,
                "rememberDeviceByDefault": False,
                "factorsPolicyInfo": {},
            },
        },
        "_links": {
            "cancel": {"href": f"{ctx.base_url}/api/v1/authn/cancel", "hints": {"allow": ["POST"]}},
        },
    }


def tenant_of_state_token(conn: Any, token: str) -> str | None:
    tenant: str | None = conn.execute(
        select(_TX.c.tenant_id).where(_TX.c.token == token, _TX.c.kind == "state")
    ).scalar()
    return tenant


def _state(ctx: TwinContext, token: Any, step: str | None = "mfa") -> Any:
    """A live state token at `step` (any step when None); E0000011 otherwise, as the Authn API
    answers for spent, cancelled, expired or unknown state tokens."""
    row = (
        ctx.conn.execute(
            select(_TX).where(_TX.c.tenant_id == ctx.tenant, _TX.c.token == token, _TX.c.kind == "state")
        ).first()
        if isinstance(token, str) and token
        else None
    )
    if row is None or row.used or row.expires_at <= ctx.now():
        raise InvalidToken()
    if step is not None and (row.data or {}).get("step") != step:
        raise InvalidToken()
    return row


def _spend(ctx: TwinContext, token: str) -> None:
    ctx.conn.execute(update(_TX).where(_TX.c.tenant_id == ctx.tenant, _TX.c.token == token).values(used=True))


def check_second_factor(ctx: TwinContext, *, state_token: Any, factor_id: str | None, passcode: Any) -> Any:
    """Verify a passcode against the state token's user (the first active factor when
    `factor_id` is None) and spend the state token; the user row. A wrong passcode is
    E0000068 and leaves the state token good, as Okta does."""
    tx = _state(ctx, state_token)
    if factor_id is None:
        mfa = factors.active_factors(ctx, tx.user_id)
        if not mfa:
            raise InvalidToken()
        factor = mfa[0]
    else:
        factor = factors.find(ctx, tx.user_id, factor_id)
    if factor.status != "ACTIVE":
        raise not_found(factor.id, "UserFactor")
    user = ctx.conn.execute(
        select(_USER).where(_USER.c.tenant_id == ctx.tenant, _USER.c.id == tx.user_id)
    ).first()
    try:
        factors.check_passcode(ctx, factor, passcode)
    except OktaError as err:
        syslog.emit(
            ctx,
            "user.authentication.auth_via_mfa",
            targets=[syslog.user_ref(user)],
            display="Authentication of user via MFA",
            result="FAILURE",
            reason="INVALID_CREDENTIALS",
            actor=syslog.user_ref(user),
        )
        raise kept(err) from None
    _spend(ctx, tx.token)
    syslog.emit(
        ctx,
        "user.authentication.auth_via_mfa",
        targets=[syslog.user_ref(user)],
        display="Authentication of user via MFA",
        actor=syslog.user_ref(user),
    )
    syslog.emit(
        ctx, "user.session.start", targets=[], display="User login to Okta", actor=syslog.user_ref(user)
    )
    return user


def verify_factor(ctx: TwinContext, *, factor_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v1/authn/factors/{factorId}/verify {stateToken, passCode}: SUCCESS with a
    sessionToken, or 403 E0000068 for a wrong passcode (the state token stays good)."""
    user = check_second_factor(
        ctx, state_token=body.get("stateToken"), factor_id=factor_id, passcode=body.get("passCode")
    )
    now = ctx.now()
    return {
        "expiresAt": iso(now + constants.SESSION_TOKEN_TTL_S),
        "status": "SUCCESS",
        "sessionToken": _one_time(
            ctx, "session", user.id, constants.SESSION_TOKEN_TTL_S, {"amr": ["pwd", "otp", "mfa"]}
        ),
        "_embedded": {"user": _embedded_user(user)},
    }


def cancel(ctx: TwinContext, *, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v1/authn/cancel {stateToken}: the transaction ends, its state token is spent
    (later use is E0000011); the answer is `{"status": "UNAUTHENTICATED"}`.
    https://developer.okta.com/docs/reference/api/authn/#cancel-transaction"""
    tx = _state(ctx, body.get("stateToken"), step=None)
    _spend(ctx, tx.token)
    out: dict[str, Any] = {"status": "UNAUTHENTICATED"}
    relay = (tx.data or {}).get("relayState")
    if relay:
        out["relayState"] = relay
    return out


def change_expired_password(ctx: TwinContext, *, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v1/authn/credentials/change_password {stateToken, oldPassword, newPassword}
    for a PASSWORD_EXPIRED transaction: a wrong old password is 403 E0000014, a password the
    policy refuses 403 E0000080 (the state token stays good either way); on success the user is
    ACTIVE again and the transaction goes on (MFA_REQUIRED with an active factor, else SUCCESS).
    https://developer.okta.com/docs/reference/api/authn/#change-password"""
    tx = _state(ctx, body.get("stateToken"), step="password_expired")
    old, new = body.get("oldPassword"), body.get("newPassword")
    for name, value in (("oldPassword", old), ("newPassword", new)):
        if not isinstance(value, str) or not value:
            raise validation(name, f"{name}: The field cannot be left blank")
    user = ctx.conn.execute(
        select(_USER).where(_USER.c.tenant_id == ctx.tenant, _USER.c.id == tx.user_id)
    ).first()
    if user is None or user.status != "PASSWORD_EXPIRED":
        raise InvalidToken()
    if password_hash(ctx.tenant, str(old)) != user.password_hash:
        raise CredentialsUpdateFailed(causes=["oldPassword: The credentials provided were incorrect."])
    login = (user.profile or {}).get("login", "")
    if new == old:
        raise PasswordPolicyFailed(causes=["password: Password cannot be your current password"])
    try:
        users.check_password(login, new)
    except OktaError as err:
        raise PasswordPolicyFailed(causes=err.causes) from None
    now = ctx.now()
    ctx.conn.execute(
        update(_USER)
        .where(_USER.c.tenant_id == ctx.tenant, _USER.c.id == user.id)
        .values(
            password_hash=password_hash(ctx.tenant, str(new)),
            password_changed=now,
            status="ACTIVE",
            status_changed=now,
            last_updated=now,
            written_at=now,
        )
    )
    _spend(ctx, tx.token)
    user = ctx.conn.execute(select(_USER).where(_USER.c.tenant_id == ctx.tenant, _USER.c.id == user.id)).one()
    syslog.emit(
        ctx,
        "user.account.update_password",
        targets=[syslog.user_ref(user)],
        display="Update password for user",
        actor=syslog.user_ref(user),
    )
    return _signed_in(ctx, user)


def redeem_session_token(ctx: TwinContext, token: str) -> Any:
    """A session token is good once, for 5 minutes."""
    row = ctx.conn.execute(
        select(_TX).where(_TX.c.tenant_id == ctx.tenant, _TX.c.token == token, _TX.c.kind == "session")
    ).first()
    if row is None or row.used or row.expires_at <= ctx.now():
        raise validation("sessionToken", "sessionToken: The session token is invalid")
    ctx.conn.execute(update(_TX).where(_TX.c.tenant_id == ctx.tenant, _TX.c.token == token).values(used=True))
    return row


def open_session(ctx: TwinContext, user_id: str, amr: list[str] | None = None) -> str:
    sid = "102" + ctx.ids.token("session", length=22, alphabet=BASE62)
    now = ctx.now()
    ctx.conn.execute(
        _SESSION.insert().values(
            tenant_id=ctx.tenant,
            id=sid,
            user_id=user_id,
            created=now,
            expires_at=now + constants.SESSION_TTL_S,
            last_password_verification=now,
            last_factor_verification=now if amr and "mfa" in amr else None,
            amr=list(amr or ["pwd"]),
            status="ACTIVE",
        )
    )
    ctx.conn.execute(
        update(_USER).where(_USER.c.tenant_id == ctx.tenant, _USER.c.id == user_id).values(last_login=now)
    )
    return sid


def render_session(ctx: TwinContext, row: Any) -> dict[str, Any]:
    login = (
        ctx.conn.execute(
            select(_USER.c.profile).where(_USER.c.tenant_id == ctx.tenant, _USER.c.id == row.user_id)
        ).scalar()
        or {}
    )
    return {
        "id": row.id,
        "userId": row.user_id,
        "login": login.get("login"),
        "createdAt": iso(row.created),
        "expiresAt": iso(row.expires_at),
        "status": row.status,
        "lastPasswordVerification": iso(row.last_password_verification),
        "lastFactorVerification": iso(row.last_factor_verification),
        "amr": list(row.amr or []),
        "idp": {
            "id": ctx.conn.execute(select(_ORG.c.id).where(_ORG.c.tenant_id == ctx.tenant)).scalar(),
            "type": "OKTA",
        },
        "mfaActive": "mfa" in (row.amr or []),
        "_links": {
            "self": href(ctx, f"/api/v1/sessions/{row.id}", hints={"allow": ["GET", "DELETE"]}),
            "refresh": href(ctx, f"/api/v1/sessions/{row.id}/lifecycle/refresh", hints={"allow": ["POST"]}),
            "user": href(ctx, f"/api/v1/users/{row.user_id}", hints={"allow": ["GET"]}),
        },
    }


def find_session(ctx: TwinContext, session_id: str, *, active: bool = True) -> Any:
    row = ctx.conn.execute(
        select(_SESSION).where(_SESSION.c.tenant_id == ctx.tenant, _SESSION.c.id == session_id)
    ).first()
    if row is None:
        raise not_found(session_id, "Session")
    if active and (row.status != "ACTIVE" or row.expires_at <= ctx.now()):
        raise not_found(session_id, "Session")
    return row


def create_session(ctx: TwinContext, *, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v1/sessions {sessionToken}."""
    token = body.get("sessionToken")
    if not isinstance(token, str) or not token:
        raise validation("sessionToken", "sessionToken: The field cannot be left blank")
    tx = redeem_session_token(ctx, token)
    sid = open_session(ctx, tx.user_id, (tx.data or {}).get("amr"))
    return render_session(ctx, find_session(ctx, sid))


def get_session(ctx: TwinContext, *, session_id: str) -> dict[str, Any]:
    return render_session(ctx, find_session(ctx, session_id))


def refresh_session(ctx: TwinContext, *, session_id: str) -> dict[str, Any]:
    row = find_session(ctx, session_id)
    ctx.conn.execute(
        update(_SESSION)
        .where(_SESSION.c.tenant_id == ctx.tenant, _SESSION.c.id == row.id)
        .values(expires_at=ctx.now() + constants.SESSION_TTL_S)
    )
    return render_session(ctx, find_session(ctx, session_id))


def _end(ctx: TwinContext, row: Any) -> None:
    """Close one session, with the System Log's `user.session.end`."""
    ctx.conn.execute(
        update(_SESSION)
        .where(_SESSION.c.tenant_id == ctx.tenant, _SESSION.c.id == row.id)
        .values(status="CLOSED")
    )
    user = ctx.conn.execute(
        select(_USER.c.id, _USER.c.profile).where(_USER.c.tenant_id == ctx.tenant, _USER.c.id == row.user_id)
    ).first()
    if user is not None:
        syslog.emit(
            ctx,
            "user.session.end",
            targets=[syslog.user_ref(user)],
            display="User logout from Okta",
            debug={"sessionId": row.id},
        )


def close_session(ctx: TwinContext, *, session_id: str) -> None:
    """DELETE /api/v1/sessions/{id} (and the OIDC logout): E0000007 for a closed or unknown one."""
    _end(ctx, find_session(ctx, session_id))


def close_user_sessions(ctx: TwinContext, user_id: str) -> None:
    """Every open session of a user ends (`revokeSessions`, suspension, deactivation)."""
    rows = ctx.conn.execute(
        select(_SESSION).where(
            _SESSION.c.tenant_id == ctx.tenant, _SESSION.c.user_id == user_id, _SESSION.c.status == "ACTIVE"
        )
    ).all()
    for row in rows:
        _end(ctx, row)


def browser_session(ctx: TwinContext, sid: str | None) -> Any | None:
    """The session behind a `sid` cookie, if it is still good."""
    if not sid:
        return None
    try:
        row = find_session(ctx, sid)
    except Exception:
        return None
    status = ctx.conn.execute(
        select(_USER.c.status).where(_USER.c.tenant_id == ctx.tenant, _USER.c.id == row.user_id)
    ).scalar()
    return row if status in ("ACTIVE", "PASSWORD_EXPIRED") else None


__all__ = ["InvalidSession", "browser_session", "check_credentials", "primary_authn"]
