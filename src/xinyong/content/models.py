"""Articles on the portal: typical cases of joint rewards and punishments, and integrity education."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db.base import Base, JSONType, UTCDateTime, utcnow


class Article(Base):
    """One article. The body is plain text (paragraphs separated by blank lines), never HTML."""

    __tablename__ = "articles"
    __table_args__ = (Index("ix_articles_kind_status_published", "kind", "status", "published_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # case (典型案例), education (诚信教育)
    category: Mapped[str] = mapped_column(String(16))  # 守信激励, 失信惩戒, 信用修复, 其他
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(100), default="")  # 来源单位
    related_measure_codes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(16), index=True)  # draft, published, withdrawn
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
