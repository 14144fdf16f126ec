"""JSON API: submission receipts, search, the public credit file, the catalog and error bodies."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.helpers import bearer, licence, penalty, resident_id, uscc


def submit(
    client: TestClient, session: Session, item: str, rows: list[dict[str, Any]], provider: str = "SCMR"
) -> httpx.Response:
    response: httpx.Response = client.post(
        "/api/v1/records", json={"item": item, "records": rows}, headers=bearer(session, provider)
    )
    return response


class TestSubmitRecords:
    def test_receipt_reports_every_count_and_rejected_reasons(
        self, client: TestClient, session: Session
    ) -> None:
        response = submit(client, session, "CF", [penalty(), penalty(CF_XDR_SHXYM="91510104MA6C12341Y")])
        assert response.status_code == 200
        body = response.json()
        assert {k: body[k] for k in ("accepted", "updated", "unchanged", "rejected")} == {
            "accepted": 1,
            "updated": 0,
            "unchanged": 0,
            "rejected": 1,
        }
        assert body["rejected_rows"][0]["row"] == 2
        assert body["rejected_rows"][0]["errors"][0]["code"] == "uscc.checksum"
        again = client.get(f"/api/v1/batches/{body['batch_id']}", headers=bearer(session)).json()
        assert again["accepted"] == 1

    def test_unknown_item_is_a_404_with_stable_code(self, client: TestClient, session: Session) -> None:
        response = submit(client, session, "NOPE", [penalty()])
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "catalog.unknown_item"

    def test_malformed_body_is_a_422_not_a_500(self, client: TestClient, session: Session) -> None:
        response = client.post(
            "/api/v1/records", json={"item": "CF", "records": "not a list"}, headers=bearer(session)
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "request.invalid"

    def test_rejected_report_is_a_safe_csv(self, client: TestClient, session: Session) -> None:
        body = submit(
            client, session, "CF", [penalty(CF_XDR_MC='=HYPERLINK("http://x")', CF_JDRQ="not a date")]
        ).json()
        report = client.get(f"/api/v1/batches/{body['batch_id']}/rejected.csv", headers=bearer(session))
        assert report.status_code == 200
        rows = list(csv.reader(io.StringIO(report.text.lstrip("\ufeff"))))
        assert rows[0][0] == "行号" and rows[0][-1] == "错误说明"
        name_column = rows[0].index("CF_XDR_MC")
        assert rows[1][name_column].startswith("'=")


class TestSearchAndFile:
    def test_search_tolerates_traditional_width_spacing_and_suffix(
        self, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        submit(client, session, "XK", [licence(XK_XDR_MC="成都天府软件园科技有限公司", XK_XDR_SHXYM=code)])
        for query in [
            "成都天府軟件園科技",
            "成都 天府软件园科技有限责任公司",
            "天府软件园",
            code.lower(),
            "成都天府软件园科技有限公司",
        ]:
            body = client.get("/api/v1/subjects", params={"q": query}).json()
            assert body["total"] >= 1, query
            assert body["items"][0]["uscc"] == code, query

    def test_exact_code_and_exact_name_rank_first(self, client: TestClient, session: Session) -> None:
        exact, longer = uscc(), uscc()
        submit(
            client,
            session,
            "XK",
            [
                licence(XK_XDR_MC="成都蓉城建筑工程劳务分包有限公司", XK_XDR_SHXYM=longer),
                licence(XK_XDR_MC="成都蓉城建筑有限公司", XK_XDR_SHXYM=exact),
            ],
        )
        items = client.get("/api/v1/subjects", params={"q": "成都蓉城建筑有限公司"}).json()["items"]
        assert [i["uscc"] for i in items][:2] == [exact, longer]

    def test_like_wildcards_and_injection_strings_are_harmless(self, client: TestClient) -> None:
        for query in ["%", "_", "' OR 1=1 --", "\\"]:
            response = client.get("/api/v1/subjects", params={"q": query})
            assert response.status_code == 200
            assert response.json()["total"] == 0

    def test_subject_file_shows_only_records_public_today(self, client: TestClient, session: Session) -> None:
        code = uscc()
        submit(
            client,
            session,
            "CF",
            [
                penalty(CF_XDR_SHXYM=code, CF_WSH="一般-在公示期", CF_JDRQ="2026-06-15", severity="一般"),
                penalty(
                    CF_XDR_SHXYM=code, CF_WSH="一般-已届满", CF_JDRQ="2023-01-15", severity="一般"
                ),  # 527: 1 year
                penalty(CF_XDR_SHXYM=code, CF_WSH="轻微-不公示", CF_JDRQ="2026-06-15", severity="轻微"),
                penalty(CF_XDR_SHXYM=code, CF_WSH="严重-在公示期", CF_JDRQ="2024-06-15", severity="严重"),
            ],
        )
        body = client.get(f"/api/v1/subjects/{code}").json()
        assert sorted(r["doc_no"] for r in body["records"]) == ["一般-在公示期", "严重-在公示期"]
        assert all(r["public_now"] for r in body["records"])

    def test_natural_person_penalties_stay_off_the_portal_and_ids_never_leak(
        self, client: TestClient, session: Session
    ) -> None:
        rid = resident_id()
        row = penalty(CF_XDR_LB="自然人", CF_XDR_SHXYM="", CF_XDR_ZJHM=rid, CF_XDR_MC="赵六")
        assert submit(client, session, "CF", [row]).json()["accepted"] == 1
        assert client.get("/api/v1/subjects", params={"q": "赵六"}).json()["total"] == 0
        listing = client.get("/publicity/penalties")
        assert "赵六" not in listing.text and rid not in listing.text

    def test_unknown_subject_is_a_404(self, client: TestClient) -> None:
        response = client.get("/api/v1/subjects/914403001922038216")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "subject.not_found"


def test_catalog_lists_items_with_fields_and_legal_basis(client: TestClient) -> None:
    body = client.get("/api/v1/catalog").json()
    cf = next(i for i in body["items"] if i["code"] == "CF")
    assert cf["disclosure_class"] == "public" and cf["legal_basis"]
    assert "CF_WSH" in next(f for f in cf["fields"] if f["name"] == "doc_no")["alias"]
