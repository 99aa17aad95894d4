"""Delivery guarantees: a receiver that is down, a dispatcher that crashes, dead letters.

Alert mechanics, not the model: posts are scored by ``MarkerScorer`` (``sentimon.testing``).
"""

from __future__ import annotations

import json
import signal
import time
from typing import Any

import pytest

from tests.integration.alerting import (
    DROP_RULE,
    alert_env,
    burst_feed,
    consume,
    dispatch_once,
    history,
    kafka_alerts,
    publish,
)

pytestmark = pytest.mark.integration


def wait_until(check: Any, timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def delivery_states(env: Any) -> dict[str, dict[str, Any]]:
    from sentimon.keys import Keys

    raw = env.redis().hgetall(Keys(env.settings.namespace).alert_delivery)
    return {k: json.loads(v) for k, v in raw.items()}


def test_receiver_down_then_back_with_a_dispatcher_crash_in_between(stack, tmp_path, receiver):
    env = alert_env(
        stack, tmp_path, DROP_RULE, webhook_urls=[receiver.url], dispatch_max_attempts=1000
    )
    receiver.down()
    first = env.spawn("alerts", "dispatch", "--name", "d1")
    try:
        feed = burst_feed()
        publish(env, feed)
        assert consume(env) == 0  # the pipeline never waits for delivery
        assert env.query().counters()["scored"] == len(feed)
        assert [e["status"] for e in history(env)] == ["firing", "resolved"]

        def retrying() -> bool:
            states = delivery_states(env)
            webhook = [s for k, s in states.items() if "|webhook-" in k]
            kafka = [s for k, s in states.items() if k.endswith("|kafka")]
            return (
                len(kafka) == 2
                and all(s["state"] == "ok" for s in kafka)
                and len(webhook) == 2
                and all(s.get("attempts", 0) >= 2 for s in webhook)
            )

        wait_until(retrying, what="kafka delivered and the webhook retried")
    finally:
        first.send_signal(signal.SIGKILL)  # crash: nothing acknowledged
        first.communicate(timeout=10)
    assert receiver.requests == []

    receiver.up()
    dispatch_once(env, "d1")  # same consumer name: resumes the crashed one's pending entries
    got = receiver.wait_for(2)
    assert sorted(p["status"] for p in got) == ["firing", "resolved"]
    assert len({p["event_id"] for p in got}) == 2
    # Kafka had succeeded before the crash and was recorded: not sent again
    records = kafka_alerts(env, 2)
    assert sorted(r["event_id"] for r in records) == sorted(p["event_id"] for p in got)
    listed = json.loads(env.cli("alerts", "list", "--json").stdout)
    assert listed["outbox"] == {"entries": 0, "pending": 0} and listed["dead_letters"] == {}
    assert delivery_states(env) == {}


def test_permanent_failure_is_dead_lettered_and_can_be_redriven(stack, tmp_path, receiver):
    env = alert_env(stack, tmp_path, DROP_RULE, webhook_urls=[receiver.url])
    receiver.status = 400
    publish(env, burst_feed())
    assert consume(env) == 0
    dispatch_once(env)
    assert len(receiver.requests) == 2  # one attempt each: 400 is not retried
    dead = json.loads(env.cli("alerts", "dead", "--json").stdout)
    ((sink, letters),) = dead.items()
    assert sink.startswith("webhook-") and len(letters) == 2
    assert all(
        letter["error"].startswith("HTTP 400") and letter["attempts"] == 1 for letter in letters
    )
    assert "/hook" not in letters[0]["target"]  # URL paths (tokens) are not stored

    receiver.status = 204
    receiver.requests.clear()
    moved = json.loads(env.cli("alerts", "redrive", sink, "--json").stdout)
    assert moved == {"sink": sink, "requeued": 2}
    dispatch_once(env)
    assert sorted(p["status"] for p in receiver.wait_for(2)) == ["firing", "resolved"]
    assert json.loads(env.cli("alerts", "dead", "--json").stdout) == {}
    assert len(kafka_alerts(env, 2)) == 2  # the redrive went to the webhook only
