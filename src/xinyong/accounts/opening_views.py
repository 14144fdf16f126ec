"""Opening a subject account (开通主体账号) and verifying one: the pages of `accounts.verification`, and the
credit office's desk for requests with documents and (demo mode) the outbox of messages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from xinyong.accounts import auth, messaging, oidc, review, verification
from xinyong.accounts.deps import require
from xinyong.accounts.messaging import OutboxGateway
from xinyong.accounts.models import AccountVerification, User
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.files import service as files
from xinyong.files.service import Upload
from xinyong.kit.errors import NotFound, PayloadTooLarge, ValidationFailed, XinyongError
from xinyong.platform import Platform
from xinyong.web import downloads
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.ratelimit import rate_limited
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)
TICKET_COOKIE = "xy_opening"  # the random ticket of this browser's registration or verification
TICKET_MAX_AGE_S = 3600
STATUS_LABELS = {"pending": "待处理", "proven": "已核验", "done": "已通过", "refused": "不予通过"}
METHOD_LABELS = {"code": "验证码", "oidc": "统一身份认证", "review": "信用办审核", "operator": "信用办开通"}
KIND_LABELS = {"enterprise": "企业、个体工商户或其他组织", "person": "自然人", "unknown": "—"}


def gateway(platform: Platform) -> OutboxGateway:
    """The message gateway. The outbox is the one shipped; a province's SMS or e-mail gateway implements
    `messaging.MessageGateway` and is returned here."""
    return OutboxGateway()


def _with_ticket(response: Response, request: Request, platform: Platform, ticket: str) -> Response:
    response.set_cookie(
        TICKET_COOKIE,
        ticket,
        httponly=True,
        samesite="lax",
        max_age=TICKET_MAX_AGE_S,
        secure=platform.settings.cookie_secure or request.url.scheme == "https",
    )
    return response


def _verifying_user(session: Session, principal: Principal) -> User | None:
    return verification.unverified_user_of(session, principal)


def _oidc_label(platform: Platform) -> str | None:
    return platform.settings.oidc_label if platform.settings.oidc_issuer else None


def _redirect_uri(request: Request, platform: Platform) -> str:
    return (
        platform.settings.oidc_redirect_url or str(request.base_url).rstrip("/") + "/register/oidc/callback"
    )


def _page(
    request: Request,
    session: Session,
    platform: Platform,
    principal: Principal,
    *,
    error: XinyongError | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "register.html",
        {
            "error": error,
            "form": form or {},
            "verifying": _verifying_user(session, principal),
            "oidc_label": _oidc_label(platform),
        },
        status_code=status_code,
    )


@router.get("/register", response_class=HTMLResponse)
def register_page(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("public")],
) -> HTMLResponse:
    """Open a subject account: choose how to prove it is yours."""
    return _page(request, session, platform, principal)


@router.post("/register", dependencies=[rate_limited("login")])
def send_code(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("public")],
    _csrf: CsrfDep,
    kind: Annotated[str, Form(max_length=16)] = "enterprise",
    uscc: Annotated[str, Form(max_length=40)] = "",
    resident_id: Annotated[str, Form(max_length=40)] = "",
    person_name: Annotated[str, Form(max_length=50)] = "",
) -> Response:
    """Send a one-time code to the contact the registration authority holds for the subject."""
    verifying = _verifying_user(session, principal)
    try:
        claim = verification.parse_claim(
            kind, uscc=uscc, resident_id=resident_id, person_name=person_name, today=today
        )
        started = verification.start_code(
            session,
            gateway(platform),
            platform.cipher,
            claim,
            user_id=verifying.id if verifying else None,
            ip=client_ip(request),
        )
    except XinyongError as exc:
        form = {"kind": kind, "uscc": uscc, "person_name": person_name}
        return _page(request, session, platform, principal, error=exc, form=form, status_code=exc.status_code)
    audit.record(
        session,
        principal,
        "account.code_requested",
        target=claim.shown_code,
        ip=client_ip(request),
        details={"kind": claim.kind},
    )
    return _with_ticket(
        RedirectResponse("/register/verify", status_code=303), request, platform, started.ticket
    )


def _verify_page(
    request: Request,
    session: Session,
    principal: Principal,
    row: AccountVerification | None,
    *,
    error: XinyongError | None = None,
    status_code: int = 200,
    username: str = "",
) -> HTMLResponse:
    # Where the code went is told for enterprises only (whether a USCC exists is public anyway); for a person
    # the page reads the same whether or not anything was sent.
    sent_to, no_contact = None, False
    if row is not None and row.method == "code" and row.subject_kind == "enterprise":
        contact = messaging.contact_of(session, row.subject_id) if row.subject_id is not None else None
        sent_to = messaging.mask_contact(contact.channel, contact.address) if contact else None
        no_contact = contact is None
    return render(
        request,
        "register_verify.html",
        {
            "row": row,
            "sent_to": sent_to,
            "no_contact": no_contact,
            "error": error,
            "verifying": _verifying_user(session, principal),
            "username": username,
        },
        status_code=status_code,
    )


@router.get("/register/verify", response_class=HTMLResponse)
def verify_page(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("public")],
) -> HTMLResponse:
    """Enter the code received and, for a new account, choose a username and password."""
    try:
        row = verification.by_ticket(session, request.cookies.get(TICKET_COOKIE))
    except XinyongError:
        row = None
    if row is not None and (row.method == "review" or (row.method == "oidc" and row.status != "proven")):
        row = None  # a review is followed on its status page; an unfinished login is started again
    return _verify_page(request, session, principal, row)


@router.post("/register/verify", dependencies=[rate_limited("login")])
def verify(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("public")],
    _csrf: CsrfDep,
    code: Annotated[str, Form(max_length=12)] = "",
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Check the code (five tries) and open or verify the account."""
    ticket = request.cookies.get(TICKET_COOKIE)
    row: AccountVerification | None = None
    try:
        row = verification.by_ticket(session, ticket)
        if row.method == "code":
            row = verification.check_code(session, platform.cipher, ticket, code)
        user = verification.complete(session, row, username=username, password=password)
    except XinyongError as exc:
        session.commit()  # a wrong code counts, and a proven one stays proven, though this request fails
        if row is not None and row.status not in ("pending", "proven"):
            row = None
        return _verify_page(
            request, session, principal, row, error=exc, status_code=exc.status_code, username=username
        )
    audit.record(
        session,
        auth.principal_for_user(user),
        "account.verified",
        subject_id=user.subject_id,
        ip=client_ip(request),
        details={"method": row.method},
    )
    return _done(request, session, platform, principal, user)


def _done(
    request: Request, session: Session, platform: Platform, principal: Principal, user: User
) -> Response:
    """After verification: an account that was logged in goes to its page, a new one to the login."""
    target = "/account" if principal.user_id == user.id else "/login?next=/account&opened=1"
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(TICKET_COOKIE)
    return response


@router.get("/register/oidc")
def oidc_start(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("public")],
) -> Response:
    """Go to the province's unified identity platform to log in."""
    provider = oidc.Provider(platform.settings)
    verifying = _verifying_user(session, principal)
    ticket, state, nonce = verification.start_oidc(
        session, user_id=verifying.id if verifying else None, ip=client_ip(request)
    )
    url = provider.authorize_url(redirect_uri=_redirect_uri(request, platform), state=state, nonce=nonce)
    return _with_ticket(RedirectResponse(url, status_code=303), request, platform, ticket)


@router.get("/register/oidc/callback")
def oidc_callback(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("public")],
    code: str = "",
    state: str = "",
    error: str = "",
) -> Response:
    """Back from the identity platform: check the ID token and bind the login to its subject."""
    provider = oidc.Provider(platform.settings)
    try:
        row = verification.oidc_login(session, request.cookies.get(TICKET_COOKIE), state)
        if error or not code:
            row.status = "refused"
            raise ValidationFailed("统一身份认证未完成，请重新开始", code="oidc.cancelled")
        identity = provider.identity(
            code[:2000], redirect_uri=_redirect_uri(request, platform), nonce=row.nonce or ""
        )
        verification.finish_oidc(session, platform.cipher, row, identity, today=today)
        if row.user_id is not None:
            user = verification.complete(session, row)
            audit.record(
                session,
                auth.principal_for_user(user),
                "account.verified",
                subject_id=user.subject_id,
                ip=client_ip(request),
                details={"method": "oidc"},
            )
            return _done(request, session, platform, principal, user)
    except XinyongError as exc:
        session.commit()  # the spent state and the refusal are kept
        return _page(request, session, platform, principal, error=exc, status_code=exc.status_code)
    return RedirectResponse("/register/verify", status_code=303)


def _upload(item: UploadFile | str | None) -> Upload | None:
    if item is None or isinstance(item, str) or not item.filename:
        return None
    upload = Upload(item.filename, item.file.read(files.MAX_FILE_BYTES + 1))
    if len(upload.content) > files.MAX_FILE_BYTES:
        raise PayloadTooLarge(
            f"文件“{upload.filename}”超过{files.MAX_FILE_BYTES // (1024 * 1024)}MB上限", code="file.too_large"
        )
    if not upload.content:
        raise ValidationFailed(f"文件“{upload.filename}”为空", code="file.empty")
    return upload


@router.get("/register/review", response_class=HTMLResponse)
def review_form(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("public")],
) -> HTMLResponse:
    """Ask the credit office to open (or verify) the account on the documents uploaded."""
    return render(
        request,
        "register_review.html",
        {"error": None, "form": {}, "verifying": _verifying_user(session, principal)},
    )


@router.post("/register/review", dependencies=[rate_limited("login")])
def review_submit(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("public")],
    _csrf: CsrfDep,
    applicant: Annotated[str, Form(max_length=100)] = "",
    kind: Annotated[str, Form(max_length=16)] = "enterprise",
    uscc: Annotated[str, Form(max_length=40)] = "",
    resident_id: Annotated[str, Form(max_length=40)] = "",
    person_name: Annotated[str, Form(max_length=50)] = "",
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    licence: Annotated[UploadFile | str | None, File()] = None,
    letter: Annotated[UploadFile | str | None, File()] = None,
) -> Response:
    """File the request; it is answered on this browser's status page."""
    verifying = _verifying_user(session, principal)
    try:
        claim = verification.parse_claim(
            kind, uscc=uscc, resident_id=resident_id, person_name=person_name, today=today
        )
        ticket, row = review.submit_review(
            session,
            platform.context(principal, today, ip=client_ip(request)),
            claim,
            applicant=applicant,
            licence=_upload(licence),
            letter=_upload(letter),
            username=username,
            password=password,
            user_id=verifying.id if verifying else None,
        )
    except XinyongError as exc:
        form = {
            "kind": kind,
            "uscc": uscc,
            "person_name": person_name,
            "applicant": applicant,
            "username": username,
        }
        return render(
            request,
            "register_review.html",
            {"error": exc, "form": form, "verifying": verifying},
            status_code=exc.status_code,
        )
    audit.record(session, principal, "account.review_requested", target=str(row.id), ip=client_ip(request))
    return _with_ticket(
        RedirectResponse("/register/review/status", status_code=303), request, platform, ticket
    )


@router.get("/register/review/status", response_class=HTMLResponse)
def review_status(
    request: Request, session: SessionDep, principal: Annotated[Principal, require("public")]
) -> HTMLResponse:
    """Where this browser's request stands."""
    try:
        row: AccountVerification | None = verification.by_ticket(
            session, request.cookies.get(TICKET_COOKIE), "review"
        )
    except XinyongError:
        row = None
    return render(request, "register_review_status.html", {"row": row, "labels": STATUS_LABELS})


# -- the credit office ----------------------------------------------------------------------------------------


@router.get("/console/account-requests", response_class=HTMLResponse)
def review_queue(
    request: Request, session: SessionDep, principal: Annotated[Principal, require("accounts:review")]
) -> HTMLResponse:
    """Requests to open or verify a subject account, with their documents, awaiting a decision."""
    rows = review.pending_reviews(session)
    return render(
        request,
        "console_account_requests.html",
        {
            "rows": rows,
            "attachments": {r.id: files.attachments_of(session, review.evidence_owner(r.id)) for r in rows},
            "kinds": KIND_LABELS,
            "error": None,
        },
    )


@router.get("/console/account-requests/{request_id}/files/{file_id}")
def review_file(
    request_id: int,
    file_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("accounts:review")],
) -> Response:
    """A document of a request, as an attachment (never rendered inline)."""
    row = review.get_review(session, request_id)
    attachment = files.get(session, review.evidence_owner(row.id), file_id)
    content = files.read(platform.settings.data_dir, attachment)
    audit.record(
        session, principal, "account.review_file", target=f"{row.id}/{file_id}", ip=client_ip(request)
    )
    return downloads.attachment(content, attachment.filename, attachment.content_type)


@router.post("/console/account-requests/{request_id}")
def review_decide(
    request_id: int,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("accounts:review")],
    _csrf: CsrfDep,
    decision: Annotated[str, Form(max_length=10)],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Approve (the account is opened or verified and bound to its subject) or refuse with reasons."""
    if decision not in ("approve", "refuse"):
        raise ValidationFailed("请选择通过或不予通过", code="review.decision")
    row = review.decide_review(session, principal, request_id, approve=decision == "approve", reason=reason)
    audit.record(
        session,
        principal,
        "account.review_" + decision,
        target=str(row.id),
        subject_id=row.subject_id,
        ip=client_ip(request),
    )
    return RedirectResponse("/console/account-requests", status_code=303)


@router.get("/console/messages", response_class=HTMLResponse)
def messages_page(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("accounts:review")],
) -> HTMLResponse:
    """The outbox of messages to registered contacts (demo mode only: in production they are delivered)."""
    if not platform.settings.demo_mode:
        raise NotFound("消息发件箱仅在演示模式下可见", code="messages.demo_only")
    audit.record(session, principal, "messages.read", ip=client_ip(request))
    return render(request, "console_messages.html", {"messages": messaging.outbox(session, limit=100)})
