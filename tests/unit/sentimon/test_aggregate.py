import json

from sentimon.aggregate import ScoredPost, aggregate
from sentimon.contract import Post
from sentimon.keys import Keys
from sentimon.windows import Stats
from sentimon.writeplan import WritePlan, plan_aggregates

T0 = 1_700_000_000_000  # 22:13:20 UTC; minute 22:13


def sp(pid, ts, tickers=(), label="negative", score=-0.5, kind="news"):
    post = Post(id=pid, text="t", ts_ms=ts, kind=kind, source="wire", tickers=tuple(tickers))
    return ScoredPost(post, label, score, "m@1")


def test_every_post_counts_for_market_and_kind_even_without_tickers():
    update = aggregate([sp("a", T0), sp("b", T0, ["AAPL"], "positive", 0.8, kind="social")])
    minute = T0 // 1000 // 60 * 60
    assert update.buckets[("market", minute)].count == 2
    assert update.buckets[("kind:news", minute)].count == 1
    assert update.buckets[("kind:social", minute)].positive == 1
    assert update.buckets[("ticker:AAPL", minute)].s_micro == 800_000
    assert update.entities == {"market", "kind:news", "kind:social", "ticker:AAPL"}
    assert update.max_event_ms == T0


def test_buckets_split_by_minute_and_volume_by_hour():
    update = aggregate(
        [sp("a", T0, ["X"]), sp("b", T0 + 61_000, ["X"]), sp("c", T0 + 62_000, ["X"])]
    )
    counts = sorted(s.count for (e, _), s in update.buckets.items() if e == "ticker:X")
    assert counts == [1, 2]
    assert sum(update.volume.values()) == 3


def test_plan_writes_minute_and_hour_totals_and_fences_nothing_by_itself():
    plan = WritePlan()
    update = aggregate([sp("a", T0, ["AAPL"])])
    plan_aggregates(plan, Keys("live"), update, retention_s=3600, recent=10)
    key = "sentimon:{live}:h:ticker:AAPL:" + str(T0 // 1000 // 3600 * 3600)
    minute_slot = (T0 // 1000 % 3600) // 60
    incrs = {(c[1], c[2]): c[3] for c in plan.commands if c[0] == "HINCRBY"}
    assert incrs[(key, f"{minute_slot}:n")] == 1 and incrs[(key, "n")] == 1
    assert incrs[(key, "neg")] == 1 and incrs[(key, "s")] == -500_000
    assert any(c[0] == "EXPIRE" and c[1] == key for c in plan.commands)
    assert sum(1 for c in plan.commands if c[0] == "XADD") == 2  # market feed + ticker feed
    assert plan.fences == []


def test_a_post_summary_is_one_shared_value_for_all_its_streams():
    plan = WritePlan()
    update = aggregate([sp("a", T0, ["AAPL", "MSFT"]), sp("b", T0, ["AAPL"])])
    plan_aggregates(plan, Keys("live"), update, retention_s=3600, recent=10)
    xadds = [c for c in plan.commands if c[0] == "XADD"]
    assert len(xadds) == 5  # a: market, AAPL, MSFT; b: market, AAPL
    assert len(plan.values) == 2  # one summary per post, not per stream
    bodies = {c[1]: plan.resolve(c[-1]) for c in xadds if c[1].endswith("ticker:MSFT")}
    assert [json.loads(b)["id"] for b in bodies.values()] == ["a"]


def test_a_bucket_sums_every_post_of_its_entity_and_minute():
    posts = [sp(str(i), T0 + i * 100, ["AAPL"], "positive", i / 10) for i in range(5)]
    update = aggregate(posts)
    minute = T0 // 1000 // 60 * 60
    expected = sum((Stats.of_post(p.label, p.score) for p in posts), Stats())
    assert update.buckets[("ticker:AAPL", minute)] == expected
    assert update.buckets[("market", minute)] == expected
