"""Browser fixtures: the real app served by uvicorn on a free local port, driven by headless Chromium.

The app runs on a migrated SQLite file in a temporary directory; tests load their data through the real
ingestion service (see `ingest_rows`). Chromium is the Debian package at /usr/bin/chromium; without it every
browser test is skipped (never `playwright install`).
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import helpers
from xinyong.platform import Platform

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TODAY = dt.date(2026, 11, 28)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def portal_platform(tmp_path_factory: pytest.TempPathFactory) -> Platform:
    from xinyong.config import Settings
    from xinyong.db import migrate
    from xinyong.platform import build_platform

    tmp = tmp_path_factory.mktemp("browser")
    settings = Settings(data_dir=tmp, database_url=f"sqlite:///{tmp}/b.db", secret_key="test")
    platform = build_platform(settings)
    migrate.upgrade(platform.sessions.kw["bind"])
    return platform


@pytest.fixture(scope="module")
def ingest_rows(portal_platform: Platform):  # type: ignore[no-untyped-def]
    """Submit rows through the ingestion service as a department would, committed; returns the receipt."""
    from xinyong.db.session import transaction

    def ingest(
        rows: list[dict[str, Any]],
        *,
        item: str = "CF",
        provider: str = "SCMR",
        provider_name: str = "四川省市场监督管理局",
    ) -> Any:
        ctx = portal_platform.ingest_context(TODAY)
        with transaction(portal_platform.sessions) as session:
            receipt = helpers.ingest_rows(session, ctx, rows, item, provider, provider_name)
        portal_platform.dispatch_events()  # the reactions after the commit, as the API and the CLI run them
        assert (receipt.rejected, receipt.queued) == (0, 0), receipt
        return receipt

    return ingest


@pytest.fixture(scope="module")
def base_url(portal_platform: Platform) -> Iterator[str]:
    """The portal served by uvicorn in a daemon thread; the URL without a trailing slash."""
    import uvicorn

    from xinyong.app import create_app
    from xinyong.web.deps import get_today

    app = create_app(platform=portal_platform)
    app.dependency_overrides[get_today] = lambda: TODAY
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="portal-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            pytest.fail("the portal server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium not installed at {CHROMIUM} (Debian package 'chromium'); browser tests skipped"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    context = browser.new_context(base_url=base_url, locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
