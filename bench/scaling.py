"""The scaling check of ``bench/e2e.py``: one cheap-scorer consumer process against two
in one group over the same 8 partitions, with how many of the machine's cores each run
kept busy and what the cores give two processes that share nothing (so a ratio can be
read against what the cores allow)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from bench.common import (
    MachineCpu,
    make_records,
    median_round,
    produce,
    run_consumer_process,
    wait_assigned,
)
from bench.machine_ref import two_process_factor
from sentimon.stack import Stack
from sentimon.topics import create_topics, default_specs


def scaling(
    stack: Stack, base: dict[str, Any], texts: list[str], n: int, rounds: int = 3
) -> dict[str, Any]:
    """Cheap scorer: one process vs two in one group over the same 8 partitions, ``rounds``
    times. Each round runs one process, then two, then one again, and judges the two
    against the mean of the one-process runs either side of it, so a drift of the
    machine's speed over the round cancels; the round with the median ratio is reported.

    Each run also records the cores the whole machine kept busy over its span (consumers,
    Redis and the broker share them). ``ceiling`` is the ratio two processes would reach
    if they used every core as one process uses its share: cores / one process's busy
    cores. Two processes near every core and a ratio near the ceiling mean the cores bound
    the throughput; cores left idle with two processes point at something serial between
    the members (a lock, or a queue in a service they share).

    Each round ends with ``machine``, the same one-two-one ratio for a pure-Python loop
    that shares nothing (``bench/machine_ref.py``): what the cores give two CPU-bound
    processes at that moment, which on this shared 2-core machine falls short of 2 and
    drifts from minute to minute."""
    results = []
    for i in range(rounds):
        before = scaling_run(stack, base, texts, n, 1, tag=f"s1r{i}a")
        two = scaling_run(stack, base, texts, n, 2, tag=f"s2r{i}")
        after = scaling_run(stack, base, texts, n, 1, tag=f"s1r{i}b")
        results.append(_round(before, two, after) | {"machine": two_process_factor()})
        print(f"scaling  round {i + 1}: {describe(results[-1])}", flush=True)
    chosen = dict(median_round(results))
    chosen["rounds"] = [round(r["ratio"], 3) for r in results]
    chosen["ceilings"] = [r["ceiling"] and round(r["ceiling"], 3) for r in results]
    chosen["machines"] = [round(r["machine"], 3) for r in results]
    return chosen


def _round(before: dict[str, Any], two: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    one = (before["mps"] + after["mps"]) / 2
    busy_one = [r["busy_cores"] for r in (before, after) if r["busy_cores"] is not None]
    cores = os.cpu_count() or 1
    ceiling = cores / (sum(busy_one) / len(busy_one)) if busy_one else None
    return {
        "1_proc_mps": one,
        "1_proc_runs_mps": [round(before["mps"], 1), round(after["mps"], 1)],
        "2_proc_mps": two["mps"],
        "ratio": two["mps"] / one,
        "1_proc_busy_cores": [_round3(before["busy_cores"]), _round3(after["busy_cores"])],
        "2_proc_busy_cores": _round3(two["busy_cores"]),
        "ceiling": ceiling,
    }


def describe(r: dict[str, Any]) -> str:
    """A round (or the chosen one) in a line: the ratio, and the busy cores if known."""
    text = f"x{r['ratio']:.2f}"
    if r["ceiling"]:
        text += (
            f" (busy cores: one process {_fmt(r['1_proc_busy_cores'])}, "
            f"two {_fmt([r['2_proc_busy_cores']])}; ceiling x{r['ceiling']:.2f})"
        )
    if "machine" in r:
        text += f", machine x{r['machine']:.2f}"
    return text


def _round3(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _fmt(values: list[float | None]) -> str:
    return " / ".join("?" if v is None else f"{v:.2f}" for v in values)


def scaling_run(
    stack: Stack, base: dict[str, Any], texts: list[str], n: int, procs: int, tag: str
) -> dict[str, Any]:
    """Messages/s of ``procs`` cheap-scorer members, and the machine's busy cores over
    their span. They join and split the partitions while the messages are produced,
    fetching nothing until a gate file appears, so neither the group's join and rebalance
    nor the producer is inside the measured span (first poll to last commit)."""
    gate = Path(tempfile.mkdtemp()) / "go"
    settings = stack.settings(
        **base, namespace=tag, group=tag, partitions=8, topics=[f"{tag}-news", f"{tag}-social"]
    )
    create_topics(settings, default_specs(settings))
    records = make_records(texts, n, prefix=tag)

    def feed() -> None:
        produce(settings, records, settings.topics[0])
        wait_assigned(settings, procs)
        gate.touch()

    with MachineCpu() as cpu:
        summaries = run_consumer_process(
            settings,
            procs=procs,
            cheap=True,
            until_idle=20,
            while_running=feed,
            env={"SENTIMON_BENCH_GATE": str(gate)},
        )
    first = min(s["first_poll_wall"] for s in summaries)
    last = max(s["last_commit_wall"] for s in summaries)
    return {
        "mps": float(sum(s["records"] for s in summaries) / (last - first)),
        "busy_cores": cpu.busy_cores(first, last),
    }
