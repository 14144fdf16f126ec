"""A department's batch of credit reports in Chromium: upload a CSV of codes with a purpose, watch the progress
page reload itself while the serving process's worker issues the reports, read the row that failed, and
download the ZIP."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from tests.browser.test_authorizations_browser import log_in
from tests.helpers import PASSWORD, department, penalty, uscc
from xinyong.accounts import auth
from xinyong.db.session import transaction
from xinyong.platform import Platform


def test_a_desk_uploads_codes_watches_progress_and_downloads_the_zip(
    page: Any, portal_platform: Platform, ingest_rows: Any, tmp_path: Path, artifacts: Path
) -> None:
    first, second = uscc(), uscc()
    ingest_rows(
        [
            penalty(CF_XDR_SHXYM=first, CF_XDR_MC="成都批量报告甲有限公司"),
            penalty(CF_XDR_SHXYM=second, CF_XDR_MC="成都批量报告乙有限公司"),
        ]
    )
    with transaction(portal_platform.sessions) as session:
        department(session, "SCFGW", "四川省发展和改革委员会")
        auth.create_user(
            session, username="b-batch", password=PASSWORD, role="reviewer", department_code="SCFGW"
        )
    codes = tmp_path / "codes.csv"
    codes.write_text(f"统一社会信用代码\n{first}\n{second}\n91510000NOSUCH0001\n", encoding="utf-8")

    log_in(page, "b-batch")
    page.goto("/console")
    page.click("nav.section-nav a[href='/console/reports']")
    page.set_input_files("input[name=file]", str(codes))
    page.fill("input[name=purpose]", "招标资格审查")
    page.click("form[action='/console/reports/batches'] button[type=submit]")
    page.wait_for_url("**/console/reports/batches/*")
    # The page reloads itself (meta refresh) until the worker is done.
    page.locator("#batch-status", has_text="已完成").wait_for(timeout=90_000)
    assert page.locator("#batch-progress").inner_text() == "3 / 3"
    failures = page.locator("#batch-failures").inner_text()
    assert "91510000NOSUCH0001" in failures and "4" in failures
    page.screenshot(path=str(artifacts / "report-batch.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#batch-download")
    with zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes())) as archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".pdf"))
    assert [n.split("-")[0] for n in names] == sorted([first, second])
    page.goto("/console/reports")
    assert "已完成" in page.locator("#batches").inner_text()
