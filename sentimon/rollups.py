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

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis

from sentimon.keys import Keys
from sentimon.windows import HOUR, Stats, hour_of, minute_of, window_spans

CHUNK = 100

# KEYS: the namespace's meta hash, then H hour keys per entity. ARGV: H, the number of
# windows W, the window end's epoch minute, then per span (window, hour index, first minute,
# last minute, 1 if the span ends at the window end's minute). Reply per entity: the 6
# totals of each of the H hours, then the 6 sums of each window, comma-separated.
#
# A span is summed from whichever is fewer minutes: its own, or the hour's totals minus the
# minutes outside it. Minutes after the watermark's minute hold nothing (the watermark is
# the newest event time, read in the same atomic script), so a window ending at the
# watermark takes the current hour's totals as they are.
_SCRIPT = """
local H, W, endmin = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local wm = redis.call('HGET', KEYS[1], 'watermark_ms')
local quiet_after = wm and math.floor(tonumber(wm) / 60000) == endmin
local F = {'n', 'pos', 'neu', 'neg', 's', 'ss'}
local function fields(out, first, last)
  for m = first, last do
    for j = 1, 6 do out[#out + 1] = m .. ':' .. F[j] end
  end
  return out
end
local spans = {}
for i = 4, #ARGV, 5 do
  local w, h, first, last = tonumber(ARGV[i]), tonumber(ARGV[i + 1]),
                            tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  local after = 59 - last
  if quiet_after and ARGV[i + 4] == '1' then after = 0 end
  local sp = {w = w, h = h, sign = 1}
  if first + after < last - first + 1 then
    sp.sign = -1
    sp.fields = fields(fields({}, 0, first - 1), last + 1, last + after)
  else
    sp.fields = fields({}, first, last)
  end
  spans[#spans + 1] = sp
end
local out = {}
for e = 0, (#KEYS - 1) / H - 1 do
  local base = 1 + e * H
  local parts = {}
  for h = 1, H do
    local v = redis.call('HMGET', KEYS[base + h], 'n', 'pos', 'neu', 'neg', 's', 'ss')
    for j = 1, 6 do parts[#parts + 1] = v[j] or '0' end
  end
  local sums = {}
  for w = 1, W do sums[w] = {0, 0, 0, 0, 0, 0} end
  for _, sp in ipairs(spans) do
    local acc = sums[sp.w]
    if sp.sign < 0 then
      for j = 1, 6 do acc[j] = acc[j] + tonumber(parts[(sp.h - 1) * 6 + j]) end
    end
    if #sp.fields > 0 then
      local v = redis.call('HMGET', KEYS[base + sp.h], unpack(sp.fields))
      for i = 1, #v do
        if v[i] then
          local j = (i - 1) % 6 + 1
          acc[j] = acc[j] + sp.sign * tonumber(v[i])
        end
      end
    end
  end
  for w = 1, W do
    for j = 1, 6 do parts[#parts + 1] = string.format('%d', sums[w][j]) end
  end
  out[#out + 1] = table.concat(parts, ',')
end
return out
"""


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
    argv: list[int]


def _plan(end_ms: int, windows: list[int], hours: int) -> _Plan:
    last = hour_of(minute_of(end_ms))
    wanted = [last - HOUR * i for i in range(hours - 1, -1, -1)]
    spans = {w: window_spans(end_ms, w) for w in windows}
    starts = sorted(set(wanted) | {s.hour_s for w in windows for s in spans[w]})
    index = {hour: i + 1 for i, hour in enumerate(starts)}
    end_minute = minute_of(end_ms)
    argv = [len(starts), len(windows), end_minute // 60]
    for w_index, w in enumerate(windows, start=1):
        for span in spans[w]:
            at_end = span.hour_s + span.last * 60 == end_minute
            argv += [w_index, index[span.hour_s], span.first, span.last, int(at_end)]
    return _Plan(starts, wanted, list(windows), argv)


def _parse(line: str, plan: _Plan) -> Rollup:
    values = [int(v) for v in line.split(",")]
    by_hour = {
        hour: Stats(*values[i * 6 : i * 6 + 6]) for i, hour in enumerate(plan.hour_starts)
    }
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
    entity, in one round trip."""
    if not entities:
        return {}
    plan = _plan(end_ms, windows, hours)
    script = client.register_script(_SCRIPT)
    pipe = client.pipeline(transaction=False)
    for group in _chunks(entities, chunk):
        group_keys = [keys.meta, *(keys.hour(e, h) for e in group for h in plan.hour_starts)]
        script(keys=group_keys, args=plan.argv, client=pipe)
    lines: list[Any] = [line for reply in pipe.execute() for line in reply]
    return {e: _parse(_str(line), plan) for e, line in zip(entities, lines, strict=True)}


def _str(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
