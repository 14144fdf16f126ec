"""Messages to a subject's registered contact (text messages, e-mail) behind one gateway interface.

A province plugs in its SMS or e-mail gateway by implementing `MessageGateway`; the outbox gateway, used in
the demo and the tests, keeps each message in `outbox_messages` for the operator to read
(`xinyong messages list`, `/console/messages` in demo mode). Contacts come from the registration authority's
register (`subject_contacts`) and are never public: the owner is shown them masked (`mask_contact`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.models import OutboxMessage, SubjectContact
from xinyong.kit.errors import ValidationFailed

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
