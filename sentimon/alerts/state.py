"""Alert state in Redis: what the hook reads before a batch's write, and how it is encoded.

Per (rule, entity) one field ``<rule>|<entity>`` of the hash ``Keys.alert_state`` holds the
JSON lifecycle of that pair's alert. The hook reads the records of the pairs a batch
touches and writes changed ones back inside the batch's atomic write, guarded by the value
it read (optimistic concurrency: if another writer changed the record meanwhile, the write
aborts and the batch is re-evaluated). A seasonal rule's record also carries the pair's
time-of-day profile (``PROFILE_KEY``, ``sentimon.alerts.seasonal``). Baselines come from exact per-window sums
(``Keys.alert_window``), which the hook increments in the same write; increments commute,
so they need no guard.

All reads of a batch are one read-only script (one round trip, atomic like any script):
the records, the open alerts, the silences, and the window sums the evaluation needs
(aggregate minutes, of relevance levels too; the story fields of the minutes for rules
that count stories; per-window baseline sums), summed inside Redis.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import redis

from sentimon.alerts.lifecycle import AlertState
from sentimon.alerts.seasonal import SlotProfile
from sentimon.alerts.silences import Silence
from sentimon.errors import ScriptBoundError, SinkError
from sentimon.keys import (
    ALERT_WINDOW_BLOCK,
    ALERT_WINDOW_FIELDS,
    NEG,
    RECENT_POST,
    SS,
    STORY_FIELDS,
    Keys,
    N,
    S,
    script_source,
)
from sentimon.windows import HOUR, MINUTE, Stats, hour_of

log = logging.getLogger(__name__)


def pair_field(rule: str, entity: str) -> str:
    return f"{rule}|{entity}"


def split_field(name: str) -> tuple[str, str]:
    rule, _, entity = name.partition("|")
    return rule, entity


#: Key of a seasonal rule's profile in its pair's record (records without one load as
#: an empty profile; other rules never write it).
PROFILE_KEY = "season"


def decode_record(raw: str | None) -> AlertState:
    return AlertState.from_dict(json.loads(raw)) if raw else AlertState()


def decode_profile(raw: str | None) -> SlotProfile:
    """The seasonal profile kept in a pair's record (empty if none)."""
    return SlotProfile.from_dict(json.loads(raw).get(PROFILE_KEY)) if raw else SlotProfile()


def encode_record(alert: AlertState, profile: SlotProfile | None = None) -> str:
    data = alert.as_dict()
    if profile is not None and profile.folded is not None:
        data[PROFILE_KEY] = profile.as_dict()
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


#: What the alert read sums over a range of minutes: what rules measure (volume, negative
#: share, score mean and spread). The positive and neutral counts are not read, so the
#: window ``Stats`` the hook evaluates carry 0 there: fewer fields per minute keep the
#: read script cheap.
RANGE_FIELDS = (N, NEG, S, SS)
#: What it sums over a story range (a rule with ``count = "stories"``): the stories begun,
#: the negative ones, their score sum (``sentimon.keys.STORY_FIELDS``, in that order).
STORY_RANGE_FIELDS = STORY_FIELDS

#: Tumbling windows per baseline-sums hash (a baseline reads at most two of them), and
#: the sums each window has there (the layout's, ``sentimon.keys``).
WINDOW_BLOCK = ALERT_WINDOW_BLOCK
WINDOW_FIELDS = ALERT_WINDOW_FIELDS

#: Records read per HMGET (Lua's ``unpack`` fails beyond about 8,000 values).
UNPACK_CHUNK = 1_000

#: Bounds on the read script's loops (see its header), checked before each call: a batch
#: over one raises ``ScriptBoundError`` instead of blocking Redis. None depends on how far
#: apart a batch's event times are. The most a default write can need (64 posts x 4
#: coalesced, 20 companies a post in 11 sectors, none of which another post names, each
#: post in its own hour, every company relevant enough for the shipped rules, whose
#: sentiment rules then read its 0.2 relevance level too and whose volume and share rules
#: its stories): about 2,200,000 fields, 44,000 spans and 415,000 minutes.
#: Fields its HMGETs name in total (records, hour totals, minute unions, window sums).
MAX_READ_FIELDS = 3_500_000
#: (range, hour) spans over all ranges: the two loops over the ranges' spans.
MAX_READ_SPANS = 250_000
#: Minutes summed one by one (those of the hours a range covers in part), 3 or 4 fields
#: each (stories, posts).
MAX_READ_MINUTES = 650_000


@dataclass(frozen=True)
class MinuteRange:
    """Minutes ``first..last`` (epoch s of the minute starts, inclusive) of ``entity``;
    ``stories``: of its story fields (stories begun) rather than its post counts."""

    entity: str
    first: int
    last: int
    stories: bool = False

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
class AlertSnapshot:
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
    ) -> tuple[AlertSnapshot, Reads]:
        """In one round trip: the records of ``fields``, the open alerts, the silences, and
        the window stats and baseline sums, as one consistent snapshot (a script: no batch
        write can land in between)."""
        keys = [self.keys.alert_state, self.keys.alert_open, self.keys.alert_silences]
        spec = self._spec(fields, ranges, requests)
        try:
            records, opened, silences, sums, windows, story_sums = self._read_script(
                keys=keys, args=[json.dumps(spec, separators=(",", ":"))]
            )
        except redis.RedisError as exc:
            raise SinkError(
                f"reading alert state from Redis failed (batch retried): {exc}"
            ) from exc
        snapshot = AlertSnapshot(
            records=dict(zip(fields, records, strict=False)),
            open={k: json.loads(v) for k, v in _pairs(opened)},
            silences=_silences(dict(_pairs(silences))),
        )
        return snapshot, _parse_reads([sums, windows, story_sums], ranges, requests)

    def _spec(
        self, fields: list[str], ranges: list[MinuteRange], requests: list[WindowRequest]
    ) -> dict[str, Any]:
        """The script's argument, checked against the bounds (first what building it
        would cost, then its exact counts)."""
        _check("hour spans", sum(_hour_count(r.first, r.last) for r in ranges), MAX_READ_SPANS)
        windows = sum(req.last - req.first + 1 for req in requests)
        _check("fields read", len(fields) + len(WINDOW_FIELDS) * windows, MAX_READ_FIELDS)
        spec: dict[str, list[Any]] = {"fields": fields, "ranges": [], "stories": [], "windows": []}
        for r in ranges:
            spans = _hour_spans(r.first, r.last)
            spec["stories" if r.stories else "ranges"].append(
                [[self.keys.hour(r.entity, h), lo, hi] for h, lo, hi in spans]
            )
        for req in requests:
            blocks = range(req.first // WINDOW_BLOCK, req.last // WINDOW_BLOCK + 1)
            spec["windows"].append([
                [self.keys.alert_window(req.entity, req.window_s, block),
                 max(req.first, block * WINDOW_BLOCK),
                 min(req.last, block * WINDOW_BLOCK + WINDOW_BLOCK - 1)]
                for block in blocks
            ])  # fmt: skip
        check_read_bounds(spec)
        return spec

    def recent_posts(self, entity: str, limit: int) -> list[dict[str, Any]]:
        try:
            entries = self.client.xrevrange(self.keys.recent(entity), count=limit)
        except redis.RedisError as exc:
            raise SinkError(f"reading recent posts for an alert failed: {exc}") from exc
        return [json.loads(fields[RECENT_POST]) for _, fields in entries]


#: The read script (sentimon/scripts/alert_read.lua; its header: KEYS/ARGV, what it returns,
#: and its loops, bounded by ``check_read_bounds``), reading ``RANGE_FIELDS`` (and
#: ``STORY_RANGE_FIELDS`` over story ranges) and records in chunks of ``UNPACK_CHUNK``.
_READ_SCRIPT = script_source(
    "alert_read",
    RANGE_FIELDS=RANGE_FIELDS,
    STORY_RANGE_FIELDS=STORY_RANGE_FIELDS,
    UNPACK_CHUNK=UNPACK_CHUNK,
)


@dataclass(frozen=True)
class ReadWork:
    """What one read script call does, counted as its header states its bounds."""

    fields: int
    spans: int
    minutes: int


def read_work(spec: dict[str, Any]) -> ReadWork:
    """The counts of ``spec`` as the script runs it: per kind of range (posts, stories),
    each hour read once for its totals and once for the union of the minutes ranges cut
    out of it."""
    fields = len(spec["fields"])
    spans = minutes = 0
    for kind, width in (("ranges", len(RANGE_FIELDS)), ("stories", len(STORY_RANGE_FIELDS))):
        totals: set[str] = set()
        union: dict[str, tuple[int, int]] = {}
        for range_spans in spec.get(kind, ()):
            spans += len(range_spans)
            for key, lo, hi in range_spans:
                if lo == 0 and hi == 59:
                    totals.add(key)
                    continue
                minutes += hi - lo + 1
                u_lo, u_hi = union.get(key, (lo, hi))
                union[key] = (min(u_lo, lo), max(u_hi, hi))
        fields += width * (len(totals) + sum(hi - lo + 1 for lo, hi in union.values()))
    for blocks in spec["windows"]:
        fields += len(WINDOW_FIELDS) * sum(last - first + 1 for _, first, last in blocks)
    return ReadWork(fields, spans, minutes)


def check_read_bounds(spec: dict[str, Any]) -> ReadWork:
    """``read_work(spec)``, or ``ScriptBoundError`` if it exceeds a bound."""
    work = read_work(spec)
    _check("fields read", work.fields, MAX_READ_FIELDS)
    _check("hour spans", work.spans, MAX_READ_SPANS)
    _check("minutes summed", work.minutes, MAX_READ_MINUTES)
    return work


def _check(bound: str, count: int, limit: int) -> None:
    if count > limit:
        raise ScriptBoundError.over(
            "alert read", bound, count, limit, also=", or shorten the alert rules' windows"
        )


def _parse_reads(
    reply: list[Any], ranges: list[MinuteRange], requests: list[WindowRequest]
) -> Reads:
    sums, windows, story_sums = reply
    posts = iter(
        Stats(count=int(n), negative=int(neg), s_micro=int(s), ss_micro=int(ss))
        for n, neg, s, ss in zip(*[iter(sums)] * len(RANGE_FIELDS), strict=True)
    )
    stories = iter(
        Stats(count=int(st), negative=int(neg), s_micro=int(s))
        for st, neg, s in zip(*[iter(story_sums)] * len(STORY_RANGE_FIELDS), strict=True)
    )
    stats = [next(stories if r.stories else posts) for r in ranges]
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


def _hour_count(first: int, last: int) -> int:
    """How many hours ``_hour_spans(first, last)`` returns."""
    start = hour_of(first)
    return (last - start) // HOUR + 1 if start <= last else 0


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
