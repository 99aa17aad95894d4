"""Event-time sweep (pure): evaluate one rule for one entity at each tick of a batch.

A tick is a minute in which the batch has posts of the entity (with the latest event time
seen in it). Live, a batch spans a moment and gives one tick per entity; a backfill batch
can span hours of one partition and gives one tick per active minute, so a burst inside
it is still seen at its own time. Cost stays proportional to the batch's (entity, minute)
buckets, i.e. to traffic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sentimon.aggregate import AggregateUpdate
from sentimon.alerts.baseline import Baseline, compute, window_index
from sentimon.alerts.detect import Signal, measure
from sentimon.alerts.lifecycle import AlertState, Notice, step
from sentimon.alerts.rules import Rule
from sentimon.windows import Stats, minute_of


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


def entity_ticks(update: AggregateUpdate) -> dict[str, list[Tick]]:
    """Per entity, the minutes the batch has posts in, oldest first."""
    latest: dict[str, dict[int, int]] = {}
    for item in update.posts:
        minute = minute_of(item.post.ts_ms)
        for entity in item.entities():
            minutes = latest.setdefault(entity, {})
            minutes[minute] = max(minutes.get(minute, item.post.ts_ms), item.post.ts_ms)
    return {e: [Tick(m, ts) for m, ts in sorted(ms.items())] for e, ms in latest.items()}


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
) -> SweepResult:
    """Run the lifecycle through the ticks; ``sums`` are the baseline's per-window sums.
    ``cache`` (per entity and window length) shares baselines between ticks and rules."""
    result = SweepResult(state)
    baselines = {} if cache is None else cache
    for tick in ticks:
        baseline: Baseline | None = None
        if rule.uses_baseline:
            index = (
                window_index(tick.ts_ms, rule.window_s),
                rule.alpha,
                rule.min_posts,
                rule.history,
            )
            baseline = baselines.get(index)
            if baseline is None:
                baseline = compute(
                    history_of(rule, tick, sums), alpha=rule.alpha, min_posts=rule.min_posts
                )
                baselines[index] = baseline
        signal = measure(rule, window_of(tick), baseline)
        result.state, notice = step(
            result.state, signal, tick.ts_ms, rule, mute=mute(), make_id=make_id
        )
        result.last_signal = signal
        if notice is not None:
            result.emitted.append(Emitted(notice, signal, tick))
    return result
