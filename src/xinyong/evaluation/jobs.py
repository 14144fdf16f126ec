"""The daily evaluation: every published model run incrementally on the store, input models first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from pathlib import Path

from sqlalchemy.orm import Session

from xinyong.evaluation import service


def run_published(session: Session, item_codes: Collection[str], data_dir: Path | None, day: dt.date) -> int:
    """Re-evaluate the subjects whose inputs changed since each model's last run (a first run evaluates all).
    Idempotent: run twice the same day, the second run re-evaluates nobody. Returns the subjects evaluated."""
    return service.run_all(session, service.load_models(session, item_codes, data_dir), day)
