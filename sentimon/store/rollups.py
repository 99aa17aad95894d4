"""Server-side roll-ups: windows and hour totals of many entities, summed inside Redis.

Reading a 1-hour window of 500 tickers with ``HMGET`` moves 180,000 minute fields to the
client and parsing them dominates (seconds, in pure Python). This read-only Lua script
sums the minute fields in Redis and returns one short comma-separated line per entity,
so a full dashboard refresh stays well under a second. Entities are sent in chunks, each
its own short script call (other clients interleave between them), all in one pipeline.

Every key the script reads is passed in ``KEYS`` (one namespace: one cluster hash slot).
Numbers stay exact: Lua doubles hold integers up to 2**53, far above any window's sum.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis

from sentimon.errors import ScriptBoundError
from sentimon.keys import STAT_FIELDS, Keys, minute_field, script_source
from sentimon.windows import HOUR, Stats, hour_of, last_minute_of_window, window_spans

log = logging.getLogger(__name__)

CHUNK = 100
#: Bounds of one roll-up script call (checked before the call): hour keys read (KEYS, one
#: HGETALL or HMGET each) and window spans (ARGV quadruples; a span's minute loop is at
#: most 60 x 6 fields). Long windows just make the entity chunks smaller.
MAX_ROLLUP_KEYS = 20_000
MAX_ROLLUP_SPANS = 8 * 745

#: The roll-up script (sentimon/scripts/rollup.lua; its header: KEYS/ARGV, the reply, and
#: its loops, bounded by the constants above), with the layout's stat field names.
_SCRIPT = script_source("rollup")


@dataclass(frozen=True)
class Rollup:
    """One entity: ``windows`` maps window seconds to stats; ``hours`` are the hour totals
    ``(hour start s, stats)`` oldest first."""

    windows: dict[int, Stats]
    hours: list[tuple[int, Stats]]


@dataclass(frozen=True)
class _Plan:
    hour_starts: list[int]  # every hour key read per entity, oldest first
    wanted_hours: list[int]  # the hours the caller asked totals for
    windows: list[int]
    spans: list[tuple[int, int, int, int]]  # (window index, hour index, first, last), 1-based

    @property
    def argv(self) -> list[int]:
        return [len(self.hour_starts), len(self.windows), *(v for sp in self.spans for v in sp)]

    def partial_hours(self) -> set[int]:
        return {h for _, h, first, last in self.spans if (first, last) != (0, 59)}


def _plan(end_ms: int, windows: list[int], hours: int) -> _Plan:
    """Hours to read and spans to sum; the hour totals end with the hour of the windows'
    last minute (an end exactly on an hour boundary leaves the hour it starts out)."""
    last = hour_of(last_minute_of_window(end_ms))
    wanted = [last - HOUR * i for i in range(hours - 1, -1, -1)]
    spans = {w: window_spans(end_ms, w) for w in windows}
    starts = sorted(set(wanted) | {s.hour_s for w in windows for s in spans[w]})
    index = {hour: i + 1 for i, hour in enumerate(starts)}
    flat = [
        (w_index, index[span.hour_s], span.first, span.last)
        for w_index, w in enumerate(windows, start=1)
        for span in spans[w]
    ]
    return _Plan(starts, wanted, list(windows), flat)


def _parse(values: list[int], plan: _Plan) -> Rollup:
    by_hour = {hour: Stats(*values[i * 6 : i * 6 + 6]) for i, hour in enumerate(plan.hour_starts)}
    base = len(plan.hour_starts) * 6
    windows = {
        w: Stats(*values[base + i * 6 : base + i * 6 + 6]) for i, w in enumerate(plan.windows)
    }
    return Rollup(windows, [(h, by_hour[h]) for h in plan.wanted_hours])


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def rollups(
    client: redis.Redis,
    keys: Keys,
    entities: list[str],
    windows: list[int],
    hours: int,
    end_ms: int,
    chunk: int = CHUNK,
) -> dict[str, Rollup]:
    """Windows (seconds, ending at ``end_ms``) and the last ``hours`` hour totals of each
    entity, in one round trip. Where scripts are not allowed (a read-only ACL without
    ``@scripting``) the same sums are computed client-side, slower."""
    if not entities:
        return {}
    plan = _plan(end_ms, windows, hours)
    try:
        rows = _scripted(client, keys, entities, plan, chunk)
    except redis.ResponseError as exc:  # NOPERM, unknown command, scripting disabled
        global _WARNED
        if not _WARNED:
            log.warning("server-side roll-up refused (%s); summing client-side", exc)
            _WARNED = True
        rows = _client_side(client, keys, entities, plan)
    return {e: _parse(values, plan) for e, values in zip(entities, rows, strict=True)}


_WARNED = False


def _scripted(
    client: redis.Redis, keys: Keys, entities: list[str], plan: _Plan, chunk: int
) -> list[list[int]]:
    spans = len(plan.spans)
    if spans > MAX_ROLLUP_SPANS:
        raise ScriptBoundError(
            f"the roll-up script would exceed its bound on window spans: {spans:,} > "
            f"{MAX_ROLLUP_SPANS:,} (nothing was sent to Redis); ask for fewer or shorter windows"
        )
    chunk = max(1, min(chunk, MAX_ROLLUP_KEYS // max(len(plan.hour_starts), 1)))
    script = client.register_script(_SCRIPT)
    pipe = client.pipeline(transaction=False)
    for group in _chunks(entities, chunk):
        group_keys = [keys.hour(e, h) for e in group for h in plan.hour_starts]
        script(keys=group_keys, args=plan.argv, client=pipe)
    lines: list[Any] = [line for reply in pipe.execute() for line in reply]
    return [[int(v) for v in _str(line).split(",")] for line in lines]


def _client_side(
    client: redis.Redis, keys: Keys, entities: list[str], plan: _Plan
) -> list[list[int]]:
    """What the script computes, with plain reads (HGETALL for partly covered hours)."""
    partial = plan.partial_hours()
    pipe = client.pipeline(transaction=False)
    for entity in entities:
        for index, hour in enumerate(plan.hour_starts, start=1):
            key = keys.hour(entity, hour)
            if index in partial:
                pipe.hgetall(key)
            else:
                pipe.hmget(key, list(_STAT))
    replies = iter(pipe.execute())
    return [_sum_entity([next(replies) for _ in plan.hour_starts], plan) for _ in entities]


_STAT = STAT_FIELDS


def _sum_entity(replies: list[Any], plan: _Plan) -> list[int]:
    totals: list[list[int]] = []
    sums = [[0] * 6 for _ in plan.windows]
    for index, reply in enumerate(replies, start=1):
        if isinstance(reply, dict):
            fields = {_str(k): int(v) for k, v in reply.items()}
            hour_totals = [fields.get(name, 0) for name in _STAT]
            for w, h, first, last in plan.spans:
                if h == index and (first, last) != (0, 59):
                    for m in range(first, last + 1):
                        for j, name in enumerate(_STAT):
                            sums[w - 1][j] += fields.get(minute_field(m, name), 0)
        else:
            hour_totals = [int(v) if v is not None else 0 for v in reply]
        totals.append(hour_totals)
    for w, h, first, last in plan.spans:
        if (first, last) == (0, 59):
            sums[w - 1] = [a + b for a, b in zip(sums[w - 1], totals[h - 1], strict=True)]
    return [v for hour in totals for v in hour] + [v for window in sums for v in window]


def _str(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
