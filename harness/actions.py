"""The step and check vocabularies: a name (`slack.post`), an argument model, a function.

Steps are what a simulated person does (or a call to the app); checks read twin state and say
whether something holds. Both register here with a decorator, so the loader can validate a
scenario's arguments against the model of each action before anything runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from harness.runner import Trajectory


class Args(BaseModel):
    """Base of every action's arguments: unknown keys are errors (typos must not pass)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


@dataclass(frozen=True)
class CheckResult:
    """One evaluation of a check: does it hold, and what was seen."""

    ok: bool
    detail: str


StepFn = Callable[["Trajectory", Any], Awaitable[Any]]
CheckFn = Callable[["Trajectory", Any], Awaitable[CheckResult]]


@dataclass(frozen=True)
class Action:
    name: str
    args: type[Args]
    fn: Callable[..., Awaitable[Any]]
    twins: tuple[str, ...]
    doc: str
    api: bool = True  # a check that calls a twin's API (journaled), not only its inspection


STEPS: dict[str, Action] = {}
CHECKS: dict[str, Action] = {}


def step(name: str, args: type[Args], twins: tuple[str, ...] = ()) -> Callable[[StepFn], StepFn]:
    def deco(fn: StepFn) -> StepFn:
        STEPS[name] = Action(name, args, fn, twins, (fn.__doc__ or "").strip())
        return fn

    return deco


def check(
    name: str, args: type[Args], twins: tuple[str, ...] = (), *, api: bool = True
) -> Callable[[CheckFn], CheckFn]:
    """Register a check; `api=False` says it reads only the control plane's inspection, which
    the twins do not journal (so its polls are not activity the trace reader waits out)."""

    def deco(fn: CheckFn) -> CheckFn:
        CHECKS[name] = Action(name, args, fn, twins, (fn.__doc__ or "").strip(), api)
        return fn

    return deco


def load_vocabulary() -> None:
    """Import the modules that register the built-in actions."""
    import harness.checks
    import harness.steps  # noqa: F401
