"""Verifying a credit report: genuine (the attached JSON signed by the platform's key, the PDF signed by its
certificate over the whole file) and unchanged — offline by the keys alone, online also byte for byte the file
the platform issued under its number, or by the number and the verification code printed on it."""

from __future__ import annotations

import hashlib
import hmac
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy.orm import Session

from xinyong.kit.crypto import Signer, verify_signature
from xinyong.reports import pades, rules
from xinyong.reports.models import Report

MAX_PDF_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Verdict:
    genuine: bool
    unchanged: bool
    reason: str | None
    report_number: str | None
    summary: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "genuine": self.genuine,
            "unchanged": self.unchanged,
            "reason": self.reason,
            "report_number": self.report_number,
            "summary": self.summary,
        }


def summary(payload: dict[str, Any]) -> dict[str, Any]:
    subject = payload.get("subject") or {}
    return {
        "report_number": payload.get("number"),
        "kind": payload.get("kind"),
        "title": payload.get("title"),
        "as_of": payload.get("as_of"),
        "issued_at": payload.get("issued_at"),
        "subject_name": subject.get("name"),
        "uscc": subject.get("uscc"),
        "period": payload.get("period"),
        "fields": payload.get("fields"),
    }


def embedded_json(pdf: bytes) -> dict[str, Any] | None:
    """The signed JSON attached to a report's PDF, or None."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
        for n in range(0, len(names), 2):
            if str(names[n]) == rules.ATTACHMENT:
                data = names[n + 1]["/EF"]["/F"].data
                value = orjson.loads(data)
                return value if isinstance(value, dict) else None
    except Exception:  # anything missing or damaged in a file from anywhere
        return None
    return None


SignatureCheck = Callable[[dict[str, Any], str, str | None], bool]


def by_signer(signer: Signer) -> SignatureCheck:
    """Checks a payload's signature by the platform's keys (the signing key or a retired one)."""
    return lambda payload, signature, key: signer.signed_by(payload, signature, key) is not None


def by_public_key(public_key_b64: str) -> SignatureCheck:
    """Checks a payload's signature by one published public key (offline, anywhere)."""
    return lambda payload, signature, _key: verify_signature(public_key_b64, payload, signature)


def verify_pdf_offline(pdf: bytes, signed: SignatureCheck, certificate: pades.Certificate) -> Verdict:
    """Genuine and unchanged by the keys alone (no database): the PDF's PAdES signature by the platform's
    certificate over the whole file, and the attached JSON's Ed25519 signature."""
    if len(pdf) > MAX_PDF_BYTES:
        return Verdict(False, False, "文件过大", None, None)
    problem = pades.check_pdf(pdf, certificate)
    attached = embedded_json(pdf)
    if attached is None:
        return Verdict(False, False, problem or "PDF 未携带报告数据", None, None)
    payload, signature, key = attached.get("payload"), attached.get("signature"), attached.get("key_id")
    if not isinstance(payload, dict) or not isinstance(signature, str):
        return Verdict(False, False, "报告数据不完整", None, None)
    try:
        genuine = signed(payload, signature, key if isinstance(key, str) else None)
    except ValueError:  # a key that is not base64 or not a key
        genuine = False
    number = payload.get("number") if isinstance(payload.get("number"), str) else None
    if not genuine:
        return Verdict(False, False, "报告数据签名无效", number, None)
    if problem:
        return Verdict(True, False, problem, number, summary(payload))
    return Verdict(True, True, None, number, summary(payload))


def verify_pdf(session: Session, pdf: bytes, signer: Signer, certificate: pades.Certificate) -> Verdict:
    """As offline, and the file is byte for byte the one the platform issued under its number."""
    verdict = verify_pdf_offline(pdf, by_signer(signer), certificate)
    if not verdict.unchanged or verdict.report_number is None:
        return verdict
    report = session.get(Report, verdict.report_number[:24])
    if report is None or not hmac.compare_digest(report.sha256, hashlib.sha256(pdf).hexdigest()):
        return Verdict(
            verdict.genuine, False, "与平台出具的文件不一致", verdict.report_number, verdict.summary
        )
    return verdict


def verify_code(session: Session, number: str, code: str) -> Verdict:
    """A report by its number and the verification code printed on it: its summary and the PDF's SHA-256."""
    report = session.get(Report, number.strip()[:24])
    if report is None or not hmac.compare_digest(report.verification_code, code.strip().upper()[:16]):
        return Verdict(False, False, "报告编号或验证码不正确", None, None)
    return Verdict(True, True, None, report.number, summary(report.payload) | {"sha256": report.sha256})
