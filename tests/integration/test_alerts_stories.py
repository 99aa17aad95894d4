"""Volume alerts that count stories, on real Redis through the real batch processor and
its real story index (``build_processor``; records fed in event-time order, no broker).

After an hour of normal news about ACME (one item a minute, each different), 40
re-worded wire copies of ONE story ("UPDATE 1-", " - Reuters", upper case, a URL
appended, ...) arrive within five minutes: a rule counting posts opens a volume alert, the
same rule counting stories does not (one more story). Later 40 DISTINCT items arrive as
fast: the story rule opens. Scoring is ``MarkerScorer`` (every post neutral here): the
alerts depend on the counts alone.
"""

from __future__ import annotations

from typing import Any

import pytest

from sentimon.alerts.state import AlertStore, MinuteRange
from sentimon.keys import Keys
from sentimon.store.query import Query
from tests.integration.alerting import MIN, T0, alert_env, feed, history

pytestmark = pytest.mark.integration

RULES = """
[[rule]]
name = "acme-{count}-spike"
scope = "ACME"
kind = "volume_spike"
window = "5m"
count = "{count}"
k = 3.0
resolve_k = 1.5
min_count = 10
warmup = 3
baseline_windows = 8
cooldown = "30m"
"""

WIRE = "$ACME wins $2.1 billion contract to supply radar systems to the US Army"
#: How outlets and accounts re-publish one wire story.
REWORDINGS = (
    "{}",
    "UPDATE 1-{}",
    "{} - Reuters",
    "BREAKING: {}",
    "{} https://news.example.com/acme-radar-{i}",
    "{} (adds analyst comment, shares)",
    "UPDATE 2-{} - Reuters",
    "UPPER",
)


def _at(minute: int, i: int = 0, per_minute: int = 1) -> int:
    return T0 + minute * MIN + i * (MIN // (per_minute + 1)) + 1000


def normal_news(minutes: range) -> list[dict[str, Any]]:
    """One item a minute, each a different fact (its own numbers)."""
    return [
        {"id": f"n-{m}", "ts": _at(m, 0),
         "text": f"$ACME plant {m} reports output of {1000 + 7 * m} units and {m % 9 + 2} new hires"}
        for m in minutes
    ]  # fmt: skip


def wire_copies(first_minute: int, n: int = 40) -> list[dict[str, Any]]:
    """``n`` copies of one wire story, 8 a minute, re-worded as outlets do."""
    out = []
    for i in range(n):
        form = REWORDINGS[i % len(REWORDINGS)]
        text = WIRE.upper() if form == "UPPER" else form.format(WIRE, i=i)
        minute = first_minute + i // 8
        out.append({"id": f"w-{i}", "ts": _at(minute, i % 8 + 1, 9), "text": text})
    return out


def distinct_news(first_minute: int, n: int = 40) -> list[dict[str, Any]]:
    """``n`` different items, 8 a minute (each its own store, city and headcount)."""
    return [
        {"id": f"d-{i}", "ts": _at(first_minute + i // 8, i % 8 + 1, 9),
         "text": f"$ACME opens store number {500 + i} in city {i}, hiring {20 + 3 * i} staff"}
        for i in range(n)
    ]  # fmt: skip


def firings(env: Any) -> list[tuple[str, int, dict[str, Any]]]:
    """(rule, minute, payload) of each firing notice, oldest first."""
    return [
        (e["rule"], (e["ts"] - T0) // MIN, e["payload"])
        for e in history(env)
        if e["status"] == "firing"
    ]


def test_copies_of_one_story_do_not_open_a_story_volume_alert_distinct_news_does(stack, tmp_path):
    rules = RULES.format(count="stories") + RULES.format(count="posts")
    env = alert_env(stack, tmp_path, rules)
    feed(env, normal_news(range(0, 60)) + wire_copies(60) + normal_news(range(60, 90)))

    q = Query(env.redis(), env.settings.namespace)
    end = _at(64, 8, 9)
    stories = q.story_windows(["ticker:ACME"], 300, end)["ticker:ACME"]
    assert stories.count == 6  # 5 normal items + 1 wire story (its 40 copies)
    fired = firings(env)
    assert [(rule, 60 <= minute < 65) for rule, minute, _ in fired] == [
        ("acme-posts-spike", True)
    ], fired  # the post count sees 40 copies as a spike; the story count does not

    feed(env, distinct_news(90) + normal_news(range(90, 100)))
    story_alerts = [(m, p) for rule, m, p in firings(env) if rule == "acme-stories-spike"]
    assert len(story_alerts) == 1, firings(env)
    minute, payload = story_alerts[0]
    assert 90 <= minute < 95
    assert payload["count"] == "stories" and payload["stats"]["count"] >= 10
    assert payload["stats"]["baseline_rate"] <= 5.5  # ~5 stories per 5 minutes before
    assert f"{payload['stats']['count']} stories vs baseline" in payload["summary"]


def test_the_alert_read_sums_stories_and_posts_over_whole_and_cut_hours(stack, tmp_path):
    env = alert_env(stack, tmp_path, RULES.format(count="stories"))
    feed(env, normal_news(range(0, 60)) + wire_copies(60) + normal_news(range(60, 70)))
    store = AlertStore(env.redis(), Keys(env.settings.namespace))
    t0, acme = T0 // 1000, "ticker:ACME"
    ranges = [
        MinuteRange(acme, t0, t0 + 59 * 60, stories=True),  # a whole hour: its totals
        MinuteRange(acme, t0 + 55 * 60, t0 + 64 * 60, stories=True),  # across the hour
        MinuteRange(acme, t0 + 55 * 60, t0 + 64 * 60),  # the same minutes' posts
        MinuteRange(acme, t0 + 61 * 60, t0 + 69 * 60, stories=True),  # after the story began
    ]
    _, reads = store.fetch([], ranges, [])
    assert [s.count for s in reads.windows] == [60, 11, 50, 9]
    assert reads.windows[1].negative == 0 and reads.windows[1].positive == 0
