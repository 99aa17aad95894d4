"""Synthetic feeds with expectations computed independently of the pipeline code."""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from kafka import KafkaProducer

T0 = 1_793_000_000_000  # 2026-10-26T07:33:20Z
TICKERS = ["AAPL", "MSFT", "NVDA", "TSLA", "JPM", "XOM", "BRK.B", "AMZN"]
WORDS = {
    "positive": ["beats estimates", "raises guidance", "rallies on upgrade", "record profit"],
    "negative": ["misses forecasts", "cuts outlook", "slides on probe", "announces layoffs"],
    "neutral": ["schedules call", "names new CFO", "files quarterly report", "holds meeting"],
}

MALFORMED: list[tuple[bytes | None, str]] = [
    (b"this is not json", "not JSON"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b"[1, 2, 3]", "expected an object"),
    (json.dumps({"id": "m1"}).encode(), "'text' is missing"),
    (json.dumps({"id": "m2", "text": ""}).encode(), "'text' is empty"),
    (json.dumps({"text": "no id here"}).encode(), "'id'"),
    (json.dumps({"id": "m3", "text": 42}).encode(), "'text' is a int"),
    (json.dumps({"id": "m4", "text": "x", "tickers": "AAPL"}).encode(), "list of strings"),
    (json.dumps({"id": "m5", "text": "x", "ts": "not-a-time"}).encode(), "not ISO-8601"),
    (json.dumps({"id": "m6", "text": "y" * 70_000}).encode(), "over the limit"),
]


@dataclass
class Feed:
    """Messages per topic and what the aggregates must show."""

    messages: dict[str, list[bytes | None]] = field(default_factory=dict)
    ticker_counts: Counter[str] = field(default_factory=Counter)
    kind_counts: Counter[str] = field(default_factory=Counter)
    market: int = 0
    dlq: Counter[str] = field(default_factory=Counter)
    reasons: dict[str, list[str]] = field(default_factory=dict)
    duplicates: int = 0
    max_ts: int = 0

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.messages.values())


def make_feed(
    news: str,
    social: str,
    n_valid: int = 300,
    seed: int = 7,
    with_malformed: bool = True,
    duplicates: int = 5,
    span_s: int = 3 * 3600,
) -> Feed:
    rng = random.Random(seed)
    feed = Feed(messages={news: [], social: []}, reasons={news: [], social: []})
    valid: list[tuple[str, dict[str, Any]]] = []
    for i in range(n_valid):
        topic = news if i % 3 else social
        kind = "news" if topic == news else "social"
        label = rng.choice(list(WORDS))
        ts = T0 + rng.randrange(span_s * 1000)
        n_tickers = rng.choice([0, 1, 1, 1, 2])
        tickers = rng.sample(TICKERS, n_tickers)
        if tickers and rng.random() < 0.5:  # as cashtags in the text instead of the list
            text = f"${tickers[0]} {rng.choice(WORDS[label])}"
            explicit = tickers[1:]
        else:
            text = f"Company {rng.choice(WORDS[label])} ({i})"
            explicit = tickers
        msg: dict[str, Any] = {"id": f"{kind}-{i}", "text": text, "source": "wire"}
        msg["ts"] = ts if rng.random() < 0.5 else _iso(ts)
        if explicit:
            msg["tickers"] = [t.lower() for t in explicit]
        valid.append((topic, msg))
        feed.ticker_counts.update(tickers)
        feed.kind_counts[kind] += 1
        feed.market += 1
        feed.max_ts = max(feed.max_ts, ts)
    for topic, msg in valid:
        feed.messages[topic].append(json.dumps(msg).encode())
    for topic, msg in rng.sample(valid, duplicates):  # same id again: counted once
        feed.messages[topic].append(json.dumps(msg).encode())
        feed.duplicates += 1
    if with_malformed:
        for i, (raw, reason) in enumerate(MALFORMED):
            topic = news if i % 2 else social
            feed.messages[topic].append(raw)
            feed.dlq[topic] += 1
            feed.reasons[topic].append(reason)
    for topic in feed.messages:
        rng.shuffle(feed.messages[topic])
    return feed


def _iso(ts_ms: int) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def publish(bootstrap: str, feed: Feed) -> None:
    producer = KafkaProducer(bootstrap_servers=[bootstrap], max_request_size=4 * 1024 * 1024)
    for topic, values in feed.messages.items():
        for i, value in enumerate(values):
            producer.send(topic, value=value if value is not None else b"", key=str(i).encode())
    producer.flush()
    producer.close()


def query_json(env: Any, *args: str) -> Any:
    """``sentimon query ARGS --json`` against ``env`` (an ``Env``), parsed."""
    return json.loads(env.cli("query", *args, "--json").stdout)


def assert_aggregates_match(env: Any, feed: Feed) -> None:
    """The ticker, market and kind aggregates ``env`` shows over 24 h equal ``feed``'s."""
    at = str(feed.max_ts)
    for ticker, count in feed.ticker_counts.items():
        got = query_json(env, "ticker", ticker, "--window", "24h", "--at", at)
        assert got["count"] == count, ticker
        assert got["positive"] + got["neutral"] + got["negative"] == count
        assert -1.0 <= got["mean_score"] <= 1.0
    market = query_json(env, "market", "--window", "24h", "--at", at)
    assert market["count"] == feed.market
    for kind, count in feed.kind_counts.items():
        assert query_json(env, "kind", kind, "--window", "24h", "--at", at)["count"] == count
