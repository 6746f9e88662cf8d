"""MFA factors: TOTP enrolment, activation, verification (`/api/v1/users/{id}/factors`).

https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserFactor/ . A TOTP
factor (`token:software:totp`, provider OKTA or GOOGLE) is enrolled PENDING_ACTIVATION with a
base32 shared secret, and becomes ACTIVE when the first passcode checks out. Passcodes are real
RFC 6238 codes (HMAC-SHA1, 6 digits, 30 s steps, one step of clock drift either way) computed
on the twin clock; a code is good once (Okta refuses reuse). Wrong codes are 403 E0000068.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from typing import Any

from sqlalchemy import delete, select, update

from dtu.context import TwinContext
from dtu.db import table
from twins.okta import models
from twins.okta.errors import InvalidPasscode, OktaError, not_found, validation
from twins.okta.service import syslog
from twins.okta.service.common import href, iso, okta_id

_FACTOR = table(models.Factor)
_USER = table(models.User)
TOTP = "token:software:totp"
PROVIDERS = {"OKTA": "ost", "GOOGLE": "uft"}
TIME_STEP = 30
DIGITS = 6
# Okta's factor types; only TOTP is enrollable in the twin.
KNOWN_TYPES = frozenset(
    {
        "call",
        "email",
        "push",
        "question",
        "sms",
        "token",
        "token:hardware",
        "token:hotp",
        "token:software:totp",
        "u2f",
        "web",
        "webauthn",
        "signed_nonce",
    }
)
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def totp(secret_b32: str, at: float, *, step: int = TIME_STEP, digits: int = DIGITS) -> str:
    """RFC 6238 TOTP (HMAC-SHA1) of a base32 secret at a Unix time."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    return _hotp(key, int(at // step), digits)


def _hotp(key: bytes, counter: int, digits: int = DIGITS) -> str:
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return str(code).zfill(digits)


def check_passcode(ctx: TwinContext, factor: Any, passcode: Any) -> None:
    """Accept the current step or one either side; a step already used is refused (E0000068)."""
    if not isinstance(passcode, str) or not passcode:
        raise validation("passCode", "passCode: The field cannot be left blank")
    key = base64.b32decode(factor.secret + "=" * (-len(factor.secret) % 8))
    now = int(ctx.now() // TIME_STEP)
    for counter in (now, now - 1, now + 1):
        if counter > factor.last_counter and hmac.compare_digest(_hotp(key, counter), passcode.strip()):
            ctx.conn.execute(
                update(_FACTOR)
                .where(_FACTOR.c.tenant_id == ctx.tenant, _FACTOR.c.id == factor.id)
                .values(last_counter=counter, last_updated=ctx.now())
            )
            return
    raise InvalidPasscode(causes=["Your passcode doesn't match our records. Please try again."])


def _user(ctx: TwinContext, user_id: str) -> Any:
    from twins.okta.service import users

    return users.find(ctx, user_id)


def render(ctx: TwinContext, row: Any, login: str | None, *, with_secret: bool = False) -> dict[str, Any]:
    base = f"/api/v1/users/{row.user_id}/factors/{row.id}"
    links: dict[str, Any] = {
        "self": href(ctx, base, hints={"allow": ["GET", "DELETE"]}),
        "user": href(ctx, f"/api/v1/users/{row.user_id}", hints={"allow": ["GET"]}),
    }
    if row.status == "PENDING_ACTIVATION":
        links["activate"] = href(ctx, base + "/lifecycle/activate", hints={"allow": ["POST"]})
    else:
        links["verify"] = href(ctx, base + "/verify", hints={"allow": ["POST"]})
    out: dict[str, Any] = {
        "id": row.id,
        "factorType": row.factor_type,
        "provider": row.provider,
        "vendorName": row.provider,
        "status": row.status,
        "created": iso(row.created),
        "lastUpdated": iso(row.last_updated),
        "profile": {"credentialId": login},
        "_links": links,
    }
    if with_secret:
        issuer = "DTU Org"
        uri = f"otpauth://totp/{issuer}:{login}?secret={row.secret}&issuer={issuer.replace(' ', '%20')}"
        out["_embedded"] = {
            "activation": {
                "timeStep": TIME_STEP,
                "sharedSecret": row.secret,
                "encoding": "base32",
                "keyLength": len(row.secret),
                "_links": {"qrcode": {"href": uri, "type": "text/plain"}},
            }
        }
    return out


def find(ctx: TwinContext, user_id: str, factor_id: str) -> Any:
    row = ctx.conn.execute(
        select(_FACTOR).where(
            _FACTOR.c.tenant_id == ctx.tenant, _FACTOR.c.user_id == user_id, _FACTOR.c.id == factor_id
        )
    ).first()
    if row is None:
        raise not_found(factor_id, "UserFactor")
    return row


def active_factors(ctx: TwinContext, user_id: str) -> list[Any]:
    return list(
        ctx.conn.execute(
            select(_FACTOR)
            .where(
                _FACTOR.c.tenant_id == ctx.tenant, _FACTOR.c.user_id == user_id, _FACTOR.c.status == "ACTIVE"
            )
            .order_by(_FACTOR.c.created, _FACTOR.c.id)
        ).all()
    )


def enroll(ctx: TwinContext, *, user_id: str, body: dict[str, Any], activate: bool) -> dict[str, Any]:
    """POST /api/v1/users/{userId}/factors: TOTP only; the answer carries the shared secret."""
    user = _user(ctx, user_id)
    ftype, provider = body.get("factorType"), body.get("provider", "OKTA")
    if not isinstance(ftype, str) or not ftype:
        raise validation("factorType", "factorType: The field cannot be left blank")
    if ftype not in KNOWN_TYPES:
        raise validation("factorType", f"factorType: '{ftype}' is not a valid factor type")
    if ftype != TOTP or provider not in PROVIDERS:
        raise validation("factorType", "factorType: The factor type is not enabled for this org")
    existing = ctx.conn.execute(
        select(_FACTOR).where(
            _FACTOR.c.tenant_id == ctx.tenant,
            _FACTOR.c.user_id == user.id,
            _FACTOR.c.factor_type == ftype,
            _FACTOR.c.provider == provider,
        )
    ).first()
    if existing is not None and existing.status == "ACTIVE":
        raise OktaError(
            "Api validation failed: factorEnrollRequest", causes=["A factor of this type is already set up."]
        )
    if existing is not None:
        ctx.conn.execute(
            delete(_FACTOR).where(_FACTOR.c.tenant_id == ctx.tenant, _FACTOR.c.id == existing.id)
        )
    secret = ctx.ids.token("totp-secret", length=16, alphabet=_B32)
    now = ctx.now()
    fid = okta_id(ctx, PROVIDERS[provider], "factor")
    ctx.conn.execute(
        _FACTOR.insert().values(
            tenant_id=ctx.tenant,
            id=fid,
            user_id=user.id,
            factor_type=ftype,
            provider=provider,
            status="ACTIVE" if activate else "PENDING_ACTIVATION",
            secret=secret,
            last_counter=-1,
            created=now,
            last_updated=now,
        )
    )
    syslog.emit(
        ctx,
        "user.mfa.factor.activate" if activate else "system.mfa.factor.enroll",
        targets=[syslog.user_ref(user)],
        display="Enroll factor",
    )
    login = (user.profile or {}).get("login")
    return render(ctx, find(ctx, user.id, fid), login, with_secret=True)


def activate(ctx: TwinContext, *, user_id: str, factor_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST .../factors/{factorId}/lifecycle/activate {passCode}."""
    user = _user(ctx, user_id)
    row = find(ctx, user.id, factor_id)
    if row.status != "PENDING_ACTIVATION":
        raise OktaError("Api validation failed: factor", causes=["Factor is already activated."])
    check_passcode(ctx, row, body.get("passCode"))
    ctx.conn.execute(
        update(_FACTOR)
        .where(_FACTOR.c.tenant_id == ctx.tenant, _FACTOR.c.id == row.id)
        .values(status="ACTIVE", last_updated=ctx.now())
    )
    syslog.emit(ctx, "user.mfa.factor.activate", targets=[syslog.user_ref(user)], display="Activate factor")
    return render(ctx, find(ctx, user.id, factor_id), (user.profile or {}).get("login"))


def verify(ctx: TwinContext, *, user_id: str, factor_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST .../factors/{factorId}/verify {passCode}: `{"factorResult": "SUCCESS"}` or E0000068."""
    user = _user(ctx, user_id)
    row = find(ctx, user.id, factor_id)
    if row.status != "ACTIVE":
        raise OktaError("Api validation failed: factor", causes=["Factor is not active."])
    check_passcode(ctx, row, body.get("passCode"))
    return {"factorResult": "SUCCESS"}


def list_factors(ctx: TwinContext, *, user_id: str) -> list[dict[str, Any]]:
    user = _user(ctx, user_id)
    rows = ctx.conn.execute(
        select(_FACTOR)
        .where(_FACTOR.c.tenant_id == ctx.tenant, _FACTOR.c.user_id == user.id)
        .order_by(_FACTOR.c.created, _FACTOR.c.id)
    ).all()
    login = (user.profile or {}).get("login")
    return [render(ctx, r, login) for r in rows]


def get_factor(ctx: TwinContext, *, user_id: str, factor_id: str) -> dict[str, Any]:
    user = _user(ctx, user_id)
    return render(ctx, find(ctx, user.id, factor_id), (user.profile or {}).get("login"))


def unenroll(ctx: TwinContext, *, user_id: str, factor_id: str) -> None:
    """DELETE .../factors/{factorId}."""
    user = _user(ctx, user_id)
    row = find(ctx, user.id, factor_id)
    ctx.conn.execute(delete(_FACTOR).where(_FACTOR.c.tenant_id == ctx.tenant, _FACTOR.c.id == row.id))
    syslog.emit(
        ctx, "user.mfa.factor.deactivate", targets=[syslog.user_ref(user)], display="Reset factor for user"
    )


def reset_all(ctx: TwinContext, user_id: str) -> None:
    """Every factor of the user goes (`/lifecycle/reset_factors`)."""
    ctx.conn.execute(delete(_FACTOR).where(_FACTOR.c.tenant_id == ctx.tenant, _FACTOR.c.user_id == user_id))
