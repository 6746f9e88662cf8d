"""Jira agile routes."""

from __future__ import annotations

from twins.jira.routes.common import api_router

router = api_router()
