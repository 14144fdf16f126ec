"""Request dependencies as Annotated aliases: the session (transaction owner), the platform, today."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from xinyong.accounts.auth import SESSION_COOKIE
from xinyong.db.engine import writer_session
from xinyong.events import service as events
from xinyong.kit.dates import CHINA
from xinyong.platform import Platform

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back if it raises.

    A request that may write gets a writer's session (`db.engine.writer_session`: on SQLite it waits for the
    write lock rather than failing when another request wrote since it began reading): any method but GET,
    HEAD and OPTIONS, and any request with credentials, since an authenticated read of non-public data is
    audited — a write after its reads. Anonymous reads (the portal) write nothing and stay concurrent.
    Making a session does no I/O, so it is made on the event loop; the end of the transaction (which talks
    to the database) takes one thread-pool hop, and none when the request never used the database.
    """
    sessions = request.app.state.platform.sessions
    session = writer_session(sessions) if _may_write(request) else sessions()
    try:
        yield session
    except BaseException:
        await run_in_threadpool(_end, session, commit=False)
        raise
    if session.in_transaction() or session.new or session.dirty or session.deleted:
        await run_in_threadpool(_end, session, commit=True)
        if events.written(session):  # reactions (repair notices…) to what this request committed, right after
            await run_in_threadpool(request.app.state.platform.dispatch_events)
    else:
        session.close()


def _may_write(request: Request) -> bool:
    return (
        request.method not in SAFE_METHODS
        or "authorization" in request.headers
        or SESSION_COOKIE in request.cookies
    )


def _end(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def client_ip(request: Request) -> str | None:
    """The caller's address, for the audit trail and rate limits: the peer's, unless the peer is one of
    `XINYONG_TRUSTED_PROXIES`; then the nearest address in X-Forwarded-For that is not a trusted proxy (the
    ones before it were written by the client and prove nothing)."""
    peer = request.client.host if request.client else None
    trusted = request.app.state.platform.settings.trusted_proxy_networks
    if peer is None or not trusted or not _within(peer, trusted):
        return peer
    hops = [h.strip() for v in request.headers.getlist("x-forwarded-for") for h in v.split(",")]
    for hop in reversed(hops):
        if not _valid_address(hop):
            return peer  # a hop a trusted proxy would not write: believe no further
        if not _within(hop, trusted):
            return hop
    return peer


def _valid_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _within(address: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


async def get_today() -> dt.date:
    """Today's date in China (overridden in tests: time is an input)."""
    return dt.datetime.now(CHINA).date()


PlatformDep = Annotated[Platform, Depends(get_platform)]
# scope="function": commit before the response is sent, so no client is told "done" for a transaction that
# then fails to commit, and locks are not held while the response travels.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
TodayDep = Annotated[dt.date, Depends(get_today)]
