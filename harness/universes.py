"""Starting state: named universes (fixture files) and seeds completed with what a person
writing YAML should not have to invent (Slack user ids, user tokens)."""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from harness.model import Scenario, TwinState
from harness.universe import ControlError


@functools.lru_cache(maxsize=64)
def _read(path: str) -> Any:
    text = Path(path).read_text(encoding="utf-8")
    return json.loads(text) if path.endswith(".json") else yaml.safe_load(text)


def fixture_for(scenario: Scenario, twin: str, state: TwinState | None) -> dict[str, Any] | None:
    """The tenant's whole fixture: `fixture:`, or `universes/<name>/<twin>.(yaml|json)` next to
    the scenario (then under ./scenarios), or None for the twin's default fixture."""
    if state is None:
        return None
    if state.fixture is not None:
        return state.fixture
    if state.universe is None:
        return None
    for base in (Path(scenario.base_dir), Path("scenarios")):
        for ext in ("yaml", "yml", "json"):
            p = base / "universes" / state.universe / f"{twin}.{ext}"
            if p.is_file():
                data = _read(str(p.resolve()))
                if not isinstance(data, dict):
                    raise ControlError(f"{p}: a fixture is a mapping")
                return data
    raise ControlError(
        f"universe {state.universe!r} has no {twin} fixture (universes/{state.universe}/{twin}.yaml)"
    )


def slack_user_id(email: str) -> str:
    return "U" + hashlib.sha256(email.lower().encode()).hexdigest()[:10].upper()


def complete_seed(twin: str, seed: dict[str, Any], tenant: str) -> dict[str, Any]:
    """Slack seed users without an id get one from their email, and each gets a user token
    (unique to the tenant), so personas can act as them."""
    if twin != "slack":
        return seed
    seed = dict(seed)
    users = []
    tokens = list(seed.get("tokens") or [])
    have = {t.get("user") for t in tokens}
    for u in seed.get("users") or []:
        u = dict(u)
        email = str(u.get("email") or "")
        u.setdefault("id", slack_user_id(email or str(u.get("name"))))
        u.setdefault("name", email.split("@")[0] or u["id"].lower())
        users.append(u)
        if u["id"] not in have:
            digest = hashlib.sha256(f"{tenant}:{u['id']}".encode()).hexdigest()
            tokens.append({"token": f"xoxp-h{digest[:10]}-{digest[10:34]}", "kind": "user", "user": u["id"]})
    if users:
        seed["users"] = users
    if tokens:
        seed["tokens"] = tokens
    return seed


def remember_seeded(cache: dict[str, Any], seed: dict[str, Any]) -> None:
    """The ids of the Slack users and channels a seed made, by email and by name, so that
    steps and checks need not look them up (`harness.steps.slack_user_id`, `slack_channel_id`)."""
    users: dict[str, str] = cache.setdefault("slack-seeded-users", {})
    for u in seed.get("users") or []:
        if isinstance(u, dict) and u.get("email") and u.get("id"):
            users[str(u["email"]).lower()] = str(u["id"])
    channels: dict[str, str] = cache.setdefault("slack-seeded-channels", {})
    for c in seed.get("channels") or []:
        if isinstance(c, dict) and c.get("name") and c.get("id"):
            channels[str(c["name"])] = str(c["id"])
