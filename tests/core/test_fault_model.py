"""Fault profile validation (CONTRACT.md section 6): an invalid profile is refused with the
field that is wrong, whether it came as JSON or YAML."""

from __future__ import annotations

from typing import Any

import pytest

from dtu.faults.model import FaultProfile, ProfileError, load_profile_text, parse_profile, validate_against
from twins.slack import TWIN


def _rule(**fields: Any) -> dict[str, Any]:
    return {"id": "r1", "action": {"kind": "drop"}, **fields}


def _error(data: Any) -> ProfileError:
    with pytest.raises(ProfileError) as exc:
        parse_profile(data)
    return exc.value


def _slack(profile: FaultProfile) -> None:
    validate_against(
        profile,
        twin="slack",
        operations=set(TWIN.operations),
        points=set(TWIN.fault_points),
        deliveries=set(TWIN.deliveries),
    )


@pytest.mark.parametrize(
    ("rules", "field", "words"),
    [
        ([_rule(action={"kind": "explode"})], "rules[0].action.kind", "explode"),
        ([_rule(action={})], "rules[0].action.kind", "kind"),
        ([_rule(action={"kind": "rate_limit", "retry_after": 3})], "rules[0].action.retry_after", "Extra"),
        ([_rule(match={"operaton": "chat.postMessage"})], "rules[0].match.operaton", "Extra"),
        ([_rule(), _rule(id="r2", colour="red")], "rules[1].colour", "Extra"),
        ([_rule(probability="often")], "rules[0].probability", "number"),
        ([_rule(probability=1.5)], "rules[0].probability", "less than or equal"),
        ([_rule(when={"after_calls": "twenty"})], "rules[0].when.after_calls", "integer"),
        ([_rule(when={"at_s": 1, "after_calls": 2})], "rules[0].when.at_s", "not both"),
        ([_rule(budget={"max_fires": 0})], "rules[0].budget.max_fires", "greater than or equal"),
        ([_rule(action={"kind": "error", "status": 200})], "rules[0].action.status", "greater than or equal"),
        ([_rule(action={"kind": "delay"})], "rules[0].action.ms", "needs ms"),
        (
            [_rule(action={"kind": "delay", "distribution": "lognormal", "median_ms": 100})],
            "rules[0].action.p99_ms",
            "median_ms and p99_ms",
        ),
        (
            [_rule(action={"kind": "delay", "distribution": "lognormal", "median_ms": 100, "p99_ms": 50})],
            "rules[0].action.p99_ms",
            "at least median_ms",
        ),
        ([_rule(action={"kind": "stale_reads"})], "rules[0].action.lag_s", "required"),
        ([_rule(action={"kind": "duplicate"})], "rules[0].action.kind", "only to deliveries"),
        ([_rule(action={"kind": "reorder"})], "rules[0].action.kind", "only to deliveries"),
        (
            [_rule(match={"delivery": "events"}, action={"kind": "outage"})],
            "rules[0].action.kind",
            "does not apply to deliveries",
        ),
        ([_rule(), _rule()], "rules[1].id", "used twice"),
        ([_rule(id="has space")], "rules[0].id", "pattern"),
        ([{"action": {"kind": "drop"}}], "rules[0].id", "required"),
    ],
)
def test_invalid_rule_names_the_bad_field(rules: list[dict[str, Any]], field: str, words: str) -> None:
    err = _error({"version": 1, "rules": rules})
    assert err.field == field
    assert words.lower() in err.reason.lower()
    assert str(err).startswith(field)


def test_unknown_top_level_field() -> None:
    assert _error({"version": 1, "rulez": []}).field == "rulez"


def test_unsupported_version() -> None:
    assert _error({"version": 2, "rules": []}).field == "version"


def test_rules_must_be_a_list() -> None:
    assert _error({"rules": {"id": "x"}}).field == "rules"


def test_not_a_mapping() -> None:
    err = _error(["version", 1])
    assert err.field is None and "mapping" in err.reason


def test_yaml_syntax_error_is_a_profile_error() -> None:
    with pytest.raises(ProfileError) as exc:
        load_profile_text("rules: [\n  - id: a\n    action: {kind: drop")
    assert "YAML" in exc.value.reason


def test_yaml_and_json_give_the_same_profile() -> None:
    yaml_text = """
version: 1
name: same
seed: 3
rules:
  - id: throttle
    match: {twin: slack, operation: "chat.*"}
    probability: 0.5
    when: {after_calls: 2, for_s: 10}
    budget: {max_fires: 4}
    action: {kind: rate_limit, retry_after_s: 2}
"""
    json_text = (
        '{"version": 1, "name": "same", "seed": 3, "rules": [{"id": "throttle", '
        '"match": {"twin": "slack", "operation": "chat.*"}, "probability": 0.5, '
        '"when": {"after_calls": 2, "for_s": 10}, "budget": {"max_fires": 4}, '
        '"action": {"kind": "rate_limit", "retry_after_s": 2}}]}'
    )
    assert load_profile_text(yaml_text) == load_profile_text(json_text)


def test_profile_is_immutable() -> None:
    profile = parse_profile({"rules": [_rule()]})
    with pytest.raises(ValueError, match="frozen"):
        profile.rules[0].probability = 0.5  # type: ignore[misc]


def test_defaults() -> None:
    profile = parse_profile({"rules": [_rule(action={"kind": "rate_limit"})]})
    rule = profile.rules[0]
    assert (profile.version, profile.name, profile.seed) == (1, "unnamed", 0)
    assert rule.probability == 1.0 and rule.when is None and rule.budget is None
    assert rule.action.retry_after_s == 1  # type: ignore[union-attr]


# -- against the twin's own names ---------------------------------------------------------------------


def _against_slack(rule: dict[str, Any]) -> ProfileError:
    profile = parse_profile({"rules": [_rule(), {"id": "r2", **rule}]})
    with pytest.raises(ProfileError) as exc:
        _slack(profile)
    return exc.value


def test_unknown_operation_for_the_twin() -> None:
    err = _against_slack(
        {"match": {"twin": "slack", "operation": "chat.postMesage"}, "action": {"kind": "drop"}}
    )
    assert err.field == "rules[1].match.operation"
    assert "chat.postMesage" in err.reason


def test_operation_glob_matching_nothing_is_refused() -> None:
    err = _against_slack({"match": {"twin": "slack", "operation": "chatt.*"}, "action": {"kind": "drop"}})
    assert err.field == "rules[1].match.operation"


def test_unknown_delivery_kind_for_the_twin() -> None:
    err = _against_slack({"match": {"twin": "slack", "delivery": "webhooks"}, "action": {"kind": "drop"}})
    assert err.field == "rules[1].match.delivery"


def test_unknown_fault_point_for_the_twin() -> None:
    err = _against_slack({"match": {"twin": "slack"}, "action": {"kind": "fault_point", "point": "no.such"}})
    assert err.field == "rules[1].action.point"


def test_known_names_pass() -> None:
    point = next(iter(TWIN.fault_points))
    _slack(
        parse_profile(
            {
                "rules": [
                    {
                        "id": "a",
                        "match": {"twin": "slack", "operation": "chat.*"},
                        "action": {"kind": "drop"},
                    },
                    {
                        "id": "b",
                        "match": {"twin": "slack", "delivery": "events"},
                        "action": {"kind": "duplicate"},
                    },
                    {"id": "c", "match": {"twin": "slack", "delivery": "*"}, "action": {"kind": "drop"}},
                    {
                        "id": "d",
                        "match": {"twin": "slack"},
                        "action": {"kind": "fault_point", "point": point},
                    },
                ]
            }
        )
    )


def test_rules_for_other_twins_are_not_checked_against_slack() -> None:
    _slack(
        parse_profile(
            {
                "rules": [
                    {
                        "id": "okta",
                        "match": {"twin": "okta", "operation": "listUsers"},
                        "action": {"kind": "drop"},
                    },
                ]
            }
        )
    )
