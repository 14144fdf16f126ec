"""Portal and console pages: rendered, escaped, filtered, and errors as Chinese pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.helpers import bearer, licence, login, penalty, uscc
from xinyong.web.deps import SessionDep


def seed(
    client: TestClient, session: Session, item: str, rows: list[dict[str, Any]], provider: str = "SCMR"
) -> dict[str, Any]:
    receipt: dict[str, Any] = client.post(
        "/api/v1/records", json={"item": item, "records": rows}, headers=bearer(session, provider)
    ).json()
    return receipt


def test_html_in_names_is_escaped_on_every_page(client: TestClient, session: Session) -> None:
    code = uscc()
    name = "<script>alert(1)</script><img src=x onerror=alert(2)>有限公司"
    seed(client, session, "CF", [penalty(CF_XDR_MC=name, CF_XDR_SHXYM=code)])
    for url in (f"/subjects/{code}", "/publicity/penalties", "/", f"/search?q={code}"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert "<script>alert(1)" not in page.text, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, url


def test_publicity_listing_filters_by_department_and_date(client: TestClient, session: Session) -> None:
    seed(client, session, "CF", [penalty(CF_WSH="甲-2026", CF_JDRQ="2026-06-01")], provider="SCMR")
    seed(client, session, "CF", [penalty(CF_WSH="乙-2026", CF_JDRQ="2026-02-01")], provider="SCSTHJ")
    both = client.get("/publicity/penalties").text
    assert "甲-2026" in both and "乙-2026" in both
    only = client.get("/publicity/penalties", params={"department": "SCSTHJ"}).text
    assert "乙-2026" in only and "甲-2026" not in only
    recent = client.get("/publicity/penalties", params={"date_from": "2026-05-01"}).text
    assert "甲-2026" in recent and "乙-2026" not in recent


def test_subject_page_groups_public_records_by_item(client: TestClient, session: Session) -> None:
    code = uscc()
    seed(client, session, "XK", [licence(XK_XDR_SHXYM=code, XK_WSH="许可-1")])
    seed(client, session, "CF", [penalty(CF_XDR_SHXYM=code, CF_WSH="处罚-1", severity="严重")])
    page = client.get(f"/subjects/{code}").text
    assert 'id="item-XK"' in page and 'id="item-CF"' in page
    assert "许可-1" in page and "处罚-1" in page and "严重失信" in page


def test_catalog_pages_and_error_page(client: TestClient) -> None:
    assert "行政处罚" in client.get("/catalog").text
    assert "CF_WSH" in client.get("/catalog/CF").text
    missing = client.get("/catalog/NOPE")
    assert (
        missing.status_code == 404
        and "catalog.unknown_item" in missing.text
        and "Traceback" not in missing.text
    )
    assert client.get("/no/such/page").status_code == 404


def test_console_upload_of_a_gbk_csv_shows_the_receipt(client: TestClient, session: Session) -> None:
    token = login(client, session, role="provider")
    good = penalty(CF_XDR_MC="成都𠮷祥餐饮有限公司")  # a rare character that GBK lacks but GB18030 has
    bad = penalty(CF_JDRQ=(dt.date(2026, 11, 28) + dt.timedelta(days=3)).isoformat())
    headers = list(good)
    lines = [",".join(headers)] + [",".join(str(r[h]) for h in headers) for r in (good, bad)]
    data = "\r\n".join(lines).encode("gb18030")
    response = client.post(
        "/console/ingest",
        data={"item": "CF", "provider": "SCMR", "csrf_token": token},
        files={"file": ("penalties.csv", data, "text/csv")},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "批次回执" in response.text and "future_date" in response.text
    subject = client.get("/api/v1/subjects", params={"q": "成都𠮷祥餐饮"}).json()
    assert subject["items"][0]["name"] == "成都𠮷祥餐饮有限公司"


def test_console_refuses_other_file_types(client: TestClient, session: Session) -> None:
    token = login(client, session, role="provider")
    response = client.post(
        "/console/ingest",
        data={"item": "CF", "provider": "SCMR", "csrf_token": token},
        files={"file": ("x.exe", b"MZ", "application/octet-stream")},
    )
    assert response.status_code == 400 and "file.type" in response.text


def test_security_headers_are_set(client: TestClient) -> None:
    response = client.get("/")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


def test_a_request_whose_commit_fails_is_never_answered_with_success(platform) -> None:  # type: ignore[no-untyped-def]
    """The request's transaction commits before the response is sent (dependency scope "function")."""
    from xinyong.accounts.models import Department
    from xinyong.app import create_app

    app = create_app(platform=platform)

    @app.get("/test/commit-fails")
    def commit_fails(session: SessionDep) -> dict[str, bool]:
        session.add(Department(code="BROKEN", name=None))  # NOT NULL violated: fails only at commit
        return {"ok": True}

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/test/commit-fails")
    assert response.status_code == 500
    assert "ok" not in response.text
