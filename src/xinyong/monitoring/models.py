"""Aggregates behind the portal's statistics pages: one row per statistic, recomputed by the daily job."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db.base import Base, JSONType, UTCDateTime


class StatisticsAggregate(Base):
    """A statistic as the page shows it (`data`), computed for the day `as_of` at `computed_at`.

    The rows are created by migration 0010 with no data; `data` stays NULL until the daily job (or the demo
    seed) first computes it, and a page meanwhile computes the statistic itself.
    """

    __tablename__ = "statistics_aggregates"

    name: Mapped[str] = mapped_column(String(48), primary_key=True)
    as_of: Mapped[dt.date | None] = mapped_column(Date)
    computed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    data: Mapped[Any] = mapped_column(JSONType, nullable=True)
