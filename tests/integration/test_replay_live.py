"""A replay next to a running live consumer group: the live keys and the group's committed
offsets stay untouched, and the replay reproduces the live run's aggregates and alerts.

Both runs use ``max_batch=1`` on a one-partition topic, and the live member writes each
batch alone (``coalesce_batches=1``: the feed is a backlog, which it would otherwise write
four batches at a time, evaluating alerts once per write), so they apply the very same
batches in the same order: any difference would come from the code paths, not from
batching.
"""

from __future__ import annotations

import signal
import time
from typing import Any

import pytest
from kafka import KafkaAdminClient

from tests.fixtures.stack import Env
from tests.integration.replay_history import (
    BURST,
    HOUR,
    MIN,
    RULES,
    T0,
    build_history,
    publish,
)

pytestmark = pytest.mark.integration


def snapshot(url: str, namespace: str) -> dict[str, bytes]:
    """DUMP of every key of the namespace except the consumers' heartbeat hash."""
    import redis

    binary = redis.Redis.from_url(url)
    out = {}
    for key in sorted(binary.scan_iter(match=f"sentimon:{{{namespace}}}:*".encode(), count=1000)):
        if not key.endswith(b":health"):
            out[key.decode()] = binary.dump(key)
    return out


def committed(settings: Any) -> dict[Any, int]:
    """The group's committed offsets, read by the admin client (no group membership)."""
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    try:
        found = admin.list_group_offsets({settings.group: None}).get(settings.group, {})
        return {tp: meta.offset for tp, meta in found.items()}
    finally:
        admin.close()


def hour_hashes(client: Any, namespace: str) -> dict[str, dict[str, int]]:
    prefix = f"sentimon:{{{namespace}}}:"
    out = {}
    for key in client.scan_iter(match=f"{prefix}h:*", count=1000):
        out[key.removeprefix(prefix)] = {k: int(v) for k, v in client.hgetall(key).items()}
    return out


def alert_events(client: Any, namespace: str) -> list[tuple[Any, ...]]:
    entries = client.xrange(f"sentimon:{{{namespace}}}:alerts")
    import json

    rows = [json.loads(fields["payload"]) for _, fields in entries]
    return sorted(
        (r["rule"], r["entity"], r["status"], r["opened_ms"], r["event_ms"], r["seq"]) for r in rows
    )


def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_replay_beside_a_live_group_leaves_it_alone_and_agrees_with_it(stack, tiny_model, tmp_path):
    from sentimon.replay.job import ReplaySpec, run_replay
    from sentimon.replay.merge import TimeRange
    from sentimon.store.query import Query

    rules = tmp_path / "rules.toml"
    rules.write_text(RULES, encoding="utf-8")
    env = Env(
        stack, tiny_model, partitions=1, max_batch=1, coalesce_batches=1, alert_rules=str(rules)
    )
    history = build_history([env.news], n=60, span_ms=150 * MIN, seed=5)
    history.messages.sort(key=lambda m: m.broker_ms)  # a live feed arrives in time order
    valid = history.valid_in(None, None)
    publish(stack.bootstrap, history)

    live = env.spawn("consume")
    try:
        query = Query(env.redis(), env.settings.namespace)
        wait_until(
            lambda: query.counters().get("records", 0) >= len(history.messages), 120, "the live run"
        )
        total = len(history.messages)
        wait_until(lambda: sum(committed(env.settings).values()) == total, 30, "the commit")
        every = sorted(f"{t}:0" for t in env.settings.topics)

        def assigned_since(ms: int) -> bool:
            health = list(query.health().values())
            return bool(health) and health[0]["ts"] > ms and health[0]["assignment"] == every

        wait_until(lambda: assigned_since(0), 30, "the live member's health snapshot")
        before_keys = snapshot(stack.redis_url, env.settings.namespace)
        before_offsets = committed(env.settings)
        assert before_keys

        namespace = f"bt:beside-{env.uid}"
        spec = ReplaySpec(namespace=namespace, topics=[env.news], span=TimeRange(), progress=False)
        summary = run_replay(env.settings, spec)  # loads its own scorer, like the CLI

        assert snapshot(stack.redis_url, env.settings.namespace) == before_keys
        assert committed(env.settings) == before_offsets
        replayed_ms = int(time.time() * 1000)
        # no partition was taken: a snapshot written after the replay still has them all
        wait_until(lambda: assigned_since(replayed_ms), 30, "a health snapshot after the replay")
        assert live.poll() is None
    finally:
        live.send_signal(signal.SIGTERM)
        live.wait(timeout=30)

    assert summary["messages"]["scored"] == len(valid)
    client = env.redis()
    live_hours = hour_hashes(client, env.settings.namespace)
    replay_hours = hour_hashes(client, namespace)
    assert live_hours == replay_hours
    live_alerts = alert_events(client, env.settings.namespace)
    assert live_alerts == alert_events(client, namespace)
    assert any(a[1] == f"ticker:{BURST}" and a[2] == "firing" for a in live_alerts)
    assert all(T0 - HOUR < a[4] < T0 + 4 * HOUR for a in live_alerts)
