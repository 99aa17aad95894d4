"""End-to-end throughput, side by side, in one run (issue 8).

On its own embedded broker + Redis (free ports), with the same model and the same messages:

1. limit    - the scorer alone on what the consumer scores (each text, plus each
              company's clause of a post naming several; ``model_work``), same batch
              size and as many batches at once: the model's ceiling here;
2. sentimon - ``sentimon consume`` from the broker to Redis, first poll to last commit.
              ``--rounds`` (3) runs, each between two limit passes and judged against the
              higher of them; the round with the median sentimon/limit is the headline.
              Each round also compares CPU per message: the limit's against the
              consumer's own plus the broker's and Redis's (``cpu_ratio_limit``, median):
              the work done rather than the time it took (the host's load moves it too);
3. naive    - a kafka-python loop scoring each message with ``transformers.pipeline`` one
              at a time and incrementing Redis per message (a subset, extrapolated);
plus end-to-end latency p50/p99 (event time -> aggregate visible in Redis, read from the
Redis-assigned ids of the recent-posts stream) at an offered rate of half sentimon's
throughput (clock started once the member owns its partitions), the consumer's peak RSS,
and a scaling check: two consumer processes vs one with a cheap scorer (so partitions,
not inference, bound the throughput), ``--rounds`` times (one process, two, one again:
the two against the mean of the ones), median round reported, with the cores the
machine kept busy in each run, the ratio those cores allow, and the same one-two-one
ratio for a pure-Python loop that shares nothing (``bench/scaling.py``,
``bench/machine_ref.py``).

    python bench/e2e.py [--messages 5000] [--rounds 3] [--model models/default]

Writes bench/results/e2e.json and ends with one JSON line of the headline numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import (  # noqa: E402
    cli_env,
    feed_texts,
    make_records,
    median_round,
    naive_rate,
    produce,
    run_consumer_process,
    wait_assigned,
    write_result,
)
from bench.scaling import describe, scaling  # noqa: E402
from inference import load_scorer  # noqa: E402
from inference.posts import PostScorer, extract_tickers, linker_of  # noqa: E402
from inference.scorer import concurrency_of, warm_up  # noqa: E402
from sentimon.contract import Post  # noqa: E402
from sentimon.keys import MARKET, Keys  # noqa: E402
from sentimon.stack import Stack  # noqa: E402
from sentimon.stack.services import free_port  # noqa: E402
from sentimon.store.client import connect  # noqa: E402
from sentimon.store.query import Query  # noqa: E402
from sentimon.topics import create_topics, default_specs  # noqa: E402


def model_work(settings: Any, texts: list[str], batch: int) -> list[list[str]]:
    """What the consumer asks of the model, batch by batch: each post's text and, for a
    post naming several companies in different clauses, each company's clause
    (``inference.posts.PostScorer``), in ``batch``-post batches."""
    posts = PostScorer(load_scorer(settings), linker_of(settings))
    out = []
    for i in range(0, len(texts), batch):
        chunk = texts[i : i + batch]
        linked = [posts.link(Post(str(j), t, 0, "news", "bench", extract_tickers(t)))
                  for j, t in enumerate(chunk)]  # fmt: skip
        extra = [text for lp in linked for text in lp.targets.values() if text is not None]
        out.append(chunk + extra)
    return out


def limit_rate(settings: Any, texts: list[str], batch: int) -> dict[str, Any]:
    """The model alone on the consumer's work (``model_work``): the same batches, as many
    at once as the consumer scores; ``mps``: posts a second."""

    scorer = load_scorer(settings)
    warm_up(scorer, batch)  # as the consumer does before it joins its group
    workers = concurrency_of(scorer)
    batches = model_work(settings, texts, batch)
    with ThreadPoolExecutor(workers) as pool:
        started, cpu = time.perf_counter(), time.process_time()
        list(pool.map(scorer.score, batches))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "mps": len(texts) / elapsed,
        "texts_scored": sum(map(len, batches)),
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "model": scorer.model_id,
        "concurrent_batches": workers,
    }


def latency(
    stack: Stack, base: dict[str, Any], texts: list[str], rate: float, n: int
) -> dict[str, Any]:
    """Offer ``rate`` msg/s with event time = send time; latency = Redis write time - ts."""
    settings = stack.settings(
        **base,
        namespace="bench-latency",
        group="bench-latency",
        topics=["lat-news", "lat-social"],
        recent_posts=n + 100,
    )
    create_topics(settings, default_specs(settings))
    env = cli_env(settings)

    client = connect(settings)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sentimon.cli.main", "consume", "--until-idle", "30"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    # The clock starts once the member has loaded the model and owns every partition
    # (its health snapshot says so): steady-state latency, not start-up.
    try:
        wait_assigned(settings, 1, alive=lambda: proc.poll() is None)
    except RuntimeError as exc:
        proc.kill()
        assert proc.stderr is not None
        raise RuntimeError(f"{exc}; consumer stderr: {proc.stderr.read()[-2000:]}") from exc
    records = make_records(texts, n, prefix="lat", live=True)
    produce(settings, records, "lat-news", rate=rate)
    want = len(records)
    deadline = time.monotonic() + 120
    query = Query(client, settings.namespace)
    while time.monotonic() < deadline and query.counters().get("records", 0) < want:
        time.sleep(0.2)
    proc.terminate()
    proc.communicate(timeout=60)
    entries = client.xrange(Keys("bench-latency").recent(MARKET))
    lat = sorted(int(eid.split("-")[0]) - json.loads(f["p"])["ts"] for eid, f in entries)
    if not lat:
        return {"p50_ms": None, "p99_ms": None, "n": 0}
    return {
        "offered_mps": rate,
        "n": len(lat),
        "p50_ms": statistics.median(lat),
        "p99_ms": lat[min(len(lat) - 1, int(0.99 * len(lat)))],
        "max_ms": lat[-1],
    }


def service_cpu(stack: Stack) -> dict[str, float]:
    """CPU seconds the broker and Redis processes have used so far."""
    out = {}
    for name, service in (("broker", stack.kafka), ("redis", stack.redis)):
        pid = service.pid()
        if pid is not None:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[name] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def cpu_cost(
    run: dict[str, Any], services: dict[str, float], limit_cpu_ms: float
) -> dict[str, Any]:
    """CPU per message: the limit's (scoring alone) against sentimon's, which is the
    consumer's own from first poll to last commit plus the broker's and Redis's over the
    consumer's whole run (start-up and idle exit included: an overestimate). It counts the
    work rather than the wall-clock time it took, though the host's load moves the CPU a
    unit of work costs too."""
    n = run["records"]
    consumer = 1000 * run["cpu_seconds"] / n
    parts = {name: 1000 * seconds / n for name, seconds in services.items()}
    total = consumer + sum(parts.values())
    return {
        "limit_ms": round(limit_cpu_ms, 4),
        "consumer_ms": round(consumer, 4),
        **{f"{name}_ms": round(ms, 4) for name, ms in parts.items()},
        "sentimon_ms": round(total, 4),
        "ratio": round(limit_cpu_ms / total, 4),
    }


def interleaved_rounds(
    stack: Stack, base: dict[str, Any], texts: list[str], rounds: int
) -> list[dict[str, Any]]:
    """``rounds`` sentimon runs over the same produced messages (a fresh group and
    namespace each), with a limit pass before the first and after every run. Each round
    is judged against the higher of the passes either side of it."""
    passes = []
    runs = []
    for i in range(rounds):
        settings = stack.settings(**base, namespace=f"bench-{i}", group=f"bench-{i}")
        if i == 0:
            passes.append(limit_rate(settings, texts, settings.max_batch))
            print(f"limit    {passes[0]['mps']:8.1f} msg/s  ({passes[0]['model']})", flush=True)
        before = service_cpu(stack)
        runs.append(run_consumer_process(settings, procs=1)[0])
        after = service_cpu(stack)
        runs[-1]["services_cpu_seconds"] = {k: after[k] - before[k] for k in after}
        print(
            f"sentimon {runs[-1]['records_per_second']:8.1f} msg/s  "
            f"rss {runs[-1]['peak_rss_mb']} MB",
            flush=True,
        )
        passes.append(limit_rate(settings, texts, settings.max_batch))
        print(f"limit    {passes[-1]['mps']:8.1f} msg/s", flush=True)
    out = []
    for i, run in enumerate(runs):
        ceiling = dict(max(passes[i], passes[i + 1], key=lambda r: r["mps"]))
        ceiling["passes_mps"] = [round(passes[i]["mps"], 1), round(passes[i + 1]["mps"], 1)]
        limit_cpu_ms = 1000 * (passes[i]["cpu_seconds"] + passes[i + 1]["cpu_seconds"]) / 2
        cpu = cpu_cost(run, run["services_cpu_seconds"], limit_cpu_ms / len(texts))
        print(
            f"cpu/msg  limit {cpu['limit_ms']:.3f} ms, sentimon {cpu['sentimon_ms']:.3f} ms "
            f"(consumer {cpu['consumer_ms']:.3f}, broker {cpu.get('broker_ms', 0):.3f}, "
            f"redis {cpu.get('redis_ms', 0):.3f}): limit/sentimon {cpu['ratio']:.3f}",
            flush=True,
        )
        out.append(
            {
                "limit": ceiling,
                "sentimon": run,
                "ratio": run["records_per_second"] / ceiling["mps"],
                "cpu": cpu,
            }
        )
    return out


def _round_summary(pair: dict[str, Any]) -> dict[str, float]:
    return {
        "ratio": round(pair["ratio"], 4),
        "cpu_ratio": pair["cpu"]["ratio"],
        "limit_mps": round(pair["limit"]["mps"], 1),
        "sentimon_mps": round(pair["sentimon"]["records_per_second"], 1),
    }


def cpu_model() -> str | None:
    """The CPU's model name (Linux), to tell apart runs on different machine types."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--model", default=os.environ.get("SENTIMON_MODEL", "default"))
    parser.add_argument("--naive-subset", type=int, default=400)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="sentimon runs (each between two limit passes) and scaling rounds",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "e2e.json")
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    texts = feed_texts()
    base = {"model": args.model}
    with tempfile.TemporaryDirectory() as state:
        stack = Stack(free_port(), free_port(), Path(state))
        stack.up()
        try:
            settings = stack.settings(**base, namespace="bench", group="bench")
            create_topics(settings, default_specs(settings))
            records = make_records(texts, args.messages, prefix="e2e")
            msg_texts = [r["text"] for r in records]
            produce(settings, records, "news")
            pairs = interleaved_rounds(stack, base, msg_texts, args.rounds)
            # The round with the median ratio is the headline (each round's ceiling is the
            # higher of the limit passes either side of it: noise never flatters a ratio).
            chosen = median_round(pairs)
            limit, summary = chosen["limit"], chosen["sentimon"]
            sentimon_mps = summary["records_per_second"]
            ratios = ", ".join(f"{p['ratio']:.3f}" for p in pairs)
            print(f"rounds   sentimon/limit {ratios} -> median {chosen['ratio']:.3f}", flush=True)
            cpu_ratio = statistics.median(p["cpu"]["ratio"] for p in pairs)
            print(f"rounds   cpu limit/sentimon per message -> median {cpu_ratio:.3f}", flush=True)
            naive = naive_rate(settings, stack, msg_texts[: args.naive_subset])
            print(
                f"naive    {naive['mps']:8.1f} msg/s  (subset of {naive['n']}, extrapolated)",
                flush=True,
            )
            lat = latency(stack, base, texts, rate=sentimon_mps / 2, n=min(args.messages, 3000))
            print(
                f"latency  p50 {lat['p50_ms']} ms  p99 {lat['p99_ms']} ms at {sentimon_mps / 2:.0f} msg/s",
                flush=True,
            )
            scale = scaling(stack, base, texts, n=args.messages * 4, rounds=args.rounds)
            print(
                f"scaling  1 proc {scale['1_proc_mps']:.0f} msg/s, 2 procs {scale['2_proc_mps']:.0f} msg/s "
                f"({describe(scale)}; median of {len(scale['rounds'])} rounds, cheap scorer)",
                flush=True,
            )
        finally:
            stack.down()
    result = {
        "messages": args.messages,
        "model": limit["model"],
        "limit": limit,
        "sentimon": summary,
        "rounds": [_round_summary(p) for p in pairs],
        "naive": naive,
        "latency": lat,
        "scaling": scale,
        "machine": {"cpus": os.cpu_count(), "cpu": cpu_model()},
    }
    headline = {
        "limit_mps": round(limit["mps"], 1),
        "sentimon_mps": round(sentimon_mps, 1),
        "naive_mps": round(naive["mps"], 1),
        "ratio_limit": round(sentimon_mps / limit["mps"], 3),
        "ratio_naive": round(sentimon_mps / naive["mps"], 2),
        "cpu_ratio_limit": round(cpu_ratio, 3),
        "p50_ms": lat["p50_ms"],
        "p99_ms": lat["p99_ms"],
        "rss_mb": summary["peak_rss_mb"],
        "scaling_2proc": round(scale["ratio"], 2),
        "scaling_ceiling": scale["ceiling"] and round(scale["ceiling"], 2),
        "scaling_machine": round(scale["machine"], 2),
    }
    result["headline"] = headline
    write_result(args.out, result)
    print(json.dumps(headline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
