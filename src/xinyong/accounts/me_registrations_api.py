"""The mobile channel's voluntary registration (`/api/v1/me/registrations`): the subject's entries, the kinds it
may declare with their fields, and declaring one, through the services the account pages call.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request

from xinyong.accounts.deps import require
from xinyong.accounts.me_schemas import (
    GUARDED,
    REGISTRATION_EXAMPLE,
    Declaration,
    answers,
    error_answer,
    ok_answer,
    own_subject_id,
)
from xinyong.accounts.policy import Principal
from xinyong.kit.errors import ValidationFailed
from xinyong.registration import service as registrations
from xinyong.registration.schemas import Kind, RegistrationRead
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip

router = APIRouter()


# -- voluntary registration ----------------------------------------------------------------------------------


@router.get(
    "/registrations",
    response_model=list[RegistrationRead],
    responses=answers(ok_answer([REGISTRATION_EXAMPLE]), GUARDED),
)
def my_registrations(
    session: SessionDep, principal: Annotated[Principal, require("me:own")]
) -> list[dict[str, Any]]:
    """My registered information (自愿注册) in every state, newest first (entries of a kind no longer shipped
    are left out, as on the credit file)."""
    known = registrations.kind_set()
    return [
        registrations.read(r, "own")
        for r in registrations.of_subject(session, own_subject_id(principal))
        if known.get(r.kind) is not None
    ]


@router.get(
    "/registrations/kinds",
    response_model=list[Kind],
    responses=answers(
        ok_answer(
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
    responses=answers(
        ok_answer(REGISTRATION_EXAMPLE, 201, "已申报"),
        GUARDED,
        error_answer(422, "registration.unknown_kind", "信息种类“award”不存在"),
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
