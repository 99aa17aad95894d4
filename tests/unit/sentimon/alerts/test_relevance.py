"""Rules and relevance (no Redis): which entities a rule evaluates, sector scopes,
``min_relevance`` in rule files, the ticks and baseline series it implies, and what the
payload and its top posts say about it."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from sentimon.aggregate import CompanyScore, ScoredPost, aggregate
from sentimon.alerts.detect import measure
from sentimon.alerts.hook import AlertHook
from sentimon.alerts.lifecycle import Notice
from sentimon.alerts.notices import relevance_in
from sentimon.alerts.pairs import Pair, counted, ranges_of, window_deltas
from sentimon.alerts.payload import build_payload, summary
from sentimon.alerts.rulefile import load_rules, parse_rules, scope_pattern
from sentimon.alerts.rules import Rule, RuleSet, entity_order, series_name
from sentimon.alerts.silences import alert_labels
from sentimon.alerts.sweep import Tick, entity_mentions, entity_ticks, ticks_at_least
from sentimon.contract import Post
from sentimon.errors import ConfigError
from sentimon.keys import Keys
from sentimon.windows import Stats

T = 1_793_001_600_000  # on an hour
RULE = """
[[rule]]
name = "neg"
scope = {scope}
kind = "negative_share"
window = "5m"
threshold = 0.6
{extra}
"""


def _rules(scope: str = '"*"', extra: str = "", **kwargs: float) -> RuleSet:
    return parse_rules(RULE.format(scope=scope, extra=extra), "r.toml", **kwargs)


def _post(i: int, ts: int, *companies: tuple[str, float, str | None]) -> ScoredPost:
    p = Post(id=f"p{i}", text="t", ts_ms=ts, kind="news", source="s", tickers=())
    named = tuple(CompanyScore(t, "negative", -0.8, relevance=r, sector=s) for t, r, s in companies)
    return ScoredPost(p, "negative", -0.8, "m", named)


# --- scopes and matching ---------------------------------------------------------------
def test_relevance_levels_are_never_a_rule_s_subject():
    (rule,) = _rules().rules
    assert rule.scope == ("ticker:*",)
    assert rule.matches("ticker:AAPL") and not rule.matches("ticker:AAPL@0.6")
    catch_all = Rule("all", "negative_share", ("*",), 300, 0.6, 0.3)
    assert catch_all.matches("sector:Energy") and not catch_all.matches("sector:Energy@0.2")
    assert _rules().for_entity("ticker:AAPL@0.2") == ()


def test_sector_scopes():
    assert scope_pattern("sector:*") == "sector:*"
    assert scope_pattern("sector:Information Technology") == "sector:Information Technology"
    assert scope_pattern("sector:information technology") == "sector:Information Technology"
    assert scope_pattern("sector: Health*") == "sector:Health*"
    assert scope_pattern("sector:My Own Sector") == "sector:My Own Sector"  # own universe
    for bad in ("sector:", "sector:Energy@0.2", "sector:a|b"):
        assert scope_pattern(bad) is None, bad
    rules = _rules('["*", "sector:Energy"]')
    assert [r.name for r in rules.for_entity("sector:Energy")] == ["neg"]
    assert rules.for_entity("sector:Utilities") == () and rules.for_entity("market") == ()
    assert _rules('"sector:*"').for_entity("ticker:AAPL") == ()  # "*" alone is tickers


def test_evaluation_order_puts_sectors_between_kinds_and_tickers():
    entities = ["ticker:A", "sector:Energy", "kind:news", "market"]
    assert sorted(entities, key=entity_order) == [
        "market",
        "kind:news",
        "sector:Energy",
        "ticker:A",
    ]


def test_sector_alerts_have_a_sector_label():
    labels = alert_labels("r", "negative_share", "warning", "sector:Health Care")
    assert labels["scope"] == "sector" and labels["sector"] == "Health Care"
    assert labels["ticker"] == "" and alert_labels("r", "k", "s", "ticker:A")["sector"] == ""


# --- min_relevance in rule files ---------------------------------------------------------
def test_min_relevance_defaults_to_the_setting_and_can_be_set_per_rule_or_in_defaults():
    assert _rules().rules[0].min_relevance == 0.4
    assert _rules(min_relevance=0.6).rules[0].min_relevance == 0.6
    assert _rules(extra="min_relevance = 0.8").rules[0].min_relevance == 0.8
    assert _rules(extra="min_relevance = 0").rules[0].min_relevance == 0.0
    text = "[defaults]\nmin_relevance = 0.2\n" + RULE.format(scope='"*"', extra="")
    assert parse_rules(text).rules[0].min_relevance == 0.2


def test_shipped_ticker_and_sector_rules_leave_out_mentions_in_passing():
    rules = load_rules(None)
    relevant = [
        r for r in rules.rules if any(p.startswith(("ticker:", "sector:")) for p in r.scope)
    ]
    by_posts = [r for r in relevant if not r.counts_stories]
    assert by_posts and all(r.min_relevance == 0.4 for r in by_posts)
    # rules counting stories count every story naming the company (docs/ALERTS.md)
    assert all(r.min_relevance_for("ticker:A") is None for r in relevant if r.counts_stories)
    assert "sector:*" in {p for r in rules.rules for p in r.scope}


@pytest.mark.parametrize(
    ("extra", "line", "needle"),
    [
        ("min_relevance = 1.5", 8, "must be >= 0.0 and <= 1.0, got 1.5"),
        ("min_relevance = -0.1", 8, "must be >= 0.0 and <= 1.0"),
        ('min_relevance = "high"', 8, "must be a number"),
    ],
)
def test_bad_min_relevance_names_file_line_and_field(tmp_path: Path, extra, line, needle):
    path = tmp_path / "rules.toml"
    path.write_text(RULE.format(scope='"*"', extra=extra))
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    message = str(caught.value)
    assert str(path) in message and f"line {line}:" in message, message
    assert "field 'min_relevance'" in message and needle in message, message


def test_bad_min_relevance_in_defaults_points_at_defaults(tmp_path: Path):
    path = tmp_path / "rules.toml"
    path.write_text(textwrap.dedent("[defaults]\nmin_relevance = 2\n") + RULE.format(
        scope='"*"', extra=""))  # fmt: skip
    with pytest.raises(ConfigError, match=r"line 2: \[defaults\] \(for rule 'neg'\) field"):
        load_rules(path)


def test_min_relevance_applies_to_tickers_and_sectors_only():
    rule = _rules(extra="min_relevance = 0.5").rules[0]
    assert rule.min_relevance_for("ticker:A") == 0.5 and rule.min_relevance_for("sector:X") == 0.5
    assert rule.min_relevance_for("market") is None and rule.min_relevance_for("kind:news") is None
    assert rule.excluded_levels("ticker:A") == (0.2, 0.4)  # 0.5 counts what 0.6 counts
    assert rule.excluded_levels("market") == ()
    assert (
        Rule("x", "negative_share", ("*",), 60, 0.5, 0.1, min_relevance=0.2).excluded_levels(
            "ticker:A"
        )
        == ()
    )


def test_baseline_series_per_window_and_threshold():
    assert series_name("ticker:A", ()) == "ticker:A"
    assert series_name("ticker:A", (0.2,)) == "ticker:A@>=0.4"
    assert series_name("sector:Energy", (0.2, 0.4, 0.6, 0.8)) == "sector:Energy@>=1.0"
    drop = Rule("d", "sentiment_drop", ("ticker:*",), 900, 3, 1, history=8, min_relevance=0.4)
    spike = Rule("s", "volume_spike", ("ticker:*",), 900, 3, 1, history=16, min_relevance=0.3)
    every = Rule("e", "sentiment_rise", ("ticker:*",), 900, 3, 1, history=4)
    share = Rule("n", "negative_share", ("ticker:*",), 900, 0.6, 0.3, min_relevance=0.8)
    rules = RuleSet((drop, spike, every, share))
    assert rules.baseline_series("ticker:A") == {(900, (0.2,)): 16, (900, ()): 4}


# --- ticks and windows ------------------------------------------------------------------
def test_ticks_count_only_the_mentions_a_rule_counts():
    update = aggregate(
        [
            _post(1, T + 5_000, ("LEAD", 1.0, "Energy"), ("PASS", 0.2, "Energy")),
            _post(2, T + 65_000, ("PASS", 0.6, None)),
            _post(3, T + 70_000, ("OIL", 0.2, "Energy")),
        ]
    )
    found = entity_mentions(update)
    assert ticks_at_least(found["ticker:PASS"], 0.4) == [Tick(T // 1000 + 60, T + 65_000)]
    assert ticks_at_least(found["ticker:PASS"], 0.2) == entity_ticks(update)["ticker:PASS"]
    assert len(ticks_at_least(found["ticker:PASS"], None)) == 2
    # A sector's mention is as relevant as its most relevant company in the post.
    assert ticks_at_least(found["sector:Energy"], 1.0) == [Tick(T // 1000, T + 5_000)]
    assert len(ticks_at_least(found["sector:Energy"], 0.2)) == 2
    assert not any("@" in entity for entity in found)


def test_the_window_counted_is_the_entity_minus_the_levels_left_out():
    rule = Rule("n", "negative_share", ("ticker:*",), 300, 0.6, 0.3, min_relevance=0.6)
    pair = Pair(rule, "ticker:A", "n|ticker:A", None, [])
    tick = Tick(T // 1000, T)
    main, low, mid = ranges_of(pair, tick)
    assert (low.entity, mid.entity) == ("ticker:A@0.2", "ticker:A@0.4")
    assert low.first == main.first and low.last == main.last
    windows = {
        main: Stats(count=10, negative=7, s_micro=-5_000_000),
        low: Stats(count=4, negative=4, s_micro=-3_000_000),
        mid: Stats(count=1, negative=0, s_micro=500_000),
    }
    assert counted(pair, tick, windows) == Stats(count=5, negative=3, s_micro=-2_500_000)


def test_baseline_deltas_leave_out_the_levels_below_each_series():
    drop = Rule("d", "sentiment_drop", ("ticker:*",), 300, 3, 1, min_relevance=0.4)
    client: Any = _NoRedis()
    hook = AlertHook(RuleSet((drop,)), client, Keys("unit"))
    update = aggregate(
        [
            _post(1, T + 1_000, ("A", 1.0, None)),
            _post(2, T + 2_000, ("B", 1.0, None), ("A", 0.2, None)),
            _post(3, T + 3_000, ("C", 0.2, None), ("D", 0.2, None)),
        ]
    )
    deltas = window_deltas(hook.rules, update)
    index = T // 1000 // 300
    assert deltas == {
        ("ticker:A@>=0.4", 300, index): Stats.of_post("negative", -0.8),
        ("ticker:B@>=0.4", 300, index): Stats.of_post("negative", -0.8),
    }  # nothing for C and D: no mention of them counts


class _NoRedis:
    def register_script(self, _script: str) -> object:
        return None


# --- payload and top posts --------------------------------------------------------------
def test_payload_carries_the_rule_s_min_relevance():
    rule = Rule("n", "negative_share", ("*",), 300, 0.6, 0.3, min_count=1, min_relevance=0.4)
    signal = measure(rule, Stats.of_post("negative", -0.9), None)
    notice = Notice("firing", "abc", 0, T, T, True)

    def body(entity: str) -> dict:
        return build_payload(notice, rule, entity, signal, namespace="n", window_end_ms=T,
                             model="m", posts=[])  # fmt: skip

    assert body("ticker:A")["min_relevance"] == 0.4
    assert body("sector:Energy")["scope"] == {"type": "sector", "value": "Energy"}
    assert body("market")["min_relevance"] is None
    assert "1 posts (relevance >= 0.4) in 5m" in summary("firing", rule, "ticker:A", signal)
    assert "(relevance" not in summary("firing", rule, "market", signal)


def test_relevance_of_a_post_summary_to_an_entity():
    post = {
        "tickers": ["A", "B"],
        "entities": [
            {"ticker": "A", "sector": "Energy", "relevance": 1.0},
            {"ticker": "B", "sector": "Energy", "relevance": 0.2},
        ],
    }
    assert relevance_in(post, "ticker:B") == 0.2 and relevance_in(post, "ticker:C") < 0
    assert relevance_in(post, "sector:Energy") == 1.0 and relevance_in(post, "sector:X") < 0
    assert relevance_in(post, "market") == 1.0
    older = {"tickers": ["A"]}  # written before entities: every ticker fully relevant
    assert relevance_in(older, "ticker:A") == 1.0 and relevance_in(older, "ticker:B") < 0
