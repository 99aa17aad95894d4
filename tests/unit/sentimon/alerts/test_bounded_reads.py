"""The alert read's work per batch (no Redis): each tick's baseline windows only, never the
span between the batch's oldest and newest post, and the read script's bounds."""

from __future__ import annotations

import json
from dataclasses import replace
from itertools import pairwise
from typing import Any

import pytest

from sentimon.aggregate import CompanyScore, ScoredPost, aggregate
from sentimon.alerts import state
from sentimon.alerts.baseline import window_index
from sentimon.alerts.hook import AlertHook, _Batch
from sentimon.alerts.pairs import Pair, union, window_deltas, window_requests
from sentimon.alerts.rulefile import load_rules
from sentimon.alerts.rules import Rule, RuleSet
from sentimon.alerts.state import (
    AlertSnapshot,
    AlertStore,
    MinuteRange,
    ReadWork,
    WindowRequest,
    check_read_bounds,
    read_work,
)
from sentimon.alerts.sweep import Tick, entity_ticks
from sentimon.contract import Post
from sentimon.entities.universe import GICS_SECTORS
from sentimon.errors import ScriptBoundError
from sentimon.keys import Keys
from sentimon.store import sink
from sentimon.store.sink import check_plan
from sentimon.windows import HOUR, MINUTE, Stats, minute_of
from sentimon.writeplan import WritePlan, plan_aggregates

Y2000 = 946_684_800_000  # 2000-01-01T00:00:00Z, the earliest event time accepted
Y2099 = 4_102_444_740_000  # 2099-12-31T23:59:00Z
NOW = 1_793_001_600_000  # 2026-10-26T08:00:00Z

DROP = Rule("drop", "sentiment_drop", ("*",), 900, 3.0, 1.0, history=16)
SPIKE = Rule("spike", "volume_spike", ("*",), 900, 3.0, 1.5, history=8)
SHARE = Rule("share", "negative_share", ("*",), 900, 0.7, 0.5)  # no baseline


class FakeRedis:
    """Runs the read script's contract without Redis: zero sums, no windows, and the
    spec of every call kept (``calls``)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def register_script(self, _script: str) -> Any:
        def run(*, keys: list[str], args: list[str]) -> list[Any]:
            spec = json.loads(args[0])
            self.calls.append(spec)
            sums = [0] * (len(state.RANGE_FIELDS) * len(spec["ranges"]))
            stories = [0] * (len(state.STORY_RANGE_FIELDS) * len(spec["stories"]))
            windows = [[] for _ in spec["windows"]]
            return [[None] * len(spec["fields"]), [], [], sums, windows, stories]

        return run


def _hook(rules: RuleSet, client: Any = None) -> AlertHook:
    redis: Any = client or FakeRedis()
    return AlertHook(rules, redis, Keys("unit"), clock=lambda: NOW / 1000)


def _store(client: Any) -> AlertStore:
    return AlertStore(client, Keys("unit"))


def _post(i: int, ts_ms: int, *tickers: str) -> ScoredPost:
    p = Post(id=f"p{i}", text="t", ts_ms=ts_ms, kind="news", source="s", tickers=tickers)
    return ScoredPost(p, "negative", -0.5, "m")


def _company_post(i: int, ts_ms: int, companies: list[tuple[str, float, str | None]]) -> ScoredPost:
    p = Post(id=f"p{i}", text="t", ts_ms=ts_ms, kind="news", source="s", tickers=())
    named = tuple(CompanyScore(t, "negative", -0.5, relevance=r, sector=sector)
                  for t, r, sector in companies)  # fmt: skip
    return ScoredPost(p, "negative", -0.5, "m", named)


def _windows(requests: list[WindowRequest]) -> int:
    return sum(r.last - r.first + 1 for r in requests)


def test_union_merges_overlapping_and_adjacent_intervals_only() -> None:
    assert union([(5, 9), (1, 3), (4, 4), (20, 30), (12, 15), (14, 18)]) == [
        (1, 9),
        (12, 18),
        (20, 30),
    ]
    assert union([]) == []


def test_a_century_apart_requests_only_the_windows_each_baseline_reads() -> None:
    times = [Y2000, NOW, NOW + 5 * MINUTE * 1000, Y2099]
    ticks = [Tick(minute_of(t), t) for t in times]
    pairs = [Pair(r, "ticker:ACME", r.name, None, ticks) for r in (DROP, SPIKE, SHARE)]
    requests = window_requests(pairs)
    # The two ticks 5 minutes apart share a window; the others stand alone.
    assert len(requests) == 3
    assert _windows(requests) <= len(ticks) * DROP.history
    assert _windows(requests) == 3 * DROP.history
    for tick in ticks:  # every window a tick's baseline reads is requested
        index = window_index(tick.ts_ms, DROP.window_s)
        for k in range(1, DROP.history + 1):
            assert any(r.first <= index - k <= r.last for r in requests)
    ordered = sorted((r.first, r.last) for r in requests)
    assert all(a[1] + 1 < b[0] for a, b in pairwise(ordered))


def test_a_spread_batch_reads_about_what_two_ordinary_posts_read() -> None:
    def read_of(times: list[int]) -> ReadWork:
        client = FakeRedis()
        hook = _hook(load_rules(), client)
        hook.before_write(WritePlan(), aggregate(_post(i, t, "ACME") for i, t in enumerate(times)))
        [spec] = client.calls
        return read_work(spec)

    half_hour = 30 * MINUTE * 1000
    spread = read_of([Y2000 + half_hour, Y2099 - half_hour])
    ordinary = read_of([NOW + half_hour, NOW + 21 * half_hour])  # baselines apart, too
    assert spread == ordinary
    assert spread.fields < 2_000


def test_several_requests_of_one_series_are_merged_with_the_batch_deltas() -> None:
    hook = _hook(RuleSet((DROP,)))
    update = aggregate([_post(1, Y2000, "ACME"), _post(2, Y2099, "ACME")])
    pairs = [
        Pair(DROP, entity, entity, None, ticks) for entity, ticks in entity_ticks(update).items()
    ]
    requests = [r for r in window_requests(pairs) if r.entity == "ticker:ACME"]
    assert len(requests) == 2
    deltas = window_deltas(hook.rules, update)
    old, new = (window_index(t, DROP.window_s) for t in (Y2000, Y2099))
    # Redis had a window before each post; this batch adds to the window before Y2099's.
    deltas[("ticker:ACME", DROP.window_s, new - 1)] = Stats(count=2)
    reads = state.Reads(
        requests=requests,
        sums=[{old - 1: Stats(count=3)}, {new - 1: Stats(count=4), new - 5: Stats(count=1)}],
    )
    batch = _Batch(WritePlan(), update, AlertSnapshot(), 0, deltas=deltas)
    hook._apply_reads(pairs, reads, batch)
    assert batch.sums[("ticker:ACME", DROP.window_s)] == {
        old - 1: Stats(count=3),
        new - 1: Stats(count=6),
        new - 5: Stats(count=1),
    }


def test_read_work_counts_what_the_script_reads() -> None:
    store = _store(FakeRedis())
    h = NOW // 1000 // HOUR * HOUR
    ranges = [
        MinuteRange("market", h + 50 * MINUTE, h + HOUR + 4 * MINUTE),  # 10 + 5 minutes
        MinuteRange("market", h + 55 * MINUTE, h + HOUR + 9 * MINUTE),  # unions: 10 and 10
        MinuteRange("market", h - 2 * HOUR, h - MINUTE),  # two whole hours: their totals
    ]
    requests = [WindowRequest("market", 900, 30, 33)]  # blocks 0 and 1: 2 + 2 windows
    spec = store._spec(["a|market", "b|market"], ranges, requests)
    width = len(state.RANGE_FIELDS)
    assert read_work(spec) == ReadWork(
        fields=2 + width * (2 + 10 + 10) + 3 * 4,
        spans=2 + 2 + 2,
        minutes=15 + 15,
    )


@pytest.mark.parametrize(
    ("bound", "count", "name"),
    [
        ("MAX_READ_FIELDS", "fields", "fields read"),
        ("MAX_READ_SPANS", "spans", "hour spans"),
        ("MAX_READ_MINUTES", "minutes", "minutes summed"),
    ],
)
def test_a_read_over_a_bound_raises_before_the_call(
    monkeypatch: pytest.MonkeyPatch, bound: str, count: str, name: str
) -> None:
    client = FakeRedis()
    store = _store(client)
    h = NOW // 1000 // HOUR * HOUR
    ranges = [MinuteRange(f"ticker:T{i}", h + 10 * MINUTE, h + HOUR + 4 * MINUTE) for i in range(3)]
    spec = store._spec(["x"], ranges, [])
    monkeypatch.setattr(state, bound, getattr(read_work(spec), count) - 1)
    with pytest.raises(ScriptBoundError, match=name) as err:
        store.fetch(["x"], ranges, [])
    assert "SENTIMON_MAX_BATCH" in str(err.value)
    assert client.calls == []


def test_the_bound_is_checked_before_a_huge_spec_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store(FakeRedis())
    huge = WindowRequest("market", 900, 0, 10**9)  # what one envelope of a century was
    with pytest.raises(ScriptBoundError, match="fields read"):
        store.fetch([], [], [huge])
    with pytest.raises(ScriptBoundError, match="hour spans"):
        store.fetch([], [MinuteRange("market", 0, 100 * 365 * 86400)], [])
    check_read_bounds({"fields": [], "ranges": [], "windows": []})


def test_the_largest_default_write_stays_within_every_bound() -> None:
    """64 posts x 4 coalesced, 20 companies a post in 11 sectors that no other post names,
    each post in its own hour from 2000 to 2099, every company relevant enough for the
    shipped rules (0.4: they read its 0.2 level as well): the most a default write reads
    and writes."""
    n = 256
    step = (Y2099 - Y2000) // (n - 1) // (HOUR * 1000) * HOUR * 1000
    posts = [
        _company_post(i, Y2000 + i * step, [(f"T{i}X{j}", 0.4, GICS_SECTORS[j % 11])
                                            for j in range(20)])
        for i in range(n)
    ]  # fmt: skip
    update = aggregate(posts)
    plan = WritePlan(ids=[p.post.id for p in posts])
    plan_aggregates(plan, Keys("unit"), update, retention_s=7 * 86400, recent=50)
    client = FakeRedis()
    _hook(load_rules(), client).before_write(plan, update)
    check_plan(plan)
    [spec] = client.calls
    work = check_read_bounds(spec)
    assert work.fields < 0.7 * state.MAX_READ_FIELDS
    assert work.spans < 0.7 * state.MAX_READ_SPANS
    assert work.minutes < 0.7 * state.MAX_READ_MINUTES
    # Each company and sector counts twice: in its own entity and at its relevance level;
    # each company's baseline sums go to two series (its 0.4 posts, its stories).
    assert len(plan.commands) < 0.6 * sink.MAX_PLAN_COMMANDS


def test_mentions_below_every_rule_s_minimum_read_nothing_of_their_entity() -> None:
    """A ticker named in passing (relevance 0.2) is no tick of a 0.4 rule: neither it nor
    its relevance level is read; the post's subject reads its window and its 0.2 level."""
    client = FakeRedis()
    post = _company_post(1, NOW, [("LEAD", 1.0, None), ("PASS", 0.2, None)])
    _hook(RuleSet((replace(SHARE, scope=("ticker:*",), min_relevance=0.4),)), client).before_write(
        WritePlan(), aggregate([post])
    )
    [spec] = client.calls
    assert spec["fields"] == ["share|ticker:LEAD"]
    prefix = Keys("unit").prefix + "h:"
    read = {key.removeprefix(prefix).rsplit(":", 1)[0] for r in spec["ranges"] for key, *_ in r}
    assert read == {"ticker:LEAD", "ticker:LEAD@0.2"}


def test_a_rule_counting_every_mention_reads_no_level() -> None:
    client = FakeRedis()
    post = _company_post(1, NOW, [("LEAD", 1.0, None), ("PASS", 0.2, None)])
    rule = replace(DROP, scope=("ticker:*",), min_relevance=0.2)
    _hook(RuleSet((rule,)), client).before_write(WritePlan(), aggregate([post]))
    [spec] = client.calls
    assert sorted(spec["fields"]) == ["drop|ticker:LEAD", "drop|ticker:PASS"]
    keys = [key for r in spec["ranges"] for key, *_ in r]
    keys += [key for w in spec["windows"] for key, *_ in w]
    assert keys and not any("@" in key for key in keys)
