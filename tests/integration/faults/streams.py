"""Message streams for the fault tests, with what they must count, computed independently.

Every message is built here together with its expected effect (valid post id, kind,
tickers; or invalid), so expectations never come from the pipeline's own code.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from kafka import KafkaProducer

from tests.integration.feeds import MALFORMED, T0, TICKERS, WORDS

SPAN_MS = 3 * 3600 * 1000


@dataclass(frozen=True)
class Msg:
    """One message and what it must do: ``post_id`` None means it must be dead-lettered."""

    topic: str
    value: bytes | None
    kind: str
    post_id: str | None = None
    tickers: tuple[str, ...] = ()
    ts_ms: int = T0


@dataclass
class Expected:
    """What a set of messages must leave in Redis (duplicate ids count once)."""

    total: int = 0
    market: int = 0
    duplicates: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    tickers: Counter[str] = field(default_factory=Counter)
    dlq: Counter[str] = field(default_factory=Counter)
    max_ts: int = T0

    @classmethod
    def of(cls, msgs: Iterable[Msg]) -> Expected:
        exp, seen = cls(), set()
        for m in msgs:
            exp.total += 1
            if m.post_id is None:
                exp.dlq[m.topic] += 1
            elif m.post_id in seen:
                exp.duplicates += 1
            else:
                seen.add(m.post_id)
                exp.market += 1
                exp.kinds[m.kind] += 1
                exp.tickers.update(m.tickers)
                exp.max_ts = max(exp.max_ts, m.ts_ms)
        return exp


def valid_msg(topic: str, kind: str, post_id: str, rng: random.Random, base_ms: int = T0) -> Msg:
    label = rng.choice(list(WORDS))
    tickers = tuple(rng.sample(TICKERS, rng.choice([0, 1, 1, 2])))
    ts = base_ms + rng.randrange(SPAN_MS)
    body: dict[str, object] = {
        "id": post_id,
        "text": f"Company {rng.choice(WORDS[label])} ({post_id})",
        "ts": ts,
        "source": "wire",
    }
    if tickers:
        body["tickers"] = [t.lower() for t in tickers]
    return Msg(topic, json.dumps(body).encode(), kind, post_id, tickers, ts)


def build_stream(
    news: str,
    social: str,
    n_valid: int,
    *,
    prefix: str = "",
    n_invalid: int = 10,
    duplicates: int = 5,
    seed: int = 11,
    base_ms: int = T0,
) -> list[Msg]:
    """``n_valid`` posts (two thirds news) stamped in the 3 hours from ``base_ms``,
    ``n_invalid`` malformed records cycling through ``feeds.MALFORMED``, and
    ``duplicates`` repeated posts (same bytes), shuffled."""
    rng = random.Random(seed)
    msgs = [
        valid_msg(social, "social", f"{prefix}s-{i}", rng, base_ms)
        if i % 3 == 0
        else valid_msg(news, "news", f"{prefix}n-{i}", rng, base_ms)
        for i in range(n_valid)
    ]
    msgs += rng.sample(msgs, duplicates)
    for i in range(n_invalid):
        raw, _reason = MALFORMED[i % len(MALFORMED)]
        topic, kind = (news, "news") if i % 2 else (social, "social")
        msgs.append(Msg(topic, raw, kind))
    rng.shuffle(msgs)
    return msgs


def publish(bootstrap: str, msgs: Iterable[Msg]) -> None:
    """Produce in order, keyed by position (spreads over partitions), acks from all."""
    producer = KafkaProducer(
        bootstrap_servers=[bootstrap], acks="all", linger_ms=5, max_request_size=4 << 20
    )
    for i, m in enumerate(msgs):
        producer.send(m.topic, value=m.value, key=str(i).encode())
    producer.flush(timeout=60)
    producer.close(timeout=5)
