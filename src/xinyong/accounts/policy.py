"""Who may do what: one pure policy over principals and permissions (no I/O).

Routes declare the permission they need (`accounts.deps.require`); repositories scope their queries with
the same principal (records.repository.visible_filter), so what a user cannot do is never fetched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("subject", "provider", "reviewer", "credit_office", "auditor", "agency", "bank")
ROLE_LABELS = {
    "subject": "信用主体",
    "provider": "数据报送员",
    "reviewer": "部门审核员",
    "credit_office": "信用办管理员",
    "auditor": "审计员",
    "agency": "信用服务机构",
    "bank": "银行等金融机构",
}
# Organisation accounts (信用服务机构, 银行): bound to their organisation's subject (its USCC), they see what the
# public sees plus what that organisation's authorisations (授权) from subjects give it.
ORGANIZATION_ROLES = frozenset({"agency", "bank"})
GOVERNMENT_ROLES = frozenset({"provider", "reviewer", "credit_office", "auditor"})
TOKEN_SCOPES = ("records:write", "subjects:read", "checks:run", "commitments:write")

# permission -> roles of user accounts allowed; token scopes that allow it.
PERMISSIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "public": (frozenset(ROLES) | {"anonymous"}, frozenset(TOKEN_SCOPES)),
    "authenticated": (frozenset(ROLES), frozenset(TOKEN_SCOPES)),
    "records:write": (frozenset({"provider", "credit_office"}), frozenset({"records:write"})),
    "batches:read": (frozenset({"provider", "reviewer", "credit_office"}), frozenset({"records:write"})),
    "console:view": (GOVERNMENT_ROLES, frozenset()),
    # Rows whose subject could not be matched: the submitting clerk or a reviewer of the providing department
    # (the service refuses another department's rows), or the credit office.
    "review:resolve": (frozenset({"provider", "reviewer", "credit_office"}), frozenset()),
    "subjects:read_nonpublic": (
        frozenset({"provider", "reviewer", "credit_office"}),
        frozenset({"subjects:read"}),
    ),
    "audit:read": (frozenset({"auditor", "credit_office"}), frozenset()),
    "users:manage": (frozenset({"credit_office", "provider", "reviewer"}), frozenset()),  # + department admin
    "departments:manage": (frozenset({"credit_office"}), frozenset()),
    # A subject account's own file, notices, repairs and objections: only once verified (it then carries its
    # subject); an unverified one may only see its account page and verify itself.
    "account:own": (frozenset({"subject"}), frozenset()),
    "account:verify": (frozenset({"subject"}), frozenset()),
    # Requests to open a subject account with documents, and the demo outbox of messages, are the credit
    # office's.
    "accounts:review": (frozenset({"credit_office"}), frozenset()),
    "checks:run": (frozenset({"provider", "reviewer", "credit_office"}), frozenset({"checks:run"})),
    "lists:manage": (frozenset({"reviewer", "credit_office"}), frozenset()),
    "measures:manage": (frozenset({"credit_office"}), frozenset()),
    "evaluation:manage": (
        frozenset({"credit_office"}),
        frozenset(),
    ),  # evaluation models: drafts, publication
    # Repair applications and objections are handled by the deciding / providing department's reviewers.
    "repairs:handle": (frozenset({"reviewer", "credit_office"}), frozenset()),
    "objections:handle": (frozenset({"reviewer", "provider", "credit_office"}), frozenset()),
    # The re-check of decided repairs (错修、漏修) is the credit office's.
    "repairs:recheck": (frozenset({"credit_office"}), frozenset()),
    # Commitments (信用承诺): a department's approval system registers those signed at its counter and records
    # verifications (核查); its reviewers do in the console. The service scopes both to the accepting department
    # (the credit office sees every department's, and decides none).
    "commitments:write": (frozenset({"reviewer", "credit_office"}), frozenset({"commitments:write"})),
    # Tiered supervision: a department's tiers, pools, plans and draws are seen by its government users and
    # managed by its reviewers (the service scopes both to the department), the credit office any.
    "supervision:view": (frozenset({"provider", "reviewer", "credit_office", "auditor"}), frozenset()),
    "supervision:manage": (frozenset({"reviewer", "credit_office"}), frozenset()),
    # Voluntary registration (自愿注册): a subject account declares (the service refuses an unverified one with
    # its reason); the competent department's reviewers confirm or reject (the service scopes them to the
    # entries assigned to their department), the credit office any.
    "registrations:declare": (frozenset({"subject"}), frozenset()),
    "registrations:handle": (frozenset({"reviewer", "credit_office"}), frozenset()),
    # An organisation account's authorisations from subjects (what it may read or issue under them).
    "authorizations:use": (ORGANIZATION_ROLES, frozenset()),
    # The mobile channel (`/api/v1/me`): a subject account's short-lived bearer token (`accounts.mobile`), and
    # nothing else — not its browser session (whose posts need CSRF tokens), not a department system's token;
    # "me:own" (its file, notices, commitments ...) only once verified, as "account:own".
    "me": (frozenset({"subject"}), frozenset()),
    "me:own": (frozenset({"subject"}), frozenset()),
}
MOBILE_PERMISSIONS = frozenset({"me", "me:own"})


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of a request or command: anonymous, a user account, or a department system's token."""

    kind: str  # anonymous, user, token, system
    name: str
    role: str | None = None
    department_code: str | None = None
    subject_id: int | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    user_id: int | None = None
    token_id: int | None = None
    is_department_admin: bool = False
    # An organisation account's own organisation (a subject, by its USCC): never the subject it reads.
    organization_id: int | None = None
    # Authenticated by a mobile channel token (`accounts.mobile`): opens the /api/v1/me routes and public ones.
    mobile: bool = False

    @property
    def is_anonymous(self) -> bool:
        return self.kind == "anonymous"

    @property
    def is_government(self) -> bool:
        return self.kind == "token" or self.role in GOVERNMENT_ROLES

    @property
    def is_credit_office(self) -> bool:
        return self.role == "credit_office"


ANONYMOUS = Principal(kind="anonymous", name="anonymous")
SYSTEM = Principal(kind="system", name="system", role="credit_office")


def allows(principal: Principal, permission: str) -> bool:
    """True if the principal holds the permission (department scoping is applied by the caller)."""
    roles, scopes = PERMISSIONS[permission]
    if principal.kind == "system":
        return True
    if principal.mobile != (permission in MOBILE_PERMISSIONS) and permission != "public":
        return False  # a mobile token opens the mobile routes (and public ones), and nothing else opens those
    if principal.kind == "token":
        return bool(principal.scopes & scopes)
    role = principal.role or "anonymous"
    if role not in roles:
        return False
    if permission == "users:manage" and role != "credit_office":
        return principal.is_department_admin
    if permission in ("account:own", "me:own"):
        return principal.subject_id is not None
    return True


def may_act_for_department(principal: Principal, department_code: str) -> bool:
    """Providers and tokens act only for their own department; the credit office for any."""
    return (
        principal.is_credit_office
        or principal.kind == "system"
        or principal.department_code == department_code
    )
