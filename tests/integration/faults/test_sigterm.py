"""SIGTERM while a batch is being scored: a clean exit, the batch all-or-nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.stack import Env
from tests.integration.faults.checks import (
    applied_prefix,
    assert_consistent,
    assert_matches,
    assert_offsets_at_end,
    committed,
    layout,
    wait_for,
)
from tests.integration.faults.procs import FAKE, spawn
from tests.integration.faults.streams import Expected, build_stream, publish

pytestmark = pytest.mark.integration

DELAY_S = 0.4  # scoring time of every batch: a SIGTERM lands inside one
#: More records than the consumer holds at once (``consumers.runner.in_flight_bound``
#: batches in flight, one queued, one open), so the shutdown finds records it has not
#: polled.
VALID = 1_500


def _in_flight(marker: Path, at_least: int) -> int | None:
    """The batch being scored now, if it is number ``at_least`` or later."""
    lines = marker.read_text().splitlines() if marker.exists() else []
    if not lines or not lines[-1].startswith("start "):
        return None
    number = int(lines[-1].split()[1])
    return number if number >= at_least else None


def test_sigterm_during_a_batch_exits_cleanly_and_applies_it_whole(
    stack, tiny_model, tmp_path: Path, reaper
) -> None:
    """Injects: SIGTERM to a consumer (run_consumer with a scorer that takes 0.4 s per
    batch, max_batch=64) while its 4th batch is being scored; 1,515 records.
    Asserts: exit code 0 within 10 s; Redis holds exactly the effect of the records at or
    below each partition's fence (so no batch is partly applied), the committed offset
    of every partition equals its fence + 1 (the drained batches were committed, nothing
    more or less), and the in-flight batch was among them. A second run then finishes
    the stream with exact totals (the shutdown lost nothing)."""
    env = Env(stack, tiny_model, max_batch=64)
    msgs = build_stream(env.news, env.social, VALID, seed=41)
    publish(stack.bootstrap, msgs)
    where = layout(env, msgs)
    marker = tmp_path / "batches.txt"
    log = tmp_path / "consumer.log"
    consumer = spawn(env, log, "--delay-s", str(DELAY_S), "--marker", str(marker), module=FAKE)
    reaper.append(consumer)
    batch = wait_for("the 4th batch in flight", lambda: _in_flight(marker, 4), 60, every_s=0.02)
    code, took = consumer.stop(timeout_s=30)
    assert code == 0, consumer.tail()
    assert took < 10.0, took  # it drains what it has polled: at most ~12 batches of 0.4 s
    assert f"end {batch}" in marker.read_text().splitlines()  # it finished scoring it
    prefix = assert_consistent(env, where)
    fences = env.query().applied_offsets()
    assert {f"{t}:{p}": o - 1 for (t, p), o in committed(env).items()} == fences
    assert prefix.total == sum(o + 1 for o in fences.values())
    assert env.query().counters()["batches"] >= batch  # the in-flight one was written
    assert 0 < prefix.total < len(msgs), prefix.total

    rest = spawn(env, log, module=FAKE)
    reaper.append(rest)
    total = lambda: applied_prefix(env, where).total == len(msgs)  # noqa: E731
    wait_for("the rest of the stream", total, 60)
    assert rest.stop()[0] == 0
    assert_matches(env, Expected.of(msgs))
    assert_offsets_at_end(env, msgs)
