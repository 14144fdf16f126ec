"""Working days: the official schedule with adjusted weekends, provisional years, schedules loaded later."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest

from xinyong.kit.workdays import (
    Deadline,
    OfficialSchedule,
    WorkdayCalendar,
    YearSchedule,
    default_calendar,
    provisional_holidays,
    provisional_schedule,
)

D = dt.date


def _package_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(D(year, 6, 1))
    except NotImplementedError:
        return False
    return True


needs_2027_unknown = pytest.mark.skipif(
    _package_knows(2027), reason="the installed chinese-calendar already ships the official 2027 schedule"
)

# An illustrative 2027 notice (NOT the real one, which is not published yet): 春节 5-13 February off,
# Sunday 31 January and Saturday 20 February worked; 元旦 1-3 January.
NOTICE_2027 = YearSchedule.build(
    2027,
    holidays=[(D(2027, 1, 1), D(2027, 1, 3)), (D(2027, 2, 5), D(2027, 2, 13))],
    workdays=[D(2027, 1, 31), D(2027, 2, 20)],
)


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        # 2025 (国办发明电〔2024〕12号)
        (D(2025, 1, 1), False),  # 元旦, Wednesday
        (D(2025, 1, 26), True),  # Sunday worked before 春节
        (D(2025, 1, 28), False),  # 除夕, a statutory holiday since 2025
        (D(2025, 2, 4), False),  # last day of 春节
        (D(2025, 2, 5), True),
        (D(2025, 2, 8), True),  # Saturday worked after 春节
        (D(2025, 4, 4), False),  # 清明节, Friday
        (D(2025, 4, 27), True),  # Sunday worked before 劳动节
        (D(2025, 5, 5), False),
        (D(2025, 6, 2), False),  # 端午节 moved to Monday
        (D(2025, 9, 28), True),  # Sunday worked before 国庆节
        (D(2025, 10, 6), False),  # 中秋节 inside the 国庆 week
        (D(2025, 10, 8), False),
        (D(2025, 10, 9), True),
        (D(2025, 10, 11), True),  # Saturday worked
        (D(2025, 10, 12), False),  # ordinary Sunday
        # 2026 (国办发明电〔2025〕7号)
        (D(2026, 1, 2), False),
        (D(2026, 1, 4), True),  # Sunday worked after 元旦
        (D(2026, 2, 13), True),
        (D(2026, 2, 14), True),  # Saturday worked before 春节
        (D(2026, 2, 15), False),
        (D(2026, 2, 16), False),  # 除夕
        (D(2026, 2, 23), False),  # Monday, last day of the nine
        (D(2026, 2, 24), True),
        (D(2026, 2, 28), True),  # Saturday worked after 春节
        (D(2026, 3, 1), False),  # ordinary Sunday
        (D(2026, 3, 2), True),  # ordinary Monday
        (D(2026, 4, 6), False),  # 清明 Monday
        (D(2026, 5, 5), False),
        (D(2026, 5, 9), True),  # Saturday worked after 劳动节
        (D(2026, 6, 19), False),  # 端午节, Friday
        (D(2026, 9, 20), True),  # Sunday worked before 国庆
        (D(2026, 9, 25), False),  # 中秋节, Friday
        (D(2026, 10, 7), False),
        (D(2026, 10, 8), True),
        (D(2026, 10, 10), True),  # Saturday worked after 国庆
        (D(2026, 10, 11), False),
    ],
)
def test_official_days_2025_2026(day: dt.date, workday: bool) -> None:
    calendar = default_calendar()
    assert calendar.is_workday(day) is workday
    assert not calendar.is_provisional(day.year)


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        # Wednesday before 国庆: 1-7 October off, then Thu 8, Fri 9, Sat 10 (worked), Mon 12, Tue 13
        (D(2026, 9, 30), 5, D(2026, 10, 13)),
        (D(2026, 9, 30), 1, D(2026, 10, 8)),
        (D(2026, 9, 30), 3, D(2026, 10, 10)),
        # notified on a holiday: counting starts the next day all the same
        (D(2026, 10, 3), 2, D(2026, 10, 9)),
        # Friday before the worked Sunday 20 September and 中秋 (25-27 September)
        (D(2026, 9, 18), 5, D(2026, 9, 24)),
        (D(2026, 9, 18), 6, D(2026, 9, 28)),
    ],
)
def test_deadlines_across_national_day_2026(start: dt.date, n: int, due: dt.date) -> None:
    assert default_calendar().add_workdays(start, n) == Deadline(due=due, provisional=False)


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        # Thu 12 Feb: Fri 13, Sat 14 (worked), 15-23 off, Tue 24, Wed 25, Thu 26
        (D(2026, 2, 12), 5, D(2026, 2, 26)),
        (D(2026, 2, 12), 2, D(2026, 2, 14)),
        (D(2026, 2, 12), 3, D(2026, 2, 24)),
        # ... Fri 27, Sat 28 (worked), Mon 2 March, Tue 3, Wed 4
        (D(2026, 2, 12), 7, D(2026, 2, 28)),
        (D(2026, 2, 12), 10, D(2026, 3, 4)),
        # notified on the worked Saturday itself
        (D(2026, 2, 14), 1, D(2026, 2, 24)),
    ],
)
def test_deadlines_across_spring_festival_2026(start: dt.date, n: int, due: dt.date) -> None:
    assert default_calendar().add_workdays(start, n) == Deadline(due=due, provisional=False)


def test_a_deadline_inside_2026_is_official_even_at_the_year_end() -> None:
    assert default_calendar().add_workdays(D(2026, 12, 21), 5) == Deadline(D(2026, 12, 28), False)
    assert default_calendar().add_workdays(D(2026, 12, 28), 3) == Deadline(D(2026, 12, 31), False)


@needs_2027_unknown
def test_a_deadline_reaching_2027_is_provisional() -> None:
    calendar = default_calendar()
    assert calendar.is_provisional(2027)
    # Tue 29, Wed 30, Thu 31 December; 1 January 2027 (Friday) is 元旦; weekend; Mon 4, Tue 5
    assert calendar.add_workdays(D(2026, 12, 28), 5) == Deadline(D(2027, 1, 5), provisional=True)
    # even a day only looked at (元旦, skipped) makes it provisional: it may turn out differently
    assert calendar.add_workdays(D(2026, 12, 31), 1) == Deadline(D(2027, 1, 4), provisional=True)


@needs_2027_unknown
def test_loading_the_2027_schedule_removes_the_flag_and_recomputes() -> None:
    provisional = default_calendar()
    official = WorkdayCalendar({2027: NOTICE_2027})
    assert not official.is_provisional(2027)
    assert official.source(2027) == "loaded"
    assert provisional.source(2027) == "provisional"

    # across New Year the illustrative notice agrees with the provisional rule: only the flag goes
    assert official.add_workdays(D(2026, 12, 28), 5) == Deadline(D(2027, 1, 5), provisional=False)

    # across 春节 it does not. Provisional: 除夕 Fri 5 to 初三 Mon 8 off, so Tue 9 .. Fri 12, Mon 15.
    assert provisional.add_workdays(D(2027, 2, 4), 5) == Deadline(D(2027, 2, 15), provisional=True)
    # Official: 5-13 February off, Sunday 14 rests, Mon 15 .. Fri 19.
    assert official.add_workdays(D(2027, 2, 4), 5) == Deadline(D(2027, 2, 19), provisional=False)
    # adjusted working weekends exist only once a schedule says so
    assert not provisional.is_workday(D(2027, 1, 31))
    assert official.is_workday(D(2027, 1, 31))
    assert official.is_workday(D(2027, 2, 20))


def test_a_loaded_schedule_overrides_the_package() -> None:
    # say a correction moved 2026-10-10 (Saturday, worked) back to rest and gave 2026-10-09 off
    holidays = set(chinese_calendar.get_holidays(D(2026, 1, 1), D(2026, 12, 31), include_weekends=False))
    workdays = {d for d in chinese_calendar.get_workdays(D(2026, 1, 1), D(2026, 12, 31)) if d.weekday() >= 5}
    corrected = YearSchedule(
        2026,
        holidays=frozenset(holidays | {D(2026, 10, 9)}),
        workdays=frozenset(workdays - {D(2026, 10, 10)}),
    )
    calendar = WorkdayCalendar({2026: corrected})
    assert calendar.source(2026) == "loaded"
    assert not calendar.is_workday(D(2026, 10, 9))
    assert not calendar.is_workday(D(2026, 10, 10))
    assert calendar.is_workday(D(2026, 2, 14))  # the rest of the official year is unchanged
    assert calendar.add_workdays(D(2026, 9, 30), 5) == Deadline(D(2026, 10, 15), provisional=False)
    assert default_calendar().add_workdays(D(2026, 9, 30), 5) == Deadline(D(2026, 10, 13), provisional=False)


def test_with_schedule_returns_a_new_calendar() -> None:
    base = WorkdayCalendar()
    loaded = base.with_schedule(NOTICE_2027)
    assert loaded.schedules == {2027: NOTICE_2027}
    assert base.schedules == {}
    assert base.source(2027) in {"provisional", "package"}
    assert OfficialSchedule is YearSchedule


@pytest.mark.parametrize(
    ("year", "spring_festival", "qingming", "dragon_boat", "mid_autumn"),
    [
        (2027, D(2027, 2, 6), D(2027, 4, 5), D(2027, 6, 9), D(2027, 9, 15)),
        (2028, D(2028, 1, 26), D(2028, 4, 4), D(2028, 5, 28), D(2028, 10, 3)),
        (2029, D(2029, 2, 13), D(2029, 4, 4), D(2029, 6, 16), D(2029, 9, 22)),
        (2030, D(2030, 2, 3), D(2030, 4, 5), D(2030, 6, 5), D(2030, 9, 12)),
        (2031, D(2031, 1, 23), D(2031, 4, 5), D(2031, 6, 24), D(2031, 10, 1)),
        (2032, D(2032, 2, 11), D(2032, 4, 4), D(2032, 6, 12), D(2032, 9, 19)),
        (2033, D(2033, 1, 31), D(2033, 4, 4), D(2033, 6, 1), D(2033, 9, 8)),
        (2034, D(2034, 2, 19), D(2034, 4, 5), D(2034, 6, 20), D(2034, 9, 27)),
        (2035, D(2035, 2, 8), D(2035, 4, 5), D(2035, 6, 10), D(2035, 9, 16)),
    ],
)
def test_provisional_statutory_holidays(
    year: int, spring_festival: dt.date, qingming: dt.date, dragon_boat: dt.date, mid_autumn: dt.date
) -> None:
    holidays = provisional_holidays(year)
    expected = {
        D(year, 1, 1),
        spring_festival - dt.timedelta(days=1),  # 除夕
        spring_festival,
        spring_festival + dt.timedelta(days=1),
        spring_festival + dt.timedelta(days=2),  # 正月初三
        qingming,
        D(year, 5, 1),
        D(year, 5, 2),
        dragon_boat,
        mid_autumn,
        D(year, 10, 1),
        D(year, 10, 2),
        D(year, 10, 3),
    }
    assert set(holidays) == expected
    assert holidays[spring_festival] == "春节"
    assert "中秋节" in holidays[mid_autumn]
    # the package's solar-term formula agrees with the table for 清明
    assert (qingming, "清明") in chinese_calendar.get_solar_terms(D(year, 4, 1), D(year, 4, 30))
    schedule = provisional_schedule(year)
    assert schedule.workdays == frozenset()
    assert schedule.holidays == frozenset(expected)


def test_mid_autumn_on_national_day_counts_once() -> None:
    assert provisional_holidays(2028)[D(2028, 10, 3)] == "中秋节、国庆节"
    assert len(provisional_holidays(2028)) == 12
    assert len(provisional_holidays(2031)) == 12


def test_provisional_year_rules() -> None:
    calendar = default_calendar()
    assert calendar.is_provisional(2035)
    assert calendar.source(2035) == "provisional"
    assert not calendar.is_workday(D(2035, 2, 7))  # 除夕, Wednesday
    assert calendar.is_workday(D(2035, 2, 12))  # Monday after 初三
    assert not calendar.is_workday(D(2035, 6, 10))  # 端午, Sunday; not made up
    assert calendar.is_workday(D(2035, 6, 11))
    assert not calendar.is_workday(D(2035, 10, 6))  # an ordinary Saturday: no adjusted weekend
    assert calendar.is_workday(D(2035, 10, 4))  # Thursday: 国庆 is three days
    # beyond the lunar table only the solar-date holidays are known, still provisional
    assert set(provisional_holidays(2036).values()) == {"元旦", "清明节", "劳动节", "国庆节"}
    assert calendar.add_workdays(D(2036, 9, 30), 1) == Deadline(D(2036, 10, 6), provisional=True)


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        (D(2026, 9, 30), D(2026, 10, 13), 5),
        (D(2026, 2, 12), D(2026, 3, 4), 10),
        (D(2026, 9, 30), D(2026, 9, 30), 0),
        (D(2026, 10, 13), D(2026, 9, 30), 0),
        (D(2026, 10, 1), D(2026, 10, 7), 0),
        # 2026: 261 weekdays, 19 of them holidays, 6 weekends worked
        (D(2025, 12, 31), D(2026, 12, 31), 261 - 19 + 6),
    ],
)
def test_workdays_between(start: dt.date, end: dt.date, count: int) -> None:
    assert default_calendar().workdays_between(start, end) == count


def test_workdays_between_inverts_add_workdays() -> None:
    calendar = default_calendar()
    for start in (D(2026, 2, 10), D(2026, 9, 29), D(2026, 12, 24), D(2025, 12, 30)):
        for n in range(25):
            deadline = calendar.add_workdays(start, n)
            assert calendar.workdays_between(start, deadline.due) == n
            assert n == 0 or calendar.is_workday(deadline.due)


def test_zero_and_negative_counts() -> None:
    assert default_calendar().add_workdays(D(2026, 10, 1), 0) == Deadline(D(2026, 10, 1), provisional=False)
    with pytest.raises(ValueError, match="负数"):
        default_calendar().add_workdays(D(2026, 10, 1), -1)


def test_datetimes_are_read_as_their_date() -> None:
    calendar = default_calendar()
    assert calendar.is_workday(dt.datetime(2026, 2, 14, 9, 30))
    assert calendar.add_workdays(dt.datetime(2026, 9, 30, 23, 59), 5).due == D(2026, 10, 13)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"holidays": frozenset({D(2028, 1, 1)})}, "其他年份"),
        ({"holidays": frozenset({D(2027, 2, 20)}), "workdays": frozenset({D(2027, 2, 20)})}, "既放假又上班"),
        ({"holidays": frozenset(), "workdays": frozenset({D(2027, 2, 19)})}, "周六或周日"),
    ],
)
def test_inconsistent_schedules_are_refused(kwargs: dict[str, frozenset[dt.date]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        YearSchedule(2027, **kwargs)


def test_build_refuses_a_reversed_range_and_a_misfiled_year() -> None:
    with pytest.raises(ValueError, match="颠倒"):
        YearSchedule.build(2027, holidays=[(D(2027, 2, 13), D(2027, 2, 5))])
    with pytest.raises(ValueError, match="不一致"):
        WorkdayCalendar({2028: NOTICE_2027})
    assert len(NOTICE_2027.holidays) == 12


def test_default_calendar_is_shared() -> None:
    assert default_calendar() is default_calendar()
