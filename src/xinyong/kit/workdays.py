"""The official Chinese working-day calendar (工作日), with provisional years and schedules loaded later.

Where a day's status comes from, first match wins:

1. a year schedule the credit office has loaded (``YearSchedule``: the State Council's notice for that year,
   国务院办公厅关于某年部分节假日安排的通知, with its holidays and adjusted working weekends, 调休上班日);
2. the ``chinese-calendar`` package, which ships the official schedules it knows (2004-2026 in 1.11);
3. otherwise a *provisional* rule: weekends plus the statutory holidays of 《全国年节及纪念日放假办法》
   as revised by 国务院令第795号 (in force from 2025-01-01), without any adjusted working weekend.
   A deadline that counts a day of such a year is marked provisional and must be recomputed once the
   year's schedule is known (loaded here, or shipped by a newer chinese-calendar).

Counting follows administrative practice: a period of N working days starts the day after the triggering
day (the day itself is not counted) and ends on the N-th working day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

import chinese_calendar

__all__ = [
    "Deadline",
    "OfficialSchedule",
    "WorkdayCalendar",
    "YearSchedule",
    "default_calendar",
    "provisional_holidays",
    "provisional_schedule",
]

_ONE_DAY = dt.timedelta(days=1)

# Gregorian dates of lunar festivals for years after the package's official data. Lunar dates are those of
# the official Chinese calendar (GB/T 33661-2017, Beijing time); spring festival = 正月初一 (除夕 is the
# day before), dragon boat = 五月初五, mid-autumn = 八月十五. Checked against published calendars and an
# independent new-moon computation (Meeus, Astronomical Algorithms, ch. 49). Extend when needed: a year
# missing here gets only its solar-date holidays (see provisional_holidays).
_SPRING_FESTIVAL: Mapping[int, dt.date] = MappingProxyType(
    {
        2027: dt.date(2027, 2, 6),
        2028: dt.date(2028, 1, 26),
        2029: dt.date(2029, 2, 13),
        2030: dt.date(2030, 2, 3),
        2031: dt.date(2031, 1, 23),
        2032: dt.date(2032, 2, 11),
        2033: dt.date(2033, 1, 31),
        2034: dt.date(2034, 2, 19),
        2035: dt.date(2035, 2, 8),
    }
)
_DRAGON_BOAT: Mapping[int, dt.date] = MappingProxyType(
    {
        2027: dt.date(2027, 6, 9),
        2028: dt.date(2028, 5, 28),
        2029: dt.date(2029, 6, 16),
        2030: dt.date(2030, 6, 5),
        2031: dt.date(2031, 6, 24),
        2032: dt.date(2032, 6, 12),
        2033: dt.date(2033, 6, 1),
        2034: dt.date(2034, 6, 20),
        2035: dt.date(2035, 6, 10),
    }
)
_MID_AUTUMN: Mapping[int, dt.date] = MappingProxyType(
    {
        2027: dt.date(2027, 9, 15),
        2028: dt.date(2028, 10, 3),
        2029: dt.date(2029, 9, 22),
        2030: dt.date(2030, 9, 12),
        2031: dt.date(2031, 10, 1),
        2032: dt.date(2032, 9, 19),
        2033: dt.date(2033, 9, 8),
        2034: dt.date(2034, 9, 27),
        2035: dt.date(2035, 9, 16),
    }
)
# 清明 is a solar term (the sun at 15° ecliptic longitude): 4 or 5 April. The table agrees with
# chinese-calendar's solar-term formula, which places it in other years of 1900-2100.
_QINGMING: Mapping[int, dt.date] = MappingProxyType(
    {
        2027: dt.date(2027, 4, 5),
        2028: dt.date(2028, 4, 4),
        2029: dt.date(2029, 4, 4),
        2030: dt.date(2030, 4, 5),
        2031: dt.date(2031, 4, 5),
        2032: dt.date(2032, 4, 4),
        2033: dt.date(2033, 4, 4),
        2034: dt.date(2034, 4, 5),
        2035: dt.date(2035, 4, 5),
    }
)


@dataclass(frozen=True, slots=True)
class Deadline:
    """A computed due date; provisional when a counted day lies in a year without an official schedule."""

    due: dt.date
    provisional: bool


@dataclass(frozen=True, slots=True)
class YearSchedule:
    """One year's official schedule: rest days on statutory holidays and adjusted working weekends (调休).

    Any day listed in neither set follows the week: Monday to Friday work, Saturday and Sunday rest.
    """

    year: int
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date] = frozenset()

    def __post_init__(self) -> None:
        strays = sorted(day for day in self.holidays | self.workdays if day.year != self.year)
        if strays:
            raise ValueError(f"{self.year}年的放假安排不能包含其他年份的日期：{_dates(strays)}")
        both = sorted(self.holidays & self.workdays)
        if both:
            raise ValueError(f"同一天不能既放假又上班：{_dates(both)}")
        weekdays = sorted(day for day in self.workdays if day.weekday() < 5)
        if weekdays:
            raise ValueError(f"调休上班日应为周六或周日：{_dates(weekdays)}")

    @classmethod
    def build(
        cls,
        year: int,
        *,
        holidays: Iterable[dt.date | tuple[dt.date, dt.date]],
        workdays: Iterable[dt.date] = (),
    ) -> YearSchedule:
        """A schedule as notices phrase it: holidays as single days or inclusive ranges (10月1日至7日)."""
        days: set[dt.date] = set()
        for item in holidays:
            if isinstance(item, tuple):
                first, last = item
                if last < first:
                    raise ValueError(f"放假起止日期颠倒：{first.isoformat()} 至 {last.isoformat()}")
                days.update(first + dt.timedelta(days=i) for i in range((last - first).days + 1))
            else:
                days.add(item)
        return cls(year=year, holidays=frozenset(days), workdays=frozenset(workdays))

    def is_workday(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5


OfficialSchedule = YearSchedule
"""The name the credit office's loading code may prefer: a year's schedule from the official notice."""


def _dates(days: Iterable[dt.date]) -> str:
    return "、".join(day.isoformat() for day in days)


@cache
def _package_knows(year: int) -> bool:
    """Whether the installed chinese-calendar ships the official schedule of this year."""
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def _qingming(year: int) -> dt.date:
    if year in _QINGMING:
        return _QINGMING[year]
    if 1900 <= year <= 2100:
        terms = chinese_calendar.get_solar_terms(dt.date(year, 4, 1), dt.date(year, 4, 30))
        for day, name in terms:
            if name == "清明" and isinstance(day, dt.date):
                return day
    return dt.date(year, 4, 5)  # pragma: no cover - outside the package's solar-term range


def provisional_holidays(year: int) -> dict[dt.date, str]:
    """The statutory holidays of a year without an official schedule, with their Chinese names.

    国务院令第795号: 元旦 1 day, 春节 4 days (除夕 to 正月初三), 清明节 1, 劳动节 2 (1-2 May), 端午节 1,
    中秋节 1, 国庆节 3 (1-3 October). A holiday falling on a weekend is not made up and no weekend is
    worked; where two holidays fall on one day (中秋 on 1-3 October) the day counts once. For a year
    missing from the lunar table the lunar holidays (春节, 端午, 中秋) cannot be placed and are left out.
    """
    named: dict[dt.date, str] = {}

    def add(day: dt.date, name: str) -> None:
        if day in named:
            named[day] = f"{named[day]}、{name}"
        else:
            named[day] = name

    add(dt.date(year, 1, 1), "元旦")
    if year in _SPRING_FESTIVAL:
        new_year = _SPRING_FESTIVAL[year]
        for offset in (-1, 0, 1, 2):
            add(new_year + dt.timedelta(days=offset), "春节")
    add(_qingming(year), "清明节")
    add(dt.date(year, 5, 1), "劳动节")
    add(dt.date(year, 5, 2), "劳动节")
    if year in _DRAGON_BOAT:
        add(_DRAGON_BOAT[year], "端午节")
    if year in _MID_AUTUMN:
        add(_MID_AUTUMN[year], "中秋节")
    for day in (1, 2, 3):
        add(dt.date(year, 10, day), "国庆节")
    return dict(sorted(named.items()))


def provisional_schedule(year: int) -> YearSchedule:
    """The provisional rule as a schedule: statutory holidays, no adjusted working weekend."""
    return YearSchedule(year=year, holidays=frozenset(provisional_holidays(year)))


_NO_SCHEDULES: Mapping[int, YearSchedule] = MappingProxyType({})


class WorkdayCalendar:
    """Working days from loaded schedules, then the chinese-calendar package, then the provisional rule.

    Immutable: loading another year's schedule makes a new calendar (``with_schedule``).
    """

    __slots__ = ("_provisional", "_schedules")

    def __init__(self, schedules: Mapping[int, YearSchedule] = _NO_SCHEDULES) -> None:
        for year, schedule in schedules.items():
            if schedule.year != year:
                raise ValueError(f"放假安排的年份（{schedule.year}）与登记年份（{year}）不一致")
        self._schedules: Mapping[int, YearSchedule] = MappingProxyType(dict(schedules))
        self._provisional: dict[int, YearSchedule] = {}

    @property
    def schedules(self) -> Mapping[int, YearSchedule]:
        """The schedules loaded into this calendar, by year."""
        return self._schedules

    def with_schedule(self, schedule: YearSchedule) -> WorkdayCalendar:
        """A new calendar with this year's official schedule loaded (replacing one loaded before)."""
        return WorkdayCalendar({**self._schedules, schedule.year: schedule})

    def source(self, year: int) -> str:
        """Where the year's working days come from: ``loaded``, ``package`` or ``provisional``."""
        if year in self._schedules:
            return "loaded"
        if _package_knows(year):
            return "package"
        return "provisional"

    def is_provisional(self, year: int) -> bool:
        """True when no official schedule is known for the year (neither loaded nor in the package)."""
        return self.source(year) == "provisional"

    def is_workday(self, day: dt.date) -> bool:
        """Whether government offices work on this day (an adjusted working weekend counts as a workday)."""
        if isinstance(day, dt.datetime):
            day = day.date()
        loaded = self._schedules.get(day.year)
        if loaded is not None:
            return loaded.is_workday(day)
        if _package_knows(day.year):
            return bool(chinese_calendar.is_workday(day))
        schedule = self._provisional.get(day.year)
        if schedule is None:
            schedule = self._provisional[day.year] = provisional_schedule(day.year)
        return schedule.is_workday(day)

    def add_workdays(self, start: dt.date, n: int) -> Deadline:
        """The n-th working day after ``start`` (``start`` itself is not counted); ``n = 0`` gives ``start``.

        The deadline is provisional when any day looked at after ``start`` (the due day included) lies in
        a year without an official schedule.
        """
        if n < 0:
            raise ValueError(f"工作日数不能为负数：{n}")
        if isinstance(start, dt.datetime):
            start = start.date()
        day, counted, provisional = start, 0, False
        while counted < n:
            day += _ONE_DAY
            provisional = provisional or self.is_provisional(day.year)
            if self.is_workday(day):
                counted += 1
        return Deadline(due=day, provisional=provisional)

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end``; 0 when ``end`` is not after ``start``."""
        if isinstance(start, dt.datetime):
            start = start.date()
        if isinstance(end, dt.datetime):
            end = end.date()
        count, day = 0, start
        while day < end:
            day += _ONE_DAY
            if self.is_workday(day):
                count += 1
        return count


@cache
def default_calendar() -> WorkdayCalendar:
    """The calendar without loaded schedules: the package's official years, provisional beyond."""
    return WorkdayCalendar()
