"""The Slack Web API surface: `/api/<method>`, one route, methods registered per group.

Importing a group module registers its methods (`@slack_method`). A group is a thin module:
read the arguments Slack documents, call one service function, return its answer.
"""

from __future__ import annotations

from fastapi import APIRouter

from twins.slack.dependencies import handle
from twins.slack.routes import (  # noqa: F401  (registration by import)
    apps,
    auth,
    bookmarks,
    chat,
    conversations,
    files,
    pins,
    reactions,
    search,
    usergroups,
    users,
    views,
)

router = APIRouter()
router.add_route("/api/{method}", handle, methods=["GET", "POST"], include_in_schema=False)
router.include_router(files.upload_router)
