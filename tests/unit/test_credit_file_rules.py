"""The credit file's layout (data) and the pure rules that sort a file into sections, page them and badge it."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from xinyong.catalog.service import load as load_catalog
from xinyong.creditfile import rules
from xinyong.creditfile.schemas import FileLayout
from xinyong.creditfile.service import file_layout
from xinyong.lists.rules import LIST_TYPE_LABELS

CATALOG = load_catalog()


NAMES = {i.code: i.name for i in CATALOG.items}


def record(item: str, n: int) -> SimpleNamespace:
    return SimpleNamespace(id=n, item_code=item)


def read(record: SimpleNamespace) -> dict[str, Any]:
    return {"id": record.id, "item": record.item_code, "item_name": NAMES.get(record.item_code, "")}


def listed(list_type: str, n: int = 1) -> dict[str, Any]:
    return {"id": n, "list_type": list_type}


def layout(*sections: dict[str, Any]) -> FileLayout:
    return FileLayout.model_validate({"version": "t", "source": "t", "sections": list(sections)})


class TestShippedLayout:
    def test_sections_follow_the_national_public_credit_report(self) -> None:
        assert [s.title for s in file_layout().sections] == [
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

    def test_every_shipped_catalog_item_is_placed_once_and_every_placed_item_exists(self) -> None:
        placed = [i for s in file_layout().sections for i in s.items]
        assert sorted(placed) == sorted(i.code for i in CATALOG.items)

    def test_every_list_type_has_its_section(self) -> None:
        shipped = file_layout()
        placed = {t: shipped.section_of_list(t) for t in LIST_TYPE_LABELS}
        assert placed == {
            "serious_dishonesty": "serious_dishonesty",
            "market_ban": "serious_dishonesty",
            "red": "trustworthiness",
        }


CATCH_ALL = {"code": "other", "title": "其他", "catch_all": True}


class TestLayoutValidation:
    def test_an_item_in_two_sections_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="one section only"):
            layout(
                {"code": "a", "title": "甲", "items": ["CF"]},
                {"code": "b", "title": "乙", "items": ["CF"]},
                CATCH_ALL,
            )

    def test_exactly_one_catch_all(self) -> None:
        with pytest.raises(ValidationError, match="catch-all"):
            layout({"code": "a", "title": "甲", "items": ["CF"]})
        with pytest.raises(ValidationError, match="catch-all"):
            layout(CATCH_ALL, {"code": "more", "title": "更多", "catch_all": True})

    def test_duplicate_codes_unknown_keys_and_bad_codes_are_refused(self) -> None:
        with pytest.raises(ValidationError, match="unique"):
            layout(CATCH_ALL, {"code": "other", "title": "又一个"})
        with pytest.raises(ValidationError):
            layout(CATCH_ALL, {"code": "a", "title": "甲", "itmes": ["CF"]})
        with pytest.raises(ValidationError):
            layout(CATCH_ALL, {"code": "<b>", "title": "甲"})


class TestArrangeFile:
    def test_records_and_entries_land_in_their_sections_and_unmapped_items_in_the_catch_all(self) -> None:
        small = layout(
            {"code": "admin", "title": "行政管理信息", "items": ["XK", "CF"]},
            {"code": "lists", "title": "名单", "lists": ["serious_dishonesty"]},
            {"code": "other", "title": "其他", "catch_all": True},
        )
        records = [record("CF", 1), record("QS", 2), record("XK", 3), record("CF", 4)]
        views = rules.arrange_file(
            small, CATALOG, records, [listed("serious_dishonesty"), listed("red", 2)], read=read
        )
        by_code = {v.code: v for v in views}
        assert [v.code for v in views] == ["admin", "lists", "other"]
        # Catalog order (XK before CF), the order given kept within an item.
        assert [r["id"] for r in by_code["admin"].records.items] == [3, 1, 4]
        assert by_code["admin"].item_counts == [("行政许可", 1), ("行政处罚", 2)]
        assert [(code, [r["id"] for r in group]) for code, _, group in by_code["admin"].groups] == [
            ("XK", [3]),
            ("CF", [1, 4]),
        ]
        assert [r["id"] for r in by_code["other"].records.items] == [2]
        assert [e["list_type"] for e in by_code["lists"].entries] == ["serious_dishonesty"]
        assert [e["list_type"] for e in by_code["other"].entries] == ["red"]  # no section of its own
        assert sum(v.count for v in views) == 6

    @pytest.mark.parametrize(
        ("page", "shown_page", "ids"),
        [(1, 1, [0, 1, 2, 3]), (2, 2, [4, 5, 6, 7]), (3, 3, [8]), (4, 3, [8]), (10**9, 3, [8])],
    )
    def test_the_requested_section_pages_and_a_page_past_the_end_shows_the_last(
        self, page: int, shown_page: int, ids: list[int]
    ) -> None:
        views = rules.arrange_file(
            file_layout(),
            CATALOG,
            [record("CF", n) for n in range(9)] + [record("JYYC", 100 + n) for n in range(6)],
            [],
            read=read,
            section="administrative",
            page=page,
            size=4,
        )
        admin = next(v for v in views if v.code == "administrative")
        assert admin.requested and admin.records.page == shown_page and admin.records.pages == 3
        assert [r["id"] for r in admin.records.items] == ids and admin.count == 9
        other = next(v for v in views if v.code == "abnormal_operation")
        assert not other.requested and other.records.page == 1
        assert [r["id"] for r in other.records.items] == [100, 101, 102, 103]

    def test_only_the_records_shown_are_read(self) -> None:
        seen: list[int] = []

        def counting(record: SimpleNamespace) -> dict[str, Any]:
            seen.append(record.id)
            return read(record)

        records = [record("CF", n) for n in range(500)] + [record("JL", 1000 + n) for n in range(3)]
        rules.arrange_file(
            file_layout(), CATALOG, records, [], read=counting, section="administrative", page=7
        )
        assert sorted(seen) == [*range(60, 70), 1000, 1001, 1002]

    def test_commitments_count_only_in_their_section(self) -> None:
        views = rules.arrange_file(file_layout(), CATALOG, [], [], read=read, commitment_count=2)
        assert {v.code: v.count for v in views if v.count} == {"commitments": 2}


class TestBadgesAndEntries:
    def test_badges_most_serious_first_once_per_list(self) -> None:
        badges = rules.list_badges(["red", "serious_dishonesty", "market_ban", "serious_dishonesty"])
        assert [(b["label"], b["tone"]) for b in badges] == [
            ("严重失信主体", "serious"),
            ("市场禁入", "ban"),
            ("守信激励", "good"),
        ]
        assert rules.list_badges([]) == []

    def test_an_entry_reads_with_labels_and_the_authority_by_name(self) -> None:
        entry = SimpleNamespace(
            id=7,
            list_type="market_ban",
            status="listed",
            department_code="SCMR",
            decision_no="川市监禁〔2026〕1号",
            legal_basis="《食品安全法》第一百三十五条",
            facts="因食品安全违法被吊销许可证",
            scope="食品生产经营",
            permanent=False,
            decided_on=dt.date(2026, 5, 1),
            public_from=dt.date(2026, 5, 1),
            public_until=dt.date(2031, 5, 1),
        )
        read = rules.list_entry_read(entry, "四川省市场监督管理局")
        assert read["list_type_label"] == "市场禁入名单" and read["status_label"] == "已列入"
        assert read["department_name"] == "四川省市场监督管理局" and read["scope"] == "食品生产经营"


class TestFieldText:
    @pytest.mark.parametrize(
        ("field_type", "value", "text"),
        [
            ("date", "2026-06-15", "2026年6月15日"),
            ("date", "2026-6-15x", "2026-6-15x"),  # not a date: shown as stored
            ("string", "2026-06-15", "2026-06-15"),
            ("amount", 5, "5"),
            ("string", None, ""),
        ],
    )
    def test_dates_read_in_chinese_and_the_rest_as_stored(
        self, field_type: str, value: Any, text: str
    ) -> None:
        assert rules.field_text(field_type, value) == text


class TestListStanding:
    TODAY = dt.date(2026, 11, 28)

    def past(self, **fields: Any) -> SimpleNamespace:
        base = {
            "status": "listed",
            "statement_deadline": None,
            "removal_reason": None,
            "removed_on": None,
            "public_from": dt.date(2023, 1, 1),
            "public_until": dt.date(2026, 1, 1),
        }
        return SimpleNamespace(**(base | fields))

    @pytest.mark.parametrize(
        ("fields", "words"),
        [
            ({"status": "proposed"}, "拟列入，尚未告知，不产生名单效力"),
            (
                {"status": "notified", "statement_deadline": dt.date(2026, 12, 4)},
                "已告知，陈述申辩截止2026年12月4日，尚未决定，不产生名单效力",
            ),
            ({"status": "dropped"}, "不予列入"),
            (
                {"status": "removed", "removed_on": dt.date(2026, 5, 6), "removal_reason": "court_decision"},
                "已于2026年5月6日移出（司法裁判）",
            ),
            ({}, "有效期已于2026年1月1日届满"),
            ({"public_from": dt.date(2026, 12, 1), "public_until": None}, "自2026年12月1日起生效"),
        ],
    )
    def test_why_an_entry_does_not_count_today(self, fields: dict[str, Any], words: str) -> None:
        assert rules.list_standing(self.past(**fields), self.TODAY) == words
