"""`create_app(settings)`: the Drive twin as an ASGI app (uvicorn target `twins.gdrive.app:app`)."""

from __future__ import annotations

from fastapi import FastAPI

from dtu.app import create_twin_app
from dtu.settings import TwinSettings
from twins.gdrive import TWIN


def create_app(settings: TwinSettings | None = None) -> FastAPI:
    return create_twin_app(TWIN, settings)


def __getattr__(name: str) -> FastAPI:
    # `uvicorn twins.gdrive.app:app` builds the app on first access, from DTU_GDRIVE_* settings.
    if name == "app":
        return create_app()
    raise AttributeError(name)
