"""What the alert hook evaluates and reads, per (rule, entity) pair (pure).

A pair's current window is a ``MinuteRange`` of the entity (its story fields when the
rule counts stories), minus the same minutes of the relevance levels the rule leaves out;
its baseline reads the tumbling windows before each tick's window from the rule's series
(``Rule.series``). The batch's own deltas of those series (``window_deltas``) are both
written (``HINCRBY``) and added to what was read, since the read precedes the write.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass

from sentimon.aggregate import AggregateUpdate
from sentimon.alerts.baseline import window_index
from sentimon.alerts.rules import Rule, RuleSet, series_name, story_series
from sentimon.alerts.state import MinuteRange, WindowRequest
from sentimon.alerts.sweep import Tick
from sentimon.keys import is_relevance_entity, relevance_entity
from sentimon.windows import Stats

#: (series, window length, window index) -> sums of one batch
Deltas = dict[tuple[str, int, int], Stats]


@dataclass
class Pair:
    """One rule on one entity: its lifecycle record (``key``, ``raw`` as read) and the
    ticks it is evaluated at."""

    rule: Rule
    entity: str
    key: str
    raw: str | None
    ticks: list[Tick]

    @property
    def excluded(self) -> tuple[float, ...]:
        """The entity's relevance levels the rule leaves out."""
        return self.rule.excluded_levels(self.entity)

    @property
    def series(self) -> str:
        """Where the rule's baseline sums of the entity are kept."""
        return self.rule.series(self.entity)


def window_range(pair: Pair, tick: Tick) -> MinuteRange:
    """The rule's sliding window ending at the tick's minute (of the entity's posts)."""
    return MinuteRange(pair.entity, tick.minute_s - pair.rule.window_s + 60, tick.minute_s)


def ranges_of(pair: Pair, tick: Tick) -> list[MinuteRange]:
    """What the window reads: its story range when the rule counts stories; else its
    range, then the same minutes of each relevance level left out."""
    main = window_range(pair, tick)
    if pair.rule.counts_stories:
        return [MinuteRange(pair.entity, main.first, main.last, stories=True)]
    return [main] + [
        MinuteRange(relevance_entity(pair.entity, level), main.first, main.last)
        for level in pair.excluded
    ]


def counted(pair: Pair, tick: Tick, windows: dict[MinuteRange, Stats]) -> Stats:
    """The window's stats over what the rule counts: the entity's minus those of the
    levels it leaves out (its stories: nothing left out)."""
    main, *levels = ranges_of(pair, tick)
    out = windows[main]
    for r in levels:
        out = out - windows[r]
    return out


def window_requests(pairs: list[Pair]) -> list[WindowRequest]:
    """Per (baseline series, window length), the windows the ticks' baselines read: for a
    tick in window ``i``, windows ``i - history .. i - 1``. Their union, as disjoint
    requests, so the read grows with ticks x history, never with the time between the
    batch's oldest and newest post (two posts a century apart: two small ones)."""
    needed: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
    for p in pairs:
        if not p.rule.uses_baseline:
            continue
        w = p.rule.window_s
        for tick in p.ticks:
            index = window_index(tick.ts_ms, w)
            needed[(p.series, w)].append((index - p.rule.history, index - 1))
    return [
        WindowRequest(series, w, first, last)
        for (series, w), spans in sorted(needed.items())
        for first, last in union(spans)
    ]


def window_deltas(rules: RuleSet, update: AggregateUpdate) -> Deltas:
    """(series, window length, window index) -> this batch's sums: per post series, the
    entity's buckets minus those of the relevance levels the series leaves out; per story
    series, the stories the batch begins (``update.stories``)."""
    out: Deltas = defaultdict(Stats)
    levels, zero = update.buckets, Stats()
    for (entity, minute), stats in update.buckets.items():
        if is_relevance_entity(entity):
            continue
        for window_s, excluded in rules.baseline_series(entity):
            counts = stats
            for level in excluded:
                counts = counts - levels.get((relevance_entity(entity, level), minute), zero)
            if counts.count:  # a minute of mentions the series leaves out adds nothing
                key = (series_name(entity, excluded), window_s, minute // window_s)
                out[key] = out[key] + counts
    for (entity, minute), begun in update.stories.items():
        if is_relevance_entity(entity) or not begun.count:
            continue
        for window_s in rules.story_windows(entity):
            key = (story_series(entity), window_s, minute // window_s)
            out[key] = out[key] + story_stats(begun)
    return out


def story_stats(begun: Stats) -> Stats:
    """What the story fields keep of the stories begun (``sentimon.keys.STORY_FIELDS``):
    their count, the negative ones and their score sum. The rest is dropped, so the
    batch's own stories add exactly what a later read of Redis would find."""
    return Stats(count=begun.count, negative=begun.negative, s_micro=begun.s_micro)


def within(items: list[tuple[int, Stats]], first: int, last: int) -> list[tuple[int, Stats]]:
    """The items (sorted by their number) whose number lies in ``first..last``."""
    lo = bisect_left(items, first, key=lambda item: item[0])
    hi = bisect_right(items, last, key=lambda item: item[0])
    return items[lo:hi]


def union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Inclusive integer intervals merged where they overlap or touch, in order."""
    merged: list[tuple[int, int]] = []
    for first, last in sorted(spans):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged
