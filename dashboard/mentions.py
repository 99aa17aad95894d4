"""Which mentions the dashboard's company and sector figures count (pure).

Each post counts toward every company it names with a relevance in {0.2, ..., 1.0}
(``sentimon.entities.relevance``). The store keeps a company's or sector's stats over every
mention and, beside them, the stats of its mentions at each level below 1
(``sentimon.keys.relevance_entity``: ``ticker:AAPL@0.6``). The figures at a minimum
relevance ``r`` are every mention minus the levels below ``r``, exactly
(``RelevanceStats.at_least``); the weighted mean weighs every mention by its relevance.
The snapshot (``dashboard.snapshot``) reads the levels it needs in its roll-ups; this
module holds the control's options and the cuts.
"""

from __future__ import annotations

from collections.abc import Mapping

from sentimon.entities.relevance import RELEVANCE_LEVELS
from sentimon.entities.weighted import RelevanceStats
from sentimon.store.query import Point
from sentimon.windows import Stats

#: What the "min relevance" control offers (0: every mention).
CHOICES = (0.0, *RELEVANCE_LEVELS)


def choices(default: float) -> list[float]:
    """The control's options: the steps, plus the configured default if it lies between."""
    return sorted({*CHOICES, round(default, 4)})


def label(value: float) -> str:
    """How an option reads: ``all mentions`` for 0, else ``≥ 0.4``."""
    return "all mentions" if value <= 0 else f"≥ {value:g}"


def scope(value: float) -> str:
    """Which mentions figures at minimum ``value`` count, for captions."""
    return "every mention" if value <= 0 else f"mentions with relevance ≥ {value:g}"


def at_least(every: Stats, levels: Mapping[float, Stats], min_relevance: float) -> Stats:
    """Stats of the mentions with relevance >= ``min_relevance`` (a level missing from
    ``levels`` has no mention)."""
    if not levels:
        return every
    return RelevanceStats(every, dict(levels)).at_least(min_relevance)


def weighted_mean(every: Stats, levels: Mapping[float, Stats]) -> float | None:
    """The relevance-weighted mean score over every mention (a 0.2 mention weighs a fifth
    of a 1.0 one); None without mentions."""
    return RelevanceStats(every, dict(levels)).weighted_mean


def relevant_series(
    points: list[Point], levels: Mapping[float, list[Point]], min_relevance: float
) -> list[Point]:
    """A per-minute series over the relevant mentions: ``points`` (every mention) minus,
    minute by minute, the level series below ``min_relevance`` (all read over the same
    minutes)."""
    if not levels:
        return points
    out = []
    for i, point in enumerate(points):
        below = {level: series[i].stats for level, series in levels.items()}
        out.append(Point(point.minute_s, at_least(point.stats, below, min_relevance)))
    return out
