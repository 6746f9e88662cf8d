"""The org's RS256 signing keys, published as a JWKS (https://developer.okta.com/docs/concepts/key-rotation/).

Keys are made on first use, deterministically: the primes come from a hash stream of (seed,
rotation number), never from OS randomness, so the same seed gives the same keys. Rotation (the
control plane's `POST /_dtu/okta/keys/rotate`) makes a new ACTIVE key; the previous one is
still published (EXPIRED) so tokens it signed keep verifying until they expire.
Divergence: one key set per org, shared by its authorization servers.
"""

from __future__ import annotations

import base64
import hashlib
import math
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select, update

from dtu.context import TwinContext
from dtu.db import table
from twins.okta import models

_KEY = table(models.SigningKey)
_AS = table(models.AuthServer)
_SMALL_PRIMES = [p for p in range(3, 5000) if all(p % d for d in range(2, int(p**0.5) + 1))]
_PRIMORIAL = math.prod(_SMALL_PRIMES)


def _stream(seed: str) -> Any:
    counter = 0
    while True:
        yield hashlib.sha512(f"{seed}:{counter}".encode()).digest()
        counter += 1


def _is_probable_prime(n: int, witnesses: list[int]) -> bool:
    if math.gcd(n, _PRIMORIAL) != 1 or pow(2, n - 1, n) != 1:
        return False
    d, r = n - 1, 0
    while d % 2 == 0:
        d //= 2
        r += 1
    for a in witnesses:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(seed: str, bits: int) -> int:
    stream = _stream(seed)
    witnesses = [int.from_bytes(next(stream)[:8], "big") % 10**9 + 2 for _ in range(12)]
    while True:
        raw = b"".join(next(stream) for _ in range((bits + 511) // 512))
        n = int.from_bytes(raw, "big") >> (len(raw) * 8 - bits)
        n |= (1 << (bits - 1)) | (1 << (bits - 2)) | 1
        while n.bit_length() == bits:
            if (n - 1) % 65537 and _is_probable_prime(n, witnesses):
                return n
            n += 2


@lru_cache(maxsize=16)
def _private_key(seed: str) -> rsa.RSAPrivateKey:
    e = 65537
    p = _prime(seed + ":p", 1024)
    q = _prime(seed + ":q", 1024)
    if p == q:  # pragma: no cover - astronomically unlikely
        q = _prime(seed + ":q2", 1024)
    phi = (p - 1) * (q - 1)
    d = pow(e, -1, phi)
    numbers = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=d % (p - 1),
        dmq1=d % (q - 1),
        iqmp=pow(q, -1, p),
        public_numbers=rsa.RSAPublicNumbers(e, p * q),
    )
    return numbers.private_key()


@lru_cache(maxsize=256)
def _load(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _b64(n: int) -> str:
    return base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()


def rotate(ctx: TwinContext) -> str:
    """Make a new ACTIVE key; the previous ACTIVE one becomes EXPIRED (still published)."""
    n = ctx.ids.next("signing-key")
    kid = ctx.ids.token(
        "kid", length=43, alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
    )
    # The key material depends on (seed, rotation number) only, so it is made once per process
    # (pure-Python prime search costs about a second) and shared by orgs at the same rotation;
    # each org still has its own kids, JWKS and issued-token records.
    key = _private_key(f"okta-signing-key:{ctx.runtime.settings.seed}:{n}")
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    ctx.conn.execute(
        update(_KEY)
        .where(_KEY.c.tenant_id == ctx.tenant, _KEY.c.status == "EXPIRED")
        .values(status="RETIRED")
    )
    ctx.conn.execute(
        update(_KEY).where(_KEY.c.tenant_id == ctx.tenant, _KEY.c.status == "ACTIVE").values(status="EXPIRED")
    )
    ctx.conn.execute(
        _KEY.insert().values(
            tenant_id=ctx.tenant, kid=kid, status="ACTIVE", private_pem=pem, created=ctx.now()
        )
    )
    return kid


def active(ctx: TwinContext) -> tuple[str, rsa.RSAPrivateKey]:
    """The signing key (made on first use)."""
    row = ctx.conn.execute(
        select(_KEY.c.kid, _KEY.c.private_pem).where(
            _KEY.c.tenant_id == ctx.tenant, _KEY.c.status == "ACTIVE"
        )
    ).first()
    if row is None:
        rotate(ctx)
        return active(ctx)
    return row.kid, _load(row.private_pem)


def jwks(ctx: TwinContext) -> dict[str, Any]:
    """The published keys: the ACTIVE one and the one it replaced."""
    active(ctx)
    rows = ctx.conn.execute(
        select(_KEY)
        .where(_KEY.c.tenant_id == ctx.tenant, _KEY.c.status.in_(("ACTIVE", "EXPIRED")))
        .order_by(_KEY.c.created.desc())
    ).all()
    out = []
    for row in rows:
        pub = _load(row.private_pem).public_key().public_numbers()
        out.append(
            {"kty": "RSA", "alg": "RS256", "kid": row.kid, "use": "sig", "e": _b64(pub.e), "n": _b64(pub.n)}
        )
    return {"keys": out}


def public_key(ctx: TwinContext, kid: str) -> rsa.RSAPublicKey | None:
    row = ctx.conn.execute(
        select(_KEY.c.private_pem).where(
            _KEY.c.tenant_id == ctx.tenant, _KEY.c.kid == kid, _KEY.c.status.in_(("ACTIVE", "EXPIRED"))
        )
    ).first()
    return _load(row.private_pem).public_key() if row is not None else None


def rotate_logged(ctx: TwinContext) -> str:
    """The control plane's rotation: a new key, and the rollover event Okta's automatic
    rotation writes for each authorization server (`app.oauth2.key.rollover` for the org server,
    `app.oauth2.as.key.rollover` for custom ones)."""
    from twins.okta.service import syslog

    kid = rotate(ctx)
    servers = ctx.conn.execute(
        select(_AS.c.id, _AS.c.name).where(_AS.c.tenant_id == ctx.tenant).order_by(_AS.c.id)
    ).all()
    for srv in servers:
        syslog.emit(
            ctx,
            "app.oauth2.key.rollover" if srv.id == "org" else "app.oauth2.as.key.rollover",
            targets=[syslog.ref(srv.id, "AuthorizationServer", srv.name, srv.name)],
            display="Key rollover",
            debug={"kid": kid},
        )
    return kid
