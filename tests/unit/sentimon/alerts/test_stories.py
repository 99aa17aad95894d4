"""Rules that count stories (``count = "stories"``): parsing and validation, what the hook
reads and writes for them, their measurement and their payload (no Redis: the read
script's contract is faked)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from sentimon.aggregate import CompanyScore, ScoredPost, aggregate
from sentimon.alerts import state
from sentimon.alerts.baseline import Baseline
from sentimon.alerts.detect import measure
from sentimon.alerts.hook import AlertHook
from sentimon.alerts.lifecycle import Notice
from sentimon.alerts.pairs import Pair, counted, ranges_of, window_deltas
from sentimon.alerts.payload import build_payload, top_posts
from sentimon.alerts.rulefile import load_rules, parse_rules
from sentimon.alerts.rules import Rule, RuleSet
from sentimon.alerts.state import MinuteRange
from sentimon.alerts.sweep import Tick
from sentimon.contract import Post
from sentimon.errors import ConfigError
from sentimon.keys import Keys
from sentimon.windows import Stats
from sentimon.writeplan import WritePlan

NOW = 1_793_001_600_000  # 2026-10-26T08:00:00Z, on an hour
MIN = 60_000

RULE = """
[[rule]]
name = "r"
scope = "*"
kind = "{kind}"
window = "15m"
{threshold}
{extra}
"""
THRESHOLD = {
    "volume_spike": "k = 3",
    "negative_share": "threshold = 0.6",
    "sentiment_drop": "z = 3",
    "sentiment_rise": "z = 3",
}
SHARE = Rule("share", "negative_share", ("ticker:*",), 300, 0.6, 0.3, min_count=3, count="stories")
SPIKE = Rule("spike", "volume_spike", ("ticker:*",), 900, 3.0, 1.5, min_count=3, count="stories")


def _rule(kind: str, extra: str = "", defaults: str = "") -> Rule:
    text = defaults + RULE.format(kind=kind, threshold=THRESHOLD[kind], extra=extra)
    return parse_rules(text, "t.toml").rules[0]


def _error(text: str, tmp_path: Path) -> str:
    path = tmp_path / "rules.toml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    return str(caught.value)


# --- parsing -----------------------------------------------------------------------------
def test_count_defaults_to_posts_and_stories_is_accepted_where_it_applies():
    assert _rule("volume_spike").count == "posts"
    for kind in ("volume_spike", "negative_share"):
        rule = _rule(kind, 'count = "stories"')
        assert rule.counts_stories and rule.count == "stories"
        assert rule.min_relevance_for("ticker:A") is None and rule.excluded_levels("ticker:A") == ()
        assert rule.series("ticker:A") == "ticker:A#stories"
    assert _rule("negative_share", 'count = "posts"').series("ticker:A") == "ticker:A@>=0.4"


@pytest.mark.parametrize(
    ("kind", "extra", "needle"),
    [
        ("volume_spike", 'count = "copies"', "line 8: rule 'r' field 'count': must be 'posts' or"),
        ("volume_spike", "count = 3", "field 'count': must be 'posts' or 'stories', got 3"),
        ("sentiment_drop", 'count = "stories"', "field 'count': a sentiment_drop rule counts"),
        ("sentiment_rise", 'count = "posts"', "count applies to negative_share and volume_spike"),
    ],
)
def test_bad_counts_name_file_line_and_field(tmp_path, kind, extra, needle):
    text = RULE.format(kind=kind, threshold=THRESHOLD[kind], extra=extra)
    message = _error(text, tmp_path)
    assert "rules.toml" in message and needle in message, message


def test_min_relevance_in_a_story_rule_is_refused_but_not_from_defaults(tmp_path):
    text = RULE.format(
        kind="volume_spike", threshold="k = 3", extra='count = "stories"\nmin_relevance = 0.6'
    )
    message = _error(text, tmp_path)
    assert "line 9: rule 'r' field 'min_relevance': does not apply to count" in message
    rule = _rule("volume_spike", 'count = "stories"', "[defaults]\nmin_relevance = 0.6\n")
    assert rule.min_relevance == 0.0 and rule.min_relevance_for("ticker:A") is None


def test_defaults_count_applies_to_the_kinds_that_count():
    defaults = '[defaults]\ncount = "stories"\n'
    assert _rule("volume_spike", defaults=defaults).counts_stories
    assert not _rule("sentiment_drop", defaults=defaults).counts_stories


def test_bad_count_in_defaults_names_the_defaults_line(tmp_path):
    text = '[defaults]\ncount = "news"\n' + RULE.format(
        kind="negative_share", threshold="threshold = 0.6", extra=""
    )
    assert "line 2: [defaults] (for rule 'r') field 'count'" in _error(text, tmp_path)


def test_rule_objects_refuse_story_counts_on_other_kinds():
    with pytest.raises(ValueError, match="cannot count stories"):
        Rule("d", "sentiment_drop", ("*",), 900, 3.0, 1.0, count="stories")
    with pytest.raises(ValueError, match="count must be"):
        Rule("v", "volume_spike", ("*",), 900, 3.0, 1.0, count="copies")


def test_shipped_volume_and_share_rules_count_stories():
    rules = {r.name: r for r in load_rules(None).rules}
    for name in ("ticker-volume-spike", "ticker-negative-share", "market-volume-spike"):
        assert rules[name].counts_stories, name
    assert not any(r.counts_stories for r in rules.values() if r.kind.startswith("sentiment"))


# --- reads and deltas --------------------------------------------------------------------
def _post(i: int, ts: int, story: str, novel: bool, label: str = "negative") -> ScoredPost:
    score = -0.8 if label == "negative" else 0.0
    post = Post(f"p{i}", f"text {i}", ts, "news", "wire", ())
    company = CompanyScore("ACME", label, score, relevance=0.2)
    return ScoredPost(post, label, score, "m@1", (company,), story_id=story, novel=novel)


def test_a_story_rule_reads_the_story_range_and_nothing_of_the_levels():
    pair = Pair(SHARE, "ticker:ACME", "share|ticker:ACME", None, [])
    tick = Tick(NOW // 1000, NOW)
    (only,) = ranges_of(pair, tick)
    assert only == MinuteRange("ticker:ACME", NOW // 1000 - 240, NOW // 1000, stories=True)
    assert counted(pair, tick, {only: Stats(count=2, negative=1)}) == Stats(count=2, negative=1)


def test_window_deltas_add_the_stories_begun_to_the_story_series():
    posts = [_post(i, NOW + i * 1000, "s0", i == 0) for i in range(5)]
    posts += [_post(10 + i, NOW + MIN, f"s{10 + i}", True, "neutral") for i in range(2)]
    deltas = window_deltas(RuleSet((SPIKE,)), aggregate(posts))
    index = NOW // 1000 // 900
    assert deltas == {("ticker:ACME#stories", 900, index): Stats(count=3, negative=1,
                                                                   s_micro=-800_000)}  # fmt: skip


class FakeRedis:
    """The read script's contract: the post and story sums it is given, no baseline
    windows; every spec kept."""

    def __init__(self, stories: list[int] | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.stories = stories or [0, 0, 0]

    def register_script(self, _script: str) -> Any:
        def run(*, keys: list[str], args: list[str]) -> list[Any]:
            spec = json.loads(args[0])
            self.calls.append(spec)
            sums = [0] * (len(state.RANGE_FIELDS) * len(spec["ranges"]))
            stories = self.stories * len(spec["stories"])
            windows = [[] for _ in spec["windows"]]
            return [[None] * len(spec["fields"]), [], [], sums, windows, stories]

        return run

    def xrevrange(self, _key: str, count: int) -> list[Any]:
        return []


def _before_write(rules: RuleSet, posts: list[ScoredPost], client: FakeRedis) -> AlertHook:
    hook = AlertHook(rules, client, Keys("unit"), clock=lambda: NOW / 1000)  # type: ignore[arg-type]
    plan = WritePlan()
    hook.before_write(plan, aggregate(posts))
    hook.plan = plan  # type: ignore[attr-defined]
    return hook


def test_forty_copies_of_one_story_do_not_open_a_story_share_rule():
    copies = [_post(i, NOW + i * 1000, "s0", i == 0) for i in range(40)]
    hook = _before_write(RuleSet((SHARE,)), copies, FakeRedis())
    assert hook.notices == []
    [spec] = hook.store.client.calls
    assert spec["ranges"] == [] and len(spec["stories"]) == 1


def test_distinct_negative_stories_open_it_and_the_payload_counts_stories():
    distinct = [_post(i, NOW + i * 1000, f"s{i}", True) for i in range(4)]
    hook = _before_write(RuleSet((SHARE,)), distinct, FakeRedis())
    [(notice, body)] = hook.notices
    assert notice.status == "firing" and body["count"] == "stories"
    assert body["stats"]["count"] == 4 and body["stats"]["negative_share"] == 1.0
    assert body["min_relevance"] is None and "4 stories in 5m" in body["summary"]


def test_what_redis_had_adds_to_the_batch_s_own_stories():
    one = [_post(i, NOW + i * 1000, "s0", i == 0) for i in range(3)]
    # Redis already had 2 stories, 2 of them negative: with the batch's one, 3 of 3.
    hook = _before_write(RuleSet((SHARE,)), one, FakeRedis([2, 2, -1_600_000]))
    [(_, body)] = hook.notices
    assert body["stats"]["count"] == 3


def test_the_hook_writes_story_baseline_sums():
    posts = [_post(i, NOW + i * 1000, "s0", i == 0) for i in range(5)]
    hook = _before_write(RuleSet((SPIKE,)), posts, FakeRedis())
    index = NOW // 1000 // 900
    key = Keys("unit").alert_window("ticker:ACME#stories", 900, index // state.WINDOW_BLOCK)
    incr = [c for c in hook.plan.commands if c[0] == "HINCRBY" and c[1] == key]  # type: ignore[attr-defined]
    assert [c[2:] for c in incr] == [[f"{index}:n", 1], [f"{index}:s", -800_000]]
    [spec] = hook.store.client.calls
    first_block = (index - SPIKE.history) // state.WINDOW_BLOCK
    read = Keys("unit").alert_window("ticker:ACME#stories", 900, first_block)
    assert [w[0][0] for w in spec["windows"]] == [read]


# --- measurement and payload -------------------------------------------------------------
def test_volume_ratio_over_stories_and_no_spread_reported():
    baseline = Baseline(mean=0.0, var=0.0, windows=0, rate=2.0, rate_windows=8)
    signal = measure(SPIKE, Stats(count=8, negative=2, s_micro=-1_000_000), baseline)
    assert signal.active and signal.value == 4.0 and signal.stories
    assert signal.stats["std"] is None and signal.stats["baseline_std"] is None
    quiet = measure(SPIKE, Stats(count=2), baseline)
    assert quiet.reason == "min_count"
    notice = Notice("firing", "abc", 0, NOW, NOW, True)
    body = build_payload(notice, SPIKE, "ticker:ACME", signal, namespace="n",
                         window_end_ms=NOW, model="m", posts=[])  # fmt: skip
    assert body["count"] == "stories"
    assert "8 stories vs baseline 2.00 per 15m" in body["summary"]
    posts_rule = Rule("p", "volume_spike", ("ticker:*",), 900, 3.0, 1.5, min_count=3)
    plain = build_payload(notice, posts_rule, "ticker:ACME", measure(posts_rule, Stats(count=8),
                          baseline), namespace="n", window_end_ms=NOW, model="m", posts=[])  # fmt: skip
    assert plain["count"] == "posts" and "8 posts vs baseline" in plain["summary"]


def test_top_posts_of_a_story_rule_show_each_story_once_by_its_first_post():
    posts = [
        {"id": "c2", "ts": 3, "story": "a", "novel": False, "score": -0.9},
        {"id": "a", "ts": 1, "story": "a", "novel": True, "score": -0.9},
        {"id": "b", "ts": 2, "story": "b", "novel": True, "score": -0.5},
        {"id": "old", "ts": 0, "score": -0.1},
    ]
    assert [p["id"] for p in top_posts(SHARE, posts)] == ["a", "b", "old"]
    posts_rule = Rule("p", "negative_share", ("ticker:*",), 300, 0.6, 0.3)
    assert [p["id"] for p in top_posts(posts_rule, posts)] == ["c2", "a", "b", "old"]
