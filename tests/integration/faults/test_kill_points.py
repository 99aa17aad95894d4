"""SIGKILL at every fault point, restart until done: aggregates exact, offsets at the end."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.stack import Env
from tests.integration.faults.checks import (
    assert_consistent,
    assert_dead_letters,
    assert_matches,
    assert_offsets_at_end,
    layout,
    wait_for_commits,
    wait_for_records,
)
from tests.integration.faults.procs import kill_run, spawn
from tests.integration.faults.streams import Expected, build_stream, publish

pytestmark = [pytest.mark.integration, pytest.mark.slow]

N_VALID = 1985  # + 5 duplicates + 10 malformed = 2,000 records
# The process dies the n-th time it reaches the point (a restart counts anew). Each run
# costs a model load, so one kill per point, at different batch numbers, and two for the
# write/commit gap, the case the fences exist for. Under load one commit covers the batches
# written in the last ``commit_interval_ms`` (500), so a run makes only a few commits, and
# one write carries up to four 32-record batches: the second after_write run (at least
# 2,000 - 5 x 128 records left) makes at least ten writes.
KILLS = {
    "after_poll": (3,),
    "after_score": (9,),
    # The broker acknowledged dead letters that Redis never recorded: the next run reads
    # the dead-letter topic back instead of publishing them again.
    "after_dead_letters": (2,),
    "after_write": (5, 9),
    "after_commit": (3,),
}
# The kill must land part-way. A fast run applied all 2,000 records before its third
# commit (seen once), so the after_commit run commits after every write: its third commit
# then follows three writes of at most coalesce x max_batch (4 x 32) records each.
SETTINGS = {"after_commit": {"commit_interval_ms": 0}}


@pytest.mark.parametrize("point", list(KILLS))
def test_sigkill_at_fault_point_then_restart_counts_everything_once(
    stack, tiny_model, tmp_path: Path, reaper, point: str
) -> None:
    """Injects: SIGKILL of `sentimon consume` (SENTIMON_FAULT) at ``point`` over 2,000
    records (max_batch=32), at the batch numbers in KILLS; a clean run then finishes.
    Asserts after every kill: the run died part-way, Redis holds exactly the effect of the
    records at or below each partition's fence, and no committed offset is ahead of its
    fence. At the end: windows, volume index, counters, DLQ counts and DLQ topic contents
    equal the expectation computed from the messages; committed offsets are at the end of
    every partition and equal the fences + 1."""
    env = Env(stack, tiny_model, max_batch=32, **SETTINGS.get(point, {}))
    msgs = build_stream(env.news, env.social, N_VALID)
    exp = Expected.of(msgs)
    assert exp.total == 2000
    publish(env.stack.bootstrap, msgs)
    where = layout(env, msgs)
    log = tmp_path / "consumer.log"
    applied = 0
    for nth in KILLS[point]:
        code = kill_run(env, log, f"{point}:{nth}")
        assert code == -9, f"fault {point}:{nth} did not fire (exit {code})"
        now = assert_consistent(env, where).total
        assert applied <= now < exp.total, (point, nth, now)  # died part-way, kept progress
        applied = now
    final = spawn(env, log, "consume")
    reaper.append(final)
    wait_for_records(env, exp.total, final, 180)
    wait_for_commits(env, msgs, final, 60)
    code, _ = final.stop()
    assert code == 0, final.tail()
    assert_matches(env, exp)
    assert_offsets_at_end(env, msgs)
    assert_dead_letters(env, msgs)
    assert "offset_resets" not in env.query().counters()  # a crash is not a broker reset
