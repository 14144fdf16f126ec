"""The transaction owner for CLI commands and jobs: commit on success, roll back on error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from xinyong.db.engine import writer_session


@contextmanager
def transaction(sessions: sessionmaker[Session], *, write: bool = True) -> Iterator[Session]:
    """A command's transaction. One that writes begins as a writer (`db.engine.writer_session`), so on SQLite
    it waits for a running server's write rather than failing after it; a read-only one (`write=False`)
    takes no write lock and never holds up the server's writers."""
    session = writer_session(sessions) if write else sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
