# ---
# deploy: true
# cmd: ["modal", "deploy", "gpu/app.py"]
# ---

# # Espaluz voice: Whisper and a phoneme CTC model on a Modal GPU
#
# The tutor Lambda sends every pronunciation exercise, and every long or noisy voice note, here.
# One class loads two models once per container:
#
# - **Whisper** (large-v3-turbo) for the transcript, its confidence and the detected language;
# - a **wav2vec2 model fine-tuned on IPA phonemes** (espeak alphabet) for the phoneme posteriorgram.
#
# Whisper repairs mispronounced words towards real ones (a learner's *pero* aimed at *perro* comes
# out as *perro*), so pronunciation is judged on the phonemes: the shared numpy code in
# `espaluz.voice` aligns the expected phones to the posteriorgram, scores them and explains the
# substitutions. That code runs on a CPU too, which is how the tests exercise this very class:
# `Pronunciation(tiny=True).assess.local(...)` builds tiny random-weight models from configs (no
# downloads) and runs the same method body.
#
# **The exercise path skips Whisper.** When the expected text is known, the phoneme model alone aligns
# and scores it: one encoder pass instead of Whisper's encoder plus a token-by-token decoding loop
# (dozens of forward passes). Whisper runs only when the alignment says the learner most likely said
# something else (`SOMETHING_ELSE_BELOW`), to tell them what was heard. Free speech (no expected text)
# still needs Whisper first: its transcript is the text to score against.
#
# The tutor calls it with `modal.Cls.from_name(MODAL_APP_NAME, MODAL_CLASS_NAME)`; the Lambda bundle
# never contains torch.

import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import modal

from espaluz.config import Settings

logger = logging.getLogger(__name__)

# ## Pinned models and packages
#
# Model ids and revisions are pinned so a redeploy never changes the scores under the learners.

WHISPER_MODEL = "openai/whisper-large-v3-turbo"
WHISPER_REVISION = "41f01f3fe87f28c78e2fbf8b568835947dd65ed9"

# Two phoneme CTC models with the same 392-token espeak vocabulary and the same architecture (wav2vec2
# large, 24 layers): ``lv-60`` was pre-trained on English audio only (LibriLight), ``xlsr-53`` on 53
# languages, Spanish among them. Both were fine-tuned on Common Voice phonemes. ``VOICE_PHONEME_MODEL``
# (env, read at deploy and in the container) picks one; the default stays ``lv-60`` until the two are
# measured on learners' Spanish (gpu/README.md: not measured here, the weights are not available offline).
PHONEME_MODELS: dict[str, tuple[str, str]] = {
    "lv-60": ("facebook/wav2vec2-lv-60-espeak-cv-ft", "ae45363bf3413b374fecd9dc8bc1df0e24c3b7f4"),
    "xlsr-53": ("facebook/wav2vec2-xlsr-53-espeak-cv-ft", "2c733782da5604684829819a5eb744c193fe9398"),
}
DEFAULT_PHONEME_MODEL = "lv-60"


def phoneme_choice(name: str) -> tuple[str, str]:
    """(repository, revision) of the phoneme model ``name``; an unknown name fails at deploy rather than
    scoring learners with an unpinned model."""
    if name not in PHONEME_MODELS:
        raise ValueError(f"VOICE_PHONEME_MODEL must be one of {sorted(PHONEME_MODELS)}, not {name!r}")
    return PHONEME_MODELS[name]


# Read at deploy and baked into the image's environment, so the container loads what was deployed.
PHONEME_KEY = os.environ.get("VOICE_PHONEME_MODEL") or DEFAULT_PHONEME_MODEL
PHONEME_MODEL, PHONEME_REVISION = phoneme_choice(PHONEME_KEY)

PACKAGES = [
    "torch==2.13.0",
    "transformers==4.57.6",
    "huggingface_hub>=0.34",
    "numpy==2.4.*",
    "soundfile==0.14.0",
    "praat-parselmouth==0.4.7",
    "pydantic>=2.9",
]

# ## Deployment settings
#
# GPU type and idle window come from the same settings object as the rest of the project
# (`MODAL_GPU`, `MODAL_SCALEDOWN_WINDOW_SECONDS`, `MODAL_APP_NAME`, `MODAL_MAX_INPUTS`, `MODAL_CPU`, the
# evening peak's hours and idle window).

settings = Settings()


WEIGHTS_DIR = "/weights"
SAMPLE_RATE = 16_000
LANGUAGES = ("es", "en", "pt", "fr", "it", "de")
MAX_WHISPER_SECONDS = 30

# Several inputs per container: the GPU work of one clip is short (one wav2vec2 pass on the exercise
# path) and the rest is CPU (decoding, VAD, prosody, alignment, scoring: ~20 ms a clip on the tiny models,
# bench/bench_voice.py), so a few clips in threads keep the GPU busy instead of starting another GPU.
MAX_INPUTS: int = settings.modal_max_inputs
# CPU cores reserved per container: the CPU share of a clip runs in the input's thread, so about one core
# per two concurrent inputs (the other half of each input's time waits on the GPU), and at least two.
CPU_CORES: float = settings.modal_cpu
# Idle window: short outside the evening peak (a lone request keeps a GPU for this long after it), longer
# inside it, where the next request is likely to arrive before the window ends (see `retune_idle_window`).
SCALEDOWN_SECONDS: int = settings.modal_scaledown_window_seconds
PEAK_SCALEDOWN_SECONDS: int = settings.modal_peak_scaledown_window_seconds
PEAK_HOURS_UTC: tuple[int, int] = (
    settings.modal_peak_start_hour_utc,
    settings.modal_peak_end_hour_utc,
)

base_image = (
    modal.Image.debian_slim(python_version="3.11")
    .pip_install(*PACKAGES)
    .env({"HF_HOME": f"{WEIGHTS_DIR}/hf", "HF_HUB_DISABLE_TELEMETRY": "1"})
    .add_local_python_source("espaluz")
)
# At run time the weights come from the Volume only: a container never reaches the Hub (no rate limits,
# no surprise revision), and a missing snapshot fails loudly at start. `download` keeps online access.
image = base_image.env(
    {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "VOICE_PHONEME_MODEL": PHONEME_KEY}
)
weights = modal.Volume.from_name("espaluz-voice-weights", create_if_missing=True)
app = modal.App(settings.modal_app_name, image=image)


def heavy(module: str) -> Any:
    """Import torch/transformers/huggingface_hub on first use, inside the container (they are in the
    image, and in `.venv` only with the optional `gpu` extra), untyped on purpose: type-checking the
    project must not need them installed."""
    import importlib

    return importlib.import_module(module)


# ## Loading the models
#
# `load_real_cpu` reads the pinned snapshots from the Volume (the `download` function fills it once);
# `load_tiny_cpu` builds the same architectures with a few thousand random weights, plus a byte-level
# tokenizer written to a temporary folder, so the whole class runs on a laptop CPU in a second.
#
# Both load into CPU memory only, and `place` then moves the models to the GPU: the class does the first
# in `@modal.enter(snap=True)`, which the memory snapshot captures (imports, file reads, weights in RAM:
# the bulk of a cold start), and the second in `@modal.enter(snap=False)`, after the restore, since a CPU
# snapshot holds no GPU state.


def place(models: dict[str, Any], device: str, *, half: bool) -> dict[str, Any]:
    """Move CPU-loaded models to ``device`` (Whisper in float16 there when ``half`` and on CUDA); the
    dict is updated in place and returned."""
    torch = heavy("torch")
    dtype = torch.float16 if half and device == "cuda" else torch.float32
    models["whisper"] = models["whisper"].to(device, dtype).eval()
    models["phonemes"] = models["phonemes"].to(device).eval()
    models["dtype"] = dtype
    return models


def load_real(device: str) -> dict[str, Any]:
    """The pinned models on ``device`` (a benchmark's one-step load)."""
    return place(load_real_cpu(), device, half=True)


def load_real_cpu() -> dict[str, Any]:
    hf = heavy("transformers")
    Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC = hf.Wav2Vec2FeatureExtractor, hf.Wav2Vec2ForCTC
    WhisperFeatureExtractor, WhisperTokenizer = hf.WhisperFeatureExtractor, hf.WhisperTokenizer
    WhisperForConditionalGeneration = hf.WhisperForConditionalGeneration

    cache = f"{WEIGHTS_DIR}/hf"
    whisper = WhisperForConditionalGeneration.from_pretrained(
        WHISPER_MODEL, revision=WHISPER_REVISION, cache_dir=cache
    )
    phonemes = Wav2Vec2ForCTC.from_pretrained(PHONEME_MODEL, revision=PHONEME_REVISION, cache_dir=cache)
    hf_hub_download = heavy("huggingface_hub").hf_hub_download
    vocab_path = hf_hub_download(PHONEME_MODEL, "vocab.json", revision=PHONEME_REVISION, cache_dir=cache)
    vocab: dict[str, int] = json.loads(Path(vocab_path).read_text())
    return {
        "whisper": whisper.eval(),
        "tokenizer": WhisperTokenizer.from_pretrained(
            WHISPER_MODEL, revision=WHISPER_REVISION, cache_dir=cache
        ),
        "whisper_features": WhisperFeatureExtractor.from_pretrained(
            WHISPER_MODEL, revision=WHISPER_REVISION, cache_dir=cache
        ),
        "phonemes": phonemes.eval(),
        "phoneme_features": Wav2Vec2FeatureExtractor.from_pretrained(
            PHONEME_MODEL, revision=PHONEME_REVISION, cache_dir=cache
        ),
        "vocab": [token for token, _ in sorted(vocab.items(), key=lambda item: item[1])],
        "blank": int(vocab.get("<pad>", 0)),
    }


TINY_PHONES = ["<pad>", "a", "e", "i", "o", "u", "p", "t", "k", "b", "d", "g", "β", "ð", "ɣ", "m", "n", "ɲ",
               "ŋ", "f", "θ", "s", "x", "ʝ", "t͡ʃ", "l", "ʎ", "ɾ", "r", "j", "w", "h"]  # fmt: skip


# Dimensions of the random-weight models: "tiny" for tests, "real" with the pinned models' sizes
# (whisper-large-v3-turbo: 32 encoder / 4 decoder layers of width 1280, 128 mel bins; wav2vec2 large
# lv-60: 24 layers of width 1024, 392 output tokens) to measure latency on a GPU without downloads.
SIZES: dict[str, dict[str, Any]] = {
    "tiny": {"mels": 80, "d_model": 16, "enc": 1, "dec": 1, "heads": 2, "ffn": 32, "targets": 48,
             "hidden": 16, "layers": 1, "w_heads": 2, "w_ffn": 32, "conv": 8, "pos": 16, "vocab": 0},
    "real": {"mels": 128, "d_model": 1280, "enc": 32, "dec": 4, "heads": 20, "ffn": 5120,
             "targets": 448, "hidden": 1024, "layers": 24, "w_heads": 16, "w_ffn": 4096, "conv": 512,
             "pos": 128, "vocab": 392},
}  # fmt: skip


def load_tiny(device: str, seed: int = 0, size: str = "tiny") -> dict[str, Any]:
    """Random-weight Whisper and wav2vec2 built from configs (no download, same code paths): ``tiny``
    for tests, ``real`` for the real models' sizes (latency measurements)."""
    return place(load_tiny_cpu(seed, size), device, half=size == "real")


def load_tiny_cpu(seed: int = 0, size: str = "tiny") -> dict[str, Any]:
    dims = SIZES[size]
    torch = heavy("torch")
    hf = heavy("transformers")
    bytes_to_unicode = heavy("transformers.models.gpt2.tokenization_gpt2").bytes_to_unicode

    torch.manual_seed(seed)
    specials = ["<|endoftext|>", "<|startoftranscript|>", *(f"<|{c}|>" for c in LANGUAGES)]
    specials += ["<|transcribe|>", "<|notimestamps|>"]
    folder = Path(tempfile.mkdtemp(prefix="espaluz-tiny-whisper-"))
    vocab = {ch: i for i, ch in enumerate(bytes_to_unicode().values())}
    for token in specials:
        vocab[token] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = hf.WhisperTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))
    tokenizer.add_special_tokens({"additional_special_tokens": specials[1:]})
    sot = vocab["<|startoftranscript|>"]
    whisper = hf.WhisperForConditionalGeneration(
        hf.WhisperConfig(
            vocab_size=51_866 if size == "real" else len(vocab),  # large-v3's vocabulary
            num_mel_bins=dims["mels"],
            d_model=dims["d_model"],
            encoder_layers=dims["enc"],
            decoder_layers=dims["dec"],
            encoder_attention_heads=dims["heads"],
            decoder_attention_heads=dims["heads"],
            encoder_ffn_dim=dims["ffn"],
            decoder_ffn_dim=dims["ffn"],
            max_target_positions=dims["targets"],
            decoder_start_token_id=sot,
            bos_token_id=vocab["<|endoftext|>"],
            eos_token_id=vocab["<|endoftext|>"],
            pad_token_id=vocab["<|endoftext|>"],
        )
    )
    phonemes = hf.Wav2Vec2ForCTC(
        hf.Wav2Vec2Config(
            vocab_size=max(dims["vocab"], len(TINY_PHONES)),
            hidden_size=dims["hidden"],
            num_hidden_layers=dims["layers"],
            num_attention_heads=dims["w_heads"],
            intermediate_size=dims["w_ffn"],
            conv_dim=(dims["conv"],) * 7,
            num_conv_pos_embeddings=dims["pos"],
            num_conv_pos_embedding_groups=16 if size == "real" else 2,
            feat_extract_norm="layer",
            do_stable_layer_norm=True,
            pad_token_id=0,
        )
    )
    return {
        "whisper": whisper.eval(),
        "tokenizer": tokenizer,
        "whisper_features": hf.WhisperFeatureExtractor(feature_size=dims["mels"]),
        "phonemes": phonemes.eval(),
        "phoneme_features": hf.Wav2Vec2FeatureExtractor(
            feature_size=1, sampling_rate=SAMPLE_RATE, padding_value=0.0, do_normalize=True
        ),
        "vocab": TINY_PHONES + [f"<unused{i}>" for i in range(dims["vocab"] - len(TINY_PHONES))],
        "blank": 0,
    }


# ## Running the models
#
# Whisper is decoded greedily by hand (language forced to Spanish, no timestamps) so that the same
# loop serves the real and the tiny model, and so that we get what `generate` hides: the detected
# language (the most likely language token after `<|startoftranscript|>`, as Whisper's own language
# detection does) and a confidence (the exponent of the mean token log-probability).


def whisper_transcribe(models: dict[str, Any], samples: Any, device: str) -> tuple[str, float, str]:
    torch = heavy("torch")

    tokenizer = models["tokenizer"]
    model = models["whisper"]
    sot = tokenizer.convert_tokens_to_ids("<|startoftranscript|>")
    eot = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    prompt = [sot] + [
        tokenizer.convert_tokens_to_ids(t) for t in ("<|es|>", "<|transcribe|>", "<|notimestamps|>")
    ]
    language_ids = [tokenizer.convert_tokens_to_ids(f"<|{c}|>") for c in LANGUAGES]
    limit = min(224, model.config.max_target_positions - len(prompt))
    texts: list[str] = []
    logprobs: list[float] = []
    language = "es"
    chunk = MAX_WHISPER_SECONDS * SAMPLE_RATE
    for offset in range(0, max(len(samples), 1), chunk):
        piece = samples[offset : offset + chunk]
        features = models["whisper_features"](piece, sampling_rate=SAMPLE_RATE, return_tensors="pt")
        features = features.input_features.to(device, models["dtype"])
        with torch.inference_mode():
            encoded = model.get_encoder()(features)
            first = model(encoder_outputs=encoded, decoder_input_ids=torch.tensor([[sot]], device=device))
            if offset == 0:
                scores = first.logits[0, -1, language_ids]
                language = LANGUAGES[int(scores.argmax())]
            ids = torch.tensor([prompt], device=device)
            out = model(encoder_outputs=encoded, decoder_input_ids=ids, use_cache=True)
            tokens: list[int] = []
            for _ in range(limit):
                step = torch.log_softmax(out.logits[0, -1].float(), dim=-1)
                token = int(step.argmax())
                if token == eot:
                    break
                tokens.append(token)
                logprobs.append(float(step[token]))
                out = model(
                    encoder_outputs=encoded,
                    decoder_input_ids=torch.tensor([[token]], device=device),
                    past_key_values=out.past_key_values,
                    use_cache=True,
                )
        known = [t for t in tokens if t < len(tokenizer)]  # random "real-size" weights emit any id
        texts.append(tokenizer.decode(known, skip_special_tokens=True).strip())
    import math

    confidence = math.exp(sum(logprobs) / len(logprobs)) if logprobs else 0.0
    return " ".join(t for t in texts if t), round(confidence, 3), language


def phoneme_log_posteriors(models: dict[str, Any], samples: Any, device: str) -> tuple[Any, float]:
    """(T x V log-posteriors as numpy, seconds per frame)."""
    import numpy as np

    torch = heavy("torch")
    model = models["phonemes"]
    inputs = models["phoneme_features"](samples, sampling_rate=SAMPLE_RATE, return_tensors="pt")
    with torch.inference_mode():
        logits = model(inputs.input_values.to(device)).logits[0].float()
        log_probs = torch.log_softmax(logits, dim=-1).cpu().numpy()
    stride = int(np.prod(model.config.conv_stride))
    return log_probs.astype(np.float32), stride / SAMPLE_RATE


# ## Scoring one clip
#
# The exercise path (an expected text) runs the phoneme model alone and scores against the expected
# text. Whisper runs there only to name what the learner said instead, when the alignment says so.

SOMETHING_ELSE_BELOW = 35.0
"""Accuracy (0-100, the mean share of each expected phone among the non-blank posteriors over its aligned
frames) under which the learner most likely said something else, so Whisper is asked what was heard.

Why 35: a learner with an accent substitutes some sounds and keeps most, so even a heavily accented
reading keeps the phone average near the 50 that marks a word "fair" (``scoring.FAIR``); a different
sentence (or silence between noises) leaves the forced path on phones the model does not hear, and the
average falls towards the share a random phone gets. 35 sits between the two, below every "fair" word,
so a learner who tried the sentence never waits for Whisper, and one who said something else is told
what was heard. A clip too short for the expected phones (no alignment at all) is checked too. A reasoned
starting point, not yet measured on learners' recordings (no real weights here): tune it on scored clips
by the share of exercises that call Whisper and how many of those were really another sentence."""


def heard_something_else(assessment: dict[str, Any] | None, below: float = SOMETHING_ELSE_BELOW) -> bool:
    """Whether an exercise's alignment says the learner said something else (see the constant)."""
    return assessment is None or float(assessment["accuracy"]) < below


def run_assessment(
    models: dict[str, Any],
    device: str,
    audio: bytes,
    expected_text: str | None,
    dialect: str,
    *,
    recheck_below: float = SOMETHING_ELSE_BELOW,
    whisper_recheck: bool = True,
) -> dict[str, Any]:
    """The body of `Pronunciation.assess`, a plain function so a benchmark can time it without Modal.

    With an expected text, Whisper runs only when ``heard_something_else`` (``recheck_below`` is the
    accuracy threshold; tests move it to force either branch); the answer's ``whisper`` says whether it
    ran and ``heard_check`` whether it ran on an exercise (the transcript is then what was heard). Without
    it, the transcript is the expected text and its confidence the accuracy (0-1). ``whisper_recheck``
    False (a CPU-only container, where Whisper would take most of a call's time limit): the answer says
    ``recheck_wanted`` instead, and the tutor asks Groq's Whisper what was heard."""
    from espaluz.voice.audio import AudioProblem, prepare
    from espaluz.voice.scoring import expected_for

    started = time.perf_counter()
    timings: dict[str, float] = {}
    prepared = prepare(audio, max_bytes=settings.voice_max_bytes, max_seconds=settings.voice_max_seconds)
    timings["prepare"] = time.perf_counter() - started
    if isinstance(prepared, AudioProblem):
        return {"transcript": "", "confidence": 0.0, "language": "", "problem": prepared.value,
                "processing_seconds": time.perf_counter() - started, "timings": timings,
                "whisper": False}  # fmt: skip

    def transcribe() -> tuple[str, float, str]:
        mark = time.perf_counter()
        heard = whisper_transcribe(models, prepared.samples, device)
        timings["whisper"] = time.perf_counter() - mark
        return heard

    exercise = bool(expected_text and expected_text.strip())
    if exercise:
        transcript, confidence, language = str(expected_text).strip(), 0.0, "es"
    else:
        transcript, confidence, language = transcribe()
    mark = time.perf_counter()
    log_probs, frame_seconds = phoneme_log_posteriors(models, prepared.samples, device)
    timings["phonemes"] = time.perf_counter() - mark
    target, approximate = expected_for(expected_text, transcript)
    assessment = _score(models, prepared, log_probs, frame_seconds, target, transcript, approximate, dialect)
    timings["scoring"] = time.perf_counter() - mark - timings["phonemes"]
    ran_whisper = not exercise
    wanted = exercise and heard_something_else(assessment, recheck_below)
    if wanted and whisper_recheck:
        transcript, confidence, language = transcribe()
        ran_whisper = True
        if assessment is not None:
            assessment["transcript"] = transcript
    elif exercise and assessment is not None:
        confidence = round(float(assessment["accuracy"]) / 100.0, 3)
    return {
        "transcript": transcript,
        "confidence": confidence,
        "language": language,
        "processing_seconds": round(time.perf_counter() - started, 3),
        # word timings from the forced alignment (Whisper is decoded without timestamps)
        "words": [
            {"word": w["text"], "start": w["start"], "end": w["end"]}
            for w in (assessment or {}).get("words", [])
        ],
        "assessment": assessment,
        "whisper": ran_whisper,
        "heard_check": exercise and ran_whisper,  # an exercise where the learner said something else
        "recheck_wanted": wanted and not ran_whisper,  # ...that this container left to the tutor
        "timings": {k: round(v, 4) for k, v in timings.items()},
    }


def _score(
    models: dict[str, Any],
    prepared: Any,
    log_probs: Any,
    frame_seconds: float,
    target: str,
    transcript: str,
    approximate: bool,
    dialect: str,
) -> dict[str, Any] | None:
    """The assessment as JSON, or ``None`` when there is nothing to score against or the clip is too
    short for the expected phones."""
    from espaluz.voice.alignment import AlignmentError
    from espaluz.voice.prosody import track
    from espaluz.voice.scoring import Vocabulary, score

    try:
        return score(
            log_probs,
            Vocabulary(models["vocab"], models["blank"]),
            target,
            dialect=dialect,
            transcript=transcript,
            approximate=approximate,
            frame_seconds=frame_seconds,
            prosody=track(prepared.samples, prepared.sample_rate),
            vad_pauses=[(p.start, p.end) for p in prepared.pauses],
        ).to_json()
    except (ValueError, AlignmentError) as exc:  # nothing recognisable to score against, or too short
        logger.info("no assessment: %s", type(exc).__name__)
        return None


# ## The Modal class
#
# Heavy imports (torch, transformers) and the weights' reading happen in `@modal.enter(snap=True)`, once
# per snapshot: later cold starts restore that memory instead of redoing it, and only the move to the
# GPU runs at each start. `@modal.concurrent` lets one container take `MAX_INPUTS` clips at once (threads:
# the models are only read, every call keeps its own tensors). The GPU type, cores and idle window are
# settings; weights live in a Volume mounted at `/weights`.


@app.cls(
    gpu=settings.modal_gpu or None,  # empty: a CPU-only container (see espaluz.voice.costs)
    cpu=CPU_CORES,
    volumes={WEIGHTS_DIR: weights},
    scaledown_window=SCALEDOWN_SECONDS,
    enable_memory_snapshot=True,
    timeout=180,
)
@modal.concurrent(max_inputs=MAX_INPUTS)
class Pronunciation:
    tiny: bool = modal.parameter(default=False)

    @modal.enter(snap=True)
    def load(self) -> None:
        """Imports and weights into CPU memory: captured by the memory snapshot."""
        self.models = load_tiny_cpu() if self.tiny else load_real_cpu()

    @modal.enter(snap=False)
    def to_device(self) -> None:
        """After each start or restore: the models onto the GPU (a CPU snapshot holds no GPU state)."""
        torch = heavy("torch")

        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        place(self.models, self.device, half=not self.tiny)

    @modal.method()
    def assess(
        self, audio: bytes, expected_text: str | None = None, dialect: str = "latam"
    ) -> dict[str, Any]:
        """Assess one clip; Whisper runs for free speech, and on an exercise only when the learner said
        something else (JSON-ready dict: transcript, confidence, language, processing_seconds,
        assessment, whisper, timings)."""
        recheck = self.device == "cuda" or self.tiny  # Whisper on a CPU container: Groq's instead
        return run_assessment(
            self.models, self.device, audio, expected_text, dialect, whisper_recheck=recheck
        )


# ## The idle window by time of day
#
# A lone request keeps a GPU for `scaledown_window` seconds after it. Outside the evening peak the next
# request rarely comes within minutes, so the deployed window is the short one; two cron functions widen
# it at the peak's start (UTC hours, settings) and narrow it again at its end. A redeploy resets it to
# the short window until the next cron.


def retune_idle_window(peak: bool) -> int:
    """Set the deployed class's idle window for the peak or off-peak; returns the seconds set."""
    seconds = PEAK_SCALEDOWN_SECONDS if peak else SCALEDOWN_SECONDS
    Pronunciation().update_autoscaler(scaledown_window=seconds)  # type: ignore[attr-defined]
    return seconds


@app.function(schedule=modal.Cron(f"0 {PEAK_HOURS_UTC[0]} * * *"), timeout=60)
def peak_starts() -> None:
    logger.info("voice idle window: %d s", retune_idle_window(True))


@app.function(schedule=modal.Cron(f"0 {PEAK_HOURS_UTC[1]} * * *"), timeout=60)
def peak_ends() -> None:
    logger.info("voice idle window: %d s", retune_idle_window(False))


# ## Filling the Volume
#
# `modal run gpu/app.py::download` fetches the pinned snapshots once; containers then load from disk.


@app.function(image=base_image, volumes={WEIGHTS_DIR: weights}, timeout=1800)
def download() -> None:
    """Fetch Whisper and both phoneme models (switching `VOICE_PHONEME_MODEL` then needs no download);
    the only function with Hub access (`base_image` has no `HF_HUB_OFFLINE`)."""
    snapshot_download = heavy("huggingface_hub").snapshot_download
    for repo, revision in ((WHISPER_MODEL, WHISPER_REVISION), *PHONEME_MODELS.values()):
        snapshot_download(repo, revision=revision, cache_dir=f"{WEIGHTS_DIR}/hf")
    weights.commit()
