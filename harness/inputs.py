"""Inputs drawn per trajectory from its seed: same seed, same names, emails and texts.

`random.Random(seed)` is private to the trajectory (no shared stream), so concurrency never
changes what a trajectory draws, and a replay by id draws the same inputs.
"""

from __future__ import annotations

import random
from typing import Any

from harness.model import InputSpec
from harness.template import render

FIRST = [
    "Ana",
    "Bilal",
    "Chiara",
    "Dmitri",
    "Esi",
    "Farid",
    "Greta",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Lars",
    "Mei",
    "Nikhil",
    "Olga",
    "Pablo",
    "Quynh",
    "Rafael",
    "Sanna",
    "Tomas",
    "Uma",
    "Viktor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zofia",
]
LAST = [
    "Abara",
    "Berg",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Gupta",
    "Haddad",
    "Ito",
    "Jansen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quintero",
    "Rossi",
    "Silva",
    "Tanaka",
    "Usman",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhou",
]
DEPARTMENTS = ["Engineering", "Sales", "Finance", "Marketing", "Support", "Legal", "People", "Design"]
WORDS = [
    "laptop",
    "badge",
    "vpn",
    "payroll",
    "desk",
    "parking",
    "training",
    "benefits",
    "email",
    "calendar",
    "welcome",
    "handbook",
    "buddy",
    "lunch",
    "security",
    "wiki",
]


def draw(specs: dict[str, InputSpec], seed: int, scope: dict[str, Any]) -> dict[str, Any]:
    """Each input in order; templates may refer to the inputs drawn before them."""
    rng = random.Random(seed)
    out: dict[str, Any] = {}
    scope = {**scope, "inputs": out}
    for name, spec in specs.items():
        value: Any
        if spec.kind == "first_name":
            value = rng.choice(FIRST)
        elif spec.kind == "last_name":
            value = rng.choice(LAST)
        elif spec.kind == "department":
            value = rng.choice(DEPARTMENTS)
        elif spec.kind == "word":
            value = rng.choice(WORDS)
        elif spec.kind == "sentence":
            words = [rng.choice(WORDS) for _ in range(rng.randint(3, 8))]
            value = " ".join(words).capitalize() + rng.choice([".", "?", "!"])
        elif spec.kind == "choice":
            value = render(rng.choice(spec.choices or [None]), scope)
        elif spec.kind == "int":
            value = rng.randint(spec.low, spec.high)
        elif spec.kind == "template":
            value = render(spec.template, scope)
        else:
            value = render(spec.value, scope)
        if spec.lower and isinstance(value, str):
            value = value.lower()
        out[name] = value
    return out
