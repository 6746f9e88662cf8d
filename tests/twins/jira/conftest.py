"""Jira contract tests: pycontribs `jira` and atlassian-python-api pointed at a fresh tenant."""

from __future__ import annotations

import pytest
from atlassian import Jira, JiraCloud
from jira import JIRA

from dtu.testing.plugin import Tenant


@pytest.fixture
def jira(jira_tenant: Tenant) -> JIRA:
    """The site admin (admin@example.com) through pycontribs `jira` (API v2)."""
    return JIRA(server=jira_tenant.url, basic_auth=(jira_tenant.email, jira_tenant.api_token))


@pytest.fixture
def carol(jira_tenant: Tenant) -> JIRA:
    """Carol: not in ops-team, so she may not browse project OPS."""
    return JIRA(
        server=jira_tenant.url, basic_auth=("carol@example.com", jira_tenant.api_tokens["carol@example.com"])
    )


@pytest.fixture
def cloud(jira_tenant: Tenant) -> Jira:
    """atlassian-python-api on API v3 (ADF rich text)."""
    return Jira(
        url=jira_tenant.url,
        username=jira_tenant.email,
        password=jira_tenant.api_token,
        cloud=True,
        api_version="3",
    )


@pytest.fixture
def jira_cloud(jira_tenant: Tenant) -> JiraCloud:
    """atlassian-python-api's Cloud platform client (one method per REST operation), API v3."""
    return JiraCloud(
        jira_tenant.url, username=jira_tenant.email, password=jira_tenant.api_token, api_version=3
    )
