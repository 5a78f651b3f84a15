"""The WhatsApp simulator page, driven in headless Chromium against the real local stack.

The tutor's wording is not asserted (it is the tutor's to change): only the conversation's structure
(bubbles, ticks, reply buttons, history). The stack comes from ``conftest.local_stack``.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.conftest import CHROMIUM
from tests.dev_process import DevStack

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is absent (scripts/system-deps.sh installs Debian's chromium)",
    ),
]

TUTOR_REPLY_TIMEOUT_MS = 30_000
NON_EMPTY = re.compile(r"\S")


def incoming(page: Page) -> Locator:
    return page.locator('[data-testid="bubble"][data-direction="in"]')


def outgoing(page: Page) -> Locator:
    return page.locator('[data-testid="bubble"][data-direction="out"]')


def send_text(page: Page, text: str) -> Locator:
    """Type and send ``text``; return the learner's new bubble."""
    before = outgoing(page).count()
    page.get_by_test_id("composer").fill(text)
    page.get_by_test_id("send").click()
    bubble = outgoing(page).nth(before)
    expect(bubble.get_by_test_id("bubble-text")).to_have_text(text)
    return bubble


def wait_for_tutor_text(page: Page, already: int, stack: DevStack) -> None:
    """Wait for an incoming bubble, beyond the first ``already`` ones, that shows some text; on timeout,
    fail with what the stack printed and what the tutor sent, which say why."""
    try:
        page.wait_for_function(
            """(n) => [...document.querySelectorAll('[data-testid="bubble"][data-direction="in"]')]
                .slice(n)
                .some((b) => (b.querySelector('[data-testid="bubble-text"]')?.textContent || "").trim())""",
            arg=already,
            timeout=TUTOR_REPLY_TIMEOUT_MS,
        )
    except PlaywrightTimeoutError:
        outbox = page.request.get(f"{stack.url}/dev/outbox").text()
        log = "".join(stack.output[-80:])
        pytest.fail(
            f"no text from the tutor within {TUTOR_REPLY_TIMEOUT_MS / 1000:.0f} s.\n"
            f"outbox: {outbox[:3000]}\nlast lines of `espaluz dev` (all in {stack.log_path}):\n{log}"
        )


def settle(page: Page, quiet_ms: int = 2_000, limit_ms: int = 20_000) -> None:
    """Wait until the tutor stops typing and no new bubble arrived for ``quiet_ms``."""
    waited = 0
    last = -1
    quiet = 0
    while waited < limit_ms and quiet < quiet_ms:
        count = page.get_by_test_id("bubble").count()
        typing = page.get_by_test_id("header-status").get_attribute("data-state") == "typing"
        quiet = 0 if (count != last or typing) else quiet + 250
        last = count
        page.wait_for_timeout(250)
        waited += 250


def switch_learner(page: Page, wa_id: str, name: str) -> None:
    page.get_by_test_id("settings-open").click()
    page.get_by_test_id("learner-wa-id").fill(wa_id)
    page.get_by_test_id("learner-name").fill(name)
    page.get_by_test_id("learner-save").click()
    expect(page.get_by_test_id("settings")).to_be_hidden()


def test_conversation_with_the_tutor(page: Page, local_stack: DevStack) -> None:
    # The default learner; the page may already show the tutor's earlier messages to them.
    history = incoming(page).count()
    mine = send_text(page, "hola")
    expect(mine).to_have_attribute("data-wamid", re.compile(r"^wamid\."))
    expect(mine.get_by_test_id("ticks")).to_have_attribute(
        "data-state", re.compile("^(sent|read)$"), timeout=TUTOR_REPLY_TIMEOUT_MS
    )

    wait_for_tutor_text(page, history, local_stack)
    expect(mine.get_by_test_id("ticks")).to_have_attribute(
        "data-state", "read", timeout=TUTOR_REPLY_TIMEOUT_MS
    )
    expect(page.get_by_test_id("header-status")).to_have_text(NON_EMPTY)

    settle(page)
    # The reply buttons of the newest message that has some (older ones may be history).
    offers = page.get_by_test_id("reply-buttons")
    if offers.count():
        first_button = offers.last.get_by_test_id("reply-button").first
        received = incoming(page).count()
        sent = outgoing(page).count()
        first_button.click()
        reply = outgoing(page).nth(sent)
        expect(reply).to_have_attribute("data-type", "button_reply")
        expect(reply.get_by_test_id("quote")).to_be_visible()
        expect(reply.get_by_test_id("ticks")).to_have_attribute(
            "data-state", re.compile("^(sent|read)$"), timeout=TUTOR_REPLY_TIMEOUT_MS
        )
        expect(incoming(page).nth(received)).to_be_visible(timeout=TUTOR_REPLY_TIMEOUT_MS)

    expect(page.locator('[data-testid="ticks"][data-state="failed"]')).to_have_count(0)


def test_history_survives_a_reload(page: Page, local_stack: DevStack) -> None:
    # A learner of its own, so the test does not depend on what other tests said.
    wa_id = "1555" + str(uuid.uuid4().int)[:8]
    switch_learner(page, wa_id, "Lucía")
    expect(page.get_by_test_id("bubble")).to_have_count(0)

    mine = send_text(page, "hola")
    wait_for_tutor_text(page, 0, local_stack)
    expect(mine.get_by_test_id("ticks")).to_have_attribute(
        "data-state", "read", timeout=TUTOR_REPLY_TIMEOUT_MS
    )
    settle(page)
    before = [
        (b.get_attribute("data-direction"), b.get_attribute("data-wamid"))
        for b in page.get_by_test_id("bubble").all()
    ]
    assert before[0][0] == "out"
    assert any(direction == "in" for direction, _ in before)

    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    expect(page.get_by_test_id("bubble")).to_have_count(len(before))
    after = [
        (b.get_attribute("data-direction"), b.get_attribute("data-wamid"))
        for b in page.get_by_test_id("bubble").all()
    ]
    assert after == before
    expect(outgoing(page).first.get_by_test_id("bubble-text")).to_have_text("hola")
    expect(outgoing(page).first.get_by_test_id("ticks")).to_have_attribute("data-state", "read")
    expect(page.get_by_test_id("learner-label")).to_have_text("Lucía")

    # The learner switcher shows each learner their own chat.
    switch_learner(page, "1555" + str(uuid.uuid4().int)[:8], "Otro")
    expect(page.get_by_test_id("bubble")).to_have_count(0)


def test_screenshot(page: Page, local_stack: DevStack, tmp_path: Path) -> None:
    switch_learner(page, "1555" + str(uuid.uuid4().int)[:8], "Marta")
    send_text(page, "hola")
    wait_for_tutor_text(page, 0, local_stack)
    shot = tmp_path / "simulator.png"
    page.screenshot(path=str(shot), full_page=False)
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 1_000
