"""Fixtures for the browser tests: the real local stack (``espaluz dev``) in a subprocess
(``tests.dev_process``); the browser itself (``browser``) is shared by every test, in tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, ViewportSize

from tests.conftest import free_port
from tests.dev_process import DevStack, StackDidNotStart

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
