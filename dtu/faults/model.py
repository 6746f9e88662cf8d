"""Fault profiles (CONTRACT.md section 6): validated data, never code.

A profile is an ordered list of rules; the first rule that matches a request, is inside its
`when` window, has budget left and wins its seeded coin toss decides what happens. Unknown
fields and unknown kinds are refused on load with the path of the bad field.
"""

from __future__ import annotations

import fnmatch
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

REQUEST_KINDS = {
    "delay",
    "error",
    "rate_limit",
    "real_limits",
    "timeout",
    "drop",
    "truncate",
    "malformed",
    "outage",
    "stale_reads",
    "fault_point",
}
DELIVERY_KINDS = {"delay", "duplicate", "reorder", "drop"}


class _FieldError(ValueError):
    """A cross-field check that knows which field is wrong (relative to the model it checks)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Match(_Strict):
    """What a rule applies to; every given field must match (globs for path and operation)."""

    twin: str | None = None
    operation: str | None = None
    method: str | None = None
    path: str | None = None
    tenant: str | None = None
    delivery: str | None = None

    def matches(
        self,
        *,
        twin: str,
        operation: str | None,
        method: str,
        path: str,
        tenant: str | None,
        delivery: str | None = None,
    ) -> bool:
        if self.twin is not None and self.twin != twin:
            return False
        if (self.delivery is None) != (delivery is None):
            return False
        if self.delivery is not None and self.delivery not in ("*", delivery):
            return False
        if self.operation is not None and (
            operation is None or not fnmatch.fnmatchcase(operation, self.operation)
        ):
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path is not None and not fnmatch.fnmatchcase(path, self.path):
            return False
        return not (self.tenant is not None and self.tenant != tenant)


class When(_Strict):
    """A window: after N matching calls, or from `at_s` seconds after the profile loaded."""

    after_calls: int | None = Field(default=None, ge=0)
    at_s: float | None = Field(default=None, ge=0)
    for_s: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_start(self) -> When:
        if self.after_calls is not None and self.at_s is not None:
            raise _FieldError("give either after_calls or at_s, not both", "at_s")
        return self


class Budget(_Strict):
    max_fires: int = Field(ge=1)


class Delay(_Strict):
    kind: Literal["delay"]
    ms: float | None = Field(default=None, ge=0)
    distribution: Literal["fixed", "uniform", "lognormal"] | None = None
    median_ms: float | None = Field(default=None, gt=0)
    p99_ms: float | None = Field(default=None, gt=0)
    min_ms: float | None = Field(default=None, ge=0)
    max_ms: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _shape(self) -> Delay:
        dist = self.distribution or "fixed"
        if dist == "fixed" and self.ms is None:
            raise _FieldError("a fixed delay needs ms", "ms")
        if dist == "lognormal" and (self.median_ms is None or self.p99_ms is None):
            raise _FieldError(
                "a lognormal delay needs median_ms and p99_ms",
                "median_ms" if self.median_ms is None else "p99_ms",
            )
        if (
            dist == "lognormal"
            and self.p99_ms is not None
            and self.median_ms is not None
            and self.p99_ms < self.median_ms
        ):
            raise _FieldError("p99_ms must be at least median_ms", "p99_ms")
        if dist == "uniform" and (self.min_ms is None or self.max_ms is None or self.max_ms < self.min_ms):
            raise _FieldError(
                "a uniform delay needs min_ms <= max_ms", "min_ms" if self.min_ms is None else "max_ms"
            )
        return self


class Error(_Strict):
    kind: Literal["error"]
    status: int = Field(ge=400, le=599)
    code: str | None = None


class RateLimit(_Strict):
    kind: Literal["rate_limit"]
    retry_after_s: int = Field(default=1, ge=0)


class RealLimits(_Strict):
    kind: Literal["real_limits"]


class Timeout(_Strict):
    kind: Literal["timeout"]
    s: float = Field(default=30, ge=0)


class Drop(_Strict):
    kind: Literal["drop"]


class Truncate(_Strict):
    kind: Literal["truncate"]
    bytes: int = Field(default=16, ge=0)


class Malformed(_Strict):
    kind: Literal["malformed"]


class Outage(_Strict):
    kind: Literal["outage"]


class StaleReads(_Strict):
    kind: Literal["stale_reads"]
    lag_s: float = Field(gt=0)


class FaultPoint(_Strict):
    kind: Literal["fault_point"]
    point: str
    params: dict[str, Any] = Field(default_factory=dict)


class Duplicate(_Strict):
    kind: Literal["duplicate"]
    copies: int = Field(default=1, ge=1, le=10)


class Reorder(_Strict):
    kind: Literal["reorder"]
    hold_ms: float = Field(default=500, ge=0)


Action = Annotated[
    Delay
    | Error
    | RateLimit
    | RealLimits
    | Timeout
    | Drop
    | Truncate
    | Malformed
    | Outage
    | StaleReads
    | FaultPoint
    | Duplicate
    | Reorder,
    Field(discriminator="kind"),
]


class Rule(_Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    match: Match = Field(default_factory=Match)
    probability: float = Field(default=1.0, ge=0, le=1)
    when: When | None = None
    budget: Budget | None = None
    action: Action

    @model_validator(mode="after")
    def _kind_fits_target(self) -> Rule:
        kind = self.action.kind
        if self.match.delivery is not None and kind not in DELIVERY_KINDS:
            raise _FieldError(
                f"action kind {kind!r} does not apply to deliveries (use one of {sorted(DELIVERY_KINDS)})",
                "action.kind",
            )
        if self.match.delivery is None and kind not in REQUEST_KINDS:
            raise _FieldError(
                f"action kind {kind!r} applies only to deliveries (set match.delivery)", "action.kind"
            )
        return self


class FaultProfile(_Strict):
    version: Literal[1] = 1
    name: str = "unnamed"
    seed: int = 0
    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> FaultProfile:
        seen: set[str] = set()
        for i, rule in enumerate(self.rules):
            if rule.id in seen:
                raise _FieldError(f"rule id {rule.id!r} is used twice", f"rules[{i}].id")
            seen.add(rule.id)
        return self


class ProfileError(ValueError):
    """A profile that cannot load; `field` names the bad field (e.g. `rules[0].action.kind`)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.reason = message


def parse_profile(data: Any) -> FaultProfile:
    """Validate a profile (already parsed from JSON or YAML)."""
    if not isinstance(data, dict):
        raise ProfileError("a fault profile is a mapping with version, name, seed and rules")
    try:
        return FaultProfile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = _field_path(err["loc"])
        message = err["msg"]
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            field = f"{field}.kind"
        inner = (err.get("ctx") or {}).get("error")
        if isinstance(inner, _FieldError):
            # A model-level check: point at the field it names, not at the whole model.
            message = str(inner)
            field = inner.field if field is None else f"{field}.{inner.field}"
        raise ProfileError(message, field) from None


def _field_path(loc: tuple[int | str, ...]) -> str | None:
    field = ""
    previous: int | str = ""
    for part in loc:
        if previous == "action" and part in REQUEST_KINDS | DELIVERY_KINDS:
            previous = part
            continue  # pydantic's discriminator tag, not a field
        field += f"[{part}]" if isinstance(part, int) else ("." if field else "") + str(part)
        previous = part
    return field or None


def load_profile_text(text: str) -> FaultProfile:
    """Parse YAML or JSON text into a validated profile."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(f"not valid YAML or JSON: {exc}") from None
    return parse_profile(data)


def validate_against(
    profile: FaultProfile, *, twin: str, operations: set[str], points: set[str], deliveries: set[str]
) -> None:
    """Refuse names this twin does not have: an unknown operation is a typo, not a no-op."""
    for i, rule in enumerate(profile.rules):
        if rule.match.twin not in (None, twin):
            continue
        op = rule.match.operation
        if (
            op is not None
            and rule.match.twin == twin
            and not any(fnmatch.fnmatchcase(o, op) for o in operations)
        ):
            raise ProfileError(f"{twin} has no operation matching {op!r}", f"rules[{i}].match.operation")
        if (
            rule.match.delivery not in (None, "*")
            and rule.match.twin == twin
            and rule.match.delivery not in deliveries
        ):
            raise ProfileError(
                f"{twin} makes no {rule.match.delivery!r} deliveries (it makes {sorted(deliveries)})",
                f"rules[{i}].match.delivery",
            )
        if (
            isinstance(rule.action, FaultPoint)
            and rule.match.twin == twin
            and rule.action.point not in points
        ):
            raise ProfileError(f"{twin} has no fault point {rule.action.point!r}", f"rules[{i}].action.point")
