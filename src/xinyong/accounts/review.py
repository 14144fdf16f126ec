"""Opening a subject account on review: a request with the business licence (or ID document) and the letter
authorising the applicant, its evidence kept as files, decided by the credit office (approved: the account is
opened, or verified, and bound to its subject; refused with reasons). The other ways to prove a subject are
in `accounts.verification`."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts import auth, verification
from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.models import AccountVerification, User
from xinyong.accounts.policy import Principal
from xinyong.accounts.verification import Claim
from xinyong.files import service as files
from xinyong.files.service import Upload
from xinyong.kit.errors import NotFound, ValidationFailed

REVIEW_TTL = dt.timedelta(days=30)


def submit_review(
    session: Session,
    ctx: UseCaseContext,
    claim: Claim,
    *,
    applicant: str,
    licence: Upload | None,
    letter: Upload | None,
    username: str = "",
    password: str = "",
    user_id: int | None = None,
    now: dt.datetime | None = None,
) -> tuple[str, AccountVerification]:
    """File a request the credit office reviews, with the business licence (or ID document) and the letter
    authorising the applicant (the context gives who files it, from where, the cipher that matches the
    claimed subject and the data directory that keeps the evidence). The username is checked only when the
    request is approved."""
    now = now or dt.datetime.now(dt.UTC)
    applicant = applicant.strip()[:100]
    if not applicant:
        raise ValidationFailed("请填写经办人姓名", code="review.applicant")
    if licence is None or letter is None:
        raise ValidationFailed("请上传营业执照（或身份证件）和授权委托书", code="review.documents")
    password_hash = None
    if user_id is None:
        username = username.strip()
        if not username or len(username) > 64:
            raise ValidationFailed("用户名不能为空且不超过64个字符", code="user.invalid")
        auth.check_password_strength(password)
        password_hash = auth.hash_password(password)
    for upload in (licence, letter):
        files.sniff(upload.content, upload.filename)
    ticket = secrets.token_urlsafe(32)
    row = AccountVerification(
        ticket_hash=verification.ticket_hash(ticket),
        method="review",
        subject_kind=claim.kind,
        subject_id=verification.match(session, ctx.cipher, claim),
        user_id=user_id,
        claimed_code=claim.shown_code,
        claimed_name=claim.person_name,
        attempts=0,
        status="pending",
        expires_at=now + REVIEW_TTL,
        username=username if user_id is None else None,
        password_hash=password_hash,
        applicant=applicant,
        ip=ctx.ip,
    )
    session.add(row)
    session.flush()
    for upload in (licence, letter):
        files.store(
            session,
            ctx.data_dir,
            ctx.principal,
            owner=evidence_owner(row.id),
            filename=upload.filename,
            content=upload.content,
        )
    return ticket, row


def evidence_owner(request_id: int) -> str:
    """The owner name a request's evidence files are kept under."""
    return f"account-request:{request_id}"


def pending_reviews(session: Session) -> Sequence[AccountVerification]:
    """The requests waiting for the credit office, oldest first."""
    return session.scalars(
        select(AccountVerification)
        .where(AccountVerification.method == "review", AccountVerification.status == "pending")
        .order_by(AccountVerification.id)
    ).all()


def get_review(session: Session, request_id: int) -> AccountVerification:
    """One request on review."""
    row = session.get(AccountVerification, request_id)
    if row is None or row.method != "review":
        raise NotFound("未找到该开通申请", code="review.not_found")
    return row


def decide_review(
    session: Session,
    principal: Principal,
    request_id: int,
    *,
    approve: bool,
    reason: str = "",
    now: dt.datetime | None = None,
) -> AccountVerification:
    """The credit office approves (the account is opened, or verified, and bound) or refuses with reasons."""
    now = now or dt.datetime.now(dt.UTC)
    row = get_review(session, request_id)
    if row.status != "pending":
        raise ValidationFailed("该申请已处理", code="review.decided")
    reason = reason.strip()[:500]
    if approve:
        if row.subject_id is None:
            raise ValidationFailed(
                "未找到申请所称的信用主体（或姓名与记录不一致），不能批准；请写明理由后不予通过",
                code="review.no_subject",
            )
        user = session.get(User, row.user_id) if row.user_id is not None else None
        verification.bind(
            session,
            row,
            user,
            username=row.username or "",
            password=None,
            password_hash=row.password_hash,
            now=now,
        )
    else:
        if not reason:
            raise ValidationFailed("不予通过须写明理由", code="review.reason")
        row.status = "refused"
        row.password_hash = None
    row.reason = reason or None
    row.decided_by = principal.user_id
    row.decided_at = now
    session.flush()
    return row
