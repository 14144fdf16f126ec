"""The mobile channel (移动端): a JSON API for a phone app or mini-program under `/api/v1/me`, for a subject
account's own data, with the same rules and audit as its pages (each route calls the service its page calls).

`POST /me/login` takes a username and password (throttled with back-off and audited as the web login; demo
accounts refused outside demo mode) and answers a bearer token that lives 15 minutes (`accounts.mobile`; no
refresh: the app logs in again); `POST /me/logout` revokes it at once. The other routes accept that token
only: a browser's session cookie is refused on them (its posts need CSRF tokens, which bearer requests do not
carry), and so is a department system's API token. An account not yet verified gets a token and sees who it is
(`GET /me`), and nothing of a subject's non-public data until it verifies (on the web, `/register`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from xinyong.accounts import auth, mobile
from xinyong.accounts import service as accounts
from xinyong.accounts.deps import require
from xinyong.accounts.models import User
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.audit.views import action_label
from xinyong.authorizations import service as authorizations
from xinyong.authorizations.models import Authorization
from xinyong.commitments import rules as commitment_rules
from xinyong.commitments import service as commitments
from xinyong.commitments.models import Commitment
from xinyong.commitments.schemas import KIND_LABELS
from xinyong.creditfile.schemas import SubjectDetail
from xinyong.kit.errors import NotFound, ValidationFailed, XinyongError
from xinyong.notices import service as notices
from xinyong.registration import service as registrations
from xinyong.registration.schemas import Kind, RegistrationRead
from xinyong.subjects import rules as subject_rules
from xinyong.subjects import service as subjects
from xinyong.subjects.api import subject_detail
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.ratelimit import rate_limited

router = APIRouter(prefix="/me", tags=["me"], dependencies=[rate_limited("api")])

USCC = "91510105MA6MRBLB9Y"
BEARER = "Authorization: Bearer <access_token>（由 POST /api/v1/me/login 取得，15分钟内有效）"


def _error(status: int, code: str, message: str) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "description": message,
            "content": {"application/json": {"example": {"error": {"code": code, "message": message}}}},
        }
    }


def _ok(example: Any, status: int = 200, description: str = "成功") -> dict[int | str, dict[str, Any]]:
    return {status: {"description": description, "content": {"application/json": {"example": example}}}}


def _responses(*parts: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    merged: dict[int | str, dict[str, Any]] = {}
    for part in parts:
        merged.update(part)
    return merged


NO_TOKEN = _error(401, "auth.invalid_token", "令牌无效、已过期或已吊销")
NOT_MOBILE = _error(403, "auth.forbidden", "当前账号无权执行此操作（浏览器会话和部门系统令牌不能调用本接口）")
GUARDED = _responses(NO_TOKEN, NOT_MOBILE)


# -- request and response bodies -----------------------------------------------------------------------------


class Login(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"username": "enterprise", "password": "xinyong-demo-2026"}]},
    )
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class AccessToken(BaseModel):
    access_token: str = Field(description="Bearer 令牌：请求头 Authorization: Bearer <access_token>")
    token_type: str = Field(description="bearer")
    expires_in: int = Field(description="有效秒数（900）；过期后重新登录")


class MeSubject(BaseModel):
    uscc: str | None
    name: str
    kind: str
    kind_label: str
    id_masked: str | None = Field(description="自然人的证件号码（脱敏），不以明文出现")


class Me(BaseModel):
    username: str
    display_name: str
    role: str
    verified: bool = Field(description="账号是否已完成身份核验；未核验的账号只能看到公众可见的信息")
    verification_method: str | None
    subject: MeSubject | None = Field(description="账号代表的信用主体（核验后）")
    unread_notices: int


class Viewer(BaseModel):
    at: dt.datetime
    action: str
    action_label: str
    department_code: str | None
    department_name: str | None = Field(description="查询部门")
    organization: str | None = Field(description="经授权查询的机构")
    organization_uscc: str | None
    purpose: str | None = Field(description="查询事由")


class NoticeItem(BaseModel):
    id: int
    kind: str
    title: str
    body: str | None
    link: str | None = Field(description="网页端的相应页面")
    created_at: dt.datetime
    read_at: dt.datetime | None


class NoticeList(BaseModel):
    unread: int
    items: list[NoticeItem]


class MyCommitment(BaseModel):
    commitment_id: int
    template: str
    title: str
    kind: str
    kind_label: str
    matter: str | None
    department_code: str | None = Field(description="受理（核查）部门")
    department_name: str | None
    channel: str
    signed_on: dt.date
    status: str
    status_label: str
    verification_due: dt.date | None
    decided_on: dt.date | None
    facts: str | None
    text: str = Field(description="签署时冻结的承诺书全文")
    text_sha256: str
    public_url: str | None = Field(description="公示页面；范本不公示的为 null")


class Signing(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "template": "notify_commit",
                    "matter": "SCMR-P-001",
                    "signer_name": "张三",
                    "agree": True,
                },
                {
                    "template": "industry_commit",
                    "matter": "食品经营行业诚信经营",
                    "signer_name": "张三",
                    "department": "SCMR",
                    "agree": True,
                },
            ]
        },
    )
    template: str = Field(min_length=1, max_length=32, description="可在线签署的承诺书范本代码")
    matter: str = Field(
        default="", max_length=200, description="承诺事项（审批替代型：目录事项的代码或名称）"
    )
    signer_name: str = Field(max_length=50, description="签署人姓名")
    department: str = Field(default="", max_length=32, description="受理部门代码（非审批替代型，可选）")
    agree: bool = Field(description="已阅读并确认承诺内容；须为 true")


class Matter(BaseModel):
    department: str | None = Field(description="受理部门代码（审批替代型目录事项）")
    name: str


class SigningTemplate(BaseModel):
    code: str
    title: str
    kind: str
    kind_label: str
    legal_basis: str
    promise: str = Field(description="承诺内容")
    verification: str = Field(description="核查方式")
    matters: list[Matter] = Field(description="适用事项；为空时可填写任何事项")
    department: str | None = Field(description="默认受理部门")
    text: str = Field(description="以本主体填入的承诺书全文（事项和签署人待填）")


class Declaration(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "honour",
                    "fields": {
                        "name": "四川省守合同重信用企业",
                        "issuer_name": "四川省市场监督管理局",
                        "awarded_on": "2026-03-15",
                        "level": "省级",
                    },
                    "department_code": "SCMR",
                    "signer_name": "张三",
                    "agree": True,
                }
            ]
        },
    )
    kind: str = Field(min_length=1, max_length=32, description="信息种类：honour, qualification, ...")
    fields: dict[str, str | int | float | None] = Field(max_length=32, description="该种类的字段")
    department_code: str = Field(
        default="", max_length=32, description="核实部门（由授予或发证部门核实的种类）"
    )
    publish: bool = Field(default=False, description="是否公开（公开与否由主体选择的种类）")
    signer_name: str = Field(max_length=60, description="真实性承诺书的签署人")
    agree: bool = Field(description="已阅读并签署真实性承诺；须为 true")


class MyAuthorization(BaseModel):
    id: int
    organization_name: str
    organization_uscc: str | None
    scopes: list[str]
    scope_labels: list[str]
    purpose_kind: str
    purpose_kind_label: str
    purpose: str
    valid_until: dt.date
    granted_at: dt.datetime
    revoked_at: dt.datetime | None
    state: str = Field(description="active, revoked, expired")
    state_label: str


class Grant(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "organization_uscc": "91510100MA6CXYBANK",
                    "scopes": ["file:read", "reports:issue"],
                    "purpose_kind": "credit_approval",
                    "purpose": "申请流动资金贷款",
                    "valid_until": "2027-03-31",
                }
            ]
        },
    )
    organization_uscc: str = Field(max_length=40, description="被授权机构的统一社会信用代码")
    scopes: list[str] = Field(
        max_length=4, description="file:read（查阅信用档案）、reports:issue（出具信用报告）"
    )
    purpose_kind: str = Field(
        max_length=32, description="credit_approval, business_cooperation, bidding, ..."
    )
    purpose: str = Field(max_length=1000, description="授权事由")
    valid_until: dt.date = Field(description="授权截止日（至多一年）")


# -- examples of answers --------------------------------------------------------------------------------------

COMMITMENT_EXAMPLE = {
    "commitment_id": 812,
    "template": "notify_commit",
    "title": "证明事项告知承诺书",
    "kind": "approval",
    "kind_label": "审批替代型",
    "matter": "食品经营许可申请中的经营场所合法使用证明",
    "department_code": "SCMR",
    "department_name": "四川省市场监督管理局",
    "channel": "online",
    "signed_on": "2026-12-07",
    "status": "verifying",
    "status_label": "核查中",
    "verification_due": "2027-01-05",
    "decided_on": None,
    "facts": None,
    "text": "本主体成都示例科技有限公司（统一社会信用代码：91510105MA6MRBLB9Y）……",
    "text_sha256": "3f1c…",
    "public_url": "/commitments/812",
}
AUTHORIZATION_EXAMPLE = {
    "id": 31,
    "organization_name": "四川蜀信银行股份有限公司",
    "organization_uscc": "91510100MA6CXYBANK",
    "scopes": ["file:read", "reports:issue"],
    "scope_labels": ["查阅信用档案（含非公开信息）", "出具信用报告"],
    "purpose_kind": "credit_approval",
    "purpose_kind_label": "信贷审批",
    "purpose": "申请流动资金贷款",
    "valid_until": "2027-03-31",
    "granted_at": "2026-12-07T02:30:00Z",
    "revoked_at": None,
    "state": "active",
    "state_label": "有效",
}
REGISTRATION_EXAMPLE = {
    "id": 57,
    "kind": "honour",
    "kind_label": "荣誉表彰",
    "title": "四川省守合同重信用企业",
    "status": "declared",
    "status_label": "自主申报",
    "version": 1,
    "declared_on": "2026-12-07",
    "public": True,
    "fields": {"name": "四川省守合同重信用企业", "issuer_name": "四川省市场监督管理局", "level": "省级"},
    "confirmed_by": None,
    "confirmed_on": None,
    "reason": None,
}


# -- helpers -------------------------------------------------------------------------------------------------


def _departments(session: Session) -> dict[str, str]:
    return {d.code: d.name for d in accounts.list_departments(session)}


def _own_subject_id(principal: Principal) -> int:
    assert principal.subject_id is not None  # "me:own" lets only a verified account's token through
    return principal.subject_id


def _commitment(session: Session, commitment: Commitment, departments: dict[str, str]) -> MyCommitment:
    public = commitments.is_public(session, commitment)
    return MyCommitment(
        commitment_id=commitment.id,
        template=commitment.template_code,
        title=commitment.title,
        kind=commitment.kind,
        kind_label=KIND_LABELS.get(commitment.kind, commitment.kind),
        matter=commitment.matter,
        department_code=commitment.department_code,
        department_name=departments.get(commitment.department_code or ""),
        channel=commitment.channel,
        signed_on=commitment.signed_on,
        status=commitment.status,
        status_label=commitment_rules.STATUS_LABELS.get(commitment.status, commitment.status),
        verification_due=commitment.verification_due,
        decided_on=commitment.fulfilment_on,
        facts=commitment.fulfilment_note,
        text=commitment.text,
        text_sha256=commitment.text_sha256,
        public_url=f"/commitments/{commitment.id}" if public else None,
    )


def _authorizations(session: Session, found: list[Authorization], today: dt.date) -> list[MyAuthorization]:
    shown = authorizations.views(session, found, today)
    return [
        MyAuthorization(
            id=v.id,
            organization_name=v.organization_name,
            organization_uscc=v.organization_uscc,
            scopes=list(v.scopes),
            scope_labels=list(v.scope_labels),
            purpose_kind=a.purpose_kind,
            purpose_kind_label=v.purpose_kind_label,
            purpose=v.purpose,
            valid_until=v.valid_until,
            granted_at=v.granted_at,
            revoked_at=v.revoked_at,
            state=v.state,
            state_label=v.state_label,
        )
        for a, v in zip(found, shown, strict=True)
    ]


# -- login and logout ----------------------------------------------------------------------------------------


@router.post(
    "/login",
    response_model=AccessToken,
    dependencies=[rate_limited("login")],
    responses=_responses(
        _ok({"access_token": "xym_Q2hhbmdlTWU…", "token_type": "bearer", "expires_in": 900}),
        _error(401, "auth.invalid_credentials", "用户名或密码错误"),
        _error(403, "auth.throttled", "登录失败次数过多，请2分钟后再试"),
        _error(429, "rate_limited", "请求过于频繁，请稍后再试"),
    ),
)
def login(
    body: Login,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("public")],
) -> AccessToken:
    """Log a subject account in and get a bearer token for the other `/me` routes (15 minutes; no refresh
    token: log in again). Throttled with back-off per username and address as the web login, and audited;
    demo accounts are refused outside demo mode, and accounts other than subject accounts
    (`me.subject_accounts_only`)."""
    ip = client_ip(request)
    try:
        user = auth.authenticate(
            session, body.username, body.password, ip=ip, demo_mode=platform.settings.demo_mode
        )
        token = mobile.start(session, user, ip=ip)
    except XinyongError as exc:
        attempted = Principal(kind="user", name=body.username.strip()[:64] or "?")
        audit.record(
            session,
            attempted,
            "auth.login",
            outcome="failed",
            ip=ip,
            details={"code": exc.code, "channel": "mobile"},
        )
        session.commit()  # the failed attempt must count even though the request fails
        raise
    audit.record(session, auth.principal_for_user(user), "auth.login", ip=ip, details={"channel": "mobile"})
    return AccessToken(access_token=token, token_type="bearer", expires_in=mobile.EXPIRES_IN)  # noqa: S106


@router.post("/logout", status_code=204, response_class=Response, responses=NO_TOKEN)
def logout(request: Request, session: SessionDep, principal: Annotated[Principal, require("me")]) -> Response:
    """Revoke this token at once (`Authorization: Bearer <access_token>`); audited as the web logout."""
    _, _, secret = request.headers.get("authorization", "").partition(" ")
    mobile.end(session, secret.strip())
    audit.record(session, principal, "auth.logout", ip=client_ip(request), details={"channel": "mobile"})
    return Response(status_code=204)


# -- who am I, my file, who viewed it, my notices ------------------------------------------------------------


@router.get(
    "",
    response_model=Me,
    responses=_responses(
        _ok(
            {
                "username": "enterprise",
                "display_name": "成都示例科技有限公司",
                "role": "subject",
                "verified": True,
                "verification_method": "code",
                "subject": {
                    "uscc": USCC,
                    "name": "成都示例科技有限公司",
                    "kind": "legal_person",
                    "kind_label": "法人",
                    "id_masked": None,
                },
                "unread_notices": 2,
            }
        ),
        GUARDED,
    ),
)
def me(session: SessionDep, principal: Annotated[Principal, require("me")]) -> Me:
    """Who am I: the account, whether it is verified, and the subject it stands for (a natural person's ID
    masked). An unverified account carries no subject and sees only what the public sees."""
    user = session.get(User, principal.user_id)
    if user is None:
        raise NotFound("账号不存在", code="me.not_found")
    subject = None
    if principal.subject_id is not None:
        found = subjects.get(session, principal.subject_id)
        summary = subject_rules.summary(found)
        subject = MeSubject(
            uscc=found.uscc,
            name=found.name,
            kind=found.kind,
            kind_label=summary["kind_label"],
            id_masked=found.id_masked,
        )
    return Me(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        verified=principal.subject_id is not None,
        verification_method=user.verification_method if principal.subject_id is not None else None,
        subject=subject,
        unread_notices=notices.unread_count(session, principal),
    )


@router.get(
    "/file",
    response_model=SubjectDetail,
    responses=_responses(
        _ok(
            {
                "uscc": USCC,
                "name": "成都示例科技有限公司",
                "kind": "legal_person",
                "kind_label": "法人",
                "region_code": "510105",
                "region_name": "四川省成都市青羊区",
                "legal_rep": "张三",
                "registered_on": "2018-05-10",
                "operating_status": "存续",
                "records": [],
                "lists": [],
                "list_history": [],
                "sections": [{"code": "registration", "title": "登记注册基本信息", "count": 1}],
                "objections_pending": 0,
                "registrations": [],
            }
        ),
        GUARDED,
    ),
)
def my_file(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("me:own")],
) -> SubjectDetail:
    """My whole credit file, in the shape of `GET /api/v1/subjects/{uscc}` for the subject itself (records
    outside their publicity window included); the read is audited as on the web (`subject.view_own`)."""
    subject = subjects.get(session, _own_subject_id(principal))
    return subject_detail(session, platform, principal, subject, today, purpose=None, ip=client_ip(request))


@router.get(
    "/viewers",
    response_model=list[Viewer],
    responses=_responses(
        _ok(
            [
                {
                    "at": "2026-12-06T03:12:00Z",
                    "action": "subject.view",
                    "action_label": "查阅主体非公开信息",
                    "department_code": "SCMR",
                    "department_name": "四川省市场监督管理局",
                    "organization": None,
                    "organization_uscc": None,
                    "purpose": "食品经营许可审查",
                }
            ]
        ),
        GUARDED,
    ),
)
def my_viewers(session: SessionDep, principal: Annotated[Principal, require("me:own")]) -> list[Viewer]:
    """Who viewed my non-public file (查询记录): departments with their purpose, organisations I authorised,
    checks run and reports issued on me, newest first."""
    departments = _departments(session)
    shown = []
    for entry in audit.views_of_subject(session, _own_subject_id(principal)):
        details = entry.details or {}
        shown.append(
            Viewer(
                at=entry.at,
                action=entry.action,
                action_label=action_label(entry.action),
                department_code=entry.department_code,
                department_name=departments.get(entry.department_code or ""),
                organization=details.get("organization"),
                organization_uscc=details.get("organization_uscc"),
                purpose=entry.purpose,
            )
        )
    return shown


@router.get(
    "/notices",
    response_model=NoticeList,
    responses=_responses(
        _ok(
            {
                "unread": 1,
                "items": [
                    {
                        "id": 90,
                        "kind": "repair_notice",
                        "title": "信用修复告知书",
                        "body": None,
                        "link": "/account/notices/90",
                        "created_at": "2026-12-01T01:00:00Z",
                        "read_at": None,
                    }
                ],
            }
        ),
        GUARDED,
    ),
)
def my_notices(session: SessionDep, principal: Annotated[Principal, require("me:own")]) -> NoticeList:
    """My notices, newest first: repair notices (修复告知书), decisions, answers, registration outcomes."""
    return NoticeList(
        unread=notices.unread_count(session, principal),
        items=[
            NoticeItem(
                id=n.id,
                kind=n.kind,
                title=n.title,
                body=n.body,
                link=n.link,
                created_at=n.created_at,
                read_at=n.read_at,
            )
            for n in notices.inbox(session, principal)
        ],
    )


# -- commitments ---------------------------------------------------------------------------------------------


@router.get(
    "/commitments",
    response_model=list[MyCommitment],
    responses=_responses(_ok([COMMITMENT_EXAMPLE]), GUARDED),
)
def my_commitments(
    session: SessionDep, principal: Annotated[Principal, require("me:own")]
) -> list[MyCommitment]:
    """My commitments (信用承诺), public or not, with their verification state, newest first."""
    departments = _departments(session)
    return [_commitment(session, c, departments) for c in commitments.of_subject(session, principal)]


@router.get(
    "/commitments/templates",
    response_model=list[SigningTemplate],
    responses=_responses(
        _ok(
            [
                {
                    "code": "notify_commit",
                    "title": "证明事项告知承诺书",
                    "kind": "approval",
                    "kind_label": "审批替代型",
                    "legal_basis": "《国务院办公厅关于全面推行证明事项和涉企经营许可事项告知承诺制的指导意见》（国办发〔2020〕42号）",
                    "promise": "所填写的信息真实、准确，符合办理事项的条件……",
                    "verification": "受理部门在规定期限内通过数据共享、现场核查等方式核查",
                    "matters": [{"department": "SCMR", "name": "食品经营许可申请中的经营场所合法使用证明"}],
                    "department": None,
                    "text": "本主体成都示例科技有限公司（统一社会信用代码：91510105MA6MRBLB9Y）……",
                }
            ]
        ),
        GUARDED,
    ),
)
def signing_templates(
    session: SessionDep, today: TodayDep, principal: Annotated[Principal, require("me:own")]
) -> list[SigningTemplate]:
    """The templates I may sign online, with their legal basis, what is promised, how it is checked, the
    matters they apply to and their text with my subject filled in: what the app shows before `agree`."""
    subject = subjects.get(session, _own_subject_id(principal))
    return [
        SigningTemplate(
            code=t.code,
            title=t.title,
            kind=t.kind,
            kind_label=t.kind_label,
            legal_basis=t.legal_basis,
            promise=t.promise,
            verification=t.verification.method,
            matters=[Matter(department=d, name=n) for d, n in commitments.matters_of(t)],
            department=t.department,
            text=commitments.preview(t.code, subject, target="（承诺事项）", signer_name="", today=today),
        )
        for t in commitments.templates().values()
        if t.kind in commitments.ONLINE_KINDS and t.public
    ]


@router.post(
    "/commitments",
    status_code=201,
    response_model=MyCommitment,
    responses=_responses(
        _ok(COMMITMENT_EXAMPLE, 201, "已签署"),
        GUARDED,
        _error(422, "commitment.matter_not_in_catalogue", "事项不在目录中，不适用证明事项告知承诺书"),
    ),
)
def sign_commitment(
    body: Signing,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("me:own")],
) -> MyCommitment:
    """Sign a commitment online from a template, as in the account's pages: the text frozen, hashed and
    attested; with an accepting department, its verification task (核查) is generated. Templates that may be
    signed online: those of kind approval (a matter of the approval catalogue, by code or name), voluntary and
    industry. `agree` must be true."""
    chosen = commitments.template(body.template)
    if chosen.kind not in commitments.ONLINE_KINDS or not chosen.public:
        raise ValidationFailed(f"《{chosen.title}》不能在此在线签署", code="commitment.not_online_template")
    if not body.agree:
        raise ValidationFailed("须阅读并确认承诺内容", code="commitment.not_agreed")
    departments = _departments(session)
    if body.department and body.department not in departments:
        raise ValidationFailed("受理部门不存在", code="commitment.unknown_department")
    name = body.matter.strip()
    target = name
    if chosen.catalogue is not None:  # the matter's name, not its code, goes into the text
        target = commitments.resolve_matter(chosen, name, None)[0]
    signed = commitments.sign(
        session,
        platform.context(principal, today, ip=client_ip(request)),
        template_code=chosen.code,
        subject=subjects.get(session, _own_subject_id(principal)),
        target=target,
        signer_name=body.signer_name,
        matter=name,
        department_code=None if chosen.catalogue is not None else (body.department or chosen.department),
    )
    return _commitment(session, signed, departments)


# -- voluntary registration ----------------------------------------------------------------------------------


@router.get(
    "/registrations",
    response_model=list[RegistrationRead],
    responses=_responses(_ok([REGISTRATION_EXAMPLE]), GUARDED),
)
def my_registrations(
    session: SessionDep, principal: Annotated[Principal, require("me:own")]
) -> list[dict[str, Any]]:
    """My registered information (自愿注册) in every state, newest first (entries of a kind no longer shipped
    are left out, as on the credit file)."""
    known = registrations.kind_set()
    return [
        registrations.read(r, "own")
        for r in registrations.of_subject(session, _own_subject_id(principal))
        if known.get(r.kind) is not None
    ]


@router.get(
    "/registrations/kinds",
    response_model=list[Kind],
    responses=_responses(
        _ok(
            [
                {
                    "code": "honour",
                    "label": "荣誉表彰",
                    "confirmer": "issuer",
                    "public": "always",
                    "source": "川发改信用规〔2019〕546号 表2（市场主体自愿注册荣誉表彰信息）",
                    "title_field": "name",
                    "fields": [
                        {
                            "name": "name",
                            "label": "荣誉名称",
                            "type": "text",
                            "required": True,
                            "max_length": 200,
                            "unit": None,
                            "min": None,
                            "max": None,
                            "options": [],
                            "future": False,
                            "after": None,
                        }
                    ],
                }
            ]
        ),
        GUARDED,
    ),
)
def registration_kinds(principal: Annotated[Principal, require("me:own")]) -> list[Kind]:
    """The kinds of information I may register, each with its fields, who confirms it (`issuer`: the
    department I name in `department_code`; `credit_office`), what is public and its source."""
    return list(registrations.kind_set().kinds)


@router.post(
    "/registrations",
    status_code=201,
    response_model=RegistrationRead,
    responses=_responses(
        _ok(REGISTRATION_EXAMPLE, 201, "已申报"),
        GUARDED,
        _error(422, "registration.unknown_kind", "信息种类“award”不存在"),
    ),
)
def declare(
    body: Declaration,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("me:own")],
) -> dict[str, Any]:
    """Declare information about myself (自主申报) with its truthfulness commitment, signed with it; the
    competent department is told and confirms or rejects it. Evidence files are attached on the web
    (`/account/registrations`). `agree` must be true."""
    if not body.agree:
        raise ValidationFailed(
            "请阅读承诺书全文并确认“我已阅读并承诺”", code="registration.commitment_not_agreed"
        )
    fields = {k[:32]: "" if v is None else str(v) for k, v in body.fields.items()}
    registration = registrations.declare(
        session,
        platform.context(principal, today, ip=client_ip(request)),
        kind_code=body.kind,
        fields=fields,
        signer_name=body.signer_name,
        department_code=body.department_code or None,
        publish=body.publish,
    )
    return registrations.read(registration, "own")


# -- authorisations ------------------------------------------------------------------------------------------


@router.get(
    "/authorizations",
    response_model=list[MyAuthorization],
    responses=_responses(_ok([AUTHORIZATION_EXAMPLE]), GUARDED),
)
def my_authorizations(
    session: SessionDep, today: TodayDep, principal: Annotated[Principal, require("me:own")]
) -> list[MyAuthorization]:
    """The authorisations (授权) I gave, newest first: active, revoked or expired (computed from the day)."""
    found = list(authorizations.of_subject(session, _own_subject_id(principal)))
    return _authorizations(session, found, today)


@router.post(
    "/authorizations",
    status_code=201,
    response_model=MyAuthorization,
    responses=_responses(
        _ok(AUTHORIZATION_EXAMPLE, 201, "已授权"),
        GUARDED,
        _error(
            422, "authorizations.unknown_organization", "平台上没有该统一社会信用代码的机构，请核对后再试"
        ),
    ),
)
def grant(
    body: Grant,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("me:own")],
) -> MyAuthorization:
    """Authorise an organisation (an agency or a bank, by its USCC) to read my non-public file and/or obtain my
    standard credit report, for a purpose, until a day at most a year ahead; audited."""
    granted = authorizations.grant(
        session,
        platform.context(principal, today, ip=client_ip(request)),
        organization_uscc=body.organization_uscc,
        scopes=body.scopes,
        purpose_kind=body.purpose_kind,
        purpose=body.purpose,
        valid_until=body.valid_until,
    )
    return _authorizations(session, [granted], today)[0]


@router.post(
    "/authorizations/{authorization_id}/revoke",
    response_model=MyAuthorization,
    responses=_responses(
        _ok(AUTHORIZATION_EXAMPLE | {"state": "revoked", "state_label": "已撤销"}),
        GUARDED,
        _error(404, "authorizations.not_found", "授权不存在"),
        _error(409, "authorizations.already_revoked", "该授权已撤销"),
    ),
)
def revoke(
    authorization_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("me:own")],
) -> MyAuthorization:
    """Revoke one of my authorisations at once: the organisation reads nothing more under it; audited.
    Another subject's authorisation does not exist for me (404)."""
    revoked = authorizations.revoke(
        session, platform.context(principal, today, ip=client_ip(request)), authorization_id
    )
    return _authorizations(session, [revoked], today)[0]
