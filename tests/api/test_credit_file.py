"""The credit file (/subjects/{uscc} and GET /api/v1/subjects/{uscc}): list entries in force for those who
may see them, the list badge, the summary, sections in the order of the national report, and section paging."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import acting, bearer, department, licence, login, penalty, resident_id, uscc
from xinyong.accounts.policy import ANONYMOUS, Principal
from xinyong.audit.models import AuditEntry
from xinyong.creditfile import service as credit_files
from xinyong.lists import service as lists
from xinyong.objections import service as objections
from xinyong.platform import Platform
from xinyong.records.models import Record
from xinyong.subjects import service as subjects

CLERK = Principal(kind="user", name="clerk", role="reviewer", department_code="SCFGW")
DECIDER = "四川省发展和改革委员会"
BASIS = "《失信行为纠正后的信用信息修复管理办法（试行）》第七条"


def load(
    client: TestClient, session: Session, item: str, rows: list[dict[str, Any]], provider: str = "SCMR"
) -> None:
    body = client.post(
        "/api/v1/records", json={"item": item, "records": rows}, headers=bearer(session, provider)
    ).json()
    assert body["rejected"] == 0 and body["accepted"] == len(rows), body


def company(client: TestClient, session: Session, **overrides: Any) -> str:
    """A company with one public penalty (so it has a file); returns its USCC."""
    code = uscc()
    load(client, session, "CF", [penalty(CF_XDR_SHXYM=code, **overrides)])
    return code


def entry(
    session: Session,
    subject_id: int,
    *,
    list_type: str = "serious_dishonesty",
    until: str = "listed",
    decided: dt.date = TODAY - dt.timedelta(days=30),
    period_months: int | None = None,
    scope: str | None = None,
    facts: str = "拒不履行行政处罚决定，情节严重",
    decision_no: str = "川发改信认〔2026〕8号",
) -> lists.ListEntry:
    """A list entry taken through due process up to `until` (proposed, notified, listed, dropped, removed)."""
    department(session, "SCFGW", DECIDER)
    created = lists.propose(
        session,
        acting(CLERK, decided - dt.timedelta(days=20)),
        subject_id=subject_id,
        list_type=list_type,
        legal_basis=BASIS,
        facts=facts,
        scope=scope,
    )
    if until == "proposed":
        return created
    if list_type != "red":
        lists.advance(session, acting(CLERK, decided - dt.timedelta(days=18)), created, "notify")
    if until == "notified":
        return created
    if until == "dropped":
        lists.advance(session, acting(CLERK, decided), created, "drop", reason="证据不足")
        return created
    lists.advance(
        session,
        acting(CLERK, decided),
        created,
        "decide",
        decision_no=decision_no,
        period_months=period_months,
    )
    if until == "removed":
        lists.advance(
            session, acting(CLERK, TODAY - dt.timedelta(days=1)), created, "remove", reason="repaired"
        )
    return created


def subject_id(session: Session, code: str) -> int:
    return subjects.get_by_uscc(session, code).id


def api_file(client: TestClient, code: str, **params: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/subjects/{code}", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def section_of(page: str, code: str) -> str:
    """The HTML of one section of the file page."""
    match = re.search(rf'<details[^>]*id="section-{code}".*?</details>', page, re.S)
    assert match, f"no section {code}"
    return match[0]


class TestListEntriesOnThePublicFile:
    def test_a_listed_company_shows_its_entry_badge_and_decision_to_the_public(
        self, client: TestClient, session: Session
    ) -> None:
        code = company(client, session)
        listed = entry(session, subject_id(session, code))
        session.commit()

        body = api_file(client, code)
        (shown,) = body["lists"]
        assert shown["id"] == listed.id and shown["list_type"] == "serious_dishonesty"
        assert shown["list_type_label"] == "严重失信主体名单" and shown["status_label"] == "已列入"
        assert shown["department_name"] == DECIDER and shown["decision_no"] == "川发改信认〔2026〕8号"
        assert shown["legal_basis"] == BASIS
        assert shown["decided_on"] == (TODAY - dt.timedelta(days=30)).isoformat()
        assert shown["public_until"] == listed.public_until.isoformat()  # type: ignore[union-attr]

        page = client.get(f"/subjects/{code}").text
        assert re.search(r'<span class="list-badge list-badge-serious"[^>]*>严重失信主体</span>', page)
        lists_section = section_of(page, "serious_dishonesty")
        decided = TODAY - dt.timedelta(days=30)
        for shown_text in (
            DECIDER,
            "川发改信认〔2026〕8号",
            BASIS,
            f"{decided.year}年{decided.month}月{decided.day}日",
        ):
            assert shown_text in lists_section
        assert "SCFGW" not in lists_section  # the authority by name, never its code

    def test_a_market_ban_shows_its_scope_and_period_and_a_red_list_entry_its_green_badge(
        self, client: TestClient, session: Session
    ) -> None:
        code = company(client, session)
        sid = subject_id(session, code)
        ban = entry(session, sid, list_type="market_ban", scope="食品生产经营", period_months=24)
        entry(session, sid, list_type="red", facts="连续三年纳税信用A级")
        session.commit()

        body = api_file(client, code)
        assert {e["list_type"] for e in body["lists"]} == {"market_ban", "red"}
        assert next(e for e in body["lists"] if e["list_type"] == "market_ban")["scope"] == "食品生产经营"
        page = client.get(f"/subjects/{code}").text
        assert 'list-badge-ban" data-list-type="market_ban">市场禁入<' in page
        assert 'list-badge-good" data-list-type="red">守信激励<' in page
        until = ban.public_until
        assert until is not None
        banned = section_of(page, "serious_dishonesty")
        assert "禁入范围" in banned and "食品生产经营" in banned
        assert "禁入期限" in banned and f"{until.year}年{until.month}月{until.day}日" in banned
        assert "连续三年纳税信用A级" in section_of(page, "trustworthiness")

    def test_entries_not_in_force_are_not_shown_as_current(
        self, client: TestClient, session: Session
    ) -> None:
        code = company(client, session)
        sid = subject_id(session, code)
        for state in ("proposed", "notified", "dropped", "removed"):
            entry(session, sid, until=state, facts=f"状态为{state}的名单事实")
        # Decided four years ago for 36 months: its period ended, though no job has removed it yet.
        entry(session, sid, decided=TODAY - dt.timedelta(days=4 * 365), facts="公示期已届满的名单事实")
        session.commit()

        public = api_file(client, code)
        assert public["lists"] == [] and public["list_history"] == []
        page = client.get(f"/subjects/{code}").text
        assert "list-badge" not in page and "名单事实" not in page
        assert "当前未列入严重失信主体名单" in page
        # The subject itself sees them, apart and never as current: no badge, not counted, not in `lists`.
        login(client, session, role="subject", department_code=None, subject_id=sid)
        own = api_file(client, code)
        assert own["lists"] == []
        assert sorted(e["status"] for e in own["list_history"]) == [
            "dropped",
            "listed",  # past its period
            "notified",
            "proposed",
            "removed",
        ]
        assert all(e["standing"] for e in own["list_history"])
        assert next(s["count"] for s in own["sections"] if s["code"] == "serious_dishonesty") == 0
        page = client.get(f"/subjects/{code}").text
        assert "list-badge" not in page and "当前未列入严重失信主体名单" in page
        history = re.search(r'<details class="list-history">.*?</details>', page, re.S)
        assert history and "5 条，当前不具名单效力" in history[0]
        outside = page.replace(history[0], "")
        assert "名单事实" not in outside
        for state in ("proposed", "notified", "dropped", "removed"):
            assert f"状态为{state}的名单事实" in history[0]
        assert "拟列入，尚未告知" in history[0] and "陈述申辩截止" in history[0]
        assert "不予列入" in history[0] and "移出（信用修复）" in history[0] and "有效期已于" in history[0]

    def test_html_in_an_entry_is_shown_as_text(self, client: TestClient, session: Session) -> None:
        code = company(client, session)
        entry(session, subject_id(session, code), facts='<script>alert("x")</script>拒不履行')
        session.commit()
        page = client.get(f"/subjects/{code}").text
        assert '<script>alert("x")</script>' not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;拒不履行" in page


class TestWhoSeesListEntries:
    def test_a_natural_persons_entry_is_never_public_but_staff_with_a_purpose_see_it_audited(
        self, client: TestClient, session: Session, platform: Platform
    ) -> None:
        rid = resident_id()
        row = penalty(CF_XDR_LB="自然人", CF_XDR_SHXYM="", CF_XDR_ZJHM=rid, CF_XDR_MC="赵六")
        load(client, session, "CF", [row])
        person = subjects.find_person(session, platform.cipher.hash(rid))
        assert person is not None
        entry(session, person.id)
        session.commit()
        catalog = platform.catalog

        public = credit_files.credit_file(session, catalog, ANONYMOUS, person.id, TODAY)
        assert public.view == "public" and public.entries == [] and public.badges == []
        staff = Principal(kind="user", name="clerk2", role="provider", department_code="SCMR", user_id=1)
        no_purpose = credit_files.credit_file(session, catalog, staff, person.id, TODAY)
        assert no_purpose.view == "public" and no_purpose.entries == []

        before = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0
        with_purpose = credit_files.credit_file(
            session, catalog, staff, person.id, TODAY, purpose="行政许可审查"
        )
        assert with_purpose.view == "government"
        assert [e["list_type"] for e in with_purpose.entries] == ["serious_dishonesty"]
        assert with_purpose.badges[0]["label"] == "严重失信主体"
        audited = session.scalars(select(AuditEntry).where(AuditEntry.id > before)).all()
        assert [(a.action, a.subject_id, a.purpose) for a in audited] == [
            ("subject.view", person.id, "行政许可审查")
        ]
        assert rid not in repr(with_purpose.entries)

    def test_staff_with_a_purpose_see_the_entry_on_page_and_api(
        self, client: TestClient, session: Session
    ) -> None:
        code = company(client, session)
        entry(session, subject_id(session, code))
        session.commit()
        login(client, session, role="provider", department_code="SCMR")
        page = client.get(f"/subjects/{code}", params={"purpose": "政府采购资格审查"}).text
        assert "正在以部门身份查看非公开信息" in page and "严重失信主体</span>" in page
        assert len(api_file(client, code, purpose="政府采购资格审查")["lists"]) == 1

    def test_the_subject_itself_sees_its_entry_on_page_and_api(
        self, client: TestClient, session: Session
    ) -> None:
        code = company(client, session)
        sid = subject_id(session, code)
        entry(session, sid)
        session.commit()
        login(client, session, role="subject", department_code=None, subject_id=sid)
        own = client.get(f"/subjects/{code}").text
        assert "这是您本主体的完整信用档案" in own and "严重失信主体</span>" in own
        assert len(api_file(client, code)["lists"]) == 1

    def test_a_department_system_sees_entries_with_a_purpose_and_the_contract_names_the_field(
        self, client: TestClient, session: Session
    ) -> None:
        code = company(client, session)
        entry(session, subject_id(session, code))
        session.commit()
        headers = bearer(session, "SCCZ", ("subjects:read",))
        response = client.get(
            f"/api/v1/subjects/{code}", params={"purpose": "政府采购资格审查"}, headers=headers
        )
        assert response.status_code == 200
        assert [e["decision_no"] for e in response.json()["lists"]] == ["川发改信认〔2026〕8号"]
        audited = session.scalars(
            select(AuditEntry).where(
                AuditEntry.subject_id == subject_id(session, code), AuditEntry.action == "subject.view"
            )
        ).all()
        assert [a.purpose for a in audited] == ["政府采购资格审查"]
        schema = client.get("/openapi.json").json()["components"]["schemas"]
        assert {"lists", "list_history", "sections", "objections_pending"} <= set(
            schema["SubjectDetail"]["required"]
        )
        assert "ListEntryRead" in schema

    def test_another_companys_account_sees_only_the_public_file(
        self, client: TestClient, session: Session
    ) -> None:
        code, other = company(client, session), company(client, session)
        entry(session, subject_id(session, code), facts="仅在公示范围内可见的事实")
        session.commit()
        login(client, session, role="subject", department_code=None, subject_id=subject_id(session, other))
        body = api_file(client, code)
        assert [e["facts"] for e in body["lists"]] == ["仅在公示范围内可见的事实"]  # listed and public
        assert "这是您本主体的完整信用档案" not in client.get(f"/subjects/{code}").text


class TestSummaryAndSections:
    def test_sections_come_in_the_national_report_order_with_their_counts(
        self, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        load(client, session, "CF", [penalty(CF_XDR_SHXYM=code), penalty(CF_XDR_SHXYM=code)])
        load(client, session, "XK", [licence(XK_XDR_SHXYM=code)])
        entry(session, subject_id(session, code))
        session.commit()

        layout = credit_files.file_layout()
        body = api_file(client, code)
        assert [s["code"] for s in body["sections"]] == [s.code for s in layout.sections]
        assert [s["title"] for s in body["sections"]] == [
            "基础信息",
            "行政管理信息",
            "诚实守信",
            "严重失信主体名单",
            "经营异常",
            "信用承诺",
            "自主申报信息",
            "信用评价",
            "司法判决",
            "其他",
        ]
        counts = {s["code"]: s["count"] for s in body["sections"]}
        assert counts["administrative"] == 3 and counts["serious_dishonesty"] == 1
        assert sum(counts.values()) == len(body["records"]) + len(body["lists"])

        page = client.get(f"/subjects/{code}").text
        positions = [page.index(f'id="section-{s.code}"') for s in layout.sections]
        assert positions == sorted(positions)
        summary = re.search(r'<nav class="file-summary".*?</nav>', page, re.S)
        assert summary and re.search(r"行政管理信息</span><strong>3</strong>", summary[0])

    def test_records_of_several_items_in_one_section_are_grouped_by_item_in_catalog_order(
        self, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        arrears = {
            "subject_name": "成都欠税测试有限公司",
            "subject_category": "法人及非法人组织",
            "uscc": code,
            "tax_type": "增值税",
            "tax_period": "2026年第二季度",
            "arrears_wan": "12.5",
            "decision_date": "2026-08-01",
            "authority_name": "国家税务总局成都市税务局",
        }
        load(client, session, "QS", [arrears], provider="SCTAX")
        load(client, session, "CF", [penalty(CF_XDR_SHXYM=code)])
        counts = {s["code"]: s["count"] for s in api_file(client, code)["sections"]}
        assert counts["administrative"] == 2 and counts["other"] == 0
        administrative = section_of(client.get(f"/subjects/{code}").text, "administrative")
        assert administrative.index('id="item-CF"') < administrative.index('id="item-QS"')
        assert "行政处罚 1 · 欠税信息 1" in administrative

    def test_objections_pending_are_counted_in_the_summary(
        self, client: TestClient, session: Session, platform: Platform
    ) -> None:
        from xinyong.files.service import Upload

        code = company(client, session)
        record = session.scalars(select(Record).where(Record.subject_id == subject_id(session, code))).one()
        objections.file(
            session,
            platform.context(ANONYMOUS, TODAY),
            answer_workdays=platform.repair_policy.objection_workdays,
            record_id=record.id,
            reasons="处罚决定书载明的罚款金额为三万元，公示为五万元，与原决定书不符。",
            filer_name="王五",
            filer_contact="13800000000",
            evidence=[Upload("决定书.pdf", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")],
        )
        session.commit()
        assert api_file(client, code)["objections_pending"] == 1
        page = client.get(f"/subjects/{code}").text
        assert re.search(
            r"has-objections\" data-section=\"objections\"><span>待处理异议</span><strong>1</strong>", page
        )


class TestSectionPaging:
    def test_a_long_section_pages_on_the_server(self, client: TestClient, session: Session) -> None:
        code = uscc()
        docs = [f"川市监罚〔2026〕P{n:02d}号" for n in range(23)]
        load(client, session, "CF", [penalty(CF_XDR_SHXYM=code, CF_WSH=d) for d in docs])

        first = client.get(f"/subjects/{code}").text
        shown = section_of(first, "administrative")
        assert shown.count('class="record"') == 10 and "第 1 / 3 页（共 23 条）" in shown
        assert f"/subjects/{code}?section=administrative&amp;page=2#section-administrative" in shown

        second = section_of(
            client.get(f"/subjects/{code}", params={"section": "administrative", "page": "2"}).text,
            "administrative",
        )
        third = section_of(
            client.get(f"/subjects/{code}", params={"section": "administrative", "page": "3"}).text,
            "administrative",
        )
        assert second.count('class="record"') == 10 and third.count('class="record"') == 3
        seen = [d for part in (shown, second, third) for d in docs if d in part]
        assert sorted(seen) == sorted(docs)  # every record once across the pages
        # A page past the end shows the last; an unknown section changes nothing.
        beyond = client.get(f"/subjects/{code}", params={"section": "administrative", "page": "99999"}).text
        assert "第 3 / 3 页" in section_of(beyond, "administrative")
        odd = client.get(f"/subjects/{code}", params={"section": "<b>x</b>", "page": "2"})
        assert odd.status_code == 200 and "<b>x</b>" not in odd.text
        assert "第 1 / 3 页" in section_of(odd.text, "administrative")
        assert client.get(f"/subjects/{code}", params={"page": "0"}).status_code == 422
        assert client.get(f"/subjects/{code}", params={"section": "x" * 500}).status_code == 422

    def test_paging_links_keep_a_stated_purpose(self, client: TestClient, session: Session) -> None:
        code = uscc()
        load(client, session, "CF", [penalty(CF_XDR_SHXYM=code) for _ in range(11)])
        login(client, session, role="provider", department_code="SCMR")
        page = client.get(f"/subjects/{code}", params={"purpose": "招标 投标&审查"}).text
        assert (
            "purpose=%E6%8B%9B%E6%A0%87%20%E6%8A%95%E6%A0%87%26%E5%AE%A1%E6%9F%A5&amp;section=administrative"
            in page
        )
