"""A burst of malformed and hostile input (hypothesis-generated) amid valid traffic."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from tests.fixtures.stack import Env
from tests.integration.faults.checks import (
    assert_dead_letters,
    assert_matches,
    assert_offsets_at_end,
    wait_for_records,
)
from tests.integration.faults.hostile import hostile, odd_msg, odd_valid
from tests.integration.faults.procs import spawn
from tests.integration.faults.streams import Expected, Msg, publish, valid_msg

pytestmark = pytest.mark.integration

N_HOSTILE, N_ODD, N_PLAIN = 240, 60, 120
T = TypeVar("T")


def collect(strategy: st.SearchStrategy[T], n: int, seed: int) -> list[T]:
    """``n`` examples of ``strategy`` from hypothesis's generator (no shrinking: the broker
    round trip happens once for the whole list, not once per example)."""
    out: list[T] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=n,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def _collect(example: Any) -> None:
        out.append(example)

    _collect()
    return out


def _stream(env: Env, seed: int) -> list[Msg]:
    rng = random.Random(seed)
    topics = [(env.news, "news"), (env.social, "social")]
    burst = [
        Msg(topics[i % 2][0], raw, topics[i % 2][1])
        for i, raw in enumerate(collect(hostile, N_HOSTILE, seed))
    ]
    burst += [
        odd_msg(i, *topics[i % 2], drawn)
        for i, drawn in enumerate(collect(odd_valid(), N_ODD, seed))
    ]
    burst += [  # over 1 MB: more than the DLQ producer may send as it is
        Msg(env.news, json.dumps({"id": "g-1", "text": "y" * 1_200_000}).encode(), "news"),
        Msg(env.social, rng.randbytes(1_500_000), "social"),
    ]
    rng.shuffle(burst)
    plain = [valid_msg(*topics[i % 2], f"p-{i}", rng) for i in range(N_PLAIN)]
    return plain[: N_PLAIN // 2] + burst + plain[N_PLAIN // 2 :]


def test_hostile_burst_is_dead_lettered_and_valid_posts_around_it_count(
    stack, tiny_model, tmp_path: Path, reaper
) -> None:
    """Injects: 240 hostile payloads from hypothesis (random bytes, invalid UTF-8, JSON
    nested up to 5,000 deep, messages over the 64 KiB limit, ids over 256 chars, wrong
    types in every field, NaN/Infinity/1e400, repeated keys, a 5,000-digit number, lone surrogates,
    tombstones/nulls/non-objects, truncated JSON, BOM and trailing garbage) plus two
    records over 1 MB, mixed with 60 odd-but-valid posts (any Unicode, padded ids,
    truncated long texts, ISO/float times, huge or nested extras), between 120 plain posts; consumed
    by `sentimon consume` (real model).
    Asserts: every hostile record is in its DLQ topic with a non-empty reason and its
    original bytes (the two giants cut to fit, with size and SHA-256 headers); DLQ
    counts, windows, volume index and counters equal the expectation built with the
    messages; committed offsets at the end. Seed: SENTIMON_FUZZ_SEED (printed)."""
    seed = int(os.environ.get("SENTIMON_FUZZ_SEED", random.randrange(2**32)))
    print(f"SENTIMON_FUZZ_SEED={seed}")
    env = Env(stack, tiny_model, max_batch=32)
    msgs = _stream(env, seed)
    exp = Expected.of(msgs)
    assert sum(exp.dlq.values()) == N_HOSTILE + 2 and exp.market == N_ODD + N_PLAIN
    publish(stack.bootstrap, msgs)
    consumer = spawn(env, tmp_path / "consumer.log", "consume")
    reaper.append(consumer)
    wait_for_records(env, exp.total, consumer, 180)
    assert consumer.stop()[0] == 0, consumer.tail()
    assert_matches(env, exp)
    assert_dead_letters(env, msgs)
    assert_offsets_at_end(env, msgs)
