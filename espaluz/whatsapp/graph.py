"""A thin, typed client of the WhatsApp Cloud API (Graph API) endpoints the tutor uses.

One method per endpoint, errors mapped to classes by Meta's error code. The base URL is a setting
(``WHATSAPP_GRAPH_URL``) so the local stack and the tests point it at the emulator in ``espaluz.dev``.
Retry and pacing policy belong to the caller (the send policy), not to this layer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from espaluz.whatsapp.outgoing import VOICE_MIME, Recipient, Sendable, check_voice_note


class GraphAPIError(Exception):
    """An error answered by the Graph API. ``retryable`` says whether the same call may succeed later."""

    retryable = False

    def __init__(self, message: str, *, code: int = 0, status: int = 0, subcode: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.subcode = subcode


class RateLimited(GraphAPIError):
    """130429 (throughput), 131056 (pair rate: too many messages to one user), 80007, 4, 613."""

    retryable = True


class OutsideWindow(GraphAPIError):
    """131047: more than 24 hours since the learner's last message; only templates may be sent."""


class MarketingOptOut(GraphAPIError):
    """131050: the user stopped marketing messages."""


class RecipientUnavailable(GraphAPIError):
    """131026 (cannot be delivered), 131062 (BSUID recipients not supported for this message)."""


class ServerError(GraphAPIError):
    """5xx, 131000 and 131016: Meta's side; retry with backoff."""

    retryable = True


class MediaUnavailable(GraphAPIError):
    """131052 (download failed or the URL expired), 131053 (upload failed); a fresh URL may work."""

    retryable = True


class AuthError(GraphAPIError):
    """190 or 401: the access token is invalid or expired; an operator must act."""


_BY_CODE: dict[int, type[GraphAPIError]] = {
    4: RateLimited,
    613: RateLimited,
    80007: RateLimited,
    130429: RateLimited,
    131056: RateLimited,
    131047: OutsideWindow,
    131050: MarketingOptOut,
    131026: RecipientUnavailable,
    131062: RecipientUnavailable,
    131052: MediaUnavailable,
    131053: MediaUnavailable,
    131000: ServerError,
    131016: ServerError,
    190: AuthError,
}


def error_from_response(response: httpx.Response) -> GraphAPIError:
    try:
        err = response.json().get("error", {})
    except ValueError:
        err = {}
    code = int(err.get("code") or 0)
    message = str(err.get("message") or f"HTTP {response.status_code}")
    cls = _BY_CODE.get(code)
    if cls is None:
        if response.status_code >= 500:
            cls = ServerError
        elif response.status_code == 401:
            cls = AuthError
        else:
            cls = GraphAPIError
    return cls(message, code=code, status=response.status_code, subcode=err.get("error_subcode"))


@dataclass(frozen=True, slots=True)
class MediaInfo:
    id: str
    url: str
    mime_type: str
    file_size: int


class GraphClient:
    """Calls the Graph API with the business's access token. Thread-safe (one pooled httpx client)."""

    def __init__(
        self, base_url: str, access_token: str, *, timeout: float = 10.0, http: httpx.Client | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = http or httpx.Client(timeout=timeout)
        self._auth = {"Authorization": f"Bearer {access_token}"}

    def close(self) -> None:
        self._http.close()

    def _post(self, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.post(f"{self.base_url}/{path}", headers=self._auth, **kwargs)
        except httpx.TimeoutException as exc:
            raise ServerError(f"Graph API timeout: {type(exc).__name__}") from exc
        except httpx.TransportError as exc:
            raise ServerError(f"Graph API unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 400:
            raise error_from_response(response)
        result: dict[str, Any] = response.json()
        return result

    def send(self, phone_number_id: str, recipient: Recipient, message: Sendable) -> str:
        """Send one message from ``phone_number_id``; returns its wamid."""
        body = {**message.payload(), **recipient.fields()}
        result = self._post(f"{phone_number_id}/messages", json=body)
        return str(result["messages"][0]["id"])

    def mark_read(self, phone_number_id: str, wamid: str, *, typing: bool = False) -> None:
        """Blue ticks on the learner's message; ``typing`` also shows the typing indicator (up to 25 s
        or until we reply)."""
        body: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
        if typing:
            body["typing_indicator"] = {"type": "text"}
        self._post(f"{phone_number_id}/messages", json=body)

    def upload_media(self, phone_number_id: str, data: bytes, mime_type: str, filename: str = "file") -> str:
        result = self._post(
            f"{phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename, data, mime_type)},
        )
        return str(result["id"])

    def media_info(self, media_id: str) -> MediaInfo:
        """Where to download a media file. The URL is valid for 5 minutes and needs the bearer token."""
        try:
            response = self._http.get(f"{self.base_url}/{media_id}", headers=self._auth)
        except httpx.TransportError as exc:
            raise ServerError(f"Graph API unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 400:
            raise error_from_response(response)
        info = response.json()
        return MediaInfo(
            str(info["id"]), str(info["url"]), str(info.get("mime_type", "")), int(info.get("file_size", 0))
        )

    def upload_voice_note(self, phone_number_id: str, ogg_opus: bytes) -> str:
        """Upload audio for a voice note after checking WhatsApp's rules for one (OGG/Opus, 512 KB)."""
        check_voice_note(ogg_opus, VOICE_MIME)
        return self.upload_media(phone_number_id, ogg_opus, "audio/ogg; codecs=opus", "voice.ogg")

    def fetch_media(
        self,
        media_id: str,
        *,
        attempts: int = 4,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> tuple[MediaInfo, bytes]:
        """Download an inbound media file now (its URL lives 5 minutes).

        Each attempt asks for a fresh URL, so an expired one is simply replaced; retryable failures
        (5xx, timeouts, an expired or failed download) back off exponentially, permanent ones (an unknown
        id, a bad token) raise at once.
        """
        for attempt in range(1, attempts + 1):
            try:
                info = self.media_info(media_id)
                return info, self.download(info.url)
            except GraphAPIError as exc:
                expired = exc.status in (403, 404, 410) and exc.code in (0, 131052)
                if not (exc.retryable or expired) or attempt == attempts:
                    raise
                sleep(backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def download(self, url: str) -> bytes:
        try:
            response = self._http.get(url, headers=self._auth)
        except httpx.TransportError as exc:
            raise ServerError(f"media download failed: {type(exc).__name__}") from exc
        if response.status_code >= 400:
            raise error_from_response(response)
        return response.content
