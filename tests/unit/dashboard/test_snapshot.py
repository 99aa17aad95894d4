"""Baseline, change, z and the top-movers order of the dashboard's snapshot (pure)."""

from __future__ import annotations

import math

from dashboard.snapshot import (
    BASELINE_HOURS,
    EntityView,
    TickerRow,
    baseline,
    baseline_range,
    covered_hours,
    entity_view,
    top_movers,
    total,
)
from sentimon.store.rollups import Rollup
from sentimon.windows import HOUR, Stats

END_MS = 1_793_000_000_000  # 07:33:20 UTC: the last-hour window starts at 06:34
END_HOUR = END_MS // 1000 // HOUR * HOUR


def stats(n: int, mean: float, std: float = 0.0, neg: int = 0) -> Stats:
    s = round(mean * n * 1_000_000)
    ss = round((std * std + mean * mean) * n * 1_000_000)
    return Stats(n, 0, n - neg, neg, s, ss)


def hours(values: dict[int, Stats], count: int = BASELINE_HOURS + 2) -> list[tuple[int, Stats]]:
    """Hour totals oldest first; ``values`` maps hours-before-END_HOUR to stats."""
    return [(END_HOUR - i * HOUR, values.get(i, Stats())) for i in range(count - 1, -1, -1)]


def test_baseline_covers_the_24_hours_before_the_window_start_hour_only():
    marked = {i: stats(1, 0.0) for i in range(2, BASELINE_HOURS + 2)}  # 05:00 back to 06:00-24h
    marked[0] = stats(1000, 0.9)  # current hour: inside the last-hour window
    marked[1] = stats(1000, 0.9)  # 06:00-07:00: the window starts at 06:34, so excluded
    marked[BASELINE_HOURS + 2] = stats(1000, 0.9)  # 25 h before the window's hour: too old
    got = baseline(hours(marked, BASELINE_HOURS + 3), END_MS)
    assert got.count == BASELINE_HOURS
    assert got.mean_score == 0.0


def test_baseline_when_the_window_lies_in_one_hour():
    marked = {0: stats(50, 0.5), 1: stats(10, -0.5), 24: stats(10, -0.5), 25: stats(99, 0.9)}
    # 07:59:30 and 08:00:00.000: window 07:00-07:59 (half-open), baseline 07:00 - 24 h
    for end in (END_HOUR * 1000 + 59 * 60_000 + 30_000, (END_HOUR + HOUR) * 1000):
        got = baseline(hours(marked), end)
        assert got.count == 20, end
        assert got.mean_score == -0.5


def test_baseline_of_a_window_ending_on_a_minute_boundary_starts_an_hour_earlier():
    # 07:59:00.000: the window is 06:59-07:58, so its start hour is 06:00
    assert baseline_range(END_HOUR * 1000 + 59 * 60_000) == (
        END_HOUR - (BASELINE_HOURS + 1) * HOUR,
        END_HOUR - HOUR,
    )
    assert baseline_range(END_HOUR * 1000 + 59 * 60_000 + 1)[1] == END_HOUR


def test_change_z_and_volume_ratio():
    view = EntityView(
        m5=Stats(),
        h1=stats(25, -0.2),
        baseline=stats(240, 0.1, std=0.5),
        hours=[],
    )
    assert math.isclose(view.change or 0, -0.3)
    assert math.isclose(view.z or 0, -0.3 / (0.5 / 5), rel_tol=1e-6)
    assert math.isclose(view.volume_ratio or 0, 25 / 10)


def test_no_baseline_means_no_change():
    view = EntityView(m5=Stats(), h1=stats(5, 0.2), baseline=Stats(), hours=[])
    assert view.change is None and view.z is None and view.volume_ratio is None


def test_entity_view_takes_windows_from_the_rollup():
    rollup = Rollup({300: stats(3, 0.1), 3600: stats(30, 0.2)}, hours({2: stats(24, 0.0)}))
    view = entity_view(rollup, END_MS)
    assert view.m5.count == 3 and view.h1.count == 30
    assert view.baseline.count == 24
    assert len(view.hours) == BASELINE_HOURS


def test_top_movers_by_absolute_z_then_rows_without_baseline_by_volume():
    def row(sym: str, h1: Stats, base: Stats) -> TickerRow:
        return TickerRow(sym, EntityView(Stats(), h1, base, []))

    base = stats(240, 0.0, std=0.5)
    rows = [
        row("FLAT", stats(25, 0.01), base),
        row("NEW1", stats(3, 0.5), Stats()),
        row("DOWN", stats(25, -0.4), base),
        row("NEW2", stats(9, 0.5), Stats()),
        row("UP", stats(25, 0.2), base),
    ]
    assert [r.symbol for r in top_movers(rows)] == ["DOWN", "UP", "FLAT", "NEW2", "NEW1"]


def test_total_sums_stats():
    assert total([stats(2, 0.5), stats(3, -0.5)]).count == 5
    assert total([]) == Stats()


def test_a_young_namespace_gets_its_base_rate_from_the_hours_it_has_data_for():
    market = hours({3: stats(10, 0.0), 2: stats(10, 0.0)})  # data from 04:00 on
    covered = covered_hours(market, END_MS)
    assert covered == 2  # 04:00 and 05:00; the baseline stops at 06:00
    view = EntityView(Stats(), stats(30, 0.0), stats(20, 0.0), [], baseline_hours=covered)
    assert view.volume_ratio == 3.0
    assert covered_hours(hours({}), END_MS) == 0
    assert covered_hours(hours({25: stats(1, 0.0)}), END_MS) == BASELINE_HOURS
