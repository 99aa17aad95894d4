"""Windows are half-open against a real Redis: a 24 h window ending at midnight holds that
day's posts, the first minute included and midnight itself left out, through every reader
(windows, series, rankings, roll-ups)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from sentimon.aggregate import ScoredPost, aggregate
from sentimon.contract import Post
from sentimon.keys import MARKET, Keys, ticker_entity
from sentimon.store.client import connect
from sentimon.store.query import Query
from sentimon.store.sink import RedisSink
from sentimon.writeplan import WritePlan, plan_aggregates

pytestmark = pytest.mark.integration

DAY_MS = 86_400_000
MIDNIGHT = 1_793_059_200_000  # 2026-10-27T00:00:00Z
DAY_START = MIDNIGHT - DAY_MS  # 2026-10-26T00:00:00Z
WINDOWS = [300, 3600, 86_400]

#: symbol -> event time; one post each
POSTS = {
    "BEF": DAY_START - 1,  # 23:59:59.999 the day before
    "FST": DAY_START + 5_000,  # 00:00:05, in the day's first minute
    "MID": DAY_START + DAY_MS // 2,  # 12:00:00.000
    "LST": MIDNIGHT - 1,  # 23:59:59.999, the day's last millisecond
    "NXT": MIDNIGHT,  # 00:00:00.000 the next day
}


@pytest.fixture(scope="module")
def day(stack: Any) -> Query:
    """The posts of ``POSTS`` written through the real sink, in one batch."""
    client = connect(stack.settings())
    keys = Keys(f"wb-{uuid.uuid4().hex[:8]}")
    posts = [
        ScoredPost(Post(sym.lower(), "x", ts, "news", "wire", (sym,)), "positive", 0.5, "m")
        for sym, ts in POSTS.items()
    ]
    plan = WritePlan()
    plan_aggregates(plan, keys, aggregate(posts), retention_s=86400, recent=5)
    assert RedisSink(client, keys, dedup_horizon_s=0).apply(plan).ok
    return Query(client, keys.namespace)


def counts(query: Query, seconds: int, end_ms: int) -> dict[str, int]:
    """Posts per symbol in the window (symbols without posts left out)."""
    stats = query.windows([ticker_entity(s) for s in POSTS], seconds, end_ms)
    return {s: stats[ticker_entity(s)].count for s in POSTS if stats[ticker_entity(s)].count}


def test_24h_ending_at_midnight_counts_the_first_minute_and_not_midnight(day: Query) -> None:
    assert counts(day, 86_400, MIDNIGHT) == {"FST": 1, "MID": 1, "LST": 1}
    assert day.window(MARKET, 86_400, end_ms=MIDNIGHT).count == 3
    assert counts(day, 86_400, DAY_START) == {"BEF": 1}  # the day before, alone


def test_a_mid_minute_end_keeps_its_own_minute(day: Query) -> None:
    # the watermark case: 00:00:30 holds midnight's minute, so the day's first drops out
    assert counts(day, 86_400, MIDNIGHT + 30_000) == {"MID": 1, "LST": 1, "NXT": 1}
    assert counts(day, 60, MIDNIGHT + 30_000) == {"NXT": 1}
    assert counts(day, 60, MIDNIGHT) == {"LST": 1}


def test_series_of_a_day_ending_at_midnight_are_its_1440_minutes(day: Query) -> None:
    points = day.series(MARKET, 86_400, MIDNIGHT)
    assert [p.minute_s * 1000 for p in points] == list(range(DAY_START, MIDNIGHT, 60_000))
    assert sum(p.stats.count for p in points) == 3


def test_rankings_touch_only_the_hours_of_the_window(day: Query) -> None:
    expected = ["FST", "LST", "MID"]  # equal volumes: by symbol
    assert day.active_tickers(86_400, MIDNIGHT) == expected
    assert [s for s, _ in day.ranked_tickers(86_400, MIDNIGHT)] == expected
    assert [s for s, _ in day.top(86_400, end_ms=MIDNIGHT)] == expected
    assert day.active_tickers(3600, MIDNIGHT) == ["LST"]


@pytest.mark.parametrize("end_ms", [MIDNIGHT, MIDNIGHT + 30_000, DAY_START, MIDNIGHT - 60_000])
def test_rollups_agree_with_query(day: Query, end_ms: int) -> None:
    entities = [MARKET, *(ticker_entity(s) for s in POSTS)]
    got = day.rollups(entities, WINDOWS, 26, end_ms)
    for seconds in WINDOWS:
        plain = day.windows(entities, seconds, end_ms)
        for entity in entities:
            assert got[entity].windows[seconds] == plain[entity], (entity, seconds)
    last_hour_s = (end_ms - 1) // 3_600_000 * 3600
    assert got[MARKET].hours[-1][0] == last_hour_s
    by_hour = {h: s.count for h, s in got[MARKET].hours if s.count}
    series = day.series(MARKET, 26 * 3600, (last_hour_s + 3600) * 1000)
    per_hour: dict[int, int] = {}
    for point in series:
        if point.stats.count:
            hour = point.minute_s // 3600 * 3600
            per_hour[hour] = per_hour.get(hour, 0) + point.stats.count
    assert by_hour == per_hour
