"""Read side: windows, top tickers, series, recent posts, DLQ counts, health.

The one module the CLI, the dashboard and the alerts read aggregates through. Window
ends default to the namespace's event-time watermark (the latest event time ingested),
so backtest namespaces read the same way as live ones.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import redis

from sentimon.keys import MARKET, REGISTRY, STAT_FIELDS, Keys, ticker_entity
from sentimon.windows import HOUR, MINUTE, Stats, hour_of, minute_of, window_spans

_MINUTE_FIELDS = [f"{m}:{f}" for m in range(60) for f in STAT_FIELDS]


@dataclass(frozen=True)
class Point:
    """One minute of an entity's series."""

    minute_s: int
    stats: Stats


class Query:
    """Read-only access to one namespace's aggregates."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client = client
        self.namespace = namespace
        self.keys = Keys(namespace)

    # --- time --------------------------------------------------------------------------
    def watermark_ms(self) -> int | None:
        raw = self.client.hget(self.keys.meta, "watermark_ms")
        return int(raw) if raw is not None else None

    def resolve_end(self, end_ms: int | None) -> int:
        if end_ms is not None:
            return end_ms
        return self.watermark_ms() or int(time.time() * 1000)

    # --- windows -----------------------------------------------------------------------
    def window(self, entity: str, seconds: int, end_ms: int | None = None) -> Stats:
        return self.windows([entity], seconds, end_ms)[entity]

    def windows(
        self, entities: list[str], seconds: int, end_ms: int | None = None
    ) -> dict[str, Stats]:
        """Window stats of many entities in one round trip."""
        end = self.resolve_end(end_ms)
        spans = window_spans(end, seconds)
        pipe = self.client.pipeline(transaction=False)
        for entity in entities:
            for span in spans:
                key = self.keys.hour(entity, span.hour_s)
                if span.full:
                    pipe.hmget(key, list(STAT_FIELDS))
                else:
                    fields = [
                        f"{m}:{f}" for m in range(span.first, span.last + 1) for f in STAT_FIELDS
                    ]
                    pipe.hmget(key, fields)
        replies = iter(pipe.execute())
        out: dict[str, Stats] = {}
        for entity in entities:
            total = Stats()
            for _span in spans:
                total = total + _sum_fields(next(replies))
            out[entity] = total
        return out

    def ticker(self, symbol: str, seconds: int, end_ms: int | None = None) -> Stats:
        return self.window(ticker_entity(symbol.upper()), seconds, end_ms)

    def market(self, seconds: int, end_ms: int | None = None) -> Stats:
        return self.window(MARKET, seconds, end_ms)

    def series(self, entity: str, seconds: int, end_ms: int | None = None) -> list[Point]:
        """Per-minute stats of ``entity`` over the window (minutes without posts included)."""
        return self.many_series([entity], seconds, end_ms)[entity]

    def many_series(
        self, entities: list[str], seconds: int, end_ms: int | None = None
    ) -> dict[str, list[Point]]:
        end = self.resolve_end(end_ms)
        spans = window_spans(end, seconds)
        pipe = self.client.pipeline(transaction=False)
        for entity in entities:
            for span in spans:
                pipe.hmget(self.keys.hour(entity, span.hour_s), _span_fields(span.first, span.last))
        replies = iter(pipe.execute())
        out: dict[str, list[Point]] = {}
        for entity in entities:
            points: list[Point] = []
            for span in spans:
                values = next(replies)
                width = len(STAT_FIELDS)
                for i, minute in enumerate(range(span.first, span.last + 1)):
                    chunk = values[i * width : (i + 1) * width]
                    points.append(Point(span.hour_s + minute * MINUTE, _stats_of(chunk)))
            out[entity] = points
        return out

    # --- rankings ----------------------------------------------------------------------
    def active_tickers(
        self, seconds: int, end_ms: int | None = None, limit: int = 500
    ) -> list[str]:
        """Tickers with posts in the hours the window touches, by volume in those hours."""
        end = self.resolve_end(end_ms)
        start_hour = hour_of(minute_of(end) - seconds + MINUTE)
        hours = range(start_hour, hour_of(minute_of(end)) + 1, HOUR)
        keys = [self.keys.top(h) for h in hours]
        if len(keys) == 1:
            ranked = self.client.zrevrange(keys[0], 0, limit - 1, withscores=True)
        else:
            pipe = self.client.pipeline(transaction=False)
            for key in keys:
                pipe.zrange(key, 0, -1, withscores=True)
            totals: dict[str, float] = {}
            for members in pipe.execute():
                for member, score in members:
                    totals[member] = totals.get(member, 0.0) + score
            ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return [_text(member) for member, _ in ranked]

    def top(
        self, seconds: int, limit: int = 20, end_ms: int | None = None
    ) -> list[tuple[str, Stats]]:
        """Tickers by exact post count in the window (ties by symbol)."""
        end = self.resolve_end(end_ms)
        candidates = self.active_tickers(seconds, end, limit=max(limit * 5, 500))
        stats = self.windows([ticker_entity(t) for t in candidates], seconds, end)
        rows = [(t, stats[ticker_entity(t)]) for t in candidates]
        rows = [row for row in rows if row[1].count > 0]
        rows.sort(key=lambda row: (-row[1].count, row[0]))
        return rows[:limit]

    # --- posts, counters, health -----------------------------------------------------
    def recent_posts(self, symbol: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """Newest first. ``symbol=None`` gives the market-wide feed."""
        entity = ticker_entity(symbol.upper()) if symbol else MARKET
        entries = self.client.xrevrange(self.keys.recent(entity), count=limit)
        return [json.loads(fields["p"]) for _, fields in entries]

    def dlq_counts(self) -> dict[str, int]:
        return {_text(k): int(v) for k, v in self.client.hgetall(self.keys.dlq).items()}

    def counters(self) -> dict[str, int]:
        return {_text(k): int(float(v)) for k, v in self.client.hgetall(self.keys.stats).items()}

    def meta(self) -> dict[str, str]:
        return {_text(k): _text(v) for k, v in self.client.hgetall(self.keys.meta).items()}

    def applied_offsets(self) -> dict[str, int]:
        return {_text(k): int(v) for k, v in self.client.hgetall(self.keys.offsets).items()}

    def health(self) -> dict[str, dict[str, Any]]:
        raw = self.client.hgetall(self.keys.health)
        return {_text(k): json.loads(_text(v)) for k, v in raw.items()}


def namespaces(client: redis.Redis) -> list[str]:
    """Every namespace that has been written to, sorted."""
    return sorted(_text(m) for m in client.smembers(REGISTRY))


def _span_fields(first: int, last: int) -> list[str]:
    return _MINUTE_FIELDS[first * len(STAT_FIELDS) : (last + 1) * len(STAT_FIELDS)]


def _stats_of(values: list[Any]) -> Stats:
    return Stats.from_values(values)


def _sum_fields(values: list[Any]) -> Stats:
    """Sum consecutive groups of ``n pos neu neg s ss`` values."""
    width = len(STAT_FIELDS)
    total = Stats()
    for i in range(0, len(values), width):
        chunk = values[i : i + width]
        if chunk[0] is not None:
            total = total + _stats_of(chunk)
    return total


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
