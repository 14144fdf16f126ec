"""Request dependencies as Annotated aliases: the session (transaction owner), the platform context, today."""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from xinyong.accounts.auth import SESSION_COOKIE, TokenCache
from xinyong.catalog import service as catalog_service
from xinyong.catalog.schemas import Catalog
from xinyong.config import Settings
from xinyong.db.engine import writer_session
from xinyong.disclosure import service as disclosure_service
from xinyong.disclosure.rules import RuleSet
from xinyong.kit.coalesce import Coalescer
from xinyong.kit.crypto import PersonalIdCipher, Signer
from xinyong.kit.errors import XinyongError
from xinyong.kit.workdays import WorkdayCalendar, default_calendar
from xinyong.measures import service as measures_service
from xinyong.measures.service import CheckOrder, StoredCheck
from xinyong.records.service import IngestContext
from xinyong.repair import service as repair_service
from xinyong.repair.rules import Policy as RepairPolicy

log = logging.getLogger("xinyong.web")
CHINA = ZoneInfo("Asia/Shanghai")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CHECK_GATHER_TURNS = 6  # event-loop turns a batch of checks waits for requests on their way (kit.coalesce)


@dataclass
class Platform:
    """Process-wide objects built once by the app factory."""

    settings: Settings
    sessions: sessionmaker[Session]
    cipher: PersonalIdCipher
    signer: Signer
    tokens: TokenCache = field(default_factory=lambda: TokenCache(ttl_s=0))

    @property
    def catalog(self) -> Catalog:
        return catalog_service.load(self.settings.data_dir)

    def ingest_context(self, today: dt.date) -> IngestContext:
        return IngestContext(
            catalog=self.catalog,
            rule_sets=disclosure_service.rule_sets(self.settings.data_dir),
            cipher=self.cipher,
            today=today,
            repair_items=repair_service.notice_items(self.repair_policy),
        )

    @functools.cached_property
    def checks(self) -> Coalescer[CheckOrder, StoredCheck]:
        """The API's real-time checks, run in batches of concurrent requests (one transaction per batch); a
        check's own error (`XinyongError`) is raised to its request alone, and a batch that fails as a whole
        is run again order by order, so that an order that broke it fails alone."""

        def run_committed(orders: list[CheckOrder]) -> list[StoredCheck | XinyongError]:
            return measures_service.run_checks_committed(
                self.sessions,
                catalog=self.catalog,
                signer=self.signer,
                id_hash=self.cipher.hash,
                orders=orders,
            )

        def run(orders: list[CheckOrder]) -> list[StoredCheck | XinyongError | Exception]:
            try:
                return list(run_committed(orders))
            except Exception:
                if len(orders) == 1:
                    raise
            # The shared transaction failed (rolled back, nothing stored): whatever one order holds that the
            # checks' own validation missed must fail that order alone, so each is run again on its own.
            outcomes: list[StoredCheck | XinyongError | Exception] = []
            for order in orders:
                try:
                    outcomes.extend(run_committed([order]))
                except Exception as exc:
                    log.exception("a check failed on its own after its batch failed")
                    outcomes.append(exc)
            return outcomes

        # One batch at a time per process. On SQLite there is one writer anyway (and a transaction that read
        # before another's commit cannot write after it, SQLITE_BUSY_SNAPSHOT). On PostgreSQL a second lane
        # was measured to cost more than it gives: it halves the batches and adds a thread contending for
        # the GIL with the event loop (docs/benchmarks-checks.md). Six turns of the event loop before a batch
        # took batches under load from 4 to ~8 checks (all of a worker's 8 connections) and a check's CPU down
        # by about a fifth; three turns gave ~5 (docs/benchmarks-checks.md).
        return Coalescer(
            run, max_batch=self.settings.check_batch_max, lanes=1, gather_turns=CHECK_GATHER_TURNS
        )

    @property
    def repair_policy(self) -> RepairPolicy:
        return repair_service.policy(self.settings.data_dir)

    @property
    def calendar(self) -> WorkdayCalendar:
        return default_calendar()

    @property
    def rule_sets(self) -> list[RuleSet]:
        return disclosure_service.rule_sets(self.settings.data_dir)


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
