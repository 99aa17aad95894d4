"""Companies named by name, several per post: exact per-company and per-sector figures.

Through the real broker and Redis, the consumer's per-company counts, relevance-filtered
counts and relevance-weighted sums equal an independent count: the same posts scored in
this process (``PostScorer``, the consumer's code) and summed here in plain Python. A
file backtest of the same posts gives the same figures in its own namespace.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from inference import load_scorer
from inference.posts import PostScorer, linker_of
from sentimon.aggregate import ScoredPost
from sentimon.contract import Limits, validate
from sentimon.keys import sector_entity, ticker_entity
from sentimon.replay.job import ReplaySpec, run_replay
from sentimon.replay.merge import TimeRange
from sentimon.store.client import connect
from sentimon.store.query import Query
from tests.fixtures.stack import Env

pytestmark = pytest.mark.integration

T0 = 1_793_000_000_000  # 2026-10-26T09:33:20Z
TEXTS = [
    "Apple shares slide after the company warns of weaker iPhone demand",
    "Microsoft Corp. beats estimates as cloud revenue jumps",
    "Coca-Cola gains after an upbeat forecast while PepsiCo slides on weak volumes",
    "Ford cuts its outlook; General Motors raises guidance",
    "Delta shares jump as United Airlines warns on fuel costs",
    "Alphabet's Google unveils a new AI model for advertisers",
    "Watchlist for tomorrow: $AAPL $MSFT $NVDA $AMZN $TSLA $META $JPM $XOM",
    "Apple pie prices rise ahead of Thanksgiving",
    "Fires spread in the Amazon rainforest",
    "Target cuts its sales forecast as shoppers pull back",
    "Visa and Mastercard rally as consumer spending holds up",
    "Nvidia's data-center sales beat estimates, while Intel loses share",
    "JPMorgan raises its dividend; Goldman Sachs trading revenue disappoints",
    "Exxon Mobil and Chevron slip as crude falls",
    "$ZZZQ halted pending news",
]


def messages() -> list[dict[str, Any]]:
    out = []
    for i in range(60):
        text = TEXTS[i % len(TEXTS)]
        out.append({"id": f"ent-{i}", "text": f"{text} ({i})", "ts": T0 + i * 7_000})
    return out


def expected(env: Env, rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per entity: count, relevant count (>= 0.4), weighted count, weighted score sum."""
    scorer = PostScorer(load_scorer(env.settings), linker_of(env.settings))
    posts = []
    for row in rows:
        post = validate(json.dumps(row).encode(), kind="news", record_ts_ms=T0, limits=Limits())
        assert not hasattr(post, "reason"), post
        posts.append(post)
    scored: list[ScoredPost] = []
    for post in posts:  # one at a time: batching must not matter
        scored += scorer.score([post])  # type: ignore[list-item]
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for item in scored:
        sectors: dict[str, Any] = {}
        for c in item.companies:
            _add(out[ticker_entity(c.ticker)], c.relevance, c.score)
            if c.sector and (c.sector not in sectors or c.relevance > sectors[c.sector].relevance):
                sectors[c.sector] = c
        for sector, c in sectors.items():
            _add(out[sector_entity(sector)], c.relevance, c.score)
    return out


def _add(totals: dict[str, float], relevance: float, score: float) -> None:
    totals["count"] += 1
    totals["relevant"] += relevance >= 0.4
    totals["weighted"] += relevance
    totals["weighted_sum"] += relevance * score


def check(query: Query, want: dict[str, dict[str, float]]) -> None:
    end = T0 + 3_600_000
    got = query.relevance_windows(sorted(want), 86_400, end)
    for entity, totals in want.items():
        stats = got[entity]
        assert stats.all.count == totals["count"], entity
        assert stats.at_least(0.4).count == totals["relevant"], entity
        assert stats.weighted_count == pytest.approx(totals["weighted"], abs=1e-9), entity
        mean = totals["weighted_sum"] / totals["weighted"]
        assert stats.weighted_mean == pytest.approx(mean, abs=1e-5), entity


@pytest.fixture(scope="module")
def env(stack: Any, tiny_model: Path) -> Env:
    """An environment whose consumer has taken in ``messages()``."""
    env = Env(stack, tiny_model)
    producer = KafkaProducer(bootstrap_servers=[env.stack.bootstrap])
    for row in messages():
        producer.send(env.news, json.dumps(row).encode(), key=row["id"].encode())
    producer.flush()
    producer.close()
    env.cli("consume", "--until-idle", "4")
    return env


def test_consumer_and_file_backtest_count_companies_exactly(env: Env, tmp_path: Path) -> None:
    rows = messages()
    want = expected(env, rows)
    assert {"ticker:AAPL", "ticker:KO", "ticker:PEP", "ticker:GOOGL", "ticker:TGT",
            "ticker:ZZZQ", "sector:Consumer Staples"} <= set(want)  # fmt: skip
    assert "ticker:AMZN" in want  # from the watchlist's cashtag, not the rainforest
    client = connect(env.settings)
    check(Query(client, env.settings.namespace), want)

    path = tmp_path / "news.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    namespace = f"bt:ent-{env.uid}"
    spec = ReplaySpec(namespace=namespace, span=TimeRange(None, None), files=[path],
                      report_dir=tmp_path / "report", progress=False)  # fmt: skip
    run_replay(env.settings, spec, scorer=load_scorer(env.settings))
    check(Query(client, namespace), want)


def test_query_ticker_reports_plain_relevant_and_weighted(env: Env) -> None:
    out = json.loads(
        env.cli("query", "ticker", "AAPL", "--window", "24h", "--at", str(T0 + 3_600_000),
                "--min-relevance", "0.6", "--json").stdout
    )  # fmt: skip
    assert out["min_relevance"] == 0.6
    # AAPL is the subject of 4 posts (relevance 1) and the first of 8 cashtags in 4 more
    assert out["count"] == 8
    assert out["relevant"]["count"] == 4
    assert 4 < out["weighted"]["count"] < 8
