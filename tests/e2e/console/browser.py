"""Headless Chromium (Debian's, through Playwright's Python package) for the console tests:
a page that records JavaScript errors, screenshots into a temp folder (copied into the
repository with LORAGATE_REFRESH_SCREENSHOTS=1), and signing in."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Error, Page, expect

CHROMIUM = "/usr/bin/chromium"
COMMITTED = Path(__file__).parent / "screenshots"
# The screenshots the README shows (the others stay in the temp folder).
IN_README = frozenset(
    {"sign-in-refused", "job-succeeded", "playground", "datasets-bad-upload", "dataset-chinese",
     "admin", "overview-narrow"}
)  # fmt: skip
# The browser logs every refused fetch; those the pages expect and show (a bad key, a bad
# upload, another user's object) are not JavaScript errors.
EXPECTED_REFUSAL = re.compile(
    r"Failed to load resource: the server responded with a status of 40[0134]"
)


@dataclass
class Watched:
    """A page and every JavaScript error and console error it has produced."""

    page: Page
    shots: Path
    errors: list[str] = field(default_factory=list)

    def attach(self) -> None:
        self.page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        self.page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not EXPECTED_REFUSAL.search(message.text):
            self.errors.append(f"console.error: {message.text}")

    def go(self, base_url: str, route: str) -> None:
        """Open a console route the way a user types it into the address bar."""
        self.page.goto(f"{base_url}/ui/#{route}")

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path))
        if os.environ.get("LORAGATE_REFRESH_SCREENSHOTS") == "1" and name in IN_README:
            COMMITTED.mkdir(exist_ok=True)
            shutil.copyfile(path, COMMITTED / path.name)
        return path

    def sign_in(self, base_url: str, key: str) -> None:
        self.go(base_url, "/signin")
        self.page.fill("#api-key", key)
        self.page.click("#sign-in")
        expect(self.page.locator("#sign-out")).to_be_visible()

    def sign_out(self) -> None:
        self.page.click("#sign-out")
        expect(self.page.locator("#api-key")).to_be_visible()

    def assert_no_errors(self) -> None:
        errors, self.errors[:] = list(self.errors), []
        assert errors == [], errors


def launch_error() -> str | None:
    """Why Chromium cannot run here (None when it can)."""
    if not Path(CHROMIUM).is_file():
        return f"{CHROMIUM} is missing: run scripts/system-deps.sh"
    return None


__all__ = ["CHROMIUM", "Error", "Watched", "launch_error"]
