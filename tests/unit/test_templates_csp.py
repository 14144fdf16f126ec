"""The site's CSP allows no inline style or script; a template that holds one breaks its page in the browser.

The browser crawl (tests/browser/test_crawl_browser.py) finds such a page only if it reaches it; this reads
every template, so a form on a rarely visited page cannot slip through."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from xinyong.web.templating import DOMAINS_WITH_PAGES

TEMPLATES = sorted(
    path
    for domain in DOMAINS_WITH_PAGES
    for path in Path(str(resources.files(f"xinyong.{domain}") / "templates")).glob("*.html")
)
STYLE_ATTRIBUTE = re.compile(r"<[a-zA-Z][^>]*\sstyle\s*=", re.S)
INLINE_HANDLER = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.S)
SCRIPT = re.compile(r"<script\b([^>]*)>", re.S)


def test_templates_are_found() -> None:
    assert len(TEMPLATES) > 30
    assert any(p.name == "base.html" for p in TEMPLATES)


@pytest.mark.parametrize("path", TEMPLATES, ids=[f"{p.parent.parent.name}/{p.name}" for p in TEMPLATES])
def test_no_inline_style_or_script(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not STYLE_ATTRIBUTE.search(text), "style attribute: move the styling into static/site.css"
    assert not INLINE_HANDLER.search(text), "inline event handler: use a script file"
    for attributes in SCRIPT.findall(text):
        assert "src=" in attributes or 'type="application/json"' in attributes, f"inline <script{attributes}>"
    assert "<style" not in text, "<style> element: move the styling into static/site.css"


def test_the_checks_would_catch_an_inline_style_and_script() -> None:
    assert STYLE_ATTRIBUTE.search('<section class="panel" style="max-width:460px">')
    assert INLINE_HANDLER.search('<button onclick="go()">')
    assert SCRIPT.findall("<script>alert(1)</script>") == [""]
