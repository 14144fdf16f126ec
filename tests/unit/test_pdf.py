"""kit.pdf: a document reads only the package's static files; anything else is refused."""

from __future__ import annotations

from importlib import resources

import pytest

from xinyong.kit.pdf import PackageFetcher, RefusedResource

BASE = "http://testserver/console/checks/abc/print"
STATIC = resources.files("xinyong.web") / "static"


def fetcher() -> PackageFetcher:
    return PackageFetcher(BASE, {"/static/": STATIC})


def test_the_sites_stylesheet_is_served_from_the_package() -> None:
    target, media_type = fetcher().resolve("http://testserver/static/site.css")
    assert media_type == "text/css" and b"@media print" in target.read_bytes()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://example.com/static/site.css",  # another host
        "https://testserver/static/site.css",  # another scheme
        "http://testserver/static/../../../../etc/passwd",
        "http://testserver/static/%2e%2e/%2e%2e/config.py",
        "http://testserver/static//etc/passwd",
        "http://testserver/static/",
        "http://testserver/console/checks/abc",  # not a static file
        "http://testserver/static/missing.css",
        "data:text/css,body{}",
    ],
)
def test_anything_else_is_refused(url: str) -> None:
    with pytest.raises(RefusedResource):
        fetcher().resolve(url)


def test_fonts_and_stylesheets_are_made_once_per_thread_and_never_shared_between_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from xinyong.kit.pdf import font_configuration, html_to_pdf, stylesheet

    css = "p { color: #123456; }"
    here = (font_configuration(), stylesheet(css))
    assert font_configuration() is here[0] and stylesheet(css) is here[1]
    with ThreadPoolExecutor(1) as pool:
        there = pool.submit(lambda: (font_configuration(), stylesheet(css))).result()
    assert there[0] is not here[0] and there[1] is not here[1]
    pdf = html_to_pdf("<p>信用</p>", base_url="http://t.invalid/", folders={}, stylesheets=[css])
    assert pdf.startswith(b"%PDF-")
