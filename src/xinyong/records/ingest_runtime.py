"""What runs beside an ingest: the planner statistics kept in step, and the thread that stores the chunks."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ClassVar, TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

T = TypeVar("T")


class Statistics:
    """Keeps PostgreSQL's table statistics in step with a large ingest.

    The look-ups of each chunk (subjects by USCC, records by natural key or raw digest) are planned from
    the tables' statistics. A table that was small when last analysed looks small to the planner however
    many rows this ingest has added, and autovacuum (if it runs at all) waits its turn, so the planner keeps
    choosing sequential scans that grow with every chunk. ANALYZE (which samples a fixed number of rows and
    may run inside the transaction, counting its own new rows) is therefore run whenever the records
    table has grown by half since the last figures: a handful of times in a 1,000,000-row ingest.

    Only the columns those look-ups filter on are analysed (the row counts are updated all the same): all of
    the records' columns, the JSON documents among them, took 3.5 times as long, for statistics no look-up
    reads.
    """

    COLUMNS: ClassVar[dict[str, tuple[str, ...]]] = {
        "subjects": ("uscc", "org_code", "business_reg_no", "id_hash", "name_norm", "region_code"),
        "records": ("id", "natural_key", "raw_digest"),
    }
    MIN_GROWTH = 5000

    def __init__(self, session: Session) -> None:
        self.session = session
        self.enabled = session.get_bind().dialect.name == "postgresql"
        self.known = 0.0
        self.stored_at_last = 0
        if self.enabled:
            known = session.execute(
                text("SELECT reltuples FROM pg_class WHERE relname = 'records' AND relkind = 'r'")
            ).scalar()
            self.known = max(float(known or 0), 0.0)

    def after_chunk(self, stored: int) -> None:
        grown = stored - self.stored_at_last
        if not self.enabled or grown < max(self.MIN_GROWTH, 0.5 * (self.known + self.stored_at_last)):
            return
        tables = ", ".join(f"{table} ({', '.join(columns)})" for table, columns in self.COLUMNS.items())
        self.session.execute(text(f"ANALYZE {tables}"))
        self.stored_at_last = stored


class DatabaseThread:
    """Runs an ingest's database work on one thread, in the order it is submitted, while the calling thread
    reads and validates the next chunk.

    Validation is Python work; storing a chunk is largely waiting for the database (a COPY being indexed, the
    events' INSERT … SELECT, a commit), during which the interpreter lock is free. The session is used only
    by this thread between the first submission and `join`. After a failure here nothing more runs: every
    later piece of work fails with the same error, so no chunk is stored after one that failed. After a
    failure in the calling thread, `__exit__` still waits for the work submitted before it: every chunk
    handed over is stored, as it was before the next chunk was read when all of this ran on one thread.
    """

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xinyong-ingest")
        self._failure: BaseException | None = None

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        self._raise_failure()
        return self._executor.submit(contextvars.copy_context().run, self._guarded, fn, *args)

    def _guarded(self, fn: Callable[..., T], *args: Any) -> T:
        self._raise_failure()
        try:
            return fn(*args)
        except BaseException as exc:
            self._failure = exc
            raise

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def join(self) -> None:
        """Wait for everything submitted; raise the first failure."""
        self._executor.shutdown(wait=True)
        self._raise_failure()

    def __enter__(self) -> DatabaseThread:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._executor.shutdown(wait=True)
