"""The data of one dashboard refresh, read with a handful of batched ``Query`` calls.

Everything is relative to the namespace's event-time watermark, so a backtest namespace
reads exactly like the live one. For N active tickers a refresh costs four round trips
(watermark, volume index, everyone's windows and hour totals summed inside Redis, the
market's minute series), whatever N is.

The baseline an entity's last hour is compared against is its mean over the
``BASELINE_HOURS`` whole hours before the hour the last-hour window starts in (so the two
never overlap).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from sentimon.keys import MARKET, ticker_entity
from sentimon.store.query import Point, Query
from sentimon.store.rollups import Rollup
from sentimon.windows import HOUR, MINUTE, Stats, WindowRange

log = logging.getLogger(__name__)

SHORT_S = 5 * MINUTE
LONG_S = HOUR
BASELINE_HOURS = 24
ACTIVE_S = 24 * HOUR
TABLE_LIMIT = 500


@dataclass(frozen=True)
class EntityView:
    """Windows of one entity: last 5 minutes, last hour, baseline, and 24 hour totals."""

    m5: Stats
    h1: Stats
    baseline: Stats
    hours: list[Stats]
    #: hours of the baseline the namespace has data for (fewer than 24 when it is young)
    baseline_hours: int = BASELINE_HOURS

    @property
    def change(self) -> float | None:
        """Mean score of the last hour minus the baseline mean."""
        if self.h1.mean_score is None or self.baseline.mean_score is None:
            return None
        return self.h1.mean_score - self.baseline.mean_score

    @property
    def z(self) -> float | None:
        """The change in standard errors of the baseline's spread at the last hour's count."""
        change, std = self.change, self.baseline.std_score
        if change is None or not std:
            return None
        return change / (std / math.sqrt(self.h1.count))

    @property
    def volume_ratio(self) -> float | None:
        """Posts in the last hour over the baseline's posts per hour."""
        per_hour = self.baseline.count / max(self.baseline_hours, 1)
        return self.h1.count / per_hour if per_hour else None


@dataclass(frozen=True)
class TickerRow:
    symbol: str
    view: EntityView


@dataclass(frozen=True)
class Snapshot:
    namespace: str
    watermark_ms: int | None
    market: EntityView | None = None
    market_series: list[Point] = field(default_factory=list)
    tickers: list[TickerRow] = field(default_factory=list)
    load_s: float = 0.0

    @property
    def empty(self) -> bool:
        return self.watermark_ms is None

    @property
    def end_ms(self) -> int | None:
        """Where the snapshot's windows end: just after the watermark (half-open windows)."""
        return None if self.watermark_ms is None else self.watermark_ms + 1


def load_snapshot(query: Query, range_s: int = 6 * HOUR, limit: int = TABLE_LIMIT) -> Snapshot:
    """Market view and series over ``range_s``, and a row per active ticker (up to ``limit``)."""
    started = time.perf_counter()
    watermark = query.watermark_ms()
    if watermark is None:
        return Snapshot(query.namespace, None)
    end = watermark + 1  # windows are half-open: keep the watermark's minute in view
    symbols = [sym for sym, _ in query.ranked_tickers(ACTIVE_S, end, limit=limit)]
    entities = [MARKET, *(ticker_entity(s) for s in symbols)]
    rolled = query.rollups(entities, [SHORT_S, LONG_S], BASELINE_HOURS + 2, end)
    covered = covered_hours(rolled[MARKET].hours, end)
    views = {e: entity_view(r, end, covered) for e, r in rolled.items()}
    rows = [TickerRow(s, views[ticker_entity(s)]) for s in symbols]
    market_series = query.series(MARKET, range_s, end)
    elapsed = time.perf_counter() - started
    log.debug("snapshot of %s: %d tickers in %.3fs", query.namespace, len(rows), elapsed)
    return Snapshot(query.namespace, watermark, views[MARKET], market_series, rows, elapsed)


def entity_view(rollup: Rollup, end_ms: int, covered: int = BASELINE_HOURS) -> EntityView:
    """From the entity's 5 m and 1 h windows and hour totals ending at ``end_ms``."""
    return EntityView(
        m5=rollup.windows[SHORT_S],
        h1=rollup.windows[LONG_S],
        baseline=baseline(rollup.hours, end_ms),
        hours=[stats for _, stats in rollup.hours[-BASELINE_HOURS:]],
        baseline_hours=covered,
    )


def covered_hours(market_hours: list[tuple[int, Stats]], end_ms: int) -> int:
    """Baseline hours from the first one with any post in the market (the namespace's data
    start) to the baseline's end: a young namespace's rate is per hour it has existed."""
    start, stop = baseline_range(end_ms)
    active = [hour for hour, stats in market_hours if start <= hour < stop and stats.count]
    return (stop - active[0]) // HOUR if active else 0


def baseline_range(end_ms: int) -> tuple[int, int]:
    """``[start, stop)`` hour starts: the ``BASELINE_HOURS`` hours before the hour the
    last-hour window starts in."""
    stop = WindowRange.ending_at(end_ms, LONG_S).first_hour
    return stop - BASELINE_HOURS * HOUR, stop


def baseline(hours: list[tuple[int, Stats]], end_ms: int) -> Stats:
    """Sum of the baseline hours (``baseline_range``)."""
    start, stop = baseline_range(end_ms)
    return total(stats for hour, stats in hours if start <= hour < stop)


def total(items: Iterable[Stats]) -> Stats:
    out = Stats()
    for stats in items:
        out = out + stats
    return out


def top_movers(rows: list[TickerRow]) -> list[TickerRow]:
    """Largest |z| first; rows without a z (no baseline) after, by last-hour volume."""

    def key(row: TickerRow) -> tuple[int, float, str]:
        z = row.view.z
        if z is not None:
            return (0, -abs(z), row.symbol)
        return (1, -float(row.view.h1.count), row.symbol)

    return sorted(rows, key=key)
