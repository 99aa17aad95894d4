"""The roll-up plan and its client-side sums, against a naive per-minute sum (pure)."""

from __future__ import annotations

import random

import pytest

from sentimon.keys import STORY_FIELDS
from sentimon.store.rollups import _STAT, _parse, _plan, _sum_entity
from sentimon.windows import HOUR, Stats

END_MS = 1_793_000_000_000  # 07:33:20 UTC
LAST_HOUR = END_MS // 1000 // HOUR * HOUR


def random_hours(rng: random.Random, count: int) -> dict[int, dict[str, int]]:
    """Hour start -> hash fields, as the sink writes them (minutes after END_MS empty)."""
    out: dict[int, dict[str, int]] = {}
    for i in range(count):
        hour = LAST_HOUR - i * HOUR
        fields: dict[str, int] = {}
        for m in range(60):
            if hour + m * 60 > END_MS // 1000 or rng.random() < 0.3:
                continue
            values = [rng.randint(1, 5), rng.randint(0, 2), 0, rng.randint(0, 2)]
            values += [rng.randint(-3_000_000, 3_000_000), rng.randint(0, 5_000_000)]
            for name, v in zip(_STAT, values, strict=True):
                fields[f"{m}:{name}"] = v
                fields[name] = fields.get(name, 0) + v
        out[hour] = fields
    return out


def naive(hashes: dict[int, dict[str, int]], end_ms: int, seconds: int) -> Stats:
    """Sum of the minute buckets that start in ``[end - seconds, end)``."""
    total = Stats()
    start_s = -(-(end_ms - seconds * 1000) // 60_000) * 60  # first minute start >= end - W
    for minute in range(start_s, start_s + seconds, 60):
        fields = hashes.get(minute // HOUR * HOUR, {})
        m = (minute % HOUR) // 60
        total = total + Stats(*(fields.get(f"{m}:{name}", 0) for name in _STAT))
    return total


# offsets before END_MS (07:33:20): mid-minute ends, 07:33:00.000 and 07:00:00.000
@pytest.mark.parametrize(
    "end_offset_ms", [0, 17 * 60_000, 33 * 60_000, 301 * 60_000, 20_000, 2_000_000]
)
def test_client_side_sums_equal_a_naive_minute_sum(end_offset_ms):
    rng = random.Random(end_offset_ms)
    hashes = random_hours(rng, 30)
    end = END_MS - end_offset_ms
    windows = [300, 3600, 2 * 3600 + 600]
    plan = _plan(end, windows, 26)
    replies = [
        dict(hashes.get(h, {})) if i in plan.partial_hours()
        else [hashes.get(h, {}).get(name) for name in _STAT]
        for i, h in enumerate(plan.hour_starts, start=1)
    ]  # fmt: skip
    rollup = _parse(_sum_entity(replies, plan), plan)
    for w in windows:
        assert rollup.windows[w] == naive(hashes, end, w), w
    assert [h for h, _ in rollup.hours] == plan.wanted_hours
    last_hour = (end - 1) // 1000 // HOUR * HOUR  # the hour of the last minute before end
    assert len(rollup.hours) == 26 and rollup.hours[-1][0] == last_hour
    first_hour, first_stats = rollup.hours[0]
    assert first_stats.count == hashes.get(first_hour, {}).get("n", 0)


def test_plan_marks_only_partly_covered_hours_partial():
    plan = _plan(END_MS, [300, 3600, 3 * HOUR], 2)
    partial = {plan.hour_starts[i - 1] for i in plan.partial_hours()}
    # 5m: 07:29-07:33; 1h: 06:34-07:33; 3h: 04:34-07:33 -> partial 07:00, 06:00, 04:00
    assert partial == {LAST_HOUR, LAST_HOUR - HOUR, LAST_HOUR - 3 * HOUR}
    assert plan.argv[:2] == [len(plan.hour_starts), 3]


def test_plan_ending_on_an_hour_boundary_reads_whole_hours_before_it():
    end = LAST_HOUR * 1000  # 07:00:00.000: 1h is 06:00-06:59, 3h is 04:00-06:59
    plan = _plan(end, [3600, 3 * HOUR], 2)
    assert plan.partial_hours() == set()
    assert plan.wanted_hours == [LAST_HOUR - 2 * HOUR, LAST_HOUR - HOUR]
    assert LAST_HOUR not in plan.hour_starts


def test_a_roll_up_over_its_span_bound_is_refused_before_redis_is_asked() -> None:
    from sentimon.errors import ScriptBoundError
    from sentimon.keys import Keys
    from sentimon.store.rollups import MAX_ROLLUP_SPANS, rollups

    class NoRedis:
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"Redis was asked ({name})")

    month = 30 * 86_400
    windows = [month - 60 * i for i in range(9)]  # 9 x ~721 hour spans
    with pytest.raises(ScriptBoundError, match="window spans"):
        rollups(NoRedis(), Keys("t"), ["market"], windows, 2, 1_793_000_000_000)  # type: ignore[arg-type]
    assert MAX_ROLLUP_SPANS < 9 * 721


def with_story_fields(hashes: dict[int, dict[str, int]], rng: random.Random) -> None:
    """Add story fields (stories begun, negative ones, score sum) to each minute with posts."""
    for fields in hashes.values():
        for m in range(60):
            if f"{m}:n" not in fields:
                continue
            begun = rng.randint(0, fields[f"{m}:n"])
            values = [begun, rng.randint(0, begun), rng.randint(-begun, begun) * 100_000]
            for name, v in zip(STORY_FIELDS, values, strict=True):
                fields[f"{m}:{name}"] = v
                fields[name] = fields.get(name, 0) + v


def naive_stories(hashes: dict[int, dict[str, int]], end_ms: int, seconds: int) -> Stats:
    total = [0, 0, 0]
    start_s = -(-(end_ms - seconds * 1000) // 60_000) * 60
    for minute in range(start_s, start_s + seconds, 60):
        fields = hashes.get(minute // HOUR * HOUR, {})
        m = (minute % HOUR) // 60
        total = [t + fields.get(f"{m}:{n}", 0) for t, n in zip(total, STORY_FIELDS, strict=True)]
    return Stats(count=total[0], negative=total[1], s_micro=total[2])


@pytest.mark.parametrize("end_offset_ms", [0, 33 * 60_000, 20_000, 2_000_000])
def test_story_fields_are_summed_beside_the_stats_when_asked(end_offset_ms):
    rng = random.Random(end_offset_ms + 1)
    hashes = random_hours(rng, 30)
    with_story_fields(hashes, rng)
    end = END_MS - end_offset_ms
    windows = [300, 3600, 2 * 3600 + 600]
    plain = _plan(end, windows, 26)
    plan = plain.with_stories()
    assert plan.argv[:6] == [len(plan.hour_starts), 3, 3, *STORY_FIELDS]
    assert plain.argv[:3] == [len(plan.hour_starts), 3, 0]
    replies = [
        dict(hashes.get(h, {})) if i in plan.partial_hours()
        else [hashes.get(h, {}).get(name) for name in plan.fields]
        for i, h in enumerate(plan.hour_starts, start=1)
    ]  # fmt: skip
    rollup = _parse(_sum_entity(replies, plan), plan)
    for w in windows:
        assert rollup.windows[w] == naive(hashes, end, w), w
        assert rollup.stories[w] == naive_stories(hashes, end, w), w
    assert rollup.stories[3600].count > 0
    assert [h for h, _ in rollup.hours] == plan.wanted_hours
