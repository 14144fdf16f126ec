"""Typical cases and education articles: the credit office writes and publishes, the public reads."""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jinja2 import ChoiceLoader, FileSystemLoader
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.routing import NoMatchFound

from tests.conftest import TODAY
from tests.helpers import login
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.content import service, views
from xinyong.content.demo import DEMO_ARTICLES, seed_articles
from xinyong.content.models import Article
from xinyong.kit.dates import format_china_date

CONTENT_TEMPLATES = str(resources.files("xinyong.content") / "templates")
OFFICE = Principal(kind="user", name="信用办测试", role="credit_office", department_code="SCFGW")


@pytest.fixture
def web(client: TestClient, session: Session) -> TestClient:
    """The shared test client with the content router, its templates and its table (all idempotent)."""
    app: Any = client.app
    try:
        app.url_path_for("portal_cases")
    except NoMatchFound:
        app.include_router(views.router)
    loader = app.state.templates.env.loader
    assert isinstance(loader, ChoiceLoader)
    loaders = loader.loaders
    assert isinstance(loaders, list)
    if not any(CONTENT_TEMPLATES in getattr(each, "searchpath", ()) for each in loaders):
        loaders.append(FileSystemLoader(CONTENT_TEMPLATES))
    Article.__table__.create(bind=session.connection(), checkfirst=True)  # type: ignore[attr-defined]
    session.commit()
    return client


def anonymous(web: TestClient) -> TestClient:
    return TestClient(web.app, raise_server_exceptions=False)


def form(token: str, **overrides: str) -> dict[str, str]:
    data = {
        "csrf_token": token,
        "kind": "case",
        "category": "失信惩戒",
        "title": "某公司因列入严重失信主体名单被否决投标",
        "summary": "资格审查时信用核查发现其在公示期内。",
        "body": "第一段：核查经过。\n第一段第二行。\n\n第二段：处理结果。",
        "source": "某市公共资源交易中心",
        "measure_codes": "p-sd-bid-ban、P-SD-PROC-BAN",
    }
    data.update(overrides)
    return data


def article_id(session: Session, title: str) -> int:
    found = session.scalar(select(Article.id).where(Article.title == title))
    assert found is not None, title
    return found


def test_credit_office_writes_and_publishes_and_the_public_reads_the_case(
    web: TestClient, session: Session
) -> None:
    token = login(web, session, role="credit_office", department_code="SCFGW")
    created = web.post("/console/content", data=form(token), follow_redirects=False)
    assert created.status_code == 303 and created.headers["location"] == "/console/content"
    number = article_id(session, "某公司因列入严重失信主体名单被否决投标")
    console = web.get("/console/content").text
    assert "某公司因列入严重失信主体名单被否决投标" in console and "草稿" in console

    published = web.post(f"/console/content/{number}/publish", data={"csrf_token": token})
    assert published.status_code == 200  # redirected back to the console

    public = anonymous(web)
    listing = public.get("/cases")
    assert listing.status_code == 200
    assert (
        f'href="/cases/{number}"' in listing.text and "资格审查时信用核查发现其在公示期内。" in listing.text
    )
    page = public.get(f"/cases/{number}")
    assert page.status_code == 200
    assert "<p>第一段：核查经过。<br>第一段第二行。</p>" in page.text
    assert "<p>第二段：处理结果。</p>" in page.text
    assert format_china_date(TODAY) in page.text and "某市公共资源交易中心" in page.text
    assert "P-SD-BID-BAN" in page.text and "P-SD-PROC-BAN" in page.text

    session.expire_all()
    article = session.get(Article, number)
    assert article is not None
    assert article.status == "published" and article.published_on == TODAY
    assert article.related_measure_codes == ["P-SD-BID-BAN", "P-SD-PROC-BAN"]
    actions = {e.action for e in audit.search(session) if e.target == f"article:{number}"}
    assert {"content.create", "content.publish"} <= actions


def test_drafts_and_withdrawn_articles_are_not_public(web: TestClient, session: Session) -> None:
    token = login(web, session, role="credit_office", department_code="SCFGW")
    web.post("/console/content", data=form(token, title="尚未发布的草稿"))
    web.post("/console/content", data=form(token, title="发布后又撤回的案例"))
    draft, withdrawn = article_id(session, "尚未发布的草稿"), article_id(session, "发布后又撤回的案例")
    web.post(f"/console/content/{withdrawn}/publish", data={"csrf_token": token})
    assert anonymous(web).get(f"/cases/{withdrawn}").status_code == 200
    web.post(f"/console/content/{withdrawn}/withdraw", data={"csrf_token": token})

    public = anonymous(web)
    for number in (draft, withdrawn, 999999):
        missing = public.get(f"/cases/{number}")
        assert missing.status_code == 404 and "article.not_found" in missing.text
    listing = public.get("/cases").text
    assert "尚未发布的草稿" not in listing and "发布后又撤回的案例" not in listing
    assert any(e.action == "content.withdraw" for e in audit.search(session, action="content.withdraw"))

    again = web.post(f"/console/content/{withdrawn}/publish", data={"csrf_token": token})
    assert again.status_code == 200 and public.get(f"/cases/{withdrawn}").status_code == 200


def test_illegal_transitions_are_refused(web: TestClient, session: Session) -> None:
    token = login(web, session, role="credit_office", department_code="SCFGW")
    web.post("/console/content", data=form(token, title="草稿不能撤回"))
    number = article_id(session, "草稿不能撤回")
    refused = web.post(f"/console/content/{number}/withdraw", data={"csrf_token": token})
    assert refused.status_code == 409 and "article.illegal_transition" in refused.text
    web.post(f"/console/content/{number}/publish", data={"csrf_token": token})
    twice = web.post(f"/console/content/{number}/publish", data={"csrf_token": token})
    assert twice.status_code == 409 and "article.illegal_transition" in twice.text
    assert web.post("/console/content/999999/publish", data={"csrf_token": token}).status_code == 404


def test_html_in_title_and_body_is_escaped(web: TestClient, session: Session) -> None:
    token = login(web, session, role="credit_office", department_code="SCFGW")
    title = "<script>alert(1)</script>某公司案例"
    body = "<b>加粗</b>\n\n<img src=x onerror=alert(2)>"
    web.post("/console/content", data=form(token, title=title, body=body, summary=""))
    number = article_id(session, title)
    web.post(f"/console/content/{number}/publish", data={"csrf_token": token})
    public = anonymous(web)
    for url in ("/cases", f"/cases/{number}", "/console/content"):
        page = (web if url.startswith("/console") else public).get(url)
        assert page.status_code == 200, url
        assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;某公司案例" in page.text, url
    article = public.get(f"/cases/{number}").text
    assert "<p>&lt;b&gt;加粗&lt;/b&gt;</p>" in article and "<b>加粗" not in article


def test_console_is_for_the_credit_office_only(web: TestClient, session: Session) -> None:
    assert anonymous(web).get("/console/content").status_code == 401
    token = login(web, session, role="provider", department_code="SCMR")
    assert web.get("/console/content").status_code == 403
    refused = web.post("/console/content", data=form(token, title="报送员不能写"))
    assert refused.status_code == 403 and "auth.forbidden" in refused.text
    assert session.scalar(select(Article.id).where(Article.title == "报送员不能写")) is None


def test_a_post_without_csrf_token_is_refused(web: TestClient, session: Session) -> None:
    login(web, session, role="credit_office", department_code="SCFGW")
    data = form("", title="没有令牌的提交")
    del data["csrf_token"]
    refused = web.post("/console/content", data=data)
    assert refused.status_code == 403 and "auth.csrf" in refused.text
    assert session.scalar(select(Article.id).where(Article.title == "没有令牌的提交")) is None


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"title": ""}, "article.title_required"),
        ({"title": "   "}, "article.title_required"),
        ({"title": "长" * 201}, "article.title_too_long"),
        ({"body": "\n \n"}, "article.body_required"),
        ({"summary": "摘" * 501}, "article.summary_too_long"),
        ({"kind": "news"}, "article.unknown_kind"),
        ({"category": "表彰"}, "article.unknown_category"),
        ({"measure_codes": "P-SD-BID-BAN, not a code"}, "article.bad_measure_code"),
    ],
)
def test_invalid_articles_are_refused_with_a_code_and_the_form_kept(
    web: TestClient, session: Session, overrides: dict[str, str], code: str
) -> None:
    token = login(web, session, role="credit_office", department_code="SCFGW")
    data = form(token, body="保留的正文内容")
    data.update(overrides)
    refused = web.post("/console/content", data=data)
    assert refused.status_code == 422 and code in refused.text
    if "body" not in overrides:
        assert "保留的正文内容" in refused.text
    assert session.scalar(select(Article.id)) is None


def test_editing_an_article_and_invalid_edits(web: TestClient, session: Session) -> None:
    token = login(web, session, role="credit_office", department_code="SCFGW")
    web.post("/console/content", data=form(token, title="原标题"))
    number = article_id(session, "原标题")
    editor = web.get(f"/console/content?edit={number}").text
    assert f'action="/console/content/{number}"' in editor and "原标题" in editor
    edited = web.post(
        f"/console/content/{number}", data=form(token, title="新标题", kind="education", category="其他")
    )
    assert edited.status_code == 200
    session.expire_all()
    article = session.get(Article, number)
    assert article is not None and (article.title, article.kind) == ("新标题", "education")
    bad = web.post(f"/console/content/{number}", data=form(token, title=""))
    assert bad.status_code == 422 and "article.title_required" in bad.text
    session.expire_all()
    assert session.get(Article, number).title == "新标题"  # type: ignore[union-attr]
    assert audit.search(session, action="content.update")
    assert web.get("/console/content?edit=999999").status_code == 404


def test_portal_search_kinds_and_pagination(web: TestClient, session: Session) -> None:
    for n in range(23):
        article = service.create(
            session,
            OFFICE,
            kind="case",
            category="守信激励" if n % 2 else "失信惩戒",
            title=f"案例{n:02d}号{'容缺受理' if n == 7 else ''}",
            body="正文",
        )
        service.publish(session, OFFICE, article, today=TODAY - dt.timedelta(days=n))
    lesson = service.create(
        session, OFFICE, kind="education", category="其他", title="什么是信用修复", body="正文"
    )
    service.publish(session, OFFICE, lesson, today=TODAY)
    session.commit()

    public = anonymous(web)
    first = public.get("/cases").text
    assert "共 23 篇" in first and "案例00号" in first and "案例22号" not in first
    assert "什么是信用修复" not in first
    second = public.get("/cases", params={"page": 2}).text
    assert "案例22号" in second and "案例00号" not in second
    found = public.get("/cases", params={"q": "容缺"}).text
    assert "共 1 篇" in found and "案例07号容缺受理" in found
    percent = public.get("/cases", params={"q": "%"}).text
    assert "共 0 篇" in percent
    rewards = public.get("/cases", params={"category": "守信激励"}).text
    assert "共 11 篇" in rewards
    education = public.get("/cases", params={"kind": "education"}).text
    assert "什么是信用修复" in education and "案例00号" not in education
    assert public.get("/cases", params={"kind": "news"}).status_code == 404


def test_paragraphs_split_on_blank_lines() -> None:
    assert service.paragraphs("甲\r\n乙\r\n\r\n  \n丙\n \n\n") == [["甲", "乙"], ["丙"]]
    assert service.paragraphs("  ") == []
    assert service.parse_codes(" P-A-B,，I-RED-LOAN、 P-X ") == ["P-A-B", "I-RED-LOAN", "P-X"]


def test_demo_articles_are_published_within_the_last_year_and_seeded_once(
    web: TestClient, session: Session
) -> None:
    added = seed_articles(session, OFFICE, TODAY)
    assert added == len(DEMO_ARTICLES) == 8
    assert seed_articles(session, OFFICE, TODAY) == 0
    session.commit()
    articles = session.scalars(select(Article)).all()
    assert {a.status for a in articles} == {"published"}
    assert sum(a.kind == "case" for a in articles) == 6
    for a in articles:
        assert a.published_on is not None and TODAY - dt.timedelta(days=365) <= a.published_on <= TODAY
        assert re.search(r"（化名）|信用办", a.body + a.source), a.title
    listing = anonymous(web).get("/cases").text
    assert "共 6 篇" in listing
