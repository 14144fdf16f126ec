"""The audit trail in the console: filters (actor, action, subject, China-time dates), pages, CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.helpers import department, ingest_rows, login, penalty, resident_id
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.audit.models import AuditEntry
from xinyong.audit.views import ACTION_LABELS, action_label
from xinyong.db import counting
from xinyong.records.service import IngestContext
from xinyong.subjects import service as subjects

CLERK = Principal(kind="user", name="clerk-a", role="provider", department_code="SCMR")
OTHER = Principal(kind="user", name="clerk-b", role="provider", department_code="SCMR")


def _entries(session: Session, principal: Principal, action: str, n: int, **kwargs: object) -> list[int]:
    ids = audit.record_many(session, [audit.Draft(principal, action, **kwargs) for _ in range(n)])  # type: ignore[arg-type]
    session.commit()
    return ids


def _at(session: Session, entry_id: int, moment: dt.datetime) -> None:
    session.execute(update(AuditEntry).where(AuditEntry.id == entry_id).values(at=moment))
    session.commit()


def _ids_on_page(html: str) -> list[int]:
    body = html.split('id="audit-entries"', 1)[1].split("</tbody>", 1)[0]
    return [int(cell.split("</td>", 1)[0]) for cell in body.split("<tr><td>")[1:]]


def _csv(response_text: str) -> list[list[str]]:
    assert response_text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(response_text[1:])))


@pytest.fixture
def auditor(client: TestClient, session: Session) -> str:
    return login(client, session, role="auditor", department_code=None, username="auditor-1")


class TestFilters:
    def test_actor_and_action_narrow_the_trail_and_actions_are_named_in_chinese(
        self, client: TestClient, session: Session, auditor: str
    ) -> None:
        department(session, "SCMR", "四川省市场监督管理局")
        mine = _entries(session, CLERK, "records.ingest", 3)
        _entries(session, OTHER, "records.ingest", 2)
        _entries(session, CLERK, "measures.publish", 1)
        page = client.get("/console/audit", params={"actor": "clerk-a", "action": "records.ingest"})
        assert page.status_code == 200
        assert _ids_on_page(page.text) == sorted(mine, reverse=True)
        assert "报送信用信息" in page.text and "3 条" in page.text
        assert "四川省市场监督管理局" in page.text  # the department by name, not its code

    def test_department(self, client: TestClient, session: Session, auditor: str) -> None:
        department(session, "SCMR", "四川省市场监督管理局")
        department(session, "SCSW", "国家税务总局四川省税务局")
        tax = Principal(kind="user", name="clerk-t", role="provider", department_code="SCSW")
        taxed = _entries(session, tax, "records.ingest", 2)
        _entries(session, CLERK, "records.ingest", 2)
        page = client.get("/console/audit", params={"department": "SCSW"})
        assert _ids_on_page(page.text) == sorted(taxed, reverse=True)
        assert '<option value="SCSW" selected>国家税务总局四川省税务局</option>' in page.text

    def test_subject_by_uscc(
        self, client: TestClient, session: Session, ctx: IngestContext, auditor: str
    ) -> None:
        row = penalty()
        ingest_rows(session, ctx, [row])
        subject = subjects.get_by_uscc(session, row["CF_XDR_SHXYM"])
        viewed = _entries(session, CLERK, "subject.view", 2, subject_id=subject.id, purpose="行政审批")
        _entries(session, CLERK, "subject.view", 1)
        page = client.get("/console/audit", params={"subject": row["CF_XDR_SHXYM"].lower()})
        assert _ids_on_page(page.text) == sorted(viewed, reverse=True)
        assert subject.name in page.text and "查阅主体非公开信息" in page.text
        nobody = client.get("/console/audit", params={"subject": "91510104MA00000000"})
        assert nobody.status_code == 200 and _ids_on_page(nobody.text) == []
        client.get("/console/audit/export.csv", params={"subject": row["CF_XDR_SHXYM"]})
        rid = resident_id()  # an ID typed as the subject finds nobody and is not written to the trail
        exported = _csv(client.get("/console/audit/export.csv", params={"subject": rid}).text)
        assert exported[1:] == []
        filters = [
            e.details["filter"]["subject"]
            for e in session.scalars(
                select(AuditEntry).where(AuditEntry.action == "audit.export").order_by(AuditEntry.id)
            )
            if e.details
        ]
        assert filters == [row["CF_XDR_SHXYM"], "未找到的主体"]

    def test_dates_are_china_days(self, client: TestClient, session: Session, auditor: str) -> None:
        late, early, next_day = _entries(session, CLERK, "content.update", 3)
        # 2026-12-06 16:30 UTC is 2026-12-07 00:30 in China; 15:30 UTC is still the 6th there.
        _at(session, late, dt.datetime(2026, 12, 6, 16, 30, tzinfo=dt.UTC))
        _at(session, early, dt.datetime(2026, 12, 6, 15, 30, tzinfo=dt.UTC))
        _at(session, next_day, dt.datetime(2026, 12, 7, 16, 0, tzinfo=dt.UTC))
        page = client.get(
            "/console/audit",
            params={"action": "content.update", "date_from": "2026-12-07", "date_to": "2026-12-07"},
        )
        assert _ids_on_page(page.text) == [late]
        assert "2026年12月7日 00:30:00" in page.text
        since = client.get("/console/audit", params={"action": "content.update", "date_from": "2026-12-07"})
        assert sorted(_ids_on_page(since.text)) == sorted([late, next_day])

    @pytest.mark.parametrize(
        "params",
        [
            {"date_from": "2026-02-30"},
            {"date_to": "yesterday"},
            {"date_to": "9999-12-31"},
            {"date_from": "0001-01-01"},
            {"date_from": "2026-12-08", "date_to": "2026-12-07"},
            {"actor": "x" * 65},
            {"action": "a" * 49},
            {"subject": "9" * 33},
            {"page": "0"},
            {"page": "abc"},
        ],
    )
    def test_bad_input_is_a_clear_422(
        self, client: TestClient, session: Session, auditor: str, params: dict[str, str]
    ) -> None:
        response = client.get("/console/audit", params=params)
        assert response.status_code == 422
        export = client.get("/console/audit/export.csv", params=params | {"page": "1"})
        assert export.status_code == (200 if set(params) == {"page"} else 422)

    def test_unknown_action_is_labelled_by_its_domain(self) -> None:
        assert action_label("repair.accept") == "信用修复：受理"
        assert action_label("audit.anchor").startswith("审计日志")
        assert action_label("zzz.new") == "其他操作（zzz.new）"
        assert all(label and label != code for code, label in ACTION_LABELS.items())


class TestPermission:
    def test_only_auditors_and_the_credit_office_read_the_trail(
        self, client: TestClient, session: Session
    ) -> None:
        assert client.get("/console/audit").status_code == 401
        assert client.get("/console/audit/export.csv").status_code == 401
        login(client, session, role="provider")
        assert client.get("/console/audit").status_code == 403
        assert client.get("/console/audit/export.csv").status_code == 403
        assert not session.scalars(select(AuditEntry).where(AuditEntry.action == "audit.export")).all()


class TestPaging:
    def test_pages_of_fifty_newest_first(self, client: TestClient, session: Session, auditor: str) -> None:
        ids = _entries(session, CLERK, "check.feedback", 120)
        newest_first = sorted(ids, reverse=True)
        pages = [
            _ids_on_page(client.get("/console/audit", params={"action": "check.feedback", "page": p}).text)
            for p in (1, 2, 3, 4)
        ]
        assert pages[0] == newest_first[:50] and pages[1] == newest_first[50:100]
        assert pages[2] == newest_first[100:] and pages[3] == []
        first = client.get("/console/audit", params={"action": "check.feedback"}).text
        assert "120 条" in first and "第 1 / 3 页" in first and "action=check.feedback" in first

    def test_next_links_carry_a_cursor_and_give_the_same_pages(
        self, client: TestClient, session: Session, auditor: str
    ) -> None:
        ids = _entries(session, CLERK, "check.feedback", 120)
        start = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
        for n, entry_id in enumerate(ids):  # a few seconds apart, two at each time (ties go by id)
            _at(session, entry_id, start + dt.timedelta(seconds=n // 2))
        by_offset = [
            _ids_on_page(client.get("/console/audit", params={"action": "check.feedback", "page": p}).text)
            for p in (1, 2, 3)
        ]
        followed, url = [], "/console/audit?action=check.feedback"
        while url:
            html = client.get(url).text
            followed.append(_ids_on_page(html))
            link = re.search(r'href="(\?[^"]*after=\d+)">下一页', html)
            url = "/console/audit" + link[1].replace("&amp;", "&") if link else ""
        assert followed == by_offset and [i for p in followed for i in p] == sorted(ids, reverse=True)
        assert len(followed) == 3

    def test_newest_first_is_by_time(self, client: TestClient, session: Session, auditor: str) -> None:
        older_id_newer_time, newer_id_older_time = _entries(session, CLERK, "content.create", 2)
        _at(session, older_id_newer_time, dt.datetime(2026, 12, 6, 10, 0, 1, tzinfo=dt.UTC))
        _at(session, newer_id_older_time, dt.datetime(2026, 12, 6, 10, 0, 0, tzinfo=dt.UTC))
        page = client.get("/console/audit", params={"action": "content.create"}).text
        assert _ids_on_page(page) == [older_id_newer_time, newer_id_older_time]

    def test_a_total_beyond_the_bound_is_marked_as_an_estimate(self, session: Session) -> None:
        ids = _entries(session, CLERK, "check.feedback", 30)
        query = select(AuditEntry.id).where(AuditEntry.action == "check.feedback")
        exact = counting.bounded_count(session, query, bound=30)
        assert exact == counting.Total(30, True)
        over = counting.bounded_count(session, query, bound=10)
        assert not over.exact
        if session.get_bind().dialect.name == "postgresql":  # the planner's estimate, never under the bound
            assert over.value > 10 and not over.at_least
        else:  # no estimate: the bound, as a lower bound
            assert over.value == 10 and over.at_least
        page = audit.trail_page(session, audit.TrailFilter(action="check.feedback"), page=2, size=7)
        assert [e.id for e in page.items] == sorted(ids, reverse=True)[7:14] and page.exact

    def test_a_filter_matching_beyond_the_bound_pages_the_same(
        self, client: TestClient, session: Session, auditor: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        wanted: list[int] = []
        for _ in range(6):  # interleaved with other actions and actors
            wanted += _entries(session, CLERK, "check.feedback", 5)
            _entries(session, OTHER, "check.feedback", 2)
            _entries(session, CLERK, "content.update", 2)
        monkeypatch.setattr(counting, "COUNT_BOUND", 10)
        trail = audit.TrailFilter(actor="clerk-a", action="check.feedback")
        pages = [audit.trail_page(session, trail, page=p, size=7) for p in (1, 2, 3, 4, 5)]
        assert not pages[0].exact
        assert [e.id for p in pages for e in p.items] == sorted(wanted, reverse=True)
        after = pages[1].items[-1].id
        assert audit.trail_page(session, trail, page=3, size=7, after_id=after).items == pages[2].items
        html = client.get("/console/audit", params={"actor": "clerk-a", "action": "check.feedback"}).text
        assert _ids_on_page(html) == sorted(wanted, reverse=True)[:30]

    def test_keyset_batches_read_each_entry_once(self, session: Session) -> None:
        ids = _entries(session, CLERK, "check.feedback", 23)
        _entries(session, OTHER, "check.feedback", 5)
        trail = audit.TrailFilter(actor="clerk-a", action="check.feedback")
        batches = list(audit.iter_trail(session, trail, through_id=max(ids), batch=5))
        assert [len(b) for b in batches] == [5, 5, 5, 5, 3]
        assert [e.id for b in batches for e in b] == sorted(ids, reverse=True)
        assert [e.id for b in audit.iter_trail(session, trail, through_id=ids[9]) for e in b] == sorted(
            ids[:10], reverse=True
        )


class TestExport:
    def test_the_filtered_set_as_csv_and_the_export_is_audited(
        self, client: TestClient, session: Session, auditor: str
    ) -> None:
        department(session, "SCMR", "四川省市场监督管理局")
        wanted = _entries(
            session, CLERK, "records.ingest", 3, target='=HYPERLINK("http://x")', details={"file": "=a.csv"}
        )
        _entries(session, OTHER, "records.ingest", 2)
        response = client.get(
            "/console/audit/export.csv", params={"actor": "clerk-a", "date_from": "2026-01-01"}
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        rows = _csv(response.text)
        assert rows[0][:3] == ["序号", "时间（北京时间）", "操作"]
        assert [int(r[0]) for r in rows[1:]] == sorted(wanted, reverse=True)
        assert {r[2] for r in rows[1:]} == {"报送信用信息"} and {r[7] for r in rows[1:]} == {
            "四川省市场监督管理局"
        }
        assert {r[10] for r in rows[1:]} == {'\'=HYPERLINK("http://x")'}  # formula-safe
        assert rows[0][13] == "详情" and {r[13] for r in rows[1:]} == {'{"file": "=a.csv"}'}
        export = session.scalars(select(AuditEntry).where(AuditEntry.action == "audit.export")).one()
        assert export.actor == "auditor-1"
        assert export.details is not None and export.details["filter"]["actor"] == "clerk-a"
        assert export.details["filter"]["since"] == "2025-12-31T16:00:00+00:00"  # China midnight
        assert export.details["through_id"] >= max(wanted)

    def test_export_reads_past_one_batch_and_stops_at_its_own_start(
        self, client: TestClient, session: Session, auditor: str
    ) -> None:
        ids = _entries(session, CLERK, "check.feedback", 2100)
        rows = _csv(client.get("/console/audit/export.csv", params={"action": "check.feedback"}).text)
        assert [int(r[0]) for r in rows[1:]] == sorted(ids, reverse=True)
        # the export's own entry (written before the rows were read) is not in it
        everything = _csv(client.get("/console/audit/export.csv").text)
        exports = [r for r in everything[1:] if r[3] == "audit.export"]
        assert len(exports) == 1 and len(everything) - 1 >= 2100
