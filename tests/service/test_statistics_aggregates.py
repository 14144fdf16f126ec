"""The statistics pages' aggregates (`xinyong.monitoring`): the stored numbers are the live computations' on
the same data (both stores), the daily job recomputes them idempotently, and the pages read them and say when
they were computed."""

from __future__ import annotations

import datetime as dt
import itertools

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import department
from xinyong.accounts.policy import SYSTEM
from xinyong.commitments import service as commitments
from xinyong.demo import service as demo
from xinyong.demo.repair import seed_repair
from xinyong.demo.supervision import seed_supervision
from xinyong.jobs import run_daily
from xinyong.kit.dates import format_china_datetime
from xinyong.lists.models import ListEntry
from xinyong.measures import service as measures
from xinyong.monitoring import service as monitoring
from xinyong.monitoring.models import StatisticsAggregate
from xinyong.objections import service as objections
from xinyong.platform import Platform
from xinyong.records.service import IngestContext
from xinyong.repair import service as repair
from xinyong.subjects.models import Subject

SCALE = 0.02  # the smallest demo with list entries, checks, repairs and objections in every state
_names = itertools.count(1)


def live(platform: Platform, session: Session, today: dt.date) -> dict[str, object]:
    """What the pages computed on every request before the aggregates."""
    return {
        monitoring.CHECKS_BY_MONTH: measures.statistics(session, "month"),
        monitoring.CHECKS_BY_SCENARIO: measures.statistics(session, "scenario"),
        monitoring.PUNISHMENT_SHARE: measures.punishment_share(session, today),
        monitoring.REPAIRS: repair.statistics(session, platform.calendar),
        monitoring.OBJECTIONS: objections.statistics(session, platform.calendar),
        monitoring.COMMITMENTS: commitments.statistics(session, today),
    }


def stored(session: Session) -> dict[str, object]:
    return dict(session.execute(select(StatisticsAggregate.name, StatisticsAggregate.data)).all())


def subject(session: Session, kind: str, registered_on: dt.date | None) -> int:
    name = f"统计测试{next(_names)}有限公司"
    row = Subject(kind=kind, name=name, name_norm=name, core_name=name, registered_on=registered_on)
    session.add(row)
    session.flush()
    return row.id


def entry(
    session: Session,
    subject_id: int,
    list_type: str,
    decided_on: dt.date | None,
    *,
    removed_on: dt.date | None = None,
    public_until: dt.date | None = None,
) -> None:
    session.add(
        ListEntry(
            subject_id=subject_id,
            list_type=list_type,
            status="removed" if removed_on else ("listed" if decided_on else "proposed"),
            department_code=department(session),
            legal_basis="《测试依据》",
            facts="测试事实",
            proposed_on=(decided_on or TODAY) - dt.timedelta(days=20),
            decided_on=decided_on,
            public_from=decided_on,
            public_until=public_until,
            removed_on=removed_on,
        )
    )
    session.flush()


class TestSameNumbersAsTheLiveComputation:
    def test_on_the_demo_every_stored_statistic_is_the_live_one(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        demo.seed(session, ctx, scale=SCALE)
        demo.seed_accounts(session, ctx)
        seed_supervision(session, platform.context(SYSTEM, ctx.today), scale=SCALE)
        seed_repair(session, platform, TODAY)
        expected = live(platform, session, TODAY)
        # Not a comparison of empty lists: the demo has checks, listed subjects, repairs and objections.
        assert sum(r["checks"] for r in expected[monitoring.CHECKS_BY_MONTH]) > 0  # type: ignore[attr-defined]
        assert expected[monitoring.PUNISHMENT_SHARE][-1]["listed"] > 0  # type: ignore[index]
        assert expected[monitoring.REPAIRS]["departments"]  # type: ignore[index]
        assert expected[monitoring.OBJECTIONS]["departments"]  # type: ignore[index]

        assert monitoring.refresh(session, platform.calendar, TODAY) == len(monitoring.NAMES)
        assert stored(session) == expected
        for names in (monitoring.CHECK_STATISTICS, monitoring.REPAIR_STATISTICS):
            read = monitoring.read(session, platform.calendar, TODAY, names)
            assert not read.live and read.values == {name: expected[name] for name in names}
        for day in (TODAY - dt.timedelta(days=400), TODAY + dt.timedelta(days=45), dt.date(2020, 1, 31)):
            assert monitoring.punishment_share(session, day) == measures.punishment_share(session, day)

    def test_punishment_share_at_the_edges_of_each_month(self, session: Session) -> None:
        """Registrations, decisions, removals and ends of publicity on a month's last day and the day after
        it; an undated registration; a subject on both lists; lists and kinds that do not count."""
        end = dt.date(2026, 8, 31)
        after = end + dt.timedelta(days=1)
        s1 = subject(session, "legal_person", end)
        s2 = subject(session, "individual_business", after)
        s3 = subject(session, "legal_person", None)
        subject(session, "natural_person", dt.date(2020, 1, 1))  # not a market subject
        s5 = subject(session, "legal_person", dt.date(2019, 5, 5))
        entry(session, s1, "serious_dishonesty", end)
        entry(session, s1, "market_ban", dt.date(2026, 3, 1))  # the same subject on both lists: once
        entry(session, s2, "serious_dishonesty", after, removed_on=dt.date(2026, 10, 31))
        entry(session, s3, "market_ban", dt.date(2025, 12, 31), public_until=dt.date(2026, 6, 30))
        entry(session, s5, "serious_dishonesty", dt.date(2026, 1, 15), removed_on=dt.date(2026, 2, 1))
        entry(session, s5, "red", dt.date(2026, 1, 1))  # an honour list: not a punishment
        entry(session, s5, "serious_dishonesty", None)  # proposed, not decided
        for today in (dt.date(2026, 8, 31), dt.date(2026, 9, 1), dt.date(2026, 11, 30), dt.date(2027, 3, 15)):
            ours = monitoring.punishment_share(session, today)
            assert ours == measures.punishment_share(session, today)
        points = {p["month"]: p for p in monitoring.punishment_share(session, dt.date(2026, 11, 28))}
        assert (points["2026-06"]["listed"], points["2026-07"]["listed"]) == (2, 1)  # s3's publicity ended
        assert (points["2026-08"]["listed"], points["2026-09"]["listed"]) == (1, 2)  # s2 decided on the 1st
        assert points["2026-10"]["listed"] == 1  # s2 removed on the last day of October
        assert (points["2026-08"]["subjects"], points["2026-09"]["subjects"]) == (3, 4)


class TestTheDailyJob:
    def test_recomputing_is_idempotent_and_restamps(self, platform: Platform, session: Session) -> None:
        subject(session, "legal_person", dt.date(2024, 1, 1))
        first = dt.datetime(2026, 11, 27, 17, 30, tzinfo=dt.UTC)
        monitoring.refresh(session, platform.calendar, TODAY, now=first)
        before = stored(session)
        monitoring.refresh(session, platform.calendar, TODAY, now=first + dt.timedelta(days=1))
        assert stored(session) == before
        rows = session.scalars(select(StatisticsAggregate)).all()
        assert len(rows) == len(monitoring.NAMES)
        assert {r.computed_at for r in rows} == {first + dt.timedelta(days=1)}
        assert {r.as_of for r in rows} == {TODAY}

    def test_jobs_run_recomputes_them_last(self, platform: Platform, session: Session) -> None:
        results = run_daily(platform, TODAY)
        assert list(results)[-1] == "statistics: {} aggregates recomputed"
        assert results["statistics: {} aggregates recomputed"] == len(monitoring.NAMES)
        read = monitoring.read(session, platform.calendar, TODAY, monitoring.NAMES)
        assert not read.live


class TestThePagesReadTheAggregates:
    def test_before_the_first_run_a_page_computes_them_and_stores_nothing(
        self, client: TestClient, session: Session
    ) -> None:
        market = subject(session, "legal_person", dt.date(2024, 1, 1))
        entry(session, market, "serious_dishonesty", dt.date(2026, 11, 2))
        session.commit()
        page = client.get("/statistics")
        assert page.status_code == 200 and "最近一月：1 / 1" in page.text and "统计截至" in page.text
        assert client.get("/statistics/repairs").status_code == 200
        assert set(stored(session).values()) == {None}  # a read never writes

    def test_a_page_shows_the_last_computation_and_when_until_the_job_runs_again(
        self, client: TestClient, platform: Platform, session: Session
    ) -> None:
        market = subject(session, "legal_person", dt.date(2024, 1, 1))
        subject(session, "individual_business", dt.date(2025, 1, 1))
        computed = dt.datetime(2026, 11, 27, 17, 30, tzinfo=dt.UTC)  # 01:30 on 28 November in China
        monitoring.refresh(session, platform.calendar, TODAY, now=computed)
        session.commit()
        page = client.get("/statistics").text
        assert "最近一月：0 / 2" in page
        assert f"统计截至 {format_china_datetime(computed)}" in page
        stamp = client.get("/statistics/repairs.json").json()["computed_at"]
        assert dt.datetime.fromisoformat(stamp) == computed
        assert f"统计截至 {format_china_datetime(computed)}" in client.get("/statistics/repairs").text

        entry(session, market, "serious_dishonesty", TODAY)
        session.commit()
        assert "最近一月：0 / 2" in client.get("/statistics").text  # as of the last computation
        monitoring.refresh(session, platform.calendar, TODAY, now=computed + dt.timedelta(hours=2))
        session.commit()
        page = client.get("/statistics").text
        assert "最近一月：1 / 2" in page
        assert f"统计截至 {format_china_datetime(computed + dt.timedelta(hours=2))}" in page
