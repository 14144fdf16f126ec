"""Pooled PostgreSQL connections: pinged after sitting idle, trusted when used moments ago (`db.engine`)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, exc, text

from tests.conftest import PG_URL
from xinyong.db.engine import PING_AFTER_IDLE_S, make_engine, ping_when_idle

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs XINYONG_TEST_DATABASE_URL (PostgreSQL)")


def backend_pid(engine: object) -> int:
    with engine.connect() as connection:  # type: ignore[attr-defined]
        return int(connection.scalar(text("SELECT pg_backend_pid()")))


def terminate(pid: int) -> None:
    other = create_engine(str(PG_URL))
    try:
        with other.connect() as connection:
            assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}) is True
    finally:
        other.dispose()


def test_an_idle_connection_that_died_is_replaced_before_use() -> None:
    engine = create_engine(str(PG_URL), pool_size=1, max_overflow=0)
    ping_when_idle(engine, 0.0)  # every checkout counts as after a long idle
    try:
        dead = backend_pid(engine)
        terminate(dead)
        assert backend_pid(engine) != dead  # pinged, found dead, replaced: the request never saw it
    finally:
        engine.dispose()


def test_a_connection_used_moments_ago_is_not_pinged() -> None:
    """The price of skipping the ping: a server gone within the idle window fails one statement, then the
    pool is invalidated and the next checkout connects afresh."""
    engine = make_engine(str(PG_URL), pool_size=1, max_overflow=0)
    assert PING_AFTER_IDLE_S >= 1
    pings: list[object] = []
    original = engine.dialect.do_ping

    def counted_ping(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        return original(dbapi_connection)

    engine.dialect.do_ping = counted_ping  # type: ignore[method-assign]
    try:
        dead = backend_pid(engine)
        terminate(dead)
        with pytest.raises(exc.OperationalError), engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        assert backend_pid(engine) != dead
        assert pings == []
    finally:
        engine.dispose()
