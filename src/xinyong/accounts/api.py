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

from typing import Annotated

from fastapi import APIRouter, Request, Response

from xinyong.accounts import auth, me_authorizations_api, me_commitments_api, me_registrations_api, mobile
from xinyong.accounts.deps import require
from xinyong.accounts.me_schemas import (
    GUARDED,
    NO_TOKEN,
    USCC,
    AccessToken,
    Login,
    Me,
    MeSubject,
    NoticeItem,
    NoticeList,
    Viewer,
    answers,
    department_names,
    error_answer,
    ok_answer,
    own_subject_id,
)
from xinyong.accounts.models import User
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.audit.views import action_label
from xinyong.creditfile.schemas import SubjectDetail
from xinyong.kit.errors import NotFound, XinyongError
from xinyong.notices import service as notices
from xinyong.subjects import rules as subject_rules
from xinyong.subjects import service as subjects
from xinyong.subjects.api import subject_detail
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.ratelimit import rate_limited

router = APIRouter(prefix="/me", tags=["me"], dependencies=[rate_limited("api")])


# -- login and logout ----------------------------------------------------------------------------------------


@router.post(
    "/login",
    response_model=AccessToken,
    dependencies=[rate_limited("login")],
    responses=answers(
        ok_answer({"access_token": "xym_Q2hhbmdlTWU…", "token_type": "bearer", "expires_in": 900}),
        error_answer(401, "auth.invalid_credentials", "用户名或密码错误"),
        error_answer(403, "auth.throttled", "登录失败次数过多，请2分钟后再试"),
        error_answer(429, "rate_limited", "请求过于频繁，请稍后再试"),
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
    responses=answers(
        ok_answer(
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
    responses=answers(
        ok_answer(
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
    subject = subjects.get(session, own_subject_id(principal))
    return subject_detail(session, platform, principal, subject, today, purpose=None, ip=client_ip(request))


@router.get(
    "/viewers",
    response_model=list[Viewer],
    responses=answers(
        ok_answer(
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
    departments = department_names(session)
    shown = []
    for entry in audit.views_of_subject(session, own_subject_id(principal)):
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
    responses=answers(
        ok_answer(
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


# -- commitments, voluntary registration, authorisations (in that order, after the routes above) ----------

for _part in (me_commitments_api, me_registrations_api, me_authorizations_api):
    router.include_router(_part.router)
