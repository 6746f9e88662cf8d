"""usergroups.* through slack_sdk over HTTP."""

from __future__ import annotations

import re

import pytest
from slack_sdk import WebClient

from dtu.testing.plugin import Tenant
from tests.twins.slack.conftest import slack_error


@pytest.fixture
def group(alice: WebClient) -> str:
    return str(alice.usergroups_create(name="Platform Team", handle="platform")["usergroup"]["id"])


def test_create_returns_the_usergroup(alice: WebClient, slack_tenant: Tenant, general: str) -> None:
    made = alice.usergroups_create(
        name="On Call", handle="oncall", description="Pager holders", channels=[general], include_count=True
    )["usergroup"]
    assert re.fullmatch(r"S[0-9A-Z]{10}", made["id"])
    assert made["team_id"] == slack_tenant.team_id and made["is_usergroup"] is True
    assert made["name"] == "On Call" and made["handle"] == "oncall" and made["description"] == "Pager holders"
    assert made["created_by"] == "U0DTUALICE" and made["date_delete"] == 0 and made["deleted_by"] is None
    assert made["prefs"] == {"channels": [general], "groups": []}
    assert made["users"] == [] and made["user_count"] == 0


def test_create_without_handle_derives_one(alice: WebClient) -> None:
    assert alice.usergroups_create(name="Design Crew")["usergroup"]["handle"] == "design-crew"


def test_create_duplicate_name(alice: WebClient, group: str) -> None:
    assert slack_error(alice.usergroups_create, name="platform team", handle="other") == "name_already_exists"


def test_create_duplicate_handle(alice: WebClient, group: str) -> None:
    assert slack_error(alice.usergroups_create, name="Another", handle="platform") == "handle_already_exists"


def test_handle_may_not_be_a_member_name(alice: WebClient) -> None:
    assert slack_error(alice.usergroups_create, name="Bobs", handle="bob") == "handle_already_exists"


def test_reserved_handle_forbidden(alice: WebClient) -> None:
    assert slack_error(alice.usergroups_create, name="Everybody", handle="everyone") == "forbidden_handle"


def test_bad_handle(alice: WebClient) -> None:
    assert slack_error(alice.usergroups_create, name="Spaces", handle="has spaces") == "bad_handle"


def test_unknown_channel_invalid_channel_provided(alice: WebClient) -> None:
    assert (
        slack_error(alice.usergroups_create, name="Chan", channels=["C0NOTTHERE"])
        == "invalid_channel_provided"
    )


def test_users_update_then_users_list(alice: WebClient, bot: WebClient, group: str) -> None:
    updated = alice.usergroups_users_update(
        usergroup=group, users=["U0DTUBOB01", "U0DTUCAROL"], include_count=True
    )["usergroup"]
    assert updated["users"] == ["U0DTUBOB01", "U0DTUCAROL"] and updated["user_count"] == 2
    assert bot.usergroups_users_list(usergroup=group)["users"] == ["U0DTUBOB01", "U0DTUCAROL"]
    alice.usergroups_users_update(usergroup=group, users=["U0DTUALICE"])
    assert bot.usergroups_users_list(usergroup=group)["users"] == ["U0DTUALICE"]


def test_users_update_unknown_user_invalid_users(alice: WebClient, group: str) -> None:
    assert (
        slack_error(alice.usergroups_users_update, usergroup=group, users=["U0NOBODY00"]) == "invalid_users"
    )


def test_users_update_empty_no_users_provided(alice: WebClient, group: str) -> None:
    assert slack_error(alice.usergroups_users_update, usergroup=group, users="") == "no_users_provided"


def test_users_list_unknown_group(alice: WebClient) -> None:
    assert slack_error(alice.usergroups_users_list, usergroup="S0000000000") == "no_such_subteam"


def test_list_options(alice: WebClient, group: str) -> None:
    alice.usergroups_users_update(usergroup=group, users=["U0DTUBOB01"])
    alice.usergroups_create(name="Alpha", handle="alpha")
    plain = alice.usergroups_list()["usergroups"]
    assert [g["name"] for g in plain] == ["Alpha", "Platform Team"]
    assert "users" not in plain[1] and "user_count" not in plain[1]
    full = alice.usergroups_list(include_users=True, include_count=True)["usergroups"]
    assert full[1]["users"] == ["U0DTUBOB01"] and full[1]["user_count"] == 1


def test_disable_hides_until_enabled(alice: WebClient, group: str) -> None:
    disabled = alice.usergroups_disable(usergroup=group)["usergroup"]
    assert disabled["date_delete"] > 0 and disabled["deleted_by"] == "U0DTUALICE"
    assert alice.usergroups_list()["usergroups"] == []
    assert [g["id"] for g in alice.usergroups_list(include_disabled=True)["usergroups"]] == [group]
    assert slack_error(alice.usergroups_users_list, usergroup=group) == "no_such_subteam"
    assert alice.usergroups_users_list(usergroup=group, include_disabled=True)["users"] == []
    enabled = alice.usergroups_enable(usergroup=group)["usergroup"]
    assert enabled["date_delete"] == 0
    assert [g["id"] for g in alice.usergroups_list()["usergroups"]] == [group]


def test_update_changes_given_fields(alice: WebClient, group: str) -> None:
    updated = alice.usergroups_update(usergroup=group, description="Keeps the lights on")["usergroup"]
    assert updated["description"] == "Keeps the lights on"
    assert updated["name"] == "Platform Team" and updated["handle"] == "platform"
    renamed = alice.usergroups_update(usergroup=group, name="Infra", handle="infra")["usergroup"]
    assert renamed["name"] == "Infra" and renamed["handle"] == "infra"


def test_update_to_taken_name(alice: WebClient, group: str) -> None:
    alice.usergroups_create(name="Other", handle="other")
    assert slack_error(alice.usergroups_update, usergroup=group, name="Other") == "name_already_exists"


def test_update_unknown_group(alice: WebClient) -> None:
    assert slack_error(alice.usergroups_update, usergroup="S0000000000", name="x") == "no_such_subteam"


def test_disable_without_usergroup_missing_argument(alice: WebClient) -> None:
    assert slack_error(alice.usergroups_disable, usergroup="") == "missing_argument"


def test_membership_change_raises_events(slack_tenant: Tenant, alice: WebClient, group: str) -> None:
    app = {
        "id": slack_tenant.app_id,
        "name": "DTU App",
        "bot_id": "B0DTUBOT01",
        "bot_user": {"id": "U0DTUBOT01", "name": "dtu-app"},
        "bot_token": slack_tenant.bot_token,
        "signing_secret": slack_tenant.signing_secret,
        "request_url": "http://127.0.0.1:9/slack/events",
        "bot_events": ["subteam_members_changed", "subteam_updated"],
    }
    slack_tenant.twin.control("POST", "/seed", params={"tenant": slack_tenant.tenant}, json={"apps": [app]})
    alice.usergroups_users_update(usergroup=group, users=["U0DTUBOB01"])
    sent = {
        d["meta"]["type"]: d["payload"]["event"]
        for d in slack_tenant.twin.deliveries(tenant=slack_tenant.tenant, kind="events")
    }
    changed = sent["subteam_members_changed"]
    assert changed["subteam_id"] == group and changed["added_users"] == ["U0DTUBOB01"]
    assert changed["removed_users"] == [] and changed["added_users_count"] == "1"
    assert sent["subteam_updated"]["subteam"]["users"] == ["U0DTUBOB01"]
