"""apps.manifest.* through slack_sdk with the app configuration token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from dtu.testing.plugin import Tenant
from dtu.testing.receiver import Receiver

APP = "A0DTUAPP01"


@pytest.fixture
def config(slack_tenant: Tenant) -> WebClient:
    """The workspace's app configuration token (xoxe)."""
    return WebClient(token=slack_tenant.config_token, base_url=slack_tenant.api_url)


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def manifest(
    url: str | None = None,
    *,
    name: str = "Reporter",
    events: list[str] | None = None,
    scopes: list[str] | None = None,
    **settings: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "display_information": {"name": name, "description": "Reports things"},
        "features": {"bot_user": {"display_name": "reporter", "always_online": True}},
        "oauth_config": {
            "scopes": {
                "bot": scopes
                if scopes is not None
                else ["channels:history", "chat:write", "app_mentions:read"]
            }
        },
        "settings": dict(settings),
    }
    if url is not None:
        out["settings"]["event_subscriptions"] = {
            "request_url": url,
            "bot_events": events or ["message.channels", "app_mention"],
        }
    return out


def _error(call: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as err:
        call()
    return dict(err.value.response.data)


def test_export_builds_the_fixture_apps_manifest(config: WebClient) -> None:
    exported = config.apps_manifest_export(app_id=APP)["manifest"]
    assert exported["_metadata"] == {"major_version": 1, "minor_version": 1}
    assert exported["display_information"]["name"] == "DTU App"
    assert exported["features"]["bot_user"]["display_name"] == "dtu-app"
    assert "chat:write" in exported["oauth_config"]["scopes"]["bot"]
    assert exported["settings"]["socket_mode_enabled"] is False


def test_manifest_methods_refuse_bot_tokens(bot: WebClient) -> None:
    assert _error(lambda: bot.apps_manifest_export(app_id=APP))["error"] == "not_allowed_token_type"


def test_export_unknown_app(config: WebClient) -> None:
    assert _error(lambda: config.apps_manifest_export(app_id="A0NOSUCHAPP"))["error"] == "app_not_found"
    assert _error(lambda: config.apps_manifest_export(app_id="not-an-app"))["error"] == "invalid_app_id"


def test_validate_accepts_a_good_manifest(config: WebClient) -> None:
    resp = config.apps_manifest_validate(manifest=manifest("https://example.com/slack/events"))
    assert resp["ok"] is True and resp["errors"] == []


def test_validate_lists_errors_with_pointers(config: WebClient) -> None:
    bad = manifest()
    bad["display_information"] = {"name": "x" * 36}
    bad["settings"] = {
        "event_subscriptions": {"bot_events": ["message.channels"]},
        "interactivity": {"is_enabled": True},
    }
    body = _error(lambda: config.apps_manifest_validate(manifest=bad))
    assert body["error"] == "invalid_manifest"
    pointers = {e["pointer"] for e in body["errors"]}
    assert pointers == {
        "/display_information/name",
        "/settings/event_subscriptions",
        "/settings/interactivity",
    }
    assert all(isinstance(e["message"], str) and e["message"] for e in body["errors"])


def test_validate_needs_the_scope_each_bot_event_needs(config: WebClient) -> None:
    bad = manifest("https://example.com/events", events=["reaction_added"], scopes=["chat:write"])
    body = _error(lambda: config.apps_manifest_validate(manifest=bad))
    assert body["errors"][0]["pointer"] == "/settings/event_subscriptions/bot_events/0"
    assert "reactions:read" in body["errors"][0]["message"]


def test_validate_refuses_unknown_events_and_bad_slash_commands(config: WebClient) -> None:
    bad = manifest("https://example.com/events", events=["not_an_event"])
    bad["features"]["slash_commands"] = [
        {"command": "deploy", "description": "Deploy", "url": "https://x.io/c"}
    ]
    body = _error(lambda: config.apps_manifest_validate(manifest=bad))
    assert {e["pointer"] for e in body["errors"]} == {
        "/settings/event_subscriptions/bot_events/0",
        "/features/slash_commands/0/command",
    }


def test_validate_refuses_a_manifest_that_is_not_json(config: WebClient) -> None:
    body = _error(lambda: config.apps_manifest_validate(manifest="{not json"))
    assert body["error"] == "invalid_manifest" and body["errors"][0]["pointer"] == "/"


def test_update_verifies_the_request_url_with_a_signed_challenge(
    config: WebClient, hook: Receiver, slack_tenant: Tenant
) -> None:
    resp = config.apps_manifest_update(app_id=APP, manifest=manifest(hook.url))
    assert resp["app_id"] == APP and isinstance(resp["permissions_updated"], bool)
    (challenge,) = hook.wait_for(lambda r: r.payload.get("type") == "url_verification")
    assert set(challenge.payload) == {"token", "challenge", "type"}
    assert SignatureVerifier(slack_tenant.signing_secret).is_valid_request(challenge.body, challenge.headers)
    journal = slack_tenant.twin.deliveries(tenant=slack_tenant.tenant, kind="url_verification")
    assert [d["state"] for d in journal] == ["delivered"]
    assert journal[0]["payload"]["challenge"] == challenge.payload["challenge"]


def test_update_sets_what_export_and_state_show(
    config: WebClient, hook: Receiver, slack_tenant: Tenant
) -> None:
    wanted = manifest(
        hook.url,
        name="Renamed",
        interactivity={"is_enabled": True, "request_url": "https://example.com/actions"},
    )
    wanted["features"]["slash_commands"] = [
        {
            "command": "/deploy",
            "url": "https://example.com/cmd",
            "description": "Deploy a service",
            "usage_hint": "[service]",
        }
    ]
    config.apps_manifest_update(app_id=APP, manifest=wanted)
    exported = config.apps_manifest_export(app_id=APP)["manifest"]
    assert exported["settings"]["event_subscriptions"]["request_url"] == hook.url
    assert exported["features"]["slash_commands"][0]["command"] == "/deploy"
    (row,) = slack_tenant.twin.state("apps", tenant=slack_tenant.tenant, id=APP)
    assert row["name"] == "Renamed" and row["request_url"] == hook.url
    assert row["bot_events"] == ["message.channels", "app_mention"]
    assert row["interactivity_url"] == "https://example.com/actions"
    assert row["slash_commands"] == [
        {
            "command": "/deploy",
            "url": "https://example.com/cmd",
            "description": "Deploy a service",
            "usage_hint": "[service]",
            "should_escape": False,
        }
    ]
    bot_user = WebClient(token=slack_tenant.bot_token, base_url=slack_tenant.api_url).users_info(
        user="U0DTUBOT01"
    )
    assert bot_user["user"]["name"] == "reporter"


def test_update_fails_when_the_app_does_not_echo_the_challenge(
    config: WebClient, slack_tenant: Tenant
) -> None:
    with Receiver(echo_challenge=False, body="nope") as deaf:
        body = _error(lambda: config.apps_manifest_update(app_id=APP, manifest=manifest(deaf.url)))
    assert body["error"] == "invalid_manifest"
    assert body["errors"][0]["pointer"] == "/settings/event_subscriptions/request_url"
    assert "challenge" in body["errors"][0]["message"]
    assert "event_subscriptions" not in config.apps_manifest_export(app_id=APP)["manifest"]["settings"]
    assert [
        d["state"] for d in slack_tenant.twin.deliveries(tenant=slack_tenant.tenant, kind="url_verification")
    ] == ["failed"]


def test_update_fails_when_the_request_url_errors(config: WebClient) -> None:
    with Receiver(echo_challenge=False, status=500) as broken:
        body = _error(lambda: config.apps_manifest_update(app_id=APP, manifest=manifest(broken.url)))
    assert body["errors"][0]["pointer"] == "/settings/event_subscriptions/request_url"
    assert "500" in body["errors"][0]["message"]


def test_unchanged_request_url_is_not_verified_again(config: WebClient, hook: Receiver) -> None:
    config.apps_manifest_update(app_id=APP, manifest=manifest(hook.url))
    config.apps_manifest_update(app_id=APP, manifest=manifest(hook.url, name="Again"))
    assert len(hook.wait_for(lambda r: r.payload.get("type") == "url_verification")) == 1


def test_update_reports_changed_permissions(config: WebClient) -> None:
    first = config.apps_manifest_update(app_id=APP, manifest=manifest(scopes=["chat:write"]))
    same = config.apps_manifest_update(app_id=APP, manifest=manifest(scopes=["chat:write"]))
    assert first["permissions_updated"] is True and same["permissions_updated"] is False


def test_update_unknown_app(config: WebClient) -> None:
    assert (
        _error(lambda: config.apps_manifest_update(app_id="A0NOSUCHAPP", manifest=manifest()))["error"]
        == "app_not_found"
    )


def test_create_makes_a_new_app_with_its_own_credentials(
    config: WebClient, slack_tenant: Tenant, bot: WebClient
) -> None:
    made = config.apps_manifest_create(manifest=manifest(name="Second App"))
    assert made["app_id"].startswith("A") and made["app_id"] != APP and len(made["app_id"]) == 11
    creds = made["credentials"]
    assert set(creds) == {"client_id", "client_secret", "verification_token", "signing_secret"}
    assert creds["signing_secret"] != slack_tenant.signing_secret
    assert "client_id=" + creds["client_id"] in made["oauth_authorize_url"]
    assert (
        config.apps_manifest_export(app_id=made["app_id"])["manifest"]["display_information"]["name"]
        == "Second App"
    )
    bots = [u for u in bot.users_list()["members"] if u["is_bot"] and u["name"] == "reporter"]
    assert len(bots) == 1 and bots[0]["real_name"] == "Second App"


def test_create_verifies_with_the_new_apps_signing_secret(config: WebClient, hook: Receiver) -> None:
    made = config.apps_manifest_create(manifest=manifest(hook.url))
    (challenge,) = hook.wait_for(lambda r: r.payload.get("type") == "url_verification")
    verifier = SignatureVerifier(made["credentials"]["signing_secret"])
    assert verifier.is_valid_request(challenge.body, challenge.headers)
    assert challenge.payload["token"] == made["credentials"]["verification_token"]


def test_create_refuses_an_invalid_manifest(config: WebClient, slack_tenant: Tenant) -> None:
    body = _error(lambda: config.apps_manifest_create(manifest={"settings": {}}))
    assert body["error"] == "invalid_manifest"
    assert {"message": "must have required property 'display_information'", "pointer": "/"} in body["errors"]
    assert len(slack_tenant.twin.state("apps", tenant=slack_tenant.tenant)) == 1


def test_validate_takes_the_manifest_as_an_object_in_json_bodies(slack_tenant: Tenant) -> None:
    resp = httpx.post(
        slack_tenant.api_url + "apps.manifest.validate",
        json={"manifest": manifest()},
        headers={"Authorization": f"Bearer {slack_tenant.config_token}"},
    )
    assert resp.json() == {"ok": True, "errors": []}
