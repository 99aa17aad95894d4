"""Dashboard refresh benchmark: 500 active tickers x 24 h of minute buckets in a real Redis.

Fills a throw-away Redis (started on a free port) through the real sink
(``plan_aggregates`` + ``RedisSink.apply``), then times

* the data layer of one full refresh (``dashboard.snapshot.load_snapshot``), and
* a full render of the app with Streamlit's ``AppTest`` (data + every panel),

and writes ``bench/results/dashboard.json``. Target: a full refresh under 1 s.

    .venv/bin/python bench/dashboard.py [--tickers 500] [--hours 26] [--runs 7]

Besides wall time it records the CPU seconds of this process (data layer + rendering) and
of the Redis server per refresh, which stay meaningful on a busy shared machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import redis_server, write_result  # noqa: E402
from dashboard import cache  # noqa: E402
from dashboard.snapshot import load_snapshot  # noqa: E402
from sentimon.aggregate import AggregateUpdate, ScoredPost  # noqa: E402
from sentimon.contract import Post  # noqa: E402
from sentimon.keys import MARKET, REGISTRY, Keys, kind_entity, ticker_entity  # noqa: E402
from sentimon.store.query import Query  # noqa: E402
from sentimon.store.sink import RedisSink  # noqa: E402
from sentimon.windows import HOUR, MINUTE, Stats  # noqa: E402
from sentimon.writeplan import WritePlan, plan_aggregates  # noqa: E402

log = logging.getLogger("bench.dashboard")
RESULTS = ROOT / "bench" / "results" / "dashboard.json"
END_MS = 1_793_000_000_000
NAMESPACE = "bench"


def symbols(n: int) -> list[str]:
    return [f"T{i:03d}" for i in range(n)]


def minute_stats(rng: random.Random, posts: int) -> Stats:
    """A minute bucket of ``posts`` posts with random labels and scores (sums drawn
    directly: generating a million individual posts would dominate the fill)."""
    pos = rng.randint(0, posts)
    neg = rng.randint(0, posts - pos)
    mean = (pos - neg) / posts * 0.6
    s_micro = round(mean * posts * 1_000_000)
    ss_micro = round((mean * mean + 0.04) * posts * 1_000_000)
    return Stats(posts, pos, posts - pos - neg, neg, s_micro, ss_micro)


def story_stats(rng: random.Random, posts: Stats) -> Stats:
    """The stories begun among a minute's posts: 1 to all of them (the rest are copies)."""
    begun = rng.randint(1, posts.count)
    return Stats(count=begun, negative=min(posts.negative, begun), s_micro=posts.s_micro // 2)


def hour_update(rng: random.Random, tickers: list[str], hour_start_s: int) -> AggregateUpdate:
    """One event-time hour: every ticker has 1-3 posts in every minute up to END_MS, and
    stories begun among them (the story fields the dashboard reads beside the posts)."""
    update = AggregateUpdate()
    stop = min(hour_start_s + HOUR, END_MS // 1000 // MINUTE * MINUTE + MINUTE)  # <= watermark
    minutes = range(hour_start_s, stop, MINUTE)
    for minute in minutes:
        market, begun = Stats(), Stats()
        for sym in tickers:
            stats = minute_stats(rng, rng.randint(1, 3))
            update.buckets[(ticker_entity(sym), minute)] = stats
            update.stories[(ticker_entity(sym), minute)] = story_stats(rng, stats)
            market = market + stats
            begun = begun + update.stories[(ticker_entity(sym), minute)]
        update.buckets[(MARKET, minute)] = market
        update.buckets[(kind_entity("news"), minute)] = market
        update.stories[(MARKET, minute)] = begun
    for sym in tickers:
        update.volume[(sym, hour_start_s)] = sum(
            update.buckets[(ticker_entity(sym), m)].count for m in minutes
        )
    update.max_event_ms = min((hour_start_s + HOUR) * 1000 - 1, END_MS)
    return update


def recent_posts(tickers: list[str], per_ticker: int) -> AggregateUpdate:
    update = AggregateUpdate()
    for sym in tickers:
        for i in range(per_ticker):
            post = Post(
                id=f"{sym}-{i}",
                text=f"${sym} headline number {i}",
                ts_ms=END_MS - i * 60_000,
                kind="news",
                source="bench",
                tickers=(sym,),
                url=f"https://example.com/{sym}/{i}",
            )
            score = (i % 5 - 2) / 2
            label = "positive" if score > 0 else "negative" if score < 0 else "neutral"
            story = f"{sym}-{i - i % 3}"  # stories of three posts: one row each
            update.posts.append(
                ScoredPost(post, label, score, "bench-model", story_id=story, novel=i % 3 == 0)
            )
    return update


def fill(client: Any, tickers: list[str], hours: int) -> float:
    """Write ``hours`` hours of minute buckets ending at END_MS; returns seconds taken."""
    keys = Keys(NAMESPACE)
    sink = RedisSink(client, keys, dedup_horizon_s=0)
    rng = random.Random(0)
    last_hour = END_MS // 1000 // HOUR * HOUR
    started = time.perf_counter()
    for hour in range(last_hour - (hours - 1) * HOUR, last_hour + 1, HOUR):
        plan = WritePlan()
        plan_aggregates(
            plan, keys, hour_update(rng, tickers, hour), retention_s=30 * 86400, recent=50
        )
        result = sink.apply(plan)
        assert result.ok, result
    plan = WritePlan()
    plan_aggregates(plan, keys, recent_posts(tickers, 20), retention_s=30 * 86400, recent=50)
    assert sink.apply(plan).ok
    client.hset(keys.meta, mapping={"watermark_ms": END_MS, "model": "bench-model"})
    client.sadd(REGISTRY, NAMESPACE)
    return time.perf_counter() - started


@dataclass
class Samples:
    """Per refresh: wall seconds, this process's CPU seconds, the Redis server's CPU seconds."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    redis_cpu: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        def med(xs: list[float]) -> float:
            return round(statistics.median(xs), 4)

        return {
            "median_s": med(self.wall),
            "min_s": round(min(self.wall), 4),
            "max_s": round(max(self.wall), 4),
            "client_cpu_median_s": med(self.cpu),
            "redis_cpu_median_s": med(self.redis_cpu),
        }


def redis_cpu(client: Any) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user_main_thread"]) + float(info["used_cpu_sys_main_thread"])


def measure(client: Any, action: Callable[[], object], runs: int) -> Samples:
    out = Samples()
    for _ in range(runs):
        wall, cpu, server = time.perf_counter(), time.process_time(), redis_cpu(client)
        action()
        out.wall.append(time.perf_counter() - wall)
        out.cpu.append(time.process_time() - cpu)
        out.redis_cpu.append(redis_cpu(client) - server)
    return out


def time_data_layer(client: Any, runs: int) -> Samples:

    query = Query(client, NAMESPACE)
    snap = load_snapshot(query)
    log.info("snapshot has %d tickers", len(snap.tickers))
    return measure(client, lambda: load_snapshot(query), runs)


def time_app(client: Any, redis_url: str, runs: int) -> tuple[float, Samples, Samples]:
    """Full renders of the app (every panel, all three tabs) with AppTest: cold (snapshot
    cache cleared: every read and every render) and warm (nothing new was ingested)."""
    from streamlit.testing.v1 import AppTest  # noqa: PLC0415 (heavy: loaded only when used)

    os.environ.update({"SENTIMON_REDIS_URL": redis_url, "SENTIMON_NAMESPACE": NAMESPACE})
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
    started = time.perf_counter()
    at.run()
    first = time.perf_counter() - started
    assert not at.exception, at.exception
    rows = at.container(key="ticker_panel").dataframe[0].value
    log.info("app shows %d ticker rows", len(rows))

    def rerun(cold: bool) -> None:
        if cold:
            cache.clear()
        at.run()
        assert not at.exception, at.exception

    return (
        first,
        measure(client, lambda: rerun(True), runs),
        measure(client, lambda: rerun(False), runs),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=500)
    parser.add_argument("--hours", type=int, default=26, help="hours of buckets (24 h + baseline)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--redis-url", help="use this Redis (already filled by an earlier run)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with redis_server(args.redis_url) as url:
        result = run_bench(url, args)
    write_result(RESULTS, result)
    print(json.dumps(result, indent=2))
    return 0


def run_bench(url: str, args: argparse.Namespace) -> dict[str, Any]:

    client = redis.Redis.from_url(url, decode_responses=True)
    tickers = symbols(args.tickers)
    filled = client.hget(Keys(NAMESPACE).meta, "filled") == f"{args.tickers}x{args.hours}"
    fill_s = 0.0 if filled else fill(client, tickers, args.hours)
    client.hset(Keys(NAMESPACE).meta, "filled", f"{args.tickers}x{args.hours}")
    log.info("%d tickers x %d h of minute buckets (fill %.1fs)", len(tickers), args.hours, fill_s)
    data = time_data_layer(client, args.runs)
    first, app, warm = time_app(client, url, args.runs)
    load = os.getloadavg()
    return {
        "command": " ".join(["python bench/dashboard.py", *sys.argv[1:]]),
        "tickers": args.tickers,
        "hours_of_minute_buckets": args.hours,
        "fill_s": round(fill_s, 2),
        "data_layer": data.summary(),
        "full_render_apptest": app.summary(),
        "warm_render_apptest (no new data, snapshot cached)": warm.summary(),
        "first_render_s": round(first, 3),
        "target_s": 1.0,
        "meets_target": statistics.median(app.wall) < 1.0,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_1m_5m": [round(load[0], 2), round(load[1], 2)],
        },
    }


if __name__ == "__main__":
    sys.exit(main())
