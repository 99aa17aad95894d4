"""End to end through the real broker and Redis: produce -> consume -> aggregates."""

from __future__ import annotations

import json

import pytest
from kafka import KafkaConsumer

from tests.integration.feeds import assert_aggregates_match, make_feed, publish, query_json

pytestmark = pytest.mark.integration


def read_dlq(env, topic, expected):
    consumer = KafkaConsumer(
        f"{topic}.dlq",
        bootstrap_servers=[env.stack.bootstrap],
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
        group_id=None,
    )
    out = []
    for message in consumer:
        out.append(message)
        if len(out) >= expected:
            break
    consumer.close()
    return out


def test_end_to_end_counts_dlq_and_dedup(env):
    feed = make_feed(env.news, env.social, n_valid=300)
    publish(env.stack.bootstrap, feed)
    env.cli("consume", "--until-idle", "4")

    assert_aggregates_match(env, feed)
    top = query_json(env, "top", "--window", "24h", "--at", str(feed.max_ts), "--limit", "50")
    assert {row["ticker"]: row["count"] for row in top} == dict(feed.ticker_counts)
    counts = [row["count"] for row in top]
    assert counts == sorted(counts, reverse=True)

    assert query_json(env, "dlq") == {t: n for t, n in feed.dlq.items()}
    status = json.loads(env.cli("status", "--json").stdout)
    assert status["counters"]["duplicates"] == feed.duplicates
    assert status["counters"]["scored"] == feed.market
    assert status["counters"]["records"] == feed.total

    for topic in (env.news, env.social):
        letters = read_dlq(env, topic, feed.dlq[topic])
        assert len(letters) == feed.dlq[topic]
        reasons = [dict(m.headers)["sentimon-dlq-reason"].decode() for m in letters]
        for needle in feed.reasons[topic]:
            assert any(needle in r for r in reasons), (needle, reasons)
        for m in letters:
            headers = dict(m.headers)
            assert headers["sentimon-source-topic"].decode() == topic
            assert int(headers["sentimon-source-offset"].decode()) >= 0


def test_recent_posts_carry_labels_that_sum_to_the_aggregate(env):
    feed = make_feed(env.news, env.social, n_valid=120, with_malformed=False, duplicates=0)
    publish(env.stack.bootstrap, feed)
    env.cli("consume", "--until-idle", "4")
    ticker, count = feed.ticker_counts.most_common(1)[0]
    posts = query_json(env, "posts", ticker, "--limit", "500")
    assert len(posts) == count
    agg = query_json(env, "ticker", ticker, "--window", "24h", "--at", str(feed.max_ts))
    for label in ("positive", "neutral", "negative"):
        assert agg[label] == sum(1 for p in posts if p["label"] == label)
    assert agg["mean_score"] == pytest.approx(sum(p["score"] for p in posts) / count, abs=1e-5)
    assert all(p["model"] for p in posts)


def test_produce_cli_from_jsonl_and_rerun_is_idempotent(env, tmp_path):
    path = tmp_path / "feed.jsonl"
    rows = [
        {"text": f"$AAPL headline number {i}", "ts": 1_793_000_000_000 + i * 1000}
        for i in range(40)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    env.cli("produce", str(path), "--topic", env.news)
    env.cli("consume", "--until-idle", "3")
    env.cli("consume", "--until-idle", "3")  # nothing new: must not change anything
    got = query_json(env, "ticker", "AAPL", "--window", "1h", "--at", str(1_793_000_039_000))
    assert got["count"] == 40


def test_metrics_and_healthz_while_consuming(env):
    import time
    import urllib.request

    from sentimon.stack.services import free_port

    port = free_port()
    feed = make_feed(env.news, env.social, n_valid=150)
    proc = env.spawn("consume", "--until-idle", "8", "--metrics-port", str(port))
    publish(env.stack.bootstrap, feed)
    text, deadline = "", time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            text = (
                urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)
                .read()
                .decode()
            )
        except OSError:
            time.sleep(0.3)
            continue
        consumed = sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("sentimon_records_consumed_total{")
        )
        if consumed >= feed.total:
            break
        time.sleep(0.3)
    health = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
    assert health.status == 200 and json.loads(health.read())["healthy"] is True
    proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert consumed == feed.total
    scored = sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("sentimon_records_scored_total{")
    )
    assert scored == feed.market
    assert "sentimon_inference_seconds_bucket" in text and "sentimon_model_info{" in text
