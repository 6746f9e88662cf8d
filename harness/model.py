"""Scenarios: the YAML a specification owner writes, validated on load.

    id: onboarding-happy-path
    story: When IT activates a new hire in Okta, they get a Jira ticket and join #new-hires.
    inputs: {first: first_name, last: last_name, email: {template: "${inputs.first}.${inputs.last}@example.com"}}
    personas: {newhire: {email: "${inputs.email}"}}
    state: {slack: {seed: {channels: [{id: C0NEWHIRES, name: new-hires, members: [U0DTUBOT01]}]}}}
    steps:
      - okta.create_user: {email: "${inputs.email}", first_name: "${inputs.first}", activate: true}
    checks:
      - id: ticket
        jira.issues: {jql: 'labels = onboarding', count: 1}
        within_s: 10

A bad file fails with `ScenarioError`: its path, the line, and the reason.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness import yamlsrc
from harness.actions import CHECKS, STEPS, Action, load_vocabulary

TWINS = ("slack", "okta", "jira")
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")


class ScenarioError(Exception):
    """A scenario that does not load: where, and why (one line per problem)."""

    def __init__(self, path: str, problems: list[tuple[int | None, str]]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}:{line or '?'}: {msg}" for line, msg in problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InputSpec(_Strict):
    """How one input is drawn for a trajectory (see harness/inputs.py)."""

    kind: Literal[
        "first_name", "last_name", "word", "sentence", "department", "choice", "template", "int", "value"
    ]
    choices: list[Any] | None = None
    template: str | None = None
    lower: bool = False
    low: int = 0
    high: int = 100
    value: Any = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        """`first_name`, `{choice: [...]}`, `{template: "..."}`, `{int: [1, 9]}`, `{value: x}`."""
        if isinstance(data, str):
            return {"kind": data}
        if isinstance(data, dict) and "kind" not in data:
            if "choice" in data:
                return {
                    "kind": "choice",
                    "choices": data["choice"],
                    **{k: v for k, v in data.items() if k != "choice"},
                }
            if "int" in data and isinstance(data["int"], list) and len(data["int"]) == 2:
                return {"kind": "int", "low": data["int"][0], "high": data["int"][1]}
            if "template" in data:
                return {"kind": "template", **data}
            if "value" in data:
                return {"kind": "value", **data}
        return data

    @model_validator(mode="after")
    def _complete(self) -> InputSpec:
        if self.kind == "choice" and not self.choices:
            raise ValueError("a choice needs a non-empty list of choices")
        if self.kind == "template" and not self.template:
            raise ValueError("a template input needs `template`")
        if self.kind == "int" and self.low > self.high:
            raise ValueError("int range is [low, high] with low <= high")
        return self


class TwinState(_Strict):
    """The starting state of one twin in the trajectory's tenant: a named universe (a fixture
    file under the scenario directory's `universes/<name>/<twin>.yaml`), a whole fixture, and/or
    a `seed` loaded on top (templated with the inputs)."""

    universe: str | None = None
    fixture: dict[str, Any] | None = None
    seed: dict[str, Any] | None = None


class Step(_Strict):
    id: str
    action: str
    args: Any = None
    save: str | None = None
    optional: bool = False
    attempts: int = Field(1, ge=1, le=100)
    wait_s: float = Field(0.5, ge=0, le=60)


class Check(_Strict):
    id: str
    action: str
    args: Any = None
    within_s: float = Field(10.0, gt=0, le=600)
    hold_s: float = Field(0.0, ge=0, le=60)
    every_s: float = Field(0.1, gt=0, le=10)


_STEP_KEYS = {"id", "save", "optional", "retry"}
_CHECK_KEYS = {"id", "within_s", "hold_s", "every_s"}


class Scenario(_Strict):
    id: str
    story: str
    twins: list[Literal["slack", "okta", "jira"]] = []
    tags: list[str] = []
    personas: dict[str, dict[str, Any]] = {}
    inputs: dict[str, InputSpec] = {}
    state: dict[Literal["slack", "okta", "jira"], TwinState] = {}
    faults: dict[str, Any] | None = None
    steps: list[Step] = Field(min_length=1)
    checks: list[Check] = Field(min_length=1)
    timeout_s: float = Field(60.0, gt=0, le=3600)
    path: str = ""
    base_dir: str = ""

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("an id is lower-case letters, digits, '-', '_' or '.' (at most 80)")
        return v

    def used_twins(self) -> list[str]:
        """The twins a trajectory needs a tenant in: declared, or those its actions touch."""
        want: set[str] = set(self.twins) | set(self.state)
        found = [STEPS.get(s.action) for s in self.steps] + [CHECKS.get(c.action) for c in self.checks]
        for action in found:
            if action is not None:
                want.update(action.twins)
        return [t for t in TWINS if t in want]


def _split(
    raw: Any,
    i: int,
    kind: str,
    table: dict[str, Action],
    common: set[str],
    problems: list[tuple[tuple[str | int, ...], str]],
) -> dict[str, Any] | None:
    """`{id?, <action>: args, ...common}` -> {id, action, args, ...common}."""
    where: tuple[str | int, ...] = (kind, i)
    if not isinstance(raw, dict):
        problems.append((where, f"a {kind[:-1]} is a mapping with one action key (e.g. {next(iter(table))})"))
        return None
    names = [k for k in raw if k not in common]
    if len(names) != 1:
        shown = ", ".join(map(str, names)) or "none"
        problems.append((where, f"a {kind[:-1]} has exactly one action key, found {shown}"))
        return None
    name = str(names[0])
    if name not in table:
        close = [
            k
            for k in table
            if k.split(".")[-1] == name.split(".")[-1] or k.startswith(name.split(".")[0] + ".")
        ]
        hint = (
            f" (did you mean {', '.join(sorted(close)[:4])}?)"
            if close
            else f" (known: {', '.join(sorted(table))})"
        )
        problems.append(((*where, name), f"unknown {kind[:-1]} action {name!r}{hint}"))
        return None
    args = raw[name]
    try:
        table[name].args.model_validate(args if args is not None else {}, context={"loading": True})
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            problems.append(
                ((*where, name, *loc), f"{name}: {'.'.join(map(str, loc)) or 'arguments'}: {err['msg']}")
            )
    out: dict[str, Any] = {"id": str(raw.get("id") or f"{i + 1}-{name}"), "action": name, "args": args}
    for key in common - {"id", "retry"}:
        if key in raw:
            out[key] = raw[key]
    if "retry" in raw:
        retry = raw["retry"]
        if not isinstance(retry, dict) or set(retry) - {"attempts", "wait_s"}:
            problems.append(((*where, "retry"), "retry is {attempts: N, wait_s: S}"))
        else:
            out.update(retry)
    return out


def parse(data: Any, path: str = "<scenario>", lines: dict[yamlsrc.Path, int] | None = None) -> Scenario:
    """Validate scenario data; every problem is reported with its line."""
    load_vocabulary()
    lines = lines or {}
    if not isinstance(data, dict):
        raise ScenarioError(path, [(1, "a scenario is a YAML mapping (id, story, steps, checks...)")])
    problems: list[tuple[tuple[str | int, ...], str]] = []
    body = dict(data)
    for kind, table, common in (("steps", STEPS, _STEP_KEYS), ("checks", CHECKS, _CHECK_KEYS)):
        raw = body.get(kind)
        if isinstance(raw, list):
            items = [_split(item, i, kind, table, common, problems) for i, item in enumerate(raw)]
            body[kind] = [x or {"id": f"?{i}", "action": "?"} for i, x in enumerate(items)]
    actions_ok = not problems
    try:
        scenario = Scenario.model_validate({**body, "path": path, "base_dir": str(Path(path).parent)})
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            problems.append((loc, f"{'.'.join(map(str, loc)) or 'scenario'}: {err['msg']}"))
    else:
        ids = [s.id for s in scenario.steps] + [c.id for c in scenario.checks]
        dup = sorted({x for x in ids if ids.count(x) > 1})
        if dup and actions_ok:
            problems.append((("steps",), f"step and check ids must be unique: {', '.join(dup)}"))
        if not problems:
            return scenario
    raise ScenarioError(path, [(yamlsrc.line_of(lines, loc), msg) for loc, msg in problems])


def load(path: str | Path) -> Scenario:
    """Load one scenario file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(p), [(None, f"cannot read: {exc.strerror}")]) from None
    try:
        data, lines = yamlsrc.load(text)
    except yamlsrc.YamlError as exc:
        raise ScenarioError(str(p), [(exc.line, f"not valid YAML: {exc}")]) from None
    return parse(data, str(p), lines)


def discover(paths: list[str]) -> list[Path]:
    """Scenario files named, or found under named directories (*.yaml, *.yml; not universes/)."""
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found.extend(
                sorted(x for x in [*p.rglob("*.yaml"), *p.rglob("*.yml")] if "universes" not in x.parts)
            )
        else:
            found.append(p)
    return found


def load_all(paths: list[str]) -> list[Scenario]:
    """Every scenario, or one ScenarioError listing the problems of all bad files."""
    scenarios: list[Scenario] = []
    errors: list[ScenarioError] = []
    for p in discover(paths):
        try:
            scenarios.append(load(p))
        except ScenarioError as exc:
            errors.append(exc)
    ids = [s.id for s in scenarios]
    dup = sorted({x for x in ids if ids.count(x) > 1})
    if dup:
        errors.append(
            ScenarioError(
                ", ".join(s.path for s in scenarios if s.id in dup), [(None, f"duplicate id {dup}")]
            )
        )
    if errors:
        merged = ScenarioError(errors[0].path, [])
        merged.args = ("\n".join(str(e) for e in errors),)
        merged.problems = [p for e in errors for p in e.problems]
        raise merged
    return scenarios
