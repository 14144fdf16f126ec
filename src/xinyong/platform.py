"""The composition root: the process-wide objects (settings, the session factory over the engine, keys,
caches, the check batcher) built once from settings and handed to the web app, the CLI and the jobs.

Domains never import this module; the outer layer (`app`, `cli`, `jobs`, views and APIs) does.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from xinyong.accounts.auth import TokenCache
from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit_service
from xinyong.catalog.schemas import Catalog
from xinyong.catalog.service import CatalogStore
from xinyong.commitments import breaches as commitment_breaches
from xinyong.config import Settings
from xinyong.db.engine import make_engine, make_sessionmaker, writer_session
from xinyong.disclosure.rules import RuleSet
from xinyong.disclosure.service import RuleSetStore
from xinyong.events.dispatch import Dispatcher
from xinyong.kit.coalesce import Coalescer
from xinyong.kit.crypto import PersonalIdCipher, Signer, derive_key
from xinyong.kit.dates import CHINA
from xinyong.kit.errors import XinyongError
from xinyong.kit.workdays import WorkdayCalendar, default_calendar
from xinyong.measures import check as measures_check
from xinyong.measures.check import CheckOrder, StoredCheck
from xinyong.measures.repository import PublishedLists
from xinyong.records.service import IngestContext
from xinyong.repair import notices as repair_notices
from xinyong.repair.policy import PolicyStore
from xinyong.repair.rules import Policy as RepairPolicy

log = logging.getLogger("xinyong.platform")
CHECK_GATHER_TURNS = 6  # event-loop turns a batch of checks waits for requests on their way (kit.coalesce)


@dataclass
class Platform:
    """Process-wide objects built once by `build_platform`."""

    settings: Settings
    sessions: sessionmaker[Session]
    cipher: PersonalIdCipher
    signer: Signer
    tokens: TokenCache = field(default_factory=lambda: TokenCache(ttl_s=0))
    measure_lists: PublishedLists = field(default_factory=PublishedLists)  # the parsed measure lists
    repair_policies: PolicyStore = field(default_factory=PolicyStore)  # the parsed repair policy
    catalogs: CatalogStore = field(default_factory=CatalogStore)  # the parsed catalog
    rule_set_store: RuleSetStore = field(default_factory=RuleSetStore)  # the parsed disclosure rule sets

    @property
    def catalog(self) -> Catalog:
        return self.catalogs.get(self.settings.data_dir)

    def ingest_context(self, today: dt.date) -> IngestContext:
        return IngestContext(
            catalog=self.catalog,
            rule_sets=self.rule_sets,
            cipher=self.cipher,
            today=today,
        )

    @functools.cached_property
    def checks(self) -> Coalescer[CheckOrder, StoredCheck]:
        """The API's real-time checks, run in batches of concurrent requests (one transaction per batch); a
        check's own error (`XinyongError`) is raised to its request alone, and a batch that fails as a whole
        is run again order by order, so that an order that broke it fails alone."""

        def run(orders: list[CheckOrder]) -> list[StoredCheck | XinyongError | Exception]:
            try:
                return list(self.run_checks_committed(orders))
            except Exception:
                if len(orders) == 1:
                    raise
            # The shared transaction failed (rolled back, nothing stored): whatever one order holds that the
            # checks' own validation missed must fail that order alone, so each is run again on its own.
            outcomes: list[StoredCheck | XinyongError | Exception] = []
            for order in orders:
                try:
                    outcomes.extend(self.run_checks_committed([order]))
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

    def run_checks_committed(self, orders: list[CheckOrder]) -> list[StoredCheck | XinyongError]:
        """`measures.check.run_checks` in a transaction of its own, committed before any outcome is returned
        (the API's batches of concurrent checks, `checks`)."""
        with writer_session(self.sessions) as session:
            outcomes = measures_check.run_checks(
                session,
                catalog=self.catalog,
                signer=self.signer,
                id_hash=self.cipher.hash,
                orders=orders,
                lists=self.measure_lists,
            )
            session.commit()
        return outcomes

    def context(self, principal: Principal, today: dt.date, *, ip: str | None = None) -> UseCaseContext:
        """The context a use case runs in for this caller (`accounts.context`)."""
        return UseCaseContext(
            principal=principal,
            today=today,
            catalog=self.catalog,
            calendar=self.calendar,
            cipher=self.cipher,
            signer=self.signer,
            data_dir=self.settings.data_dir,
            ip=ip,
        )

    @functools.cached_property
    def events(self) -> Dispatcher:
        """The reactions to domain events (`xinyong.events`), run after a commit that wrote events and daily.
        A commitment's outcome first becomes records, whose publication the repair notices then react to."""
        return Dispatcher(
            [
                commitment_breaches.consumer(lambda: self.ingest_context(dt.datetime.now(CHINA).date())),
                repair_notices.consumer(lambda: self.repair_policy),
            ]
        )

    def dispatch_events(self) -> dict[str, int]:
        """Run the reactions now, each in its own transaction (right after a commit that wrote events)."""
        return self.events.run(lambda: writer_session(self.sessions))

    @property
    def repair_policy(self) -> RepairPolicy:
        return self.repair_policies.get(self.settings.data_dir)

    @property
    def calendar(self) -> WorkdayCalendar:
        return default_calendar()

    @property
    def rule_sets(self) -> list[RuleSet]:
        return self.rule_set_store.get(self.settings.data_dir)


def audit_key(settings: Settings) -> bytes:
    """The audit chain's HMAC key: its own setting, else derived from the secret key (HKDF)."""
    if settings.audit_key is not None:
        return settings.audit_key.get_secret_value().encode()
    return derive_key(settings.secret_key.get_secret_value(), "audit-chain")


def build_platform(
    settings: Settings, engine: Engine | None = None, *, keys_required: bool = True
) -> Platform:
    """Build the platform. Outside demo mode it refuses a published or missing secret (`InsecureSettings`):
    whoever knows the demo secret could forge check signatures and derive the resident-ID keys."""
    if keys_required:
        settings.require_production_keys()
    engine = engine or make_engine(settings.resolved_database_url)
    cipher = PersonalIdCipher.from_secrets(
        settings.secret_key.get_secret_value(),
        settings.pii_keys.get_secret_value() if settings.pii_keys else None,
        settings.id_hash_key.get_secret_value() if settings.id_hash_key else None,
    )
    if settings.signing_key_file is not None:
        signer = Signer.from_key_file(settings.signing_key_file)
    else:
        signer = Signer.from_secret(
            settings.secret_key.get_secret_value(),
            settings.signing_key.get_secret_value() if settings.signing_key else None,
        )
    return Platform(
        settings=settings,
        sessions=make_sessionmaker(engine, info={audit_service.KEY_INFO: audit_key(settings)}),
        cipher=cipher,
        signer=signer,
        tokens=TokenCache(ttl_s=settings.token_cache_seconds),
    )
