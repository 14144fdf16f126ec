"""A department's pools: the subjects it supervises (检查对象名录库, a rule over regions, industries and licence
items) and its inspectors (执法检查人员名录库), entered in the console or imported from a CSV or XLSX file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from xinyong.accounts.context import UseCaseContext
from xinyong.audit import service as audit
from xinyong.kit import regions
from xinyong.kit.errors import BadRequest, Conflict, NotFound, ValidationFailed, XinyongError
from xinyong.kit.identifiers import IdentifierError, normalize_code, validate_uscc
from xinyong.kit.tabular import INVALID_CELLS, read_rows
from xinyong.records.models import Record
from xinyong.subjects.models import Subject
from xinyong.supervision import rules
from xinyong.supervision.models import Inspector, SupervisionScope
from xinyong.supervision.tiers import department, ensure_manage, ensure_view

IMPORT_HEADERS = ("姓名", "执法证号", "地区", "回避主体")
MAX_INSPECTORS_IMPORT = 20_000
MAX_CONFLICTS = 200


# --- scope ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scope:
    regions: tuple[str, ...]  # region codes; a subject is in scope when its region lies inside one
    industries: tuple[str, ...] = ()  # matched on `Subject.industry` where the column exists
    licence_items: tuple[str, ...] = ()  # catalog items: in scope only with an active record of one of them

    def to_json(self) -> dict[str, Any]:
        return {
            "regions": list(self.regions),
            "industries": list(self.industries),
            "licence_items": list(self.licence_items),
        }


def scope_of(session: Session, department_code: str, *, region: str | None = None) -> Scope:
    """The department's scope rule; a plan's region narrows its regions to that area."""
    dept = department(session, department_code)
    stored = session.get(SupervisionScope, department_code)
    areas = tuple(stored.region_codes) if stored and stored.region_codes else ()
    if not areas:
        if not dept.region_code:
            raise ValidationFailed(
                f"部门 {dept.name} 没有所在地区，也没有设定检查对象范围", code="supervision.empty_pool"
            )
        areas = (dept.region_code,)
    if region is not None:
        if not any(rules.within(region, area) for area in areas):
            raise ValidationFailed(
                f"地区 {regions.name(region)}（{region}）不在本部门的检查对象范围内",
                code="supervision.region_outside_scope",
            )
        areas = (region,)
    return Scope(
        regions=areas,
        industries=tuple(stored.industries) if stored else (),
        licence_items=tuple(stored.licence_items) if stored else (),
    )


def has_scope(session: Session, department_code: str) -> bool:
    stored = session.get(SupervisionScope, department_code)
    return stored is not None and bool(stored.region_codes)


def set_scope(
    session: Session,
    ctx: UseCaseContext,
    department_code: str,
    *,
    region_codes: Iterable[str],
    industries: Iterable[str] = (),
    licence_items: Iterable[str] = (),
) -> SupervisionScope:
    ensure_manage(ctx.principal, department_code)
    department(session, department_code)
    areas = sorted({c.strip() for c in region_codes if c.strip()})
    for code in areas:
        if not regions.is_known(code):
            raise ValidationFailed(f"未知的行政区划代码 {code}", code="supervision.region_invalid")
    items = sorted({c.strip() for c in licence_items if c.strip()})
    known = set(ctx.catalog.item_codes)
    unknown = [c for c in items if c not in known]
    if unknown:
        raise ValidationFailed(f"目录中没有这些事项：{'、'.join(unknown)}", code="supervision.item_invalid")
    scope = session.get(SupervisionScope, department_code) or SupervisionScope(
        department_code=department_code
    )
    scope.region_codes = areas
    scope.industries = sorted({c.strip() for c in industries if c.strip()})
    scope.licence_items = items
    scope.updated_by = ctx.principal.name
    session.add(scope)
    session.flush()
    audit.record(session, ctx.principal, "supervision.scope_saved", target=department_code, ip=ctx.ip)
    return scope


def scope_filter(scope: Scope) -> ColumnElement[bool]:
    """Subjects in scope: a USCC (market subjects; natural persons are not inspected subjects), a region inside
    one of the scope's areas, the scope's industries where subjects have one, a licence record when asked."""
    region_match = or_(
        *(
            Subject.region_code.startswith(rules.region_prefix(area), autoescape=True)
            for area in scope.regions
        )
    )
    conditions: list[ColumnElement[bool]] = [
        Subject.uscc.is_not(None),
        Subject.kind != "natural_person",
        region_match if scope.regions else false(),
    ]
    industry = getattr(Subject, "industry", None)
    if scope.industries and industry is not None:
        conditions.append(industry.in_(scope.industries))
    if scope.licence_items:
        conditions.append(
            exists().where(
                Record.subject_id == Subject.id,
                Record.item_code.in_(scope.licence_items),
                Record.status == "active",
            )
        )
    return and_(true(), *conditions)


# --- inspectors ----------------------------------------------------------------------------------------------


def inspectors(session: Session, department_code: str, *, active_only: bool = True) -> list[Inspector]:
    query = select(Inspector).where(Inspector.department_code == department_code)
    if active_only:
        query = query.where(Inspector.active.is_(True))
    return list(session.scalars(query.order_by(Inspector.licence_no)))


def _conflicts(raw: str) -> list[str]:
    codes = []
    for part in raw.replace("；", ";").replace(",", ";").replace("，", ";").split(";"):
        if part.strip():
            codes.append(validate_uscc(normalize_code(part)))
    if len(codes) > MAX_CONFLICTS:
        raise ValidationFailed(f"回避主体最多 {MAX_CONFLICTS} 个", code="supervision.conflicts_too_many")
    return sorted(set(codes))


@dataclass(frozen=True, slots=True)
class InspectorInput:
    name: str
    licence_no: str
    region_code: str | None
    conflicts: list[str]
    qualifications: list[str] = field(default_factory=list)


def parse_inspector(
    name: Any, licence_no: Any, region: Any, conflicts: Any, qualifications: Any = ""
) -> InspectorInput:
    """Validate one inspector's fields (a form or a file row); raises with the field at fault."""
    clean_name = str(name or "").strip()
    if not clean_name or len(clean_name) > 50:
        raise ValidationFailed("姓名不能为空，最多 50 字", code="supervision.inspector_name")
    number = str(licence_no or "").strip()
    if not number or len(number) > 32 or not number.isprintable():
        raise ValidationFailed("执法证号不能为空，最多 32 字符", code="supervision.licence_no")
    area = str(region or "").strip() or None
    if area is not None and not regions.is_known(area):
        raise ValidationFailed(f"地区须为行政区划代码（给出 {area}）", code="supervision.region_invalid")
    try:
        avoided = _conflicts(str(conflicts or ""))
    except IdentifierError as exc:
        raise ValidationFailed(
            f"回避主体中有无效的统一社会信用代码：{exc.message}", code="supervision.conflict_uscc"
        ) from None
    skills = sorted({q.strip() for q in str(qualifications or "").replace("；", ";").split(";") if q.strip()})
    return InspectorInput(clean_name, number, area, avoided, skills)


def upsert_inspector(session: Session, department_code: str, data: InspectorInput) -> str:
    """Add or update by 执法证号; returns created, updated or unchanged. A number of another department is a
    conflict."""
    found = session.scalar(select(Inspector).where(Inspector.licence_no == data.licence_no))
    if found is not None and found.department_code != department_code:
        raise Conflict(f"执法证号 {data.licence_no} 已登记在其他部门", code="supervision.licence_no_taken")
    values = {
        "name": data.name,
        "region_code": data.region_code,
        "conflicts": data.conflicts,
        "qualifications": data.qualifications or (found.qualifications if found else []),
        "active": True,
    }
    if found is None:
        session.add(Inspector(department_code=department_code, licence_no=data.licence_no, **values))
        return "created"
    if all(getattr(found, key) == value for key, value in values.items()):
        return "unchanged"
    for key, value in values.items():
        setattr(found, key, value)
    return "updated"


def add_inspector(session: Session, ctx: UseCaseContext, department_code: str, data: InspectorInput) -> str:
    ensure_manage(ctx.principal, department_code)
    department(session, department_code)
    outcome = upsert_inspector(session, department_code, data)
    session.flush()
    audit.record(
        session,
        ctx.principal,
        "supervision.inspector_saved",
        target=f"{department_code}/{data.licence_no}",
        ip=ctx.ip,
    )
    return outcome


def deactivate_inspector(session: Session, ctx: UseCaseContext, inspector_id: int) -> Inspector:
    found = session.get(Inspector, inspector_id)
    if found is None:
        raise NotFound("没有这名执法检查人员", code="supervision.inspector_not_found")
    ensure_manage(ctx.principal, found.department_code)
    found.active = False
    session.flush()
    audit.record(
        session,
        ctx.principal,
        "supervision.inspector_removed",
        target=f"{found.department_code}/{found.licence_no}",
    )
    return found


@dataclass(slots=True)
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "imported": not self.errors,
            "errors": self.errors,
        }


def _check_headers(values: dict[str, Any]) -> None:
    headers = tuple(k for k in values if k != INVALID_CELLS)
    if sorted(headers) != sorted(IMPORT_HEADERS):
        raise BadRequest(
            f"表头须恰为 {'、'.join(IMPORT_HEADERS)}（给出 {'、'.join(headers)}）",
            code="supervision.import_headers",
        )


def _read_file(stream: IO[bytes], filename: str, report: ImportReport) -> list[tuple[int, InspectorInput]]:
    """Every row parsed, or its error added to the report (with its row number)."""
    parsed: list[tuple[int, InspectorInput]] = []
    seen: dict[str, int] = {}
    for row in read_rows(stream, filename):
        if report.rows == 0:
            _check_headers(row.values)
        report.rows += 1
        if report.rows > MAX_INSPECTORS_IMPORT:
            raise BadRequest(f"一次最多导入 {MAX_INSPECTORS_IMPORT} 名", code="supervision.import_too_large")
        values = row.values
        try:
            if values.get(INVALID_CELLS):
                raise ValidationFailed("单元格含无法保存的字符", code="input.invalid_characters")
            data = parse_inspector(
                values.get("姓名"), values.get("执法证号"), values.get("地区"), values.get("回避主体")
            )
            if data.licence_no in seen:
                raise ValidationFailed(
                    f"执法证号 {data.licence_no} 与第 {seen[data.licence_no]} 行重复",
                    code="supervision.licence_no_duplicate",
                )
            seen[data.licence_no] = row.number
            parsed.append((row.number, data))
        except XinyongError as exc:
            report.errors.append({"row": row.number, "code": exc.code, "message": exc.message})
    if report.rows == 0:
        raise BadRequest("文件中没有数据行", code="supervision.import_empty")
    return parsed


def _taken_elsewhere(session: Session, department_code: str, numbers: list[str]) -> set[str]:
    taken: set[str] = set()
    for start in range(0, len(numbers), 500):
        chunk = numbers[start : start + 500]
        for found in session.scalars(select(Inspector).where(Inspector.licence_no.in_(chunk))):
            if found.department_code != department_code:
                taken.add(found.licence_no)
    return taken


def import_inspectors(
    session: Session, ctx: UseCaseContext, department_code: str, stream: IO[bytes], filename: str
) -> ImportReport:
    """Read the whole file first (kit.tabular, with its limits); if any row is wrong nothing is imported and
    every wrong row is reported with its number and reason; otherwise every row is added or updated by
    执法证号 (re-importing the same file changes nothing)."""
    ensure_manage(ctx.principal, department_code)
    department(session, department_code)
    report = ImportReport()
    parsed = _read_file(stream, filename, report)
    if not report.errors:
        taken = _taken_elsewhere(session, department_code, [d.licence_no for _, d in parsed])
        report.errors.extend(
            {
                "row": number,
                "code": "supervision.licence_no_taken",
                "message": f"执法证号 {data.licence_no} 已登记在其他部门",
            }
            for number, data in parsed
            if data.licence_no in taken
        )
    if report.errors:
        return report
    for _number, data in parsed:
        outcome = upsert_inspector(session, department_code, data)
        setattr(report, outcome, getattr(report, outcome) + 1)
    session.flush()
    audit.record(
        session,
        ctx.principal,
        "supervision.inspectors_imported",
        target=department_code,
        ip=ctx.ip,
        details={"rows": report.rows, "created": report.created, "updated": report.updated},
    )
    return report


def view_inspectors(session: Session, ctx: UseCaseContext, department_code: str) -> list[Inspector]:
    ensure_view(ctx.principal, department_code)
    return inspectors(session, department_code, active_only=True)
