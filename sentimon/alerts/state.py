"""Alert state in Redis: what the hook reads before a batch's write, and how it is encoded.

Per (rule, entity) one field ``<rule>|<entity>`` of the hash ``Keys.alert_state`` holds a
JSON record with the entity's baseline (``b``) and the alert lifecycle (``a``). The hook
reads the records of the pairs a batch touches, and writes changed ones back inside the
batch's atomic write, guarded by the value it read (optimistic concurrency: if another
writer changed the record meanwhile, the write aborts and the batch is re-evaluated).

Reads cost two round trips per batch: the records, open alerts, silences and the
watermark; then the window sums the evaluation needs.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import redis

from sentimon.alerts.baseline import Baseline
from sentimon.alerts.lifecycle import AlertState
from sentimon.alerts.silences import Silence
from sentimon.errors import SinkError
from sentimon.keys import STAT_FIELDS, Keys
from sentimon.windows import HOUR, MINUTE, Stats, hour_of

log = logging.getLogger(__name__)


def pair_field(rule: str, entity: str) -> str:
    return f"{rule}|{entity}"


def split_field(name: str) -> tuple[str, str]:
    rule, _, entity = name.partition("|")
    return rule, entity


def decode_record(raw: str | None) -> tuple[Baseline | None, AlertState]:
    if not raw:
        return None, AlertState()
    data = json.loads(raw)
    baseline = Baseline.from_dict(data["b"]) if data.get("b") else None
    return baseline, AlertState.from_dict(data.get("a", {}))


def encode_record(baseline: Baseline | None, alert: AlertState) -> str:
    data = {"b": baseline.as_dict() if baseline else None, "a": alert.as_dict()}
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class MinuteRange:
    """Minutes ``first..last`` (epoch s of the minute starts, inclusive) of ``entity``."""

    entity: str
    first: int
    last: int

    def contains(self, minute_s: int) -> bool:
        return self.first <= minute_s <= self.last


@dataclass
class Snapshot:
    records: dict[str, str | None] = field(default_factory=dict)
    open: dict[str, dict[str, Any]] = field(default_factory=dict)
    silences: list[Silence] = field(default_factory=list)
    watermark_ms: int | None = None


class AlertStore:
    """Reads of one namespace's alert state and aggregates."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.client: Any = client
        self.keys = keys

    def load(self, fields: list[str]) -> Snapshot:
        pipe = self.client.pipeline(transaction=False)
        pipe.hmget(self.keys.alert_state, fields or ["-"])
        pipe.hgetall(self.keys.alert_open)
        pipe.hgetall(self.keys.alert_silences)
        pipe.hget(self.keys.meta, "watermark_ms")
        records, opened, silences, watermark = self._execute(pipe)
        return Snapshot(
            records=dict(zip(fields, records, strict=False)),
            open={k: json.loads(v) for k, v in opened.items()},
            silences=_silences(silences),
            watermark_ms=int(watermark) if watermark is not None else None,
        )

    def read_ranges(self, ranges: list[MinuteRange]) -> list[Stats]:
        """Stats of each range, in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        shapes: list[int] = []
        for r in ranges:
            spans = _hour_spans(r.first, r.last)
            shapes.append(len(spans))
            for hour, lo, hi in spans:
                pipe.hmget(self.keys.hour(r.entity, hour), _fields(lo, hi))
        replies = iter(self._execute(pipe))
        out = []
        for count in shapes:
            total = Stats()
            for _ in range(count):
                total = total + _sum(next(replies))
            out.append(total)
        return out

    def recent_posts(self, entity: str, limit: int) -> list[dict[str, Any]]:
        try:
            entries = self.client.xrevrange(self.keys.recent(entity), count=limit)
        except redis.RedisError as exc:
            raise SinkError(f"reading recent posts for an alert failed: {exc}") from exc
        return [json.loads(fields["p"]) for _, fields in entries]

    def _execute(self, pipe: Any) -> list[Any]:
        try:
            return list(pipe.execute())
        except redis.RedisError as exc:
            raise SinkError(
                f"reading alert state from Redis failed (batch retried): {exc}"
            ) from exc


def _silences(raw: dict[str, str]) -> list[Silence]:
    out = []
    for key, value in raw.items():
        try:
            out.append(Silence.from_dict(json.loads(value)))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable silence %s: %s", key, exc)
    return out


def _hour_spans(first: int, last: int) -> list[tuple[int, int, int]]:
    """(hour start, first minute 0-59, last minute 0-59) of each hour the range touches."""
    spans = []
    hour = hour_of(first)
    while hour <= last:
        lo = max(first, hour)
        hi = min(last, hour + HOUR - MINUTE)
        spans.append((hour, (lo - hour) // MINUTE, (hi - hour) // MINUTE))
        hour += HOUR
    return spans


def _fields(lo: int, hi: int) -> list[str]:
    if lo == 0 and hi == 59:
        return list(STAT_FIELDS)
    return [f"{m}:{f}" for m in range(lo, hi + 1) for f in STAT_FIELDS]


def _sum(values: list[Any]) -> Stats:
    width = len(STAT_FIELDS)
    total = Stats()
    for i in range(0, len(values), width):
        chunk = values[i : i + width]
        if chunk[0] is not None:
            total = total + Stats.from_values(chunk)
    return total
