"""Alert rules with a minimum relevance, on real Redis: the hook and the sink write each
batch as the processor does, from scored posts built here with their companies, so each
mention's relevance is known exactly.

A company named in passing (one of eight, relevance 0.2) moves neither the current window
nor the baseline of a rule with ``min_relevance = 0.4``; the same posts about it do.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from sentimon.aggregate import CompanyScore, ScoredPost, aggregate
from sentimon.alerts.history import AlertReader
from sentimon.alerts.hook import AlertHook
from sentimon.contract import Post
from sentimon.keys import Keys
from sentimon.store.client import connect
from sentimon.store.sink import RedisSink
from sentimon.writeplan import WritePlan, plan_aggregates
from tests.integration.alerting import MIN, T0

pytestmark = pytest.mark.integration

SHARE = """
[[rule]]
name = "share{suffix}"
scope = {scope}
kind = "negative_share"
window = "5m"
threshold = 0.6
resolve_threshold = 0.3
min_count = 5
{extra}
"""

DROP = """
[[rule]]
name = "drop{suffix}"
scope = "ACME"
kind = "sentiment_drop"
window = "5m"
z = 3.0
resolve_z = 1.0
min_count = 5
warmup = 3
baseline_windows = 8
{extra}
"""

#: A company a post is about: (ticker, relevance, sector).
Named = tuple[str, float, str | None]
#: Seven companies named before ACME in a list post: ACME is one of eight, in passing.
PEERS = tuple(f"PEER{i}" for i in range(7))
ENERGY = "Energy"


class Writer:
    """The processor's write path without a broker: aggregate, plan, hook, apply."""

    def __init__(self, stack: Any, tmp_path: Path, rules: str) -> None:
        path = tmp_path / "rules.toml"
        path.write_text(rules)
        self.settings = stack.settings(namespace=f"rel-{uuid.uuid4().hex[:8]}", alert_rules=path)
        self.client = connect(self.settings)
        self.keys = Keys(self.settings.namespace)
        hook = AlertHook.from_settings(self.settings, self.client, self.keys)
        assert hook is not None
        self.hook = hook
        self.sink = RedisSink(self.client, self.keys, dedup_horizon_s=3600)

    def write(self, items: Sequence[ScoredPost], batch: int = 8) -> None:
        ordered = sorted(items, key=lambda s: s.post.ts_ms)
        for i in range(0, len(ordered), batch):
            update = aggregate(ordered[i : i + batch])
            plan = WritePlan(ids=[s.post.id for s in update.posts])
            plan_aggregates(plan, self.keys, update, retention_s=7 * 86400, recent=50)
            self.hook.before_write(plan, update)
            assert self.sink.apply(plan).ok
            self.hook.after_write(update)

    def history(self) -> list[dict[str, Any]]:
        reader = AlertReader(self.client, self.settings.namespace)
        return list(reversed(reader.history(1000)))

    def firing(self) -> dict[str, dict[str, Any]]:
        """rule|entity -> the payload of its first firing notice."""
        out: dict[str, dict[str, Any]] = {}
        for event in self.history():
            if event["status"] == "firing":
                out.setdefault(f"{event['rule']}|{event['entity']}", event["payload"])
        return out


def scored(
    tag: str, minutes: range, per_minute: int, score: float, named: tuple[Named, ...]
) -> list[ScoredPost]:
    """``per_minute`` posts a minute, each about the ``named`` companies (ticker,
    relevance, sector), with sentiment ``score`` toward each."""
    label = "negative" if score < -0.3 else "positive" if score > 0.3 else "neutral"
    out = []
    for m in minutes:
        for i in range(per_minute):
            ts = T0 + m * MIN + (i + 1) * MIN // (per_minute + 2)
            post = Post(f"{tag}-{m}-{i}", f"{tag} {m}.{i}", ts, "news", "wire", ())
            companies = tuple(
                CompanyScore(ticker, label, score, relevance=rel, sector=sector)
                for ticker, rel, sector in named
            )
            out.append(ScoredPost(post, label, score, "m@1", companies))
    return out


#: A list post naming ACME last of eight companies: relevance 0.2 (the first gets 0.4).
IN_PASSING: tuple[Named, ...] = (
    *((p, 0.4 if k == 0 else 0.2, None) for k, p in enumerate(PEERS)),
    ("ACME", 0.2, None),
)
#: A post about ACME alone.
ABOUT: tuple[Named, ...] = (("ACME", 1.0, None),)


def test_mentions_in_passing_do_not_open_a_negative_share_alert(stack, tmp_path):
    rules = SHARE.format(suffix="", scope='"ACME"', extra="min_relevance = 0.4") + SHARE.format(
        suffix="-all", scope='"ACME"', extra="min_relevance = 0.0"
    )
    w = Writer(stack, tmp_path, rules)
    w.write(scored("list", range(0, 6), 2, -0.9, IN_PASSING))
    # Every mention counts for the rule without a minimum: it opens; the 0.4 rule sees none.
    assert set(w.firing()) == {"share-all|ticker:ACME"}
    assert w.firing()["share-all|ticker:ACME"]["min_relevance"] == 0.0

    w.write(scored("subject", range(6, 12), 2, -0.9, ABOUT))
    opened = w.firing()["share|ticker:ACME"]
    assert opened["min_relevance"] == 0.4
    # It opens at minute 8: its window (minutes 4-8) counts the 6 subject posts alone, not
    # the 4 list posts of minutes 4 and 5 (nor are they among the top posts).
    assert (opened["event_ms"] - T0) // MIN == 8
    assert opened["stats"]["count"] == 6 and opened["stats"]["negative_share"] == 1.0
    assert all(p["id"].startswith("subject-") for p in opened["top_posts"])
    assert "relevance >= 0.4" in opened["summary"]


def test_the_same_negative_posts_as_the_subject_open_it(stack, tmp_path):
    w = Writer(stack, tmp_path, SHARE.format(suffix="", scope='"*"', extra=""))
    assert w.hook.rules.rules[0].min_relevance == 0.4  # SENTIMON_MIN_RELEVANCE's default
    w.write(scored("list", range(0, 6), 2, -0.9, IN_PASSING))
    # PEER0 leads each list post (relevance 0.4): it is counted; ACME and the rest are not.
    assert set(w.firing()) == {"share|ticker:PEER0"}
    # Positive posts about ACME and negative ones naming it in passing: share 0 among those
    # counted, although most of its mentions are negative.
    w.write(
        scored("calm", range(20, 26), 1, 0.8, ABOUT)
        + scored("list2", range(20, 26), 3, -0.9, IN_PASSING)
    )
    assert "share|ticker:ACME" not in w.firing()
    w.write(scored("subject", range(40, 46), 2, -0.9, ABOUT))
    assert "share|ticker:ACME" in w.firing()
    entities = {e["entity"] for e in w.history()}
    assert not any("@" in e for e in entities)  # relevance levels are never alerted on


def test_the_baseline_of_a_z_score_rule_ignores_mentions_in_passing(stack, tmp_path):
    rules = DROP.format(suffix="", extra="min_relevance = 0.4") + DROP.format(
        suffix="-all", extra="min_relevance = 0.0"
    )
    w = Writer(stack, tmp_path, rules)
    # 30 calm minutes as the subject (scores 0.4 and 0.6, mean 0.5), drowned in very
    # negative mentions in passing; then a window of mildly negative subject posts.
    history = (
        scored("calm-a", range(0, 30), 1, 0.4, ABOUT)
        + scored("calm-b", range(0, 30), 1, 0.6, ABOUT)
        + scored("list", range(0, 30), 4, -0.9, IN_PASSING)
    )
    w.write(history, batch=16)
    assert w.firing() == {}
    w.write(scored("dip", range(30, 34), 2, -0.1, ABOUT))
    fired = w.firing()
    # The rule counting every mention has a baseline mean of about -0.43 (2 subject posts
    # and 4 list posts a minute): the dip is no drop for it.
    assert set(fired) == {"drop|ticker:ACME"}
    stats = fired["drop|ticker:ACME"]["stats"]
    assert stats["baseline_mean"] == pytest.approx(0.5) and stats["baseline_std"] < 0.2
    assert stats["baseline_rate"] == pytest.approx(10.0)  # 2 subject posts a minute, 5m
    # At minute 32: 4 calm posts (minutes 28-29) and 6 dip posts; the list posts not counted.
    assert stats["count"] == 10 and stats["mean"] == pytest.approx(0.14)
    assert stats["z"] <= -3.0


def test_sector_scope_counts_its_relevant_mentions(stack, tmp_path):
    rules = SHARE.format(suffix="", scope='"sector:energy"', extra="min_relevance = 0.4")
    w = Writer(stack, tmp_path, rules)
    assert w.hook.rules.rules[0].scope == ("sector:Energy",)

    oil_in_passing: tuple[Named, ...] = (
        ("LEAD", 1.0, "Utilities"),
        ("XOM", 0.2, ENERGY),
        ("CVX", 0.2, ENERGY),
    )
    oil: tuple[Named, ...] = (("XOM", 0.6, ENERGY), ("CVX", 0.2, ENERGY))  # sector: 0.6

    w.write(scored("list", range(0, 6), 2, -0.9, oil_in_passing))
    assert w.firing() == {}
    w.write(scored("list2", range(6, 12), 2, -0.9, oil_in_passing)
            + scored("oil", range(6, 12), 1, -0.9, oil))  # fmt: skip
    opened = w.firing()["share|sector:Energy"]
    assert opened["scope"] == {"type": "sector", "value": ENERGY}
    # One oil post a minute from minute 6: the fifth, at minute 10, opens it (the list
    # posts, twice as many, do not count toward it).
    assert (opened["event_ms"] - T0) // MIN == 10 and opened["stats"]["count"] == 5
    assert opened["min_relevance"] == 0.4
    assert all(p["id"].startswith("oil-") for p in opened["top_posts"])
