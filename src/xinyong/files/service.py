"""Storing and reading evidence files. Content-addressed on disk (``uploads/ab/abcdef…``), so a file sent
twice is stored once; the type is checked from the file's first bytes, not from what the browser claims."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.files.models import Attachment
from xinyong.kit.errors import NotFound, PayloadTooLarge, ValidationFailed


class Uploader(Protocol):
    """Who uploads a file, as the file remembers it (an `accounts.policy.Principal` is one): files know no
    accounts."""

    @property
    def user_id(self) -> int | None: ...

    @property
    def name(self) -> str: ...


MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_FILES = 10
# (magic prefix, content type): PDF, OFD (a zip container, accepted only under its own extension), JPEG, PNG.
_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/ofd"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


@dataclass(frozen=True)
class Upload:
    """A file as received (from a form or the API), before it is checked and stored."""

    filename: str
    content: bytes


def sniff(content: bytes, filename: str) -> str:
    """The content type from the file's signature; refuse anything else (executables, HTML, scripts)."""
    for magic, content_type in _SIGNATURES:
        if content.startswith(magic):
            if content_type == "application/ofd" and not filename.lower().endswith(".ofd"):
                break
            return content_type
    raise ValidationFailed(
        f"文件“{filename}”不是允许的格式：请上传 PDF、OFD、JPG 或 PNG 文件", code="file.type_not_allowed"
    )


def _clean_name(filename: str) -> str:
    name = Path(filename.replace("\\", "/")).name.strip() or "file"
    return "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')[:200] or "file"


def store(
    session: Session,
    data_dir: Path,
    principal: Uploader,
    *,
    owner: str,
    filename: str,
    content: bytes,
) -> Attachment:
    """Keep one uploaded file for ``owner`` (e.g. ``repair:12``)."""
    name = _clean_name(filename)
    if not content:
        raise ValidationFailed(f"文件“{name}”为空", code="file.empty")
    if len(content) > MAX_FILE_BYTES:
        raise PayloadTooLarge(
            f"文件“{name}”超过{MAX_FILE_BYTES // (1024 * 1024)}MB上限", code="file.too_large"
        )
    count = len(attachments_of(session, owner))
    if count >= MAX_FILES:
        raise ValidationFailed(f"每件最多上传{MAX_FILES}个文件", code="file.too_many")
    content_type = sniff(content, name)
    digest = hashlib.sha256(content).hexdigest()
    path = _path(data_dir, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(content)
        tmp.replace(path)
    attachment = Attachment(
        owner=owner,
        filename=name,
        content_type=content_type,
        size=len(content),
        sha256=digest,
        uploaded_by=principal.user_id,
        uploader_name=principal.name,
    )
    session.add(attachment)
    session.flush()
    return attachment


def _path(data_dir: Path, digest: str) -> Path:
    return data_dir / "uploads" / "evidence" / digest[:2] / digest


def attachments_of(session: Session, owner: str) -> Sequence[Attachment]:
    return session.scalars(select(Attachment).where(Attachment.owner == owner).order_by(Attachment.id)).all()


def get(session: Session, owner: str, attachment_id: int) -> Attachment:
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.owner != owner:
        raise NotFound("未找到该文件", code="file.not_found")
    return attachment


def read(data_dir: Path, attachment: Attachment) -> bytes:
    path = _path(data_dir, attachment.sha256)
    if not path.is_file():
        raise NotFound("文件已不在存储中", code="file.missing")
    return path.read_bytes()
