"""Groups, membership and group rules through the okta SDK over HTTP."""

from __future__ import annotations

import httpx
from okta.models import AddGroupRequest

from tests.twins.okta.conftest import Sdk, api_error, new_user

ENGINEERING, EVERYONE = "00gdtuengineering001", "00gdtueveryone000001"
BOB = "00udtubob00000000002"


def _group(name: str, description: str | None = None) -> AddGroupRequest:
    return AddGroupRequest.from_dict(
        {"profile": {"name": name, **({"description": description} if description else {})}}
    )


def _name(g: object) -> str:
    return str(g.profile.actual_instance.name)  # type: ignore[attr-defined]


def test_create_get_and_list(sdk: Sdk) -> None:
    g = sdk.add_group(_group("Sales", "Sellers"))
    assert g.id.startswith("00g") and g.type.value == "OKTA_GROUP"
    assert _name(sdk.get_group(g.id)) == "Sales"
    assert "Sales" in [_name(x) for x in sdk.list_groups()]


def test_duplicate_name_is_e0000001(sdk: Sdk) -> None:
    err = api_error(sdk.add_group, _group("engineering"))
    assert err.error_code == "E0000001" and err.error_summary == "Api validation failed: name"


def test_list_q_and_filter(sdk: Sdk) -> None:
    assert [_name(g) for g in sdk.list_groups(q="Eng")] == ["Engineering"]
    assert [_name(g) for g in sdk.list_groups(filter='type eq "BUILT_IN"')] == ["Everyone"]
    assert [_name(g) for g in sdk.list_groups(search='profile.name sw "IT"')] == ["IT Admins"]


def test_bad_group_filter_is_e0000031(sdk: Sdk) -> None:
    assert api_error(sdk.list_groups, filter='name eq "x"').error_code == "E0000031"


def test_replace_and_delete(sdk: Sdk, http: httpx.Client) -> None:
    g = sdk.add_group(_group("Temp"))
    r = http.put(f"/api/v1/groups/{g.id}", json={"profile": {"name": "Temp2", "description": "x"}})
    assert r.status_code == 200 and r.json()["profile"] == {"name": "Temp2", "description": "x"}
    sdk.delete_group(g.id)
    assert api_error(sdk.get_group, g.id).error_code == "E0000007"


def test_everyone_is_read_only(sdk: Sdk) -> None:
    assert api_error(sdk.delete_group, EVERYONE).error_code == "E0000006"
    assert api_error(sdk.assign_user_to_group, EVERYONE, BOB).status == 403


def test_membership_add_list_remove(sdk: Sdk) -> None:
    user = sdk.create_user(new_user())
    sdk.assign_user_to_group(ENGINEERING, user.id)
    sdk.assign_user_to_group(ENGINEERING, user.id)  # idempotent
    members = [u.id for u in sdk.list_group_users(ENGINEERING)]
    assert members[-1] == user.id and members.count(user.id) == 1
    assert ENGINEERING in [g.id for g in sdk.list_user_groups(user.id)]
    sdk.unassign_user_from_group(ENGINEERING, user.id)
    assert user.id not in [u.id for u in sdk.list_group_users(ENGINEERING)]


def test_new_users_join_everyone(sdk: Sdk) -> None:
    user = sdk.create_user(new_user())
    assert EVERYONE in [g.id for g in sdk.list_user_groups(user.id)]


def test_membership_unknown_user_is_e0000007(sdk: Sdk) -> None:
    assert api_error(sdk.assign_user_to_group, ENGINEERING, "00unobody00000000000").error_code == "E0000007"


def test_group_users_paging(http: httpx.Client) -> None:
    r = http.get(f"/api/v1/groups/{EVERYONE}/users", params={"limit": 2})
    assert len(r.json()) == 2
    nxt = next(x for x in r.headers.get_list("link") if 'rel="next"' in x).split(">")[0][1:]
    assert len(http.get(nxt).json()) == 1


def test_group_rule_assigns_on_activate_and_on_create(http: httpx.Client, sdk: Sdk) -> None:
    g = sdk.add_group(_group("Sales"))
    rule = http.post(
        "/api/v1/groups/rules",
        json={
            "type": "group_rule",
            "name": "Sales people",
            "conditions": {
                "expression": {"value": 'user.department=="Sales"', "type": "urn:okta:expression:1.0"}
            },
            "actions": {"assignUserToGroups": {"groupIds": [g.id]}},
        },
    )
    assert rule.status_code == 200 and rule.json()["status"] == "INACTIVE"
    early = sdk.create_user(new_user(department="Sales"))
    assert http.post(f"/api/v1/groups/rules/{rule.json()['id']}/lifecycle/activate").status_code == 204
    late = sdk.create_user(new_user("eve@example.com", department="Sales"))
    other = sdk.create_user(new_user("fay@example.com", department="Legal"))
    members = [u.id for u in sdk.list_group_users(g.id)]
    assert early.id in members and late.id in members and other.id not in members
    bad = http.delete(f"/api/v1/groups/rules/{rule.json()['id']}")
    assert bad.status_code == 400


def test_group_rule_bad_expression(http: httpx.Client) -> None:
    r = http.post(
        "/api/v1/groups/rules",
        json={
            "type": "group_rule",
            "name": "bad",
            "conditions": {"expression": {"value": 'user.department=="x" &&'}},
            "actions": {"assignUserToGroups": {"groupIds": [ENGINEERING]}},
        },
    )
    assert r.status_code == 400 and r.json()["errorCode"] == "E0000001"


def _sales_rule(group_id: str) -> object:
    from okta.models import CreateGroupRuleRequest

    return CreateGroupRuleRequest.from_dict(
        {
            "type": "group_rule",
            "name": "Sales people",
            "conditions": {
                "expression": {"value": 'user.department=="Sales"', "type": "urn:okta:expression:1.0"}
            },
            "actions": {"assignUserToGroups": {"groupIds": [group_id]}},
        }
    )


def test_group_rule_membership_follows_profile_updates(sdk: Sdk) -> None:
    """A rule's members are added when their profile starts matching and removed when it stops;
    members added by hand stay; deactivating the rule keeps the members it made."""
    from okta.models import UpdateUserRequest

    g = sdk.add_group(_group("Sales"))
    rule = sdk.create_group_rule(_sales_rule(g.id))
    sdk.activate_group_rule(rule.id)
    assert sdk.get_group_rule(rule.id).status.value == "ACTIVE"
    mover = sdk.create_user(new_user(department="Legal"))
    manual = sdk.create_user(new_user("eve@example.com", department="Legal"))
    sdk.assign_user_to_group(g.id, manual.id)

    def members() -> set[str]:
        return {u.id for u in sdk.list_group_users(g.id)}

    assert members() == {manual.id}
    sdk.update_user(mover.id, UpdateUserRequest.from_dict({"profile": {"department": "Sales"}}))
    assert members() == {manual.id, mover.id}
    sdk.update_user(mover.id, UpdateUserRequest.from_dict({"profile": {"department": "Legal"}}))
    sdk.update_user(manual.id, UpdateUserRequest.from_dict({"profile": {"title": "Counsel"}}))
    assert members() == {manual.id}
    types = [e.event_type for e in sdk.list_log_events(filter=f'target.id eq "{mover.id}"')]
    assert types.count("group.user_membership.add") == 2  # Everyone, then Sales
    assert types[-1] == "group.user_membership.remove"
    sdk.update_user(mover.id, UpdateUserRequest.from_dict({"profile": {"department": "Sales"}}))
    sdk.deactivate_group_rule(rule.id)
    sdk.update_user(mover.id, UpdateUserRequest.from_dict({"profile": {"department": "Legal"}}))
    assert members() == {manual.id, mover.id}
    sdk.delete_group_rule(rule.id, remove_users=True)
    assert members() == {manual.id}
    assert api_error(sdk.get_group_rule, rule.id).error_code == "E0000007"


def test_group_rule_activation_evaluates_existing_users(sdk: Sdk) -> None:
    g = sdk.add_group(_group("Sales"))
    sales = [sdk.create_user(new_user(f"s{i}@example.com", department="Sales")).id for i in range(3)]
    sdk.create_user(new_user("x@example.com", department="Legal"))
    rule = sdk.create_group_rule(_sales_rule(g.id))
    assert rule.status.value == "INACTIVE" and list(sdk.list_group_users(g.id)) == []
    sdk.activate_group_rule(rule.id)
    assert {u.id for u in sdk.list_group_users(g.id)} == set(sales)
    assert api_error(sdk.delete_group_rule, rule.id).status == 400  # ACTIVE rules cannot be deleted
