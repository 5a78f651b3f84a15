"""``espaluz chat`` as a person runs it: the command starts the local stack in its own process (on the test's
Postgres and Redis), the learner's lines come from stdin, and what the terminal shows is asserted.

The stack's functions write JSON log lines at INFO on every turn; here they must be in the log file the
chat names at the start, and none of them on stdout or stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from espaluz.dev.stack import LocalStack
from tests.dev_process import end_left_behind, espaluz_command
from tests.functional.test_local_stack import stack  # noqa: F401 (the fixture)


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "espaluz-data"
    yield path
    end_left_behind(path)


def _is_json_line(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def test_chat_shows_a_readable_conversation_and_keeps_logs_in_a_file(
    database_url: str, redis_url: str, data_dir: Path
) -> None:
    """The faults of issue 15: JSON log lines between the turns, and raw *bold*/_italic_ markup."""
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    env.update({"ESPALUZ_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"})
    result = subprocess.run(
        [espaluz_command(), "chat", "--wa-id", "15550000123", "--name", "Eva"],
        input="hola\n1\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    log = data_dir / "logs" / "chat.log"
    assert lines[0] == f"Logs: {log}"
    assert sum(line.startswith("Logs:") for line in lines) == 1
    assert not [
        line for line in lines + result.stderr.splitlines() if _is_json_line(line) or '"level"' in line
    ]
    # The learner's turns are echoed after the prompt; the tutor's replies follow "espaluz> ".
    assert "tú> hola" in lines
    assert "tú> 1" in lines
    replies = [line.removeprefix("espaluz> ") for line in lines if line.startswith("espaluz> ")]
    assert replies[0].startswith("¡Hola, Eva!"), result.stdout
    assert "Espaluz" in replies[0]
    assert "*" not in replies[0]
    buttons = next(line.strip() for line in lines if line.strip().startswith("1) "))
    assert buttons.startswith("1) English  2) Español"), result.stdout
    # "1" sent the English button's id: the next question is glossed in English, with no raw markup.
    after_choice = result.stdout.split("tú> 1", 1)[1]
    assert "English" in after_choice, result.stdout
    assert "*English*" not in after_choice, result.stdout
    assert "What is your Spanish level?" in after_choice, result.stdout
    assert "_What" not in after_choice, result.stdout
    # The stack's JSON lines went to the file instead.
    logged = [json.loads(line) for line in log.read_text().splitlines() if _is_json_line(line)]
    assert any(entry.get("message") == "turn answered" for entry in logged)


def test_chat_with_url_talks_to_a_running_stack_and_numbers_pick_buttons(
    stack: LocalStack,  # noqa: F811 (the fixture)
    tmp_path: Path,
) -> None:
    """``espaluz chat --url``: typed lines go in as learner messages; a number picks a button (the first
    onboarding answer, then, after "skip" ends onboarding, Practicar, which starts an exercise)."""
    env = {**os.environ, "ESPALUZ_DATA_DIR": str(tmp_path / "chat-data"), "NO_COLOR": "1"}
    result = subprocess.run(
        [espaluz_command(), "chat", "--url", stack.url, "--wa-id", "15550000124", "--name", "Eva"],
        input="hola\n1\nskip\n1\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Logs: {tmp_path / 'chat-data' / 'logs' / 'chat.log'}"
    assert lines[4].startswith("espaluz> ¡Hola, Eva!"), result.stdout
    assert any(line.startswith("         1) English  2) Español") for line in lines), result.stdout
    # "1" sent the English button: the level question comes with its English gloss (plain, no _markers_).
    turns = result.stdout.split("tú> ")
    assert turns[2].startswith("1\n"), result.stdout
    assert "         What is your Spanish level?" in turns[2].splitlines(), result.stdout
    assert any(line.startswith("         1) Practicar  2) Ayuda") for line in turns[3].splitlines())
    # "1" then chose Practicar: the tutor answers with something new (an exercise), not the menu again.
    assert turns[4].startswith("1\nespaluz> "), result.stdout
    assert "Practicar  2) Ayuda" not in turns[4], result.stdout
