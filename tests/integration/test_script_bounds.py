"""Bounded work per batch (real Redis, the real processor and alert hook, the shipped
rules): a batch whose event times span everything the contract accepts, 2000 to 2099,
runs each Redis script about as fast as a batch of current posts, and the batch is
written. Durations come from Redis itself (``SLOWLOG`` and ``INFO commandstats``)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from consumers.dlq import CollectingDeadLetters
from consumers.pipeline import BatchProcessor
from consumers.records import SourceRecord
from sentimon.aggregate import CompanyScore, ScoredPost
from sentimon.alerts.hook import AlertHook
from sentimon.alerts.rulefile import load_rules
from sentimon.contract import Limits, Post
from sentimon.entities.universe import GICS_SECTORS
from sentimon.keys import MARKET, Keys
from sentimon.store.client import connect
from sentimon.store.query import Query
from sentimon.store.sink import RedisSink
from sentimon.testing import HashScorer
from sentimon.windows import HOUR, hour_of

pytestmark = pytest.mark.integration

Y2000 = 946_684_800_000  # 2000-01-01T00:00:00Z: the earliest event time accepted
Y2099 = 4_102_444_740_000  # 2099-12-31T23:59:00Z
NOW = 1_793_001_600_000  # 2026-10-26T08:00:00Z
#: Generous: before the alert read was bounded, the first batch below kept one script
#: running for over 10 s; now each takes a few milliseconds.
SCRIPT_BOUND_US = 250_000
#: The largest default write reads about 2.2 million fields and writes about 200,000: under
#: half a second each here; still far below the clients' 5 s socket timeout.
LARGEST_BOUND_US = 1_000_000


@pytest.fixture
def client(stack: Any) -> Iterator[redis.Redis]:
    """The session's Redis with script timings reset; its slow log records only commands
    over 1 ms (a script's own commands are faster) and is restored afterwards."""
    c = connect(stack.settings(), timeout_s=30.0)
    before = str(c.config_get("slowlog-log-slower-than")["slowlog-log-slower-than"])
    c.config_set("slowlog-log-slower-than", 1000)
    yield c
    c.config_set("slowlog-log-slower-than", before)


def _processor(client: redis.Redis, keys: Keys) -> BatchProcessor:
    """The processor with the shipped rules and no event-time bounds of its own (as a
    replay or backtest runs it: any time the contract accepts)."""
    return BatchProcessor(
        HashScorer(),
        RedisSink(client, keys, dedup_horizon_s=3600),
        CollectingDeadLetters(),
        keys=keys,
        limits=Limits(),
        retention_s=7 * 86400,
        recent_posts=50,
        kind_of={"n": "news", "s": "social"},
        hooks=[AlertHook(load_rules(), client, keys)],
    )


def _records(times: list[int], tickers: list[list[str]]) -> list[SourceRecord]:
    def body(i: int) -> bytes:
        post = {"id": f"b-{i}", "text": f"post {i}", "ts": times[i], "tickers": tickers[i]}
        return json.dumps(post).encode()

    topics = ["n", "s"]
    return [SourceRecord(topics[i % 2], i % 4, i, NOW, body(i)) for i in range(len(times))]


def _scripts_timed(client: redis.Redis) -> tuple[dict[str, Any], list[int]]:
    """``cmdstat_evalsha`` and the slow log's script durations (us) since the reset."""
    stats = client.info("commandstats").get("cmdstat_evalsha", {})
    slow = [
        int(entry["duration"])
        for entry in client.slowlog_get(1000)
        if str(entry["command"]).upper().startswith(("EVALSHA", "EVAL "))
    ]
    return stats, slow


def _run(
    client: redis.Redis, records: list[SourceRecord], bound_us: int, posts: Any = None
) -> tuple[Keys, dict[str, Any]]:
    keys = Keys(f"t-{uuid.uuid4().hex[:8]}")
    proc = _processor(client, keys)
    if posts is not None:
        proc.posts = posts
    client.config_resetstat()
    client.slowlog_reset()
    result = proc.process(records)
    stats, slow = _scripts_timed(client)
    assert result.scored == len(records) and result.invalid == 0
    assert stats["calls"] - stats.get("failed_calls", 0) >= 2  # the alert read, the write
    assert stats["usec_per_call"] < bound_us, stats
    assert all(us < bound_us for us in slow), slow
    return keys, stats


def test_a_batch_from_2000_to_2099_runs_its_scripts_quickly(client: redis.Redis) -> None:
    times = [Y2000, Y2099] + [NOW - 7_000 * i for i in range(62)]
    tickers = [["ACME", "BETA"], ["ACME", "GAMMA"]] + [["ACME", f"T{i % 5}"] for i in range(62)]
    keys, _ = _run(client, _records(times, tickers), SCRIPT_BOUND_US)
    q = Query(client, keys.namespace)
    assert q.counters()["scored"] == 64
    for ts, ticker in ((Y2000, "BETA"), (Y2099, "GAMMA"), (NOW, "ACME")):
        hour = hour_of(ts // 1000)
        assert int(client.hget(keys.hour(MARKET, hour), "n") or 0) >= 1
        assert client.hget(keys.hour(f"ticker:{ticker}", hour), "n") is not None
    assert int(client.hget(keys.hour("ticker:ACME", hour_of(Y2099 // 1000)), "n") or 0) == 1


class _TwentyCompanies:
    """Links every post to 20 companies no other post names, across the 11 sectors, each
    relevant enough (0.4) for the shipped rules to read it and its 0.2 level."""

    def score(self, posts: list[Post]) -> list[ScoredPost]:
        return [
            ScoredPost(p, "negative", -0.5, "m", tuple(
                CompanyScore(f"{p.id.upper()}X{j}", "negative", -0.5, relevance=0.4,
                             sector=GICS_SECTORS[j % 11]) for j in range(20)))
            for p in posts
        ]  # fmt: skip


def test_the_largest_default_write_a_century_wide_stays_within_the_bounds(
    client: redis.Redis,
) -> None:
    """64 posts x 4 coalesced, 20 companies each that no other post names, in 11 sectors,
    each post in its own hour from 2000 to 2099: the most a default write reads and
    writes."""
    n = 256
    step = (Y2099 - Y2000) // (n - 1) // (HOUR * 1000) * HOUR * 1000
    times = [Y2000 + i * step for i in range(n)]
    records = _records(times, [[] for _ in range(n)])
    keys, _ = _run(client, records, LARGEST_BOUND_US, posts=_TwentyCompanies())
    assert Query(client, keys.namespace).counters()["scored"] == n
    last = hour_of(times[-1] // 1000)
    assert client.hget(keys.hour(f"ticker:B-{n - 1}X19", last), "n") == "1"
