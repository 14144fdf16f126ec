"""What a page tells the browser console: CSP violations and script errors, collected per page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ConsoleWatch:
    """Collects, for one Playwright page, the console messages that mean the page is broken or blocked."""

    csp_violations: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)

    @classmethod
    def attach(cls, page: Any) -> ConsoleWatch:
        watch = cls()
        page.on("console", watch._on_console)
        page.on("pageerror", lambda error: watch.script_errors.append(str(error)))
        return watch

    def _on_console(self, message: Any) -> None:
        text = message.text
        # Chromium reports every blocked resource, inline script, style attribute or worker this way.
        if "Content Security Policy" in text:
            self.csp_violations.append(text)

    def clear(self) -> None:
        self.csp_violations.clear()
        self.script_errors.clear()
