"""Forward returns, drawdown and hit rates of alerts (pure: no Redis, no Kafka, no files).

For an alert opened at event time ``t`` on a ticker with a price series:

- the entry price ``p0`` is the last price at or before ``t``;
- the forward return at horizon ``h`` is ``p(t+h) / p0 - 1``, with ``p(t+h)`` the last price
  at or before ``t+h``; it is unknown (None) when there is no entry price or when the
  series ends before ``t+h`` (a partial horizon would understate moves);
- the maximum drawdown within ``h`` is the worst fall from a running peak along the path
  ``p0, prices in (t, t+h]``: ``min(p / running_max - 1)``, a number <= 0;
- an alert "hits" when the forward return moves in the alert's direction: down for
  ``sentiment_drop`` and ``negative_share``, up for ``sentiment_rise``; a zero return is
  no hit, and ``volume_spike`` has no direction (hit rate None).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

HORIZONS: dict[str, int] = {"15m": 15 * 60_000, "1h": 3_600_000, "1d": 86_400_000}
DRAWDOWN_HORIZON = "1d"
DIRECTIONS: dict[str, int] = {"sentiment_drop": -1, "negative_share": -1, "sentiment_rise": 1}


@dataclass(frozen=True)
class PriceSeries:
    """Prices of one instrument, ascending in time (equal times: the later row wins)."""

    ts: tuple[int, ...]
    px: tuple[float, ...]

    @classmethod
    def of(cls, points: Iterable[tuple[int, float]]) -> PriceSeries:
        ordered = sorted(points, key=lambda p: p[0])  # stable: file order among equal times
        return cls(tuple(t for t, _ in ordered), tuple(p for _, p in ordered))

    def __len__(self) -> int:
        return len(self.ts)

    def at_or_before(self, t: int) -> float | None:
        i = bisect_right(self.ts, t)
        return self.px[i - 1] if i else None

    def covers(self, t: int) -> bool:
        """Whether the series reaches time ``t``."""
        return bool(self.ts) and self.ts[-1] >= t

    def path(self, t: int, end: int) -> list[float]:
        """Prices strictly after ``t`` up to and including ``end``."""
        return list(self.px[bisect_right(self.ts, t) : bisect_right(self.ts, end)])


def forward_return(series: PriceSeries, t: int, horizon_ms: int) -> float | None:
    p0 = series.at_or_before(t)
    if p0 is None or p0 <= 0 or not series.covers(t + horizon_ms):
        return None
    p1 = series.at_or_before(t + horizon_ms)
    return None if p1 is None else p1 / p0 - 1.0


def max_drawdown(series: PriceSeries, t: int, horizon_ms: int) -> float | None:
    p0 = series.at_or_before(t)
    if p0 is None or p0 <= 0 or not series.covers(t + horizon_ms):
        return None
    return path_drawdown([p0, *series.path(t, t + horizon_ms)])


def path_drawdown(prices: Sequence[float]) -> float:
    """``min(p / running peak - 1)`` over the path (0.0 for a path that never falls)."""
    peak = -math.inf
    worst = 0.0
    for price in prices:
        peak = max(peak, price)
        if peak > 0:
            worst = min(worst, price / peak - 1.0)
    return worst


def direction(kind: str) -> int | None:
    """-1 (expects a fall), +1 (expects a rise) or None (no direction)."""
    return DIRECTIONS.get(kind)


def is_hit(kind: str, ret: float | None) -> bool | None:
    sign = direction(kind)
    if sign is None or ret is None:
        return None
    return ret * sign > 0


@dataclass(frozen=True)
class Outcome:
    """What followed one alert."""

    rule: str
    kind: str
    entity: str
    at_ms: int
    returns: dict[str, float | None] = field(default_factory=dict)
    drawdown: float | None = None
    priced: bool = False


def outcome(rule: str, kind: str, entity: str, at_ms: int, series: PriceSeries | None) -> Outcome:
    if series is None or not len(series):
        return Outcome(rule, kind, entity, at_ms, {h: None for h in HORIZONS})
    returns = {name: forward_return(series, at_ms, ms) for name, ms in HORIZONS.items()}
    dd = max_drawdown(series, at_ms, HORIZONS[DRAWDOWN_HORIZON])
    return Outcome(rule, kind, entity, at_ms, returns, dd, series.at_or_before(at_ms) is not None)


def summarise(outcomes: Iterable[Outcome]) -> dict[str, dict[str, object]]:
    """Per rule: alerts, alerts with prices, and per horizon the number with a known return,
    the mean forward return and the hit rate of the alert's direction."""
    by_rule: dict[str, list[Outcome]] = {}
    for item in outcomes:
        by_rule.setdefault(item.rule, []).append(item)
    return {rule: _rule_summary(items) for rule, items in sorted(by_rule.items())}


def _rule_summary(items: list[Outcome]) -> dict[str, object]:
    kind = items[0].kind
    horizons: dict[str, object] = {}
    for name in HORIZONS:
        known = [i.returns[name] for i in items if i.returns.get(name) is not None]
        values = [v for v in known if v is not None]
        hits = [is_hit(kind, v) for v in values]
        scored = [h for h in hits if h is not None]
        horizons[name] = {
            "n": len(values),
            "mean_return": _mean(values),
            "hit_rate": (sum(scored) / len(scored)) if scored else None,
        }
    drawdowns = [i.drawdown for i in items if i.drawdown is not None]
    return {
        "kind": kind,
        "direction": {-1: "down", 1: "up"}.get(direction(kind) or 0),
        "alerts": len(items),
        "priced": sum(i.priced for i in items),
        "horizons": horizons,
        "mean_max_drawdown_1d": _mean(drawdowns),
        "worst_max_drawdown_1d": min(drawdowns) if drawdowns else None,
    }


def _mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None
