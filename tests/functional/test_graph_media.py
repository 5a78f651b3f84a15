"""Media through the Graph API client against the emulator: voice-note upload rules, and inbound media
downloaded at once with a fresh URL per attempt and backoff on failures."""

from __future__ import annotations

import pytest

from espaluz.whatsapp.graph import GraphAPIError, GraphClient, MediaUnavailable
from espaluz.whatsapp.outgoing import MessageLimitError
from tests.conftest import ACCESS_TOKEN, PHONE_NUMBER_ID, GraphEmulator

OGG = b"OggS" + bytes(range(256)) * 8


@pytest.fixture
def graph(graph_emulator: GraphEmulator) -> GraphClient:
    return GraphClient(graph_emulator.graph_url, ACCESS_TOKEN)


def test_voice_note_upload_and_round_trip(graph: GraphClient) -> None:
    media_id = graph.upload_voice_note(PHONE_NUMBER_ID, OGG)
    info, data = graph.fetch_media(media_id)
    assert data == OGG
    assert info.mime_type.startswith("audio/ogg")
    assert info.file_size == len(OGG)


def test_voice_note_over_512_kb_is_refused_before_upload(
    graph: GraphClient, graph_emulator: GraphEmulator
) -> None:
    """Bad input: Meta would deliver it as a file, not a voice note; we refuse it before any call."""
    with pytest.raises(MessageLimitError):
        graph.upload_voice_note(PHONE_NUMBER_ID, b"OggS" + b"\0" * (512 * 1024))
    assert [i for i in graph_emulator.outbox() if i["kind"] == "media_upload"] == []


def test_expired_url_is_fetched_again_with_backoff(graph: GraphClient, graph_emulator: GraphEmulator) -> None:
    """Timeouts/expiry: the first download answers 'URL expired' (131052); the client asks for a fresh
    URL and gets the bytes on the second attempt, after one backoff."""
    media_id = graph.upload_media(PHONE_NUMBER_ID, OGG, "audio/ogg")
    graph_emulator.fail_next(code=131052, status=404, on="download")
    sleeps: list[float] = []
    _, data = graph.fetch_media(media_id, sleep=sleeps.append, backoff=0.25)
    assert data == OGG
    assert sleeps == [0.25]


def test_download_5xx_backs_off_exponentially_then_gives_up(
    graph: GraphClient, graph_emulator: GraphEmulator
) -> None:
    """Provider outage: 5xx on every attempt; the backoff doubles and the retryable error is raised."""
    media_id = graph.upload_media(PHONE_NUMBER_ID, OGG, "audio/ogg")
    graph_emulator.fail_next(code=131016, status=503, count=3, on="download")
    sleeps: list[float] = []
    with pytest.raises(GraphAPIError) as err:
        graph.fetch_media(media_id, attempts=3, sleep=sleeps.append, backoff=0.5)
    assert err.value.retryable
    assert sleeps == [0.5, 1.0]


def test_unknown_media_id_is_not_retried(graph: GraphClient) -> None:
    """Bad input: an id Meta does not know is permanent (no backoff loop)."""
    sleeps: list[float] = []
    with pytest.raises(GraphAPIError) as err:
        graph.fetch_media("9999999999", sleep=sleeps.append)
    assert not isinstance(err.value, MediaUnavailable)
    assert sleeps == []
