"""The Jira twin's routes: thin wire functions, one per vendor operation (`operation_id`).

The modules' routes are gathered into one flat router (not nested `include_router`s), so
that `twins.jira._operation_of` can resolve a request's vendor operation from them.
"""

from __future__ import annotations

from fastapi import APIRouter

from twins.jira.routes import agile, core, filters, issues, parts, projects, search, webhooks

router = APIRouter()
for module in (core, projects, filters, search, issues, parts, webhooks, agile):
    router.routes.extend(module.router.routes)
