"""Authorisation matrix, generated from the route table: every route × every kind of caller.

Each API route must declare its permission with `accounts.deps.require(...)`; a route without one fails
here, by name. The expected outcome of each (permission, caller) pair comes from SPECIFICATION below, which
is written from the product rules and deliberately not derived from `accounts.policy`.

"Denied" is 401 `auth.required` for anonymous callers and 403 `auth.forbidden` for everyone else;
"allowed" is any other status (dummy path values give 404, missing form fields 422, and so on).
Form posts carry a valid CSRF token, so a refusal can only come from the permission.
"""

from __future__ import annotations

import functools
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import csrf, department, penalty, uscc
from xinyong.accounts import auth
from xinyong.accounts.auth import SESSION_COOKIE
from xinyong.accounts.deps import Requirement
from xinyong.accounts.policy import PERMISSIONS, Principal, allows
from xinyong.app import create_app
from xinyong.config import Settings
from xinyong.platform import Platform
from xinyong.records import service as records
from xinyong.subjects import service as subjects
from xinyong.web.csrf import CSRF_COOKIE, csrf_token_for

# --- the specification ----------------------------------------------------------------------------------

ANONYMOUS = "anonymous"
USERS = (
    "subject",
    "provider",
    "provider_admin",
    "reviewer",
    "reviewer_admin",
    "credit_office",
    "auditor",
    "agency",
)
TOKENS = ("token:records:write", "token:subjects:read", "token:checks:run", "token:commitments:write")
EVERYONE = frozenset({ANONYMOUS, *USERS, *TOKENS})
DEPARTMENT_DESKS = frozenset({"provider", "provider_admin", "reviewer", "reviewer_admin", "credit_office"})

SPECIFICATION: dict[str, frozenset[str]] = {
    "public": EVERYONE,
    "authenticated": EVERYONE - {ANONYMOUS},
    "records:write": frozenset({"provider", "provider_admin", "credit_office", "token:records:write"}),
    "batches:read": DEPARTMENT_DESKS | {"token:records:write"},
    "console:view": DEPARTMENT_DESKS | {"auditor"},
    # the submitting clerk or a reviewer resolves the department's unmatched rows
    "review:resolve": frozenset(
        {"provider", "provider_admin", "reviewer", "reviewer_admin", "credit_office"}
    ),
    "audit:read": frozenset({"auditor", "credit_office"}),
    "account:own": frozenset({"subject"}),
    # a subject account's page and its own verification (an unverified one sees only what the public sees)
    "account:verify": frozenset({"subject"}),
    # requests to open subject accounts with documents, and the demo outbox, are the credit office's
    "accounts:review": frozenset({"credit_office"}),
    # the credit office, and department admins of providers/reviewers (plain providers are refused)
    "users:manage": frozenset({"credit_office", "provider_admin", "reviewer_admin"}),
    "subjects:read_nonpublic": DEPARTMENT_DESKS | {"token:subjects:read"},
    "departments:manage": frozenset({"credit_office"}),
    # department desks run checks before approving, awarding or contracting; systems with the checks scope
    "checks:run": DEPARTMENT_DESKS | {"token:checks:run"},
    # deciding on list entries is a reviewer's (and the credit office's) job, not a data clerk's
    "lists:manage": frozenset({"reviewer", "reviewer_admin", "credit_office"}),
    "measures:manage": frozenset({"credit_office"}),
    # evaluation models (drafts, dry runs, publication) are the credit office's
    "evaluation:manage": frozenset({"credit_office"}),
    # repairs are decided by the department that made the decision (谁认定谁修复), not by a data clerk;
    # objections are answered by the providing department, clerk or reviewer
    "repairs:handle": frozenset({"reviewer", "reviewer_admin", "credit_office"}),
    "objections:handle": frozenset(
        {"reviewer", "reviewer_admin", "provider", "provider_admin", "credit_office"}
    ),
    "repairs:recheck": frozenset({"credit_office"}),
    # tiered supervision: a department's government users see its tiers, pools, plans and draws; its reviewers
    # (and the credit office) manage them (the service scopes both to the department)
    "supervision:view": DEPARTMENT_DESKS | {"auditor"},
    "supervision:manage": frozenset({"reviewer", "reviewer_admin", "credit_office"}),
    # voluntary registration (自愿注册): a subject account declares (the service refuses an unverified one with
    # its reason); the competent department's reviewers, or the credit office, confirm or reject
    "registrations:declare": frozenset({"subject"}),
    "registrations:handle": frozenset({"reviewer", "reviewer_admin", "credit_office"}),
    # organisation accounts (agency, bank) use the authorisations subjects gave their organisation
    "authorizations:use": frozenset({"agency"}),
    # the mobile channel (/api/v1/me) opens to a subject account's mobile bearer token alone: none of these
    # callers — the subject's browser session included (tests/api/test_me_api.py tests the token itself)
    "me": frozenset(),
    "me:own": frozenset(),
    # commitments: a department's approval system registers counter signings and records verifications; its
    # reviewers in the console (the service scopes both to the accepting department)
    "commitments:write": frozenset(
        {"reviewer", "reviewer_admin", "credit_office", "token:commitments:write"}
    ),
}
CALLERS = (ANONYMOUS, *USERS, *TOKENS)


# --- the route table ------------------------------------------------------------------------------------


def api_routes(app: FastAPI) -> Iterator[Any]:
    """The app's FastAPI routes with their full path and effective dependencies.

    FastAPI >= 0.16x keeps included routers as lazy branches of `app.routes`; `iter_route_contexts` flattens
    them (prefix and include-level dependencies applied). Older versions list APIRoutes directly.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI
        contexts: Any = app.routes
    else:
        contexts = iter_route_contexts(app.routes)
    for context in contexts:
        if isinstance(getattr(context, "original_route", context), APIRoute):
            yield context


def requirements(dependant: Any) -> Iterator[Requirement]:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, Requirement):
            yield dependency.call
        yield from requirements(dependency)


def route_keys(app: FastAPI) -> list[tuple[str, str]]:
    return sorted((method, route.path) for route in api_routes(app) for method in route.methods)


def _collected_routes() -> list[tuple[str, str]]:
    settings = Settings(data_dir=tempfile.gettempdir(), database_url="sqlite://", secret_key="collect")
    return route_keys(create_app(settings))


ROUTES = _collected_routes()


def concrete_path(path: str) -> str:
    """Fill every path parameter with a dummy value that exists nowhere (gives 404, not an error)."""
    return re.sub(r"\{[^}]+\}", "1", path)


# --- the callers ----------------------------------------------------------------------------------------


@dataclass
class Caller:
    headers: dict[str, str]
    session_cookie: str | None = None


@pytest.fixture
def callers(session: Session, platform: Platform, monkeypatch: pytest.MonkeyPatch) -> dict[str, Caller]:
    """One of each caller kind, in department SCMR. Passwords are hashed once (argon2 is slow by design)."""
    monkeypatch.setattr(auth, "hash_password", functools.cache(auth.hash_password))
    department(session, "SCMR", "四川省市场监督管理局")
    code = uscc()
    records.ingest_json(
        session,
        platform.ingest_context(TODAY),
        item_code="CF",
        provider_code="SCMR",
        records=[penalty(CF_XDR_SHXYM=code)],
    )
    subject_id = subjects.get_by_uscc(session, code).id
    found: dict[str, Caller] = {ANONYMOUS: Caller(headers={})}
    for kind in USERS:
        role = kind.removesuffix("_admin")
        user = auth.create_user(
            session,
            username=f"matrix-{kind}",
            password="matrix-password-1",
            role=role,
            department_code=None if role in ("subject", "agency") else "SCMR",
            subject_id=subject_id if role == "subject" else None,
            is_department_admin=kind.endswith("_admin"),
        )
        found[kind] = Caller(headers={}, session_cookie=auth.start_session(session, user, ip=None))
    for kind in TOKENS:
        _, secret = auth.create_token(session, department_code="SCMR", scopes=[kind.removeprefix("token:")])
        found[kind] = Caller(headers={"Authorization": f"Bearer {secret}"})
    session.commit()
    return found


def call(client: TestClient, caller: Caller, method: str, path: str, csrf_token: str) -> Any:
    client.cookies.delete(SESSION_COOKIE)
    if caller.session_cookie:
        client.cookies.set(SESSION_COOKIE, caller.session_cookie)
        # The form token is bound to the session: this caller's token for the browser's seed cookie.
        secret = client.app.state.platform.settings.secret_key.get_secret_value()  # type: ignore[attr-defined]
        csrf_token = csrf_token_for(client.cookies[CSRF_COOKIE], secret, caller.session_cookie)
    data = {"csrf_token": csrf_token} if method in ("POST", "PUT", "PATCH", "DELETE") else None
    return client.request(method, path, headers=caller.headers, data=data, follow_redirects=False)


def refusal_code(response: Any) -> str | None:
    """The error code of a 401/403 refusal (JSON body for /api, the error page otherwise)."""
    if response.status_code not in (401, 403):
        return None
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()["error"]["code"]  # type: ignore[no-any-return]
    match = re.search(r"auth\.[a-z_]+", response.text)
    return match[0] if match else None


# --- the tests ------------------------------------------------------------------------------------------


class TestEveryRouteDeclaresAPermission:
    def test_route_list_of_this_module_matches_the_app(self, client: TestClient) -> None:
        assert route_keys(client.app) == ROUTES  # type: ignore[arg-type]

    @pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
    def test_route_declares_a_specified_permission(self, client: TestClient, method: str, path: str) -> None:
        route = next(r for r in api_routes(client.app) if r.path == path and method in r.methods)  # type: ignore[arg-type]
        declared = [r.permission for r in requirements(route.dependant)]
        assert declared, f"{method} {path} declares no require(permission): every route must declare one"
        unknown = [p for p in declared if p not in SPECIFICATION]
        assert not unknown, f"{method} {path} needs {unknown}, which the specification does not define"


class TestEveryCallerGetsWhatTheSpecificationSays:
    @pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
    def test_allow_or_deny_for_every_caller(
        self, client: TestClient, callers: dict[str, Caller], method: str, path: str
    ) -> None:
        route = next(r for r in api_routes(client.app) if r.path == path and method in r.methods)  # type: ignore[arg-type]
        declared = [r.permission for r in requirements(route.dependant)]
        assert declared, f"{method} {path} declares no require(permission)"
        allowed = functools.reduce(frozenset.intersection, (SPECIFICATION[p] for p in declared))
        token = csrf(client)
        url = concrete_path(path)
        wrong: list[str] = []
        for kind in CALLERS:
            response = call(client, callers[kind], method, url, token)
            status, code = response.status_code, refusal_code(response)
            if kind in allowed:
                if status in (401, 403) or status >= 500:
                    wrong.append(f"{kind}: expected allowed, got {status} {code}")
            else:
                expected = (401, "auth.required") if kind == ANONYMOUS else (403, "auth.forbidden")
                if (status, code) != expected:
                    wrong.append(f"{kind}: expected {expected}, got {status} {code}")
        assert not wrong, f"{method} {path} requires {declared}:\n" + "\n".join(wrong)


class TestPolicyAgreesWithTheSpecification:
    """Permissions no route uses yet (e.g. departments:manage) are still checked against the spec."""

    @staticmethod
    def principal(kind: str) -> Principal:
        if kind == ANONYMOUS:
            return Principal(kind="anonymous", name=kind)
        if kind.startswith("token:"):
            return Principal(
                kind="token",
                name=kind,
                department_code="SCMR",
                scopes=frozenset({kind.removeprefix("token:")}),
            )
        return Principal(
            kind="user",
            name=kind,
            role=kind.removesuffix("_admin"),
            department_code="SCMR",
            subject_id=1 if kind == "subject" else None,
            is_department_admin=kind.endswith("_admin"),
        )

    def test_every_policy_permission_is_specified(self) -> None:
        assert set(PERMISSIONS) == set(SPECIFICATION)

    @pytest.mark.parametrize("permission", sorted(SPECIFICATION))
    def test_allows_matches_the_specification(self, permission: str) -> None:
        granted = {kind for kind in CALLERS if allows(self.principal(kind), permission)}
        assert granted == SPECIFICATION[permission]

    def test_a_department_admin_auditor_still_cannot_manage_users(self) -> None:
        auditor_admin = Principal(
            kind="user", name="a", role="auditor", department_code="SCMR", is_department_admin=True
        )
        assert not allows(auditor_admin, "users:manage")
