"""Article use cases: write, edit, publish, withdraw (credit office); read what is published (everyone)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import NotRequired, TypedDict, Unpack

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.content.models import Article
from xinyong.kit.errors import Conflict, NotFound, ValidationFailed
from xinyong.kit.identifiers import mask_ids
from xinyong.kit.pagination import Page

__all__ = [
    "CATEGORIES",
    "KIND_LABELS",
    "STATUS_LABELS",
    "Article",
    "create",
    "excerpt",
    "get",
    "get_published",
    "list_all",
    "list_published",
    "paragraphs",
    "parse_codes",
    "publish",
    "update",
    "withdraw",
]

KIND_LABELS = {"case": "典型案例", "education": "诚信教育"}
CATEGORIES = ("守信激励", "失信惩戒", "信用修复", "其他")
STATUS_LABELS = {"draft": "草稿", "published": "已发布", "withdrawn": "已撤回"}

TITLE_MAX, SUMMARY_MAX, SOURCE_MAX, BODY_MAX = 200, 500, 100, 20000
MEASURE_CODES_MAX = 20
_MEASURE_CODE = re.compile(r"^[PI]-[A-Z0-9]+(-[A-Z0-9]+)*$")
_CODE_SEPARATORS = re.compile(r"[\s,，、;；]+")


# --- text helpers (pure) --------------------------------------------------------------------------------


def parse_codes(text: str) -> list[str]:
    """Measure codes typed in one field, separated by spaces, commas or 、."""
    return [c for c in _CODE_SEPARATORS.split(text.strip()) if c]


def paragraphs(body: str) -> list[list[str]]:
    """The body's paragraphs (split on blank lines), each as its lines. Rendered escaped, never as HTML."""
    result: list[list[str]] = []
    current: list[str] = []
    for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.strip():
            current.append(line.rstrip())
        elif current:
            result.append(current)
            current = []
    if current:
        result.append(current)
    return result


def excerpt(article: Article, limit: int = 120) -> str:
    """The summary, or else the start of the first paragraph."""
    if article.summary:
        return article.summary
    first = "".join(line.strip() for line in (paragraphs(article.body) or [[""]])[0])
    return first if len(first) <= limit else first[:limit] + "…"


class ArticleText(TypedDict):
    """An article's text as written: what create and update take."""

    kind: str
    category: str
    title: str
    body: str
    summary: NotRequired[str]
    source: NotRequired[str]
    related_measure_codes: NotRequired[Sequence[str]]


def _clean(
    *,
    kind: str,
    category: str,
    title: str,
    body: str,
    summary: str = "",
    source: str = "",
    related_measure_codes: Sequence[str] = (),
) -> dict[str, object]:
    """Validated, normalised fields, or ValidationFailed with a stable `article.*` code."""
    if kind not in KIND_LABELS:
        raise ValidationFailed(f"文章栏目“{kind}”不存在", code="article.unknown_kind")
    if category not in CATEGORIES:
        raise ValidationFailed(f"文章类别“{category}”不存在", code="article.unknown_category")
    title = " ".join(title.split())
    if not title:
        raise ValidationFailed("标题不能为空", code="article.title_required")
    if len(title) > TITLE_MAX:
        raise ValidationFailed(f"标题不能超过{TITLE_MAX}字", code="article.title_too_long")
    summary = " ".join(summary.split())
    if len(summary) > SUMMARY_MAX:
        raise ValidationFailed(f"摘要不能超过{SUMMARY_MAX}字", code="article.summary_too_long")
    body = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        raise ValidationFailed("正文不能为空", code="article.body_required")
    if len(body) > BODY_MAX:
        raise ValidationFailed(f"正文不能超过{BODY_MAX}字", code="article.body_too_long")
    source = " ".join(source.split())
    if len(source) > SOURCE_MAX:
        raise ValidationFailed(f"来源单位不能超过{SOURCE_MAX}字", code="article.source_too_long")
    codes = _measure_codes(related_measure_codes)
    return {  # published text: resident IDs in it are masked before it is stored
        "kind": kind,
        "category": category,
        "title": mask_ids(title),
        "summary": mask_ids(summary),
        "body": mask_ids(body),
        "source": mask_ids(source),
        "related_measure_codes": codes,
    }


def _measure_codes(related_measure_codes: Sequence[str]) -> list[str]:
    """The related measure codes, upper case, each once, checked; ValidationFailed names the first bad one."""
    codes: list[str] = []
    for raw in related_measure_codes:
        code = raw.strip().upper()
        if not code or code in codes:
            continue
        if not _MEASURE_CODE.match(code) or len(code) > 48:
            raise ValidationFailed(
                f"措施编号“{code[:48]}”格式不正确（如 P-SD-BID-BAN）", code="article.bad_measure_code"
            )
        codes.append(code)
    if len(codes) > MEASURE_CODES_MAX:
        raise ValidationFailed(
            f"关联措施不能超过{MEASURE_CODES_MAX}项", code="article.too_many_measure_codes"
        )
    return codes


# --- writes (credit office) -----------------------------------------------------------------------------


def _audit(session: Session, principal: Principal, action: str, article: Article) -> None:
    audit.record(
        session,
        principal,
        action,
        target=f"article:{article.id}",
        details={"kind": article.kind, "status": article.status, "title": article.title[:100]},
    )


def create(session: Session, principal: Principal, **text: Unpack[ArticleText]) -> Article:
    """Write a new article; it starts as a draft that the public cannot see."""
    fields = _clean(**text)
    article = Article(**fields, status="draft", created_by=principal.name[:64])
    session.add(article)
    session.flush()
    _audit(session, principal, "content.create", article)
    return article


def update(session: Session, principal: Principal, article: Article, **text: Unpack[ArticleText]) -> Article:
    """Replace an article's text (in any state: a published article is corrected in place)."""
    fields = _clean(**text)
    for name, value in fields.items():
        setattr(article, name, value)
    article.updated_at = dt.datetime.now(dt.UTC)
    session.flush()
    _audit(session, principal, "content.update", article)
    return article


def publish(session: Session, principal: Principal, article: Article, *, today: dt.date) -> Article:
    """Publish a draft (or re-publish a withdrawn article); it is dated today."""
    if article.status not in ("draft", "withdrawn"):
        raise Conflict(
            f"文章当前为“{STATUS_LABELS.get(article.status, article.status)}”，不能发布",
            code="article.illegal_transition",
        )
    article.status, article.published_on = "published", today
    article.updated_at = dt.datetime.now(dt.UTC)
    session.flush()
    _audit(session, principal, "content.publish", article)
    return article


def withdraw(session: Session, principal: Principal, article: Article) -> Article:
    """Take a published article off the portal (it is kept, and can be published again)."""
    if article.status != "published":
        raise Conflict(
            f"文章当前为“{STATUS_LABELS.get(article.status, article.status)}”，不能撤回",
            code="article.illegal_transition",
        )
    article.status = "withdrawn"
    article.updated_at = dt.datetime.now(dt.UTC)
    session.flush()
    _audit(session, principal, "content.withdraw", article)
    return article


# --- reads ----------------------------------------------------------------------------------------------


def get(session: Session, article_id: int) -> Article:
    """Any article, whatever its state (console)."""
    article = session.get(Article, article_id)
    if article is None:
        raise NotFound("未找到该文章", code="article.not_found")
    return article


def get_published(session: Session, article_id: int) -> Article:
    """A published article; drafts and withdrawn articles do not exist for the public."""
    article = session.get(Article, article_id)
    if article is None or article.status != "published":
        raise NotFound("未找到该文章", code="article.not_found")
    return article


def list_published(
    session: Session, kind: str, *, page: int = 1, size: int = 20, q: str = "", category: str = ""
) -> Page[Article]:
    """Published articles of one kind, newest first, optionally searched by title and filtered by category."""
    conditions = [Article.kind == kind, Article.status == "published"]
    if q.strip():
        conditions.append(Article.title.contains(q.strip(), autoescape=True))
    if category:
        conditions.append(Article.category == category)
    total = session.scalar(select(func.count(Article.id)).where(*conditions)) or 0
    items = session.scalars(
        select(Article)
        .where(*conditions)
        .order_by(Article.published_on.desc(), Article.id.desc())
        .offset((page - 1) * size)
        .limit(size)
    ).all()
    return Page(list(items), int(total), page, size)


def list_all(
    session: Session, *, status: str | None = None, kind: str | None = None, limit: int = 200
) -> Sequence[Article]:
    """Every article for the console, newest first."""
    query = select(Article).order_by(Article.id.desc()).limit(limit)
    if status:
        query = query.where(Article.status == status)
    if kind:
        query = query.where(Article.kind == kind)
    return session.scalars(query).all()
