"""kafka-python (3.x) runs rebalance callbacks on its I/O thread, where a blocking call
such as ``consumer.commit`` raises. The loop's revoke callback commits what it has
written; this checks that it does so without blocking, on a real broker, through a
``close`` (which revokes every partition through the same callback)."""

from __future__ import annotations

import time

import pytest

from consumers.source import KafkaSource
from tests.conftest import Env
from tests.integration.faults.checks import committed

pytestmark = pytest.mark.integration


def test_a_commit_from_the_revoke_callback_does_not_block_and_lands(stack, tiny_model):
    env = Env(stack, tiny_model)
    calls: list[list[tuple[str, int]]] = []
    holder: dict[str, KafkaSource] = {}

    def on_revoked(partitions: list[tuple[str, int]]) -> None:
        calls.append(partitions)
        holder["source"].commit({p: 0 for p in partitions}, blocking=False)

    source = KafkaSource(
        env.settings, group=env.settings.group, on_assigned=lambda _: None, on_revoked=on_revoked
    )
    holder["source"] = source
    deadline = time.monotonic() + 60
    while not source.assignment() and time.monotonic() < deadline:
        source.poll(0.2)
    owned = source.assignment()
    assert owned, "never got partitions"
    source.close()  # raised "User rebalance callback throws an error" with a blocking commit
    assert calls and sorted(calls[-1]) == owned
    deadline = time.monotonic() + 10
    while committed(env) != {p: 0 for p in owned} and time.monotonic() < deadline:
        time.sleep(0.2)
    assert committed(env) == {p: 0 for p in owned}
