"""Times shown to people: China time, Chinese formats."""

from __future__ import annotations

import datetime as dt

from xinyong.kit.dates import china_time, format_china_date, format_china_datetime


class TestChinaTime:
    def test_naive_values_are_utc_and_shown_eight_hours_later(self) -> None:
        assert format_china_datetime(dt.datetime(2026, 12, 6, 18, 5)) == "2026年12月7日 02:05"

    def test_aware_values_keep_their_moment(self) -> None:
        moment = dt.datetime(2026, 1, 1, 0, 0, 30, tzinfo=dt.UTC)
        assert china_time(moment).hour == 8
        assert format_china_datetime(moment, seconds=True) == "2026年1月1日 08:00:30"

    def test_dates_and_late_evening_times(self) -> None:
        assert format_china_date(dt.date(2026, 6, 15)) == "2026年6月15日"
        # 20:00 UTC is already the next day in China.
        assert format_china_date(dt.datetime(2026, 6, 15, 20, 0, tzinfo=dt.UTC)) == "2026年6月16日"

    def test_missing_values_show_a_dash(self) -> None:
        assert format_china_datetime(None) == "—"
        assert format_china_date(None) == "—"
