"""Baseline, change, z and the top-movers order of the dashboard's snapshot (pure)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pytest

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
from sentimon.keys import MARKET
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


def test_relevant_view_leaves_out_the_levels_below_the_minimum_everywhere():
    from dashboard.snapshot import relevant_view

    every = EntityView(stats(10, 0.1), stats(20, 0.2), stats(40, 0.0), [stats(5, 0.0)] * 24)
    low = EntityView(stats(2, -0.5), stats(4, -0.5), stats(8, -0.5), [stats(1, -0.5)] * 24)
    mid = EntityView(stats(1, 0.5), stats(1, 0.5), Stats(), [Stats()] * 24)
    cut = relevant_view(every, [low, mid])
    assert (cut.m5.count, cut.h1.count, cut.baseline.count) == (7, 15, 32)
    assert [h.count for h in cut.hours] == [4] * 24
    assert cut.baseline_hours == every.baseline_hours
    assert relevant_view(every, []) is every


class FakeQuery:
    """Records the reads ``load_snapshot`` makes. Each ticker has three posts in every
    window and baseline hour (scores summing to 0), one of them at relevance 0.2 (-0.5) and
    one at 0.6 (+0.5)."""

    namespace = "fake"

    def __init__(self, symbols: list[str]) -> None:
        self.symbols = symbols
        self.calls: list[tuple[str, list[str]]] = []
        self.story_entities: list[list[str]] = []

    def watermark_ms(self) -> int:
        return END_MS

    def ranked_tickers(self, seconds: int, end_ms: int, limit: int) -> list[tuple[str, int]]:
        self.calls.append(("ranked_tickers", []))
        return [(s, 1) for s in self.symbols]

    def rollups(
        self,
        entities: list[str],
        windows: list[int],
        hours_: int,
        end_ms: int,
        stories: Sequence[str] = (),
    ) -> dict[str, Rollup]:
        """Three posts of two stories (one negative) in every window of an entity asked
        for with its stories."""
        self.calls.append(("rollups", entities))
        self.story_entities.append(list(stories))

        def rollup(entity: str) -> Rollup:
            value = {"@0.2": stats(1, -0.5), "@0.6": stats(1, 0.5)}.get(entity[-4:], Stats())
            value = stats(3, 0.0) if "@" not in entity else value
            begun = {w: Stats(count=2, negative=1) for w in windows} if entity in stories else {}
            return Rollup({w: value for w in windows}, hours({2: value}, hours_), begun)

        return {e: rollup(e) for e in entities}

    def relevance_windows(self, entities: list[str], seconds: int, end_ms: int) -> dict:
        from sentimon.entities.weighted import RelevanceStats

        self.calls.append(("relevance_windows", entities))
        return {e: RelevanceStats(stats(3, 0.1)) for e in entities}

    def series(self, entity: str, seconds: int, end_ms: int) -> list:
        self.calls.append(("series", [entity]))
        return []


@pytest.fixture(autouse=True)
def fake_story_rollups(monkeypatch: pytest.MonkeyPatch) -> None:
    """The snapshot's roll-up with stories goes to the fake query's ``rollups``."""
    from dashboard import snapshot

    def story_rollups(query: Any, entities: list[str], *args: Any, stories: Any) -> Any:
        return query.rollups(entities, *args, stories=stories)

    monkeypatch.setattr(snapshot, "story_rollups", story_rollups)


def test_a_snapshot_reads_every_ticker_and_every_sector_at_once():
    from dashboard.snapshot import load_snapshot

    sectors = ("Energy", "Utilities")
    for n in (1, 300):
        query = FakeQuery([f"T{i:03d}" for i in range(n)])
        snap = load_snapshot(query, 6 * HOUR, sectors=sectors, min_relevance=0.4)  # type: ignore[arg-type]
        assert [name for name, _ in query.calls] == [
            "ranked_tickers", "rollups", "rollups", "relevance_windows", "series",
        ]  # fmt: skip
    full, last_hour = query.calls[1][1], query.calls[2][1]
    assert len(full) == 1 + 300 * 2  # the market, each ticker and its level below 0.4
    assert "ticker:T299@0.2" in full and "ticker:T299@0.4" not in full
    assert len(last_hour) == 300 * 3 and "ticker:T299@0.8" in last_hour
    assert query.calls[3][1] == ["sector:Energy", "sector:Utilities"]
    assert [s.sector for s in snap.sectors] == list(sectors) and snap.min_relevance == 0.4
    row = snap.tickers[0]
    assert (row.view.h1.count, row.view.m5.count, row.view.baseline.count) == (2, 2, 2)
    assert row.view.h1.mean_score == pytest.approx(0.25)  # 0.0 x 3 less the 0.2 mention
    # the three mentions (scores 0.0, -0.5, +0.5) weighted by their relevance (1, 0.2, 0.6)
    assert row.weighted_mean_1h == pytest.approx((0.0 - 0.5 * 0.2 + 0.5 * 0.6) / 1.8)
    # stories: the market's and each ticker's, in the first roll-up; not cut by relevance
    assert query.story_entities[0] == [MARKET, *(f"ticker:T{i:03d}" for i in range(300))]
    assert query.story_entities[1] == []
    assert row.view.story_h1 == Stats(count=2, negative=1) == row.view.story_m5
    assert snap.market is not None and snap.market.story_h1.count == 2


def test_a_snapshot_at_no_minimum_reads_the_levels_last_hour_only():
    from dashboard.snapshot import load_snapshot

    query = FakeQuery(["AAA"])
    snap = load_snapshot(query, 6 * HOUR, min_relevance=0.0)  # type: ignore[arg-type]
    assert query.calls[1][1] == [MARKET, "ticker:AAA"]
    assert len(query.calls[2][1]) == 4
    assert snap.tickers[0].view.h1.count == 3 and snap.sectors == []
