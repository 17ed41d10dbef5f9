"""One headless Chromium and one page for the console tests, against the session stack."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.e2e.console.browser import CHROMIUM, Watched, launch_error

# Uploads are checked with the model's tokenizer and the box is shared: wait long enough.
expect.set_options(timeout=60_000)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    problem = launch_error()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def watched(browser: Browser, shots: Path) -> Iterator[Watched]:
    """One page (a fresh context: cold cache, empty session storage) for the module."""
    context = browser.new_context(viewport={"width": 1100, "height": 760}, locale="en-GB")
    context.set_default_timeout(30_000)
    page = Watched(context.new_page(), shots)
    page.attach()
    yield page
    context.close()
