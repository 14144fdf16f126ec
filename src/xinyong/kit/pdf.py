"""PDF from server-rendered HTML (WeasyPrint): fonts from the system, nothing fetched over the network.

A page is rendered with the print media type, so the `@media print` rules of its stylesheets apply. The
only resources it may load are files of the package's own static folders, named by URL prefix; any other
URL (http, file, data, another path) is refused, so whatever text a document carries cannot make the
server read a local file or call another host.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from importlib.resources.abc import Traversable
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["PackageFetcher", "RefusedResource", "font_configuration", "html_to_pdf", "stylesheet"]

log = logging.getLogger("xinyong.pdf")
_local = threading.local()  # per thread: WeasyPrint's font configuration and parsed stylesheets

_TYPES = {".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg"}


class RefusedResource(ValueError):
    """A document asked for a resource outside the package's static folders."""


def _fetcher_base() -> type:
    from weasyprint.urls import URLFetcher

    return URLFetcher  # type: ignore[no-any-return]


class PackageFetcher:
    """Serves `base_url` + prefix + name from the folder mapped to that prefix; refuses everything else."""

    def __init__(self, base_url: str, folders: Mapping[str, Traversable]) -> None:
        base = urlsplit(base_url)
        self._origin = (base.scheme, base.netloc)
        self._folders = dict(folders)

    def resolve(self, url: str) -> tuple[Traversable, str]:
        """The file a URL names and its media type, or RefusedResource."""
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc) != self._origin:
            raise RefusedResource(f"resource outside the package refused: {url[:200]}")
        path = unquote(parts.path)
        for prefix, folder in self._folders.items():
            if not path.startswith(prefix):
                continue
            name = PurePosixPath(path[len(prefix) :])
            if name.is_absolute() or any(p in ("..", "") for p in name.parts) or not name.parts:
                break
            target = folder.joinpath(*name.parts)
            if target.is_file() and name.suffix in _TYPES:
                return target, _TYPES[name.suffix]
            break
        raise RefusedResource(f"resource outside the package refused: {url[:200]}")

    def as_weasyprint(self) -> Any:
        """The fetcher in the form WeasyPrint takes (a `URLFetcher` whose `fetch` only reads package files)."""
        from weasyprint.urls import URLFetcherResponse

        resolve = self.resolve

        class _Fetcher(_fetcher_base()):  # type: ignore[misc]
            def fetch(self, url: str, headers: Any = None) -> Any:
                target, media_type = resolve(url)
                return URLFetcherResponse(url, target.read_bytes(), {"Content-Type": media_type})

        return _Fetcher(allowed_protocols=("http", "https"))


def font_configuration() -> Any:
    """This thread's WeasyPrint `FontConfiguration`, made once and reused by every render in the thread rather
    than made anew for each (one is not shared between threads: Pango's font map is not thread-safe)."""
    fonts = getattr(_local, "fonts", None)
    if fonts is None:
        from weasyprint.text.fonts import FontConfiguration

        fonts = _local.fonts = FontConfiguration()
    return fonts


def stylesheet(css: str) -> Any:
    """`css` parsed once per thread into a WeasyPrint `CSS`, for a document rendered again and again (a report
    template's fixed rules); it may load nothing (no url())."""
    parsed: dict[str, Any] | None = getattr(_local, "stylesheets", None)
    if parsed is None:
        parsed = _local.stylesheets = {}
    if css not in parsed:
        from weasyprint import CSS

        if len(parsed) >= 16:
            parsed.clear()
        parsed[css] = CSS(string=css, font_config=font_configuration())
    return parsed[css]


def html_to_pdf(
    html: str,
    *,
    base_url: str,
    folders: Mapping[str, Traversable],
    attachments: Mapping[str, bytes] | None = None,
    variant: str | None = None,
    stylesheets: Sequence[str] = (),
) -> bytes:
    """Render an HTML document to PDF bytes. `base_url` is the address the document's relative links are
    taken from (the request's own origin); `folders` maps URL path prefixes (``/static/``) to the package
    folders that may be read. Fonts come from the system (fontconfig) and are embedded, subset.
    `attachments` are embedded files by name; `variant` a PDF variant WeasyPrint knows (``pdf/a-3b``);
    `stylesheets` fixed CSS applied after the document's own, each parsed once per thread (`stylesheet`)."""
    from weasyprint import HTML, Attachment

    fetcher = PackageFetcher(base_url, folders).as_weasyprint()
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher, media_type="print")
    files = [Attachment(string=data, name=name) for name, data in (attachments or {}).items()]
    pdf = document.write_pdf(
        attachments=files or None,
        pdf_variant=variant,
        font_config=font_configuration(),
        stylesheets=[stylesheet(css) for css in stylesheets] or None,
    )
    assert isinstance(pdf, bytes)
    return pdf
