"""Where learners' voice notes are kept, and for how long.

The audio is downloaded at once (Meta's URL lives 5 minutes) and kept so that a retry of the turn, the
Modal app or a later review can read it again without Meta. Learners' voices are personal data, so
nothing is kept forever: ``AUDIO_RETENTION_DAYS`` (30 by default).

- S3 (``AUDIO_BUCKET`` set): objects under ``voice/<learner>/<wamid>.ogg``; expiry is the bucket's
  lifecycle rule (infra/cloudformation/storage.yml, ``audioRetentionDays``), so the tutor needs only
  ``s3:PutObject``/``s3:GetObject`` (no object tags: they would need ``s3:PutObjectTagging``). The
  endpoint comes from boto3's own variables.
- Local folder (``ESPALUZ_DATA_DIR/voice``): the same layout; :meth:`LocalAudioStore.purge` deletes
  files older than the retention period and runs on every save, so the folder cannot grow unbounded.
- ``put``/``load`` by key also hold the model pronunciations cache (``tts/<sha256>.ogg``, written by
  ``espaluz.voice.tts.CachedSpeaker``): no learner's data, expiring with the same rule.

Keys carry the learner's uuid and the wamid, never a phone number. ``delete_learner`` removes a learner's
clips at once (a data-deletion request, ``espaluz.tutor.erasure``) instead of waiting for the retention.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from espaluz.config import Settings

logger = logging.getLogger(__name__)

_SAFE = re.compile(r"[^A-Za-z0-9._=-]")


def audio_key(learner_id: UUID, wamid: str, extension: str = "ogg") -> str:
    return f"voice/{learner_id}/{_SAFE.sub('_', wamid)}.{extension}"


class AudioStore(Protocol):
    def save(self, learner_id: UUID, wamid: str, data: bytes) -> str:
        """Store a clip; returns its key."""
        ...

    def load(self, key: str) -> bytes: ...

    def put(self, key: str, data: bytes) -> None:
        """Store bytes under a key of the caller's (the speech cache's ``tts/...``); same expiry as clips."""
        ...

    def delete_learner(self, learner_id: UUID) -> int:
        """Delete every clip of the learner (a data-deletion request); returns how many went."""
        ...


class LocalAudioStore:
    """Clips in a folder; a clip's age is its file's modification time, which ``save`` sets from
    ``clock`` (not the filesystem's), so retention is measured on one clock that tests can move."""

    def __init__(self, root: Path, retention_days: int, clock: Callable[[], float] = time.time) -> None:
        self.root = root
        self.retention_seconds = retention_days * 86400
        self.clock = clock

    def save(self, learner_id: UUID, wamid: str, data: bytes) -> str:
        key = audio_key(learner_id, wamid)
        self.put(key, data)
        self.purge(self.clock())
        return key

    def load(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def put(self, key: str, data: bytes) -> None:
        """Write ``data`` at ``key`` whole or not at all (a temporary file renamed); its age starts now."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        now = self.clock()
        os.utime(tmp, (now, now))
        tmp.replace(path)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError("audio key outside the store")
        return path

    def purge(self, now: float | None = None) -> int:
        """Delete clips and cached speech (``tts/``) older than the retention period; returns how many."""
        cutoff = (now if now is not None else self.clock()) - self.retention_seconds
        removed = 0
        for path in [*self.root.glob("voice/*/*"), *self.root.glob("tts/*")]:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def delete_learner(self, learner_id: UUID) -> int:
        """Delete the learner's folder (``voice/<learner>/``) with every clip in it, a half-written
        ``.part`` included; returns how many clips went (the ``.part`` files are not counted)."""
        folder = self.root / "voice" / str(learner_id)
        if not folder.is_dir():
            return 0
        removed = 0
        for path in folder.iterdir():
            if path.is_file() or path.is_symlink():
                removed += path.suffix != ".part"
                path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # a clip saved meanwhile keeps the folder: the next erase
            folder.rmdir()
        return removed


class S3AudioStore:
    def __init__(self, bucket: str, retention_days: int, client: Any | None = None) -> None:
        self.bucket = bucket
        self.retention_days = retention_days
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("s3")
        return self._client

    def save(self, learner_id: UUID, wamid: str, data: bytes) -> str:
        key = audio_key(learner_id, wamid)
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType="audio/ogg",
        )
        return key

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType="audio/ogg")

    def load(self, key: str) -> bytes:
        body: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body

    def delete_learner(self, learner_id: UUID) -> int:
        """Delete every object under ``voice/<learner>/``; returns how many. Needs ``s3:ListBucket`` (on
        that prefix) and ``s3:DeleteObject``; a refusal raises botocore's ``ClientError``. Objects of a
        versioned bucket would leave versions behind: the audio bucket is not versioned."""
        prefix = f"voice/{learner_id}/"
        removed = 0
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
            if not keys:
                continue
            answer = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})
            errors = answer.get("Errors", [])
            if errors:
                code = errors[0].get("Code")
                raise RuntimeError(f"S3 refused to delete {len(errors)} audio objects ({code})")
            removed += len(keys)
        return removed


def build_store(settings: Settings) -> AudioStore:
    """S3 when ``AUDIO_BUCKET`` is set, else a folder under ``ESPALUZ_DATA_DIR``."""
    if settings.audio_bucket:
        return S3AudioStore(settings.audio_bucket, settings.audio_retention_days)
    return LocalAudioStore(Path(settings.espaluz_data_dir) / "audio", settings.audio_retention_days)
