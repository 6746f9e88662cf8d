"""The Okta operations the spec documents (`spec/operations.json`, see spec/PROVENANCE.md)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

_SPEC = Path(__file__).parent / "spec" / "operations.json"


# Operations of Okta's classic APIs that the OpenAPI specs no longer carry (documented at
# https://developer.okta.com/docs/reference/api/authn/ and .../api/sessions/#create-session-with-session-token).
CLASSIC: dict[str, dict[str, Any]] = {
    "authenticate": {
        "method": "POST",
        "path": "/api/v1/authn",
        "source": "developer.okta.com/docs/reference/api/authn",
        "scopes": [],
    },
    "verifyAuthnFactor": {
        "method": "POST",
        "path": "/api/v1/authn/factors/{factorId}/verify",
        "source": "developer.okta.com/docs/reference/api/authn/#verify-factor",
        "scopes": [],
    },
    "enrollAuthnFactor": {
        "method": "POST",
        "path": "/api/v1/authn/factors",
        "source": "developer.okta.com/docs/reference/api/authn/#enroll-factor",
        "scopes": [],
    },
    "activateAuthnFactor": {
        "method": "POST",
        "path": "/api/v1/authn/factors/{factorId}/lifecycle/activate",
        "source": "developer.okta.com/docs/reference/api/authn/#activate-factor",
        "scopes": [],
    },
    "previousAuthnStep": {
        "method": "POST",
        "path": "/api/v1/authn/previous",
        "source": "developer.okta.com/docs/reference/api/authn/#previous-transaction-state",
        "scopes": [],
    },
    "createSession": {
        "method": "POST",
        "path": "/api/v1/sessions",
        "source": "developer.okta.com/docs/reference/api/sessions",
        "scopes": ["okta.sessions.manage"],
    },
}


@functools.cache
def operations() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads(_SPEC.read_text())
    return {**data, **CLASSIC}


def scopes(operation_id: str) -> list[str]:
    return list(operations().get(operation_id, {}).get("scopes", []))
