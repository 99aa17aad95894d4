"""Redis unreachable mid-stream: no commits while it is gone, retries, nothing lost.

Two honest models of "unreachable for a while", one per parameter:

- ``paused``: SIGSTOP for 12 s, then SIGCONT. Connections open but nothing answers; every
  call hangs until the client's 5 s timeout (a network partition, a hung server). Redis
  keeps its data, and a write that timed out at the client may still run when it resumes,
  which the fences must absorb.
- ``restarted``: Redis (append-only file on) shut down, 6 s with the port closed
  (connection refused: every attempt fails at once), then started again on the same
  port with its data and an empty script cache.

Either way the consumer logs the outage once (a WARNING naming the error) and its end
once (an INFO with its length and retries), and re-sends nothing until Redis answers
``PING``.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from sentimon.stack import Stack
from tests.fixtures.stack import Env
from tests.integration.faults.checks import (
    assert_dead_letters,
    assert_matches,
    assert_offsets_at_end,
    committed,
    wait_for_records,
)
from tests.integration.faults.procs import FAKE, aof_redis, spawn
from tests.integration.faults.streams import Expected, build_stream, publish

pytestmark = pytest.mark.integration

DOWN = re.compile(r"WARNING .*Redis unavailable \((\w+): .*\): ")
BACK = re.compile(r"INFO .*Redis available again after ([\d.]+)s and (\d+) retries")


@contextmanager
def paused(stack: Stack) -> Iterator[float]:
    pid = stack.redis.pid()
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        yield 12.0
    finally:
        os.kill(pid, signal.SIGCONT)


@contextmanager
def restarted(stack: Stack) -> Iterator[float]:
    redis = aof_redis(stack)
    redis.stop()
    try:
        yield 6.0
    finally:
        redis.start()


OUTAGES: dict[str, Callable[[Stack], AbstractContextManager[float]]] = {
    "paused": paused,
    "restarted": restarted,
}


@pytest.mark.parametrize("mode", list(OUTAGES))
def test_redis_unreachable_then_back_loses_nothing(
    own_stack, tiny_model, tmp_path: Path, reaper, mode: str
) -> None:
    """Injects: the outage ``mode`` (module docstring) while a consumer works through
    1,230 records: a first wave, then a second published while Redis is unreachable.
    Asserts: committed offsets do not move while Redis is unreachable; the consumer stays
    up, logs the outage once as a WARNING naming the error class (``TimeoutError`` when
    paused, ``ConnectionError`` when restarted) and its end once, with no per-retry
    warnings; afterwards windows, volume index, counters, DLQ counts and DLQ contents
    equal the expectation; committed offsets = fences + 1 = the end of every partition."""
    if mode == "restarted":  # start over with persistence on, before anything is written
        own_stack.redis.stop()
        aof_redis(own_stack).start()
    env = Env(own_stack, tiny_model, max_batch=32)
    first = build_stream(env.news, env.social, 600, prefix="a-", seed=21)
    second = build_stream(env.news, env.social, 600, prefix="b-", seed=22)
    consumer = spawn(env, tmp_path / "consumer.log", "--delay-s", "0.05", module=FAKE)
    reaper.append(consumer)
    publish(own_stack.bootstrap, first)
    wait_for_records(env, 1, consumer, 60)
    with OUTAGES[mode](own_stack) as down_s:
        publish(own_stack.bootstrap, second)  # work that piles up while Redis is gone
        time.sleep(1.0)  # a write finished just before the outage may still commit
        frozen = committed(env)
        time.sleep(down_s - 1.0)
        assert committed(env) == frozen, "offsets were committed while Redis was unreachable"
        assert consumer.alive(), consumer.tail()
    msgs = first + second
    exp = Expected.of(msgs)
    wait_for_records(env, exp.total, consumer, 90)
    code, _ = consumer.stop()
    assert code == 0, consumer.tail()
    text = consumer.text()
    downs, backs = DOWN.findall(text), BACK.findall(text)
    assert len(downs) == 1 and len(backs) == 1, consumer.tail()
    assert downs[0] == ("TimeoutError" if mode == "paused" else "ConnectionError"), downs
    assert float(backs[0][0]) >= 1.0 and int(backs[0][1]) >= 1, backs
    assert "batch failed" not in text, consumer.tail()
    assert_matches(env, exp)
    assert_offsets_at_end(env, msgs)
    assert_dead_letters(env, msgs)
