"""Alert state in Redis: what the hook reads before a batch's write, and how it is encoded.

Per (rule, entity) one field ``<rule>|<entity>`` of the hash ``Keys.alert_state`` holds the
JSON lifecycle of that pair's alert. The hook reads the records of the pairs a batch
touches and writes changed ones back inside the batch's atomic write, guarded by the value
it read (optimistic concurrency: if another writer changed the record meanwhile, the write
aborts and the batch is re-evaluated). Baselines come from exact per-window sums
(``Keys.alert_window``), which the hook increments in the same write; increments commute,
so they need no guard.

All reads of a batch are one read-only script (one round trip, atomic like any script):
the records, the open alerts, the silences, and the window sums the evaluation needs
(aggregate minutes and per-window baseline sums), summed inside Redis.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import redis

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


def decode_record(raw: str | None) -> AlertState:
    return AlertState.from_dict(json.loads(raw)) if raw else AlertState()


def encode_record(alert: AlertState) -> str:
    return json.dumps(alert.as_dict(), sort_keys=True, separators=(",", ":"))


#: Tumbling windows per baseline-sums hash (a baseline reads at most two of them).
WINDOW_BLOCK = 32
WINDOW_FIELDS = ("n", "s", "ss")


@dataclass(frozen=True)
class MinuteRange:
    """Minutes ``first..last`` (epoch s of the minute starts, inclusive) of ``entity``."""

    entity: str
    first: int
    last: int

    def contains(self, minute_s: int) -> bool:
        return self.first <= minute_s <= self.last


@dataclass(frozen=True)
class WindowRequest:
    """Baseline sums of tumbling windows ``first..last`` of (entity, window length)."""

    entity: str
    window_s: int
    first: int
    last: int


@dataclass
class Reads:
    """Per ``MinuteRange`` its stats; per ``WindowRequest`` its non-empty windows' sums."""

    ranges: list[MinuteRange] = field(default_factory=list)
    windows: list[Stats] = field(default_factory=list)
    requests: list[WindowRequest] = field(default_factory=list)
    sums: list[dict[int, Stats]] = field(default_factory=list)


@dataclass
class Snapshot:
    records: dict[str, str | None] = field(default_factory=dict)
    open: dict[str, dict[str, Any]] = field(default_factory=dict)
    silences: list[Silence] = field(default_factory=list)


class AlertStore:
    """Reads of one namespace's alert state and aggregates."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.client: Any = client
        self.keys = keys
        self._read_script = client.register_script(_READ_SCRIPT)

    def fetch(
        self, fields: list[str], ranges: list[MinuteRange], requests: list[WindowRequest]
    ) -> tuple[Snapshot, Reads]:
        """In one round trip: the records of ``fields``, the open alerts, the silences, and
        the window stats and baseline sums, as one consistent snapshot (a script: no batch
        write can land in between)."""
        keys = [self.keys.alert_state, self.keys.alert_open, self.keys.alert_silences]
        spec = self._spec(fields, ranges, requests)
        try:
            records, opened, silences, sums, windows = self._read_script(
                keys=keys, args=[json.dumps(spec, separators=(",", ":"))]
            )
        except redis.RedisError as exc:
            raise SinkError(
                f"reading alert state from Redis failed (batch retried): {exc}"
            ) from exc
        snapshot = Snapshot(
            records=dict(zip(fields, records, strict=False)),
            open={k: json.loads(v) for k, v in _pairs(opened)},
            silences=_silences(dict(_pairs(silences))),
        )
        return snapshot, _parse_reads([sums, windows], ranges, requests)

    def _spec(
        self, fields: list[str], ranges: list[MinuteRange], requests: list[WindowRequest]
    ) -> dict[str, Any]:
        spec: dict[str, list[Any]] = {"fields": fields, "ranges": [], "windows": []}
        for r in ranges:
            spans = _hour_spans(r.first, r.last)
            spec["ranges"].append([[self.keys.hour(r.entity, h), lo, hi] for h, lo, hi in spans])
        for req in requests:
            blocks = range(req.first // WINDOW_BLOCK, req.last // WINDOW_BLOCK + 1)
            spec["windows"].append([
                [self.keys.alert_window(req.entity, req.window_s, block),
                 max(req.first, block * WINDOW_BLOCK),
                 min(req.last, block * WINDOW_BLOCK + WINDOW_BLOCK - 1)]
                for block in blocks
            ])  # fmt: skip
        return spec

    def recent_posts(self, entity: str, limit: int) -> list[dict[str, Any]]:
        try:
            entries = self.client.xrevrange(self.keys.recent(entity), count=limit)
        except redis.RedisError as exc:
            raise SinkError(f"reading recent posts for an alert failed: {exc}") from exc
        return [json.loads(fields["p"]) for _, fields in entries]


#: Read-only. KEYS: the lifecycle records hash, the open-alert index, the silences.
#: Returns the records of ARGV's ``fields`` (nil where absent), the open index and the
#: silences (flat field/value lists), then the window reads: it sums the aggregate fields ``n pos neu neg s ss`` over each range of minutes
#: (an hour's totals when a span covers the whole hour; an hour that several ranges cut
#: into is read once with HGETALL), and returns the non-empty windows of each
#: baseline-sums request as flat ``index n s ss`` quadruples.
#: ARGV[1]: {"ranges": [[[hour key, first, last], ...], ...],
#:           "windows": [[[sums key, first index, last index], ...], ...]}
_READ_SCRIPT = """
local spec = cjson.decode(ARGV[1])
local records = {}
if #spec.fields > 0 then records = redis.call('HMGET', KEYS[1], unpack(spec.fields)) end
local opened = redis.call('HGETALL', KEYS[2])
local silences = redis.call('HGETALL', KEYS[3])
local names = {'n', 'pos', 'neu', 'neg', 's', 'ss'}
local slot = {n = 1, pos = 2, neu = 3, neg = 4, s = 5, ss = 6}
local partial = {}
for _, spans in ipairs(spec.ranges) do
  for _, span in ipairs(spans) do
    if not (span[2] == 0 and span[3] == 59) then partial[span[1]] = (partial[span[1]] or 0) + 1 end
  end
end
local hours = {}
local function whole_hour(key)
  local flat = redis.call('HGETALL', key)
  local hour = {minutes = {}, totals = {0, 0, 0, 0, 0, 0}}
  for i = 1, #flat, 2 do
    local f, v = flat[i], tonumber(flat[i + 1])
    local colon = string.find(f, ':', 1, true)
    if colon then
      local m = tonumber(string.sub(f, 1, colon - 1))
      local row = hour.minutes[m]
      if not row then row = {0, 0, 0, 0, 0, 0}; hour.minutes[m] = row end
      local k = slot[string.sub(f, colon + 1)]
      if k then row[k] = v end
    elseif slot[f] then
      hour.totals[slot[f]] = v
    end
  end
  hours[key] = hour
  return hour
end
local function add_values(total, values)
  for j, v in ipairs(values) do
    if v then
      local k = (j - 1) % 6 + 1
      total[k] = total[k] + tonumber(v)
    end
  end
end
-- Field-name lists ``<i>:<suffix>`` for i = first..last, built once per script call: the
-- ranges of one batch mostly share their minutes (and the baseline requests their window
-- indexes) across entities.
local window_names = {'n', 's', 'ss'}
local built = {}
local function field_names(first, last, suffixes)
  local id = #suffixes .. ':' .. first .. ':' .. last
  local fields = built[id]
  if not fields then
    fields = {}
    for i = first, last do
      for _, f in ipairs(suffixes) do fields[#fields + 1] = i .. ':' .. f end
    end
    built[id] = fields
  end
  return fields
end
local sums = {}
for _, spans in ipairs(spec.ranges) do
  local total = {0, 0, 0, 0, 0, 0}
  for _, span in ipairs(spans) do
    local key, lo, hi = span[1], span[2], span[3]
    local hour = hours[key]
    if not hour and (partial[key] or 0) > 1 then hour = whole_hour(key) end
    if hour and lo == 0 and hi == 59 then
      for k = 1, 6 do total[k] = total[k] + hour.totals[k] end
    elseif hour then
      for m = lo, hi do
        local row = hour.minutes[m]
        if row then for k = 1, 6 do total[k] = total[k] + row[k] end end
      end
    elseif lo == 0 and hi == 59 then
      add_values(total, redis.call('HMGET', key, unpack(names)))
    else
      add_values(total, redis.call('HMGET', key, unpack(field_names(lo, hi, names))))
    end
  end
  for k = 1, 6 do sums[#sums + 1] = total[k] end
end
local windows = {}
for _, blocks in ipairs(spec.windows) do
  local found = {}
  for _, block in ipairs(blocks) do
    local fields = field_names(block[2], block[3], window_names)
    local values = redis.call('HMGET', block[1], unpack(fields))
    for k = 0, block[3] - block[2] do
      local n = values[3 * k + 1]
      if n and tonumber(n) > 0 then
        found[#found + 1] = block[2] + k
        found[#found + 1] = tonumber(n)
        found[#found + 1] = tonumber(values[3 * k + 2] or 0)
        found[#found + 1] = tonumber(values[3 * k + 3] or 0)
      end
    end
  end
  windows[#windows + 1] = found
end
return {records, opened, silences, sums, windows}
"""


def _parse_reads(
    reply: list[Any], ranges: list[MinuteRange], requests: list[WindowRequest]
) -> Reads:
    sums, windows = reply
    width = len(STAT_FIELDS)
    stats = [Stats.from_values(sums[i * width : (i + 1) * width]) for i in range(len(ranges))]
    found = [
        {int(i): Stats(count=int(n), s_micro=int(s), ss_micro=int(ss))
         for i, n, s, ss in (flat[k : k + 4] for k in range(0, len(flat), 4))}
        for flat in windows
    ]  # fmt: skip
    return Reads(ranges, stats, requests, found)


def _pairs(flat: list[Any]) -> list[tuple[Any, Any]]:
    return list(zip(flat[::2], flat[1::2], strict=True))


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
