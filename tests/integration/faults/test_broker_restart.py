"""The embedded broker restarts and loses everything: the consumer must notice and go on."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest

from sentimon.topics import create_topics, default_specs
from tests.fixtures.stack import Env
from tests.integration.faults.checks import (
    assert_matches,
    committed,
    wait_for,
    wait_for_records,
)
from tests.integration.faults.procs import FAKE, spawn
from tests.integration.faults.streams import Expected, build_stream, publish

pytestmark = pytest.mark.integration

RESET_LINE = re.compile(r"offsets went backwards on (\S+): the broker's log ends at offset")


def _commits(env: Env, total: int) -> dict[tuple[str, int], int] | None:
    done = committed(env)
    return done if sum(done.values()) == total else None


def test_broker_restart_is_reported_and_new_data_counted(
    own_stack, tiny_model, tmp_path: Path, reaper
) -> None:
    """Injects: SIGKILL of this test's Tansu broker (memory storage: topics, records and
    group offsets are gone), 2 s down, restart on the same port, topics recreated; 415
    records before, 44 new records after (fewer per partition than the old fences, so the
    new log ends below them).
    Asserts: the consumer neither crashes nor hangs; it logs, for every partition that got
    new records, that offsets went backwards because the broker lost its data, and counts
    the resets in Redis; the new records (and their dead letters, through a producer it
    has to rebuild) are counted exactly on top of what was there; committed offsets on the
    new broker = fences + 1; SIGTERM then exits 0."""
    env = Env(own_stack, tiny_model, max_batch=32)
    before = build_stream(env.news, env.social, 400, prefix="old-", seed=31)
    log = tmp_path / "consumer.log"
    consumer = spawn(env, log, module=FAKE)
    reaper.append(consumer)
    publish(own_stack.bootstrap, before)
    wait_for_records(env, len(before), consumer, 90)
    old_fences = env.query().applied_offsets()

    own_stack.kafka.kill()
    time.sleep(2.0)
    assert consumer.alive(), consumer.tail()
    own_stack.kafka.start()
    create_topics(env.settings, default_specs(env.settings))
    after = build_stream(env.news, env.social, 40, prefix="new-", n_invalid=4, duplicates=0)
    publish(own_stack.bootstrap, after)
    exp = Expected.of(before + after)
    wait_for_records(env, exp.total, consumer, 90)  # no hang, no crash
    assert consumer.alive(), consumer.tail()

    now = wait_for("the commits on the new broker", lambda: _commits(env, len(after)), 30)
    for (topic, partition), offset in now.items():  # the premise: logs end below old fences
        assert offset <= old_fences[f"{topic}:{partition}"], (topic, partition, offset)
    assert env.query().applied_offsets() == {
        **old_fences,
        **{f"{t}:{p}": o - 1 for (t, p), o in now.items()},
    }
    reported = Counter(RESET_LINE.findall(consumer.text()))
    assert set(reported) == {f"{t}:{p}" for (t, p), o in now.items() if o > 0}, reported
    assert env.query().counters()["offset_resets"] == sum(reported.values())
    assert_matches(env, exp)
    code, took = consumer.stop()
    assert code == 0 and took < 10, (code, took, consumer.tail())
