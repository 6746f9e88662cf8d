"""files.* methods and the upload URL that files.getUploadURLExternal hands out (to be written)."""

from fastapi import APIRouter

upload_router = APIRouter()
