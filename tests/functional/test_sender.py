"""The send policy on a fake clock, against real Redis and the Graph API emulator over HTTP: the token
bucket, per-learner pacing, merging, the 24-hour window, opt-outs, and every Meta error-code path."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from espaluz.whatsapp.graph import AuthError, GraphClient, MarketingOptOut, RecipientUnavailable, ServerError
from espaluz.whatsapp.outgoing import Button, Image, Recipient, Reply, Template
from espaluz.whatsapp.sender import (
    OptedOut,
    SendDeferred,
    Sender,
    SendPolicy,
    Target,
    merge_parts,
    number_for_country,
)
from tests.conftest import ACCESS_TOKEN, PHONE_NUMBER_ID, GraphEmulator

START = 1_800_000_000.0


class FakeClock:
    def __init__(self) -> None:
        self.t = START
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.t += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_sender(graph_emulator: GraphEmulator, redis_client: redis.Redis[bytes], clock: FakeClock) -> Any:
    def make(**policy: Any) -> Sender:
        graph = GraphClient(graph_emulator.graph_url, ACCESS_TOKEN)
        return Sender(graph, redis_client, SendPolicy(**policy), clock=clock)

    return make


def target(clock: FakeClock, *, hours_since_inbound: float = 1.0, **kw: Any) -> Target:
    last = datetime.fromtimestamp(clock.t, UTC) - timedelta(hours=hours_since_inbound)
    return Target(
        kw.pop("learner_id", uuid.uuid4()),
        kw.pop("phone_number_id", PHONE_NUMBER_ID),
        Recipient(wa_id=kw.pop("wa_id", "15550001111")),
        last,
        name="Ana",
        **kw,
    )


# -- rate and pace ----------------------------------------------------------------------------------


def test_token_bucket_caps_a_business_number_at_its_rate(make_sender: Any, clock: FakeClock) -> None:
    """A burst beyond the bucket waits its turn: with 2 messages/s, 5 sends to 5 learners take the
    burst of 2 at once and then one every 0.5 s (no 130429 from Meta)."""
    sender = make_sender(rate_per_second=2.0)
    for _ in range(5):
        sender.send(target(clock), [Reply("hola")])
    assert clock.sleeps == [0.5, 0.5, 0.5]
    assert clock.t - START == pytest.approx(1.5)


def test_buckets_are_per_business_number(make_sender: Any, clock: FakeClock) -> None:
    """Two business numbers have their own 80/s budget: one's burst does not slow the other."""
    sender = make_sender(rate_per_second=1.0)
    sender.send(target(clock, phone_number_id="100000000000001"), [Reply("a")])
    sender.send(target(clock, phone_number_id="100000000000002"), [Reply("b")])
    assert clock.sleeps == []


def test_one_learner_gets_one_message_per_interval(
    make_sender: Any, clock: FakeClock, graph_emulator: GraphEmulator
) -> None:
    """Pair rate (131056 avoided): a second message to the same learner waits 6 s; another learner
    is not held up by it."""
    sender = make_sender()
    ana = target(clock)
    sender.send(ana, [Reply("uno")])
    sender.send(target(clock), [Reply("otro alumno")])
    assert clock.sleeps == []
    sender.send(ana, [Reply("dos")])
    assert clock.sleeps == [6.0]
    assert len(graph_emulator.messages()) == 3


def test_a_slot_too_far_away_defers_without_reserving(make_sender: Any, clock: FakeClock) -> None:
    """Timeouts: a send that would wait beyond max_wait raises a retryable SendDeferred (the queue
    redelivers) and does not push the learner's later slots further back."""
    sender = make_sender(learner_interval=30.0, max_wait=10.0)
    ana = target(clock)
    sender.send(ana, [Reply("uno")])
    with pytest.raises(SendDeferred) as deferred:
        sender.send(ana, [Reply("dos")])
    assert deferred.value.retryable
    clock.t += 30.0
    sender.send(ana, [Reply("dos")])
    assert clock.sleeps == []


def test_a_turns_parts_are_merged_into_one_message(
    make_sender: Any, clock: FakeClock, graph_emulator: GraphEmulator
) -> None:
    """A turn with three parts reaches the learner as one message carrying the last part's buttons."""
    sender = make_sender()
    parts = [
        Reply("¡Bien!"),
        Reply("*hablo* es presente."),
        Reply("¿Otro?", buttons=(Button("more", "Otro"),)),
    ]
    result = sender.send(target(clock), parts)
    [message] = graph_emulator.messages()
    assert len(result.wamids) == 1
    assert message["body"]["interactive"]["body"]["text"] == "¡Bien!\n\n*hablo* es presente.\n\n¿Otro?"
    assert clock.sleeps == []


def test_merging_respects_meta_limits() -> None:
    """Bad input avoided: a merge that would exceed the interactive body limit keeps the parts apart,
    and two interactive parts never merge (one interactive element per message)."""
    long = Reply("x" * 1000)
    with_buttons = Reply("y" * 100, buttons=(Button("a", "A"),))
    assert merge_parts([long, with_buttons]) == [long, with_buttons]
    a, b = Reply("a", buttons=(Button("a", "A"),)), Reply("b", buttons=(Button("b", "B"),))
    assert merge_parts([a, b]) == [a, b]
    image = Image(link="https://example.org/chart.png")
    assert merge_parts([Reply("a"), image, Reply("b")]) == [Reply("a"), image, Reply("b")]


# -- the 24-hour window -----------------------------------------------------------------------------


def test_outside_the_window_a_template_goes_and_the_content_is_held(
    make_sender: Any, clock: FakeClock, graph_emulator: GraphEmulator
) -> None:
    """Window expiry: 25 h after the learner's last message, free-form text is held and the configured
    template is sent; when the learner writes again the held text comes back for the next answer."""
    sender = make_sender(window_template="espaluz_seguimos")
    ana = target(clock, hours_since_inbound=25)
    result = sender.send(ana, [Reply("Tu repaso de hoy: *ser* y *estar*.")])
    [message] = graph_emulator.messages()
    assert message["type"] == "template"
    assert message["body"]["template"]["name"] == "espaluz_seguimos"
    assert message["body"]["template"]["components"][0]["parameters"] == [{"type": "text", "text": "Ana"}]
    assert (result.held, result.template) == (1, "espaluz_seguimos")
    assert sender.held(ana) == [Reply("Tu repaso de hoy: *ser* y *estar*.")]
    sender.drop_held(ana, 1)
    assert sender.held(ana) == []


def test_hold_policy_sends_nothing_outside_the_window(
    make_sender: Any, clock: FakeClock, graph_emulator: GraphEmulator
) -> None:
    """With outside_window=hold, nothing at all goes out after 24 h; the content waits."""
    sender = make_sender(outside_window="hold")
    ana = target(clock, hours_since_inbound=24.01)
    assert sender.send(ana, [Reply("repaso")]).held == 1
    assert graph_emulator.messages() == []


def test_templates_go_out_of_window_and_inside_it_text_goes_as_is(
    make_sender: Any, clock: FakeClock, graph_emulator: GraphEmulator
) -> None:
    """An approved template is allowed outside the window; inside it, text is sent unchanged."""
    sender = make_sender()
    sender.send(target(clock, hours_since_inbound=48), [Template("espaluz_repaso", body_params=("3",))])
    sender.send(target(clock, hours_since_inbound=23.9), [Reply("hola")])
    assert [m["type"] for m in graph_emulator.messages()] == ["template", "text"]


# -- opt-outs -----------------------------------------------------------------------------------------


def test_opted_out_learners_get_nothing_proactive(
    make_sender: Any, clock: FakeClock, graph_emulator: GraphEmulator
) -> None:
    """STOP/BAJA: a reminder (proactive) is refused; an answer to the learner's own message still goes."""
    sender = make_sender()
    ana = target(clock, opted_out=True)
    with pytest.raises(OptedOut):
        sender.send(ana, [Reply("¿Repasamos?")], proactive=True)
    sender.send(ana, [Reply("Respuesta a tu mensaje")])
    assert len(graph_emulator.messages()) == 1


def test_marketing_templates_respect_stop_promotions(
    make_sender: Any, clock: FakeClock, graph_emulator: GraphEmulator
) -> None:
    """A learner who stopped marketing messages gets no marketing template (no call to Meta at all);
    a utility template still goes."""
    sender = make_sender()
    ana = target(clock, hours_since_inbound=30, marketing_opt_out=True)
    with pytest.raises(MarketingOptOut):
        sender.send(ana, [Template("espaluz_oferta", marketing=True)])
    sender.send(ana, [Template("espaluz_repaso")])
    assert [m["body"]["template"]["name"] for m in graph_emulator.messages()] == ["espaluz_repaso"]


# -- Meta's error codes, answered by the emulator ----------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "sleeps"),
    [
        (130429, 400, 1),  # throughput: back off, then sent
        (131000, 500, 1),  # Meta's side: back off, then sent
        (131016, 503, 1),
    ],
)
def test_retryable_errors_back_off_and_send_once(
    make_sender: Any,
    clock: FakeClock,
    graph_emulator: GraphEmulator,
    code: int,
    status: int,
    sleeps: int,
) -> None:
    """Provider errors worth retrying: one failure, one backoff, one message delivered."""
    sender = make_sender(backoff_base=1.0)
    graph_emulator.fail_next(code=code, status=status)
    result = sender.send(target(clock), [Reply("hola")])
    assert len(result.wamids) == 1
    assert len(clock.sleeps) == sleeps
    assert 0.5 <= clock.sleeps[0] <= 1.0  # jittered first backoff
    assert len(graph_emulator.messages()) == 1


def test_pair_rate_error_waits_at_least_the_learner_interval(
    make_sender: Any, clock: FakeClock, graph_emulator: GraphEmulator
) -> None:
    """131056 (too many messages to one user): the retry waits the pair interval, not a short backoff."""
    sender = make_sender(backoff_base=0.1)
    graph_emulator.fail_next(code=131056, status=400)
    sender.send(target(clock), [Reply("hola")])
    assert clock.sleeps[0] >= 6.0


def test_retries_stop_after_max_attempts(
    make_sender: Any, clock: FakeClock, graph_emulator: GraphEmulator
) -> None:
    """A long provider outage: after max_attempts the retryable error is raised for the queue."""
    sender = make_sender(max_attempts=3, backoff_base=1.0)
    graph_emulator.fail_next(code=131000, status=500, count=3)
    with pytest.raises(ServerError) as err:
        sender.send(target(clock), [Reply("hola")])
    assert err.value.retryable
    assert len(clock.sleeps) == 2
    assert graph_emulator.messages() == []


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [(131026, 400, RecipientUnavailable), (190, 401, AuthError), (131009, 400, Exception)],
)
def test_permanent_errors_are_never_retried(
    make_sender: Any, clock: FakeClock, graph_emulator: GraphEmulator, code: int, status: int, error: type
) -> None:
    """Permanent errors (undeliverable, a bad token, an invalid parameter) raise at once, no backoff."""
    sender = make_sender()
    graph_emulator.fail_next(code=code, status=status)
    with pytest.raises(error) as raised:
        sender.send(target(clock), [Reply("hola")])
    assert not getattr(raised.value, "retryable", False)
    assert clock.sleeps == []


def test_meta_window_error_takes_the_template_path(
    make_sender: Any, clock: FakeClock, graph_emulator: GraphEmulator
) -> None:
    """131047 although our clock says the window is open: held + template, not an error."""
    sender = make_sender()
    graph_emulator.fail_next(code=131047, status=400)
    ana = target(clock)
    result = sender.send(ana, [Reply("hola")])
    assert result.template == "espaluz_seguimos"
    assert sender.held(ana) == [Reply("hola")]


def test_meta_marketing_opt_out_error_is_reported_not_retried(
    make_sender: Any, clock: FakeClock, graph_emulator: GraphEmulator
) -> None:
    """131050 for a marketing template: reported in the result (the caller records the opt-out)."""
    sender = make_sender()
    graph_emulator.fail_next(code=131050, status=400)
    result = sender.send(target(clock, hours_since_inbound=40), [Template("espaluz_oferta", marketing=True)])
    assert result.marketing_opt_out
    assert result.wamids == ()
    assert clock.sleeps == []


# -- geography --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wa_id", "expected"),
    [
        ("5215512345678", "MX"),
        ("573001234567", "CO"),
        ("34612345678", "ES"),
        ("15550001111", "US"),
        ("18095551234", "DO"),  # +1 809: the longest prefix wins over +1
        ("447700900123", "DEFAULT"),
        (None, "DEFAULT"),  # BSUID only: no country code
    ],
)
def test_country_code_routes_to_the_sending_number(wa_id: str | None, expected: str) -> None:
    routes = {"52": "MX", "57": "CO", "34": "ES", "1": "US", "1809": "DO"}
    assert number_for_country(wa_id, routes, "DEFAULT") == expected


def _learner(wa_id: str | None, bsuid: str | None = None, last_number: str = "") -> Any:
    from espaluz.storage.learners import Learner

    return Learner(uuid.uuid4(), wa_id, bsuid, "Ana", last_number, "A1", "latam", "en", "free", "none")


@pytest.mark.parametrize(
    ("learner", "reply_from", "expected"),
    [
        (_learner("5215512345678", last_number="LAST"), "INBOUND", "INBOUND"),  # a reply: receiving number
        (_learner("5215512345678", last_number="LAST"), None, "MX"),  # starting: the country's number
        (_learner("447700900123", last_number="LAST"), None, "LAST"),  # no route: the number they used
        (_learner(None, bsuid="US.1", last_number=""), None, "DEFAULT"),  # BSUID only, never routed
    ],
)
def test_sending_number_for_replies_and_conversations_we_start(
    learner: Any, reply_from: str | None, expected: str
) -> None:
    from espaluz.whatsapp.sender import target_for

    target = target_for(learner, reply_from=reply_from, routes={"52": "MX"}, default_number="DEFAULT")
    assert target.phone_number_id == expected
