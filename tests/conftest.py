"""The suite runs every twin test on SQLite, and again on PostgreSQL when
DTU_TEST_POSTGRES_URL is set (each session gets its own fresh database there)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

STORES = ["sqlite"] + (["postgresql"] if os.environ.get("DTU_TEST_POSTGRES_URL") else [])


def _fresh_pg_database(base_url: str) -> tuple[str, str]:
    import sqlalchemy as sa

    name = f"dtu_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = sa.engine.make_url(base_url).set(database=name)
    return url.render_as_string(hide_password=False), name


def _drop_pg_database(base_url: str, name: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=STORES)
def dtu_db_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
        return
    base = os.environ["DTU_TEST_POSTGRES_URL"]
    url, name = _fresh_pg_database(base)
    yield url
    _drop_pg_database(base, name)
