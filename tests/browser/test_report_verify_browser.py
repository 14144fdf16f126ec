"""The report verification page in Chromium: upload the PDF a subject was given and read the verdict; a copy
with one byte changed is refused; the number and code printed on the report verify it too."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.browser.conftest import TODAY
from tests.helpers import penalty, uscc
from xinyong.accounts.policy import SYSTEM
from xinyong.db.session import transaction
from xinyong.platform import Platform
from xinyong.reports import service
from xinyong.subjects import service as subjects


def test_the_verify_page_checks_an_uploaded_pdf_and_a_number_with_its_code(
    page: Any, portal_platform: Platform, ingest_rows: Any, tmp_path: Path, artifacts: Path
) -> None:
    code = uscc()
    ingest_rows([penalty(CF_XDR_SHXYM=code, CF_XDR_MC="成都浏览器核验有限公司")])
    context = service.report_context(
        portal_platform.settings, portal_platform.catalog, portal_platform.signer
    )

    def issue() -> tuple[str, str, bytes]:
        with transaction(portal_platform.sessions) as session:
            subject = subjects.get_by_uscc(session, code)
            report = service.issue(
                session,
                context,
                SYSTEM,
                subject_id=subject.id,
                kind="standard",
                today=TODAY,
                purpose="浏览器测试",
            )
            return report.number, report.verification_code, service.read_pdf(context.data_dir, report)

    # pyHanko signs in an event loop of its own, and Playwright's runs in this thread.
    with ThreadPoolExecutor(1) as pool:
        number, secret, pdf = pool.submit(issue).result()
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(pdf)
    changed = bytearray(pdf)
    changed[len(changed) // 2] ^= 0x01
    bad.write_bytes(bytes(changed))

    page.goto("/reports/verify")
    page.set_input_files("input[name=file]", str(good))
    page.click("button[type=submit]")
    verdict = page.locator("#verdict")
    assert "核验通过" in verdict.inner_text() and "成都浏览器核验有限公司" in verdict.inner_text()
    page.screenshot(path=str(artifacts / "report-verify.png"), full_page=True)

    page.goto("/reports/verify")
    page.set_input_files("input[name=file]", str(bad))
    page.click("button[type=submit]")
    assert "核验未通过" in page.locator("#verdict").inner_text()

    page.goto(f"/reports/verify?number={number}")
    assert page.input_value("input[name=number]") == number
    page.fill("input[name=code]", secret)
    page.click("button[type=submit]")
    assert "核验通过" in page.locator("#verdict").inner_text()
