"""Harness tests: real trajectories against live twins (the plugin's session twins, in-process
on free ports) and the real example app, served in-process in three variants."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from dtu.testing.plugin import TwinPool
from examples.onboarding.app import Settings, create_app
from harness import model
from harness.campaign import CampaignResult, run_campaign
from harness.inproc import InProcessApp
from harness.judge import LlmJudge
from harness.runner import Profile, Runner
from harness.universe import Universe

TWINS = ("slack", "okta", "jira")


@pytest.fixture(scope="session")
def twin_urls(dtu_twins: TwinPool) -> dict[str, str]:
    urls = {t: dtu_twins.get(t).url for t in TWINS}
    # FastAPI builds a route's parameter models on the first request that reaches it, and for
    # some twin routes pydantic warns while doing so; under pytest's warnings-as-errors, in
    # whichever test first got there, that request would fail with a 500. Have every route
    # built once, here, with warnings shown rather than raised.
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        for url in urls.values():
            httpx.get(url + "/_dtu/no-such-path")
            httpx.post(url + "/no/such/path")
    return urls


def _app(urls: dict[str, str], **settings: Any) -> InProcessApp:
    return InProcessApp(
        create_app(
            Settings(
                slack_api_url=urls["slack"] + "/api/",
                okta_org_url=urls["okta"],
                jira_url=urls["jira"],
                **settings,
            )
        )
    ).start()


@pytest.fixture(scope="session")
def app_url(twin_urls: dict[str, str]) -> Iterator[str]:
    """The example app as shipped: retries with Retry-After, idempotent event handling."""
    server = _app(twin_urls)
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def fragile_app_url(twin_urls: dict[str, str]) -> Iterator[str]:
    """ONBOARDING_RESILIENT=0: no retries, no idempotency."""
    server = _app(twin_urls, resilient=False)
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def broken_app_url(twin_urls: dict[str, str]) -> Iterator[str]:
    """ONBOARDING_BROKEN=skip-invite: never invites the new hire to #new-hires."""
    server = _app(twin_urls, broken="skip-invite")
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def llm_url() -> Iterator[str]:
    """A local OpenAI-compatible endpoint (tests/harness/llm_endpoint.py), `.../v1`."""
    from tests.harness.llm_endpoint import create_app as llm_app

    server = InProcessApp(llm_app()).start()
    yield server.url + "/v1"
    server.stop()


def scenario(name: str, within_s: float | None = None) -> model.Scenario:
    """A project scenario; `within_s` shortens its check deadlines (tests that expect failures
    need not wait the full deadline)."""
    s = model.load(f"scenarios/{name}.yaml")
    if within_s is not None:
        for c in s.checks:
            c.within_s = min(c.within_s, within_s)
    return s


def campaign(
    urls: dict[str, str],
    app: str | None,
    scenarios: list[model.Scenario],
    *,
    n: int = 1,
    seed: int = 0,
    concurrency: int = 8,
    faults: dict[str, Any] | None = None,
    replays: int = 0,
    only: list[str] | None = None,
    profiles: list[Profile] | None = None,
    judge: tuple[str, str] | None = None,
    judge_mode: str = "checks",
) -> CampaignResult:
    """Run a campaign; `judge` is (url, model) of an OpenAI-compatible endpoint."""

    async def go() -> CampaignResult:
        universe = Universe(urls, app_url=app)
        llm = LlmJudge(judge[0], judge[1], http=universe.http) if judge else None
        try:
            return await run_campaign(
                Runner(universe, faults=faults, judge=llm, judge_mode=judge_mode),
                scenarios,
                trajectories=n,
                concurrency=concurrency,
                seed=seed,
                replays=replays,
                only=only,
                profiles=profiles,
            )
        finally:
            await universe.aclose()

    return asyncio.run(go())


def one(
    urls: dict[str, str], app: str | None, name: str, within_s: float | None = None, **kw: Any
) -> dict[str, Any]:
    (trace,) = campaign(urls, app, [scenario(name, within_s)], **kw).traces
    return trace
