"""The Alertmanager sink: postable alerts (pure), HA posting against real local HTTP
servers, and the re-send bookkeeping over an in-memory hash store and a manual clock.
The round trip through the real Alertmanager is tests/integration/test_alertmanager.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from sentimon.alerts.alertmanager import AlertmanagerSink
from sentimon.alerts.postable import epoch_ms, labels_of, postable, top_posts_text
from sentimon.alerts.sinks import DeliveryError, Periodic
from sentimon.keys import Keys
from sentimon.testing import ManualClock, WebhookReceiver

NOW_S = 1_800_000_000.0
OPENED_MS = 1_799_999_000_000

PAYLOAD: dict[str, Any] = {
    "id": "a1",
    "event_id": "a1.0",
    "seq": 0,
    "status": "firing",
    "rule": "ticker-drop",
    "kind": "sentiment_drop",
    "severity": "critical",
    "description": "",
    "entity": "sector:Health Care",
    "scope": {"type": "sector", "value": "Health Care"},
    "namespace": "live",
    "model": "default@abc",
    "opened_ms": OPENED_MS,
    "event_ms": OPENED_MS,
    "resolved_ms": None,
    "top_posts": [
        {"text": "Drug   recall\nwidens", "score": -0.93, "url": "http://n/1"},
        {"text": "x" * 300, "score": -0.5, "url": None},
    ],
    "summary": "FIRING [critical] sector:Health Care ...",
}


def resolved(payload: dict[str, Any], at_ms: int, **extra: Any) -> dict[str, Any]:
    return (
        payload | {"status": "resolved", "seq": 1, "event_id": "a1.1", "resolved_ms": at_ms} | extra
    )


class HashClient:
    """The few hash commands ``ResendState`` uses, in memory."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, str]] = {}

    def hget(self, key: str, field: str) -> str | None:
        return self.data.get(key, {}).get(field)

    def hgetall(self, key: str) -> dict[str, str]:
        return dict(self.data.get(key, {}))

    def hvals(self, key: str) -> list[str]:
        return list(self.data.get(key, {}).values())

    def hset(self, key: str, mapping: dict[str, str]) -> None:
        self.data.setdefault(key, {}).update(mapping)

    def hdel(self, key: str, *fields: str) -> None:
        for f in fields:
            self.data.get(key, {}).pop(f, None)

    def open(self, alert_id: str) -> None:
        self.hset(Keys("live").alert_open, {f"r|{alert_id}": json.dumps({"id": alert_id})})


@pytest.fixture
def am() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver(path="")
    r.status = 200
    with r.up():
        yield r


def sent(r: WebhookReceiver) -> list[list[dict[str, Any]]]:
    return [json.loads(body) for _, body in r.requests]


# --- postable alerts (pure) --------------------------------------------------------------
def test_labels_identify_the_alert_and_leave_out_empty_values() -> None:
    assert labels_of(PAYLOAD) == {
        "alertname": "ticker-drop", "severity": "critical", "kind": "sentiment_drop",
        "scope": "sector", "entity": "sector:Health Care", "sector": "Health Care",
        "namespace": "live", "model": "default@abc",
    }  # fmt: skip
    market = labels_of(PAYLOAD | {"entity": "market", "scope": {"type": "market"}, "model": None})
    assert "ticker" not in market and "sector" not in market and "model" not in market


def test_firing_ends_four_resend_intervals_ahead_resolved_at_resolution() -> None:
    now = int(NOW_S * 1000)
    alert = postable(PAYLOAD, now_ms=now, valid_for_s=240, dashboard_url="http://dash:8501")
    assert alert["startsAt"] == "2027-01-15T07:43:20.000Z"
    assert epoch_ms(alert["endsAt"]) == now + 240_000
    assert alert["generatorURL"] == "http://dash:8501?ns=live"
    assert alert["annotations"]["description"] == PAYLOAD["summary"]  # no rule description
    assert alert["annotations"]["sentimon_id"] == "a1"
    done = postable(resolved(PAYLOAD, now - 5000), now_ms=now, valid_for_s=240, dashboard_url=None)
    assert epoch_ms(done["endsAt"]) == now - 5000 and "generatorURL" not in done


def test_event_times_ahead_of_the_clock_are_clamped_to_now() -> None:
    now = OPENED_MS - 60_000  # the producer's clock runs a minute ahead
    alert = postable(
        resolved(PAYLOAD, OPENED_MS + 1), now_ms=now, valid_for_s=240, dashboard_url=None
    )
    assert epoch_ms(alert["startsAt"]) == now == epoch_ms(alert["endsAt"])


def test_top_posts_are_one_compact_line_each() -> None:
    lines = top_posts_text(PAYLOAD["top_posts"]).split("\n")
    assert lines[0] == "-0.93 Drug recall widens http://n/1"
    assert lines[1].startswith("-0.50 xxx") and len(lines[1]) == 6 + 140


# --- posting -----------------------------------------------------------------------------
def test_posts_a_list_to_api_v2_on_every_url_and_one_accepting_is_enough(am) -> None:
    other = WebhookReceiver(path="")
    other.status = 503
    with other.up():
        sink = AlertmanagerSink([other.url, am.url + "/"], timeout_s=2, clock=lambda: NOW_S)
        sink.deliver("a1.0", "{}", PAYLOAD)
        assert len(other.requests) == 1  # tried, failed, not fatal
    ((alert,),) = sent(am)
    assert alert["labels"]["alertname"] == "ticker-drop"
    assert sink.name.startswith("alertmanager-") and len(sink.name) == len("alertmanager-") + 8
    assert "127.0.0.1" in sink.describe()


@pytest.mark.parametrize(
    ("statuses", "permanent"), [((400, 422), True), ((400, 503), False), ((500, 500), False)]
)
def test_all_refusing_fails_permanently_only_if_none_could_succeed_later(statuses, permanent):
    servers = [WebhookReceiver(path="") for _ in statuses]
    for server, status in zip(servers, statuses, strict=True):
        server.status = status
        server.up()
    try:
        sink = AlertmanagerSink([s.url for s in servers], timeout_s=2)
        with pytest.raises(DeliveryError) as err:
            sink.deliver("a1.0", "{}", PAYLOAD)
        assert err.value.permanent is permanent
        assert str(statuses[0]) in str(err.value)
    finally:
        for server in servers:
            server.down()


def test_bad_urls_are_refused() -> None:
    with pytest.raises(ValueError, match="http"):
        AlertmanagerSink(["am:9093"], timeout_s=1)
    with pytest.raises(ValueError, match="at least one"):
        AlertmanagerSink([], timeout_s=1)


# --- re-sending ----------------------------------------------------------------------------
def opened_sink(am: WebhookReceiver, client: HashClient, clock: ManualClock) -> AlertmanagerSink:
    sink = AlertmanagerSink([am.url], timeout_s=2, resend_s=60, clock=clock)
    assert isinstance(sink, Periodic)
    sink.open(client, Keys("live"))
    return sink


def test_a_firing_alert_is_resent_every_interval_until_resolved(am) -> None:
    clock, client = ManualClock(NOW_S), HashClient()
    client.open("a1")
    sink = opened_sink(am, client, clock)
    sink.deliver("a1.0", "{}", PAYLOAD)
    sink.tick()  # nothing due yet
    assert len(am.requests) == 1
    clock.advance(61)
    sink.tick()
    sink.tick()  # checked a moment ago: nothing
    posts = sent(am)
    assert len(posts) == 2
    assert epoch_ms(posts[1][0]["endsAt"]) == int((NOW_S + 61 + 240) * 1000)
    assert posts[1][0]["labels"] == posts[0][0]["labels"]

    # a restarted dispatcher (new sink, same Redis) goes on
    clock.advance(60)
    again = opened_sink(am, client, clock)
    again.tick()
    assert len(sent(am)) == 3

    # resolved: one post ending at the resolution, with the labels first sent, then quiet
    at = int(clock() * 1000) - 2000
    again.deliver("a1.1", "{}", resolved(PAYLOAD, at, model="default@new"))
    last = sent(am)[-1][0]
    assert epoch_ms(last["endsAt"]) == at and last["labels"]["model"] == "default@abc"
    clock.advance(600)
    again.tick()
    assert len(sent(am)) == 4


def test_a_firing_notice_delivered_after_the_resolve_is_not_sent(am) -> None:
    clock, client = ManualClock(NOW_S), HashClient()
    sink = opened_sink(am, client, clock)
    sink.deliver("a1.1", "{}", resolved(PAYLOAD, int(NOW_S * 1000)))
    sink.deliver("a1.0", "{}", PAYLOAD)  # a retry that lost the race
    assert len(am.requests) == 1


def test_an_alert_that_left_the_open_index_unresolved_is_ended_once(am) -> None:
    clock, client = ManualClock(NOW_S), HashClient()
    sink = opened_sink(am, client, clock)
    sink.deliver("a1.0", "{}", PAYLOAD)  # not in the open index: resolved without a notice
    clock.advance(5)
    sink.tick()
    ended = sent(am)[-1][0]
    assert epoch_ms(ended["endsAt"]) == int((NOW_S + 5) * 1000)
    clock.advance(120)
    sink.tick()
    assert len(am.requests) == 2


def test_a_failed_resend_is_tried_again_at_the_next_check(am) -> None:
    clock, client = ManualClock(NOW_S), HashClient()
    client.open("a1")
    sink = opened_sink(am, client, clock)
    sink.deliver("a1.0", "{}", PAYLOAD)
    am.status = 503
    clock.advance(61)
    sink.tick()
    am.status = 200
    clock.advance(6)
    sink.tick()
    assert len(am.requests) == 3 and am.requests[-1]
