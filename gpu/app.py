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
# The tutor calls it with `modal.Cls.from_name(MODAL_APP_NAME, MODAL_CLASS_NAME)`; the Lambda bundle
# never contains torch.

import json
import logging
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
PHONEME_MODEL = "facebook/wav2vec2-lv-60-espeak-cv-ft"
PHONEME_REVISION = "ae45363bf3413b374fecd9dc8bc1df0e24c3b7f4"

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
# (`MODAL_GPU`, `MODAL_SCALEDOWN_WINDOW_SECONDS`, `MODAL_APP_NAME`).

settings = Settings()
WEIGHTS_DIR = "/weights"
SAMPLE_RATE = 16_000
LANGUAGES = ("es", "en", "pt", "fr", "it", "de")
MAX_WHISPER_SECONDS = 30

image = (
    modal.Image.debian_slim(python_version="3.11")
    .pip_install(*PACKAGES)
    .env({"HF_HOME": f"{WEIGHTS_DIR}/hf", "HF_HUB_DISABLE_TELEMETRY": "1"})
    .add_local_python_source("espaluz")
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
# `load_real` reads the pinned snapshots from the Volume (the `download` function fills it once);
# `load_tiny` builds the same architectures with a few thousand random weights, plus a byte-level
# tokenizer written to a temporary folder, so the whole class runs on a laptop CPU in a second.


def load_real(device: str) -> dict[str, Any]:
    torch = heavy("torch")
    hf = heavy("transformers")
    Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC = hf.Wav2Vec2FeatureExtractor, hf.Wav2Vec2ForCTC
    WhisperFeatureExtractor, WhisperTokenizer = hf.WhisperFeatureExtractor, hf.WhisperTokenizer
    WhisperForConditionalGeneration = hf.WhisperForConditionalGeneration

    cache = f"{WEIGHTS_DIR}/hf"
    dtype = torch.float16 if device == "cuda" else torch.float32
    whisper = WhisperForConditionalGeneration.from_pretrained(
        WHISPER_MODEL, revision=WHISPER_REVISION, cache_dir=cache, torch_dtype=dtype
    )
    phonemes = Wav2Vec2ForCTC.from_pretrained(PHONEME_MODEL, revision=PHONEME_REVISION, cache_dir=cache)
    hf_hub_download = heavy("huggingface_hub").hf_hub_download
    vocab_path = hf_hub_download(PHONEME_MODEL, "vocab.json", revision=PHONEME_REVISION, cache_dir=cache)
    vocab: dict[str, int] = json.loads(Path(vocab_path).read_text())
    return {
        "whisper": whisper.to(device).eval(),
        "tokenizer": WhisperTokenizer.from_pretrained(
            WHISPER_MODEL, revision=WHISPER_REVISION, cache_dir=cache
        ),
        "whisper_features": WhisperFeatureExtractor.from_pretrained(
            WHISPER_MODEL, revision=WHISPER_REVISION, cache_dir=cache
        ),
        "phonemes": phonemes.to(device).eval(),
        "phoneme_features": Wav2Vec2FeatureExtractor.from_pretrained(
            PHONEME_MODEL, revision=PHONEME_REVISION, cache_dir=cache
        ),
        "vocab": [token for token, _ in sorted(vocab.items(), key=lambda item: item[1])],
        "blank": int(vocab.get("<pad>", 0)),
        "dtype": dtype,
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
    dtype = torch.float16 if size == "real" and device == "cuda" else torch.float32
    return {
        "whisper": whisper.to(device, dtype).eval(),
        "tokenizer": tokenizer,
        "whisper_features": hf.WhisperFeatureExtractor(feature_size=dims["mels"]),
        "phonemes": phonemes.to(device).eval(),
        "phoneme_features": hf.Wav2Vec2FeatureExtractor(
            feature_size=1, sampling_rate=SAMPLE_RATE, padding_value=0.0, do_normalize=True
        ),
        "vocab": TINY_PHONES + [f"<unused{i}>" for i in range(dims["vocab"] - len(TINY_PHONES))],
        "blank": 0,
        "dtype": dtype,
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


def run_assessment(
    models: dict[str, Any], device: str, audio: bytes, expected_text: str | None, dialect: str
) -> dict[str, Any]:
    """The body of `Pronunciation.assess`, a plain function so a benchmark can time it without Modal."""
    from espaluz.voice.alignment import AlignmentError
    from espaluz.voice.audio import AudioProblem, prepare
    from espaluz.voice.prosody import track
    from espaluz.voice.scoring import Vocabulary, expected_for, score

    started = time.perf_counter()
    timings: dict[str, float] = {}
    prepared = prepare(audio, max_bytes=settings.voice_max_bytes, max_seconds=settings.voice_max_seconds)
    timings["prepare"] = time.perf_counter() - started
    if isinstance(prepared, AudioProblem):
        return {"transcript": "", "confidence": 0.0, "language": "", "problem": prepared.value,
                "processing_seconds": time.perf_counter() - started, "timings": timings}  # fmt: skip
    mark = time.perf_counter()
    transcript, confidence, language = whisper_transcribe(models, prepared.samples, device)
    timings["whisper"] = time.perf_counter() - mark
    mark = time.perf_counter()
    log_probs, frame_seconds = phoneme_log_posteriors(models, prepared.samples, device)
    timings["phonemes"] = time.perf_counter() - mark
    mark = time.perf_counter()
    target, approximate = expected_for(expected_text, transcript)
    assessment = None
    try:
        assessment = score(
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
    timings["scoring"] = time.perf_counter() - mark
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
        "timings": {k: round(v, 4) for k, v in timings.items()},
    }


# ## The Modal class
#
# Heavy imports (torch, transformers) happen in `@modal.enter`, once per container. The GPU type and
# `scaledown_window` are settings; weights live in a Volume mounted at `/weights`.


@app.cls(
    gpu=settings.modal_gpu,
    volumes={WEIGHTS_DIR: weights},
    scaledown_window=settings.modal_scaledown_window_seconds,
    timeout=180,
)
class Pronunciation:
    tiny: bool = modal.parameter(default=False)

    @modal.enter()
    def load(self) -> None:
        torch = heavy("torch")

        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.models = load_tiny(self.device) if self.tiny else load_real(self.device)

    @modal.method()
    def assess(
        self, audio: bytes, expected_text: str | None = None, dialect: str = "latam"
    ) -> dict[str, Any]:
        """Transcribe and, when there is anything to score against, assess one clip (JSON-ready dict:
        transcript, confidence, language, processing_seconds, assessment, timings)."""
        return run_assessment(self.models, self.device, audio, expected_text, dialect)


# ## Filling the Volume
#
# `modal run gpu/app.py::download` fetches the pinned snapshots once; containers then load from disk.


@app.function(volumes={WEIGHTS_DIR: weights}, timeout=1800)
def download() -> None:
    snapshot_download = heavy("huggingface_hub").snapshot_download
    for repo, revision in ((WHISPER_MODEL, WHISPER_REVISION), (PHONEME_MODEL, PHONEME_REVISION)):
        snapshot_download(repo, revision=revision, cache_dir=f"{WEIGHTS_DIR}/hf")
    weights.commit()
