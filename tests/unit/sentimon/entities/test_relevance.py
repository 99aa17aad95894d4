"""Relevance levels, and exact filtering and weighting from the level aggregates."""

from __future__ import annotations

import pytest

from sentimon.aggregate import CompanyScore, ScoredPost, aggregate
from sentimon.contract import Post
from sentimon.entities.relevance import (
    RELEVANCE_LEVELS,
    check_min_relevance,
    levels_below,
    quantize_relevance,
    relevance,
)
from sentimon.entities.weighted import RelevanceStats
from sentimon.keys import relevance_entity, sector_entity, ticker_entity
from sentimon.windows import Stats

T = 1_793_000_000_000


def test_levels_and_rounding() -> None:
    assert [quantize_relevance(v) for v in (0.0, 0.09, 0.3, 0.5, 0.69, 0.71, 0.95, 2)] == [
        0.2, 0.2, 0.4, 0.6, 0.6, 0.8, 1.0, 1.0,
    ]  # fmt: skip
    assert relevance(rank=0, companies=1, mentions=1, in_title=False) == 1.0
    assert relevance(rank=1, companies=2, mentions=1, in_title=False) == 0.6
    assert relevance(rank=1, companies=2, mentions=1, in_title=True) == 0.8
    assert relevance(rank=1, companies=2, mentions=3, in_title=False) == 0.8
    assert relevance(rank=5, companies=20, mentions=1, in_title=False) == 0.2
    assert set(RELEVANCE_LEVELS) >= {relevance(rank=r, companies=k, mentions=m, in_title=t)
                                     for r in range(5) for k in range(r + 1, 8)
                                     for m in (1, 2, 5) for t in (False, True)}  # fmt: skip


def test_min_relevance_checks_and_levels_below() -> None:
    assert levels_below(0.0) == () and levels_below(0.2) == ()
    assert levels_below(0.5) == (0.2, 0.4)
    assert levels_below(1.0) == (0.2, 0.4, 0.6, 0.8)
    with pytest.raises(ValueError, match="between 0 and 1"):
        check_min_relevance(1.5)


def scored(pid: str, *companies: CompanyScore, label: str = "neutral") -> ScoredPost:
    post = Post(pid, "x", T, "news", "wire", ())
    return ScoredPost(post, label, 0.0, "m", companies)


def test_aggregate_counts_each_company_with_its_own_sentiment_and_level() -> None:
    a = CompanyScore("AAA", "positive", 0.8, 0.8, sector="Energy")
    b = CompanyScore("BBB", "negative", -0.6, 0.6, sector="Energy")
    c = CompanyScore("CCC", "negative", -0.9, 1.0, sector="Utilities")
    update = aggregate([scored("p1", a, b), scored("p2", c)])
    minute = T // 1000 // 60 * 60
    b_ = update.buckets
    assert b_[(ticker_entity("AAA"), minute)] == Stats.of_post("positive", 0.8)
    assert b_[(ticker_entity("BBB"), minute)] == Stats.of_post("negative", -0.6)
    assert b_[(relevance_entity(ticker_entity("BBB"), 0.6), minute)] == Stats.of_post(
        "negative", -0.6
    )
    assert (relevance_entity(ticker_entity("CCC"), 1.0), minute) not in b_
    # a sector counts a post once, with its most relevant company there
    assert b_[(sector_entity("Energy"), minute)] == Stats.of_post("positive", 0.8)
    assert b_[(relevance_entity(sector_entity("Energy"), 0.8), minute)].count == 1
    assert b_[("market", minute)].count == 2
    assert update.volume == {("AAA", minute // 3600 * 3600): 1, ("BBB", minute // 3600 * 3600): 1,
                             ("CCC", minute // 3600 * 3600): 1}  # fmt: skip


def test_posts_without_linked_companies_fall_back_to_their_tickers() -> None:
    post = Post("p", "x", T, "news", "wire", ("AAA", "BBB"))
    item = ScoredPost(post, "positive", 0.5, "m")
    assert [(c.ticker, c.label, c.relevance) for c in item.companies] == [
        ("AAA", "positive", 0.8), ("BBB", "positive", 0.6),
    ]  # fmt: skip


def test_relevance_stats_are_exact() -> None:
    full = Stats.of_post("positive", 1.0) + Stats.of_post("negative", -1.0)
    low = Stats.of_post("negative", -0.5)
    mid = Stats.of_post("positive", 0.5)
    window = RelevanceStats(full + low + mid, {0.2: low, 0.6: mid})
    assert window.at_least(0.0).count == 4
    assert window.at_least(0.4) == full + mid
    assert window.at_least(1.0) == full
    assert window.weighted_count == pytest.approx(2 + 0.2 + 0.6)
    assert window.weighted_mean == pytest.approx((0 + 0.2 * -0.5 + 0.6 * 0.5) / 2.8)
    old = RelevanceStats(full)  # written before relevance existed: every mention counts 1
    assert old.weighted_count == 2 and old.at_least(0.8) == full
