"""The Slack Web API surface: `/api/<method>` (served by `dependencies.web_api` ahead of
FastAPI's routing, see `TwinSpec.direct`), methods registered per group; plus upload URLs.

Importing a group module registers its methods (`@slack_method`). A group is a thin module:
read the arguments Slack documents, call one service function, return its answer.
"""

from __future__ import annotations

from fastapi import APIRouter

from twins.slack.routes import (  # noqa: F401  (registration by import)
    apps,
    auth,
    bookmarks,
    chat,
    conversations,
    dnd,
    emoji,
    files,
    oauth,
    pins,
    reactions,
    reminders,
    search,
    stars,
    unfurl,
    usergroups,
    users,
    views,
)

router = APIRouter()
router.add_route("/oauth/v2/authorize", oauth.authorize_page, methods=["GET"], include_in_schema=False)
router.include_router(files.upload_router)
