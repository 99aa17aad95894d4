"""Server-side roll-ups: windows and hour totals of many entities, summed inside Redis.

Reading a 1-hour window of 500 tickers with ``HMGET`` moves 180,000 minute fields to the
client and parsing them dominates (seconds, in pure Python). This read-only Lua script
sums the minute fields in Redis and returns one short comma-separated line per entity,
so a full dashboard refresh stays well under a second. Entities are sent in chunks, each
its own short script call (other clients interleave between them), all in one pipeline.

Entities named in ``stories`` also get their story fields summed (``sentimon.keys.
STORY_FIELDS``: stories begun, negative stories, story-level score sum), in the same
pipeline, so the dashboard's stories per hour cost no extra round trip; the others (such
as relevance levels, which keep no story fields) read only the stats.

Every key the script reads is passed in ``KEYS`` (one namespace: one cluster hash slot).
Numbers stay exact: Lua doubles hold integers up to 2**53, far above any window's sum.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import redis

from sentimon.errors import ScriptBoundError
from sentimon.keys import STAT_FIELDS, STORY_FIELDS, Keys, minute_field, script_source
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
    ``(hour start s, stats)`` oldest first. ``stories`` (entities asked for with their
    stories, else empty) maps window seconds to the stories begun there, as
    ``Query.story_windows`` gives them (``count``, ``negative``, ``s_micro``)."""

    windows: dict[int, Stats]
    hours: list[tuple[int, Stats]]
    stories: dict[int, Stats] = field(default_factory=dict)


@dataclass(frozen=True)
class _Plan:
    hour_starts: list[int]  # every hour key read per entity, oldest first
    wanted_hours: list[int]  # the hours the caller asked totals for
    windows: list[int]
    spans: list[tuple[int, int, int, int]]  # (window index, hour index, first, last), 1-based
    fields: tuple[str, ...] = STAT_FIELDS  # summed per hour and window: stats (+ stories)

    @property
    def argv(self) -> list[int | str]:
        extra = self.fields[len(STAT_FIELDS) :]  # named in ARGV: the layout lives in keys
        head: list[int | str] = [len(self.hour_starts), len(self.windows), len(extra), *extra]
        return head + [v for sp in self.spans for v in sp]

    def with_stories(self) -> _Plan:
        """The same plan, summing the story fields after the stats."""
        return replace(self, fields=STAT_FIELDS + STORY_FIELDS)

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
    width = len(plan.fields)
    by_hour = {
        hour: Stats(*values[i * width : i * width + 6]) for i, hour in enumerate(plan.hour_starts)
    }
    base = len(plan.hour_starts) * width
    sums = [values[base + i * width : base + (i + 1) * width] for i in range(len(plan.windows))]
    windows = {w: Stats(*sums[i][:6]) for i, w in enumerate(plan.windows)}
    stories = {w: _story(sums[i][6:]) for i, w in enumerate(plan.windows) if width > 6}
    return Rollup(windows, [(h, by_hour[h]) for h in plan.wanted_hours], stories)


def _story(values: list[int]) -> Stats:
    """Story fields (``STORY_FIELDS`` order) as ``Query.story_windows`` reports them."""
    count, negative, s_micro = values
    return Stats(count=count, negative=negative, s_micro=s_micro)


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
    stories: Collection[str] = (),
) -> dict[str, Rollup]:
    """Windows (seconds, ending at ``end_ms``) and the last ``hours`` hour totals of each
    entity, in one round trip; the entities also in ``stories`` get their windows' stories
    too (``Rollup.stories``). Where scripts are not allowed (a read-only ACL without
    ``@scripting``) the same sums are computed client-side, slower."""
    if not entities:
        return {}
    plain = _plan(end_ms, windows, hours)
    wanted = set(stories)
    groups = [
        (plain, [e for e in entities if e not in wanted]),
        (plain.with_stories(), [e for e in entities if e in wanted]),
    ]
    groups = [(plan, members) for plan, members in groups if members]
    try:
        rows = _scripted(client, keys, groups, chunk)
    except redis.ResponseError as exc:  # NOPERM, unknown command, scripting disabled
        global _WARNED
        if not _WARNED:
            log.warning("server-side roll-up refused (%s); summing client-side", exc)
            _WARNED = True
        rows = _client_side(client, keys, groups)
    parsed = {
        e: _parse(values, plan)
        for (plan, members), group_rows in zip(groups, rows, strict=True)
        for e, values in zip(members, group_rows, strict=True)
    }
    return {e: parsed[e] for e in entities}


_WARNED = False


#: Each group: a plan (which fields it sums) and the entities read with it, in order.
_Groups = list[tuple[_Plan, list[str]]]


def _scripted(
    client: redis.Redis, keys: Keys, groups: _Groups, chunk: int
) -> list[list[list[int]]]:
    """Each group's rows (one per entity), from script calls all sent in one pipeline."""
    spans = len(groups[0][0].spans)
    if spans > MAX_ROLLUP_SPANS:
        raise ScriptBoundError(
            f"the roll-up script would exceed its bound on window spans: {spans:,} > "
            f"{MAX_ROLLUP_SPANS:,} (nothing was sent to Redis); ask for fewer or shorter windows"
        )
    script = client.register_script(_SCRIPT)
    pipe = client.pipeline(transaction=False)
    calls = []  # the group of each script call
    for index, (plan, entities) in enumerate(groups):
        size = max(1, min(chunk, MAX_ROLLUP_KEYS // max(len(plan.hour_starts), 1)))
        for part in _chunks(entities, size):
            part_keys = [keys.hour(e, h) for e in part for h in plan.hour_starts]
            script(keys=part_keys, args=plan.argv, client=pipe)
            calls.append(index)
    rows: list[list[list[int]]] = [[] for _ in groups]
    for index, reply in zip(calls, pipe.execute(), strict=True):
        rows[index].extend([int(v) for v in _str(line).split(",")] for line in reply)
    return rows


def _client_side(client: redis.Redis, keys: Keys, groups: _Groups) -> list[list[list[int]]]:
    """What the script computes, with plain reads (HGETALL for partly covered hours)."""
    pipe = client.pipeline(transaction=False)
    for plan, entities in groups:
        partial = plan.partial_hours()
        for entity in entities:
            for index, hour in enumerate(plan.hour_starts, start=1):
                key = keys.hour(entity, hour)
                if index in partial:
                    pipe.hgetall(key)
                else:
                    pipe.hmget(key, list(plan.fields))
    replies = iter(pipe.execute())
    return [
        [_sum_entity([next(replies) for _ in plan.hour_starts], plan) for _ in entities]
        for plan, entities in groups
    ]


_STAT = STAT_FIELDS


def _sum_entity(replies: list[Any], plan: _Plan) -> list[int]:
    """One entity's reply line, as the script builds it, from its hour keys' replies."""
    names = plan.fields
    totals: list[list[int]] = []
    sums = [[0] * len(names) for _ in plan.windows]
    for index, reply in enumerate(replies, start=1):
        if isinstance(reply, dict):
            fields = {_str(k): int(v) for k, v in reply.items()}
            hour_totals = [fields.get(name, 0) for name in names]
            for w, h, first, last in plan.spans:
                if h == index and (first, last) != (0, 59):
                    for m in range(first, last + 1):
                        for j, name in enumerate(names):
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
