"""Every control-plane call of CONTRACT.md section 5, over real HTTP.

Per-tenant calls run on the session twin against the test's own tenant; whole-twin calls
(reset, whole snapshots, twin-wide faults and clock, seeding the default tenant) run on
`private_twin` so that they cannot disturb the tenants of other tests.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from dtu import __version__
from dtu.settings import TwinSettings
from dtu.testing.plugin import Tenant
from dtu.testing.server import TwinServer
from tests.core.conftest import Receiver, journal, put_faults, wait_for
from twins.slack.app import create_app
from twins.slack.seed import ALICE, BOT_USER, GENERAL, default_fixture

T0 = 1_700_000_000.0
DEFAULT_BOT = "xoxb-dtu-bot-token"
DEFAULT_USER = "xoxp-dtu-user-token"


def cp(twin: TwinServer, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """A control-plane call that does not raise on errors (negative tests read the body)."""
    return twin.admin.request(method, f"/_dtu{path}", **kwargs)


def _client(twin: TwinServer, token: str) -> WebClient:
    return WebClient(token=token, base_url=twin.url + "/api/", retry_handlers=[], timeout=10)


def _channel_names(client: WebClient) -> list[str]:
    return sorted(
        c["name"] for c in client.conversations_list(types="public_channel,private_channel")["channels"]
    )


def _texts(client: WebClient, channel: str = GENERAL) -> list[str]:
    return [m["text"] for m in client.conversations_history(channel=channel)["messages"]]


def _assert_control_error(resp: httpx.Response, status: int, field: str | None = None) -> None:
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert isinstance(error["message"], str) and error["message"]
    if field is not None:
        assert error["field"] == field


def _other_fixture() -> dict[str, Any]:
    fixture = default_fixture()
    fixture["team"]["name"] = "Other Co"
    fixture["channels"] = [
        {"id": "C0DTUOPS01", "name": "ops", "creator": ALICE, "members": [ALICE, BOT_USER]}
    ]
    return fixture


# -- health -------------------------------------------------------------------------------------------


def test_health(slack_twin: TwinServer, dtu_db_url: str | None) -> None:
    resp = cp(slack_twin, "GET", "/health")
    assert resp.status_code == 200
    body = resp.json()
    assert body["twin"] == "slack" and body["status"] == "ok" and body["version"] == __version__
    assert body["db"] == ("sqlite" if dtu_db_url is None else "postgresql")


def test_control_plane_is_not_journaled(slack_tenant: Tenant) -> None:
    twin = slack_tenant.twin
    for path in ("/health", "/tenants", "/faults", "/clock", "/snapshots"):
        cp(twin, "GET", path)
    entries = twin.control("GET", "/journal")["entries"]
    assert not [e for e in entries if e["path"].startswith("/_dtu")]


# -- reset --------------------------------------------------------------------------------------------


def test_reset_whole_twin_drops_every_tenant(fresh_private: TwinServer) -> None:
    twin = fresh_private
    made = twin.create_tenant()
    default_bot = _client(twin, DEFAULT_BOT)
    default_bot.chat_postMessage(channel=GENERAL, text="before reset")
    twin.clock(freeze=True, at=T0)

    resp = cp(twin, "POST", "/reset")
    assert resp.status_code == 200 and resp.json() == {"ok": True, "tenant": None}
    assert [t["tenant"] for t in twin.control("GET", "/tenants")["tenants"]] == ["default"]
    with pytest.raises(SlackApiError) as err:
        _client(twin, made["credentials"]["bot_token"]).auth_test()
    assert err.value.response["error"] == "invalid_auth"
    assert _texts(default_bot) == []
    assert twin.clock()["frozen"] is False


def test_reset_one_tenant_restores_its_fixture_with_the_same_credentials(
    slack_tenant: Tenant, bot: WebClient, general: str
) -> None:
    twin = slack_tenant.twin
    bot.chat_postMessage(channel=general, text="to be forgotten")
    bot.conversations_create(name="scratch")
    before = [t for t in twin.control("GET", "/tenants")["tenants"] if t["tenant"] == slack_tenant.tenant]

    resp = cp(twin, "POST", "/reset", params={"tenant": slack_tenant.tenant})
    assert resp.status_code == 200 and resp.json() == {"ok": True, "tenant": slack_tenant.tenant}
    after = [t for t in twin.control("GET", "/tenants")["tenants"] if t["tenant"] == slack_tenant.tenant]
    assert after[0]["credentials"] == before[0]["credentials"] == slack_tenant.credentials
    assert bot.auth_test()["team_id"] == slack_tenant.team_id
    assert _texts(bot, general) == []
    assert _channel_names(bot) == ["general", "random"]


def test_reset_one_tenant_reloads_the_fixture_it_was_made_from(slack_twin: TwinServer) -> None:
    made = slack_twin.create_tenant(_other_fixture())
    try:
        bot = _client(slack_twin, made["credentials"]["bot_token"])
        bot.conversations_create(name="extra")
        slack_twin.reset(made["tenant"])
        assert _channel_names(bot) == ["ops"]
    finally:
        slack_twin.delete_tenant(made["tenant"])


def test_reset_unknown_tenant_is_404(slack_twin: TwinServer) -> None:
    _assert_control_error(cp(slack_twin, "POST", "/reset", params={"tenant": "tnnosuchone"}), 404, "tenant")


# -- seed ---------------------------------------------------------------------------------------------


def test_seed_default_tenant(fresh_private: TwinServer) -> None:
    fixture = {
        "channels": [{"id": "C0SEEDED01", "name": "seeded", "creator": ALICE, "members": [ALICE]}],
        "messages": [{"channel": "C0SEEDED01", "user": ALICE, "text": "seeded hello"}],
    }
    resp = cp(fresh_private, "POST", "/seed", json=fixture)
    assert resp.status_code == 200
    body = resp.json()
    assert body["tenant"] == "default"
    assert body["created"]["channels"] == ["C0SEEDED01"]
    assert [m["channel"] for m in body["created"]["messages"]] == ["C0SEEDED01"]
    alice = _client(fresh_private, DEFAULT_USER)
    assert _texts(alice, "C0SEEDED01") == ["seeded hello"]
    assert (
        body["created"]["messages"][0]["ts"]
        == alice.conversations_history(channel="C0SEEDED01")["messages"][0]["ts"]
    )


def test_seed_one_tenant_adds_to_it_alone(slack_tenant: Tenant, alice: WebClient) -> None:
    twin = slack_tenant.twin
    other = twin.create_tenant()
    try:
        fixture = {
            "users": [{"id": "U0SEEDDAVE", "name": "dave", "email": "dave@example.com"}],
            "channels": [{"id": "C0SEEDED02", "name": "seeded-two", "creator": ALICE, "members": [ALICE]}],
        }
        resp = cp(twin, "POST", "/seed", params={"tenant": slack_tenant.tenant}, json=fixture)
        assert resp.status_code == 200
        assert resp.json()["created"]["users"] == ["U0SEEDDAVE"]
        assert resp.json()["tenant"] == slack_tenant.tenant
        assert alice.users_lookupByEmail(email="dave@example.com")["user"]["id"] == "U0SEEDDAVE"
        assert "seeded-two" in _channel_names(alice)
        other_alice = _client(twin, other["credentials"]["user_token"])
        assert "seeded-two" not in _channel_names(other_alice)
    finally:
        twin.delete_tenant(other["tenant"])


@pytest.mark.parametrize("body", [b"[1, 2]", b"{not json", b'{"planets": []}'])
def test_seed_refuses_what_is_not_a_fixture(slack_tenant: Tenant, body: bytes) -> None:
    resp = cp(
        slack_tenant.twin,
        "POST",
        "/seed",
        params={"tenant": slack_tenant.tenant},
        content=body,
        headers={"content-type": "application/json"},
    )
    _assert_control_error(resp, 400)


def test_seed_unknown_tenant_is_404(slack_twin: TwinServer) -> None:
    _assert_control_error(
        cp(slack_twin, "POST", "/seed", params={"tenant": "tnnosuchone"}, json={}), 404, "tenant"
    )


# -- tenants ------------------------------------------------------------------------------------------


def test_create_tenant_with_the_default_fixture(slack_twin: TwinServer) -> None:
    resp = cp(slack_twin, "POST", "/tenants")
    assert resp.status_code == 201
    made = resp.json()
    try:
        creds = made["credentials"]
        assert set(creds) >= {
            "team_id",
            "app_id",
            "bot_token",
            "user_token",
            "config_token",
            "signing_secret",
            "user_tokens",
        }
        assert creds["bot_token"].startswith("xoxb-") and creds["bot_token"] != DEFAULT_BOT
        assert creds["user_tokens"]["alice@example.com"] == creds["user_token"]
        bot = _client(slack_twin, creds["bot_token"])
        assert bot.auth_test()["team_id"] == creds["team_id"]
        assert _channel_names(bot) == ["general", "random"]
        listed = {t["tenant"]: t for t in slack_twin.control("GET", "/tenants")["tenants"]}
        assert listed[made["tenant"]]["credentials"] == creds
        assert "default" in listed
    finally:
        slack_twin.delete_tenant(made["tenant"])


def test_create_tenant_from_a_fixture(slack_twin: TwinServer) -> None:
    resp = cp(slack_twin, "POST", "/tenants", json={"fixture": _other_fixture()})
    assert resp.status_code == 201
    made = resp.json()
    try:
        bot = _client(slack_twin, made["credentials"]["bot_token"])
        assert made["credentials"]["bot_token"] != DEFAULT_BOT  # minted afresh: it leads here alone
        assert bot.auth_test()["team"] == "Other Co"
        assert _channel_names(bot) == ["ops"]
    finally:
        slack_twin.delete_tenant(made["tenant"])


def test_tenants_are_isolated(slack_tenant: Tenant, bot: WebClient, general: str) -> None:
    other = slack_tenant.twin.create_tenant()
    try:
        bot.chat_postMessage(channel=general, text="mine only")
        assert _texts(_client(slack_tenant.twin, other["credentials"]["bot_token"]), general) == []
    finally:
        slack_tenant.twin.delete_tenant(other["tenant"])


@pytest.mark.parametrize("body", [{"fixture": [1]}, {"fixture": {"planets": []}}, [1]])
def test_create_tenant_refuses_a_bad_fixture(slack_twin: TwinServer, body: Any) -> None:
    before = len(slack_twin.control("GET", "/tenants")["tenants"])
    _assert_control_error(cp(slack_twin, "POST", "/tenants", json=body), 400, "fixture")
    assert len(slack_twin.control("GET", "/tenants")["tenants"]) == before


def test_delete_tenant(slack_twin: TwinServer) -> None:
    made = slack_twin.create_tenant()
    bot = _client(slack_twin, made["credentials"]["bot_token"])
    bot.auth_test()
    resp = cp(slack_twin, "DELETE", f"/tenants/{made['tenant']}")
    assert resp.status_code == 200 and resp.json() == {"ok": True, "tenant": made["tenant"]}
    assert made["tenant"] not in [t["tenant"] for t in slack_twin.control("GET", "/tenants")["tenants"]]
    with pytest.raises(SlackApiError) as err:
        bot.auth_test()
    assert err.value.response["error"] == "invalid_auth"
    _assert_control_error(cp(slack_twin, "DELETE", f"/tenants/{made['tenant']}"), 404, "tenant")


def test_the_default_tenant_cannot_be_deleted(slack_twin: TwinServer) -> None:
    _assert_control_error(cp(slack_twin, "DELETE", "/tenants/default"), 400, "tenant")


# -- snapshots ----------------------------------------------------------------------------------------


def test_snapshot_and_restore_one_tenant(slack_tenant: Tenant, bot: WebClient, general: str) -> None:
    twin = slack_tenant.twin
    bot.chat_postMessage(channel=general, text="kept")
    resp = cp(twin, "POST", "/snapshots", params={"tenant": slack_tenant.tenant})
    assert resp.status_code == 201
    snap = resp.json()
    assert snap["tenant"] == slack_tenant.tenant
    assert {"id": snap["id"], "tenant": slack_tenant.tenant, "version": __version__} in twin.control(
        "GET", "/snapshots"
    )["snapshots"]

    other = twin.create_tenant()
    try:
        other_bot = _client(twin, other["credentials"]["bot_token"])
        other_bot.chat_postMessage(channel=general, text="other tenant, after the snapshot")
        bot.chat_postMessage(channel=general, text="after the snapshot")
        bot.conversations_create(name="after-snapshot")

        resp = cp(twin, "POST", f"/snapshots/{snap['id']}/restore")
        assert resp.status_code == 200
        assert resp.json() == {"ok": True, "id": snap["id"], "tenant": slack_tenant.tenant}
        assert _texts(bot, general) == ["kept"]
        assert "after-snapshot" not in _channel_names(bot)
        assert _texts(other_bot, general) == ["other tenant, after the snapshot"]
    finally:
        twin.delete_tenant(other["tenant"])


def test_snapshot_and_restore_the_whole_twin(fresh_private: TwinServer) -> None:
    twin = fresh_private
    kept = twin.create_tenant()
    twin.clock(freeze=True, at=T0)
    snap = cp(twin, "POST", "/snapshots").json()
    assert snap["tenant"] is None

    later = twin.create_tenant()
    _client(twin, DEFAULT_BOT).chat_postMessage(channel=GENERAL, text="after the snapshot")
    twin.clock(advance_s=3600)

    assert cp(twin, "POST", f"/snapshots/{snap['id']}/restore").status_code == 200
    tenants = [t["tenant"] for t in twin.control("GET", "/tenants")["tenants"]]
    assert kept["tenant"] in tenants and later["tenant"] not in tenants
    assert _texts(_client(twin, DEFAULT_BOT)) == []
    assert _client(twin, kept["credentials"]["bot_token"]).auth_test()["ok"]
    with pytest.raises(SlackApiError):
        _client(twin, later["credentials"]["bot_token"]).auth_test()
    assert twin.clock()["now"] == T0


def test_restore_unknown_snapshot_is_404(slack_twin: TwinServer) -> None:
    _assert_control_error(cp(slack_twin, "POST", "/snapshots/snap-does-not-exist/restore"), 404, "id")


def test_snapshot_of_unknown_tenant_is_404(slack_twin: TwinServer) -> None:
    _assert_control_error(
        cp(slack_twin, "POST", "/snapshots", params={"tenant": "tnnosuchone"}), 404, "tenant"
    )


# -- faults -------------------------------------------------------------------------------------------

OUTAGE_RULE: dict[str, Any] = {
    "id": "down",
    "match": {"operation": "auth.test"},
    "action": {"kind": "outage"},
}
OUTAGE: dict[str, Any] = {"version": 1, "name": "down", "seed": 3, "rules": [OUTAGE_RULE]}
YAML_PROFILE = """
version: 1
name: yaml-profile
seed: 5
rules:
  - id: throttle-auth
    match: {twin: slack, operation: auth.test}
    action: {kind: rate_limit, retry_after_s: 7}
"""


def test_faults_put_get_delete_for_one_tenant(slack_tenant: Tenant, bot: WebClient) -> None:
    twin, params = slack_tenant.twin, {"tenant": slack_tenant.tenant}
    assert cp(twin, "GET", "/faults", params=params).json() == {
        "tenant": slack_tenant.tenant,
        "profile": None,
    }

    resp = cp(twin, "PUT", "/faults", params=params, json=OUTAGE)
    assert resp.status_code == 200 and resp.json()["profile"]["name"] == "down"
    got = cp(twin, "GET", "/faults", params=params).json()["profile"]
    assert got["rules"][0]["action"] == {"kind": "outage"} and got["seed"] == 3
    with pytest.raises(SlackApiError) as err:
        bot.auth_test()
    assert err.value.response.status_code == 503

    assert cp(twin, "DELETE", "/faults", params=params).json() == {"ok": True, "tenant": slack_tenant.tenant}
    assert cp(twin, "GET", "/faults", params=params).json()["profile"] is None
    assert bot.auth_test()["ok"]


def test_faults_put_yaml(slack_tenant: Tenant, bot: WebClient) -> None:
    twin, params = slack_tenant.twin, {"tenant": slack_tenant.tenant}
    resp = cp(
        twin,
        "PUT",
        "/faults",
        params=params,
        content=YAML_PROFILE.encode(),
        headers={"content-type": "application/yaml"},
    )
    assert resp.status_code == 200, resp.text
    assert cp(twin, "GET", "/faults", params=params).json()["profile"]["name"] == "yaml-profile"
    with pytest.raises(SlackApiError) as err:
        bot.auth_test()
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "7"


def test_faults_for_one_tenant_leave_the_others_alone(slack_tenant: Tenant, bot: WebClient) -> None:
    twin = slack_tenant.twin
    other = twin.create_tenant()
    try:
        put_faults(twin, slack_tenant.tenant, OUTAGE_RULE)
        with pytest.raises(SlackApiError):
            bot.auth_test()
        assert _client(twin, other["credentials"]["bot_token"]).auth_test()["ok"]
    finally:
        twin.delete_tenant(other["tenant"])


def test_twin_wide_faults_apply_to_every_tenant(fresh_private: TwinServer) -> None:
    twin = fresh_private
    made = twin.create_tenant()
    assert cp(twin, "PUT", "/faults", json=OUTAGE).json()["tenant"] is None
    assert cp(twin, "GET", "/health").json()["faults"] == "down"
    for token in (DEFAULT_BOT, made["credentials"]["bot_token"]):
        with pytest.raises(SlackApiError) as err:
            _client(twin, token).auth_test()
        assert err.value.response["error"] == "service_unavailable"

    # A tenant's own profile takes the place of the twin-wide one for that tenant.
    put_faults(
        twin,
        made["tenant"],
        {"id": "nothing", "match": {"operation": "users.list"}, "action": {"kind": "outage"}},
    )
    assert _client(twin, made["credentials"]["bot_token"]).auth_test()["ok"]

    assert cp(twin, "DELETE", "/faults").status_code == 200
    assert cp(twin, "GET", "/faults").json()["profile"] is None
    assert _client(twin, DEFAULT_BOT).auth_test()["ok"]


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        ({"rules": [{"id": "x", "action": {"kind": "explode"}}]}, "rules[0].action.kind"),
        ({"rules": [{"id": "x", "action": {"kind": "drop"}, "extra": 1}]}, "rules[0].extra"),
        ({"rules": [{"id": "x", "probability": "high", "action": {"kind": "drop"}}]}, "rules[0].probability"),
        ({"rules": [{"id": "x", "action": {"kind": "duplicate"}}]}, "rules[0].action.kind"),
        (
            {"rules": [{"id": "x", "action": {"kind": "drop"}}, {"id": "x", "action": {"kind": "drop"}}]},
            "rules[1].id",
        ),
        (
            {
                "rules": [
                    {
                        "id": "x",
                        "match": {"twin": "slack", "operation": "chat.postMesage"},
                        "action": {"kind": "drop"},
                    }
                ]
            },
            "rules[0].match.operation",
        ),
    ],
)
def test_invalid_profile_is_refused_with_the_field(
    slack_tenant: Tenant, profile: dict[str, Any], field: str
) -> None:
    twin, params = slack_tenant.twin, {"tenant": slack_tenant.tenant}
    put_faults(twin, slack_tenant.tenant, OUTAGE_RULE)
    _assert_control_error(cp(twin, "PUT", "/faults", params=params, json=profile), 400, field)
    assert cp(twin, "GET", "/faults", params=params).json()["profile"]["name"] == "test"  # unchanged


def test_invalid_yaml_profile_is_refused(slack_tenant: Tenant) -> None:
    resp = cp(
        slack_tenant.twin,
        "PUT",
        "/faults",
        params={"tenant": slack_tenant.tenant},
        content=b"rules: [\n - id: a\n   action: {kind: drop",
        headers={"content-type": "application/yaml"},
    )
    _assert_control_error(resp, 400)


def test_faults_for_unknown_tenant_is_404(slack_twin: TwinServer) -> None:
    _assert_control_error(
        cp(slack_twin, "PUT", "/faults", params={"tenant": "tnnosuchone"}, json=OUTAGE), 404, "tenant"
    )


# -- clock --------------------------------------------------------------------------------------------


def test_clock_freeze_at_and_advance_one_tenant(slack_tenant: Tenant, bot: WebClient, general: str) -> None:
    twin, params = slack_tenant.twin, {"tenant": slack_tenant.tenant}
    real = cp(twin, "GET", "/clock").json()
    assert real["frozen"] is False and real["now"] == pytest.approx(time.time(), abs=5)

    frozen = cp(twin, "POST", "/clock", params=params, json={"freeze": True, "at": T0}).json()
    assert frozen == {"now": T0, "frozen": True, "offset_s": 0.0, "tenant": slack_tenant.tenant}
    assert cp(twin, "GET", "/clock", params=params).json()["now"] == T0
    assert bot.chat_postMessage(channel=general, text="then")["ts"].startswith(str(int(T0)) + ".")

    assert cp(twin, "POST", "/clock", params=params, json={"advance_s": 90}).json()["now"] == T0 + 90
    assert cp(twin, "POST", "/clock", params=params, json={"freeze": T0 + 500}).json()["now"] == T0 + 500

    # The twin clock and the other tenants were not moved.
    assert cp(twin, "GET", "/clock").json()["now"] == pytest.approx(time.time(), abs=5)

    thawed = cp(twin, "POST", "/clock", params=params, json={"freeze": False}).json()
    assert thawed["frozen"] is False and thawed["now"] == pytest.approx(T0 + 500, abs=5)


def test_twin_clock_moves_every_tenant(fresh_private: TwinServer) -> None:
    twin = fresh_private
    made = twin.create_tenant()
    assert twin.clock(freeze=True, at=T0)["now"] == T0
    assert twin.clock(tenant=made["tenant"])["now"] == T0
    twin.clock(tenant=made["tenant"], advance_s=10)
    twin.clock(advance_s=5)
    assert twin.clock(tenant=made["tenant"])["now"] == T0 + 15
    assert twin.clock()["now"] == T0 + 5


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"advance_s": "ten"}, "advance_s"),
        ({"advance_s": True}, "advance_s"),
        ({"advance_s": -1}, "advance_s"),
        ({"at": "tomorrow"}, "at"),
        ({"freeze": "yes"}, "freeze"),
        ({"speed": 2}, None),
        ([1], None),
    ],
)
def test_clock_refuses_bad_input(slack_tenant: Tenant, body: Any, field: str | None) -> None:
    twin, params = slack_tenant.twin, {"tenant": slack_tenant.tenant}
    before = cp(twin, "GET", "/clock", params=params).json()
    _assert_control_error(cp(twin, "POST", "/clock", params=params, json=body), 400, field)
    after = cp(twin, "GET", "/clock", params=params).json()
    assert after["frozen"] == before["frozen"] and after["offset_s"] == before["offset_s"]


def test_clock_refuses_a_body_that_is_not_json(slack_tenant: Tenant) -> None:
    resp = cp(
        slack_tenant.twin,
        "POST",
        "/clock",
        params={"tenant": slack_tenant.tenant},
        content=b"freeze!",
        headers={"content-type": "application/json"},
    )
    _assert_control_error(resp, 400)


def test_clock_of_unknown_tenant_is_404(slack_twin: TwinServer) -> None:
    _assert_control_error(
        cp(slack_twin, "POST", "/clock", params={"tenant": "tnnosuchone"}, json={"advance_s": 1}),
        404,
        "tenant",
    )


# -- journal ------------------------------------------------------------------------------------------


def test_journal_records_each_call(slack_tenant: Tenant, bot: WebClient, general: str) -> None:
    twin = slack_tenant.twin
    other = twin.create_tenant()
    try:
        _client(twin, other["credentials"]["bot_token"]).auth_test()
        bot.auth_test()
        bot.chat_postMessage(channel=general, text="journaled")
        with pytest.raises(SlackApiError):
            bot.chat_postMessage(channel="C0NOTTHERE", text="x")

        entries = journal(twin, slack_tenant.tenant)
        assert [e["operation"] for e in entries] == ["auth.test", "chat.postMessage", "chat.postMessage"]
        for e in entries:
            assert e["tenant"] == slack_tenant.tenant and e["twin"] == "slack"
            assert e["method"] == "POST" and e["path"] == f"/api/{e['operation']}"
            assert e["status"] == 200 and e["latency_ms"] > 0 and e["fault"] is None
            assert e["time"] == pytest.approx(time.time(), abs=60)
        seqs = [e["seq"] for e in entries]
        assert seqs == sorted(seqs)

        assert [e["seq"] for e in journal(twin, slack_tenant.tenant, since=seqs[0])] == seqs[1:]
        assert [e["operation"] for e in journal(twin, slack_tenant.tenant, operation="auth.test")] == [
            "auth.test"
        ]
        assert [e["operation"] for e in journal(twin, other["tenant"])] == ["auth.test"]
    finally:
        twin.delete_tenant(other["tenant"])


def test_journal_records_the_fault_applied(slack_tenant: Tenant, bot: WebClient) -> None:
    put_faults(
        slack_tenant.twin,
        slack_tenant.tenant,
        {"id": "limit", "budget": {"max_fires": 1}, "action": {"kind": "rate_limit"}},
    )
    with pytest.raises(SlackApiError):
        bot.auth_test()
    bot.auth_test()
    entries = journal(slack_tenant.twin, slack_tenant.tenant)
    assert [(e["status"], e["fault"]) for e in entries] == [
        (429, {"rule": "limit", "kind": "rate_limit", "ordinal": 1}),
        (200, None),
    ]


# -- deliveries ---------------------------------------------------------------------------------------


def test_deliveries_listing(
    slack_tenant: Tenant, subscribed: Receiver, alice: WebClient, general: str
) -> None:
    twin = slack_tenant.twin
    posted = alice.chat_postMessage(channel=general, text="to the app")
    wait_for(lambda: twin.deliveries(tenant=slack_tenant.tenant, state="delivered"))
    [d] = twin.deliveries(tenant=slack_tenant.tenant)
    assert d["kind"] == "events" and d["tenant"] == slack_tenant.tenant
    assert d["target"] == subscribed.url and d["state"] == "delivered" and d["fault"] is None
    assert d["payload"]["type"] == "event_callback" and d["payload"]["event"]["ts"] == posted["ts"]
    assert d["payload"]["event"]["text"] == "to the app"
    assert d["meta"]["type"] == "message" and d["meta"]["event_id"] == d["payload"]["event_id"]
    [attempt] = d["attempts"]
    assert attempt["number"] == 1 and attempt["status"] == 200 and attempt["error"] is None
    assert subscribed.events()[0]["event_id"] == d["payload"]["event_id"]

    assert twin.deliveries(tenant=slack_tenant.tenant, kind="interactivity") == []
    assert twin.deliveries(tenant=slack_tenant.tenant, state="failed") == []
    other = twin.create_tenant()
    try:
        assert twin.deliveries(tenant=other["tenant"]) == []
    finally:
        twin.delete_tenant(other["tenant"])


def test_journal_with_deliveries_is_a_trace_in_one_call(
    slack_tenant: Tenant, subscribed: Receiver, alice: WebClient, general: str
) -> None:
    """`/journal?deliveries=true`: the tenant's entries past the cursor, its deliveries as
    `/deliveries` lists them, and how long it has been quiet (what the harness settles on)."""
    twin = slack_tenant.twin
    fresh = twin.create_tenant()
    try:
        quiet = twin.control("GET", "/journal", params={"tenant": fresh["tenant"], "deliveries": "true"})
        assert quiet == {"entries": [], "deliveries": [], "idle_s": None}
    finally:
        twin.delete_tenant(fresh["tenant"])
    alice.chat_postMessage(channel=general, text="to the app")
    wait_for(lambda: twin.deliveries(tenant=slack_tenant.tenant, state="delivered"))
    got = twin.control("GET", "/journal", params={"tenant": slack_tenant.tenant, "deliveries": "true"})
    assert [e["operation"] for e in got["entries"]] == ["chat.postMessage"]
    assert got["deliveries"] == twin.deliveries(tenant=slack_tenant.tenant)
    assert got["idle_s"] is not None and got["idle_s"] >= 0
    seq = got["entries"][-1]["seq"]
    past = twin.control(
        "GET", "/journal", params={"tenant": slack_tenant.tenant, "since": seq, "deliveries": "true"}
    )
    assert past["entries"] == [] and len(past["deliveries"]) == 1
    assert set(twin.control("GET", "/journal", params={"tenant": slack_tenant.tenant})) == {"entries"}


def test_journal_and_deliveries_refuse_a_negative_limit(slack_tenant: Tenant) -> None:
    for path in ("/journal", "/deliveries"):
        _assert_control_error(
            cp(slack_tenant.twin, "GET", path, params={"tenant": slack_tenant.tenant, "limit": -1}),
            400,
            "limit",
        )


# -- state inspection ---------------------------------------------------------------------------------


def _dump(twin: TwinServer, tenant: str) -> Any:
    rt = twin.runtime
    return rt.store.run_sync(lambda conn: rt.store.dump(conn, tenant))


def test_state_inspection(slack_tenant: Tenant, bot: WebClient, general: str) -> None:
    twin = slack_tenant.twin
    posted = bot.chat_postMessage(channel=general, text="inspect me")
    assert "messages" in twin.control("GET", "/state")["collections"]
    [msg] = twin.state("messages", tenant=slack_tenant.tenant)
    assert (
        msg["ts"] == posted["ts"] and msg["text"] == "inspect me" and msg["tenant_id"] == slack_tenant.tenant
    )

    names = [c["name"] for c in twin.state("conversations", tenant=slack_tenant.tenant, is_private="false")]
    assert sorted(names) == ["general", "random"]
    assert [c["name"] for c in twin.state("conversations", tenant=slack_tenant.tenant, id=general)] == [
        "general"
    ]
    assert twin.state("messages", tenant=slack_tenant.tenant, channel_id="C0DTURANDM") == []
    assert len(twin.state("users", tenant=slack_tenant.tenant, limit=2)) == 2
    assert twin.state("messages", tenant=slack_tenant.tenant, reply_count=0)[0]["ts"] == posted["ts"]


def test_state_inspection_changes_nothing(slack_tenant: Tenant, bot: WebClient, general: str) -> None:
    twin = slack_tenant.twin
    bot.chat_postMessage(channel=general, text="inspect me")
    before = _dump(twin, slack_tenant.tenant)
    seq = twin.control("GET", "/journal")["entries"][-1]["seq"]
    for name in twin.control("GET", "/state")["collections"]:
        twin.state(name, tenant=slack_tenant.tenant)
    twin.state("messages", tenant=slack_tenant.tenant, channel_id=general)
    cp(twin, "GET", "/state/messages", params={"tenant": slack_tenant.tenant, "nope": 1})
    assert _dump(twin, slack_tenant.tenant) == before
    assert twin.control("GET", "/journal", params={"since": seq})["entries"] == []


def test_state_unknown_collection_is_404(slack_tenant: Tenant) -> None:
    _assert_control_error(
        cp(slack_tenant.twin, "GET", "/state/planets", params={"tenant": slack_tenant.tenant}),
        404,
        "collection",
    )


def test_state_bad_column_is_400(slack_tenant: Tenant) -> None:
    _assert_control_error(
        cp(
            slack_tenant.twin,
            "GET",
            "/state/messages",
            params={"tenant": slack_tenant.tenant, "colour": "red"},
        ),
        400,
        "colour",
    )


def test_state_bad_filter_value_is_400(slack_tenant: Tenant) -> None:
    _assert_control_error(
        cp(
            slack_tenant.twin,
            "GET",
            "/state/messages",
            params={"tenant": slack_tenant.tenant, "reply_count": "many"},
        ),
        400,
    )


# -- who may call -------------------------------------------------------------------------------------


def _asgi_get(
    app: Any, client: tuple[str, int], path: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://twin") as http:
            return await http.get(path, headers=headers)

    return asyncio.run(go())


@pytest.fixture(scope="module")
def open_app() -> Any:
    app = create_app(TwinSettings())
    yield app
    app.state.dtu.store.dispose()


@pytest.fixture(scope="module")
def token_app() -> Any:
    app = create_app(TwinSettings(admin_token="s3cret-admin"))
    yield app
    app.state.dtu.store.dispose()


def test_control_plane_refuses_non_loopback_callers(open_app: Any) -> None:
    resp = _asgi_get(open_app, ("10.1.2.3", 1234), "/_dtu/health")
    _assert_control_error(resp, 403)
    _assert_control_error(_asgi_get(open_app, ("10.1.2.3", 1234), "/_dtu/tenants"), 403)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1"])
def test_control_plane_answers_loopback_callers(open_app: Any, host: str) -> None:
    assert _asgi_get(open_app, (host, 1234), "/_dtu/health").json()["status"] == "ok"


def test_the_cloned_api_is_not_guarded(open_app: Any) -> None:
    resp = _asgi_get(
        open_app, ("10.1.2.3", 1234), "/api/auth.test", headers={"authorization": f"Bearer {DEFAULT_BOT}"}
    )
    assert resp.status_code == 200 and resp.json()["ok"] is True


@pytest.mark.parametrize(
    "headers", [{"x-dtu-admin-token": "s3cret-admin"}, {"authorization": "Bearer s3cret-admin"}]
)
def test_admin_token_opens_the_control_plane_to_other_hosts(token_app: Any, headers: dict[str, str]) -> None:
    resp = _asgi_get(token_app, ("10.1.2.3", 1234), "/_dtu/health", headers=headers)
    assert resp.status_code == 200 and resp.json()["twin"] == "slack"


@pytest.mark.parametrize("headers", [None, {"x-dtu-admin-token": "wrong"}, {"authorization": "Bearer wrong"}])
def test_other_hosts_without_the_admin_token_are_refused(
    token_app: Any, headers: dict[str, str] | None
) -> None:
    _assert_control_error(_asgi_get(token_app, ("10.1.2.3", 1234), "/_dtu/health", headers=headers), 403)


def test_loopback_needs_no_admin_token(token_app: Any) -> None:
    assert _asgi_get(token_app, ("127.0.0.1", 1234), "/_dtu/health").status_code == 200


def test_several_workers_refuse_what_lives_in_one_process() -> None:
    """With `--workers N` a fault profile, a clock change or a snapshot would reach one worker
    of N: the control plane says so instead of answering by chance. The database-backed calls
    (tenants, reset, seed, state) work as ever."""
    app = create_app(TwinSettings(db_url="sqlite://", workers=2, cache=False))

    async def calls() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://twin") as client:
            for method, path, body in [
                ("PUT", "/_dtu/faults", {"version": 1, "rules": []}),
                ("DELETE", "/_dtu/faults", None),
                ("POST", "/_dtu/clock", {"advance_s": 1}),
                ("POST", "/_dtu/snapshots", None),
                ("POST", "/_dtu/snapshots/snap-1/restore", None),
            ]:
                resp = await client.request(method, path, json=body)
                assert resp.status_code == 409, (method, path)
                assert "worker processes" in resp.json()["error"]["message"]
            assert (await client.get("/_dtu/faults")).status_code == 200
            assert (await client.post("/_dtu/tenants")).status_code == 201
            assert (await client.post("/_dtu/reset")).status_code == 200

    asyncio.run(calls())
