"""The voice path end to end: Groq's transcription API (a local server speaking it, reached through the
official groq SDK), Amazon Polly's SynthesizeSpeech (a local server, reached through boto3), and the
voice service downloading from the Graph API emulator, with a media URL that expires mid-download.
Modal calls left without an answer (timeout, provider error, interrupted wait) are cancelled; an exercise
the GPU app found was read as something else says what was heard."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import uuid4

import boto3
import numpy as np
import pytest
import soundfile as sf  # type: ignore[import-untyped]

from espaluz.config import Settings
from espaluz.storage.learners import Learner
from espaluz.tutor.state import ConversationState
from espaluz.voice import service as voice_service
from espaluz.voice.audio import AudioProblem, resample
from espaluz.voice.drills import STATE_KEY
from espaluz.voice.routing import Route
from espaluz.voice.service import OutcomeKind, VoiceService
from espaluz.voice.transcribers import GroqTranscriber, ModalAssessor, TranscriberUnavailable
from espaluz.voice.tts import PollySpeaker, SpeechUnavailable
from espaluz.whatsapp.graph import GraphClient
from espaluz.whatsapp.models import Message
from espaluz.whatsapp.outgoing import check_voice_note
from tests.conftest import ACCESS_TOKEN, PHONE_NUMBER_ID, GraphEmulator
from tests.voice_samples import espeak, silent_ogg, speech_ogg


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status, headers, payload = self.server.respond(self.path, dict(self.headers), body)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def respond(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError


class GroqTranscriptionServer(_Server):
    """Speaks Groq's OpenAI-compatible ``POST /openai/v1/audio/transcriptions`` (multipart form)."""

    transcript = "hola, ¿qué tal?"

    def respond(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        if path != "/openai/v1/audio/transcriptions":
            return 404, {}, b"{}"
        form = BytesParser(policy=default_policy).parsebytes(
            f"Content-Type: {headers['Content-Type']}\r\n\r\n".encode() + body
        )
        fields: dict[str, list[Any]] = {}
        for part in form.iter_parts():
            name = part.get_param("name", header="content-disposition")
            value = part.get_payload(decode=True)
            raw = value if isinstance(value, bytes) else str(value).encode()
            fields.setdefault(str(name), []).append(raw if part.get_filename() else raw.decode())
        self.requests.append({"headers": headers, "fields": fields})
        if self.status != 200:
            error = {"error": {"message": "injected", "type": "server_error"}}
            return self.status, {"Content-Type": "application/json"}, json.dumps(error).encode()
        samples, rate = sf.read(io.BytesIO(fields["file"][0]))  # the clip must be real audio
        duration = len(samples) / rate
        words = self.transcript.replace(",", "").replace("¿", "").replace("?", "").split()
        step = duration / max(len(words), 1)
        answer = {
            "task": "transcribe",
            "language": "Spanish",
            "duration": duration,
            "text": " " + self.transcript,
            "segments": [
                {
                    "id": 0,
                    "start": 0.0,
                    "end": duration,
                    "text": self.transcript,
                    "avg_logprob": -0.105,
                    "no_speech_prob": 0.01,
                    "compression_ratio": 0.9,
                    "temperature": 0.0,
                }
            ],
            "words": [{"word": w, "start": i * step, "end": (i + 1) * step} for i, w in enumerate(words)],
            "x_groq": {"id": "req_test"},
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()


class PollyServer(_Server):
    """Speaks Polly's ``POST /v1/speech`` (SynthesizeSpeech): 16 kHz PCM of espeak-ng speech."""

    def respond(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        request = json.loads(body)
        self.requests.append(request)
        if self.status != 200:
            error = json.dumps({"message": "injected"}).encode()
            kind = {"x-amzn-ErrorType": "ServiceFailureException"}
            return self.status, {"Content-Type": "application/json", **kind}, error
        samples, rate = espeak(request["Text"])
        pcm = (resample(samples, rate, int(request["SampleRate"])) * 32767).astype("<i2").tobytes()
        return 200, {"Content-Type": "audio/pcm", "x-amzn-RequestCharacters": str(len(request["Text"]))}, pcm


@pytest.fixture
def groq_server() -> Iterator[GroqTranscriptionServer]:
    server = GroqTranscriptionServer()
    yield server
    server.shutdown()


@pytest.fixture
def settings(
    groq_server: GroqTranscriptionServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.delenv("MODAL_TOKEN_ID", raising=False)
    return Settings(
        groq_api_key="gsk_test",
        groq_base_url=groq_server.url,
        espaluz_data_dir=tmp_path / "data",
        audio_bucket="",
        whatsapp_phone_number_id=PHONE_NUMBER_ID,
        voice_tts="espeak",
    )


def learner(language: str = "en") -> Learner:
    return Learner(
        uuid4(), None, "US.1234", "Ana", PHONE_NUMBER_ID, "A2", "latam", language, "free", "active"
    )


def voice_message(media_id: str, wamid: str = "wamid.VOICE1") -> Message:
    return Message.model_validate(
        {
            "id": wamid,
            "type": "audio",
            "from": "15550001111",
            "timestamp": "1700000000",
            "audio": {"id": media_id, "mime_type": "audio/ogg; codecs=opus", "voice": True},
        }
    )


def test_groq_transcription_through_the_sdk(groq_server: GroqTranscriptionServer, settings: Settings) -> None:
    """The SDK's multipart request carries model, forced Spanish, verbose JSON with word timestamps
    and the clip itself; the answer becomes transcript, confidence, ISO language and timing."""
    clip = speech_ogg("hola, qué tal")
    result = GroqTranscriber(settings).transcribe(clip)
    fields = groq_server.requests[0]["fields"]
    assert groq_server.requests[0]["headers"]["Authorization"] == "Bearer gsk_test"
    assert fields["model"] == ["whisper-large-v3-turbo"]
    assert fields["language"] == ["es"]
    assert fields["response_format"] == ["verbose_json"]
    assert sorted(fields["timestamp_granularities[]"]) == ["segment", "word"]
    assert fields["file"][0] == clip
    transcript = result.transcript
    assert transcript.text == "hola, ¿qué tal?"
    assert transcript.language == "es"
    assert transcript.route == "groq"
    assert transcript.confidence == pytest.approx(np.exp(-0.105) * 0.99, abs=1e-3)
    assert [w.word for w in transcript.words] == ["hola", "qué", "tal"]
    assert transcript.processing_seconds > 0


def test_groq_error_and_missing_key_are_unavailable(
    groq_server: GroqTranscriptionServer, settings: Settings
) -> None:
    """Provider outage (a 500, not retried: the per-turn budget holds one Groq call, and the Modal app is
    the fallback) and a missing key: TranscriberUnavailable."""
    groq_server.status = 500
    with pytest.raises(TranscriberUnavailable):
        GroqTranscriber(settings).transcribe(speech_ogg("hola"))
    assert len(groq_server.requests) == 1  # max_retries=0
    with pytest.raises(TranscriberUnavailable, match="GROQ_API_KEY"):
        GroqTranscriber(Settings(groq_api_key="")).transcribe(b"OggS")


def test_voice_note_with_url_expiring_mid_download_is_transcribed(
    graph_emulator: GraphEmulator, groq_server: GroqTranscriptionServer, settings: Settings
) -> None:
    """Timeouts/expiry: the first download answers 'URL expired' (131052); the service still gets the
    clip (fresh URL), keeps it in the local store and sends the short clean clip to Groq."""
    graph = GraphClient(graph_emulator.graph_url, ACCESS_TOKEN)
    clip = speech_ogg("hola, qué tal")
    media_id = graph.upload_media(PHONE_NUMBER_ID, clip, "audio/ogg")
    graph_emulator.fail_next(code=131052, status=404, on="download")
    service = VoiceService(settings, graph)
    who = learner()
    outcome = service.handle(who, voice_message(media_id), ConversationState())
    assert outcome.kind is OutcomeKind.TRANSCRIPT
    assert outcome.route is Route.GROQ
    assert outcome.transcript is not None
    assert outcome.transcript.text == "hola, ¿qué tal?"
    assert outcome.reply is None
    assert outcome.assessment is None
    stored = settings.espaluz_data_dir / "audio" / f"voice/{who.id}/wamid.VOICE1.ogg"
    assert outcome.audio_key == f"voice/{who.id}/wamid.VOICE1.ogg"
    assert stored.read_bytes() == clip
    assert len(groq_server.requests) == 1


def test_silent_and_unknown_media_get_friendly_replies(
    graph_emulator: GraphEmulator, groq_server: GroqTranscriptionServer, settings: Settings
) -> None:
    """Bad input: a silent voice note and a media id Meta does not know; neither reaches Groq."""
    graph = GraphClient(graph_emulator.graph_url, ACCESS_TOKEN)
    service = VoiceService(settings, graph)
    silent = graph.upload_media(PHONE_NUMBER_ID, silent_ogg(), "audio/ogg")
    outcome = service.handle(learner(), voice_message(silent), ConversationState())
    assert outcome.kind is OutcomeKind.PROBLEM
    assert outcome.problem is AudioProblem.SILENT
    assert outcome.reply is not None
    assert "hear" in outcome.reply.text
    unknown = service.handle(learner(), voice_message("99999999"), ConversationState())
    assert unknown.kind is OutcomeKind.UNAVAILABLE
    assert unknown.reply is not None
    assert groq_server.requests == []


def test_groq_down_and_no_modal_gives_the_unavailable_reply(
    graph_emulator: GraphEmulator, groq_server: GroqTranscriptionServer, settings: Settings
) -> None:
    """Provider outage: Groq fails, the Modal fallback is not configured: a polite reply, no exception."""
    groq_server.status = 503
    graph = GraphClient(graph_emulator.graph_url, ACCESS_TOKEN)
    media_id = graph.upload_media(PHONE_NUMBER_ID, speech_ogg("hola"), "audio/ogg")
    outcome = VoiceService(settings, graph).handle(learner(), voice_message(media_id), ConversationState())
    assert outcome.kind is OutcomeKind.UNAVAILABLE
    assert outcome.reply is not None
    assert outcome.reply.text == (
        "I can't listen to voice notes right now 🙉 Please write it, or try again in a few minutes."
    )
    spanish = VoiceService(settings, graph).handle(
        learner("es"), voice_message(media_id, "wamid.VOICE2"), ConversationState()
    )
    assert spanish.kind is OutcomeKind.UNAVAILABLE
    assert spanish.reply is not None
    assert spanish.reply.text == (
        "Ahora mismo no puedo escuchar notas de voz 🙉 Escríbemelo, o vuelve a intentarlo en unos minutos."
    )
    assert len(groq_server.requests) == 2  # each note was really tried: a passing outage


@pytest.fixture
def no_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A server with neither Groq nor Modal configured (and the once-per-process warning re-armed)."""
    monkeypatch.delenv("MODAL_TOKEN_ID", raising=False)
    monkeypatch.setattr(voice_service, "_warned_unconfigured", set())
    return Settings(
        groq_api_key="",
        modal_token_id="",
        espaluz_data_dir=tmp_path / "data",
        audio_bucket="",
        whatsapp_phone_number_id=PHONE_NUMBER_ID,
    )


SETTING_NAMES = ("GROQ", "MODAL", "API_KEY", "TOKEN")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            "Voice notes aren't set up on this server, so I can't listen to yours 🙉 "
            "Please write your message instead ✍️",
        ),
        (
            "es",
            "En este servidor no están activadas las notas de voz, así que no puedo escuchar la tuya 🙉 "
            "Escríbeme tu mensaje, por favor ✍️",
        ),
    ],
)
def test_voice_note_without_keys_says_it_is_not_set_up(
    graph_emulator: GraphEmulator,
    no_keys: Settings,
    caplog: pytest.LogCaptureFixture,
    language: str,
    expected: str,
) -> None:
    """Missing configuration (no Groq key, no Modal token): the learner is told plainly, in their
    language, that voice notes do not work on this server and to write; not "try again in a few
    minutes" (it never will work), and no setting name. The operator gets the setting names in one
    WARNING per process; nothing is downloaded for a note nobody can hear."""
    graph = GraphClient(graph_emulator.graph_url, ACCESS_TOKEN)
    media_id = graph.upload_media(PHONE_NUMBER_ID, speech_ogg("hola"), "audio/ogg")
    service = VoiceService(no_keys, graph)
    with caplog.at_level(logging.WARNING, logger="espaluz.voice.service"):
        first = service.handle(learner(language), voice_message(media_id), ConversationState())
        again = service.handle(
            learner(language), voice_message(media_id, "wamid.VOICE2"), ConversationState()
        )
    for outcome in (first, again):
        assert outcome.kind is OutcomeKind.NOT_CONFIGURED
        assert outcome.reply is not None
        assert outcome.reply.text == expected
        assert outcome.audio_key is None  # not downloaded, not kept: nobody could hear it
        assert "minut" not in outcome.reply.text
        assert not any(name in outcome.reply.text for name in SETTING_NAMES)
    assert first.reply is not None
    assert first.reply.reply_to == "wamid.VOICE1"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len([w for w in warnings if "GROQ_API_KEY" in w]) == 1
    assert len([w for w in warnings if "MODAL_TOKEN_ID" in w]) == 1
    assert not (no_keys.espaluz_data_dir / "audio").exists()


def test_exercise_without_the_pronunciation_app_is_dropped(
    graph_emulator: GraphEmulator, groq_server: GroqTranscriptionServer, settings: Settings
) -> None:
    """Missing configuration for exercises only (Groq set, Modal not): the learner hears that
    pronunciation feedback is not set up here, the exercise nothing can score is cleared, and their next
    voice note is answered as conversation through Groq."""
    graph = GraphClient(graph_emulator.graph_url, ACCESS_TOKEN)
    media_id = graph.upload_media(PHONE_NUMBER_ID, speech_ogg("perro, pero"), "audio/ogg")
    service = VoiceService(settings, graph)
    state = ConversationState()
    service.start_exercise(state, "perro, pero", skill="pron:r")
    outcome = service.handle(learner("es"), voice_message(media_id), state)
    assert outcome.kind is OutcomeKind.NOT_CONFIGURED
    assert outcome.reply is not None
    assert outcome.reply.text == (
        "En este servidor no está activada la corrección de pronunciación, así que no puedo evaluar tu "
        "nota de voz 🙉 Escríbeme y seguimos practicando por escrito ✍️"
    )
    assert outcome.state_changed
    assert STATE_KEY not in state.extra
    assert groq_server.requests == []
    english = ConversationState()
    service.start_exercise(english, "perro, pero", skill="pron:r")
    told = service.handle(learner("en"), voice_message(media_id, "wamid.VOICE2"), english)
    assert told.reply is not None
    assert told.reply.text.startswith("Pronunciation feedback isn't set up on this server")
    after = service.handle(learner("en"), voice_message(media_id, "wamid.VOICE3"), english)
    assert after.kind is OutcomeKind.TRANSCRIPT


class _StuckCall:
    """Modal's ``FunctionCall`` for a GPU app that does not answer in time."""

    def __init__(self) -> None:
        self.cancelled = False

    def get(self, timeout: float | None = None) -> Any:
        raise TimeoutError(f"no answer in {timeout} s")

    def cancel(self, terminate_containers: bool = False) -> None:
        self.cancelled = True


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "I can't listen to voice notes right now 🙉 Please write it, or try again in a few minutes."),
        (
            "es",
            "Ahora mismo no puedo escuchar notas de voz 🙉 "
            "Escríbemelo, o vuelve a intentarlo en unos minutos.",
        ),
    ],
)
def test_configured_pronunciation_app_timing_out_is_a_passing_outage(
    graph_emulator: GraphEmulator, no_keys: Settings, language: str, expected: str
) -> None:
    """Provider timeout: the Modal app is configured but does not answer within the deadline; the call
    is cancelled and the learner is asked to try again in a few minutes (in their language); the
    exercise stays open for that next try."""
    graph = GraphClient(graph_emulator.graph_url, ACCESS_TOKEN)
    media_id = graph.upload_media(PHONE_NUMBER_ID, speech_ogg("el perro"), "audio/ogg")
    stuck = _StuckCall()
    service = VoiceService(no_keys, graph, modal=ModalAssessor(no_keys, spawn=lambda *_: stuck))
    state = ConversationState()
    service.start_exercise(state, "el perro", skill="pron:r")
    outcome = service.handle(learner(language), voice_message(media_id), state)
    assert outcome.kind is OutcomeKind.UNAVAILABLE
    assert outcome.reply is not None
    assert outcome.reply.text == expected
    assert stuck.cancelled
    assert state.extra[STATE_KEY]["text"] == "el perro"


def test_polly_model_pronunciation_through_boto3(settings: Settings) -> None:
    """Polly's neural voice for the learner's dialect, as 16 kHz PCM, re-encoded as a voice note."""
    server = PollyServer()
    try:
        client = boto3.client(
            "polly", endpoint_url=server.url, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
        )  # fmt: skip
        speaker = PollySpeaker(settings, client)
        data = speaker.speak("perro", "spain")
        check_voice_note(data, "audio/ogg")
        assert server.requests[0] == {
            "Engine": "neural", "OutputFormat": "pcm", "SampleRate": "16000", "Text": "perro",
            "TextType": "text", "VoiceId": "Lucia",
        }  # fmt: skip
        speaker.speak("perro", "latam")
        assert server.requests[1]["VoiceId"] == "Mia"
        server.status = 500
        with pytest.raises(SpeechUnavailable):
            speaker.speak("perro", "latam")
    finally:
        server.shutdown()


def test_s3_store_keeps_audio_under_a_pseudonymous_key(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Production storage against moto's S3 (endpoint from boto3's own AWS_ENDPOINT_URL_S3): the key
    carries the learner uuid and wamid (no phone number); expiry is the bucket's lifecycle rule."""
    from espaluz.voice.storage import S3AudioStore, build_store

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", aws_env)
    boto3.client("s3").create_bucket(Bucket="espaluz-audio-test")
    store = build_store(Settings(audio_bucket="espaluz-audio-test", audio_retention_days=14))
    assert isinstance(store, S3AudioStore)
    who = uuid4()
    key = store.save(who, "wamid.S3", b"OggS-voice")
    assert key == f"voice/{who}/wamid.S3.ogg"
    assert store.load(key) == b"OggS-voice"
    head = boto3.client("s3").head_object(Bucket="espaluz-audio-test", Key=key)
    assert head["ContentType"] == "audio/ogg"


class _FailingCall:
    """Modal's ``FunctionCall`` whose wait fails (``raising``: what ``get`` raises)."""

    def __init__(self, raising: BaseException) -> None:
        self.raising = raising
        self.cancelled = False

    def get(self, timeout: float | None = None) -> Any:
        raise self.raising

    def cancel(self, terminate_containers: bool = False) -> None:
        self.cancelled = True


def test_every_abandoned_modal_call_is_cancelled(no_keys: Settings) -> None:
    """A lost connection and an interrupted wait leave the spawned call running for nobody: it is
    cancelled either way, so no GPU keeps working (and billing) for an answer nobody reads. A call that
    ended (answered, or failed in the app) is not cancelled."""
    import modal

    lost = _FailingCall(modal.exception.ConnectionError("reset"))
    with pytest.raises(TranscriberUnavailable):
        ModalAssessor(no_keys, spawn=lambda *_: lost).assess(b"clip", "el perro", "latam")
    assert lost.cancelled
    failed = _FailingCall(modal.exception.RemoteError("boom"))
    with pytest.raises(TranscriberUnavailable):
        ModalAssessor(no_keys, spawn=lambda *_: failed).assess(b"clip", "el perro", "latam")
    assert not failed.cancelled
    interrupted = _FailingCall(KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        ModalAssessor(no_keys, spawn=lambda *_: interrupted).assess(b"clip", "el perro", "latam")
    assert interrupted.cancelled

    class Answered(_FailingCall):
        def get(self, timeout: float | None = None) -> Any:
            return {"transcript": "el perro", "timings": {}}

    answered = Answered(RuntimeError())
    assessor = ModalAssessor(no_keys, spawn=lambda *_: answered)
    assert assessor.idle_for() is None
    assessor.assess(b"clip", "el perro", "latam")
    assert not answered.cancelled
    idle = assessor.idle_for()
    assert idle is not None
    assert 0.0 <= idle < 5.0


@pytest.mark.parametrize(
    ("heard_check", "language", "first_line"),
    [
        (True, "en", "🎧 I heard: _hola amigo_. The phrase was: *el perro*."),
        (True, "es", "🎧 Escuché: _hola amigo_. La frase era: *el perro*."),
        (False, "en", None),
    ],
)
def test_exercise_said_something_else_tells_what_was_heard(
    graph_emulator: GraphEmulator, no_keys: Settings, heard_check: bool, language: str, first_line: str | None
) -> None:
    """The GPU app checked the clip with Whisper (its alignment said the learner read something else):
    the feedback leads with what was heard, in the learner's language; without the check, no such line."""
    from espaluz.voice.scoring import Vocabulary, score
    from tests.voice_samples import VOCAB, posteriorgram

    assessment = score(posteriorgram(["e", "l", "p", "e", "r", "o"]), Vocabulary(VOCAB), "el perro")
    answer = {
        "transcript": "hola amigo" if heard_check else "el perro",
        "confidence": 0.8,
        "language": "es",
        "assessment": {**assessment.to_json(), "transcript": "hola amigo"},
        "whisper": heard_check,
        "heard_check": heard_check,
        "timings": {"prepare": 0.01, "phonemes": 0.01, "scoring": 0.01},
    }
    graph = GraphClient(graph_emulator.graph_url, ACCESS_TOKEN)
    media_id = graph.upload_media(PHONE_NUMBER_ID, speech_ogg("el perro"), "audio/ogg")
    service = VoiceService(no_keys, graph, modal=ModalAssessor(no_keys, call=lambda *_: answer))
    state = ConversationState()
    service.start_exercise(state, "el perro", skill="pron:r")
    outcome = service.handle(learner(language), voice_message(media_id), state)
    assert outcome.kind is OutcomeKind.FEEDBACK
    assert outcome.reply is not None
    assert outcome.assessment is not None
    if first_line is None:
        assert "🎧" not in outcome.reply.text
    else:
        assert outcome.reply.text.split("\n")[0] == first_line
        assert "el 🟢" in outcome.reply.text or "🟢 el" in outcome.reply.text
