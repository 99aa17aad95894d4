"""What stories cost in the consumer (issue 24): time per post, Redis time, Redis memory.

The batch processor (``consumers.wiring.build_processor``: validation, entity linking,
``HashScorer`` from ``sentimon.testing`` so the model does not dominate, ``hooks=[]`` so
alerts do not either) writes the same feed into a throw-away Redis
(``sentimon.stack.services.RedisService``) twice per round, once with stories off
(``Settings(stories_enabled=False)``) and once on, each into a fresh namespace:

- **write phase**: seconds in ``BatchProcessor.write_phase`` (the story fingerprints, the
  two ``MGET``s of the index, the decisions, the plan and the one atomic script), per
  post; the on - off difference is what story assignment costs, its share of the write
  included. ``score_phase`` (validation, linking, scoring) is timed apart: stories do not
  touch it. The parts of the difference (fingerprints, ``StoryIndex.assign`` with its
  reads, ``StoryIndex.plan``) are timed by wrapping them;
- **Redis time**: ``INFO commandstats`` microseconds, the scripts (``EVALSHA``, whose
  inner commands are counted inside it) plus the commands the consumer sends itself;
- **Redis memory**: ``INFO memory`` ``used_memory`` after minus before the run, on minus
  off, per post, times 1,000,000 (a linear scaling: the index holds a fingerprint per
  story and a band list per distinct band key, both in proportion to the posts at a fixed
  share of copies; the story fields of the hour hashes grow with entity-minutes, not
  posts, and are a small part). The index keys are also measured alone (``MEMORY USAGE``
  of every ``story:*`` key).

The feed: 20,000 posts, 30 % of them wire copies of recent posts (``bench.stories.feed``:
the labelled texts of ``inference/data/stories_*.jsonl`` with fresh figures, copies
re-worded with prefixes, suffixes, case and truncation), one post per 86.4 ms of event
time: the density of 1,000,000 posts in a 24 h horizon, so the feed fills hour hashes as
that stream would and the memory scales linearly to it.

    python bench/story_cost.py [--posts 20000] [--rounds 3] [--batch 64]

Writes bench/results/story_cost.json; prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import redis  # noqa: E402

from bench.common import DropDeadLetters, redis_server, write_result  # noqa: E402
from bench.stories import feed  # noqa: E402
from consumers.records import SourceRecord  # noqa: E402
from consumers.wiring import build_processor  # noqa: E402
from sentimon.keys import Keys  # noqa: E402
from sentimon.settings import Settings  # noqa: E402
from sentimon.store.client import connect  # noqa: E402
from sentimon.testing import HashScorer  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "story_cost.json"
TARGET_US = 100.0
SCALE_TO = 1_000_000
#: Event-time spacing of the posts (µs): SCALE_TO posts in the 24 h story horizon.
SPACING_US = 86_400 * 1_000_000 // SCALE_TO
#: Commands the consumer sends itself, outside its scripts (fences, index reads, registry);
#: every other command in the stats runs inside ``EVALSHA`` and is counted in its time.
_DIRECT = ("mget", "hmget", "hgetall", "sadd")


class _Timer:
    """Wraps callables and sums the seconds spent in them."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        self.seconds.setdefault(name, 0.0)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started

        return timed


def batches(texts: list[str], size: int) -> list[list[SourceRecord]]:
    now = int(time.time() * 1000)
    first = now - len(texts) * SPACING_US // 1000
    records = [
        SourceRecord("news", 0, i, now, json.dumps(
            {"id": f"p{i}", "text": t, "ts": first + i * SPACING_US // 1000}).encode())
        for i, t in enumerate(texts)
    ]  # fmt: skip
    return [records[s : s + size] for s in range(0, len(records), size)]


def story_keys_bytes(client: redis.Redis, namespace: str) -> tuple[int, int]:
    """(keys, bytes) of the namespace's story index, by ``MEMORY USAGE``."""
    names = list(client.scan_iter(match=f"{Keys(namespace).prefix}story:*", count=1000))
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.memory_usage(name, samples=0)
    return len(names), sum(int(v or 0) for v in pipe.execute())


def run(url: str, texts: list[str], size: int, *, stories: bool, tag: str) -> dict[str, Any]:
    """One pass of the feed through a fresh namespace."""
    settings = Settings(redis_url=url, namespace=f"bench-{tag}", stories_enabled=stories)
    client = connect(settings)
    processor = build_processor(settings, HashScorer(), client=client, dead_letters=DropDeadLetters(),
                                hooks=[])  # fmt: skip
    timer = _Timer()
    if processor.stories is not None:
        index = processor.stories
        processor._story_candidates = timer.wrap("fingerprints", processor._story_candidates)  # type: ignore[method-assign]
        index.assign = timer.wrap("assign_with_reads", index.assign)  # type: ignore[method-assign]
        index.plan = timer.wrap("plan", index.plan)  # type: ignore[method-assign]
    work = batches(texts, size)
    client.config_resetstat()
    memory = int(client.info("memory")["used_memory"])
    score = write = 0.0
    for batch in work:
        started = time.perf_counter()
        staged = processor.score_phase(batch)
        middle = time.perf_counter()
        processor.write_phase(staged)
        write += time.perf_counter() - middle
        score += middle - started
    memory = int(client.info("memory")["used_memory"]) - memory
    stats = client.info("commandstats")
    scripts = sum(
        v["usec"] for k, v in stats.items() if k.startswith(("cmdstat_evalsha", "cmdstat_eval|"))
    )
    direct = sum(stats.get(f"cmdstat_{c}", {}).get("usec", 0) for c in _DIRECT)
    n = len(texts)
    keys, index_bytes = story_keys_bytes(client, settings.namespace)
    return {
        "write_us_per_post": write / n * 1e6,
        "score_phase_us_per_post": score / n * 1e6,
        "redis_us_per_record": (scripts + direct) / n,
        "redis_script_us_per_record": scripts / n,
        "redis_direct_us_per_record": direct / n,
        "used_memory_bytes": memory,
        "story_index_keys": keys,
        "story_index_bytes": index_bytes,
        "parts_us_per_post": {k: v / n * 1e6 for k, v in timer.seconds.items()},
        "commands": {k[len("cmdstat_") :]: v["calls"] for k, v in sorted(stats.items())},
    }


def _median(rounds: list[dict[str, Any]], side: str, key: str) -> float:
    return statistics.median(r[side][key] for r in rounds)


def summarise(rounds: list[dict[str, Any]], n: int) -> dict[str, Any]:
    diff = [r["on"]["write_us_per_post"] - r["off"]["write_us_per_post"] for r in rounds]
    mem = [r["on"]["used_memory_bytes"] - r["off"]["used_memory_bytes"] for r in rounds]
    index = statistics.median(r["on"]["story_index_bytes"] for r in rounds)
    parts = rounds[0]["on"]["parts_us_per_post"]
    return {
        "write_us_per_post": {
            side: round(_median(rounds, side, "write_us_per_post"), 2) for side in ("off", "on")
        },
        "story_us_per_post": round(statistics.median(diff), 2),
        "story_us_per_post_rounds": [round(d, 2) for d in diff],
        "story_parts_us_per_post": {
            k: round(statistics.median(r["on"]["parts_us_per_post"][k] for r in rounds), 2)
            for k in parts
        },
        "target_us": TARGET_US,
        "meets_target": statistics.median(diff) < TARGET_US,
        "score_phase_us_per_post": {
            side: round(_median(rounds, side, "score_phase_us_per_post"), 2)
            for side in ("off", "on")
        },
        "redis_us_per_record": {
            side: {
                "total": round(_median(rounds, side, "redis_us_per_record"), 2),
                "scripts": round(_median(rounds, side, "redis_script_us_per_record"), 2),
                "direct": round(_median(rounds, side, "redis_direct_us_per_record"), 2),
            }
            for side in ("off", "on")
        },
        "memory": {
            "used_memory_delta_bytes": {
                side: int(_median(rounds, side, "used_memory_bytes")) for side in ("off", "on")
            },
            "story_bytes_per_post": round(statistics.median(mem) / n, 1),
            "story_mb_per_million_posts": round(statistics.median(mem) / n * SCALE_TO / 2**20, 1),
            "index_keys": int(statistics.median(r["on"]["story_index_keys"] for r in rounds)),
            "index_bytes_per_post": round(index / n, 1),
            "index_mb_per_million_posts": round(index / n * SCALE_TO / 2**20, 1),
            "scaling": f"linear: (on - off used_memory delta) / {n} posts x {SCALE_TO:,}",
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--copies", type=float, default=0.3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=Settings.model_fields["max_batch"].default)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    texts = feed(args.posts, copies=args.copies)
    rounds = []
    with redis_server() as url:
        run(url, texts[:2000], args.batch, stories=True, tag="warm")  # caches, scripts
        for n in range(args.rounds):
            off = run(url, texts, args.batch, stories=False, tag=f"off{n}")
            on = run(url, texts, args.batch, stories=True, tag=f"on{n}")
            rounds.append({"off": off, "on": on})
    result = {
        "posts": len(texts),
        "copies_share": args.copies,
        "batch": args.batch,
        "scorer": "HashScorer",
        "command": f"python bench/story_cost.py --posts {args.posts} --rounds {args.rounds}",
        **summarise(rounds, len(texts)),
        "rounds": rounds,
    }
    write_result(args.out, result)
    print(json.dumps({
        "story_us_per_post": result["story_us_per_post"],
        "write_us_per_post": result["write_us_per_post"],
        "redis_us_per_record": {k: v["total"] for k, v in result["redis_us_per_record"].items()},
        "story_mb_per_million_posts": result["memory"]["story_mb_per_million_posts"],
        "index_mb_per_million_posts": result["memory"]["index_mb_per_million_posts"],
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
