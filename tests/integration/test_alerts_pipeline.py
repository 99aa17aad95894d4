"""Alerts end to end: real broker, real Redis, the real consumer and dispatcher, and a real
local HTTP receiver.

These tests check alert *mechanics*, not the model: they score with ``MarkerScorer``, a
deterministic scorer behind the real ``Scorer`` interface that maps marker words in the
text to fixed probabilities, so a test knows each post's sentiment exactly.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from kafka import KafkaConsumer, KafkaProducer

from inference.scorer import ScoreBatch
from sentimon.alerts import verify_signature
from tests.conftest import Env

pytestmark = pytest.mark.integration

T0 = 1_793_001_600_000  # 2026-10-26T08:00:00Z, on an hour
MIN = 60_000
SECRET = "test-secret"

DROP_RULE = """
[[rule]]
name = "ticker-drop"
scope = "*"
kind = "sentiment_drop"
window = "5m"
z = 3.0
resolve_z = 1.0
min_count = 5
warmup = 3
cooldown = "30m"
repeat_interval = "2h"
severity = "critical"
"""


class MarkerScorer:
    """Deterministic: ``[neg]`` -> negative, ``[pos]`` -> positive, else neutral."""

    model_id = "marker-scorer@test"

    def score(self, texts: Sequence[str]) -> ScoreBatch:
        rows = []
        for text in texts:
            if "[neg]" in text:
                rows.append([0.9, 0.08, 0.02])
            elif "[pos]" in text:
                rows.append([0.02, 0.08, 0.9])
            else:
                rows.append([0.1, 0.8, 0.1])
        return ScoreBatch(np.array(rows, dtype=np.float64), self.model_id)


class Receiver:
    """A webhook receiver on a fixed port that can go down and come back."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/hook"
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.server: ThreadingHTTPServer | None = None
        self.status = 204

    def up(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((dict(self.headers), body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None: ...

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.requests]

    def wait_for(self, n: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.payloads()


def receiving() -> Iterator[Receiver]:
    """A receiver on a free port, up (the ``receiver`` fixture of tests/integration/conftest.py)."""
    from sentimon.stack.services import free_port

    r = Receiver(free_port())
    r.up()
    yield r
    r.down()


def alert_env(stack: Any, tmp_path: Path, rules: str, **overrides: Any) -> Env:
    path = tmp_path / "rules.toml"
    path.write_text(rules)
    settings = {
        "alert_rules": path,
        "webhook_secret": SECRET,
        "max_batch": 32,
        "dispatch_backoff_s": 0.1,
        "dispatch_backoff_max_s": 0.5,
        "dispatch_timeout_s": 2.0,
    }
    settings.update(overrides)
    return Env(stack, Path("unused-model"), **settings)


def posts(
    ticker: str, minutes: range, per_minute: int, marker: str, tag: str
) -> list[dict[str, Any]]:
    out = []
    for m in minutes:
        for i in range(per_minute):
            mark = marker if marker != "mixed" else ("[pos]", "", "[neg]", "[pos]", "")[(m + i) % 5]
            out.append(
                {
                    "id": f"{tag}-{ticker}-{m}-{i}",
                    "text": f"${ticker} update {mark} {m}.{i}",
                    "ts": T0 + m * MIN + i * (MIN // (per_minute + 1)) + 1000,
                }
            )
    return out


def burst_feed(ticker: str = "ACME", steady: str = "STDY") -> list[dict[str, Any]]:
    """60 calm minutes, a 10-minute negative burst on ``ticker``, 40 calm minutes;
    ``steady`` stays calm throughout."""
    return (
        posts(ticker, range(0, 60), 3, "mixed", "a")
        + posts(ticker, range(60, 70), 8, "[neg]", "b")
        + posts(ticker, range(70, 110), 3, "mixed", "c")
        + posts(steady, range(0, 110), 3, "mixed", "s")
    )


def publish(env: Env, messages: list[dict[str, Any]], topic: str | None = None) -> None:
    producer = KafkaProducer(bootstrap_servers=[env.stack.bootstrap])
    for i, msg in enumerate(messages):
        producer.send(topic or env.news, value=json.dumps(msg).encode(), key=str(i).encode())
    producer.flush()
    producer.close()


def consume(env: Env, idle_s: float = 2.5) -> int:
    """Run the real consumer in-process (with MarkerScorer) until idle."""
    from consumers.service import run_consumer

    saved = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        return run_consumer(env.settings, scorer=MarkerScorer(), until_idle_s=idle_s)
    finally:
        signal.signal(signal.SIGINT, saved[0])
        signal.signal(signal.SIGTERM, saved[1])


def dispatch_once(env: Env, name: str = "dispatcher", *, cli: bool = False) -> None:
    """Deliver what the outbox holds, then return: the real CLI, or the same in-process."""
    if cli:
        proc = env.cli("alerts", "dispatch", "--once", "--name", name, timeout=60)
        assert "dispatcher stopped" in proc.stderr, proc.stderr[-2000:]
        return
    from prometheus_client import CollectorRegistry

    from sentimon.alerts.backoff import Backoff
    from sentimon.alerts.dispatch import Dispatcher
    from sentimon.alerts.outbox import Outbox
    from sentimon.alerts.sinks import build_sinks
    from sentimon.keys import Keys
    from sentimon.metrics import Metrics

    s = env.settings
    outbox = Outbox(env.redis(), Keys(s.namespace), name)
    backoff = Backoff(s.dispatch_backoff_s, s.dispatch_backoff_max_s, s.dispatch_max_attempts)
    dispatcher = Dispatcher(outbox, build_sinks(s), backoff, registry=Metrics(CollectorRegistry()))
    dispatcher.run(threading.Event(), once=True)


def kafka_alerts(env: Env, expected: int, timeout_s: float = 10.0) -> list[dict[str, Any]]:
    """Records of this namespace on the `alerts` topic."""
    consumer = KafkaConsumer(
        "alerts",
        bootstrap_servers=[env.stack.bootstrap],
        group_id=None,
        auto_offset_reset="earliest",
        consumer_timeout_ms=2000,
    )
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for message in consumer:
            body = json.loads(message.value)
            if body.get("namespace") == env.settings.namespace:
                headers = dict(message.headers)
                assert headers["idempotency-key"].decode() == body["event_id"]
                found.append(body)
        if len(found) >= expected:
            break
    consumer.close()
    return found


def history(env: Env) -> list[dict[str, Any]]:
    from sentimon.alerts.history import AlertReader

    return list(reversed(AlertReader(env.redis(), env.settings.namespace).history(1000)))


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
