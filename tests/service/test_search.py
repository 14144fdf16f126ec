"""Subject search: totals and pages, and the count query only where a page cannot tell the total."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from tests.helpers import ingest_rows, licence, uscc
from xinyong.records.service import IngestContext
from xinyong.subjects import service


@pytest.fixture
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def three(session: Session, ctx: IngestContext) -> list[str]:
    names = ["成都锦江天府测试科技有限公司", "成都武侯天府测试商贸有限公司", "成都青羊天府测试餐饮有限公司"]
    ingest_rows(session, ctx, [licence(XK_XDR_MC=n, XK_XDR_SHXYM=uscc()) for n in names], item="XK")
    return names


def test_every_page_reports_the_same_total(session: Session, three: list[str]) -> None:
    pages = [service.search(session, "天府测试", page=p, size=2) for p in (1, 2, 3)]
    assert [(len(items), total) for items, total in pages] == [(2, 3), (1, 3), (0, 3)]
    found = {s.name for items, _ in pages for s in items}
    assert found == set(three)


def test_a_page_that_is_not_full_needs_no_count(
    session: Session, three: list[str], statements: list[str]
) -> None:
    items, total = service.search(session, "天府测试", size=20)
    assert (len(items), total) == (3, 3)
    assert sum("FROM subjects" in s for s in statements) == 1  # the page, not the count
    statements.clear()
    items, total = service.search(session, "天府测试", size=2)
    assert (len(items), total) == (2, 3)
    assert sum("FROM subjects" in s for s in statements) == 2  # a full page: the total needs counting


def test_no_match_is_an_empty_page_and_a_zero_total(session: Session, three: list[str]) -> None:
    assert service.search(session, "不存在的名称", size=20) == ([], 0)


def test_a_two_character_trade_name_finds_the_names_that_hold_it(
    session: Session, ctx: IngestContext, three: list[str]
) -> None:
    other = "成都锦江天府鑫源商贸有限公司"
    ingest_rows(session, ctx, [licence(XK_XDR_MC=other, XK_XDR_SHXYM=uscc())], item="XK")
    items, total = service.search(session, "鑫源", size=20)
    assert [s.name for s in items] == [other] and total == 1
    items, total = service.search(session, "天府", size=20)  # in the middle of every name
    assert {s.name for s in items} == {*three, other} and total == 4
    assert service.search(session, "府鑫", size=20)[1] == 1  # across the district and the trade name
    assert service.search(session, "源天", size=20) == ([], 0)


def test_on_postgresql_a_two_character_search_uses_the_bigram_index(
    session: Session, three: list[str]
) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the bigram index is PostgreSQL's")
    session.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table: ask whether the index can serve
    plan = "\n".join(
        session.execute(
            text("EXPLAIN SELECT id FROM subjects WHERE xinyong_bigrams(core_name) @> ARRAY['天府']")
        ).scalars()
    )
    assert "ix_subjects_core_bigrams" in plan
    assert session.scalar(text("SELECT xinyong_bigrams('鑫源商贸')")) == ["鑫源", "源商", "商贸"]
    assert session.scalar(text("SELECT xinyong_bigrams('鑫')")) == []
