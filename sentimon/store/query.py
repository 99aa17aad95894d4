"""Read side: windows, top tickers, series, recent posts, DLQ counts, health.

The one module the CLI, the dashboard and the alerts read aggregates through. Window
ends default to the namespace's event-time watermark (the latest event time ingested),
so backtest namespaces read the same way as live ones. Windows are half-open: a window of
W ending at ``end`` holds the minute buckets that start in ``[end - W, end)``
(``sentimon.windows.WindowRange``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import redis

from sentimon.entities.relevance import PARTIAL_LEVELS
from sentimon.entities.weighted import RelevanceStats
from sentimon.keys import (
    MARKET,
    META_WATERMARK,
    RECENT_POST,
    REGISTRY,
    STAT_FIELDS,
    STORY_FIELDS,
    Keys,
    minute_fields,
    relevance_entity,
    ticker_entity,
)
from sentimon.store.rollups import Rollup, rollups
from sentimon.windows import MINUTE, Stats, WindowRange, window_spans

#: The live consumer's default ``event_time_max_ahead_s`` (sentimon.settings), in ms.
DEFAULT_MAX_AHEAD_MS = 300_000
_MINUTE_FIELDS = minute_fields(0, 59)


@dataclass(frozen=True)
class TopicLag:
    """Consumer lag of one topic: records behind the log end, and the estimated seconds to
    drain them at current throughput (None: unknown)."""

    topic: str
    messages: int
    seconds: float | None


@dataclass(frozen=True)
class Point:
    """One minute of an entity's series."""

    minute_s: int
    stats: Stats


class Query:
    """Read-only access to one namespace's aggregates."""

    def __init__(
        self, client: redis.Redis, namespace: str, *, max_ahead_ms: int = DEFAULT_MAX_AHEAD_MS
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.keys = Keys(namespace)
        #: A stored watermark further than this ahead of the clock is read as clock + this
        #: (one written before event times were bounded must not hide current data).
        self.max_ahead_ms = max_ahead_ms

    # --- time --------------------------------------------------------------------------
    def watermark_ms(self) -> int | None:
        """The latest event time ingested, never beyond the clock plus ``max_ahead_ms``."""
        raw = self.client.hget(self.keys.meta, META_WATERMARK)
        if raw is None:
            return None
        return min(int(raw), int(time.time() * 1000) + self.max_ahead_ms)

    def default_end(self) -> int:
        """Where windows end when no end is given: just after the watermark (windows are
        half-open, and the watermark's own minute must stay in view even when the latest
        post is stamped exactly on a minute), or now for an empty namespace."""
        watermark = self.watermark_ms()
        return watermark + 1 if watermark is not None else int(time.time() * 1000)

    def resolve_end(self, end_ms: int | None) -> int:
        return end_ms if end_ms is not None else self.default_end()

    # --- windows -----------------------------------------------------------------------
    def window(self, entity: str, seconds: int, end_ms: int | None = None) -> Stats:
        return self.windows([entity], seconds, end_ms)[entity]

    def windows(
        self, entities: list[str], seconds: int, end_ms: int | None = None
    ) -> dict[str, Stats]:
        """Window stats of many entities in one round trip."""
        out: dict[str, Stats] = {}
        for entity, replies in self._span_reads(entities, seconds, end_ms, STAT_FIELDS):
            total = Stats()
            for values in replies:
                total = total + _sum_fields(values)
            out[entity] = total
        return out

    def story_windows(
        self, entities: list[str], seconds: int, end_ms: int | None = None
    ) -> dict[str, Stats]:
        """Stories begun in the window (``sentimon.stories``), per entity, in one round
        trip: ``count`` stories, ``negative`` of them, and the story-level score sum (each
        story by its first post), so ``mean_score`` and ``negative_share`` are story-level.
        Other fields are 0."""
        out: dict[str, Stats] = {}
        for entity, replies in self._span_reads(entities, seconds, end_ms, STORY_FIELDS):
            values = [int(v) if v is not None else 0 for reply in replies for v in reply]
            out[entity] = Stats(count=sum(values[0::3]), negative=sum(values[1::3]),
                                s_micro=sum(values[2::3]))  # fmt: skip
        return out

    def _span_reads(
        self, entities: list[str], seconds: int, end_ms: int | None, fields: tuple[str, ...]
    ) -> list[tuple[str, list[list[Any]]]]:
        """Per entity, the ``fields`` of each hour span of the window (hour totals for a
        full hour, minute fields otherwise), read in one pipelined round trip."""
        spans = window_spans(self.resolve_end(end_ms), seconds)
        pipe = self.client.pipeline(transaction=False)
        for entity in entities:
            for span in spans:
                key = self.keys.hour(entity, span.hour_s)
                if span.full:
                    pipe.hmget(key, list(fields))
                else:
                    pipe.hmget(key, minute_fields(span.first, span.last, fields))
        replies = pipe.execute()
        n = len(spans)
        return [(e, replies[i * n : (i + 1) * n]) for i, e in enumerate(entities)]

    def relevance_windows(
        self, entities: list[str], seconds: int, end_ms: int | None = None
    ) -> dict[str, RelevanceStats]:
        """Window stats of company or sector entities with their relevance levels (one
        round trip): ``.at_least(r)`` and the weighted figures are exact."""
        levels = {e: [relevance_entity(e, lv) for lv in PARTIAL_LEVELS] for e in entities}
        stats = self.windows([*entities, *(k for ks in levels.values() for k in ks)], seconds,
                             end_ms)  # fmt: skip
        return {
            e: RelevanceStats(
                stats[e], {lv: stats[k] for lv, k in zip(PARTIAL_LEVELS, levels[e], strict=True)}
            )
            for e in entities
        }

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
        hours = WindowRange.ending_at(self.resolve_end(end_ms), seconds).hours()
        pipe = self.client.pipeline(transaction=False)
        for hour in hours:
            pipe.zrange(self.keys.top(hour), 0, -1, withscores=True)
        totals: dict[str, float] = {}
        for members in pipe.execute():
            for member, score in members:
                totals[_text(member)] = totals.get(_text(member), 0.0) + float(score)
        ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
        return [member for member, _ in ranked[:limit]]

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
        entries: Any = self.client.xrevrange(self.keys.recent(entity), count=limit)
        return [json.loads(fields[RECENT_POST]) for _, fields in entries or []]

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

    # --- added for the dashboard -------------------------------------------------------
    def rollups(
        self, entities: list[str], windows: list[int], hours: int, end_ms: int | None = None
    ) -> dict[str, Rollup]:
        """Several windows plus the last ``hours`` hour totals of many entities, summed in
        Redis (``sentimon.store.rollups``): one round trip, a few numbers per entity."""
        return rollups(self.client, self.keys, entities, windows, hours, self.resolve_end(end_ms))

    def ranked_tickers(
        self, seconds: int, end_ms: int | None = None, limit: int = 500
    ) -> list[tuple[str, int]]:
        """``active_tickers`` with their volumes, summed in Redis (one ZUNION, Redis >= 6.2):
        the same tickers in the same order, without moving every hour's index to the client."""
        hours = WindowRange.ending_at(self.resolve_end(end_ms), seconds).hours()
        keys = [self.keys.top(h) for h in hours]
        totals: Any = self.client.zunion(keys, withscores=True)
        ranked = sorted(((_text(m), int(v)) for m, v in totals), key=lambda kv: (-kv[1], kv[0]))
        return ranked[:limit]

    def lag_by_topic(self, now_ms: int | None = None, stale_s: float = 60.0) -> list[TopicLag]:
        """Consumer lag per topic, summed over the consumers whose health snapshot is fresher
        than ``stale_s``. ``seconds`` estimates the time to drain it: the slowest of those
        consumers' own backlog divided by its throughput (None when a consumer reports no
        throughput yet)."""
        now = now_ms if now_ms is not None else int(time.time() * 1000)
        messages: dict[str, int] = {}
        seconds: dict[str, float | None] = {}
        for snap in self.health().values():
            if (now - int(snap.get("ts", now))) / 1000 > stale_s:
                continue
            lag = {f.rpartition(":")[0]: 0 for f in snap.get("lag", {})}
            for field, n in snap.get("lag", {}).items():
                lag[field.rpartition(":")[0]] += int(n)
            rate = float(snap.get("rate") or 0.0)
            drain = sum(lag.values()) / rate if rate > 0 else None
            for topic, n in lag.items():
                messages[topic] = messages.get(topic, 0) + n
                seconds[topic] = _slowest(seconds.get(topic, 0.0), drain if n else 0.0)
        return [TopicLag(t, messages[t], seconds[t]) for t in sorted(messages)]


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


def _slowest(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(max(a, b), 1)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
