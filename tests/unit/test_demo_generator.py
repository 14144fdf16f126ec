"""The synthetic Sichuan: deterministic, proportional to scale and valid against the catalog but for a few rows."""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import re
from functools import cache
from importlib import resources
from typing import Any

import pytest
import yaml

from xinyong.demo.generator import DemoBatch, batches, departments
from xinyong.kit import regions
from xinyong.kit.dates import parse_date
from xinyong.kit.identifiers import IdentifierError, validate_resident_id, validate_uscc

TODAY = dt.date(2026, 6, 15)
CF_HEADERS = {
    "CF_WSH", "CF_XDR_MC", "CF_XDR_LB", "CF_XDR_SHXYM", "CF_FRDB", "CF_XDR_ZJLX", "CF_XDR_ZJHM", "CF_WFXW", "CF_SY",
    "CF_YJ", "CF_CFLB", "CF_NR", "CF_NR_FK", "CF_JDRQ", "CF_CFJG", "CF_CFJGDM", "CF_SJLY", "CF_SJLYDM", "BZ", "severity",
}  # fmt: skip
XK_HEADERS = {
    "XK_XKWS", "XK_WSH", "XK_XKLB", "XK_XKZS", "XK_XKBH", "XK_NR", "XK_XDR_MC", "XK_XDR_LB", "XK_XDR_SHXYM", "XK_FRDB",
    "XK_JDRQ", "XK_YXQZ", "XK_YXQZI", "XK_XKJG", "XK_XKJGDM", "XK_ZT", "XK_LYDW", "XK_LYDWDM",
}  # fmt: skip
KEYS = {
    "XK": ("XK_WSH",), "CF": ("CF_WSH",), "QZ": ("doc_no",), "JC": ("doc_no",), "QR": ("doc_no",), "JL": ("doc_no",),
    "SXBZX": ("case_no",), "JYYC": ("doc_no",), "CN": ("commitment_no",), "QS": ("uscc", "tax_type", "tax_period"),
    "QJSB": ("uscc", "insurance_type", "arrears_period"),
}  # fmt: skip


@pytest.fixture(scope="module")
def demo() -> list[DemoBatch]:
    return list(batches(0.05, today=TODAY))


# --- an independent reading of the catalog ---------------------------------------------------------------


@cache
def catalog() -> dict[str, dict[str, dict[str, Any]]]:
    """item code -> header (field name or national alias) -> field spec."""
    text = resources.files("xinyong").joinpath("catalog/data/catalog.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    items: dict[str, dict[str, dict[str, Any]]] = {}
    for item in data["items"]:
        headers: dict[str, dict[str, Any]] = {}
        for spec in item["fields"]:
            group = (
                [
                    dict(f, alias=spec.get("aliases", {}).get(f["name"], []))
                    for f in data["field_groups"][spec["include"]]
                ]
                if "include" in spec
                else [spec]
            )
            for f in group:
                for header in (f["name"], *f.get("alias", [])):
                    headers[header] = f
        items[item["code"]] = headers
    return items


def problems(item: str, row: dict[str, str]) -> list[str]:
    """Every way the row breaks the catalog (empty for a valid row)."""
    fields = catalog()[item]
    found: list[str] = []
    values: dict[str, str] = {}
    for header, value in row.items():
        spec = fields.get(header)
        if spec is None:
            found.append(f"unknown header {header}")
            continue
        values[spec["name"]] = value
    dates: dict[str, dt.date] = {}
    for spec in {id(s): s for s in fields.values()}.values():
        name = spec["name"]
        value = values.get(name, "")
        if not value:
            if spec.get("required"):
                found.append(f"required:{name}")
            continue
        if len(value) > spec.get("max_length", 10**9):
            found.append(f"max_length:{name}")
        found += value_problems(spec, value, dates)
    for spec in {id(s): s for s in fields.values()}.values():
        start = spec.get("not_before")
        if start and spec["name"] in dates and start in dates and dates[spec["name"]] < dates[start]:
            found.append(f"not_before:{spec['name']}")
    return found


def value_problems(spec: dict[str, Any], value: str, dates: dict[str, dt.date]) -> list[str]:
    """How a non-empty value breaks its field's type (a date is also kept in `dates`, by field name)."""
    name, kind = spec["name"], spec["type"]
    try:
        if kind == "enum" and value not in spec["enum"]:
            return [f"enum:{name}"]
        if kind == "date":
            dates[name] = parse_date(value)
            if dates[name] > TODAY and not spec.get("future_ok"):
                return [f"future:{name}"]
        elif kind == "uscc":
            validate_uscc(value)
        elif kind == "resident_id":
            validate_resident_id(value, today=TODAY)
        elif kind == "amount" and not re.fullmatch(r"\d+\.\d{4}", value):
            return [f"amount:{name}"]
        elif kind == "region" and not (value.startswith("51") and regions.is_known(value)):
            return [f"region:{name}"]
    except (IdentifierError, ValueError) as exc:
        return [f"{kind}:{name}:{getattr(exc, 'code', exc)}"]
    return []


def all_problems(demo: list[DemoBatch]) -> list[tuple[str, list[str]]]:
    return [(b.item_code, p) for b in demo for row in b.rows if (p := problems(b.item_code, row))]


# --- tests -----------------------------------------------------------------------------------------------


def test_same_seed_gives_the_same_batches_and_another_seed_does_not() -> None:
    first = list(itertools.islice(batches(0.02, today=TODAY), 3))
    again = list(itertools.islice(batches(0.02, today=TODAY), 3))
    other = list(itertools.islice(batches(0.02, today=TODAY, seed=7), 3))
    assert first == again
    assert first[0].rows != other[0].rows


def test_batches_stream_lazily() -> None:
    stream = batches(0.02, today=TODAY)
    assert iter(stream) is stream
    first = next(stream)
    assert first.item_code == "DJ"


def test_subjects_and_records_grow_in_proportion_to_scale(demo: list[DemoBatch]) -> None:
    small = list(batches(0.02, today=TODAY))

    def registered(bs: list[DemoBatch]) -> int:
        return sum(len(b.rows) for b in bs if b.item_code == "DJ")

    def records(bs: list[DemoBatch]) -> int:
        return sum(len(b.rows) for b in bs)

    # 5% natural persons have no DJ row: 0.05 x 20,000 x 95% = 950.
    assert 900 <= registered(demo) <= 1000
    assert registered(demo) / registered(small) == pytest.approx(2.5, rel=0.05)
    assert 9_000 <= records(demo) <= 11_000
    assert records(demo) / records(small) == pytest.approx(2.5, rel=0.05)


def test_registration_comes_first_with_valid_codes_and_unique_names(demo: list[DemoBatch]) -> None:
    kinds = [b.item_code for b in demo]
    assert kinds[0] == "DJ"
    assert "DJ" not in kinds[kinds.index(next(k for k in kinds if k != "DJ")) :]
    dj = [row for b in demo if b.item_code == "DJ" for row in b.rows]
    assert {b.provider_code for b in demo if b.item_code == "DJ"} == {"SCMR"}
    for row in dj:
        validate_uscc(row["uscc"])
        assert row["uscc"][2:8] == row["region_code"]
        assert not problems("DJ", row), row
    assert len({row["subject_name"] for row in dj}) == len(dj)
    categories = collections.Counter(row["subject_category"] for row in dj)
    assert categories["法人及非法人组织"] / len(dj) == pytest.approx(0.84, abs=0.05)
    assert categories["个体工商户"] / len(dj) == pytest.approx(0.16, abs=0.05)
    assert any(row["uscc"].startswith("11") for row in dj)  # a few government bodies


def test_only_a_few_rows_break_the_catalog_each_in_its_own_way(demo: list[DemoBatch]) -> None:
    bad = all_problems(demo)
    total = sum(len(b.rows) for b in demo)
    assert 6 <= len(bad) <= max(12, total * 0.001)
    assert all(len(p) == 1 for _, p in bad), bad
    kinds = {p[0].split(":")[0] + ":" + p[0].split(":")[-1] if p[0].startswith(("uscc", "resident")) else p[0].split(":")[0]
             for _, p in bad}  # fmt: skip
    assert {
        "uscc:uscc.checksum",
        "resident_id:resident_id.checksum",
        "required",
        "future",
        "enum",
        "not_before",
    } <= kinds
    assert len({item for item, _ in bad}) >= 3


def test_penalties_and_licences_use_the_national_field_codes(demo: list[DemoBatch]) -> None:
    cf = [b for b in demo if b.item_code == "CF"]
    xk = [b for b in demo if b.item_code == "XK"]
    assert cf
    assert xk
    assert all(set(b.rows[0]) >= CF_HEADERS for b in cf)
    assert all(set(b.rows[0]) >= XK_HEADERS for b in xk)
    others = [b for b in demo if b.item_code not in ("CF", "XK")]
    assert not any(h.startswith(("CF_", "XK_")) for b in others for h in b.rows[0])


def test_penalty_severities_are_mostly_minor_and_general_and_sectors_match_providers(
    demo: list[DemoBatch],
) -> None:
    rows = [(b.provider_code, row) for b in demo if b.item_code == "CF" for row in b.rows]
    severities = collections.Counter(row["severity"] for _, row in rows if row["severity"] != "特别严重")
    total = sum(severities.values())
    assert set(severities) == {"轻微", "一般", "严重"}
    assert severities["严重"] / total == pytest.approx(0.10, abs=0.04)
    assert severities["轻微"] / total == pytest.approx(0.45, abs=0.06)
    names = {d.code: d.name for d in departments()}
    expected = {
        "SCSTHJ": {"生态环境"},
        "SCYJ": {"安全生产"},
        "SCXF": {"消防安全"},
        "SCTAX": {"税务"},
        "SCJT": {"交通运输"},
    }
    for provider, row in rows:
        assert row["CF_CFJG"] == names[provider]
        if provider in expected:
            assert row["sector"] in expected[provider]
        if provider.endswith("MR"):
            assert row["sector"] in {"食品药品", "特种设备", "市场监管"}


def test_natural_persons_carry_valid_resident_ids(demo: list[DemoBatch]) -> None:
    people = [
        row
        for b in demo
        for row in b.rows
        if row.get("CF_XDR_LB", row.get("XK_XDR_LB", row.get("subject_category"))) == "自然人"
    ]
    assert len(people) > 50
    ids = [row.get("CF_XDR_ZJHM") or row.get("XK_XDR_ZJHM") or row.get("id_no", "") for row in people]
    valid = []
    for number in ids:
        try:
            valid.append(validate_resident_id(number, today=TODAY))
        except IdentifierError:
            continue
    assert len(valid) >= len(ids) - 3
    assert all(not (row.get("CF_XDR_SHXYM") or row.get("uscc")) for row in people)
    # People registered in Chengdu's central districts before the districts existed (1990) are valid too.
    assert any(info.region_code in {"510104", "510105", "510106", "510107", "510108"} and info.birth_date.year < 1990
               for info in valid)  # fmt: skip
    sxbzx = [row for b in demo if b.item_code == "SXBZX" for row in b.rows]
    assert sum(row["subject_category"] == "自然人" for row in sxbzx) / len(sxbzx) > 0.5


def test_some_rows_name_a_company_only_by_name(demo: list[DemoBatch]) -> None:
    registered = collections.Counter(
        (row["subject_name"], row["region_code"]) for b in demo if b.item_code == "DJ" for row in b.rows
    )
    names = {name for name, _ in registered}
    name_only = [
        (row.get("CF_XDR_MC") or row["XK_XDR_MC"], row["region_code"])
        for b in demo
        if b.item_code in ("CF", "XK")
        for row in b.rows
        if not (row.get("CF_XDR_SHXYM") or row.get("XK_XDR_SHXYM"))
        and not (row.get("CF_XDR_ZJHM") or row.get("XK_XDR_ZJHM"))
    ]
    resolvable = [key for key in name_only if registered[key] == 1]
    unknown = [name for name, _ in name_only if name not in names]
    assert len(resolvable) >= 3
    assert len(unknown) >= 2
    assert len(resolvable) + len(unknown) == len(name_only)


def test_document_numbers_are_unique_per_provider_and_item(demo: list[DemoBatch]) -> None:
    for item, columns in KEYS.items():
        keys = [
            (b.provider_code, *(row[c] for c in columns))
            for b in demo
            if b.item_code == item
            for row in b.rows
        ]
        assert keys
        assert len(set(keys)) == len(keys), item


def test_batches_are_split_per_item_provider_and_year(demo: list[DemoBatch]) -> None:
    codes = {d.code for d in departments()}
    filenames = [b.filename for b in demo]
    assert len(set(filenames)) == len(filenames)
    for b in demo:
        assert b.provider_code in codes
        assert 0 < len(b.rows) <= 5_000
        assert len({tuple(row) for row in b.rows}) == 1  # one header line per file
    dates = [row["decision_date"] for b in demo if b.item_code == "JC" for row in b.rows]
    styles = {"iso" if "-" in d else "slash" if "/" in d else "chinese" for d in dates}
    assert styles == {"iso", "slash", "chinese"}
    years = [parse_date(d) for d in dates]
    assert min(years) >= TODAY.replace(year=TODAY.year - 5)
    for item, providers in (("SXBZX", {"SCGY"}), ("JYYC", {"SCMR"}), ("QS", {"SCTAX"}), ("QJSB", {"SCRS"})):
        assert {b.provider_code for b in demo if b.item_code == item} == providers


def test_departments_have_government_codes_and_the_prefecture_bureaus() -> None:
    depts = departments()
    codes = [d.code for d in depts]
    assert len(set(codes)) == len(codes)
    assert {
        "SCFGW",
        "SCMR",
        "SCTAX",
        "SCRS",
        "SCGY",
        "SCSTHJ",
        "SCYJ",
        "SCZJ",
        "SCJT",
        "SCWJ",
        "SCXF",
        "SCCZ",
    } <= set(codes)
    for d in depts:
        assert d.uscc is not None
        assert validate_uscc(d.uscc)[:2] == "11"
        assert d.uscc[2:8] == d.region_code
    bureaus = [d for d in depts if d.parent_code == "SCMR"]
    assert len(bureaus) == 21
    assert {d.region_code for d in bureaus} == {p.code for p in regions.current_prefectures()}
    chengdu = next(d for d in bureaus if d.region_code == "510100")
    assert (chengdu.code, chengdu.name) == ("CD-MR", "成都市市场监督管理局")
    assert all(d.region_code == "510000" and d.parent_code is None for d in depts if d not in bureaus)
    assert departments() == depts


def test_the_high_court_sends_two_criminal_judgments_of_companies(demo: list[DemoBatch]) -> None:
    (batch,) = [b for b in demo if b.item_code == "XSPJ"]
    assert batch.provider_code == "SCGY" and len(batch.rows) == 2 and not all_problems([batch])
    assert all(row["uscc"] and "刑初" in row["doc_no"] for row in batch.rows)
    assert all(row["judgment_date"] < row["effective_date"] <= TODAY.isoformat() for row in batch.rows)
