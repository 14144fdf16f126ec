"""The statistics pages in a real browser: they show what the daily job last computed, say when (China time),
and draw their charts from it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import TODAY
from tests.helpers import department
from xinyong.db.session import transaction
from xinyong.jobs import run_daily
from xinyong.kit.dates import format_china_datetime
from xinyong.lists.models import ListEntry
from xinyong.monitoring import service as monitoring
from xinyong.monitoring.models import StatisticsAggregate
from xinyong.platform import Platform
from xinyong.subjects.models import Subject

pytestmark = pytest.mark.browser


def listed_subject(platform: Platform, name: str, decided_on: dt.date) -> None:
    with transaction(platform.sessions) as session:
        subject = Subject(
            kind="legal_person", name=name, name_norm=name, core_name=name, registered_on=dt.date(2020, 5, 1)
        )
        session.add(subject)
        session.flush()
        session.add(
            ListEntry(
                subject_id=subject.id,
                list_type="serious_dishonesty",
                status="listed",
                department_code=department(session),
                legal_basis="《测试依据》",
                facts="测试事实",
                proposed_on=decided_on - dt.timedelta(days=20),
                decided_on=decided_on,
                public_from=decided_on,
            )
        )


def computed_at(platform: Platform) -> dt.datetime:
    with platform.sessions() as session:
        moments = set(session.scalars(select(StatisticsAggregate.computed_at)))
    assert len(moments) == 1 and None not in moments
    return moments.pop()  # type: ignore[return-value]


def test_the_pages_show_the_last_computation_and_when(page: Any, portal_platform: Platform) -> None:
    listed_subject(portal_platform, "统计浏览器测试一有限公司", TODAY - dt.timedelta(days=40))
    assert run_daily(portal_platform, TODAY)["statistics: {} aggregates recomputed"] == len(monitoring.NAMES)
    with portal_platform.sessions() as session:
        stored = set(
            session.scalars(select(StatisticsAggregate.name).where(StatisticsAggregate.data.is_not(None)))
        )
    assert stored == set(monitoring.NAMES)
    stamp = f"统计截至 {format_china_datetime(computed_at(portal_platform))}"

    page.goto("/statistics")
    expect(page.locator(".stats-as-of")).to_contain_text(stamp)
    expect(page.locator(".panel").filter(has_text="最近一月")).to_contain_text("1 / 1")
    for chart in ("by-month", "by-scenario", "share"):
        expect(page.locator(f"div.chart[data-chart='{chart}'] canvas")).to_have_count(1)

    # A listing decided after the run shows after the next run, not before.
    listed_subject(portal_platform, "统计浏览器测试二有限公司", TODAY)
    page.reload()
    expect(page.locator(".panel").filter(has_text="最近一月")).to_contain_text("1 / 1")
    run_daily(portal_platform, TODAY)
    page.reload()
    expect(page.locator(".panel").filter(has_text="最近一月")).to_contain_text("2 / 2")
    expect(page.locator(".stats-as-of")).to_contain_text(
        f"统计截至 {format_china_datetime(computed_at(portal_platform))}"
    )

    page.goto("/statistics/repairs")
    expect(page.locator(".stats-as-of")).to_contain_text("统计截至 ")
    expect(page.locator("div.chart[data-chart='outcomes']")).to_have_count(1)
