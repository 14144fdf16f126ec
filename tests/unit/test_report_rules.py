"""Pure rules of credit reports, without a database: sections of the standard report (records in force only,
empty sections saying so), the special report per field and period (revoked out, repaired marked, a category
the platform does not collect said so), the special report's data, numbers, codes and periods."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from xinyong.catalog.service import load as load_catalog
from xinyong.creditfile.service import file_layout
from xinyong.reports import rules
from xinyong.reports.content import special_spec
from xinyong.reports.schemas import SpecialSpec

AS_OF = dt.date(2026, 11, 28)
ROOTS = {"SCMR-5101": "SCMR"}


def record(item: str = "CF", **overrides: Any) -> SimpleNamespace:
    values: dict[str, Any] = {
        "item_code": item,
        "status": "active",
        "public_from": dt.date(2026, 6, 15),
        "public_until": dt.date(2027, 6, 15),
        "decision_date": dt.date(2026, 6, 15),
        "provider_code": "SCMR-5101",
        "doc_no": "川市监罚〔2026〕1号",
        "fields": {
            "facts": "销售不合格食品，当事人身份证号 510104198505170012",
            "id_no": "510104198505170012",
        },
    }
    values.update(overrides)
    return SimpleNamespace(**values)


def entry(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "list_type": "serious_dishonesty",
        "status": "listed",
        "department_code": "SCMR",
        "department_name": "四川省市场监督管理局",
        "decision_no": "川市监信认〔2026〕1号",
        "legal_basis": "依据",
        "facts": "事实",
        "scope": None,
        "permanent": False,
        "decided_on": dt.date(2026, 3, 1),
        "public_from": dt.date(2026, 3, 1),
        "public_until": dt.date(2029, 3, 1),
    }
    return values | overrides


def sections(records: list[Any], entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    arranged = rules.standard_sections(
        file_layout(), load_catalog(), records, entries, AS_OF, department=lambda code: f"部门{code}"
    )
    assert all(s["empty"] == rules.EMPTY for s in arranged)
    return {s["code"]: s["items"] for s in arranged}


def test_records_in_force_go_to_their_section_and_every_other_section_is_empty() -> None:
    held = sections([record(), record("XK")], [entry()])
    assert [i["title"] for i in held["administrative"]] == ["行政许可", "行政处罚"]  # catalog order
    assert [i["title"] for i in held["serious_dishonesty"]] == ["严重失信主体名单"]
    assert held["judicial"] == [] and held["abnormal_operation"] == [] and held["other"] == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"status": "repaired"},
        {"status": "revoked"},
        {"public_until": AS_OF - dt.timedelta(days=1)},
        {"public_from": AS_OF + dt.timedelta(days=1)},
    ],
)
def test_a_repaired_revoked_or_out_of_window_record_never_shows_as_current(overrides: dict[str, Any]) -> None:
    assert sections([record(**overrides)], [])["administrative"] == []


def test_an_entry_not_in_force_is_not_in_the_standard_report() -> None:
    for overrides in (
        {"status": "removed"},
        {"status": "notified"},
        {"public_until": AS_OF - dt.timedelta(days=1)},
    ):
        assert sections([], [entry(**overrides)])["serious_dishonesty"] == []


def test_resident_ids_in_printed_text_are_masked() -> None:
    (item,) = sections([record()], [])["administrative"]
    facts = dict(item["lines"])["违法事实"]
    assert facts.startswith("销售不合格食品") and "510104198505170012" not in str(item)


def findings(records: list[Any], entries: list[dict[str, Any]], fields: list[str], start: dt.date) -> Any:
    return rules.special_findings(
        special_spec(),
        load_catalog(),
        records,
        entries,
        fields=fields,
        period=(start, AS_OF),
        root_of=lambda code: ROOTS.get(code, code),
        department=lambda code: code,
    )


def by_category(field: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["code"]: c for c in field["categories"]}


def test_special_report_per_field_period_and_repaired_mark() -> None:
    repaired = record(status="repaired", decision_date=dt.date(2025, 5, 1), doc_no="川市监罚〔2025〕9号")
    revoked = record(status="revoked", doc_no="撤销的")
    enforcement = record("QZ", provider_code="SCTAX", doc_no="川税强〔2026〕1号")
    market, tax = findings(
        [record(), repaired, revoked, enforcement], [entry()], ["market", "tax"], dt.date(2025, 1, 1)
    )
    assert [market["title"], tax["title"]] == ["市场监管", "税务"]
    penalties = by_category(market)["penalty"]
    assert penalties["verdict"] == "有相关记录"
    assert [(i["doc_no"], i["repaired"]) for i in penalties["items"]] == [
        ("川市监罚〔2026〕1号", False),
        ("川市监罚〔2025〕9号", True),
    ]
    assert by_category(market)["serious_dishonesty"]["found"]
    assert by_category(market)["enforcement"]["verdict"] == rules.EMPTY
    assert by_category(tax)["enforcement"]["found"] and by_category(tax)["penalty"]["verdict"] == rules.EMPTY
    assert by_category(tax)["criminal"]["verdict"] == rules.EMPTY  # collected (XSPJ), none held

    (recent,) = findings([record(), repaired], [], ["market"], dt.date(2026, 1, 1))
    assert [i["repaired"] for i in by_category(recent)["penalty"]["items"]] == [False]


def test_a_criminal_judgment_counts_in_every_field_chosen_and_only_inside_the_period() -> None:
    judgment = record(
        "XSPJ",
        provider_code="SCGY",
        decision_date=dt.date(2026, 2, 10),
        doc_no="（2025）川0104刑初88号",
        fields={"charge_category": "破坏社会主义市场经济秩序罪", "court_name": "成都市锦江区人民法院"},
    )
    penalty = record(
        provider_code="SCGY", doc_no="川高法罚〔2026〕1号"
    )  # a court's penalty: the judicial field
    market, tax = findings([judgment, penalty], [], ["market", "tax"], dt.date(2026, 1, 1))
    for field in (market, tax):
        criminal = by_category(field)["criminal"]
        assert criminal["verdict"] == "有相关记录" and [i["doc_no"] for i in criminal["items"]] == [
            "（2025）川0104刑初88号"
        ]
        assert by_category(field)["penalty"]["verdict"] == rules.EMPTY  # every_field is the category's alone
    (later,) = findings([judgment], [], ["market"], dt.date(2026, 3, 1))
    assert by_category(later)["criminal"]["verdict"] == rules.EMPTY
    (withdrawn,) = findings([record("XSPJ", provider_code="SCGY", status="revoked")], [], ["tax"], AS_OF)
    assert by_category(withdrawn)["criminal"]["verdict"] == rules.EMPTY


def test_a_category_the_issuer_may_not_see_says_so_instead_of_none() -> None:
    judgment = record("XSPJ", provider_code="SCGY", decision_date=dt.date(2026, 2, 10))

    def criminal(records: list[Any], unseen: set[str]) -> str:
        (field,) = rules.special_findings(
            special_spec(),
            load_catalog(),
            records,
            [],
            fields=["tax"],
            period=(dt.date(2026, 1, 1), AS_OF),
            root_of=lambda code: code,
            department=lambda code: code,
            unseen_items=unseen,
        )
        return str(by_category(field)["criminal"]["verdict"])

    assert criminal([], {"XSPJ"}) == rules.NOT_VISIBLE
    assert criminal([], {"QZ"}) == rules.EMPTY
    assert criminal([judgment], {"XSPJ"}) == "有相关记录"  # what it does see (its own records) still counts


def test_criminal_judgments_are_in_the_catalog_fed_to_the_special_report_and_the_judicial_section() -> None:
    item = load_catalog().item("XSPJ")
    assert item is not None and item.disclosure_class == "government" and not item.public_for_natural_persons
    assert "法释〔2016〕19号" in item.legal_basis and "565号" in item.legal_basis
    assert {f.name for f in item.fields} >= {"court_name", "doc_no", "charge_category", "judgment_date"}
    assert item.date_field == "effective_date"
    (criminal,) = [c for c in special_spec().categories if c.code == "criminal"]
    assert criminal.items == ("XSPJ",) and criminal.every_field
    (judicial,) = [s for s in file_layout().sections if s.code == "judicial"]
    assert "XSPJ" in judicial.items


def test_unknown_fields_are_skipped_by_the_rule() -> None:
    assert findings([record()], [], ["moon"], dt.date(2025, 1, 1)) == []


def test_periods_numbers_and_codes() -> None:
    assert rules.check_period(AS_OF, AS_OF - dt.timedelta(days=1), AS_OF)
    assert rules.check_period(AS_OF - dt.timedelta(days=10), AS_OF + dt.timedelta(days=1), AS_OF)
    assert rules.check_period(dt.date(2020, 1, 1), AS_OF, AS_OF)  # more than five years
    assert rules.check_period(dt.date(2024, 1, 1), AS_OF, AS_OF) is None
    assert rules.report_number(AS_OF, 42) == "XY2026112800000042"
    code = rules.verification_code(bytes(range(8)))
    assert len(code) == 10 and set(code) <= set(rules.CODE_ALPHABET)
    assert code != rules.verification_code(bytes(range(1, 9)))


def test_the_special_spec_refuses_a_department_in_two_fields() -> None:
    raw = special_spec().model_dump()
    raw["fields"][1]["departments"] = ["SCMR"]
    with pytest.raises(ValidationError):
        SpecialSpec.model_validate(raw)
