"""The mobile channel's commitments (`/api/v1/me/commitments`): the subject's own, the templates it may sign
online with their text, and signing one, through the services the account pages call.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from xinyong.accounts.deps import require
from xinyong.accounts.me_schemas import (
    COMMITMENT_EXAMPLE,
    GUARDED,
    Matter,
    MyCommitment,
    Signing,
    SigningTemplate,
    answers,
    department_names,
    error_answer,
    ok_answer,
    own_subject_id,
)
from xinyong.accounts.policy import Principal
from xinyong.commitments import rules as commitment_rules
from xinyong.commitments import service as commitments
from xinyong.commitments.models import Commitment
from xinyong.commitments.schemas import KIND_LABELS
from xinyong.kit.errors import ValidationFailed
from xinyong.subjects import service as subjects
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip

router = APIRouter()


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


# -- commitments ---------------------------------------------------------------------------------------------


@router.get(
    "/commitments",
    response_model=list[MyCommitment],
    responses=answers(ok_answer([COMMITMENT_EXAMPLE]), GUARDED),
)
def my_commitments(
    session: SessionDep, principal: Annotated[Principal, require("me:own")]
) -> list[MyCommitment]:
    """My commitments (信用承诺), public or not, with their verification state, newest first."""
    departments = department_names(session)
    return [_commitment(session, c, departments) for c in commitments.of_subject(session, principal)]


@router.get(
    "/commitments/templates",
    response_model=list[SigningTemplate],
    responses=answers(
        ok_answer(
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
    subject = subjects.get(session, own_subject_id(principal))
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
    responses=answers(
        ok_answer(COMMITMENT_EXAMPLE, 201, "已签署"),
        GUARDED,
        error_answer(422, "commitment.matter_not_in_catalogue", "事项不在目录中，不适用证明事项告知承诺书"),
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
    departments = department_names(session)
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
        subject=subjects.get(session, own_subject_id(principal)),
        target=target,
        signer_name=body.signer_name,
        matter=name,
        department_code=None if chosen.catalogue is not None else (body.department or chosen.department),
    )
    return _commitment(session, signed, departments)
