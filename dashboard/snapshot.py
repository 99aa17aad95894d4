"""The data of one dashboard refresh, read with a handful of batched ``Query`` calls.

Everything is relative to the namespace's event-time watermark, so a backtest namespace
reads exactly like the live one. For N active tickers a refresh costs the same few round
trips whatever N is: the watermark, the volume index, two roll-ups summed inside Redis
(everyone's windows and hour totals, with the tickers' mentions below the minimum
relevance; then the other relevance levels' last hour, for the weighted mean; see
``dashboard.mentions``), the sectors' window over the chart range, and the market's
minute series. The stories begun in the 5 m and 1 h windows of the market and each
ticker (``sentimon.stories``: each story once, at its first post) are summed in the first
roll-up, beside the posts.

The baseline an entity's last hour is compared against is its mean over the
``BASELINE_HOURS`` whole hours before the hour the last-hour window starts in (so the two
never overlap).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from dashboard import mentions
from sentimon.entities.relevance import PARTIAL_LEVELS, levels_below
from sentimon.entities.weighted import RelevanceStats
from sentimon.keys import MARKET, relevance_entity, sector_entity, ticker_entity
from sentimon.store.query import Point, Query
from sentimon.store.rollups import Rollup, rollups
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
    #: stories begun in the last 5 minutes and hour (``Query.story_windows``' stats:
    #: ``count``, ``negative``, story-level score), whatever the relevance
    story_m5: Stats = field(default_factory=Stats)
    story_h1: Stats = field(default_factory=Stats)

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
    """A ticker's windows over its mentions at the snapshot's minimum relevance or above,
    and the last hour's relevance-weighted mean score over every mention."""

    symbol: str
    view: EntityView
    weighted_mean_1h: float | None = None


def relevant_view(view: EntityView, below: Sequence[EntityView]) -> EntityView:
    """``view`` (every mention) less the mentions of each relevance level in ``below`` (the
    levels below the minimum relevance: ``RelevanceStats.at_least``, window by window).
    Its stories stay every story naming the entity: the levels keep no story fields."""
    if not below:
        return view

    def cut(every: Stats, parts: Iterable[Stats]) -> Stats:
        for part in parts:
            every = every - part
        return every

    return EntityView(
        m5=cut(view.m5, (v.m5 for v in below)),
        h1=cut(view.h1, (v.h1 for v in below)),
        baseline=cut(view.baseline, (v.baseline for v in below)),
        hours=[cut(h, (v.hours[i] for v in below)) for i, h in enumerate(view.hours)],
        baseline_hours=view.baseline_hours,
        story_m5=view.story_m5,
        story_h1=view.story_h1,
    )


@dataclass(frozen=True)
class SectorRow:
    """A sector's window over the chart range, with its relevance levels."""

    sector: str
    stats: RelevanceStats


@dataclass(frozen=True)
class Snapshot:
    namespace: str
    watermark_ms: int | None
    market: EntityView | None = None
    market_series: list[Point] = field(default_factory=list)
    tickers: list[TickerRow] = field(default_factory=list)
    load_s: float = 0.0
    #: every sector of the universe, over the chart range (``load_snapshot``'s ``range_s``)
    sectors: list[SectorRow] = field(default_factory=list)
    #: the ticker rows count the mentions at this relevance or above
    min_relevance: float = 0.0

    @property
    def empty(self) -> bool:
        return self.watermark_ms is None

    @property
    def end_ms(self) -> int | None:
        """Where the snapshot's windows end: just after the watermark (half-open windows)."""
        return None if self.watermark_ms is None else self.watermark_ms + 1


def load_snapshot(
    query: Query,
    range_s: int = 6 * HOUR,
    limit: int = TABLE_LIMIT,
    sectors: Sequence[str] = (),
    min_relevance: float = 0.0,
) -> Snapshot:
    """Market view and series over ``range_s``, a row per active ticker (up to ``limit``)
    over its mentions at ``min_relevance`` or above, and a row per sector in ``sectors``
    over ``range_s`` (with every relevance level: the sector view cuts it itself)."""
    started = time.perf_counter()
    watermark = query.watermark_ms()
    if watermark is None:
        return Snapshot(query.namespace, None)
    end = watermark + 1  # windows are half-open: keep the watermark's minute in view
    symbols = [sym for sym, _ in query.ranked_tickers(ACTIVE_S, end, limit=limit)]
    market, rows = _market_and_tickers(query, symbols, end, min_relevance)
    sector_rows = load_sectors(query, sectors, range_s, end)
    market_series = query.series(MARKET, range_s, end)
    elapsed = time.perf_counter() - started
    log.debug("snapshot of %s: %d tickers in %.3fs", query.namespace, len(rows), elapsed)
    return Snapshot(
        query.namespace,
        watermark,
        market,
        market_series,
        rows,
        load_s=elapsed,
        sectors=sector_rows,
        min_relevance=min_relevance,
    )


def _market_and_tickers(
    query: Query, symbols: list[str], end: int, min_relevance: float
) -> tuple[EntityView, list[TickerRow]]:
    """The market's view and each ticker's row, in two roll-ups: the market, the tickers
    and their levels below ``min_relevance`` with every window and hour (to leave those
    out of all of them; the market's and tickers' stories too), then the other levels' last
    hour alone (for the weighted mean)."""
    tickers = [ticker_entity(s) for s in symbols]
    below = levels_below(min_relevance)
    others = [lv for lv in PARTIAL_LEVELS if lv not in below]
    full = [MARKET, *tickers, *(relevance_entity(t, lv) for t in tickers for lv in below)]
    windows = [SHORT_S, LONG_S]
    rolled = story_rollups(
        query, full, windows, BASELINE_HOURS + 2, end, stories=[MARKET, *tickers]
    )
    last_hour = [relevance_entity(t, lv) for t in tickers for lv in others]
    rolled |= query.rollups(last_hour, [LONG_S], 0, end)
    covered = covered_hours(rolled[MARKET].hours, end)

    def row(symbol: str, entity: str) -> TickerRow:
        every = entity_view(rolled[entity], end, covered)
        cut = [entity_view(rolled[relevance_entity(entity, lv)], end, covered) for lv in below]
        hour = {lv: rolled[relevance_entity(entity, lv)].windows[LONG_S] for lv in PARTIAL_LEVELS}
        weighted = mentions.weighted_mean(every.h1, hour)
        return TickerRow(symbol, relevant_view(every, cut), weighted)

    rows = [row(s, t) for s, t in zip(symbols, tickers, strict=True)]
    return entity_view(rolled[MARKET], end, covered), rows


def story_rollups(
    query: Query,
    entities: list[str],
    windows: list[int],
    hours: int,
    end_ms: int,
    *,
    stories: Sequence[str],
) -> dict[str, Rollup]:
    """``Query.rollups`` with the windows' stories of the entities in ``stories`` summed in
    the same pipeline (``sentimon.store.rollups``)."""
    return rollups(query.client, query.keys, entities, windows, hours, end_ms, stories=stories)


def load_sectors(
    query: Query, sectors: Sequence[str], seconds: int, end_ms: int
) -> list[SectorRow]:
    """Every sector's window of ``seconds`` with its relevance levels (one round trip)."""
    if not sectors:
        return []
    entities = [sector_entity(s) for s in sectors]
    stats = query.relevance_windows(entities, seconds, end_ms)
    return [SectorRow(s, stats[e]) for s, e in zip(sectors, entities, strict=True)]


def entity_view(rollup: Rollup, end_ms: int, covered: int = BASELINE_HOURS) -> EntityView:
    """From the entity's 5 m and 1 h windows (posts, and stories when read) and hour totals
    ending at ``end_ms``."""
    return EntityView(
        m5=rollup.windows[SHORT_S],
        h1=rollup.windows[LONG_S],
        baseline=baseline(rollup.hours, end_ms),
        hours=[stats for _, stats in rollup.hours[-BASELINE_HOURS:]],
        baseline_hours=covered,
        story_m5=rollup.stories.get(SHORT_S, Stats()),
        story_h1=rollup.stories.get(LONG_S, Stats()),
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
