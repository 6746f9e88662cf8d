"""Profiles, Do Not Disturb, reminders, saved items (stars), custom emoji and link unfurls,
through slack_sdk's WebClient over HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk import WebClient

from dtu.testing.plugin import Tenant
from tests.twins.slack.conftest import recorded_events, seed_request_url, slack_error

# slack_sdk warns that stars.* and reminders.* are deprecated (Slack keeps serving them).
pytestmark = pytest.mark.filterwarnings("ignore:.* is deprecated:UserWarning")


def _now(tenant: Tenant) -> float:
    """The tenant's clock, frozen: durations the twin answers are then exact."""
    return float(tenant.twin.clock(tenant=tenant.tenant, freeze=True)["now"])


# -- users.profile.set, team.profile.get, users.identity ---------------------------------------


def test_profile_set_changes_what_everyone_sees(alice: WebClient, bot: WebClient) -> None:
    answer = alice.users_profile_set(
        profile={
            "status_text": "In a meeting",
            "status_emoji": ":calendar:",
            "title": "CTO",
            "pronouns": "she/her",
        }
    )
    assert answer["profile"]["status_text"] == "In a meeting" and answer["profile"]["pronouns"] == "she/her"
    seen = bot.users_info(user="U0DTUALICE")["user"]
    assert seen["profile"]["title"] == "CTO" and seen["profile"]["status_emoji"] == ":calendar:"
    assert bot.users_profile_get(user="U0DTUALICE")["profile"]["status_text"] == "In a meeting"


def test_profile_set_by_name_and_value_and_names_recompose(alice: WebClient) -> None:
    alice.users_profile_set(name="first_name", value="Ally")
    profile = alice.users_profile_get()["profile"]
    assert profile["first_name"] == "Ally" and profile["real_name"] == "Ally Anderson"


def test_status_expires_on_the_twin_clock(slack_tenant: Tenant, alice: WebClient) -> None:
    until = int(_now(slack_tenant)) + 60
    alice.users_profile_set(profile={"status_text": "Lunch", "status_expiration": until})
    assert alice.users_profile_get()["profile"]["status_expiration"] == until
    slack_tenant.twin.clock(tenant=slack_tenant.tenant, advance_s=61)
    profile = alice.users_profile_get()["profile"]
    assert profile["status_text"] == "" and profile["status_expiration"] == 0


def test_profile_set_errors(alice: WebClient, bob: WebClient, bot: WebClient) -> None:
    assert slack_error(alice.users_profile_set, profile={"status_text": "x" * 101}) == "too_long"
    assert slack_error(alice.users_profile_set, profile={"display_name": "here"}) == "reserved_name"
    assert (
        slack_error(alice.users_profile_set, profile={"status_emoji": "coffee"})
        == "invalid_emoji_not_allowed"
    )
    assert slack_error(alice.api_call, api_method="users.profile.set", data={"profile": "{nope"}) == (
        "invalid_profile"
    )
    assert slack_error(alice.users_profile_set) == "invalid_profile"
    assert slack_error(bob.users_profile_set, user="U0DTUCAROL", profile={"title": "Boss"}) == "not_admin"
    assert slack_error(bob.users_profile_set, profile={"email": "x@example.com"}) == "not_admin"
    assert slack_error(
        alice.users_profile_set, user="U0DTUBOB01", profile={"email": "carol@example.com"}
    ) == ("email_taken")
    assert slack_error(bot.users_profile_set, profile={"title": "x"}) == "not_allowed_token_type"
    assert bob.users_profile_get()["profile"]["title"] == "Engineer"  # nothing stored by the failures


def test_admin_sets_another_persons_profile(alice: WebClient, bob: WebClient) -> None:
    alice.users_profile_set(
        user="U0DTUBOB01", profile={"title": "Staff Engineer", "email": "Robert@Example.com"}
    )
    assert bob.users_profile_get()["profile"]["title"] == "Staff Engineer"
    assert alice.users_lookupByEmail(email="robert@example.com")["user"]["id"] == "U0DTUBOB01"


def test_user_change_event_reaches_subscribed_apps(slack_tenant: Tenant, alice: WebClient) -> None:
    seed_request_url(slack_tenant, ["user_change"])
    alice.users_profile_set(profile={"status_text": "Away"})
    [event] = recorded_events(slack_tenant, "user_change")
    assert event["user"]["id"] == "U0DTUALICE" and event["user"]["profile"]["status_text"] == "Away"


FIELDS = [
    {"id": "Xf01", "ordering": 1, "label": "Team", "type": "text"},
    {"id": "Xf02", "ordering": 0, "label": "Desk", "type": "text", "is_hidden": True},
]


def _tenant_with_fields(slack_twin: Any) -> tuple[str, WebClient]:
    fixture = slack_twin.runtime.default_fixture
    fixture["team"]["profile_fields"] = FIELDS
    made = slack_twin.create_tenant(fixture)
    return made["tenant"], WebClient(
        token=made["credentials"]["user_token"], base_url=slack_twin.url + "/api/"
    )


def test_team_profile_fields_and_setting_their_values(slack_twin: Any) -> None:
    tenant, alice = _tenant_with_fields(slack_twin)
    try:
        fields = alice.team_profile_get()["profile"]["fields"]
        assert [f["id"] for f in fields] == ["Xf02", "Xf01"] and fields[0]["is_hidden"] is True
        assert [f["id"] for f in alice.team_profile_get(visibility="visible")["profile"]["fields"]] == [
            "Xf01"
        ]
        alice.users_profile_set(profile={"fields": {"Xf01": {"value": "Platform", "alt": ""}}})
        assert alice.users_profile_get()["profile"]["fields"] == {"Xf01": {"value": "Platform", "alt": ""}}
        assert slack_error(alice.users_profile_set, profile={"fields": {"Xf99": {"value": "?"}}}) == (
            "invalid_profile"
        )
    finally:
        slack_twin.delete_tenant(tenant)


def test_users_identity(alice: WebClient, slack_tenant: Tenant, bot: WebClient) -> None:
    answer = alice.users_identity()
    assert answer["user"] == {"name": "Alice Anderson", "id": "U0DTUALICE"}
    assert answer["team"]["id"] == slack_tenant.team_id
    assert slack_error(bot.users_identity) == "not_allowed_token_type"


# -- dnd.* -------------------------------------------------------------------------------------


def test_dnd_default_schedule_is_ten_pm_to_eight_am(alice: WebClient, bot: WebClient) -> None:
    info = alice.dnd_info()
    assert info["dnd_enabled"] is True and info["snooze_enabled"] is False
    assert info["next_dnd_end_ts"] - info["next_dnd_start_ts"] == 10 * 3600
    # Pacific time: 22:00 local is 06:00 UTC.
    assert info["next_dnd_start_ts"] % 86400 == 6 * 3600
    other = bot.dnd_info(user="U0DTUALICE")
    assert "snooze_enabled" not in other and other["next_dnd_start_ts"] == info["next_dnd_start_ts"]


def test_snooze_lifecycle(slack_tenant: Tenant, alice: WebClient, bob: WebClient) -> None:
    _now(slack_tenant)
    snooze = alice.dnd_setSnooze(num_minutes=30)
    assert snooze["snooze_enabled"] is True and snooze["snooze_remaining"] == 1800
    info = alice.dnd_info()
    assert info["snooze_enabled"] is True and info["snooze_endtime"] == snooze["snooze_endtime"]
    assert "snooze_enabled" not in bob.dnd_info(user="U0DTUALICE")
    slack_tenant.twin.clock(tenant=slack_tenant.tenant, advance_s=600)
    assert alice.dnd_info()["snooze_remaining"] == 1200
    ended = alice.dnd_endSnooze()
    assert ended["snooze_enabled"] is False and ended["dnd_enabled"] is True
    assert slack_error(alice.dnd_endSnooze) == "snooze_not_active"


def test_snooze_runs_out_on_the_clock(slack_tenant: Tenant, alice: WebClient) -> None:
    alice.dnd_setSnooze(num_minutes=1)
    slack_tenant.twin.clock(tenant=slack_tenant.tenant, advance_s=61)
    assert alice.dnd_info()["snooze_enabled"] is False


def test_end_dnd_ends_the_session_in_force(slack_tenant: Tenant, alice: WebClient) -> None:
    now = _now(slack_tenant)
    info = alice.dnd_info()
    if not info["next_dnd_start_ts"] <= now < info["next_dnd_end_ts"]:
        assert slack_error(alice.dnd_endDnd) == "not_in_dnd"
        slack_tenant.twin.clock(tenant=slack_tenant.tenant, at=info["next_dnd_start_ts"] + 60)
    alice.dnd_endDnd()
    after = alice.dnd_info()
    assert after["next_dnd_start_ts"] == info["next_dnd_start_ts"] + 86400


def test_dnd_errors_and_team_info(alice: WebClient, bot: WebClient) -> None:
    assert slack_error(alice.dnd_setSnooze, num_minutes="soon") == "missing_duration"
    assert slack_error(bot.dnd_setSnooze, num_minutes=5) == "not_allowed_token_type"
    assert slack_error(bot.dnd_info, user="U0NOBODY00") == "user_not_found"
    team = bot.dnd_teamInfo(users=["U0DTUALICE", "U0DTUBOB01", "U0DTUBOT01"])["users"]
    assert (
        set(team) == {"U0DTUALICE", "U0DTUBOB01", "U0DTUBOT01"} and team["U0DTUBOT01"]["dnd_enabled"] is False
    )
    assert slack_error(bot.api_call, api_method="dnd.teamInfo", params={}) == "no_users_provided"
    assert slack_error(bot.dnd_teamInfo, users=["U0NOBODY00"]) == "user_not_visible"


def test_dnd_updated_user_event(slack_tenant: Tenant, alice: WebClient) -> None:
    seed_request_url(slack_tenant, ["dnd_updated_user"])
    alice.dnd_setSnooze(num_minutes=5)
    [event] = recorded_events(slack_tenant, "dnd_updated_user")
    assert event["user"] == "U0DTUALICE" and event["dnd_status"]["dnd_enabled"] is True


# -- reminders.* -------------------------------------------------------------------------------


def test_reminder_lifecycle(slack_tenant: Tenant, alice: WebClient, bob: WebClient) -> None:
    now = int(_now(slack_tenant))
    made = alice.reminders_add(text="eat a banana", time="in 15 minutes")["reminder"]
    assert made["time"] == now + 900 and made["recurring"] is False and made["complete_ts"] == 0
    assert made["id"].startswith("Rm") and made["creator"] == made["user"] == "U0DTUALICE"
    assert alice.reminders_info(reminder=made["id"])["reminder"] == made
    assert [r["id"] for r in alice.reminders_list()["reminders"]] == [made["id"]]
    assert bob.reminders_list()["reminders"] == []
    assert slack_error(bob.reminders_info, reminder=made["id"]) == "not_found"
    alice.reminders_complete(reminder=made["id"])
    assert alice.reminders_info(reminder=made["id"])["reminder"]["complete_ts"] >= now
    alice.reminders_delete(reminder=made["id"])
    assert slack_error(alice.reminders_info, reminder=made["id"]) == "not_found"
    assert slack_error(alice.reminders_delete, reminder=made["id"]) == "not_found"


def test_reminder_times_as_slack_reads_them(slack_tenant: Tenant, alice: WebClient) -> None:
    now = int(_now(slack_tenant))
    assert alice.reminders_add(text="a", time="300")["reminder"]["time"] == now + 300
    assert alice.reminders_add(text="b", time=str(now + 7 * 86400))["reminder"]["time"] == now + 7 * 86400
    weekly = alice.reminders_add(text="standup", time="every Thursday")["reminder"]
    assert weekly["recurring"] is True and weekly["recurrence"] == {
        "frequency": "weekly",
        "weekdays": ["thursday"],
    }
    assert "time" not in weekly
    assert slack_error(alice.reminders_complete, reminder=weekly["id"]) == "cannot_complete_recurring"
    explicit = alice.reminders_add(text="c", time="in 1 hour", recurrence=json.dumps({"frequency": "daily"}))[
        "reminder"
    ]
    assert explicit["recurrence"] == {"frequency": "daily"}
    assert slack_error(alice.reminders_add, text="d", time="whenever") == "cannot_parse"
    assert slack_error(alice.reminders_add, text="d", time=str(now - 10 * 86400)) == "cannot_parse"


def test_reminders_for_others_are_refused(alice: WebClient, bot: WebClient) -> None:
    assert (
        slack_error(alice.reminders_add, text="x", time="in 1 hour", user="U0DTUBOB01") == "cannot_add_others"
    )
    assert slack_error(alice.reminders_add, text="x", time="in 1 hour", user="U0DTUBOT01") == "cannot_add_bot"
    assert (
        slack_error(alice.reminders_add, text="x", time="in 1 hour", user="USLACKBOT")
        == "cannot_add_slackbot"
    )
    assert slack_error(bot.reminders_list) == "not_allowed_token_type"
    assert alice.reminders_list()["reminders"] == []


# -- stars.* -----------------------------------------------------------------------------------


def test_stars_save_messages_and_channels_privately(
    alice: WebClient, bob: WebClient, bot: WebClient, general: str
) -> None:
    ts = bot.chat_postMessage(channel=general, text="read later")["ts"]
    alice.stars_add(channel=general, timestamp=ts)
    alice.stars_add(channel="C0DTURANDM")
    items = alice.stars_list()["items"]
    assert [i["type"] for i in items] == ["channel", "message"]
    assert items[1]["message"]["text"] == "read later" and items[1]["message"]["permalink"].endswith(
        ts.replace(".", "")
    )
    assert items[0]["channel"] == "C0DTURANDM"
    assert bob.stars_list()["items"] == []
    assert slack_error(alice.stars_add, channel=general, timestamp=ts) == "already_starred"
    alice.stars_remove(channel=general, timestamp=ts)
    assert slack_error(alice.stars_remove, channel=general, timestamp=ts) == "not_starred"
    assert [i["type"] for i in alice.stars_list()["items"]] == ["channel"]


def test_stars_paging_and_errors(alice: WebClient, bot: WebClient, general: str) -> None:
    tss = [bot.chat_postMessage(channel=general, text=f"m{i}")["ts"] for i in range(5)]
    for ts in tss:
        alice.stars_add(channel=general, timestamp=ts)
    page = alice.stars_list(count=2, page=2)
    assert page["paging"] == {"per_page": 2, "spill": 0, "page": 2, "total": 5, "pages": 3}
    assert [i["message"]["ts"] for i in page["items"]] == [tss[2], tss[1]]
    seen, cursor = [], None
    while True:
        answer = alice.stars_list(limit=2, cursor=cursor)
        seen += [i["message"]["ts"] for i in answer["items"]]
        cursor = answer["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(tss))
    assert slack_error(alice.stars_add) == "no_item_specified"
    assert slack_error(alice.stars_add, channel=general, timestamp="nope") == "bad_timestamp"
    assert slack_error(alice.stars_add, channel=general, timestamp="1.000001") == "message_not_found"
    assert slack_error(alice.stars_add, file="F0NOTHERE0") == "file_not_found"
    assert slack_error(alice.stars_add, channel="C0NOWHERE0") == "channel_not_found"
    assert slack_error(bot.stars_add, channel=general) == "not_allowed_token_type"


def test_a_deleted_message_leaves_the_saved_list(alice: WebClient, bot: WebClient, general: str) -> None:
    ts = bot.chat_postMessage(channel=general, text="soon gone")["ts"]
    alice.stars_add(channel=general, timestamp=ts)
    bot.chat_delete(channel=general, ts=ts)
    assert alice.stars_list()["items"] == []


# -- emoji.list --------------------------------------------------------------------------------


def test_emoji_list_shows_the_workspaces_custom_emoji(slack_twin: Any) -> None:
    fixture = slack_twin.runtime.default_fixture
    fixture["emoji"] = {"partyparrot": "https://emoji.example.com/parrot.gif", "parrot": "alias:partyparrot"}
    made = slack_twin.create_tenant(fixture)
    try:
        client = WebClient(token=made["credentials"]["bot_token"], base_url=slack_twin.url + "/api/")
        assert client.emoji_list()["emoji"] == {
            "parrot": "alias:partyparrot",
            "partyparrot": "https://emoji.example.com/parrot.gif",
        }
    finally:
        slack_twin.delete_tenant(made["tenant"])


def test_emoji_list_of_the_default_workspace_is_empty(bot: WebClient) -> None:
    assert bot.emoji_list()["emoji"] == {}


# -- chat.unfurl -------------------------------------------------------------------------------


def test_unfurl_attaches_a_preview_and_tells_apps(slack_tenant: Tenant, bot: WebClient, general: str) -> None:
    seed_request_url(slack_tenant, ["message.channels"])
    ts = bot.chat_postMessage(channel=general, text="look <https://example.com/issue/1|issue 1>")["ts"]
    preview = {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Issue 1*: open"}}]}
    bot.chat_unfurl(channel=general, ts=ts, unfurls={"https://example.com/issue/1": preview})
    [message] = bot.conversations_history(channel=general, limit=1)["messages"]
    [attachment] = message["attachments"]
    assert (
        attachment["app_unfurl_url"] == "https://example.com/issue/1" and attachment["is_app_unfurl"] is True
    )
    assert attachment["blocks"] == preview["blocks"]
    bot.chat_unfurl(
        channel=general, ts=ts, unfurls={"https://example.com/issue/1": {"text": "Issue 1: closed"}}
    )
    [again] = bot.conversations_history(channel=general, limit=1)["messages"][0]["attachments"]
    assert again["text"] == "Issue 1: closed"
    changed = [e for e in recorded_events(slack_tenant, "message") if e.get("subtype") == "message_changed"]
    assert len(changed) == 2 and changed[-1]["message"]["attachments"][0]["text"] == "Issue 1: closed"


def test_unfurl_errors(bot: WebClient, general: str) -> None:
    ts = bot.chat_postMessage(channel=general, text="see https://example.com/a")["ts"]
    ok = {"https://example.com/a": {"text": "A"}}
    assert slack_error(bot.chat_unfurl, channel=general, ts=ts, unfurls={"https://other.example/": {}}) == (
        "cannot_unfurl_url"
    )
    assert slack_error(bot.chat_unfurl, channel="C0NOWHERE0", ts=ts, unfurls=ok) == "cannot_find_channel"
    assert slack_error(bot.chat_unfurl, channel=general, ts="1.000001", unfurls=ok) == "cannot_find_message"
    assert slack_error(bot.chat_unfurl, channel=general, ts=ts, unfurls={}) == "invalid_unfurls_format"
    assert slack_error(bot.chat_unfurl, channel=general, ts=ts, unfurls={"https://example.com/a": "A"}) == (
        "cannot_parse_attachment"
    )
    assert slack_error(bot.api_call, api_method="chat.unfurl", json={"channel": general, "ts": ts}) == (
        "missing_unfurls"
    )
    assert (
        slack_error(bot.api_call, api_method="chat.unfurl", json={"ts": ts, "unfurls": ok})
        == "missing_channel"
    )
    assert slack_error(bot.chat_unfurl, unfurl_id="U1", source="composer", unfurls=ok) == "invalid_unfurl_id"
    assert "attachments" not in bot.conversations_history(channel=general, limit=1)["messages"][0]
