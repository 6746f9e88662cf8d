"""What people do in the Slack client that has no Web API method (to be written):
run a slash command, click a button, submit a modal (`/_dtu/slack/...`), and the public
URLs Slack hands out: incoming webhooks and response_url."""

from fastapi import APIRouter

router = APIRouter(prefix="/_dtu/slack", include_in_schema=False)
hooks_router = APIRouter(include_in_schema=False)
