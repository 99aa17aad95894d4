"""The replay tests' feed: background posts, a volume burst and event-time edge cases,
published with chosen broker timestamps, and the aggregates it must give for any
event-time range (tests/integration/test_replay.py, test_replay_live.py)."""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from kafka import KafkaProducer

T0 = 1_793_001_600_000  # 2026-10-26T08:00:00Z
MIN = 60_000
HOUR = 3_600_000
TICKERS = ["AAPL", "MSFT", "NVDA", "TSLA", "JPM", "XOM"]
PHRASES = ["beats estimates", "cuts outlook", "holds meeting", "raises guidance", "slides"]
BURST = "NVDA"
RULES = """
[[rule]]
name = "burst"
scope = "*"
kind = "volume_spike"
window = "5m"
k = 3.0
resolve_k = 1.5
min_count = 6
min_rate = 1.0
warmup = 3
cooldown = "10m"
"""


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()


@dataclass
class Message:
    topic: str
    broker_ms: int
    value: bytes
    key: bytes
    event_ms: int | None = None  # None: malformed
    tickers: tuple[str, ...] = ()
    post_id: str | None = None


@dataclass
class History:
    """A published feed and its expected aggregates for any event-time range."""

    messages: list[Message] = field(default_factory=list)

    def valid_in(self, lo: int | None, hi: int | None) -> list[Message]:
        seen: set[str] = set()
        out = []
        for m in self.messages:
            if m.event_ms is None or m.post_id in seen:
                continue
            if (lo is None or m.event_ms >= lo) and (hi is None or m.event_ms < hi):
                assert m.post_id is not None
                seen.add(m.post_id)
                out.append(m)
        return out

    def malformed_in(self, lo: int, hi: int) -> int:
        return sum(1 for m in self.messages if m.event_ms is None and lo <= m.broker_ms < hi)

    def ticker_minutes(self, lo: int | None, hi: int | None) -> Counter[tuple[str, int]]:
        out: Counter[tuple[str, int]] = Counter()
        for m in self.valid_in(lo, hi):
            assert m.event_ms is not None
            out.update((t, m.event_ms // MIN * MIN) for t in m.tickers)
        return out


def post(
    topic: str,
    i: int,
    event_ms: int,
    tickers: list[str],
    broker_ms: int | None = None,
    rng: random.Random | None = None,
) -> Message:
    phrase = (rng or random.Random(i)).choice(PHRASES)
    # The id (also the record key, so it picks the partition) leaves out the topic's
    # per-test suffix: every run then lays the feed out over the partitions alike. With the
    # suffix in, about 1 run in 30 put most of the burst late in its partition, where the
    # alert correctly opened only once 6 NVDA posts read so far shared a window (+3m34s).
    body = {
        "id": f"{topic.rsplit('-', 1)[0]}-{i}",
        "text": f"Company {phrase} ({i})",
        "ts": event_ms,
        "source": "wire",
    }
    if tickers:
        body["tickers"] = tickers
    value = json.dumps(body).encode()
    return Message(
        topic,
        event_ms if broker_ms is None else broker_ms,
        value,
        body["id"].encode(),
        event_ms,
        tuple(tickers),
        body["id"],
    )


def build_history(
    topics: list[str], *, n: int = 240, span_ms: int = 3 * HOUR, seed: int = 11
) -> History:
    """Background posts over ``span_ms`` from T0, a volume burst on NVDA at T0+2h, and edge
    cases around the range [T0+30m, T0+2h30m) that the event-time filter must get right."""
    rng = random.Random(seed)
    h = History()
    for i in range(n):
        tickers = rng.sample(TICKERS, rng.choice([0, 1, 1, 2]))
        h.messages.append(
            post(topics[i % len(topics)], i, T0 + rng.randrange(span_ms), tickers, rng=rng)
        )
    for j in range(24):  # the burst: 24 NVDA posts within two minutes
        h.messages.append(post(topics[0], 1000 + j, T0 + 2 * HOUR + j * 5000, [BURST], rng=rng))
    a, b = T0 + 30 * MIN, T0 + 150 * MIN
    edges = [
        (T0 + HOUR, T0 + 5 * HOUR),  # stamped inside, event time after the range
        (T0 + HOUR, T0 - 2 * HOUR),  # stamped inside, event time before it
        (a - 20 * MIN, a + 10 * MIN),  # stamped before the start (within the slack), inside
        (b + 20 * MIN, b - 10 * MIN),  # stamped after the end (within the slack), inside
    ]
    for k, (broker, event) in enumerate(edges):
        h.messages.append(post(topics[-1], 2000 + k, event, ["XOM"], broker_ms=broker, rng=rng))
    for k, broker in enumerate([T0 + HOUR, T0 + 2 * HOUR, T0 + 10 * MIN]):  # last one: outside
        h.messages.append(Message(topics[k % len(topics)], broker, b"not json", f"bad{k}".encode()))
    dup = h.messages[5]
    h.messages.append(
        Message(
            dup.topic, dup.broker_ms, dup.value, dup.key, dup.event_ms, dup.tickers, dup.post_id
        )
    )
    rng.shuffle(h.messages)  # out of event-time order within every partition
    return h


def publish(bootstrap: str, history: History) -> None:
    producer = KafkaProducer(bootstrap_servers=[bootstrap], linger_ms=5)
    for m in history.messages:
        producer.send(m.topic, value=m.value, key=m.key, timestamp_ms=m.broker_ms)
    producer.flush()
    producer.close()
