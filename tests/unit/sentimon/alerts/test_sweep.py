"""The event-time sweep through a batch's ticks."""

from __future__ import annotations

from sentimon.aggregate import ScoredPost, aggregate
from sentimon.alerts.lifecycle import AlertState
from sentimon.alerts.rules import Rule
from sentimon.alerts.sweep import Tick, entity_ticks, history_of, sweep
from sentimon.contract import Post
from sentimon.windows import Stats

RULE = Rule(
    "neg",
    "negative_share",
    ("ticker:*",),
    300,
    threshold=0.6,
    resolve=0.3,
    min_count=3,
    cooldown_s=0,
)


def post(i: int, ts_ms: int, ticker: str = "ACME") -> ScoredPost:
    p = Post(id=str(i), text="t", ts_ms=ts_ms, kind="news", source="s", tickers=(ticker,))
    return ScoredPost(p, "negative", -0.9, "m")


def test_entity_ticks_are_minutes_with_their_latest_time():
    update = aggregate([post(1, 61_000), post(2, 119_000), post(3, 5_000), post(4, 200_000, "XYZ")])
    ticks = entity_ticks(update)
    assert ticks["ticker:ACME"] == [Tick(0, 5_000), Tick(60, 119_000)]
    assert ticks["market"][-1] == Tick(180, 200_000)
    assert set(ticks) == {"market", "kind:news", "ticker:ACME", "ticker:XYZ"}


def test_history_is_most_recent_first():
    sums = {9: Stats(count=9), 8: Stats(count=8), 5: Stats(count=5)}
    rule = Rule("v", "volume_spike", ("*",), 60, 3.0, 1.0, history=4)
    counts = [s.count for s in history_of(rule, Tick(600, 600_500), sums)]
    assert counts == [9, 8, 0, 0]


def test_one_backfill_batch_can_open_and_resolve():
    windows = {
        0: Stats(count=4, negative=4),
        60: Stats(count=5, negative=4),
        120: Stats(count=5, negative=2),
        180: Stats(count=5, negative=0),
    }
    ticks = [Tick(m, m * 1000 + 30_000) for m in sorted(windows)]
    result = sweep(
        RULE,
        AlertState(),
        ticks,
        window_of=lambda t: windows[t.minute_s],
        sums={},
        mute=lambda: None,
        make_id=lambda t: f"a{t}",
    )
    assert [(e.notice.status, e.tick.minute_s) for e in result.emitted] == [
        ("firing", 0),
        ("resolved", 180),
    ]
    assert not result.state.firing and result.state.resolved_ms == 210_000
