"""Login and logout, a subject's own account page (查询记录), and user management in the console."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from xinyong.accounts import auth, opening_views
from xinyong.accounts import service as accounts
from xinyong.accounts.auth import SESSION_COOKIE
from xinyong.accounts.deps import require
from xinyong.accounts.policy import ORGANIZATION_ROLES, ROLE_LABELS, ROLES, Principal
from xinyong.audit import service as audit
from xinyong.kit.errors import Forbidden, ValidationFailed, XinyongError
from xinyong.kit.identifiers import normalize_code
from xinyong.subjects import rules as subject_rules
from xinyong.subjects import service as subjects
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import PlatformDep, SessionDep, client_ip
from xinyong.web.ratelimit import rate_limited
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request, principal: Annotated[Principal, require("public")], next: str = "/"
) -> HTMLResponse:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", dependencies=[rate_limited("login")])
def login(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("public")],
    _csrf: CsrfDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=300)] = "/",
) -> Response:
    try:
        user = auth.authenticate(
            session, username, password, ip=client_ip(request), demo_mode=platform.settings.demo_mode
        )
    except XinyongError as exc:
        attempted = Principal(kind="user", name=username.strip()[:64] or "?")
        audit.record(
            session,
            attempted,
            "auth.login",
            outcome="failed",
            ip=client_ip(request),
            details={"code": exc.code},
        )
        session.commit()  # the failed attempt must count even though the request fails
        return render(
            request, "login.html", {"next": _safe_next(next), "error": exc}, status_code=exc.status_code
        )
    audit.record(session, auth.principal_for_user(user), "auth.login", ip=client_ip(request))
    token = auth.start_session(session, user, ip=client_ip(request))
    home = (
        "/account"
        if user.role == "subject"
        else "/account/authorized"
        if user.role in ORGANIZATION_ROLES
        else "/console"
    )
    response = RedirectResponse(_safe_next(next) if next not in ("", "/") else home, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        max_age=auth.SESSION_DAYS * 86400,
        secure=platform.settings.cookie_secure or request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("authenticated")],
    _csrf: CsrfDep,
) -> Response:
    if cookie := request.cookies.get(SESSION_COOKIE):
        auth.end_session(session, cookie)
    audit.record(session, principal, "auth.logout", ip=client_ip(request))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/account", response_class=HTMLResponse)
def account(
    request: Request, session: SessionDep, principal: Annotated[Principal, require("account:verify")]
) -> HTMLResponse:
    """A subject's own page: its file link and who looked at its non-public data (查询记录); an account not
    yet verified sees how to verify itself, and nothing of any subject's non-public data."""
    if principal.subject_id is None:
        return render(request, "account.html", {"subject": None, "views": [], "departments": {}})
    subject = subjects.get(session, principal.subject_id)
    views = audit.views_of_subject(session, subject.id)
    departments = {d.code: d.name for d in accounts.list_departments(session)}
    return render(
        request,
        "account.html",
        {"subject": subject_rules.summary(subject), "views": views, "departments": departments},
    )


@router.get("/console/users", response_class=HTMLResponse)
def users_page(
    request: Request, session: SessionDep, principal: Annotated[Principal, require("users:manage")]
) -> HTMLResponse:
    own = None if principal.is_credit_office else principal.department_code
    return render(
        request,
        "users.html",
        {
            "users": auth.list_users(session, own),
            "roles": [r for r in ROLES if principal.is_credit_office or r in ("provider", "reviewer")],
            "role_labels": ROLE_LABELS,
            "departments": [d for d in accounts.list_departments(session) if own is None or d.code == own],
        },
    )


@router.post("/console/users")
def add_user(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("users:manage")],
    _csrf: CsrfDep,
    username: Annotated[str, Form(max_length=64)],
    display_name: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=200)],
    role: Annotated[str, Form(max_length=24)],
    department: Annotated[str, Form(max_length=32)] = "",
    organization: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    organization_id = None
    if role in ORGANIZATION_ROLES:  # an agency's or a bank's account is bound to its organisation
        if not organization.strip():
            raise ValidationFailed(
                "机构账号须填写所属机构的统一社会信用代码", code="user.organization_required"
            )
        organization_id = subjects.get_by_uscc(session, normalize_code(organization)[:18]).id
    if not principal.is_credit_office and (
        department != principal.department_code or role not in ("provider", "reviewer")
    ):
        raise Forbidden("只能为本部门添加数据报送员或审核员", code="user.other_department")
    user = auth.create_user(
        session,
        username=username,
        password=password,
        role=role,
        display_name=display_name,
        department_code=department or None,
        subject_id=organization_id,
    )
    audit.record(
        session, principal, "user.create", target=user.username, ip=client_ip(request), details={"role": role}
    )
    return RedirectResponse("/console/users", status_code=303)


@router.post("/console/users/{user_id}/active")
def set_user_active(
    user_id: int,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("users:manage")],
    _csrf: CsrfDep,
    active: Annotated[bool, Form()] = False,
) -> Response:
    if user_id == principal.user_id:
        raise Forbidden("不能停用自己的账号", code="user.self")
    own = None if principal.is_credit_office else principal.department_code
    user = auth.set_active(session, user_id, active, department_code=own)
    audit.record(
        session,
        principal,
        "user.enable" if active else "user.disable",
        target=user.username,
        ip=client_ip(request),
    )
    return RedirectResponse("/console/users", status_code=303)


router.include_router(opening_views.router)
