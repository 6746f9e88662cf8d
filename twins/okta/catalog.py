"""The Okta operations the spec documents (`spec/operations.json`, see spec/PROVENANCE.md)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

_SPEC = Path(__file__).parent / "spec" / "operations.json"
_OPENAPI = Path(__file__).parent / "spec" / "openapi.json"


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
    "cancelTransaction": {
        "method": "POST",
        "path": "/api/v1/authn/cancel",
        "source": "developer.okta.com/docs/reference/api/authn/#cancel-transaction",
        "scopes": [],
    },
    "changePasswordAuthn": {
        "method": "POST",
        "path": "/api/v1/authn/credentials/change_password",
        "source": "developer.okta.com/docs/reference/api/authn/#change-password",
        "scopes": [],
    },
    "verifyRecoveryToken": {
        "method": "POST",
        "path": "/api/v1/authn/recovery/token",
        "source": "developer.okta.com/docs/reference/api/authn/#verify-recovery-token",
        "scopes": [],
    },
    "answerRecoveryQuestion": {
        "method": "POST",
        "path": "/api/v1/authn/recovery/answer",
        "source": "developer.okta.com/docs/reference/api/authn/#answer-recovery-question",
        "scopes": [],
    },
    "resetPasswordAuthn": {
        "method": "POST",
        "path": "/api/v1/authn/credentials/reset_password",
        "source": "developer.okta.com/docs/reference/api/authn/#reset-password",
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


@functools.cache
def _openapi_document() -> str:
    return _OPENAPI.read_text()


def openapi(server_url: str) -> dict[str, Any]:
    """`GET /openapi.json`: Okta's own OpenAPI description of the operations the twin
    implements (distilled from Okta's specs, spec/PROVENANCE.md), served at the twin's URL."""
    doc: dict[str, Any] = json.loads(_openapi_document())
    doc["servers"] = [{"url": server_url or "/"}]
    return doc
