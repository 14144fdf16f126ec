"""The app served by `xinyong serve`'s own uvicorn configuration on a free local port, in a daemon thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from xinyong.app import create_app
from xinyong.cli import server_config
from xinyong.config import Settings
from xinyong.db import migrate
from xinyong.platform import Platform, build_platform


@contextmanager
def served(settings: Settings) -> Iterator[tuple[int, Platform]]:
    """Migrate the settings' store, serve the app on a free port; the port and the platform, stopped after."""
    platform = build_platform(settings)
    migrate.upgrade(platform.sessions.kw["bind"])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = server_config(create_app(platform=platform), "127.0.0.1", port)
    config.log_level = "warning"
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not instance.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert instance.started, "the server did not start within 10 s"
    try:
        yield port, platform
    finally:
        instance.should_exit = True
        thread.join(10)
