"""The Modal class body on a CPU: ``Pronunciation(tiny=True).assess.local(...)`` with tiny random-weight
Whisper and wav2vec2 built from configs (no downloads), alone and behind the voice service for a
pronunciation exercise (feedback message, model voice note uploaded, skills to review).

The lean exercise path: with an expected text, the phoneme model alone scores the clip and Whisper is
not called (counted with forward hooks on the models) unless the alignment says the learner said
something else; free speech still runs Whisper first. Bad input: an unknown phoneme-model name, noise.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from espaluz.config import Settings
from espaluz.storage.learners import Learner
from espaluz.tutor.state import ConversationState
from espaluz.voice.drills import STATE_KEY
from espaluz.voice.feedback import RETRY_ID, retry_button
from espaluz.voice.scoring import Assessment
from espaluz.voice.service import OutcomeKind, VoiceService
from espaluz.voice.transcribers import ModalAssessor
from espaluz.voice.tts import EspeakSpeaker
from espaluz.whatsapp.graph import GraphClient
from espaluz.whatsapp.models import Message
from tests.conftest import ACCESS_TOKEN, PHONE_NUMBER_ID, GraphEmulator
from tests.voice_samples import noise_ogg, speech_ogg

pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny() -> Any:
    from gpu.app import Pronunciation

    return Pronunciation(tiny=True)  # type: ignore[call-arg]  # a modal.parameter


def assess(tiny: Any, audio: bytes, expected: str | None, dialect: str) -> dict[str, Any]:
    with warnings.catch_warnings():  # .local() warns that the weights Volume is not mounted locally
        warnings.simplefilter("ignore", UserWarning)
        result: dict[str, Any] = tiny.assess.local(audio, expected, dialect)
    return result


def test_tiny_class_runs_phonemes_and_scoring(tiny: Any) -> None:
    """The whole method body: transcript, confidence, detected language, timings, and an assessment
    over exactly the expected words (random weights: the scores are arbitrary, the shape is not);
    Whisper ran exactly when the accuracy is under the "said something else" threshold."""
    from gpu.app import SOMETHING_ELSE_BELOW

    result = assess(tiny, speech_ogg("el perro corre"), "el perro corre", "latam")
    assert isinstance(result["transcript"], str)
    assert 0.0 <= result["confidence"] <= 1.0
    assert result["language"] in ("es", "en", "pt", "fr", "it", "de")
    checked = result["assessment"]["accuracy"] < SOMETHING_ELSE_BELOW
    assert result["whisper"] is checked
    assert set(result["timings"]) == {"prepare", "phonemes", "scoring"} | ({"whisper"} if checked else set())
    assessment = Assessment.from_json(result["assessment"])
    assert [w.text for w in assessment.words] == ["el", "perro", "corre"]
    assert [p.phone for p in assessment.words[1].phones] == ["p", "e", "r", "o"]
    assert not assessment.approximate
    for value in (assessment.accuracy, assessment.fluency, assessment.completeness, assessment.prosody):
        assert 0.0 <= value <= 100.0


@pytest.fixture(scope="module")
def counted() -> tuple[dict[str, Any], dict[str, int]]:
    """Tiny models on the CPU, with forward hooks counting each model's calls (torch's own hooks)."""
    from gpu.app import load_tiny

    models = load_tiny("cpu")
    calls = {"whisper": 0, "phonemes": 0}
    for name in calls:
        models[name].register_forward_pre_hook(lambda *_, name=name: calls.__setitem__(name, calls[name] + 1))
    return models, calls


def run(counted: tuple[dict[str, Any], dict[str, int]], text: str | None, **kwargs: Any) -> dict[str, Any]:
    from gpu.app import run_assessment

    models, calls = counted
    for name in calls:
        calls[name] = 0
    result: dict[str, Any] = run_assessment(
        models, "cpu", speech_ogg("el perro corre"), text, "latam", **kwargs
    )
    return result


def test_exercise_said_as_expected_runs_no_whisper(counted: tuple[dict[str, Any], dict[str, int]]) -> None:
    """Alignment score above the threshold (threshold 0: any score is above): one phoneme-model pass,
    no Whisper call; the transcript is the expected text, its confidence the accuracy."""
    result = run(counted, "el perro corre", recheck_below=0.0)
    assert counted[1] == {"whisper": 0, "phonemes": 1}
    assert result["whisper"] is False
    assert "whisper" not in result["timings"]
    assert result["transcript"] == "el perro corre"
    assert result["confidence"] == round(result["assessment"]["accuracy"] / 100, 3)
    assert [w["word"] for w in result["words"]] == ["el", "perro", "corre"]


def test_exercise_said_something_else_asks_whisper(counted: tuple[dict[str, Any], dict[str, int]]) -> None:
    """Alignment score below the threshold (threshold over 100: any score is below): Whisper runs after the
    phonemes to say what was heard; the assessment still scores the expected words."""
    result = run(counted, "el perro corre", recheck_below=100.1)
    assert counted[1]["phonemes"] == 1
    assert counted[1]["whisper"] > 0
    assert result["whisper"] is True
    assert "whisper" in result["timings"]
    assert result["assessment"]["transcript"] == result["transcript"]
    assert result["assessment"]["expected_text"] == "el perro corre"


def test_a_cpu_container_leaves_what_was_heard_to_the_tutor(
    counted: tuple[dict[str, Any], dict[str, int]],
) -> None:
    """A CPU-only container (``whisper_recheck=False``): below the threshold it runs no Whisper and says
    ``recheck_wanted`` (the tutor asks Groq); above it, nothing is wanted."""
    wanted = run(counted, "el perro corre", recheck_below=100.1, whisper_recheck=False)
    assert counted[1] == {"whisper": 0, "phonemes": 1}
    assert (wanted["whisper"], wanted["heard_check"], wanted["recheck_wanted"]) == (False, False, True)
    assert wanted["transcript"] == "el perro corre"
    fine = run(counted, "el perro corre", recheck_below=0.0, whisper_recheck=False)
    assert fine["recheck_wanted"] is False


def test_free_speech_still_transcribes_first(counted: tuple[dict[str, Any], dict[str, int]]) -> None:
    """No expected text: Whisper's transcript is what gets scored (approximate), whatever the threshold."""
    result = run(counted, None, recheck_below=0.0)
    assert counted[1]["whisper"] > 0
    assert result["whisper"] is True
    if result["assessment"] is not None:
        assert result["assessment"]["approximate"]


def test_phoneme_models_are_pinned() -> None:
    """Both phoneme models have a pinned 40-hex revision; an unknown name is refused at deploy."""
    from gpu.app import DEFAULT_PHONEME_MODEL, PHONEME_MODELS, phoneme_choice

    assert DEFAULT_PHONEME_MODEL in PHONEME_MODELS
    assert phoneme_choice("xlsr-53")[0] == "facebook/wav2vec2-xlsr-53-espeak-cv-ft"
    assert all(re.fullmatch(r"[0-9a-f]{40}", revision) for _, revision in PHONEME_MODELS.values())
    with pytest.raises(ValueError, match="VOICE_PHONEME_MODEL"):
        phoneme_choice("wav2vec2-latest")


def test_tiny_class_reports_unusable_audio(tiny: Any) -> None:
    """Noise only: the app says so instead of transcribing noise."""
    result = assess(tiny, noise_ogg(), None, "latam")
    assert result["problem"] == "noise_only"
    assert result["transcript"] == ""


def test_exercise_through_the_service(graph_emulator: GraphEmulator, tiny: Any, tmp_path: Path) -> None:
    """A pronunciation exercise goes to the Modal class (whatever the clip's length and SNR); the learner
    gets one feedback message with a try-again button, and no model voice note on a first attempt (a
    "listen" button offers it after a miss)."""
    settings = Settings(espaluz_data_dir=tmp_path, whatsapp_phone_number_id=PHONE_NUMBER_ID, groq_api_key="")
    graph = GraphClient(graph_emulator.graph_url, ACCESS_TOKEN)
    service = VoiceService(
        settings,
        graph,
        modal=ModalAssessor(settings, call=lambda audio, text, dialect: assess(tiny, audio, text, dialect)),
        speaker=EspeakSpeaker(),
    )
    who = Learner(uuid4(), "15550001111", None, "Ana", PHONE_NUMBER_ID, "A2", "latam", "en", "plus", "active")
    state = ConversationState()
    prompt = service.start_exercise(state, "el perro", skill="pron:r")
    assert "el perro" in prompt.text
    assert state.extra[STATE_KEY]["text"] == "el perro"
    media_id = graph.upload_media(PHONE_NUMBER_ID, speech_ogg("el perro"), "audio/ogg")
    message = Message.model_validate(
        {"id": "wamid.EX1", "type": "audio", "from": "15550001111", "audio": {"id": media_id, "voice": True}}
    )
    outcome = service.handle(who, message, state)
    assert outcome.kind is OutcomeKind.FEEDBACK
    assert outcome.route is not None
    assert outcome.route.value == "modal"
    assert outcome.reply is not None
    assert outcome.reply.buttons[0] == retry_button("en")
    assert outcome.reply.reply_to == "wamid.EX1"
    assert outcome.model_voice_media_id is None  # no model voice note on a first attempt
    listen = [b.id for b in outcome.reply.buttons].count("voice:listen")
    assert listen == (1 if STATE_KEY in state.extra else 0)  # a miss offers it on request
    uploads = [i for i in graph_emulator.outbox() if i["kind"] == "media_upload"]
    assert len(uploads) == 1  # the learner's clip (test setup): no model pronunciation made
    assert outcome.assessment is not None
    assert "pron:r" in outcome.performances
    assert outcome.state_changed
    assert outcome.timings["modal"] > 0
    retry = service.on_button(RETRY_ID, who, state)
    if STATE_KEY in state.extra:
        assert retry is not None
        assert "el perro" in retry.text
