"""Opening and verifying subject accounts with proof that public data cannot give.

A USCC, a legal representative's name, a person's name — anyone can read or guess them. An account is bound
to its subject only by one of:

- **code**: a one-time code sent through the gateway to the contact the registration authority holds for the
  subject (`subject_contacts`): random, valid ten minutes, five tries, kept as a keyed hash;
- **oidc**: a login at the province's unified identity platform whose validated ID token names the subject;
- **review**: a request with the business licence (or ID document) and an authorisation letter, decided by
  the credit office (`accounts.review`).

The browser holds a random ticket (a cookie); the database keeps its hash. Starting a code answers alike
whatever the claim matched, so nobody learns from it whether a person has a file or an account; the username
is chosen only after the proof, so nobody learns from registration which usernames exist. Registration never
creates a subject. Until verified a subject account sees what the public sees (`auth.principal_for_user`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from xinyong.accounts import auth, messaging
from xinyong.accounts.messaging import Message, MessageGateway
from xinyong.accounts.models import AccountVerification, OutboxMessage, User
from xinyong.accounts.oidc import Identity
from xinyong.accounts.policy import Principal
from xinyong.kit.crypto import PersonalIdCipher
from xinyong.kit.errors import Forbidden, NotFound, ValidationFailed
from xinyong.kit.identifiers import IdentifierError, mask_resident_id, validate_resident_id, validate_uscc
from xinyong.kit.names import normalize_name
from xinyong.subjects import service as subjects

CODE_TTL = dt.timedelta(minutes=10)
CODE_ATTEMPTS = 5
CODES_PER_SUBJECT_PER_HOUR = 5  # a stranger cannot flood the subject's phone
OIDC_TTL = dt.timedelta(minutes=10)
PROVEN_TTL = dt.timedelta(minutes=30)  # to choose a username and password once proven
UNPROVEN_KEPT = dt.timedelta(days=30)  # attempts that proved nothing, kept a while for the audit of abuse
OUTBOX_KEPT = dt.timedelta(days=7)  # outbox messages hold codes in clear: kept only for the operator to read
INVALID_CODE = "验证码错误或已失效，请重新获取"
CHOOSE_KINDS = ("enterprise", "person")


@dataclass(frozen=True, slots=True)
class Claim:
    """Who the requester says they are: an enterprise's USCC, or a person's resident ID and name."""

    kind: str  # enterprise, person
    uscc: str | None = None
    resident_id: str | None = None
    person_name: str | None = None

    @property
    def shown_code(self) -> str | None:
        """What may be kept and shown of the identifier: the USCC, or the resident ID masked."""
        return self.uscc or (mask_resident_id(self.resident_id) if self.resident_id else None)


@dataclass(frozen=True, slots=True)
class Started:
    ticket: str
    verification: AccountVerification
    sent_to: str | None  # masked contact, told for enterprises only (whose existence is public anyway)
    contact_missing: bool = False  # an enterprise with no registered contact (or none known): use review


def parse_claim(
    kind: str, *, uscc: str = "", resident_id: str = "", person_name: str = "", today: dt.date
) -> Claim:
    """Check the claim's form (check digits, dates: arithmetic anyone can do, so no oracle)."""
    try:
        if kind == "enterprise":
            if not uscc.strip():
                raise ValidationFailed("请填写统一社会信用代码", code="register.missing")
            return Claim(kind=kind, uscc=validate_uscc(uscc))
        if kind == "person":
            if not resident_id.strip() or not person_name.strip():
                raise ValidationFailed("请填写公民身份号码和姓名", code="register.missing")
            info = validate_resident_id(resident_id, today=today)
            return Claim(kind=kind, resident_id=info.number, person_name=person_name.strip()[:50])
    except IdentifierError as exc:
        raise ValidationFailed(exc.message, code=exc.code) from None
    raise ValidationFailed("主体类型应为企业或自然人", code="register.kind")


def match(session: Session, cipher: PersonalIdCipher, claim: Claim) -> int | None:
    """The subject the claim names, or None. Never creates one."""
    if claim.uscc:
        subject = subjects.find_by_uscc(session, claim.uscc)
        return subject.id if subject is not None and subject.kind != "natural_person" else None
    if claim.resident_id:
        person = subjects.find_person(session, cipher.hash(claim.resident_id))
        if person is None or normalize_name(person.name) != normalize_name(claim.person_name or ""):
            return None
        return person.id
    return None


def ticket_hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def _code_hash(cipher: PersonalIdCipher, ticket: str, code: str) -> str:
    return cipher.hash(f"account-activation:{ticket}:{code}")


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def by_ticket(session: Session, ticket: str | None, method: str | None = None) -> AccountVerification:
    row = (
        session.scalar(
            select(AccountVerification).where(AccountVerification.ticket_hash == ticket_hash(ticket))
        )
        if ticket and len(ticket) <= 100
        else None
    )
    if row is None or (method is not None and row.method != method):
        raise NotFound("核验已失效，请重新开始", code="verify.ticket")
    return row


def unverified_user_of(session: Session, principal: Principal) -> User | None:
    """The principal's own subject account when it is still unverified (it may verify itself)."""
    if principal.kind != "user" or principal.role != "subject" or principal.user_id is None:
        return None
    user = session.get(User, principal.user_id)
    return user if user is not None and user.verified_at is None else None


def start_code(
    session: Session,
    gateway: MessageGateway,
    cipher: PersonalIdCipher,
    claim: Claim,
    *,
    user_id: int | None = None,
    ip: str | None = None,
    now: dt.datetime | None = None,
) -> Started:
    """Send a one-time code to the subject's registered contact, if the claim names a subject that has one.

    The answer (a ticket) is the same when it does not: the code then never arrives and every try fails.
    """
    now = now or dt.datetime.now(dt.UTC)
    subject_id = match(session, cipher, claim)
    contact = messaging.contact_of(session, subject_id) if subject_id is not None else None
    ticket = secrets.token_urlsafe(32)
    row = AccountVerification(
        ticket_hash=ticket_hash(ticket),
        method="code",
        subject_kind=claim.kind,
        subject_id=subject_id if contact is not None else None,
        user_id=user_id,
        claimed_code=claim.shown_code,
        claimed_name=claim.person_name,
        attempts=0,
        status="pending",
        expires_at=now + CODE_TTL,
        ip=ip,
    )
    session.add(row)
    sent_to = None
    if contact is not None and subject_id is not None:
        recent = session.scalar(
            select(func.count(AccountVerification.id)).where(
                AccountVerification.subject_id == subject_id,
                AccountVerification.method == "code",
                AccountVerification.created_at > now - dt.timedelta(hours=1),
            )
        )
        if int(recent or 0) >= CODES_PER_SUBJECT_PER_HOUR:
            row.subject_id = None  # no more messages this hour; this ticket fails like any other
            if claim.kind == "enterprise":
                raise ValidationFailed("验证码发送过于频繁，请一小时后再试", code="verify.too_many_codes")
        else:
            code = f"{secrets.randbelow(1_000_000):06d}"
            row.secret_hash = _code_hash(cipher, ticket, code)
            gateway.send(
                session,
                Message(
                    channel=contact.channel,
                    address=contact.address,
                    purpose="account.activation",
                    body=(
                        f"【信用平台】您的主体账号验证码为 {code}，{CODE_TTL.seconds // 60}分钟内有效。"
                        "请勿告诉他人；如非本人操作，请忽略本消息。"
                    ),
                ),
            )
            if claim.kind == "enterprise":
                sent_to = messaging.mask_contact(contact.channel, contact.address)
    session.flush()
    return Started(
        ticket=ticket,
        verification=row,
        sent_to=sent_to,
        contact_missing=claim.kind == "enterprise" and contact is None,
    )


def check_code(
    session: Session,
    cipher: PersonalIdCipher,
    ticket: str | None,
    code: str,
    *,
    now: dt.datetime | None = None,
) -> AccountVerification:
    """Prove the ticket with the code sent. A wrong code counts (the caller commits even when this raises)."""
    now = now or dt.datetime.now(dt.UTC)
    row = by_ticket(session, ticket, "code")
    if row.status == "proven" and _aware(row.expires_at) > now:
        return row
    if row.status != "pending" or _aware(row.expires_at) <= now or row.attempts >= CODE_ATTEMPTS:
        raise ValidationFailed(INVALID_CODE, code="verify.code_invalid")
    row.attempts += 1
    code = code.strip()[:12]
    if row.secret_hash is None or not hmac.compare_digest(
        row.secret_hash, _code_hash(cipher, ticket or "", code)
    ):
        session.flush()
        left = CODE_ATTEMPTS - row.attempts
        raise ValidationFailed(
            f"{INVALID_CODE}（还可尝试{left}次）" if left else INVALID_CODE, code="verify.code_invalid"
        )
    _prove(row, now)
    session.flush()
    return row


def _prove(row: AccountVerification, now: dt.datetime) -> None:
    row.status = "proven"
    row.proven_at = now
    row.expires_at = now + PROVEN_TTL
    row.secret_hash = None


def start_oidc(
    session: Session, *, user_id: int | None = None, ip: str | None = None, now: dt.datetime | None = None
) -> tuple[str, str, str]:
    """Open an identity-platform login: returns the ticket (for the browser's cookie), state and nonce."""
    now = now or dt.datetime.now(dt.UTC)
    ticket, state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    session.add(
        AccountVerification(
            ticket_hash=ticket_hash(ticket),
            method="oidc",
            subject_kind="unknown",
            user_id=user_id,
            secret_hash=ticket_hash(state),
            nonce=nonce,
            attempts=0,
            status="pending",
            expires_at=now + OIDC_TTL,
            ip=ip,
        )
    )
    session.flush()
    return ticket, state, nonce


def oidc_login(session: Session, ticket: str | None, state: str) -> AccountVerification:
    """The pending login this browser started, if the state the platform sent back is its own.

    Binding the state to the browser's ticket stops a login begun elsewhere from being completed here.
    """
    row = by_ticket(session, ticket, "oidc")
    if (
        row.status != "pending"
        or row.secret_hash is None
        or not hmac.compare_digest(row.secret_hash, ticket_hash(state[:100]))
    ):
        raise Forbidden("登录状态不匹配，请重新开始", code="oidc.state")
    return row


def finish_oidc(
    session: Session,
    cipher: PersonalIdCipher,
    row: AccountVerification,
    identity: Identity,
    *,
    today: dt.date,
    now: dt.datetime | None = None,
) -> AccountVerification:
    """Bind the login to the subject its validated ID token names (a subject with a credit file)."""
    now = now or dt.datetime.now(dt.UTC)
    if _aware(row.expires_at) <= now:
        raise ValidationFailed("登录已超时，请重新开始", code="oidc.expired")
    row.secret_hash = None  # the state is spent
    try:
        if identity.uscc:
            claim = Claim(kind="enterprise", uscc=validate_uscc(identity.uscc))
            subject = subjects.find_by_uscc(session, claim.uscc or "")
            subject_id = subject.id if subject is not None and subject.kind != "natural_person" else None
        else:
            number = validate_resident_id(identity.resident_id or "", today=today).number
            claim = Claim(kind="person", resident_id=number, person_name=identity.name)
            person = subjects.find_person(session, cipher.hash(number))
            subject_id = person.id if person is not None else None
    except IdentifierError:
        row.status = "refused"
        raise ValidationFailed("身份令牌中的证件号码无效", code="oidc.invalid_identifier") from None
    row.subject_kind = claim.kind
    row.claimed_code = claim.shown_code
    row.claimed_name = claim.person_name
    if subject_id is None:
        row.status = "refused"
        row.reason = "no credit file"
        session.flush()
        raise NotFound(
            "已通过统一身份认证，但本平台尚无该主体的信用档案，暂无需开通账号", code="oidc.no_subject"
        )
    row.subject_id = subject_id
    _prove(row, now)
    session.flush()
    return row


def _verified_account(session: Session, subject_id: int) -> int | None:
    return session.scalar(
        select(User.id).where(
            User.subject_id == subject_id, User.role == "subject", User.verified_at.is_not(None)
        )
    )


def bind(
    session: Session,
    row: AccountVerification,
    user: User | None,
    *,
    username: str,
    password: str | None,
    password_hash: str | None,
    now: dt.datetime,
) -> User:
    assert row.subject_id is not None
    if _verified_account(session, row.subject_id) is not None:
        raise ValidationFailed("该主体已开通并核验账号，如遗失请联系信用办", code="register.exists")
    if user is not None:
        user.subject_id = row.subject_id
        user.verified_at = now
        user.verification_method = row.method
    else:
        user = auth.create_user(
            session,
            username=username,
            password=password or "",
            password_hash=password_hash,
            role="subject",
            subject_id=row.subject_id,
            verification_method=row.method,
        )
    row.user_id = user.id
    row.status = "done"
    row.password_hash = None
    session.flush()
    return user


def complete(
    session: Session,
    row: AccountVerification,
    *,
    username: str = "",
    password: str = "",
    now: dt.datetime | None = None,
) -> User:
    """Open the account (username and password chosen now), or verify the account that asked."""
    now = now or dt.datetime.now(dt.UTC)
    if row.status != "proven" or _aware(row.expires_at) <= now or row.subject_id is None:
        raise ValidationFailed("核验已失效，请重新开始", code="verify.ticket")
    user = session.get(User, row.user_id) if row.user_id is not None else None
    if user is not None and user.verified_at is not None:
        raise ValidationFailed("该账号已核验", code="verify.already")
    return bind(session, row, user, username=username, password=password, password_hash=None, now=now)


def prune(session: Session, now: dt.datetime) -> int:
    """Remove code and identity-platform attempts that proved nothing and ended long ago, and old outbox
    messages. Proven attempts and reviewed requests stay: they record how an account was verified. Idempotent
    (the daily job)."""
    attempts = session.execute(
        delete(AccountVerification).where(
            AccountVerification.method.in_(("code", "oidc")),
            AccountVerification.status.in_(("pending", "refused")),
            AccountVerification.expires_at < now - UNPROVEN_KEPT,
        )
    )
    messages = session.execute(delete(OutboxMessage).where(OutboxMessage.created_at < now - OUTBOX_KEPT))
    return int(getattr(attempts, "rowcount", 0) or 0) + int(getattr(messages, "rowcount", 0) or 0)
