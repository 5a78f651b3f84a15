"""Fixtures for the browser tests: the real local stack (``espaluz dev``) in a subprocess
(``tests.dev_process``), and a headless Debian Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from tests.conftest import free_port
from tests.dev_process import DevStack, StackDidNotStart

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE_VIEWPORT: ViewportSize = {"width": 412, "height": 860}


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    data_dir = tmp_path_factory.mktemp("espaluz-data")
    log_path = tmp_path_factory.mktemp("espaluz-log") / "espaluz-dev.log"
    try:
        stack = DevStack.start(data_dir, free_port(), log_path=log_path)
    except StackDidNotStart as exc:
        pytest.fail(str(exc))
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, local_stack: DevStack) -> Iterator[Page]:
    """A fresh phone-sized page (its own localStorage) on the simulator, once the page is ready."""
    context = browser.new_context(viewport=PHONE_VIEWPORT, locale="es-ES")
    context.set_default_timeout(15_000)
    errors: list[str] = []
    opened = context.new_page()
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.goto(f"{local_stack.url}/")
    opened.wait_for_selector("body[data-ready='true']")
    try:
        yield opened
        assert not errors, f"JavaScript errors on the simulator page: {errors}"
    finally:
        context.close()
