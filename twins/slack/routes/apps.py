"""apps.manifest.* methods, incoming webhooks and response_url posts (to be written)."""

from fastapi import APIRouter

hooks_router = APIRouter()
