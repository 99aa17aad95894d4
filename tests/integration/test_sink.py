"""The Redis sink against a real Redis: shared values, fences, de-duplication."""

from __future__ import annotations

from typing import Any

from sentimon.keys import Keys
from sentimon.store.client import connect
from sentimon.store.sink import RedisSink
from sentimon.writeplan import Fence, WritePlan


def _plan(ids: list[str], first: int, last: int) -> WritePlan:
    plan = WritePlan(ids=ids, fences=[Fence("news:0", first, last)])
    body = plan.share('{"id": "a", "text": "shared \\"quoted\\" text"}')
    plan.add("XADD", "t:{sink}:s1", "MAXLEN", "~", 10, "*", "p", body)
    plan.add("XADD", "t:{sink}:s2", "MAXLEN", "~", 10, "*", "p", body)
    plan.add("HINCRBY", "t:{sink}:h", "n", 2)
    return plan


def test_shared_values_reach_every_command_that_uses_them(stack: Any) -> None:
    client = connect(stack.settings())
    client.delete("t:{sink}:s1", "t:{sink}:s2", "t:{sink}:h")
    sink = RedisSink(client, Keys("sinktest"), dedup_horizon_s=60)
    client.delete(sink.keys.offsets)
    assert sink.apply(_plan(["a"], 0, 4)).ok
    for stream in ("t:{sink}:s1", "t:{sink}:s2"):
        [(_, fields)] = client.xrange(stream)
        assert fields == {"p": '{"id": "a", "text": "shared \\"quoted\\" text"}'}
    assert client.hget("t:{sink}:h", "n") == "2"
    assert sink.load_fences(["news:0"]) == {"news:0": 4}
    # Redelivered: the fence refuses it and nothing is written twice.
    assert sink.apply(_plan(["a"], 0, 4)).status == "fenced"
    # A new offset range carrying an id already seen: refused as a duplicate.
    outcome = sink.apply(_plan(["a"], 5, 6))
    assert (outcome.status, outcome.detail) == ("dup", ("a",))
    assert client.xlen("t:{sink}:s1") == 1 and client.hget("t:{sink}:h", "n") == "2"
