"""The audit trail in the console, for auditors and the credit office: filtered, paged, exported as CSV."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.audit import service
from xinyong.audit.models import AuditEntry
from xinyong.kit.dates import CHINA, format_china_datetime
from xinyong.kit.errors import ValidationFailed
from xinyong.kit.identifiers import normalize_code
from xinyong.kit.pagination import Page
from xinyong.kit.tabular import write_csv
from xinyong.lists import rules as list_rules
from xinyong.objections import rules as objection_rules
from xinyong.registration import rules as registration_rules
from xinyong.repair import rules as repair_rules
from xinyong.subjects import service as subjects
from xinyong.web import downloads
from xinyong.web.deps import PlatformDep, SessionDep, client_ip
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
EXPORT_ACTION = "audit.export"

ACTION_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "auth.login": "登录",
        "auth.logout": "退出登录",
        "account.register": "注册主体账户",
        "account.code_requested": "开通账户：发送验证码",
        "account.verified": "开通账户：身份核验通过",
        "account.review_requested": "开通账户：提交人工审核申请",
        "account.review_file": "开通账户：查看审核材料",
        "account.review_approve": "开通账户：审核通过",
        "account.review_refuse": "开通账户：审核不予通过",
        "contact.set": "登记主体联系方式",
        "contact.import": "导入主体联系方式",
        "messages.read": "查阅待发消息",
        "user.create": "创建用户",
        "user.enable": "启用用户",
        "user.disable": "停用用户",
        "department.create": "创建部门",
        "token.create": "签发接口令牌",
        "token.revoke": "吊销接口令牌",
        "subject.view": "查阅主体非公开信息",
        "subject.view_own": "查阅本主体信用档案",
        "subject.view_authorized": "经主体授权查阅信用档案",
        "authorization.grant": "授权机构查阅档案或出具报告",
        "authorization.revoke": "撤销授权",
        "check.run": "信用核查",
        "check.feedback": "核查结果反馈",
        "check.export_pdf": "下载核查回执（PDF）",
        "check.export_batch": "导出批量核查结果（XLSX）",
        "records.ingest": "报送信用信息",
        "records.ingest_chunk": "报送信用信息（分批提交）",
        "evaluation.view_own": "查阅本主体信用评价",
        "evaluation.export_parquet": "导出评价数据快照",
        "report.issue": "出具信用报告",
        "supervision.tiers_saved": "分级分类监管：保存监管分档新版本",
        "supervision.scope_saved": "分级分类监管：设定检查对象范围",
        "supervision.inspector_saved": "分级分类监管：登记执法检查人员",
        "supervision.inspector_removed": "分级分类监管：停用执法检查人员",
        "supervision.inspectors_imported": "分级分类监管：导入执法检查人员名录",
        "supervision.plan_created": "分级分类监管：制定并公布抽查计划",
        "supervision.plan_drawn": "分级分类监管：双随机抽取",
        "supervision.tasks_view": "分级分类监管：查阅约谈与培训任务",
        "supervision.task_view": "分级分类监管：查阅约谈或培训任务",
        "supervision.task_interview": "分级分类监管：记录约谈",
        "supervision.task_close": "分级分类监管：记录整改结果",
        "supervision.task_attendance": "分级分类监管：记录参加信用培训",
        "supervision.training_add": "分级分类监管：登记信用培训场次",
        "supervision.results_view": "分级分类监管：查阅抽查结果",
        "supervision.result_enter": "分级分类监管：录入抽查结果",
        "batch.export_rejected": "导出未通过校验的数据",
        "review.resolve": "处理待确认主体的数据",
        "measures.draft": "起草措施清单",
        "measures.edit": "编辑措施清单",
        "measures.publish": "发布措施清单",
        "content.create": "新建文章",
        "content.update": "修改文章",
        "content.publish": "发布文章",
        "content.withdraw": "撤下文章",
        "disclosure.end_publicity": "公示期届满处理",
        "commitment.sign": "签署信用承诺",
        "commitment.fulfilment": "登记承诺履约情况",
        "commitment.verification": "记录信用承诺核查结果",
        "commitment.read": "查阅信用承诺（非公开）",
        "commitment.evidence_download": "下载信用承诺核查证据",
        **{
            f"registration.{event}": f"自愿注册：{label}"
            for event, label in registration_rules.EVENT_LABELS.items()
        },
        "registration.evidence_download": "自愿注册：下载证明材料",
        "registration.view": "自愿注册：部门查阅申报信息",
        "repair.submit": "信用修复：提交申请",
        **{f"repair.{event}": f"信用修复：{label}" for event, label in repair_rules.EVENT_LABELS.items()},
        "repair.evidence_download": "信用修复：下载申请材料",
        "repair.recheck": "信用修复：复核无误",
        "objection.file": "异议：提出异议",
        **{f"objection.{event}": f"异议：{label}" for event, label in objection_rules.EVENT_LABELS.items()},
        "objection.evidence_download": "异议：下载证明材料",
        "objection.escalate": "异议：逾期提请信用办督办",
        "list.propose": "名单：提出列入",
        "list.statement": "名单：登记陈述申辩",
        **{f"list.{event}": f"名单：{label}" for event, label in list_rules.EVENT_LABELS.items()},
        EXPORT_ACTION: "导出审计日志",
    }
)
"""Every action the platform writes to the trail, by its Chinese name (the filter offers these)."""

_DOMAIN_LABELS = {
    "auth": "登录",
    "account": "账户",
    "user": "用户管理",
    "token": "接口令牌",
    "subject": "主体信息",
    "check": "信用核查",
    "records": "数据报送",
    "batch": "数据报送",
    "measures": "措施清单",
    "content": "文章",
    "commitment": "信用承诺",
    "repair": "信用修复",
    "objection": "异议",
    "list": "名单",
    "audit": "审计日志",
    "contact": "主体联系方式",
    "messages": "消息",
    "evaluation": "信用评价",
    "report": "信用报告",
    "supervision": "分级分类监管",
    "registration": "自愿注册",
    "authorization": "授权",
}
OUTCOME_LABELS: Mapping[str, str] = MappingProxyType({"ok": "成功", "denied": "拒绝", "failed": "失败"})
ACTOR_KIND_LABELS: Mapping[str, str] = MappingProxyType(
    {"user": "用户", "token": "接口令牌", "anonymous": "匿名", "system": "系统"}
)


def action_label(action: str) -> str:
    """The Chinese name of an action; one this table does not know yet by its domain (其他操作 at worst)."""
    known = ACTION_LABELS.get(action)
    if known:
        return known
    return f"{_DOMAIN_LABELS.get(action.partition('.')[0], '其他操作')}（{action}）"


def _day(value: str, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        day = None
    if day is None or not 1900 <= day.year <= 2999:  # the ends of the calendar would overflow in UTC
        raise ValidationFailed(f"{name}不是有效日期（应为 年-月-日）", code="audit.bad_date")
    return day


def _china_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), CHINA).astimezone(dt.UTC)


def _trail_filter(
    session: Session, *, actor: str, action: str, department: str, subject: str, date_from: str, date_to: str
) -> tuple[service.TrailFilter, bool]:
    """The filter the form asks for, and whether it can match anything (a subject code nobody has)."""
    since, until = _day(date_from, "起始日期"), _day(date_to, "截止日期")
    if since and until and since > until:
        raise ValidationFailed("起始日期晚于截止日期", code="audit.bad_range")
    subject_id, matchable = None, True
    code = normalize_code(subject)
    if code:
        found = subjects.find_by_uscc(session, code)
        subject_id, matchable = (found.id, True) if found else (None, False)
    trail = service.TrailFilter(
        actor=actor.strip() or None,
        action=action.strip() or None,
        department_code=department.strip() or None,
        subject_id=subject_id,
        since=_china_midnight(since) if since else None,
        until=_china_midnight(until + dt.timedelta(days=1)) if until else None,
    )
    return trail, matchable


Actor = Annotated[str, Query(max_length=64)]
Action = Annotated[str, Query(max_length=48)]
DepartmentCode = Annotated[str, Query(max_length=32)]
SubjectCode = Annotated[str, Query(max_length=32)]
Day = Annotated[str, Query(max_length=10)]


@router.get("/console/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("audit:read")],
    actor: Actor = "",
    action: Action = "",
    department: DepartmentCode = "",
    subject: SubjectCode = "",
    date_from: Day = "",
    date_to: Day = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    after: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> HTMLResponse:
    """The trail page by page; "next" carries the last entry shown (`after`), so reading on stays fast."""
    trail, matchable = _trail_filter(
        session,
        actor=actor,
        action=action,
        department=department,
        subject=subject,
        date_from=date_from,
        date_to=date_to,
    )
    listing: Page[AuditEntry]
    if matchable:
        listing = service.trail_page(session, trail, page=page, size=PAGE_SIZE, after_id=after)
    else:
        listing = Page([], 0, 1, PAGE_SIZE)
    filters = {
        "actor": actor,
        "action": action,
        "department": department,
        "subject": subject,
        "date_from": date_from,
        "date_to": date_to,
    }
    subject_names = subjects.get_many(session, {e.subject_id for e in listing.items if e.subject_id})
    departments = _department_names(session)
    return render(
        request,
        "audit.html",
        {
            "listing": listing,
            "rows": [_row(e, subject_names, departments) for e in listing.items],
            "filters": filters,
            "matchable": matchable,
            "actions": sorted(ACTION_LABELS.items(), key=lambda pair: pair[0]),
            "departments": departments,
            "action_known": not action or action in ACTION_LABELS,
            "query": urlencode(filters) + "&",
            "export_query": urlencode(filters),
        },
    )


@router.get("/console/audit/export.csv")
def audit_export(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("audit:read")],
    actor: Actor = "",
    action: Action = "",
    department: DepartmentCode = "",
    subject: SubjectCode = "",
    date_from: Day = "",
    date_to: Day = "",
) -> StreamingResponse:
    """The filtered trail as CSV (UTF-8 with BOM, formula-safe), newest first, streamed; the export is itself
    written to the trail, with its filter, before the first row leaves."""
    trail, matchable = _trail_filter(
        session,
        actor=actor,
        action=action,
        department=department,
        subject=subject,
        date_from=date_from,
        date_to=date_to,
    )
    through_id = service.trail_newest_id(session)
    details: dict[str, Any] = {"filter": trail.described(), "through_id": through_id}
    if subject:  # the code of the subject found; what was typed otherwise stays out (it may be a person's ID)
        details["filter"]["subject"] = normalize_code(subject) if matchable else "未找到的主体"
    service.record(
        session, principal, EXPORT_ACTION, target="audit_entries", ip=client_ip(request), details=details
    )
    # On the record even if the download is cut short (as a failed login is): commit before streaming.
    session.commit()
    stamp = dt.datetime.now(CHINA).strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        write_csv(_export_rows(platform.sessions, trail, through_id if matchable else 0)),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": downloads.content_disposition(f"审计日志-{stamp}.csv"),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


_EXPORT_HEADER = (
    "序号",
    "时间（北京时间）",
    "操作",
    "操作代码",
    "结果",
    "操作人类型",
    "操作人",
    "部门",
    "主体",
    "统一社会信用代码",
    "对象",
    "事由",
    "来源地址",
    "详情",
    "链",
    "链内位置",
    "哈希",
)


def _export_rows(
    sessions: sessionmaker[Session], trail: service.TrailFilter, through_id: int
) -> Iterator[list[object]]:
    # A reading session of its own (the request's took a writer's lock on SQLite to append the export's
    # entry), read batch by batch while the response streams.
    yield list(_EXPORT_HEADER)
    with sessions() as session:
        departments = _department_names(session)
        for batch in service.iter_trail(session, trail, through_id=through_id):
            names = subjects.get_many(session, {e.subject_id for e in batch if e.subject_id})
            for entry in batch:
                row = _row(entry, names, departments)
                yield [
                    entry.id,
                    format_china_datetime(entry.at, seconds=True),
                    row["action_label"],
                    entry.action,
                    row["outcome"],
                    row["actor_kind"],
                    entry.actor,
                    row["department"],
                    row["subject_name"],
                    row["subject_code"],
                    entry.target or "",
                    entry.purpose or "",
                    entry.ip or "",
                    json.dumps(entry.details, ensure_ascii=False, sort_keys=True) if entry.details else "",
                    entry.chain if entry.chain is not None else "",
                    entry.seq if entry.seq is not None else "",
                    entry.hash,
                ]
            session.expunge_all()  # memory stays flat over a long trail


def _department_names(session: Session) -> dict[str, str]:
    return {d.code: d.name for d in accounts.list_departments(session)}


def _row(
    entry: AuditEntry, subject_names: Mapping[int, Any], departments: Mapping[str, str]
) -> dict[str, Any]:
    subject = subject_names.get(entry.subject_id) if entry.subject_id else None
    if subject is None:
        subject_name, subject_code = "", ""
    elif subject.kind == "natural_person":
        subject_name, subject_code = subject.name, subject.id_masked or ""
    else:
        subject_name, subject_code = subject.name, subject.uscc or ""
    return {
        "entry": entry,
        "action_label": action_label(entry.action),
        "outcome": OUTCOME_LABELS.get(entry.outcome, entry.outcome),
        "actor_kind": ACTOR_KIND_LABELS.get(entry.actor_kind, entry.actor_kind),
        "department": departments.get(entry.department_code, entry.department_code)
        if entry.department_code
        else "",
        "subject_name": subject_name,
        "subject_code": subject_code,
    }
