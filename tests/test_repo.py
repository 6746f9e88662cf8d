"""Repository rules that keep the layers honest (STYLE.md section 4.2)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_core_never_imports_twins_or_harness() -> None:
    """dtu/cli.py alone is exempt: the `dtu` command is the composition root (`dtu run`)."""
    for path in (ROOT / "dtu").rglob("*.py"):
        if path == ROOT / "dtu" / "cli.py":
            continue
        bad = {m for m in _imports(path) if m.split(".")[0] in ("twins", "harness")}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_twins_never_import_each_other() -> None:
    for twin_dir in (ROOT / "twins").iterdir():
        if not twin_dir.is_dir() or twin_dir.name.startswith("_"):
            continue
        for path in twin_dir.rglob("*.py"):
            others = {
                m
                for m in _imports(path)
                if m.startswith("twins.")
                and m.split(".")[1] != twin_dir.name
                and not m.split(".")[1].startswith("_")
            }  # shared packages (twins/_workspace)
            assert not others, f"{path.relative_to(ROOT)} imports {others}"


def test_services_are_plain_python() -> None:
    for path in (ROOT / "twins").glob("*/service/*.py"):
        web = {m for m in _imports(path) if m.split(".")[0] in ("fastapi", "starlette")}
        assert not web, f"{path.relative_to(ROOT)} imports {web}: services never touch HTTP"


def test_slack_coverage_page_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_coverage.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr or result.stdout
