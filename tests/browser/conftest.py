"""A real headless Chromium for the page tests: the system's own (Debian's chromium
package), driven by playwright without any browser download.

Without a Chromium the page tests are skipped; with REQUIRE_BROWSER=1 (what .ci/run sets
after installing chromium) a missing browser fails them instead, so CI never passes by
skipping them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

# The console's page tests run against the whole stack: the end-to-end tests' fixtures.
from tests.e2e.conftest import phones, stack  # noqa: F401

# As this machine's Chromium wants it: no sandbox as root, nothing fetched in the background.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """CHROMIUM_PATH, else the first Chromium on PATH."""
    found = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    found = found or shutil.which("chromium-browser")
    return found if found and Path(found).exists() else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in item.nodeid:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    """One headless Chromium for the session, closed (by playwright, by PID) at the end."""
    path = chromium_path()
    if path is None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("REQUIRE_BROWSER=1 but no Chromium found (install Debian's chromium)")
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    """A fresh page (own context: no cookies shared between tests) that records every
    console error and failed request, so a test can assert there were none."""
    context = await browser.new_context()
    tab = await context.new_page()
    tab.console_errors = []
    tab.on("console", lambda m: m.type == "error" and tab.console_errors.append(m.text))
    tab.on("pageerror", lambda e: tab.console_errors.append(str(e)))
    tab.on("requestfailed", lambda r: tab.console_errors.append(f"failed: {r.url}"))
    yield tab
    await context.close()
