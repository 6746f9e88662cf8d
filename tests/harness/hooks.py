"""Python escape-hatch targets used by test_runner.py (`python: {fn: tests.harness.hooks:...}`)."""

from __future__ import annotations

from typing import Any

from harness.actions import CheckResult
from harness.runner import Trajectory


async def remember(traj: Trajectory, args: dict[str, Any]) -> dict[str, Any]:
    return {"tenant": traj.tenants["slack"]["tenant"], "word": args["word"]}


async def general_has_text(traj: Trajectory, args: dict[str, Any]) -> CheckResult:
    rows = await traj.state("slack", "messages")
    hits = [m for m in rows if args["text"] in (m.get("text") or "")]
    return CheckResult(len(hits) == 1, f"{len(hits)} message(s)")
