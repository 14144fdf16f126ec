"""The daily end-of-publicity job: counts windows that ended between runs, once per day, in the audit trail."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.helpers import department, penalty, uscc
from xinyong.audit import service as audit
from xinyong.audit.models import AuditEntry
from xinyong.disclosure import jobs
from xinyong.platform import Platform
from xinyong.records import repository
from xinyong.records.models import Record
from xinyong.records.service import IngestContext, ingest_json
from xinyong.subjects import service as subjects

# Decision date and severity → last public day under the rule set in force on that date.
ENDS = {
    ("2022-03-31", "一般"): dt.date(2023, 3, 31),  # 527号: 12 months
    ("2021-08-31", "严重"): dt.date(2024, 8, 31),  # 527号: 36 months
    ("2023-05-01", "一般"): dt.date(2026, 5, 1),  # 58号: 36 months
    ("2024-02-29", "严重"): dt.date(2027, 2, 28),  # 58号: 36 months, no 29 February in 2027
    ("2026-05-31", "一般"): dt.date(2027, 5, 31),  # 36号: 12 months
    ("2026-04-15", "严重"): dt.date(2029, 4, 15),  # 36号: 36 months
}


def load(session: Session, ctx: IngestContext, rows: list[dict[str, Any]]) -> None:
    department(session)
    receipt = ingest_json(session, ctx, item_code="CF", provider_code="SCMR", records=rows)
    assert receipt.rejected == 0 and receipt.queued == 0, receipt


def entries(session: Session) -> list[dict[str, Any]]:
    found = session.scalars(
        select(AuditEntry).where(AuditEntry.action == jobs.ACTION).order_by(AuditEntry.id)
    ).all()
    assert all(e.actor_kind == "system" and e.outcome == "ok" for e in found)
    return [e.details or {} for e in found]


def summary(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"ended": e["ended"], "through": e["through"]} for e in found]


def seed(session: Session, ctx: IngestContext) -> str:
    code = uscc()
    rows = [penalty(CF_XDR_SHXYM=code, CF_JDRQ=day, severity=severity) for day, severity in ENDS]
    minor = penalty(CF_XDR_SHXYM=code, CF_JDRQ="2022-01-10", severity="轻微")  # never public
    revoked = penalty(CF_XDR_SHXYM=code, CF_JDRQ="2022-06-30", severity="一般")  # would end 2023-06-30
    load(session, ctx, [*rows, minor, revoked])
    load(session, ctx, [{**revoked, "record_status": "撤销"}])
    stored = {r.decision_date: r for r in session.scalars(select(Record)).all()}
    for (day, _severity), end in ENDS.items():  # the ingest computed the windows the test relies on
        assert stored[dt.date.fromisoformat(day)].public_until == end
    assert stored[dt.date(2022, 6, 30)].status == "revoked"
    return code


def test_first_run_counts_every_window_ended_before_today(session: Session, ctx: IngestContext) -> None:
    seed(session, ctx)
    assert jobs.last_run(session) is None
    # Ended before 2026-11-28: 2023-03-31 and 2024-08-31 (527号) and 2026-05-01 (58号); not the minor
    # penalty (never public) nor the revoked one (its publicity ended with the revocation).
    assert jobs.end_publicity(session, dt.date(2026, 11, 28)) == 3
    assert summary(entries(session)) == [{"ended": 3, "through": "2026-11-28"}]
    # Why: each window under the rule set and severity that made it; and, on the first run only, the record
    # that left publicity by revocation before the job ever ran.
    (entry,) = entries(session)
    assert sorted((r["item"], r["rule"], r["severity"], r["count"]) for r in entry["reasons"]) == [
        ("CF", "ndrc-2019-527", "一般", 1),
        ("CF", "ndrc-2019-527", "严重", 1),
        ("CF", "ndrc-2023-58", "一般", 1),
    ]
    assert (entry["repaired"], entry["revoked"]) == ({}, {"CF": 1})
    assert jobs.last_run(session) == dt.date(2026, 11, 28)


def test_counts_records_leaving_publicity_between_runs(session: Session, ctx: IngestContext) -> None:
    seed(session, ctx)
    assert jobs.end_publicity(session, dt.date(2024, 1, 1)) == 1  # 2023-03-31
    assert jobs.end_publicity(session, dt.date(2026, 5, 1)) == 1  # 2024-08-31; 2026-05-01 still public
    assert jobs.end_publicity(session, dt.date(2026, 5, 2)) == 1  # its last public day was the last run
    assert jobs.end_publicity(session, dt.date(2027, 2, 28)) == 0  # 2027-02-28 is a public day
    assert jobs.end_publicity(session, dt.date(2027, 6, 1)) == 2  # 2027-02-28 and 2027-05-31
    assert jobs.end_publicity(session, dt.date(2031, 1, 1)) == 1  # 2029-04-15
    assert [e["ended"] for e in entries(session)] == [1, 1, 1, 0, 2, 1]
    # Every window that ended is counted exactly once over the runs.
    assert sum(e["ended"] for e in entries(session)) == len(ENDS)


def test_counts_agree_with_what_the_public_stops_seeing(
    session: Session, ctx: IngestContext, platform: Platform
) -> None:
    code = seed(session, ctx)
    catalog = platform.catalog
    sid = subjects.get_by_uscc(session, code).id

    def public_on(day: dt.date) -> set[int]:
        return {r.id for r in repository.records_of(session, sid, repository.public_filter(catalog, day))}

    jobs.end_publicity(session, dt.date(2026, 4, 30))
    before = public_on(dt.date(2026, 4, 30))
    for day in (dt.date(2026, 5, 1), dt.date(2026, 5, 2)):
        gone = before - public_on(day)
        assert jobs.end_publicity(session, day) == len(gone)
        before = public_on(day)
    assert [e["ended"] for e in entries(session)][1:] == [0, 1]


def test_second_run_the_same_day_counts_nothing_and_writes_nothing(
    session: Session, ctx: IngestContext
) -> None:
    seed(session, ctx)
    day = dt.date(2026, 11, 28)
    assert jobs.end_publicity(session, day) == 3
    assert jobs.end_publicity(session, day) == 0
    assert jobs.end_publicity(session, day - dt.timedelta(days=30)) == 0  # a late re-run of an earlier day
    assert summary(entries(session)) == [{"ended": 3, "through": "2026-11-28"}]
    assert jobs.end_publicity(session, day + dt.timedelta(days=1)) == 0
    assert jobs.end_publicity(session, day + dt.timedelta(days=1)) == 0
    assert summary(entries(session)) == [
        {"ended": 3, "through": "2026-11-28"},
        {"ended": 0, "through": "2026-11-29"},
    ]
    assert audit.verify(session) is None  # the entries are chained like every other


def test_a_committed_run_is_remembered_by_the_next_transaction(
    platform: Platform, ctx: IngestContext
) -> None:
    with platform.sessions() as session:
        seed(session, ctx)
        assert jobs.end_publicity(session, dt.date(2026, 11, 28)) == 3
        session.commit()
    with platform.sessions() as session:
        assert jobs.last_run(session) == dt.date(2026, 11, 28)
        assert jobs.end_publicity(session, dt.date(2026, 11, 28)) == 0
        assert jobs.end_publicity(session, dt.date(2027, 6, 1)) == 2
        session.commit()
    with platform.sessions() as session:
        assert [e["ended"] for e in entries(session)] == [3, 2]


class TestWhyRecordsLeftPublicity:
    def test_the_first_run_explains_each_item_and_rule_in_words(
        self, session: Session, ctx: IngestContext, platform: Platform
    ) -> None:
        seed(session, ctx)
        outcome = jobs.end_publicity_explained(session, dt.date(2026, 11, 28))
        assert outcome is not None and outcome.since is None and outcome.ended == 3
        names = {item.code: item.name for item in platform.catalog.items}
        lines = outcome.lines(names, platform.rule_sets)
        assert lines[0] == "first run: every record that left publicity before 2026-11-28"
        ended = [line for line in lines if "window ended" in line]
        assert len(ended) == 3 and all(line.startswith(f"CF {names['CF']}: 1 — ") for line in ended)
        assert sum("发改办财金〔2019〕527号" in line for line in ended) == 2
        assert any("国家发展改革委令第58号: 一般 penalties public for 36 months" in line for line in ended)
        assert lines[-1] == f"CF {names['CF']}: 1 — revoked (撤销)"

    def test_a_later_run_explains_only_the_windows_that_ended_since(
        self, session: Session, ctx: IngestContext, platform: Platform
    ) -> None:
        seed(session, ctx)
        assert jobs.end_publicity_explained(session, dt.date(2026, 11, 28)) is not None
        assert jobs.end_publicity_explained(session, dt.date(2026, 11, 28)) is None  # already covered
        later = jobs.end_publicity_explained(session, dt.date(2027, 6, 1))
        assert later is not None and later.since == dt.date(2026, 11, 28)
        assert (later.ended, later.repaired, later.revoked) == (2, {}, {})
        lines = later.lines({}, platform.rule_sets)
        assert len(lines) == 2 and not any(line.startswith("first run") for line in lines)
        assert "repaired" not in entries(session)[-1]
