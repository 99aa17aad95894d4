"""Alerts end to end: real broker, real Redis, the real consumer and dispatcher, and a real
local HTTP receiver.

These tests check alert *mechanics*, not the model: they score with ``MarkerScorer``
(``sentimon.testing``), a deterministic scorer behind the real ``Scorer`` interface that
maps marker words in the text to fixed probabilities, so a test knows each post's
sentiment exactly. The feeds and in-process runs are in tests/integration/alerting.py.
"""

from __future__ import annotations

import json

import pytest

from sentimon.alerts import verify_signature
from tests.integration.alerting import (
    DROP_RULE,
    MIN,
    SECRET,
    T0,
    alert_env,
    burst_feed,
    consume,
    dispatch_once,
    history,
    kafka_alerts,
    publish,
)

pytestmark = pytest.mark.integration


def test_burst_fires_once_resolves_once_and_steady_stays_quiet(stack, tmp_path, receiver):
    env = alert_env(stack, tmp_path, DROP_RULE, webhook_urls=[receiver.url])
    feed = burst_feed()
    publish(env, feed)  # all at once, over 4 partitions: a backfill, not a trickle
    assert consume(env) == 0
    assert env.query().counters()["scored"] == len(feed)

    events = history(env)
    assert [(e["status"], e["entity"]) for e in events] == [
        ("firing", "ticker:ACME"),
        ("resolved", "ticker:ACME"),
    ]
    dispatch_once(env, cli=True)
    got = receiver.wait_for(2)
    assert [(p["status"], p["entity"], p["rule"]) for p in got] == [
        ("firing", "ticker:ACME", "ticker-drop"),
        ("resolved", "ticker:ACME", "ticker-drop"),
    ]
    firing, resolved = got
    assert firing["id"] == resolved["id"] and firing["event_id"] != resolved["event_id"]
    assert T0 + 60 * MIN <= firing["opened_ms"] <= T0 + 70 * MIN
    assert resolved["event_ms"] > firing["event_ms"]
    assert firing["model"] == "marker-scorer@test" and firing["namespace"] == env.settings.namespace
    assert firing["stats"]["z"] <= -3.0 and firing["stats"]["count"] >= 5
    assert firing["top_posts"] and all("[neg]" in p["text"] for p in firing["top_posts"])
    for headers, body in receiver.requests:
        assert headers["Idempotency-Key"] == json.loads(body)["event_id"]
        assert verify_signature(body, headers["X-Sentimon-Signature"], SECRET)
        assert not verify_signature(body, headers["X-Sentimon-Signature"], "another-secret")
    records = kafka_alerts(env, 2)
    assert sorted(r["event_id"] for r in records) == sorted(p["event_id"] for p in got)

    listed = json.loads(env.cli("alerts", "list", "--json").stdout)
    assert listed["open"] == [] and len(listed["history"]) == 2
    assert listed["outbox"] == {"entries": 0, "pending": 0}
