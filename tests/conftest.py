"""Test fixtures: schema built by the Alembic migrations on SQLite and (when configured) PostgreSQL.

Each test runs inside a transaction that is rolled back; code under test that commits only releases a
savepoint. Set XINYONG_TEST_DATABASE_URL to a PostgreSQL URL to run every database test on both stores.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from xinyong.app import create_app
from xinyong.catalog.service import CatalogStore
from xinyong.config import Settings
from xinyong.db import migrate
from xinyong.db.engine import make_engine
from xinyong.disclosure.service import RuleSetStore
from xinyong.platform import Platform, build_platform
from xinyong.records.service import IngestContext
from xinyong.web.deps import get_today

TODAY = dt.date(2026, 11, 28)
# The test platforms share one parsed catalog and rule sets: the stores key each parse by its file's version,
# so a test with an edited copy in its own data directory still gets that copy.
CATALOGS, RULE_SETS = CatalogStore(), RuleSetStore()
PG_URL = os.environ.get("XINYONG_TEST_DATABASE_URL")
STORES = ["sqlite", *(["postgresql"] if PG_URL else [])]


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("db") / "test.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine]:
    assert PG_URL
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=STORES)
def engine(request: pytest.FixtureRequest) -> Engine:
    name = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, database_url="sqlite://", secret_key="test-secret-key")


@pytest.fixture
def platform(engine: Engine, settings: Settings) -> Iterator[Platform]:
    """A platform whose sessions all join one outer transaction, rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    platform = build_platform(settings, engine)
    platform.catalogs, platform.rule_set_store = CATALOGS, RULE_SETS
    platform.sessions = sessionmaker(
        bind=connection,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
        info=platform.sessions.kw.get("info"),
    )
    yield platform
    outer.rollback()
    connection.close()


@pytest.fixture
def session(platform: Platform) -> Iterator[Session]:
    with platform.sessions() as session:
        yield session


@pytest.fixture
def ctx(platform: Platform) -> IngestContext:
    return platform.ingest_context(TODAY)


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    app = create_app(platform=platform)
    app.dependency_overrides[get_today] = lambda: TODAY
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def file_platform(tmp_path: Path) -> Platform:
    """A platform on its own SQLite file: real commits, sessions in several threads at once."""
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'xinyong.db'}",
        secret_key="test-secret-key",
        rate_limit_api="100000/minute",
    )
    platform = build_platform(settings)
    migrate.upgrade(platform.sessions.kw["bind"])
    return platform
