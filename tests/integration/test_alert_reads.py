"""The alert hook's one read script against a real Redis: the window sums it returns for
ranges of minutes equal the posts' own stats on every field rules measure."""

from __future__ import annotations

import random
from typing import Any

import pytest

from sentimon.aggregate import ScoredPost, aggregate
from sentimon.alerts.state import RANGE_FIELDS, WINDOW_BLOCK, AlertStore, MinuteRange, WindowRequest
from sentimon.contract import Post
from sentimon.keys import MARKET, Keys
from sentimon.store.client import connect
from sentimon.store.sink import RedisSink
from sentimon.windows import HOUR, MINUTE, Stats, minute_of
from sentimon.writeplan import Fence, WritePlan, plan_aggregates

HOUR0 = 1_800_000_000 // HOUR * HOUR  # an hour start, in epoch seconds


def _posts(n: int) -> list[ScoredPost]:
    """``n`` posts over two hours (every ~30 s), with random labels and scores."""
    rng = random.Random(7)
    out = []
    for i in range(n):
        label = rng.choice(["positive", "neutral", "negative"])
        post = Post(f"p{i}", "text", (HOUR0 + 20 * 60 + 30 * i) * 1000, "social", "t", ("AAPL",))
        out.append(ScoredPost(post, label, rng.uniform(-1, 1), "m@1"))
    return out


def _expected(posts: list[ScoredPost], r: MinuteRange) -> Stats:
    total = Stats()
    for item in posts:
        if r.entity in item.entities() and r.contains(minute_of(item.post.ts_ms)):
            total = total + Stats.of_post(item.label, item.score)
    return total


@pytest.fixture
def written(stack: Any) -> tuple[AlertStore, list[ScoredPost]]:
    client = connect(stack.settings())
    keys = Keys("alert-reads")
    for key in client.scan_iter(f"{keys.prefix}*"):
        client.delete(key)
    posts = _posts(200)
    plan = WritePlan(ids=[p.post.id for p in posts], fences=[Fence("news:0", 0, len(posts))])
    plan_aggregates(plan, keys, aggregate(posts), retention_s=7 * 24 * 3600, recent=10)
    assert RedisSink(client, keys, dedup_horizon_s=60).apply(plan).ok
    return AlertStore(client, keys), posts


def test_range_sums_equal_the_posts_stats(written: tuple[AlertStore, list[ScoredPost]]) -> None:
    store, posts = written
    at = lambda minute: HOUR0 + minute * MINUTE  # noqa: E731
    ranges = [
        MinuteRange(MARKET, at(21), at(35)),  # inside one hour
        MinuteRange(MARKET, at(22), at(36)),  # overlaps the previous: one read of the union
        MinuteRange("ticker:AAPL", at(50), at(64)),  # across the hour boundary
        MinuteRange("ticker:AAPL", at(60), at(119)),  # a whole hour: its totals
        MinuteRange("kind:social", at(10), at(24)),  # partly before the first post
        MinuteRange("ticker:MSFT", at(30), at(44)),  # nothing there
    ]
    _, reads = store.fetch([], ranges, [])
    assert reads.ranges == ranges
    measured = [("count", "n"), ("negative", "neg"), ("s_micro", "s"), ("ss_micro", "ss")]
    assert [name for _, name in measured] == list(RANGE_FIELDS)
    for r, got in zip(ranges, reads.windows, strict=True):
        want = _expected(posts, r)
        assert [getattr(got, a) for a, _ in measured] == [getattr(want, a) for a, _ in measured]
        assert (got.positive, got.neutral) == (0, 0)  # not read: no rule measures them
    assert reads.windows[0].count > 0 and reads.windows[3].count == 120
    assert reads.windows[5] == Stats()


def test_thousands_of_records_are_read_in_one_call(
    written: tuple[AlertStore, list[ScoredPost]],
) -> None:
    """More record fields than Lua's ``unpack`` takes at once (about 8,000)."""
    store, _ = written
    fields = [f"rule|ticker:T{i}" for i in range(9_000)]
    store.client.hset(
        store.keys.alert_state, mapping={f: f"v{i}" for i, f in enumerate(fields[::2])}
    )
    snapshot, _ = store.fetch(fields, [], [])
    assert snapshot.records == {
        f: (f"v{i // 2}" if i % 2 == 0 else None) for i, f in enumerate(fields)
    }


def test_disjoint_window_requests_read_their_own_windows(
    written: tuple[AlertStore, list[ScoredPost]],
) -> None:
    """One series' windows a century apart, as two requests (the hook sends one per
    stretch of windows its ticks' baselines need)."""
    store, _ = written
    w = 900
    old, new = 946_684_800 // w, 4_102_444_740 // w
    for index, count in ((old - 3, 2), (old - 1, 5), (new - 16, 7), (new - 1, 1)):
        block = store.keys.alert_window(MARKET, w, index // WINDOW_BLOCK)
        store.client.hset(block, mapping={f"{index}:n": count, f"{index}:s": 1, f"{index}:ss": 3})
    requests = [
        WindowRequest(MARKET, w, old - 16, old - 1),
        WindowRequest(MARKET, w, new - 16, new - 1),
    ]
    _, reads = store.fetch([], [], requests)
    assert [sorted((i, s.count) for i, s in found.items()) for found in reads.sums] == [
        [(old - 3, 2), (old - 1, 5)],
        [(new - 16, 7), (new - 1, 1)],
    ]
