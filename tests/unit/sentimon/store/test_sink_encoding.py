"""How the sink encodes a write plan for its Lua script, and the script's bounds (pure:
no Redis)."""

from typing import Any

import pytest

from sentimon.errors import ScriptBoundError
from sentimon.keys import Keys
from sentimon.store import sink
from sentimon.store.sink import RedisSink, _encode_commands, check_plan
from sentimon.writeplan import Fence, Guard, WritePlan


def test_refs_name_the_lua_positions_of_shared_arguments() -> None:
    plan = WritePlan()
    plan.add("HINCRBY", "k", "n", 1)
    first, second = plan.share(b"x"), plan.share(b"y")
    plan.add("XADD", "s", "*", "p", second)
    plan.add("XADD", "s", "*", "p", first)
    commands, refs = _encode_commands(plan)
    assert commands[0] == ["HINCRBY*", "k", "n", "1"]
    # [command, argument, ARGV index], 1-based; ARGV[1] is the plan, values follow it.
    assert refs == [[2, 5, 3], [3, 5, 2]]


def test_increments_of_one_key_travel_as_one_group_in_order() -> None:
    plan = WritePlan()
    plan.add("HINCRBY", "h", "3:n", 2)
    plan.add("HINCRBY", "h", "3:s", -5)
    plan.add("HINCRBY", "h", "n", 2)
    plan.add("HINCRBY", "other", "n", 1)
    plan.add("EXPIRE", "h", 60)
    plan.add("HINCRBY", "h", "n", 1)  # after another command: a new group
    commands, refs = _encode_commands(plan)
    assert commands == [
        ["HINCRBY*", "h", "3:n", "2", "3:s", "-5", "n", "2"],
        ["HINCRBY*", "other", "n", "1"],
        ["EXPIRE", "h", "60"],
        ["HINCRBY*", "h", "n", "1"],
    ]
    assert refs == []


def test_refs_count_grouped_commands_once() -> None:
    plan = WritePlan()
    plan.add("HINCRBY", "h", "a", 1)
    plan.add("HINCRBY", "h", "b", 1)
    body = plan.share(b"post")
    plan.add("XADD", "s", "*", "p", body)
    commands, refs = _encode_commands(plan)
    assert len(commands) == 2 and refs == [[2, 5, 2]]


class _Unreachable:
    """A client whose scripts must never be called."""

    def register_script(self, _script: str) -> Any:
        def run(**_: Any) -> Any:
            raise AssertionError("the script was called")

        return run


def _plan(commands: int = 3, ids: int = 2, fences: int = 2, guards: int = 1) -> WritePlan:
    plan = WritePlan(ids=[f"id{i}" for i in range(ids)])
    plan.fences = [Fence(f"news:{p}", 0, 9) for p in range(fences)]
    plan.guards = [Guard("state", f"r{g}|market", None) for g in range(guards)]
    for i in range(commands):
        plan.add("HINCRBY", "h", f"{i}:n", 1)
    return plan


@pytest.mark.parametrize(
    ("bound", "name", "plan"),
    [
        ("MAX_PLAN_COMMANDS", "commands", _plan(commands=4)),
        ("MAX_PLAN_IDS", "post ids", _plan(ids=4)),
        ("MAX_PLAN_FENCES", "fences", _plan(fences=4)),
        ("MAX_PLAN_GUARDS", "guards", _plan(guards=4)),
    ],
)
def test_a_plan_over_a_bound_is_refused_before_the_script_runs(
    monkeypatch: pytest.MonkeyPatch, bound: str, name: str, plan: WritePlan
) -> None:
    check_plan(plan)
    monkeypatch.setattr(sink, bound, 3)
    client: Any = _Unreachable()
    redis_sink = RedisSink(client, Keys("unit"), dedup_horizon_s=60)
    with pytest.raises(ScriptBoundError, match=f"bound on {name}: 4 > 3") as err:
        redis_sink.apply(plan)
    assert "SENTIMON_COALESCE_BATCHES" in str(err.value)


def test_grouped_increments_count_one_command_per_field(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = _plan(commands=4)
    commands, _ = _encode_commands(plan)
    assert len(commands) == 1  # one HINCRBY* group, yet four redis.calls
    monkeypatch.setattr(sink, "MAX_PLAN_COMMANDS", 3)
    with pytest.raises(ScriptBoundError):
        check_plan(plan)


def test_one_fence_per_partition() -> None:
    plan = _plan()
    plan.fences.append(Fence("news:0", 10, 12))
    with pytest.raises(ScriptBoundError, match="at most one per partition"):
        check_plan(plan)
