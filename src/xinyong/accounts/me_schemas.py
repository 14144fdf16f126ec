"""The mobile channel's (`/api/v1/me`, `accounts/api.py`) request and response bodies, the examples of its
answers in the OpenAPI documentation, and the small helpers its routes share."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.policy import Principal

USCC = "91510105MA6MRBLB9Y"
BEARER = "Authorization: Bearer <access_token>（由 POST /api/v1/me/login 取得，15分钟内有效）"


def error_answer(status: int, code: str, message: str) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "description": message,
            "content": {"application/json": {"example": {"error": {"code": code, "message": message}}}},
        }
    }


def ok_answer(example: Any, status: int = 200, description: str = "成功") -> dict[int | str, dict[str, Any]]:
    return {status: {"description": description, "content": {"application/json": {"example": example}}}}


def answers(*parts: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    merged: dict[int | str, dict[str, Any]] = {}
    for part in parts:
        merged.update(part)
    return merged


NO_TOKEN = error_answer(401, "auth.invalid_token", "令牌无效、已过期或已吊销")
NOT_MOBILE = error_answer(
    403, "auth.forbidden", "当前账号无权执行此操作（浏览器会话和部门系统令牌不能调用本接口）"
)
GUARDED = answers(NO_TOKEN, NOT_MOBILE)


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


def department_names(session: Session) -> dict[str, str]:
    return {d.code: d.name for d in accounts.list_departments(session)}


def own_subject_id(principal: Principal) -> int:
    assert principal.subject_id is not None  # "me:own" lets only a verified account's token through
    return principal.subject_id
