"""The dashboard's reads (``sentimon.store.query``, and the alert reads in ``sentimon.alerts``)
against a real Redis."""

from __future__ import annotations

import json
import random
import time
import uuid
from typing import Any

import pytest

from sentimon.aggregate import ScoredPost, aggregate
from sentimon.contract import Post
from sentimon.keys import MARKET, Keys, sector_entity, ticker_entity
from sentimon.store import rollups
from sentimon.store.client import connect
from sentimon.store.query import Query, TopicLag
from sentimon.store.sink import RedisSink
from sentimon.writeplan import WritePlan, plan_aggregates

pytestmark = pytest.mark.integration

END_MS = 1_793_000_000_000
SYMBOLS = [f"S{i:02d}" for i in range(12)]


@pytest.fixture(scope="module")
def filled(stack: Any) -> Query:
    """26 h of random posts for 12 tickers through the real sink (batches of ~1 h); two in
    three begin a story, the others are copies."""
    client = connect(stack.settings())
    keys = Keys(f"q-{uuid.uuid4().hex[:8]}")
    sink = RedisSink(client, keys, dedup_horizon_s=0)
    rng = random.Random(3)
    posts = []
    for i in range(3000):
        ts = END_MS - rng.randrange(26 * 3600 * 1000)
        label = rng.choice(["positive", "neutral", "negative"])
        score = {"positive": 0.7, "neutral": 0.0, "negative": -0.7}[label]
        tickers = tuple(rng.sample(SYMBOLS, rng.choice([1, 1, 2])))
        post = Post(f"p{i}", "x", ts, "news", "wire", tickers)
        posts.append(ScoredPost(post, label, score, "m", novel=i % 3 != 0))  # a third: copies
    posts.append(
        ScoredPost(Post("last", "x", END_MS, "news", "wire", ("S00",)), "neutral", 0.0, "m")
    )
    for start in range(0, len(posts), 120):
        plan = WritePlan()
        plan_aggregates(
            plan, keys, aggregate(posts[start : start + 120]), retention_s=86400, recent=5
        )
        assert sink.apply(plan).ok
    return Query(client, keys.namespace)


# minutes before END_MS (07:33:20), and the ends 07:33:00.000 and 07:00:00.000
@pytest.mark.parametrize(
    "end_offset_ms", [m * 60_000 for m in (0, 7, 31, 59, 60 * 25)] + [20_000, 2_000_000]
)
def test_rollups_equal_windows_and_hour_totals(filled: Query, end_offset_ms: int) -> None:
    end = END_MS - end_offset_ms
    entities = [MARKET, *(ticker_entity(s) for s in SYMBOLS)]
    windows = [300, 3600, 86400]
    got = filled.rollups(entities, windows, 26, end)
    for w in windows:
        plain = filled.windows(entities, w, end)
        for entity in entities:
            assert got[entity].windows[w] == plain[entity], (entity, w)
    assert got[MARKET].windows[86400].count > 0
    # the end of the hour holding the window's last minute (windows are half-open)
    last_hour_end = (end - 1) // 3_600_000 * 3_600_000 + 3_600_000
    minutes = filled.many_series(entities, 26 * 3600, last_hour_end)
    for entity in entities:
        per_hour: dict[int, int] = {}
        for point in minutes[entity]:
            per_hour[point.minute_s // 3600 * 3600] = (
                per_hour.get(point.minute_s // 3600 * 3600, 0) + point.stats.count
            )
        assert [(h, s.count) for h, s in got[entity].hours] == sorted(per_hour.items())


@pytest.mark.parametrize("end_offset_ms", [0, 31 * 60_000, 60 * 25 * 60_000, 2_000_000])
def test_rollups_with_stories_equal_the_story_windows(filled: Query, end_offset_ms: int) -> None:
    end = END_MS - end_offset_ms
    entities = [MARKET, *(ticker_entity(s) for s in SYMBOLS)]
    windows = [300, 3600, 86400]
    got = rollups.rollups(
        filled.client, filled.keys, entities, windows, 26, end, stories=entities[1:]
    )
    plain = filled.rollups(entities, windows, 26, end)
    assert got[MARKET] == plain[MARKET] and got[MARKET].stories == {}
    for w in windows:
        stories = filled.story_windows(entities, w, end)
        for entity in entities[1:]:
            assert got[entity].windows == plain[entity].windows, entity
            assert got[entity].hours == plain[entity].hours, entity
            assert got[entity].stories[w] == stories[entity], (entity, w)
    day = got[ticker_entity("S00")].stories[86400]
    assert 0 < day.count < got[ticker_entity("S00")].windows[86400].count


def test_rollups_fall_back_to_client_side_sums_when_scripts_are_refused(
    filled: Query, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis

    def refuse(*_: Any, **__: Any) -> Any:
        raise redis.exceptions.NoPermissionError(
            "NOPERM this user has no permissions to run 'evalsha'"
        )

    entities = [ticker_entity(s) for s in SYMBOLS]
    expected = filled.rollups(entities, [300, 3600], 26)
    end = filled.default_end()
    with_stories = rollups.rollups(filled.client, filled.keys, entities, [300, 3600], 26, end,
                                   stories=entities[::2])  # fmt: skip
    monkeypatch.setattr(rollups, "_scripted", refuse)
    assert filled.rollups(entities, [300, 3600], 26) == expected
    assert rollups.rollups(filled.client, filled.keys, entities, [300, 3600], 26, end,
                           stories=entities[::2]) == with_stories  # fmt: skip
    assert with_stories[entities[0]].stories[3600].count > 0


def test_ranked_tickers_equal_active_tickers(filled: Query) -> None:
    for seconds in (300, 3600, 86400):
        ranked = filled.ranked_tickers(seconds, limit=500)
        assert [s for s, _ in ranked] == filled.active_tickers(seconds, limit=500)
        assert all(n > 0 for _, n in ranked)
    assert len(filled.ranked_tickers(86400, limit=3)) == 3


def test_lag_by_topic_sums_fresh_consumers_and_estimates_seconds(filled: Query) -> None:
    now = int(time.time() * 1000)
    snapshots = {
        "c1": {"ts": now, "rate": 50.0, "lag": {"news:0": 100, "news:1": 50, "social:0": 0}},
        "c2": {"ts": now, "rate": 10.0, "lag": {"news:2": 20, "social:1": 30}},
        "gone": {"ts": now - 600_000, "rate": 1.0, "lag": {"news:3": 9999}},
    }
    filled.client.hset(filled.keys.health, mapping={k: json.dumps(v) for k, v in snapshots.items()})
    assert filled.lag_by_topic(now) == [
        TopicLag("news", 170, 5.0),  # c1 drains 150 at 50/s = 3 s, c2 50 at 10/s = 5 s
        TopicLag("social", 30, 5.0),
    ]
    filled.client.hset(
        filled.keys.health, "idle", json.dumps({"ts": now, "rate": 0, "lag": {"news:4": 5}})
    )
    news = filled.lag_by_topic(now)[0]
    assert news.messages == 175 and news.seconds is None
    filled.client.delete(filled.keys.health)


def test_the_dashboards_alert_reads_see_the_alert_engine_keys(filled: Query) -> None:
    from sentimon.alerts.history import AlertReader
    from sentimon.alerts.silence_store import SilenceStore
    from sentimon.alerts.silences import parse_matchers

    payload = {"id": "abc", "status": "firing", "rule": "r", "entity": "ticker:S01", "event_ms": 5}
    filled.client.xadd(
        filled.keys.alerts,
        {"event": "abc.1", "id": "abc", "status": "firing", "rule": "r", "ts": "5", "notify": "1",
         "muted": "", "payload": json.dumps(payload)},
    )  # fmt: skip
    reader = AlertReader(filled.client, filled.namespace)
    events = reader.events(10)
    assert len(events) == 1 and events[0]["entity"] == "ticker:S01" and events[0]["notify"] is True
    assert events[0]["stream_id"]
    assert reader.open_alerts() == []
    store = SilenceStore(filled.client, filled.keys)
    store.add(parse_matchers(["ticker=S01"]), 3600, "test")
    silences = store.listing()
    assert len(silences) == 1 and silences[0]["active"] is True
    assert silences[0]["matchers"] == ["ticker=S01"]
    assert store.listing(now_ms=int(time.time() * 1000) + 7_200_000)[0]["active"] is False


LINKED_SYMBOLS = [f"L{i:02d}" for i in range(40)]
LINKED_SECTORS = ("Energy", "Financials", "Utilities")


@pytest.fixture(scope="module")
def linked(stack: Any) -> Query:
    """26 h of posts naming 1-3 companies each, at every relevance, through the real
    aggregate path and sink (as ``inference.posts.PostScorer`` hands them over)."""
    client = connect(stack.settings())
    keys = Keys(f"rel-{uuid.uuid4().hex[:8]}")
    sink = RedisSink(client, keys, dedup_horizon_s=0)
    rng = random.Random(5)
    posts = []
    for i in range(2500):
        ts = END_MS - rng.randrange(26 * 3600 * 1000)
        named = rng.sample(LINKED_SYMBOLS, rng.choice([1, 2, 3]))
        companies = tuple(company(rng, sym) for sym in named)
        post = Post(f"r{i}", "x", ts, "news", "wire", ())
        posts.append(ScoredPost(post, "neutral", 0.0, "m", companies))
    posts.append(ScoredPost(Post("last", "x", END_MS, "news", "wire", ()), "neutral", 0.0, "m"))
    for start in range(0, len(posts), 150):
        plan = WritePlan()
        plan_aggregates(
            plan, keys, aggregate(posts[start : start + 150]), retention_s=86400, recent=5
        )
        assert sink.apply(plan).ok
    return Query(client, keys.namespace)


def company(rng: random.Random, symbol: str) -> Any:
    """``symbol`` with a random sentiment and relevance, in Energy or Financials."""
    from sentimon.aggregate import CompanyScore

    label = rng.choice(["positive", "neutral", "negative"])
    score = {"positive": 0.6, "neutral": 0.0, "negative": -0.6}[label]
    sector = LINKED_SECTORS[int(symbol[1:]) % 2]  # Utilities stays empty
    return CompanyScore(symbol, label, score, rng.choice([0.2, 0.4, 0.6, 0.8, 1.0]), sector=sector)


@pytest.mark.parametrize("minimum", [0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
def test_snapshot_relevant_figures_equal_the_relevance_reads(linked: Query, minimum: float) -> None:
    from dashboard.snapshot import LONG_S, SHORT_S, load_snapshot

    snap = load_snapshot(linked, 6 * 3600, sectors=LINKED_SECTORS, min_relevance=minimum)
    assert {row.symbol for row in snap.tickers} == set(LINKED_SYMBOLS)
    entities = [ticker_entity(row.symbol) for row in snap.tickers]
    short, long = (linked.relevance_windows(entities, s, snap.end_ms) for s in (SHORT_S, LONG_S))
    # the last full hour of the sparkline, read as a window of its own
    last_hour_end = (snap.end_ms - 1) // 3_600_000 * 3_600_000
    hour = linked.relevance_windows(entities, 3600, last_hour_end)
    stories = linked.story_windows(entities, LONG_S, snap.end_ms)
    for row, entity in zip(snap.tickers, entities, strict=True):
        assert row.view.m5 == short[entity].at_least(minimum), row.symbol
        assert row.view.h1 == long[entity].at_least(minimum), row.symbol
        assert row.view.hours[-2] == hour[entity].at_least(minimum), row.symbol
        assert row.weighted_mean_1h == pytest.approx(long[entity].weighted_mean), row.symbol
        assert row.view.story_h1 == stories[entity], row.symbol  # every story, any relevance
    sectors = linked.relevance_windows([sector_entity(s) for s in LINKED_SECTORS], 6 * 3600)
    assert [s.sector for s in snap.sectors] == list(LINKED_SECTORS)
    for got in snap.sectors:
        assert got.stats == sectors[sector_entity(got.sector)]
    assert snap.sectors[0].stats.all.count > 0 and snap.sectors[2].stats.all.count == 0


def test_a_snapshot_costs_the_same_round_trips_for_5_or_40_tickers(
    linked: Query, monkeypatch: pytest.MonkeyPatch
) -> None:
    from redis.connection import AbstractConnection

    from dashboard.snapshot import load_snapshot

    sent: list[int] = []
    original = AbstractConnection.send_packed_command

    def counting(self: Any, command: Any, check_health: bool = True) -> None:
        sent.append(1)
        original(self, command, check_health)

    load_snapshot(linked, 6 * 3600, limit=5)  # the roll-up script is loaded once
    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    trips = []
    for limit in (5, 40):
        sent.clear()
        snap = load_snapshot(
            linked, 6 * 3600, limit=limit, sectors=LINKED_SECTORS, min_relevance=0.4
        )
        assert len(snap.tickers) == limit
        trips.append(len(sent))
    # watermark, volume index, two roll-ups (each: a script check, then its entities'
    # calls in one pipeline), sectors, market series
    assert trips == [8, 8], trips
