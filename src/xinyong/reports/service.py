"""Issuing credit reports: the issuer's right to the report → gather (`content`: the credit file as the
issuer may see it) → freeze the content as canonical JSON → sign it (Ed25519) → render the PDF (QR code, number,
verification code, the signed JSON attached) → sign the PDF (PAdES) → store it content-addressed under the data
directory; and reading them back, for their subject or their issuer only (`verification` checks a file)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import segno
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.policy import Principal, allows
from xinyong.audit import service as audit
from xinyong.authorizations import rules as authorization_rules
from xinyong.authorizations import service as authorizations
from xinyong.catalog.schemas import Catalog
from xinyong.config import Settings
from xinyong.creditfile import service as credit_files
from xinyong.kit.crypto import Signer
from xinyong.kit.dates import CHINA, format_china_date
from xinyong.kit.errors import Forbidden, NotFound, ValidationFailed
from xinyong.kit.identifiers import mask_ids
from xinyong.kit.pdf import html_to_pdf
from xinyong.reports import content, pades, rules
from xinyong.reports.models import Report
from xinyong.subjects import service as subjects
from xinyong.subjects.models import Subject


@dataclass(frozen=True, slots=True)
class ReportContext:
    """What issuing needs besides the session: keys, certificate, catalog, where to store, the public URL."""

    catalog: Catalog
    signer: Signer
    certificate: pades.Certificate
    data_dir: Path
    public_url: str


@functools.cache
def _certificate(data_dir: Path, cert: Path | None, key: Path | None) -> pades.Certificate:
    return pades.load_certificate(data_dir, cert, key)


def certificate(settings: Settings) -> pades.Certificate:
    """The certificate that signs report PDFs: configured, or the demo one in the data directory."""
    return _certificate(settings.data_dir, settings.report_certificate, settings.report_certificate_key)


def report_context(settings: Settings, catalog: Catalog, signer: Signer) -> ReportContext:
    return ReportContext(
        catalog=catalog,
        signer=signer,
        certificate=certificate(settings),
        data_dir=settings.data_dir,
        public_url=settings.public_url,
    )


def verify_url(public_url: str, number: str) -> str:
    return f"{public_url.rstrip('/')}/reports/verify?number={number}"


def pdf_path(data_dir: Path, sha256: str) -> Path:
    return data_dir / "reports" / sha256[:2] / f"{sha256}.pdf"


def _may_issue(principal: Principal, subject: Subject, purpose: str | None, authorized: bool = False) -> str:
    """Whose report this is: the subject's own account (free, any time), an organisation the subject
    authorised to obtain it (`authorized`), or a government user with a purpose."""
    if principal.subject_id is not None and principal.subject_id == subject.id:
        return "own"
    if subject.kind == "natural_person":
        raise Forbidden("个人信用报告仅向本人出具", code="reports.personal_only")
    if authorized:
        return "authorized"
    if allows(principal, "subjects:read_nonpublic"):
        if not (purpose and purpose.strip()):
            raise ValidationFailed("出具他人信用报告须说明查询事由", code="reports.purpose_required")
        return "government"
    raise Forbidden("只有主体本人或说明事由的政府部门可以出具信用报告", code="reports.forbidden")


def issue(
    session: Session,
    context: ReportContext,
    principal: Principal,
    *,
    subject_id: int,
    kind: str,
    today: dt.date,
    period: tuple[dt.date, dt.date] | None = None,
    fields: Sequence[str] = (),
    purpose: str | None = None,
    ip: str | None = None,
    now: dt.datetime | None = None,
) -> Report:
    """Issue a report: gather, freeze, sign, render, sign the PDF, store it; audited and logged."""
    subject = subjects.get(session, subject_id)
    granted = authorizations.check(session, principal, subject_id, authorization_rules.REPORTS_ISSUE, today)
    view = _may_issue(principal, subject, purpose, granted is not None)
    reading = authorizations.reading(session, granted) if granted is not None else {}
    if granted is not None:
        purpose = str(reading.pop("purpose"))  # the authorisation's purpose, shown to the subject
    spec = content.special_spec()
    if kind == "special":
        if not fields:
            raise ValidationFailed("专项信用报告须选择至少一个领域", code="reports.fields_required")
        unknown = [f for f in fields if spec.field(f) is None]
        if unknown:
            raise ValidationFailed(f"未知领域：{', '.join(unknown)[:200]}", code="reports.unknown_field")
        period = period or (today - dt.timedelta(days=365 * 3), today)  # default: the last three years
        problem = rules.check_period(period[0], period[1], today)
        if problem:
            raise ValidationFailed(problem, code="reports.period")
    elif kind != "standard":
        raise ValidationFailed("报告类型只能是 standard 或 special", code="reports.kind")
    found = credit_files.credit_file(
        session,
        context.catalog,
        principal,
        subject_id,
        today,
        purpose=purpose or "出具信用报告",
        ip=ip,
        use=authorization_rules.REPORTS_ISSUE,
    )
    number = rules.report_number(today, secrets.randbelow(100_000_000))
    code = rules.verification_code(secrets.token_bytes(8))
    payload: dict[str, Any] = {
        "format": rules.REPORT_FORMAT,
        "number": number,
        "kind": kind,
        "title": rules.report_title(kind, subject.kind),
        "issuer": content.ISSUER,
        "as_of": today.isoformat(),
        "issued_at": (now or dt.datetime.now(dt.UTC)).astimezone(CHINA).isoformat(timespec="seconds"),
        "subject": content.subject_block(subject),
        "verification_code": code,
        "verify_url": verify_url(context.public_url, number),
    }
    payload |= content.body(
        session,
        context.catalog,
        principal,
        subject,
        found,
        kind=kind,
        today=today,
        period=period,
        fields=fields,
        authorized=granted is not None,
    )
    signature = context.signer.sign(payload)
    pdf = render_pdf(payload, signature, context.signer.key_id, context.certificate)
    digest = hashlib.sha256(pdf).hexdigest()
    target = pdf_path(context.data_dir, digest)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(pdf)
    report = Report(
        number=number,
        kind=kind,
        subject_id=subject_id,
        as_of=today,
        period_from=period[0] if period else None,
        period_to=period[1] if period else None,
        fields=list(fields),
        issued_by=principal.name,
        department_code=principal.department_code,
        purpose=mask_ids((purpose or "").strip())[:200] or None,  # shown to the subject
        verification_code=code,
        payload=payload,
        signature=signature,
        key_id=context.signer.key_id,
        sha256=digest,
    )
    session.add(report)
    audit.record(
        session,
        principal,
        "report.issue",
        subject_id=subject_id,
        target=number,
        purpose=report.purpose or ("本人下载" if view == "own" else None),
        ip=ip,
        details={"kind": kind, "sha256": digest, **reading},
    )
    session.flush()
    return report


@functools.cache
def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("xinyong.reports", "templates"), autoescape=select_autoescape(default=True)
    )
    env.filters["cn_date"] = lambda iso: format_china_date(dt.date.fromisoformat(iso)) if iso else "—"
    return env


def _qr_svg(url: str) -> str:
    qr = segno.make(url, error="m")
    return qr.svg_inline(scale=3, border=2)


@functools.cache
def report_css() -> str:
    """The report's fixed stylesheet (`templates/reports/report.css`); the template keeps the page boxes."""
    return (
        resources.files("xinyong.reports")
        .joinpath("templates/reports/report.css")
        .read_text(encoding="utf-8")
    )


def render_html(payload: dict[str, Any]) -> str:
    return (
        _templates()
        .get_template("reports/report.html")
        .render(report=payload, qr=_qr_svg(payload["verify_url"]), empty=rules.EMPTY, repaired=rules.REPAIRED)
    )


def render_pdf(payload: dict[str, Any], signature: str, key_id: str, certificate: pades.Certificate) -> bytes:
    """The report's PDF: the HTML rendered (PDF/A-3b, the signed JSON attached), then signed (PAdES)."""
    signed = orjson.dumps(
        {"payload": payload, "signature": signature, "key_id": key_id}, option=orjson.OPT_SORT_KEYS
    )
    pdf = html_to_pdf(
        render_html(payload),
        base_url="http://report.invalid/",
        folders={},
        attachments={rules.ATTACHMENT: signed},
        variant="pdf/a-3b",
        stylesheets=[report_css()],
    )
    return pades.sign_pdf(
        pdf, certificate, reason=f"{payload['title']} {payload['number']}", location=content.ISSUER
    )


def get(session: Session, number: str) -> Report:
    report = session.get(Report, number[:24])
    if report is None:
        raise NotFound("报告不存在", code="reports.not_found")
    return report


def get_for(session: Session, principal: Principal, number: str, today: dt.date | None = None) -> Report:
    """A report for its subject or whoever issued it — an agency or a bank only while the subject's
    authorisation to obtain its reports holds on `today`; anyone else is told it does not exist."""
    report = get(session, number)
    own = principal.subject_id is not None and principal.subject_id == report.subject_id
    issuer = (
        not principal.is_anonymous
        and principal.name == report.issued_by
        and (principal.department_code == report.department_code)
    )
    if issuer and principal.organization_id is not None:  # nothing after revocation or expiry
        issuer = today is not None and (
            authorizations.check(
                session, principal, report.subject_id, authorization_rules.REPORTS_ISSUE, today
            )
            is not None
        )
    if not (own or issuer):
        raise NotFound("报告不存在", code="reports.not_found")
    return report


def read_pdf(data_dir: Path, report: Report) -> bytes:
    return pdf_path(data_dir, report.sha256).read_bytes()


def of_subject(session: Session, subject_id: int, limit: int = 50) -> Sequence[Report]:
    return session.scalars(
        select(Report).where(Report.subject_id == subject_id).order_by(Report.issued_at.desc()).limit(limit)
    ).all()
