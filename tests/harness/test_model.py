"""Scenario files: the project's own load, bad ones fail with file, line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import inputs, model
from harness.template import TemplateError, render

GOOD = """\
id: tiny
story: A person posts in general.
personas: {poster: {email: bob@example.com}}
steps:
  - slack.post: {as: poster, channel: "#general", text: hi}
checks:
  - slack.message: {channel: "#general", contains: hi}
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def problems(path: str) -> model.ScenarioError:
    with pytest.raises(model.ScenarioError) as err:
        model.load(path)
    return err.value


def test_project_scenarios_all_load() -> None:
    loaded = model.load_all(["scenarios"])
    assert len(loaded) >= 12
    assert len({s.id for s in loaded}) == len(loaded)
    assert all(s.used_twins() for s in loaded)


def test_good_scenario_infers_twins_from_actions(tmp_path: Path) -> None:
    s = model.load(write(tmp_path, GOOD))
    assert s.used_twins() == ["slack"] and s.steps[0].id == "1-slack.post" and s.checks[0].within_s == 10


def test_unknown_step_names_line_and_suggests(tmp_path: Path) -> None:
    err = problems(write(tmp_path, GOOD.replace("slack.post:", "slack.pst:")))
    ((line, msg),) = err.problems
    assert line == 5 and "unknown step action 'slack.pst'" in msg and "slack.post" in msg
    assert str(err).startswith(f"{tmp_path / 's.yaml'}:5: ")


def test_bad_argument_points_at_its_line(tmp_path: Path) -> None:
    text = GOOD.replace(
        '  - slack.message: {channel: "#general", contains: hi}',
        '  - slack.message:\n      channel: "#general"\n      count: many',
    )
    ((line, msg),) = problems(write(tmp_path, text)).problems
    assert line == 9 and "slack.message: count" in msg and "integer" in msg


def test_missing_field_and_unknown_key(tmp_path: Path) -> None:
    text = GOOD.replace("story: A person posts in general.\n", "storey: typo\n")
    found = problems(write(tmp_path, text)).problems
    messages = " | ".join(m for _, m in found)
    assert "story: Field required" in messages and "storey: Extra inputs are not permitted" in messages
    assert (2, "storey: Extra inputs are not permitted") in found


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    ((line, msg),) = problems(write(tmp_path, GOOD.replace("checks:", "checks: [oops"))).problems
    assert line is not None and line >= 6 and "not valid YAML" in msg


def test_step_with_two_actions_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace(
        '  - slack.post: {as: poster, channel: "#general", text: hi}',
        '  - slack.post: {as: poster, channel: "#general", text: hi}\n    wait: {s: 1}',
    )
    ((line, msg),) = problems(write(tmp_path, text)).problems
    assert line == 5 and "exactly one action key" in msg


def test_load_all_reports_every_bad_file(tmp_path: Path) -> None:
    write(tmp_path, GOOD.replace("slack.post:", "nope:"), "a.yaml")
    write(tmp_path, "id: Bad Id\nstory: x\nsteps: []\nchecks: []\n", "b.yaml")
    with pytest.raises(model.ScenarioError) as err:
        model.load_all([str(tmp_path)])
    text = str(err.value)
    assert "a.yaml:5:" in text and "b.yaml:1: id:" in text and "b.yaml:3: steps" in text


def test_inputs_are_a_function_of_the_seed() -> None:
    s = model.load("scenarios/onboarding-happy-path.yaml")
    first = inputs.draw(s.inputs, 42, {})
    assert first == inputs.draw(s.inputs, 42, {})
    assert first["email"] == f"{first['first']}.{first['last']}@example.com".lower()
    assert any(inputs.draw(s.inputs, seed, {}) != first for seed in range(1, 5))


def test_templates_keep_types_and_refuse_unknown_names() -> None:
    scope = {"inputs": {"n": 3, "name": "Ana"}, "vars": {"t": {"key": "DEMO-1"}}}
    assert render({"count": "${inputs.n}", "text": "hi ${inputs.name} ${vars.t.key}"}, scope) == {
        "count": 3,
        "text": "hi Ana DEMO-1",
    }
    with pytest.raises(TemplateError, match=r"inputs\.missing"):
        render("${inputs.missing}", scope)
