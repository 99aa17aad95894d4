"""Stories through the real broker with two consumers, one SIGKILLed part-way.

The feed of ``tests/integration/test_stories.py`` (40 re-worded copies of 2 stories about
NVDA, 30 distinct pieces of news about JPM) is consumed by two members of one group. One
dies by SIGKILL after its second write and before committing it, so the survivor takes
its partitions over and is redelivered batches whose posts, and stories, are already in
Redis. ``sentimon query ticker`` must still show exactly 2 stories of 40 posts and 30 of
30, and one consumer alone must give the same figures.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from tests.fixtures.stack import Env
from tests.integration.faults.checks import wait_for_records
from tests.integration.faults.procs import FAKE, Consumer, spawn
from tests.integration.test_stories import AT, COPIED, WANT, assert_pure, story_ids, story_rows

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: Small batches written one by one, each member several writes; the kill lands on the
#: victim's second (applied, not committed).
SETTINGS = {"max_batch": 4, "coalesce_batches": 1, "commit_interval_ms": 60_000}
KILL = "after_write:2"


def publish(env: Env, rows: list[dict[str, Any]]) -> None:
    """Every other post to each topic, keyed by id (spread over the partitions)."""
    producer = KafkaProducer(bootstrap_servers=[env.stack.bootstrap])
    for i, row in enumerate(rows):
        topic = env.news if i % 2 else env.social
        producer.send(
            topic, json.dumps(row).encode(), key=row["id"].encode(), timestamp_ms=row["ts"]
        )
    producer.flush()
    producer.close()


def query_ticker(env: Env, ticker: str) -> dict[str, int]:
    """``sentimon query ticker T --window 24h --at AT --json``: posts and stories."""
    proc = env.cli("query", "ticker", ticker, "--window", "24h", "--at", str(AT), "--json")
    out = json.loads(proc.stdout)
    return {"count": out["count"], "stories": out["stories"]["count"]}


def wait_for_split(env: Env, members: int, timeout_s: float = 120.0) -> None:
    """Until ``members`` members own every partition between them."""
    wanted = sorted(f"{t}:{p}" for t in env.settings.topics for p in range(env.settings.partitions))
    deadline = time.monotonic() + timeout_s
    health: dict[str, Any] = {}
    while time.monotonic() < deadline:
        health = env.query().health()
        owned = sorted(p for snap in health.values() for p in snap.get("assignment", []))
        if len(health) == members and owned == wanted:
            return
        time.sleep(0.2)
    raise AssertionError(f"{members} members never split the partitions: {health}")


def finish(env: Env, consumer: Consumer, total: int) -> None:
    wait_for_records(env, total, consumer, 180)
    code, _ = consumer.stop()
    assert code == 0, consumer.tail()


def figures(env: Env) -> dict[str, dict[str, int]]:
    return {ticker: query_ticker(env, ticker) for ticker in WANT}


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """No model is loaded: the consumers score with ``HashScorer`` (``FAKE``)."""
    return tmp_path_factory.mktemp("unused") / "hash"


def test_sigkill_of_one_of_two_consumers_counts_stories_exactly(
    stack: Any, model_path: Path, tmp_path: Path, reaper: list[Consumer]
) -> None:
    """Injects: SIGKILL of one of two members (``SENTIMON_FAULT=after_write:2``) after a
    write it never committed. Asserts: the victim died part-way, the survivor took over,
    and the query shows exactly 2 stories / 40 posts (NVDA) and 30 / 30 (JPM), each copy
    of a story under one story id. Then the same feed through a single consumer in a
    fresh slice gives the same figures."""
    rows = story_rows()
    env = Env(stack, model_path, **SETTINGS)
    victim = spawn(env, tmp_path / "victim.log", "--delay-s", "0.05", module=FAKE,
                   SENTIMON_FAULT=KILL)  # fmt: skip
    survivor = spawn(env, tmp_path / "survivor.log", "--delay-s", "0.05", module=FAKE)
    reaper.extend([victim, survivor])
    wait_for_split(env, members=2)
    publish(env, rows)
    assert victim.wait(120) == -9, victim.tail()
    assert "fault injection: SIGKILL at after_write" in victim.text()
    assert 0 < env.query().counters().get("records", 0) < len(rows)  # died part-way
    finish(env, survivor, len(rows))
    two = figures(env)
    assert two == WANT
    assert_pure(story_ids(env.redis(), env.settings.namespace, COPIED))

    alone = Env(stack, model_path, **SETTINGS)
    single = spawn(alone, tmp_path / "single.log", module=FAKE)
    reaper.append(single)
    wait_for_split(alone, members=1)
    publish(alone, rows)
    finish(alone, single, len(rows))
    assert figures(alone) == two
    assert_pure(story_ids(alone.redis(), alone.settings.namespace, COPIED))
