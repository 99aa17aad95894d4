"""kafka-python (3.x) runs rebalance callbacks on its I/O thread, where a blocking call
such as ``consumer.commit`` raises. The loop's revoke callback commits what it has
written; this checks that it does so without blocking, on a real broker, through a
``close`` (which revokes every partition through the same callback)."""

from __future__ import annotations

import pytest

from consumers.source import KafkaSource
from tests.fixtures.stack import Env
from tests.integration.faults.checks import committed, wait_for

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

    def polled_until_assigned() -> list[tuple[str, int]]:
        source.poll(0.2)
        return source.assignment()

    owned = wait_for("partitions", polled_until_assigned, 60, every_s=0)
    source.close()  # raised "User rebalance callback throws an error" with a blocking commit
    assert calls and sorted(calls[-1]) == owned
    want = {p: 0 for p in owned}
    assert wait_for("the commit sent from the callback", lambda: committed(env) == want, 10)
