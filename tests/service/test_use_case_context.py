"""The use-case context: the platform fills it for one caller, and a use case reads who acts and the services
from it (`accounts.review.submit_review` keeps the applicant's address and matches the claim with it)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import PASSWORD, PDF_BYTES, uscc
from xinyong.accounts import review, verification
from xinyong.accounts.policy import ANONYMOUS, SYSTEM
from xinyong.files import service as files
from xinyong.files.service import Upload
from xinyong.platform import Platform


def test_the_platform_fills_the_context_for_one_caller(platform: Platform) -> None:
    ctx = platform.context(ANONYMOUS, TODAY, ip="203.0.113.9")
    assert (ctx.principal, ctx.today, ctx.ip) == (ANONYMOUS, TODAY, "203.0.113.9")
    assert ctx.cipher is platform.cipher and ctx.signer is platform.signer
    assert ctx.data_dir == platform.settings.data_dir
    assert ctx.catalog.version == platform.catalog.version
    system = ctx.acting_as(SYSTEM)
    assert system.principal == SYSTEM and (system.today, system.ip, system.cipher) == (
        TODAY,
        ctx.ip,
        ctx.cipher,
    )
    assert ctx.principal == ANONYMOUS  # frozen: the original is unchanged


def test_a_use_case_takes_the_caller_s_address_and_services_from_the_context(
    session: Session, platform: Platform
) -> None:
    ctx = platform.context(ANONYMOUS, TODAY, ip="198.51.100.7")
    _, row = review.submit_review(
        session,
        ctx,
        verification.Claim("enterprise", uscc=uscc()),
        applicant="王五",
        licence=Upload("营业执照.pdf", PDF_BYTES),
        letter=Upload("授权委托书.pdf", PDF_BYTES),
        username="context-applicant",
        password=PASSWORD,
        now=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
    )
    assert row.ip == "198.51.100.7" and row.subject_id is None  # no such subject: matched through ctx.cipher
    stored = files.attachments_of(session, review.evidence_owner(row.id))
    assert [a.filename for a in stored] == ["营业执照.pdf", "授权委托书.pdf"]
    assert all(a.uploader_name == ANONYMOUS.name for a in stored)
    assert all((ctx.data_dir / "uploads" / "evidence" / a.sha256[:2] / a.sha256).exists() for a in stored)
