"""Each catalog item's file template (CSV and XLSX): Chinese headers with national field codes, accepted by
ingestion exactly as downloaded, and once filled in, ingested."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.helpers import department, login, uscc
from xinyong.catalog import service as catalog_service
from xinyong.catalog.schemas import CatalogItem, FieldSpec
from xinyong.kit.identifiers import make_uscc
from xinyong.kit.tabular import read_rows
from xinyong.records.models import Batch, RejectedRow, UnresolvedRow
from xinyong.records.rules import HeaderMap

CATALOG = catalog_service.load()
ITEMS = [item.code for item in CATALOG.items]


def _csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel opens the Chinese headers
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _sample(spec: FieldSpec, item: CatalogItem) -> Any:
    """A valid value of the field's type, as a clerk would type it."""
    if spec.enum:
        return spec.enum[0]
    samples: dict[str, Any] = {
        "date": "2026-06-15",
        "amount": "5",
        "integer": "1",
        "uscc": uscc(),
        "org_code": None,
        "resident_id": None,
        "region": "510104",
    }
    if spec.type in samples:
        return samples[spec.type]
    if spec.name.endswith("_code") and "统一社会信用代码" in spec.label:
        return make_uscc("1", "1", "510000", "00000001")
    return f"测试{spec.label}"[: spec.max_length or 50]


def _filled(item: CatalogItem) -> list[Any]:
    """One row under the template's header: every required field, the subject's code and category."""
    row = []
    for spec in item.fields:
        wanted = spec.required or spec.name in ("uscc", "subject_category")
        value = _sample(spec, item) if wanted else None
        if spec.name == "subject_name":
            value = f"成都{item.code}模板测试有限公司"
        row.append(value)
    return row


def _provider(session: Session, item: CatalogItem) -> str:
    code = "SCMR" if "*" in item.providers else item.providers[0]
    return department(session, code, f"部门{code}")


def _why(session: Session, batch: Batch) -> object:
    rejected = session.scalars(select(RejectedRow.errors).where(RejectedRow.batch_id == batch.id)).all()
    queued = session.scalars(select(UnresolvedRow.reason).where(UnresolvedRow.batch_id == batch.id)).all()
    return batch.error, rejected, queued


class TestTemplatesOfEveryItem:
    @pytest.mark.parametrize("code", ITEMS)
    def test_csv_headers_are_chinese_names_with_national_codes_and_map_to_every_field(
        self, client: TestClient, code: str
    ) -> None:
        item = CATALOG.item(code)
        assert item is not None
        response = client.get(f"/catalog/{code}/template.csv")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        rows = _csv_rows(response.content)
        assert len(rows) == 1
        headers = rows[0]
        for spec, header in zip(item.fields, headers, strict=True):
            assert header.startswith(spec.label)
            if spec.alias:
                assert header == f"{spec.label}({spec.alias[0]})"
        mapped = HeaderMap(item, headers)
        assert mapped.unknown == [] and mapped.missing_required == []
        assert sorted(mapped.mapping.values()) == sorted(f.name for f in item.fields)

    @pytest.mark.parametrize("code", ITEMS)
    def test_xlsx_has_the_header_row_first_and_a_notes_sheet(self, client: TestClient, code: str) -> None:
        item = CATALOG.item(code)
        assert item is not None
        response = client.get(f"/catalog/{code}/template.xlsx")
        assert response.status_code == 200
        assert response.content.startswith(b"PK\x03\x04")
        book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        first, notes = book.worksheets
        assert [list(r) for r in first.iter_rows(values_only=True)] == [
            catalog_service.template_headers(item)
        ]
        described = list(notes.iter_rows(values_only=True))
        assert described[1][:4] == ("表头", "字段名称", "国家标准代码", "必填")
        by_header = {row[0]: row for row in described[2:]}
        assert list(by_header) == catalog_service.template_headers(item)
        for spec in item.fields:
            row = by_header[catalog_service.template_header(spec)]
            assert row[3] == ("是" if spec.required and spec.default is None else "否")
            if spec.enum:
                assert all(value in row[6] for value in spec.enum)
        # the template as downloaded is read by ingestion as a header and no rows
        assert list(read_rows(io.BytesIO(response.content), "t.xlsx")) == []

    def test_the_item_page_links_both_templates(self, client: TestClient) -> None:
        page = client.get("/catalog/CF")
        assert (
            'href="/catalog/CF/template.xlsx"' in page.text and 'href="/catalog/CF/template.csv"' in page.text
        )
        assert "行政处罚决定书文号(CF_WSH)" in page.text

    @pytest.mark.parametrize("extension", ["csv", "xlsx"])
    def test_the_api_serves_the_same_templates(self, client: TestClient, extension: str) -> None:
        portal = client.get(f"/catalog/XK/template.{extension}")
        api = client.get(f"/api/v1/catalog/XK/template.{extension}")
        assert api.status_code == 200 and api.headers["content-type"] == portal.headers["content-type"]
        assert "attachment" in api.headers["content-disposition"]
        if extension == "csv":
            assert api.content == portal.content
        else:
            book = openpyxl.load_workbook(io.BytesIO(api.content), read_only=True)
            assert [list(r) for r in book.worksheets[0].iter_rows(values_only=True)] == [
                catalog_service.template_headers(CATALOG.item("XK"))  # type: ignore[arg-type]
            ]
        assert client.get(f"/api/v1/catalog/NOPE/template.{extension}").status_code == 404

    def test_unknown_item_is_404(self, client: TestClient) -> None:
        assert client.get("/catalog/NOPE/template.csv").status_code == 404
        assert client.get("/catalog/NOPE/template.xlsx").status_code == 404


class TestFilledTemplatesIngest:
    @pytest.mark.parametrize("code", ITEMS)
    def test_a_filled_csv_template_is_accepted(self, client: TestClient, session: Session, code: str) -> None:
        item = CATALOG.item(code)
        assert item is not None
        provider = _provider(session, item)
        token = login(client, session, role="provider", department_code=provider)
        content = client.get(f"/catalog/{code}/template.csv").content
        buffer = io.StringIO()
        csv.writer(buffer).writerow(["" if v is None else v for v in _filled(item)])
        upload = content + buffer.getvalue().encode("utf-8")
        response = client.post(
            "/console/ingest",
            data={"item": code, "provider": provider, "csrf_token": token},
            files={"file": ("template.csv", upload, "text/csv")},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        batch = session.scalars(select(Batch).where(Batch.item_code == code)).one()
        assert (batch.rows_read, batch.accepted, batch.rejected, batch.queued) == (1, 1, 0, 0), _why(
            session, batch
        )

    @pytest.mark.parametrize("code", ["CF", "XK", "DJ"])
    def test_a_filled_xlsx_template_is_accepted(
        self, client: TestClient, session: Session, code: str
    ) -> None:
        item = CATALOG.item(code)
        assert item is not None
        provider = _provider(session, item)
        token = login(client, session, role="provider", department_code=provider)
        book = openpyxl.load_workbook(io.BytesIO(client.get(f"/catalog/{code}/template.xlsx").content))
        sheet = book.worksheets[0]
        row = _filled(item)
        for index, spec in enumerate(item.fields):  # Excel keeps dates as dates
            if spec.type == "date" and row[index]:
                row[index] = dt.datetime(2026, 6, 15)
        sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        response = client.post(
            "/console/ingest",
            data={"item": code, "provider": provider, "csrf_token": token},
            files={"file": ("template.xlsx", out.getvalue(), "application/octet-stream")},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        batch = session.scalars(select(Batch).where(Batch.item_code == code)).one()
        assert (batch.rows_read, batch.accepted, batch.rejected, batch.queued) == (1, 1, 0, 0), _why(
            session, batch
        )


class TestEditedCatalog:
    def test_an_item_named_with_characters_a_sheet_title_refuses_still_gets_its_xlsx(self) -> None:
        item = CATALOG.item("CF")
        assert item is not None
        renamed = item.model_copy(update={"name": "处罚/许可:[测试]*?" + "长" * 40})
        book = openpyxl.load_workbook(io.BytesIO(catalog_service.template_xlsx(renamed)), read_only=True)
        assert book.sheetnames[0] == ("处罚许可测试" + "长" * 40)[:31]
        assert [list(r) for r in book.worksheets[0].iter_rows(values_only=True)] == [
            catalog_service.template_headers(renamed)
        ]


class TestLabelledHeaders:
    def test_name_with_code_maps_by_the_code_with_full_or_half_width_brackets(self) -> None:
        item = CATALOG.item("CF")
        assert item is not None
        mapped = HeaderMap(
            item, ["行政处罚决定书文号(CF_WSH)", "主体名称（cf_xdr_mc）", "违法事实 ( CF_SY )"]
        )
        assert mapped.mapping == {
            "行政处罚决定书文号(CF_WSH)": "doc_no",
            "主体名称（cf_xdr_mc）": "subject_name",
            "违法事实 ( CF_SY )": "facts",
        }
        # an unknown code falls back to the name; an unknown name and code stay unknown
        assert HeaderMap(item, ["处罚决定日期(XX_YY)"]).mapping == {"处罚决定日期(XX_YY)": "decision_date"}
        assert HeaderMap(item, ["随便(ZZ)"]).unknown == ["随便(ZZ)"]
