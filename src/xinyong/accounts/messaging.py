"""Messages to a subject's registered contact (text messages, e-mail) behind one gateway interface.

A province plugs in its SMS or e-mail gateway by implementing `MessageGateway`; the outbox gateway, used in
the demo and the tests, keeps each message in `outbox_messages` for the operator to read
(`xinyong messages list`, `/console/messages` in demo mode). Contacts come from the registration authority's
register (`subject_contacts`) and are never public: the owner is shown them masked (`mask_contact`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.models import OutboxMessage, SubjectContact
from xinyong.kit.errors import ValidationFailed
from xinyong.kit.identifiers import IdentifierError, validate_uscc
from xinyong.kit.tabular import Row
from xinyong.subjects import service as subjects

CHANNELS = ("sms", "email")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class Message:
    channel: str  # sms, email
    address: str
    purpose: str  # e.g. account.activation
    body: str


class MessageGateway(Protocol):
    """Hands a message to whatever delivers it; raises a domain error when it cannot."""

    def send(self, session: Session, message: Message) -> None: ...


class OutboxGateway:
    """Keeps messages in the outbox table, in the caller's transaction (a rolled-back request sends nothing)."""

    def send(self, session: Session, message: Message) -> None:
        session.add(
            OutboxMessage(
                channel=message.channel, address=message.address, purpose=message.purpose, body=message.body
            )
        )
        session.flush()


def normalize_contact(channel: str, address: str) -> str:
    """A mobile number (11 digits, 1[3-9]…) or an e-mail address, checked; refuse anything else."""
    address = address.strip().replace(" ", "").replace("-", "")
    if channel == "sms" and _MOBILE.match(address.removeprefix("+86")):
        return address.removeprefix("+86")
    if channel == "email" and len(address) <= 200 and _EMAIL.match(address):
        return address.lower()
    raise ValidationFailed("联系方式格式不正确：请填写11位手机号码或电子邮箱", code="contact.invalid")


def mask_contact(channel: str, address: str) -> str:
    """138****5678 for a mobile number, z***@example.com for an e-mail address."""
    if channel == "sms":
        return address[:3] + "****" + address[-4:]
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def set_contact(
    session: Session, subject_id: int, channel: str, address: str, *, source: str
) -> SubjectContact:
    """Record (or replace) the contact the registration authority holds for a subject."""
    if channel not in CHANNELS:
        raise ValidationFailed("联系方式类型应为 sms 或 email", code="contact.channel")
    contact = session.get(SubjectContact, subject_id)
    if contact is None:
        contact = SubjectContact(subject_id=subject_id, channel=channel, address="", source=source)
        session.add(contact)
    contact.channel = channel
    contact.address = normalize_contact(channel, address)
    contact.source = source[:100]
    session.flush()
    return contact


USCC_COLUMNS = ("uscc", "统一社会信用代码")
PHONE_COLUMNS = ("phone", "mobile", "手机", "手机号码", "联系电话")
EMAIL_COLUMNS = ("email", "电子邮箱", "邮箱")


@dataclass(frozen=True, slots=True)
class ContactImport:
    recorded: int
    rejected: list[tuple[int, str]]  # (row number, reason)


def import_contacts(session: Session, rows: Iterable[Row], *, source: str) -> ContactImport:
    """Record the contacts of a registration authority's file (a USCC column and a mobile or e-mail column,
    in English or Chinese); a row that cannot be used is reported with its number, the others are kept."""
    recorded, rejected = 0, []
    for row in rows:
        values = {str(k).strip().lower(): str(v or "").strip() for k, v in row.values.items()}
        code = next((values[c] for c in USCC_COLUMNS if values.get(c)), "")
        phone = next((values[c] for c in PHONE_COLUMNS if values.get(c)), "")
        email = next((values[c] for c in EMAIL_COLUMNS if values.get(c)), "")
        try:
            subject = subjects.find_by_uscc(session, validate_uscc(code))
            if subject is None:
                raise ValidationFailed("未找到该统一社会信用代码的主体", code="subject.not_found")
            set_contact(session, subject.id, "sms" if phone else "email", phone or email, source=source)
        except IdentifierError as exc:
            rejected.append((row.number, exc.message))
        except ValidationFailed as exc:
            rejected.append((row.number, exc.message))
        else:
            recorded += 1
    return ContactImport(recorded=recorded, rejected=rejected)


def contact_of(session: Session, subject_id: int) -> SubjectContact | None:
    return session.get(SubjectContact, subject_id)


def outbox(
    session: Session, *, address: str | None = None, since: dt.datetime | None = None, limit: int = 50
) -> Sequence[OutboxMessage]:
    """The newest messages in the outbox, optionally to one address or since a time."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if address:
        query = query.where(OutboxMessage.address == address)
    if since is not None:
        query = query.where(OutboxMessage.created_at >= since)
    return session.scalars(query).all()
