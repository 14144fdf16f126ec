"""Running the consumers: right after a request's commit in the serving process, and from the daily job.

Each consumer runs in a transaction of its own, so one that fails leaves the others' work and its own cursor
as they were (its events wait for the next run). The dispatcher is an object the platform owns.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from xinyong.events import service
from xinyong.events.service import Consumer

log = logging.getLogger(__name__)

CATCH_UP = dt.timedelta(days=2)  # the daily run looks again at this much of the outbox


@dataclass(frozen=True)
class Dispatcher:
    """The registered consumers, run in order."""

    consumers: Sequence[Consumer]

    def run(self, sessions: Callable[[], Session], *, catch_up: bool = False) -> dict[str, int]:
        """Run every consumer, each in its own committed transaction; what each produced, by name."""
        since = dt.datetime.now(dt.UTC) - CATCH_UP if catch_up else None
        produced: dict[str, int] = {}
        for consumer in self.consumers:
            with sessions() as session:
                try:
                    produced[consumer.name] = service.consume(session, consumer, since=since)
                    session.commit()
                except Exception:
                    session.rollback()
                    log.exception("event consumer %s failed; its events wait for the next run", consumer.name)
                    produced[consumer.name] = 0
        return produced

    def run_in(self, session: Session, *, catch_up: bool = False) -> dict[str, int]:
        """Run every consumer inside the caller's transaction (the daily job, a CLI command, tests)."""
        since = dt.datetime.now(dt.UTC) - CATCH_UP if catch_up else None
        return {c.name: service.consume(session, c, since=since) for c in self.consumers}
