"""Event-time sweep (pure): evaluate one rule for one entity at each tick of a batch.

A tick is a minute in which the batch has posts of the entity (with the latest event time
seen in it). Live, a batch spans a moment and gives one tick per entity; a backfill batch
can span hours of one partition and gives one tick per active minute, so a burst inside
it is still seen at its own time. Cost stays proportional to the batch's (entity, minute)
buckets, i.e. to traffic.

A rule that leaves out mentions below a minimum relevance ticks only where the batch has
mentions it counts: a ticker named in passing is not "touched" for it.

A seasonal rule first folds the settled windows into the pair's profile and compares the
tick with its time-of-day slot blended with the EWMA (``sentimon.alerts.seasonal``); a
rule with ``hours`` asks the exchange calendar whether the tick is in a session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sentimon.aggregate import AggregateUpdate
from sentimon.alerts.baseline import Baseline, compute, window_index
from sentimon.alerts.detect import Signal, limit_hours, measure
from sentimon.alerts.lifecycle import AlertState, Notice, step
from sentimon.alerts.rules import Rule
from sentimon.alerts.seasonal import SlotProfile, blend, fold
from sentimon.keys import MARKET, kind_entity, sector_entity, ticker_entity
from sentimon.market_calendar import get_calendar
from sentimon.windows import Stats, minute_of

#: Relevance -> minute -> latest event time (ms) of the mentions at that relevance.
Mentions = dict[float, dict[int, int]]


@dataclass(frozen=True)
class Tick:
    minute_s: int
    ts_ms: int


@dataclass
class Emitted:
    notice: Notice
    signal: Signal
    tick: Tick


@dataclass
class SweepResult:
    state: AlertState
    emitted: list[Emitted] = field(default_factory=list)
    last_signal: Signal | None = None
    #: the pair's seasonal profile after the sweep (unchanged for other rules)
    profile: SlotProfile = field(default_factory=SlotProfile)


def entity_ticks(update: AggregateUpdate) -> dict[str, list[Tick]]:
    """Per entity, the minutes the batch has posts in, oldest first."""
    return {e: ticks_at_least(found, 0.0) for e, found in entity_mentions(update).items()}


def entity_mentions(update: AggregateUpdate) -> dict[str, Mentions]:
    """Per entity the batch touches (never a relevance level), its mentions by relevance:
    1.0 for market and source kinds; a company's own; a sector's most relevant company's
    (what ``sentimon.aggregate`` counts the post toward the sector with)."""
    out: dict[str, Mentions] = {}
    for item in update.posts:
        ts = item.post.ts_ms
        minute = minute_of(ts)
        found = [(MARKET, 1.0), (kind_entity(item.post.kind), 1.0)]
        sectors: dict[str, float] = {}
        for company in item.companies:
            found.append((ticker_entity(company.ticker), company.relevance))
            if company.sector:
                sectors[company.sector] = max(sectors.get(company.sector, 0.0), company.relevance)
        found += [(sector_entity(name), level) for name, level in sectors.items()]
        for entity, level in found:
            minutes = out.setdefault(entity, {}).setdefault(level, {})
            minutes[minute] = max(minutes.get(minute, ts), ts)
    return out


def ticks_at_least(found: Mentions, min_relevance: float | None) -> list[Tick]:
    """The ticks of the mentions with relevance >= ``min_relevance`` (None: all)."""
    floor = -1.0 if min_relevance is None else min_relevance - 1e-9
    latest: dict[int, int] = {}
    for level, minutes in found.items():
        if level >= floor:
            for minute, ts in minutes.items():
                latest[minute] = max(latest.get(minute, ts), ts)
    return [Tick(m, ts) for m, ts in sorted(latest.items())]


def history_of(rule: Rule, tick: Tick, sums: dict[int, Stats]) -> list[Stats]:
    """The rule's closed windows before the tick's window, most recent first."""
    current = window_index(tick.ts_ms, rule.window_s)
    return [sums.get(current - k, Stats()) for k in range(1, rule.history + 1)]


def sweep(
    rule: Rule,
    state: AlertState,
    ticks: list[Tick],
    *,
    window_of: Callable[[Tick], Stats],
    sums: dict[int, Stats],
    mute: Callable[[], str | None],
    make_id: Callable[[int], str],
    cache: dict[tuple[int, float, int, int], Baseline] | None = None,
    profile: SlotProfile | None = None,
) -> SweepResult:
    """Run the lifecycle through the ticks; ``sums`` are the baseline's per-window sums.
    ``cache`` (per entity and window length) shares baselines between ticks and rules;
    ``profile``: the pair's seasonal profile as read (seasonal rules)."""
    result = SweepResult(state, profile=profile or SlotProfile())
    baselines = {} if cache is None else cache
    calendar = get_calendar(rule.exchange) if rule.seasonal or rule.hours != "any" else None
    for tick in ticks:
        baseline: Baseline | None = None
        if rule.uses_baseline:
            current = window_index(tick.ts_ms, rule.window_s)
            index = (current, rule.alpha, rule.min_posts, rule.history)
            baseline = baselines.get(index)
            if baseline is None:
                baseline = compute(
                    history_of(rule, tick, sums), alpha=rule.alpha, min_posts=rule.min_posts
                )
                baselines[index] = baseline
            if rule.seasonal and calendar is not None:
                result.profile = fold(result.profile, rule, calendar, current, sums)
                end = tick.minute_s + 60  # the sliding window's end (pairs.window_range)
                baseline = blend(baseline, result.profile, rule, calendar, end)
        signal = measure(rule, window_of(tick), baseline)
        if rule.hours != "any" and calendar is not None:
            signal = limit_hours(rule, signal, calendar.is_open(tick.ts_ms / 1000))
        result.state, notice = step(
            result.state, signal, tick.ts_ms, rule, mute=mute(), make_id=make_id
        )
        result.last_signal = signal
        if notice is not None:
            result.emitted.append(Emitted(notice, signal, tick))
    return result
