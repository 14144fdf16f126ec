"""Issuing and verifying credit reports: gather (the credit file as the issuer may see it) → freeze the
content as canonical JSON → sign it (Ed25519) → render the PDF (QR code, number, verification code, the
signed JSON attached) → sign the PDF (PAdES) → store it content-addressed under the data directory."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import io
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import segno
import yaml
from jinja2 import Environment, PackageLoader, select_autoescape
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.models import Department
from xinyong.accounts.policy import Principal, allows
from xinyong.audit import service as audit
from xinyong.authorizations import rules as authorization_rules
from xinyong.authorizations import service as authorizations
from xinyong.catalog.schemas import Catalog, SharingClass
from xinyong.commitments import service as commitments
from xinyong.config import Settings
from xinyong.creditfile import service as credit_files
from xinyong.evaluation import service as evaluation
from xinyong.kit.crypto import Signer, verify_signature
from xinyong.kit.dates import CHINA, format_china_date
from xinyong.kit.errors import Forbidden, NotFound, ValidationFailed
from xinyong.kit.identifiers import mask_ids
from xinyong.kit.pdf import html_to_pdf
from xinyong.reports import pades, rules
from xinyong.reports.models import Report
from xinyong.reports.schemas import SpecialSpec
from xinyong.subjects import service as subjects
from xinyong.subjects.models import Subject

ISSUER = "xinyong 公共信用信息平台"
GRADE_MODEL = "public_comprehensive"  # the grade a standard report shows under 信用评价 (organisations)
ATTACHMENT = "report.json"
MAX_PDF_BYTES = 20 * 1024 * 1024


@functools.cache
def special_spec() -> SpecialSpec:
    """The special report's categories and fields (`reports/data/special.yaml`), validated."""
    text = resources.files("xinyong.reports").joinpath("data/special.yaml").read_text(encoding="utf-8")
    return SpecialSpec.model_validate(yaml.safe_load(text))


@functools.cache
def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("xinyong.reports", "templates"), autoescape=select_autoescape(default=True)
    )
    env.filters["cn_date"] = lambda iso: format_china_date(dt.date.fromisoformat(iso)) if iso else "—"
    return env


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


def verify_url(public_url: str, number: str) -> str:
    return f"{public_url.rstrip('/')}/reports/verify?number={number}"


def pdf_path(data_dir: Path, sha256: str) -> Path:
    return data_dir / "reports" / sha256[:2] / f"{sha256}.pdf"


def _subject_block(subject: Subject) -> dict[str, Any]:
    return {
        "name": subject.name,
        "uscc": subject.uscc,
        "kind": subject.kind,
        "id_masked": subject.id_masked,  # natural persons: never the ID in clear
        "region_code": subject.region_code,
        "legal_rep": subject.legal_rep,
        "registered_on": subject.registered_on.isoformat() if subject.registered_on else None,
        "operating_status": subject.operating_status,
    }


def _departments(session: Session) -> dict[str, Department]:
    return {d.code: d for d in session.scalars(select(Department))}


def _root(departments: dict[str, Department], code: str) -> str:
    seen = set()
    while code in departments and departments[code].parent_code and code not in seen:
        seen.add(code)
        code = departments[code].parent_code or code
    return code


def _commitment_items(session: Session, subject_id: int) -> list[dict[str, Any]]:
    items = []
    for c in commitments.public_of_subject(session, subject_id):
        unit = accounts.get_department(session, c.department_code).name if c.department_code else "—"
        lines = [
            ["承诺类型", c.title],
            ["承诺事项", c.ref or "—"],
            ["受理单位", unit],
            ["履约情况", commitments.STATUS_LABELS.get(c.status, c.status)],
        ]
        items.append(
            {
                "type": "commitment",
                "title": "信用承诺",
                "doc_no": "",
                "date": format_china_date(c.signed_on),
                "department": unit,
                "repaired": False,
                "lines": lines,
            }
        )
    return items


def _registration_items(registrations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The subject's registered information (自主申报信息) that stands and may be public, each marked 自主申报
    or 已核实 (with the confirming department and day)."""
    items = []
    for r in registrations:
        if r["status"] not in ("declared", "confirmed") or not r["public"]:
            continue
        confirmed = r["status"] == "confirmed"
        lines = [["信息种类", r["kind_label"]], ["状态", r["status_label"]]]
        if confirmed:
            lines.append(["核实单位", r["confirmed_by"] or "—"])
        items.append(
            {
                "type": "registration",
                "title": r["title"],
                "doc_no": "",
                "date": format_china_date(r["confirmed_on"] if confirmed else r["declared_on"]),
                "department": (r["confirmed_by"] or "—") if confirmed else "主体自主申报",
                "repaired": False,
                "lines": lines,
            }
        )
    return items


def _grade_items(session: Session, subject: Subject) -> list[dict[str, Any]]:
    """The subject's current public comprehensive grade (公共信用综合评价), never a natural person's."""
    if subject.kind == "natural_person":
        return []
    grade = evaluation.current_grade(session, GRADE_MODEL, subject.id)
    if grade is None:
        return []
    return [
        {
            "type": "grade",
            "title": "公共信用综合评价",
            "doc_no": f"等级 {grade.grade}",
            "date": format_china_date(grade.as_of),
            "department": ISSUER,
            "repaired": False,
            "lines": [["评价结果", f"{grade.grade}（{grade.score:.1f} 分）"]],
        }
    ]


def _unseen_items(
    session: Session, catalog: Catalog, principal: Principal, today: dt.date, authorized: bool
) -> set[str]:
    """Items whose records a department's desk may not see (`records.repository.visible_filter`): those not
    shared, and conditionally shared ones not granted to its department. The subject, an organisation it
    authorised, the credit office and the platform see them all."""
    if authorized or principal.kind == "system" or principal.is_credit_office or not principal.is_government:
        return set()
    granted = accounts.granted_items(session, principal.department_code, today)
    return {
        i.code
        for i in catalog.items
        if i.sharing_class == SharingClass.NOT_SHARED
        or (i.sharing_class == SharingClass.CONDITIONAL and i.code not in granted)
    }


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
    spec = special_spec()
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
    departments = _departments(session)

    def name_of(code: str) -> str:
        return departments[code].name if code in departments else code

    number = rules.report_number(today, secrets.randbelow(100_000_000))
    code = rules.verification_code(secrets.token_bytes(8))
    payload: dict[str, Any] = {
        "format": rules.REPORT_FORMAT,
        "number": number,
        "kind": kind,
        "title": rules.report_title(kind, subject.kind),
        "issuer": ISSUER,
        "as_of": today.isoformat(),
        "issued_at": (now or dt.datetime.now(dt.UTC)).astimezone(CHINA).isoformat(timespec="seconds"),
        "subject": _subject_block(subject),
        "verification_code": code,
        "verify_url": verify_url(context.public_url, number),
    }
    if kind == "standard":
        layout = credit_files.file_layout()
        commitment_section = next((s.code for s in layout.sections if s.commitments), None)
        extra = {commitment_section: _commitment_items(session, subject_id)} if commitment_section else {}
        extra["evaluation"] = _grade_items(session, subject)
        registration_section = next((s.code for s in layout.sections if s.registrations), None)
        if registration_section is not None:
            extra[registration_section] = _registration_items(found.registrations)
        payload["sections"] = rules.standard_sections(
            layout, context.catalog, found.records, found.entries, today, department=name_of, extra=extra
        )
    else:
        assert period is not None
        payload["period"] = {"from": period[0].isoformat(), "to": period[1].isoformat()}
        payload["fields"] = list(fields)
        payload["findings"] = rules.special_findings(
            spec,
            context.catalog,
            found.records,
            [*found.entries, *found.history],
            fields=fields,
            period=period,
            root_of=lambda c: _root(departments, c),
            department=name_of,
            unseen_items=_unseen_items(session, context.catalog, principal, today, granted is not None),
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
        attachments={ATTACHMENT: signed},
        variant="pdf/a-3b",
        stylesheets=[report_css()],
    )
    return pades.sign_pdf(pdf, certificate, reason=f"{payload['title']} {payload['number']}", location=ISSUER)


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
            if str(names[n]) == ATTACHMENT:
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
