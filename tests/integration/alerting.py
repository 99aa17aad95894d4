"""What the alert tests share: rules, feeds of marked posts, and the real consumer and
dispatcher run in-process against an ``Env``.

The alert tests check alert *mechanics*, not the model: they score with
``sentimon.testing.MarkerScorer``, which maps marker words in the text to fixed
probabilities, so a test knows each post's sentiment exactly. The webhook receiver is the
``receiver`` fixture (tests/integration/conftest.py).
"""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer

from consumers.records import SourceRecord
from consumers.wiring import build_processor
from sentimon.testing import MarkerScorer
from tests.fixtures.stack import Env

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
    from sentimon.alerts.receivers import build_sinks
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


class NoDeadLetters:
    """A dead-letter sink for feeds that must have none."""

    def publish(self, letters: list[Any]) -> None:
        assert not letters


def feed(env: Any, messages: list[dict[str, Any]], batch: int = 8) -> None:
    """The messages through one in-process processor (real Redis, the real story index,
    the env's alert rules), oldest first, ``batch`` at a time."""
    processor = build_processor(env.settings, MarkerScorer(), dead_letters=NoDeadLetters())
    ordered = sorted(messages, key=lambda m: m["ts"])
    offset = env.redis().hincrby(f"test:{env.uid}", "offset", len(ordered)) - len(ordered)
    records = [
        SourceRecord(env.news, 0, offset + i, 0, json.dumps(m).encode())
        for i, m in enumerate(ordered)
    ]
    for i in range(0, len(records), batch):
        processor.process(records[i : i + batch])
