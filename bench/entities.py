"""Entity linking costs, side by side in one run (issue 23).

1. **matchers**: finding the universe's names in 10,000 posts (``bench/entity_feed.py``)
   with pyahocorasick (what the linker uses), a compiled regular-expression alternation
   (the standard library's way) and flashtext (when installed): microseconds a post;
2. **linking**: the full ``Linker.link`` plus the per-company texts
   (``sentimon.entities.targets``): microseconds a post;
3. **consumer path**: the batch processor (validate, link, score, one atomic Redis write,
   alert hook) on a real Redis, with linking off (tickers and cashtags only, as before
   this issue) and on, in interleaved rounds on the same feed: posts a second, the ratio,
   and Redis CPU a record from ``INFO commandstats``.

    python bench/entities.py [--posts 10000] [--pipeline-posts 4000] [--rounds 3]
                             [--model default | --hash-scorer]

Writes bench/results/entities.json and prints one JSON line of the headline numbers.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import DropDeadLetters, redis_server, write_result  # noqa: E402
from bench.entity_feed import entity_feed  # noqa: E402
from consumers.records import SourceRecord  # noqa: E402
from consumers.wiring import build_processor  # noqa: E402
from inference import load_scorer  # noqa: E402
from inference.scorer import Scorer, warm_up  # noqa: E402
from sentimon.contract import normalise_tickers  # noqa: E402
from sentimon.entities.link import Linker, _fold  # noqa: E402
from sentimon.entities.targets import target_texts  # noqa: E402
from sentimon.entities.universe import load_universe  # noqa: E402
from sentimon.settings import Settings  # noqa: E402
from sentimon.store.client import connect  # noqa: E402
from sentimon.testing import HashScorer  # noqa: E402

HOOKS = None
RESULTS = ROOT / "bench" / "results" / "entities.json"


def matchers(texts: list[str]) -> dict[str, float]:
    """Microseconds a post to find every universe name (matching alone)."""
    universe = load_universe()
    names = sorted({_fold(s) for s, _, _ in universe.names()}, key=len, reverse=True)
    out: dict[str, float] = {}
    linker = Linker(universe)
    automaton = linker._automaton
    out["pyahocorasick"] = _per_post(texts, lambda t: list(automaton.iter(_fold(t))))
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, names)) + r")\b")
    out["re_alternation"] = _per_post(texts, lambda t: pattern.findall(_fold(t)))
    try:
        from flashtext import KeywordProcessor  # type: ignore[import-not-found]  # noqa: PLC0415 (optional: compared when installed)
    except ImportError:
        return out
    processor = KeywordProcessor()
    for name in names:
        processor.add_keyword(name)
    out["flashtext"] = _per_post(texts, lambda t: processor.extract_keywords(_fold(t)))
    return out


def linking(texts: list[str]) -> dict[str, float]:
    linker = Linker(load_universe())
    tickers = [normalise_tickers([], t, 20) for t in texts]

    def link(i: int) -> None:
        found = linker.link(texts[i], tickers=tickers[i])  # type: ignore[arg-type]
        target_texts(texts[i], found)

    started = time.perf_counter()
    for i in range(len(texts)):
        link(i)
    per_post = (time.perf_counter() - started) / len(texts) * 1e6
    linked = sum(bool(linker.link(t)) for t in texts) / len(texts)
    return {"us_per_post": round(per_post, 2), "share_with_a_company": round(linked, 3)}


def _per_post(texts: list[str], fn: Any) -> float:
    for text in texts[:200]:
        fn(text)
    started = time.perf_counter()
    for text in texts:
        fn(text)
    return round((time.perf_counter() - started) / len(texts) * 1e6, 2)


def pipeline_round(
    url: str, scorer: Scorer, records: list[dict[str, Any]], *, linking_on: bool, tag: str
) -> dict[str, float]:
    """Posts a second through the batch processor, and Redis CPU per record."""
    settings = Settings(redis_url=url, namespace=f"bench-{tag}", entity_linking=linking_on)
    client = connect(settings)
    processor = build_processor(
        settings, scorer, client=client, dead_letters=DropDeadLetters(), hooks=HOOKS
    )
    now = int(time.time() * 1000)
    batches = [
        [
            SourceRecord(
                "news", 0, i, now, json.dumps({**r, "ts": now - len(records) + i}).encode()
            )
            for i, r in enumerate(records[s : s + 256], start=s)
        ]
        for s in range(0, len(records), 256)
    ]
    client.config_resetstat()
    cpu = _redis_cpu(client)
    started = time.perf_counter()
    for batch in batches:
        processor.process(batch)
    elapsed = time.perf_counter() - started
    cpu = _redis_cpu(client) - cpu
    stats = client.info("commandstats")
    # Commands a script runs are counted inside the script's own time (EVALSHA) as well
    # as on their own: the scripts' time plus the commands sent directly is the total.
    scripts = sum(v["usec"] for k, v in stats.items() if k.startswith("cmdstat_evalsha"))
    direct = sum(v["usec"] for k, v in stats.items() if k in _DIRECT)
    return {
        "posts_per_s": len(records) / elapsed,
        "redis_us_per_record": (scripts + direct) / len(records),
        "redis_cpu_us_per_record": cpu * 1e6 / len(records),
    }


#: Commands the consumer sends outside its scripts.
_DIRECT = {"cmdstat_hmget", "cmdstat_hget", "cmdstat_sadd", "cmdstat_hgetall", "cmdstat_hset"}


def _redis_cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def pipeline(args: argparse.Namespace, records: list[dict[str, Any]]) -> dict[str, Any]:
    scorer: Scorer = HashScorer() if args.hash_scorer else load_scorer(model=args.model)
    warm_up(scorer, 64)
    rounds = []
    with redis_server() as url:
        for n in range(args.rounds):
            off = pipeline_round(url, scorer, records, linking_on=False, tag=f"off{n}")
            on = pipeline_round(url, scorer, records, linking_on=True, tag=f"on{n}")
            rounds.append({"off": off, "on": on,
                           "ratio": on["posts_per_s"] / off["posts_per_s"],
                           "redis_ratio": on["redis_us_per_record"]
                           / off["redis_us_per_record"]})  # fmt: skip
    ratios = [r["ratio"] for r in rounds]
    return {
        "scorer": scorer.model_id,
        "rounds": rounds,
        "throughput_ratio_median": round(statistics.median(ratios), 3),
        "redis_time_ratio_median": round(statistics.median(r["redis_ratio"] for r in rounds), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--pipeline-posts", type=int, default=4_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", default="default")
    parser.add_argument("--hash-scorer", action="store_true", help="no model: hash scores")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    feed = entity_feed(args.posts)
    texts = [r["text"] for r in feed]
    result = {
        "posts": len(texts),
        "matchers_us_per_post": matchers(texts),
        "linking": linking(texts),
        "pipeline": pipeline(args, feed[: args.pipeline_posts]),
    }
    write_result(args.out, result)
    print(json.dumps({
        "linking_us_per_post": result["linking"]["us_per_post"],
        "throughput_ratio": result["pipeline"]["throughput_ratio_median"],
        "redis_time_ratio": result["pipeline"]["redis_time_ratio_median"],
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
