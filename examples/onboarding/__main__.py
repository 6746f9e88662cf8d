"""`python -m examples.onboarding`: serve the app on $PORT (default 8088) with uvicorn."""

from __future__ import annotations

import os

import uvicorn

from examples.onboarding.app import create_app

if __name__ == "__main__":
    uvicorn.run(
        create_app(),
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8088")),
        log_level=os.environ.get("LOG_LEVEL", "warning"),
        access_log=False,
    )
