"""Every demo role crawls the site over HTTP on both stores: no page ends in a server error, and no menu
entry or link offers a page that then refuses the user (401/403). The data is the demo Sichuan at a small
scale; each role starts at the portal's home page and follows its menus (the console's, the account's) first."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from tests import crawl
from tests.conftest import STORES, TODAY
from tests.helpers import ingest_rows, penalty
from xinyong.accounts.policy import SYSTEM
from xinyong.app import create_app
from xinyong.config import Settings
from xinyong.content.demo import seed_articles
from xinyong.demo import service as demo
from xinyong.demo.authorizations import seed_authorizations
from xinyong.demo.registrations import seed_registrations
from xinyong.demo.repair import seed_repair
from xinyong.demo.supervision import seed_supervision
from xinyong.demo.supervision_plans import seed_supervision_plans
from xinyong.platform import build_platform
from xinyong.records.models import UnresolvedRow
from xinyong.subjects.models import Subject
from xinyong.web.deps import get_today

SCALE = (
    0.02  # the smallest demo with a case in every repair and objection state (tests/service/test_demo_repair)
)
DEMO_USERS = ("admin", "provider", "reviewer", "auditor", "agency", "bank", "enterprise")
MAX_PAGES = 100  # every pattern a role reaches (60 to 80) once, then second examples
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module", params=STORES)
def demo_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The app over the demo data on one store, seeded once for the module and rolled back after it."""
    engine: Engine = request.getfixturevalue("sqlite_engine" if request.param == "sqlite" else "pg_engine")
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("crawl"),
        database_url="sqlite://",
        secret_key="crawl-secret-key",
        rate_limit_login="1000/minute",
        rate_limit_search="100000/minute",
    )
    connection = engine.connect()
    outer = connection.begin()
    platform = build_platform(settings, engine)
    platform.sessions = sessionmaker(
        bind=connection,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
        info=platform.sessions.kw.get("info"),
    )
    ctx = platform.ingest_context(TODAY)
    with platform.sessions() as session:
        demo.seed(session, ctx, scale=SCALE)
        demo.seed_accounts(session, ctx)
        seed_authorizations(session, platform.context(SYSTEM, TODAY), demo.DEMO_PASSWORD)
        seed_articles(session, SYSTEM, TODAY)
        seed_supervision(session, platform.context(SYSTEM, ctx.today), scale=SCALE)
        seed_repair(session, platform, TODAY)
        seed_supervision_plans(session, platform, TODAY)  # pools, plans, a draw and results
        seed_registrations(session, platform, TODAY)
        # Rows no subject can be matched to, from the demo provider's department and another one.
        for provider, name in (("SCMR", "四川省市场监督管理局"), ("SCSTHJ", "四川省生态环境厅")):
            unmatched = [
                penalty(CF_XDR_MC=f"无从匹配的{provider}公司", CF_XDR_SHXYM="", region_code="510104")
            ]
            assert ingest_rows(session, ctx, unmatched, "CF", provider, name).queued == 1
        session.commit()
    app = create_app(platform=platform)
    app.dependency_overrides[get_today] = lambda: TODAY
    yield app
    outer.rollback()
    connection.close()


def logged_in(app: FastAPI, username: str | None) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    if username is not None:
        token = _CSRF.search(client.get("/login").text)
        assert token, "the login page has no CSRF token"
        response = client.post(
            "/login",
            data={"username": username, "password": demo.DEMO_PASSWORD, "csrf_token": token[1]},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
    return client


def fetcher(client: TestClient) -> crawl.Fetch:
    def fetch(url: str) -> tuple[int, str | None]:
        response = client.get(url, follow_redirects=True)
        html = response.text if response.headers.get("content-type", "").startswith("text/html") else None
        return response.status_code, html

    return fetch


@pytest.mark.parametrize("username", [None, *DEMO_USERS], ids=["anonymous", *DEMO_USERS])
def test_no_page_a_role_reaches_fails_and_no_link_refuses_it(
    demo_app: FastAPI, username: str | None, tmp_path: Path
) -> None:
    started = time.perf_counter()
    with logged_in(demo_app, username) as client:
        result = crawl.crawl(fetcher(client), max_pages=MAX_PAGES)
    elapsed = time.perf_counter() - started
    assert len(result.visits) >= 10, [v.url for v in result.visits]
    assert result.server_errors() == []
    assert result.refused_links() == []
    print(f"{username or 'anonymous'}: {len(result.visits)} pages in {elapsed:.1f}s")


def menu(html: str, label: str) -> set[str]:
    """The hrefs of the <nav> whose aria-label is `label`."""
    match = re.search(rf'<nav[^>]*aria-label="{label}"[^>]*>(.*?)</nav>', html, re.S)
    return set(re.findall(r'href="([^"]+)"', match[1])) if match else set()


class TestMenusShowWhatTheRoleMayOpen:
    @pytest.mark.parametrize(
        ("username", "shown", "hidden"),
        [
            (None, {"/login"}, {"/console", "/account"}),
            ("agency", set(), {"/console", "/account", "/login"}),
            ("enterprise", {"/account"}, {"/console", "/login"}),
            ("provider", {"/console"}, {"/account", "/login"}),
            ("auditor", {"/console"}, {"/account"}),
        ],
        ids=["anonymous", "agency", "enterprise", "provider", "auditor"],
    )
    def test_header(self, demo_app: FastAPI, username: str | None, shown: set[str], hidden: set[str]) -> None:
        with logged_in(demo_app, username) as client:
            header = menu(client.get("/").text, "主导航")
        assert shown <= header
        assert not hidden & header

    @pytest.mark.parametrize(
        ("username", "shown", "hidden"),
        [
            (
                "provider",
                {"/console", "/console/review", "/console/checks", "/console/objections", "/console/notices"},
                {
                    "/console/audit",
                    "/console/users",
                    "/console/measures",
                    "/console/lists",
                    "/console/repairs",
                },
            ),
            (
                "reviewer",
                {"/console/review", "/console/lists", "/console/repairs", "/console/users"},
                {"/console/audit", "/console/measures", "/console/content", "/console/repairs/recheck"},
            ),
            (
                "auditor",
                {"/console", "/console/audit", "/console/notices"},
                {"/console/review", "/console/checks", "/console/users", "/console/lists"},
            ),
            (
                "admin",
                {"/console/audit", "/console/measures", "/console/content", "/console/repairs/recheck"},
                set(),
            ),
        ],
        ids=["provider", "reviewer", "auditor", "admin"],
    )
    def test_console_menu(self, demo_app: FastAPI, username: str, shown: set[str], hidden: set[str]) -> None:
        with logged_in(demo_app, username) as client:
            entries = menu(client.get("/console").text, "管理后台导航")
            assert shown <= entries
            assert not hidden & entries
            for href in entries:  # and every entry opens
                assert client.get(href).status_code == 200, href

    def test_account_menu_of_the_enterprise(self, demo_app: FastAPI) -> None:
        with logged_in(demo_app, "enterprise") as client:
            entries = menu(client.get("/account").text, "我的信用导航")
            assert {"/account", "/account/notices", "/account/repairs", "/account/objections"} <= entries
            assert all(client.get(href).status_code == 200 for href in entries)


class TestProviderReviewQueue:
    def test_a_provider_sees_the_unresolved_rows_of_its_own_department_only(self, demo_app: FastAPI) -> None:
        platform = demo_app.state.platform
        with platform.sessions() as session:
            open_rows = session.execute(
                select(UnresolvedRow.id, UnresolvedRow.provider_code).where(UnresolvedRow.status == "open")
            ).all()
        own = {row_id for row_id, provider in open_rows if provider == "SCMR"}
        others = {row_id for row_id, provider in open_rows if provider != "SCMR"}
        assert own and others
        with logged_in(demo_app, "provider") as client:
            response = client.get("/console/review")
            assert response.status_code == 200
            shown = {int(n) for n in re.findall(r'action="/console/review/(\d+)/resolve"', response.text)}
            assert shown == own
            token = _CSRF.search(response.text)
            assert token
            refused = client.post(  # another department's row is not this provider's to resolve
                f"/console/review/{min(others)}/resolve",
                data={"uscc": "91510100MA61234567", "csrf_token": token[1]},
                follow_redirects=False,
            )
            assert refused.status_code == 403
            assert "review.other_department" in refused.text

    def test_a_provider_resolves_a_row_of_its_own_department(self, demo_app: FastAPI) -> None:
        platform = demo_app.state.platform
        with platform.sessions() as session:
            row_id = session.scalar(
                select(UnresolvedRow.id).where(
                    UnresolvedRow.status == "open", UnresolvedRow.provider_code == "SCMR"
                )
            )
            code = session.scalar(select(Subject.uscc).where(Subject.uscc.is_not(None)).limit(1))
        assert row_id is not None and code is not None
        with logged_in(demo_app, "provider") as client:
            token = _CSRF.search(client.get("/console/review").text)
            assert token
            response = client.post(
                f"/console/review/{row_id}/resolve",
                data={"uscc": code, "csrf_token": token[1]},
                follow_redirects=False,
            )
            assert response.status_code == 303, response.text
            assert f"/console/review/{row_id}/resolve" not in client.get("/console/review").text
        with platform.sessions() as session:
            row = session.get(UnresolvedRow, row_id)
            assert row is not None and row.status == "resolved"


class TestDemoReadsAsPeopleSee:
    def test_the_credit_offices_training_names_its_organiser_once(self, demo_app: FastAPI) -> None:
        with logged_in(demo_app, "admin") as client:
            training = client.get("/console/supervision/training")
            assert training.status_code == 200
            assert (
                "四川省发展和改革委员会（信用办" in training.text
                and "信用办）（信用办）" not in training.text
            )
