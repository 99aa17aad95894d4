"""Shared pieces of the benchmarks: texts, records, producing, running consumers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis

from consumers.produce import Pacer
from consumers.wiring import make_producer
from inference.locate import resolve
from sentimon.stack.services import RedisService, free_port
from sentimon.store.client import connect
from sentimon.store.query import Query

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def redis_server(url: str | None = None) -> Iterator[str]:
    """The given Redis, or a throw-away one on a free port, as a URL."""
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="sentimon-bench-") as tmp:
        service = RedisService("redis", free_port(), Path(tmp))
        service.start()
        try:
            yield f"redis://{service.address}/0"
        finally:
            service.stop()


class DropDeadLetters:
    """A dead-letter sink for bench feeds, which must have none."""

    def publish(self, letters: list[Any]) -> None:
        if letters:
            raise AssertionError(f"bench feed has invalid posts: {letters[0]}")


def write_result(path: Path, result: dict[str, Any], *, sort_keys: bool = False) -> None:
    """A benchmark's result file (``bench/results/*.json``): indented JSON, one trailing newline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, sort_keys=sort_keys) + "\n", encoding="utf-8")


def feed_texts() -> list[str]:
    """Texts of the shipped sample feed (news + social)."""
    texts = []
    for name in ("news", "social"):
        with (ROOT / "data" / "sample" / f"{name}.jsonl").open(encoding="utf-8") as handle:
            texts += [json.loads(line)["text"] for line in handle if line.strip()]
    return texts


def make_records(
    texts: list[str], n: int, *, prefix: str, live: bool = False
) -> list[dict[str, Any]]:
    """``n`` distinct messages cycling through ``texts`` (ids unique, one post per 50 ms,
    the last stamped now: a live consumer trusts event times only near processing time)."""
    out = []
    start = int(time.time() * 1000) - n * 50
    for i in range(n):
        record: dict[str, Any] = {
            "id": f"{prefix}-{i}",
            "text": texts[i % len(texts)],
            "source": "bench",
        }
        if not live:
            record["ts"] = start + i * 50
        out.append(record)
    return out


def produce(
    settings: Any, records: list[dict[str, Any]], topic: str, rate: float | None = None
) -> None:
    """Publish; with ``rate``, paced, each record stamped with its send time (event time)."""

    producer = make_producer(settings, "bench-producer")
    pacer = Pacer(rate)
    for record in records:
        pacer.wait()
        if rate is not None:
            record = {**record, "ts": int(time.time() * 1000)}
        producer.send(topic, value=json.dumps(record).encode(), key=record["id"].encode())
    producer.flush()
    producer.close()


def cli_env(settings: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTIMON_")}
    env.update(settings.as_env())
    env["HF_HUB_OFFLINE"] = "1"
    env["PYTHONPATH"] = str(ROOT)
    return env


def run_consumer_process(
    settings: Any,
    procs: int = 1,
    cheap: bool = False,
    until_idle: float = 3.0,
    while_running: Any = None,
    env: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Run ``procs`` consumers in one group until idle; return their JSON summaries.
    ``while_running()`` is called once they are started (e.g. to wait for them, then feed)."""
    idle = str(until_idle)
    if cheap:
        argv = [sys.executable, str(ROOT / "bench" / "cheap_consumer.py"), idle]
    else:
        argv = [
            sys.executable,
            "-m",
            "sentimon.cli.main",
            "consume",
            "--until-idle",
            idle,
            "--json",
        ]
    running = [
        subprocess.Popen(
            argv,
            env=cli_env(settings) | (env or {}),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(procs)
    ]
    if while_running is not None:
        try:
            while_running()
        except BaseException:
            for proc in running:
                proc.kill()
            raise
    out = []
    for proc in running:
        stdout, stderr = proc.communicate(timeout=1800)
        if proc.returncode != 0:
            raise RuntimeError(f"consumer failed ({proc.returncode}): {stderr[-3000:]}")
        out.append(json.loads(stdout))
    return out


def naive_rate(settings: Any, stack: Any, texts: list[str]) -> dict[str, Any]:
    """The way most teams start: poll, score one message with ``transformers.pipeline``,
    HINCRBY Redis, commit - per message. Runs on ``len(texts)`` messages."""
    from kafka import KafkaConsumer  # noqa: PLC0415 (heavy: loaded only when used)
    from transformers import pipeline  # noqa: PLC0415 (heavy: loaded only when used)

    ref = resolve(settings.model, settings.model_cache)
    classify = pipeline("text-classification", model=ref.source, device=-1, top_k=None)
    topic = f"naive-{int(time.time())}"
    produce(settings, make_records(texts, len(texts), prefix="naive"), topic)
    client = redis.Redis.from_url(settings.redis_url.get_secret_value())
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=[stack.bootstrap],
        group_id=f"naive-{topic}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
    )
    done, started = 0, None
    while done < len(texts):
        for messages in consumer.poll(timeout_ms=500).values():
            for message in messages:
                started = started or time.perf_counter()
                post = json.loads(message.value)
                scores = classify(post["text"], truncation=True, max_length=settings.max_length)[0]
                best = max(scores, key=lambda s: s["score"])
                client.hincrby("naive:counts", str(best["label"]), 1)
                consumer.commit()
                done += 1
    elapsed = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    return {"mps": done / elapsed, "n": done, "seconds": elapsed}


def median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The round whose ``ratio`` is the median (the upper one of an even count)."""
    return sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]


def wait_assigned(
    settings: Any, members: int, timeout_s: float = 120, alive: Any = lambda: True
) -> None:
    """Until ``members`` consumers' health snapshots split every partition between them
    (RuntimeError after ``timeout_s`` or once ``alive()`` turns false)."""

    query = Query(connect(settings), settings.namespace)
    wanted = sorted(f"{t}:{p}" for t in settings.topics for p in range(settings.partitions))
    deadline = time.monotonic() + timeout_s
    health: list[Any] = []
    while time.monotonic() < deadline and alive():
        health = list(query.health().values())
        owned = sorted(part for h in health for part in h.get("assignment", []))
        if len(health) == members and owned == wanted:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{members} consumers never split the partitions: {health}")


class MachineCpu:
    """Samples the whole machine's CPU times (``/proc/stat``) every ``period_s`` in a
    background thread while in use; ``busy_cores(t0, t1)`` is how many cores were busy on
    average between two wall-clock times (steal and idle count as not busy)."""

    def __init__(self, period_s: float = 0.02) -> None:
        self.period_s = period_s
        self.cores = os.cpu_count() or 1
        self._samples: list[tuple[float, list[int]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="bench-cpu", daemon=True)

    def __enter__(self) -> MachineCpu:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            with open("/proc/stat", encoding="ascii") as stat:
                fields = [int(x) for x in stat.readline().split()[1:9]]
            self._samples.append((time.time(), fields))
            self._stop.wait(self.period_s)

    def busy_cores(self, t0: float, t1: float) -> float | None:
        if len(self._samples) < 2:
            return None
        start = min(self._samples, key=lambda s: abs(s[0] - t0))[1]
        end = min(self._samples, key=lambda s: abs(s[0] - t1))[1]
        # user nice system idle iowait irq softirq steal
        delta = [b - a for a, b in zip(start, end, strict=True)]
        total = sum(delta)
        if total <= 0:
            return None
        busy = total - delta[3] - delta[4] - delta[7]
        return self.cores * busy / total
