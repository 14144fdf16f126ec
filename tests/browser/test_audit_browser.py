"""An auditor narrows the trail in a real browser (actor, action by its Chinese name, China-time dates), pages
through it and downloads the filtered set as CSV; the download is on the trail too."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from tests.browser.watch import ConsoleWatch
from tests.helpers import PASSWORD
from xinyong.accounts import auth
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.audit.models import AuditEntry
from xinyong.db.session import transaction
from xinyong.platform import Platform

pytestmark = pytest.mark.browser

CLERK = Principal(kind="user", name="browser-clerk", role="provider")


@pytest.fixture(scope="module")
def trail(portal_platform: Platform) -> list[int]:
    """Sixty content edits by one clerk on 2026-12-07 (China time), other entries around them, an auditor."""
    with transaction(portal_platform.sessions) as session:
        edits = audit.record_many(session, [audit.Draft(CLERK, "content.update") for _ in range(60)])
        others = audit.record_many(session, [audit.Draft(CLERK, "measures.publish") for _ in range(5)])
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.id.in_(edits))
            .values(at=dt.datetime(2026, 12, 6, 16, 30, tzinfo=dt.UTC))  # 2026-12-07 00:30 in China
        )
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.id.in_(others))
            .values(at=dt.datetime(2026, 12, 6, 15, 30, tzinfo=dt.UTC))  # still the 6th in China
        )
        auth.create_user(session, username="browser-auditor", password=PASSWORD, role="auditor")
    return edits


def test_an_auditor_filters_pages_and_exports_the_trail(
    page: Any, trail: list[int], portal_platform: Platform, artifacts: Path
) -> None:
    watch = ConsoleWatch.attach(page)
    page.goto("/login?next=/console/audit")
    page.fill("input[name=username]", "browser-auditor")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/console/audit$"))

    form = page.locator("form[action='/console/audit']")
    form.locator("input[name=actor]").fill("browser-clerk")
    form.locator("select[name=action]").select_option(label="修改文章")
    form.locator("input[name=date_from]").fill("2026-12-07")
    form.locator("input[name=date_to]").fill("2026-12-07")
    form.locator("button[type=submit]").click()

    expect(page.locator("#audit-total")).to_have_text("共 60 条")
    rows = page.locator("#audit-entries tbody tr")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text("修改文章")
    expect(rows.first).to_contain_text("2026年12月7日 00:30:00")
    page.screenshot(path=str(artifacts / "audit-filtered.png"), full_page=True)

    page.get_by_role("link", name="下一页").click()
    expect(page.locator("#audit-entries tbody tr")).to_have_count(10)
    expect(page.locator("nav.pager")).to_contain_text("第 2 / 2 页")
    shown = {int(cell) for cell in page.locator("#audit-entries tbody tr td:first-child").all_inner_texts()}
    assert shown == set(sorted(trail, reverse=True)[50:])

    with page.expect_download() as download_info:
        page.get_by_role("link", name="导出 CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("审计日志-") and download.suggested_filename.endswith(
        ".csv"
    )
    text = Path(download.path()).read_bytes().decode("utf-8")
    assert text.startswith("\ufeff")
    exported = list(csv.reader(io.StringIO(text[1:])))
    assert sorted(int(r[0]) for r in exported[1:]) == sorted(trail)
    assert watch.csp_violations == [] and watch.script_errors == []

    with portal_platform.sessions() as session:
        export = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "audit.export", AuditEntry.actor == "browser-auditor"
            )
        ).one()
    assert export.details is not None
    assert export.details["filter"] == {
        "actor": "browser-clerk",
        "action": "content.update",
        "since": "2026-12-06T16:00:00+00:00",
        "until": "2026-12-07T16:00:00+00:00",
    }
