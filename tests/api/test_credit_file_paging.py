"""The credit file's sections paged in SQL, on both stores: for a subject with 3,000 records of many items,
providers, states and windows, each reader (the public, the subject, a department with and without a purpose,
an organisation the subject authorised) gets from `credit_file_page` exactly the section counts, pages, order,
objections and audit that the whole-file path gives; and a page reads a page of rows per section, never the
whole file."""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from tests.api.test_authorizations import grant, organization_user, owner
from tests.api.test_credit_file import company, subject_id
from tests.conftest import TODAY
from tests.helpers import department
from xinyong.accounts import auth
from xinyong.accounts.policy import ANONYMOUS, Principal
from xinyong.audit.models import AuditEntry
from xinyong.creditfile import rules as file_rules
from xinyong.creditfile import service as credit_files
from xinyong.objections.models import Objection
from xinyong.platform import Platform
from xinyong.records.models import Record

ITEMS = (
    "CF",
    "XK",
    "JC",
    "QZ",
    "XSPJ",
    "JYYC",
    "SXBZX",
    "ZZ",
)  # ZZ: an item no section names (the catch-all)
DATES = [TODAY - dt.timedelta(days=d) for d in (1, 40, 40, 400, 900, 2000)] + [None]  # ties and no date
MANY = 3_000


@dataclass
class Crowded:
    sid: int
    readers: dict[str, tuple[Principal, str | None]]  # name -> (principal, purpose)


def _rows(base: Record, n: int, seed: int) -> list[dict[str, Any]]:
    pick = random.Random(seed)
    rows = []
    for i in range(n):
        public_from = pick.choice([TODAY - dt.timedelta(days=30), TODAY + dt.timedelta(days=3), None])
        rows.append(
            {
                "natural_key": f"h12-paging-{seed}-{i}",
                "item_code": pick.choice(ITEMS),
                "provider_code": pick.choice(["SCMR", "SCMR", "SCSW"]),
                "subject_id": base.subject_id,
                "subject_kind": base.subject_kind,
                "doc_no": f"川测〔2026〕{i}号",
                "version": 1,
                "status": pick.choice(["active"] * 8 + ["repaired", "revoked"]),
                "subject_name": base.subject_name,
                "region_code": base.region_code,
                "decision_date": pick.choice(DATES),
                "severity": base.severity,
                "public_from": public_from,
                "public_until": pick.choice(
                    [None, TODAY + dt.timedelta(days=90), TODAY - dt.timedelta(days=1)]
                ),
                "min_public_until": None,
                "disclosure_rule": base.disclosure_rule,
                "fields": base.fields,
                "sensitive": None,
                "content_hash": f"{seed:08d}{i:056d}",
                "raw_digest": None,
                "catalog_version": base.catalog_version,
                "batch_id": base.batch_id,
            }
        )
    return rows


@pytest.fixture
def crowded(
    client: TestClient, platform: Platform, session: Session, monkeypatch: pytest.MonkeyPatch
) -> Crowded:
    monkeypatch.setattr(
        auth, "hash_password", functools.cache(auth.hash_password)
    )  # argon2 is slow by design
    code = company(client, session, CF_XDR_MC="成都档案分页测试有限公司")
    sid = subject_id(session, code)
    department(session, "SCSW", "四川省税务局")
    base = session.scalars(select(Record).where(Record.subject_id == sid)).one()
    session.execute(insert(Record), _rows(base, MANY - 1, 12))
    ids = session.scalars(select(Record.id).where(Record.subject_id == sid).order_by(Record.id)).all()
    for record_id in ids[5:400:97]:  # open objections, some on records a department cannot see
        session.add(
            Objection(
                record_id=record_id,
                subject_id=sid,
                department_code="SCMR",
                filer_kind="subject",
                filer_name="主体",
                reasons="与事实不符",
                status="open",
                filed_on=TODAY,
                due_on=TODAY + dt.timedelta(days=10),
                record_version=1,
            )
        )
    bank_code = company(client, session)
    grant(platform, session, owner(session, sid), bank_code)
    session.flush()
    own = Principal(kind="user", name="owner", role="subject", subject_id=sid)
    clerk = Principal(kind="user", name="clerk", role="reviewer", department_code="SCMR")
    bank = organization_user(session, subject_id(session, bank_code), role="bank")
    return Crowded(
        sid,
        {
            "public": (ANONYMOUS, None),
            "own": (own, None),
            "government": (clerk, "行政许可审查"),
            "no_purpose": (clerk, None),
            "authorized": (bank, None),
        },
    )


def _old(platform: Platform, session: Session, who: Principal, purpose: str | None, sid: int) -> Any:
    return credit_files.credit_file(session, platform.catalog, who, sid, TODAY, purpose=purpose)


def _audited(session: Session) -> dict[str, Any] | None:
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    return None if entry is None else {"action": entry.action, **(entry.details or {})}


def _read(record: Record) -> dict[str, Any]:
    return {"id": record.id, "item": record.item_code}


def _view(sections: list[file_rules.FileSectionView]) -> list[tuple[Any, ...]]:
    return [
        (
            s.code,
            s.count,
            s.records.total,
            s.records.page,
            [r["id"] for r in s.records.items],
            s.item_counts,
            [e["id"] for e in s.entries],
            s.requested,
        )
        for s in sections
    ]


def test_each_reader_gets_the_same_sections_pages_and_order_as_from_the_whole_file(
    platform: Platform, session: Session, crowded: Crowded
) -> None:
    catalog, layout = platform.catalog, credit_files.file_layout()
    seen: dict[str, int] = {}
    for name, (who, purpose) in crowded.readers.items():
        whole = _old(platform, session, who, purpose, crowded.sid)
        audited_whole = _audited(session)
        seen[name] = len(whole.records)
        for section in [None, *(s.code for s in layout.sections)]:
            for page in (2, 10_000):  # a middle page and one past the end (the last)
                paged = credit_files.credit_file_page(
                    session, catalog, who, crowded.sid, TODAY, section=section, page=page, purpose=purpose
                )
                assert paged.view == whole.view
                assert _audited(session) == audited_whole  # the same audit entry, with the same count
                expected = file_rules.arrange_file(
                    layout, catalog, whole.records, whole.entries, read=_read, section=section, page=page
                )
                got = file_rules.arrange_counted(
                    layout,
                    catalog,
                    paged.slices,
                    paged.counts,
                    paged.shown,
                    paged.entries,
                    read=_read,
                    section=section,
                )
                assert _view(got) == _view(expected), (name, section, page)
                shown = {r["id"] for s in got for r in s.records.items}
                assert paged.under_objection == whole.under_objection & shown
                assert paged.objections_pending == len(whole.under_objection)
                if section is None:
                    break  # every page number gives the first page of every section
    # the readers see different files: the rules were applied, not bypassed
    assert seen["public"] == seen["no_purpose"] < seen["government"] < seen["own"] == seen["authorized"]
    assert seen["own"] == MANY


@pytest.fixture
def statements(session: Session) -> Iterator[list[str]]:
    found: list[str] = []

    def listen(conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
        found.append(statement)

    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", listen)
    yield found
    event.remove(bind, "before_cursor_execute", listen)


def test_a_page_reads_a_page_of_rows_per_section_not_the_whole_file(
    platform: Platform, session: Session, crowded: Crowded, statements: list[str]
) -> None:
    loaded: list[int] = []

    def on_load(target: Record, context: Any) -> None:
        loaded.append(target.id)

    event.listen(Record, "load", on_load)
    try:
        session.expunge_all()
        paged = credit_files.credit_file_page(
            session,
            platform.catalog,
            *crowded.readers["own"][:1],
            crowded.sid,
            TODAY,
            section="administrative",
            page=3,
            size=20,
        )
    finally:
        event.remove(Record, "load", on_load)
    sections = [s for s in paged.slices if s.total]
    assert sum(s.total for s in sections) == MANY and len(sections) == 4
    assert len(loaded) <= 20 * len(sections)  # ≤ 20 rows a section, of 3,000
    assert len(paged.shown["administrative"]) == 20
    on_records = [s for s in statements if "FROM records" in s and "objection" not in s]
    assert on_records, statements
    for statement in on_records:  # a grouped count, or a page with LIMIT
        assert "count(" in statement.lower() or "LIMIT" in statement, statement
