"""Dates as departments send them: ISO, slashes, dots, 年月日, compact digits and Excel serial numbers."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

_PATTERNS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_TIME_TAIL = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")


def parse_date(value: object) -> dt.date:
    """Parse a date cell; raise ValueError when it is not one of the accepted forms."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_serial(float(value))
    return _parse_text(str(value).strip())


@lru_cache(maxsize=1 << 14)
def _parse_text(text: str) -> dt.date:
    # Cached: a file's dates repeat (a few thousand distinct days in a million rows).
    text = _TIME_TAIL.sub("", text)
    for pattern in _PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return _from_serial(float(text))
    raise ValueError(text)


def _from_serial(serial: float) -> dt.date:
    if not 1 <= serial < 2958466:
        raise ValueError(str(serial))
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months later, clamped to the month's last day (2026-01-31 + 1 month = 2026-02-28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


CHINA = dt.timezone(dt.timedelta(hours=8), "CST")  # Asia/Shanghai: no daylight saving since 1991


def china_time(moment: dt.datetime) -> dt.datetime:
    """The moment in China time; a naive value is taken as UTC (how the stores keep times)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(CHINA)


def format_china_datetime(moment: dt.datetime | None, *, seconds: bool = False) -> str:
    """2026年12月7日 10:18 (China time); an empty value as —."""
    if moment is None:
        return "—"
    local = china_time(moment)
    clock = f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"
    return f"{local.year}年{local.month}月{local.day}日 {clock}"


def format_china_date(day: dt.date | dt.datetime | None) -> str:
    """2026年12月7日; a time is first turned into China time; an empty value as —."""
    if day is None:
        return "—"
    if isinstance(day, dt.datetime):
        day = china_time(day).date()
    return f"{day.year}年{day.month}月{day.day}日"
