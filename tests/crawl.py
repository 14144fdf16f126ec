"""A bounded crawl of the site as one user sees it: same-site GET links from the pages reached, navigation first.

Used by the crawl tests over the TestClient (tests/api/test_crawl.py) and in Chromium
(tests/browser/test_crawl_browser.py). Only <a href> links are followed, never forms, so nothing is changed:
every route that changes something is a POST. Logout is a form as well; static files and the API documentation's
assets are not pages. URLs are grouped by pattern (numbers and codes replaced) and only a few of each are
fetched, so a list of a thousand subjects costs as much as one of two.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

ORIGIN = "http://crawl.invalid"
NOT_PAGES = ("/static/", "/docs/assets/", "/logout")
_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")  # a USCC in a path
_NUMBER = re.compile(r"\d+")
_TOKEN = re.compile(r"[0-9a-f]{16,}|[0-9A-Za-z_-]{22,}")  # batch ids, check ids and similar keys
_ITEM = re.compile(r"(?<=/)[A-Z][A-Z0-9_]{1,15}(?=/|$)")  # catalog item codes: /catalog/CF


@dataclass(frozen=True)
class Link:
    url: str  # path and query, same site
    in_navigation: bool  # inside <header> or <nav>: a menu entry the page offers this user


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[tuple[str, bool]] = []
        self._menus = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("nav", "header"):
            self._menus += 1
        elif tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append((href, self._menus > 0))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("nav", "header") and self._menus:
            self._menus -= 1


def same_site(href: str, page_url: str) -> str | None:
    """The path and query of a same-site page link, or None (other sites, fragments, files, mailto)."""
    absolute = urlsplit(urljoin(ORIGIN + page_url, href.strip()))
    if f"{absolute.scheme}://{absolute.netloc}" != ORIGIN or not absolute.path.startswith("/"):
        return None
    if absolute.path.startswith(NOT_PAGES):
        return None
    return absolute.path + (f"?{absolute.query}" if absolute.query else "")


def links(html: str, page_url: str) -> list[Link]:
    parser = _LinkParser()
    parser.feed(html)
    found: dict[str, bool] = {}
    for href, in_navigation in parser.hrefs:
        url = same_site(href, page_url)
        if url is not None:
            found[url] = found.get(url, False) or in_navigation
    return [Link(url, nav) for url, nav in found.items()]


def pattern(url: str) -> str:
    """The URL with codes and numbers replaced and query values dropped: /subjects/{code}?purpose=."""
    parts = urlsplit(url)
    path = _NUMBER.sub("{n}", _ITEM.sub("{item}", _TOKEN.sub("{id}", _CODE.sub("{code}", parts.path))))
    keys = sorted({key for key, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return path + ("?" + urlencode([(k, "") for k in keys]) if keys else "")


@dataclass
class Visit:
    url: str
    status: int
    found_on: str | None  # the page whose link led here (None for the start page)
    from_navigation: bool


@dataclass
class Crawl:
    """What one user met: every page fetched, and what is wrong with them."""

    visits: list[Visit] = field(default_factory=list)

    def server_errors(self) -> list[str]:
        return [f"{v.status} {v.url} (linked from {v.found_on})" for v in self.visits if v.status >= 500]

    def refused_links(self) -> list[str]:
        """Links a page offered this user that then refused them (401/403): a menu entry or a link in a page
        should lead only where the user may go."""
        return [
            f"{v.status} {v.url} ({'menu' if v.from_navigation else 'link'} on {v.found_on})"
            for v in self.visits
            if v.found_on is not None and v.status in (401, 403)
        ]

    def urls(self) -> set[str]:
        return {v.url for v in self.visits}


Fetch = Callable[[str], tuple[int, str | None]]  # url -> (status, HTML text or None for other content)


def crawl(fetch: Fetch, start: str = "/", *, max_pages: int = 150, per_pattern: int = 2) -> Crawl:
    """Breadth first from `start`, menu links (in <header> or <nav>) before links in the page body, one URL
    of each pattern before a second one; at most `per_pattern` URLs of one pattern and `max_pages` pages in
    all. A pager or a filter bar is a <nav> too, so its pages count as one pattern like any other."""
    result = Crawl()
    menus: deque[tuple[str, str | None]] = deque([(start, None)])
    bodies: deque[tuple[str, str | None]] = deque()
    # URLs of a pattern already fetched: second examples, for what budget is left at the end
    again: deque[tuple[str, str | None]] = deque()
    from_menu: set[str] = set()
    seen: set[str] = {start}
    taken: dict[str, int] = {}
    while (menus or bodies or again) and len(result.visits) < max_pages:
        queue = menus or bodies or again
        url, found_on = queue.popleft()
        key = pattern(url)
        if taken.get(key, 0) >= (1 if queue is not again else per_pattern):
            if queue is not again and per_pattern > 1:
                again.append((url, found_on))
            continue
        taken[key] = taken.get(key, 0) + 1
        status, html = fetch(url)
        result.visits.append(Visit(url, status, found_on, url in from_menu))
        if html is None or status >= 400:
            continue
        for link in links(html, url):
            if link.in_navigation and link.url not in from_menu:
                from_menu.add(link.url)
                if link.url in seen:  # already fetched or queued as a body link: check it as a menu entry too
                    earlier = next((v for v in result.visits if v.url == link.url), None)
                    if earlier is not None:
                        earlier.from_navigation = True
                        continue
            if link.url in seen:
                continue
            seen.add(link.url)
            (menus if link.in_navigation else bodies).append((link.url, url))
    return result
