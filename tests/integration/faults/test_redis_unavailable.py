"""Redis unavailable when a consumer starts, or when it is told to stop.

- A consumer started while Redis refuses connections, or answers BUSY (a real script
  running past ``busy-reply-threshold``), keeps retrying, then applies everything once
  Redis answers, and exits 0 on SIGTERM.
- SIGTERM while Redis is down: the consumer gives up on what it could not write after
  ``shutdown_grace_s`` (5 s here), commits only what was written and exits 0 in time; a
  second member then applies the rest exactly once.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
import redis

from sentimon.stack import Stack
from tests.fixtures.stack import Env
from tests.integration.faults.checks import (
    assert_dead_letters,
    assert_matches,
    assert_offsets_at_end,
    committed,
    wait_for,
    wait_for_records,
)
from tests.integration.faults.procs import FAKE, aof_redis, spawn
from tests.integration.faults.streams import Expected, build_stream, publish

pytestmark = pytest.mark.integration

GRACE_S = 5.0
#: Exit after SIGTERM within the grace period plus this: leaving the group, and a worker
#: thread ending a Redis call that was in flight (the client's socket timeout is 5 s).
MARGIN_S = 4.0
UNUSED_MODEL = Path("unused-model")  # the fake consumer scores with a hash

#: Keeps Redis busy for ARGV[1] seconds (other clients get BUSY after the threshold).
BUSY_SCRIPT = """
local t = redis.call('TIME')
local start = tonumber(t[1]) + tonumber(t[2]) / 1e6
while true do
  local n = redis.call('TIME')
  if tonumber(n[1]) + tonumber(n[2]) / 1e6 - start >= tonumber(ARGV[1]) then break end
end
return 1
"""


def _logged(consumer, pattern: str) -> Callable[[], bool]:
    def probe() -> bool:
        if not consumer.alive():
            raise AssertionError(f"consumer exited:\n{consumer.tail()}")
        return re.search(pattern, consumer.text()) is not None

    return probe


@contextmanager
def refused(stack: Stack) -> Iterator[None]:
    """Redis shut down (data kept in its append-only file): connections refused."""
    aof_redis(stack).stop()
    try:
        yield
    finally:
        aof_redis(stack).start()


@contextmanager
def hung(stack: Stack) -> Iterator[None]:
    """Redis stopped with SIGSTOP: every call hangs until the client's timeout."""
    pid = stack.redis.pid()
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


@contextmanager
def busy(stack: Stack, seconds: float) -> Iterator[None]:
    """A real script keeps Redis busy for ``seconds``; other clients get BUSY after
    100 ms (``busy-reply-threshold``)."""
    client = redis.Redis(host="127.0.0.1", port=stack.redis_port, socket_timeout=None)
    client.config_set("busy-reply-threshold", 100)
    runner = threading.Thread(target=client.eval, args=(BUSY_SCRIPT, 0, seconds), daemon=True)
    runner.start()
    time.sleep(0.3)  # past the threshold: Redis answers BUSY now
    try:
        yield
    finally:
        runner.join(timeout=seconds + 10)


def _with_aof(stack: Stack) -> None:
    """Start over with persistence on, so a shutdown keeps what was written."""
    stack.redis.stop()
    aof_redis(stack).start()


def test_consumer_started_while_redis_refuses_waits_and_applies_everything(
    own_stack, tmp_path: Path, reaper
) -> None:
    """Injects: Redis shut down before the consumer starts; up again 6 s later; 400 records
    published meanwhile. Asserts: the consumer keeps running and logs one WARNING naming
    ConnectionError; once Redis answers it applies every record exactly once (windows,
    counters, DLQ, offsets at the end) and exits 0 on SIGTERM."""
    _with_aof(own_stack)
    env = Env(own_stack, UNUSED_MODEL, max_batch=32)
    msgs = build_stream(env.news, env.social, 400, prefix="s-", seed=51)
    consumer = spawn(env, tmp_path / "consumer.log", module=FAKE)
    reaper.append(consumer)
    with refused(own_stack):
        wait_for(
            "the outage logged",
            _logged(consumer, r"WARNING .*Redis unavailable \(ConnectionError"),
            30,
        )
        publish(own_stack.bootstrap, msgs)
        time.sleep(6.0)
        assert consumer.alive(), consumer.tail()
    wait_for_records(env, Expected.of(msgs).total, consumer, 90)
    code, _ = consumer.stop()
    assert code == 0, consumer.tail()
    assert len(re.findall(r"Redis unavailable \(", consumer.text())) == 1, consumer.tail()
    assert "Redis available again" in consumer.text()
    assert_matches(env, Expected.of(msgs))
    assert_offsets_at_end(env, msgs)
    assert_dead_letters(env, msgs)


def test_consumer_started_while_redis_is_busy_waits_and_applies_everything(
    own_stack, tmp_path: Path, reaper
) -> None:
    """Injects: a Lua script keeping Redis busy for 8 s (BUSY to every other client) while
    the consumer starts. Asserts: it logs one WARNING naming the BUSY reply and stays up;
    afterwards it applies 300 records exactly once and exits 0 on SIGTERM."""
    env = Env(own_stack, UNUSED_MODEL, max_batch=32)
    msgs = build_stream(env.news, env.social, 300, prefix="b-", seed=52)
    with busy(own_stack, 8.0):
        consumer = spawn(env, tmp_path / "consumer.log", module=FAKE)
        reaper.append(consumer)
        wait_for(
            "BUSY logged",
            _logged(consumer, r"WARNING .*Redis unavailable \(ResponseError: BUSY"),
            30,
        )
        publish(own_stack.bootstrap, msgs)
    assert consumer.alive(), consumer.tail()
    wait_for_records(env, Expected.of(msgs).total, consumer, 90)
    code, _ = consumer.stop()
    assert code == 0, consumer.tail()
    assert "Redis available again" in consumer.text()
    assert_matches(env, Expected.of(msgs))
    assert_offsets_at_end(env, msgs)


OUTAGES: dict[str, Callable[[Stack], AbstractContextManager[None]]] = {
    "refused": refused,
    "hung": hung,
}


@pytest.mark.parametrize("mode", list(OUTAGES))
def test_sigterm_while_redis_is_down_exits_within_the_grace_period(
    own_stack, tmp_path: Path, reaper, mode: str
) -> None:
    """Injects: Redis down (``refused``: shut down; ``hung``: SIGSTOP) while a consumer
    with SENTIMON_SHUTDOWN_GRACE_S=5 has a second wave of 600 records to write; SIGTERM
    3 s into the outage. Asserts: exit code 0 within 5 s + a margin; it logged giving up
    on what it could not write; committed offsets did not move past what was written
    (every committed offset <= fence + 1, checked once Redis is back); a second member
    then applies everything exactly once."""
    _with_aof(own_stack)
    env = Env(own_stack, UNUSED_MODEL, max_batch=32, shutdown_grace_s=GRACE_S)
    first = build_stream(env.news, env.social, 300, prefix="a-", seed=61)
    second = build_stream(env.news, env.social, 600, prefix="b-", seed=62)
    log = tmp_path / "consumer.log"
    consumer = spawn(env, log, "--delay-s", "0.05", module=FAKE)
    reaper.append(consumer)
    publish(own_stack.bootstrap, first)
    wait_for_records(env, 1, consumer, 60)
    with OUTAGES[mode](own_stack):
        publish(own_stack.bootstrap, second)
        time.sleep(3.0)
        assert consumer.alive(), consumer.tail()
        code, took = consumer.stop(timeout_s=GRACE_S + 30)
        frozen = committed(env)
    assert code == 0, consumer.tail()
    assert took < GRACE_S + MARGIN_S, (took, consumer.tail())
    assert re.search(
        r"ERROR .*grace period \(5s\) over: giving up on \d+ batches", consumer.text()
    ), consumer.tail()
    fences = env.query().applied_offsets()
    for (t, p), offset in frozen.items():
        assert offset <= fences.get(f"{t}:{p}", -1) + 1, (t, p, offset, fences)
    print(f"{mode}: exited {took:.2f}s after SIGTERM (grace {GRACE_S}s)")

    rest = spawn(env, log, module=FAKE)
    reaper.append(rest)
    msgs = first + second
    wait_for_records(env, Expected.of(msgs).total, rest, 90)
    assert rest.stop()[0] == 0, rest.tail()
    assert_matches(env, Expected.of(msgs))
    assert_offsets_at_end(env, msgs)
