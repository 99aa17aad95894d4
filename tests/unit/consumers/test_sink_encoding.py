"""How the sink encodes a write plan for its Lua script (pure: no Redis)."""

from consumers.sink import _encode_commands
from consumers.writeplan import WritePlan


def test_refs_name_the_lua_positions_of_shared_arguments() -> None:
    plan = WritePlan()
    plan.add("HINCRBY", "k", "n", 1)
    first, second = plan.share("x"), plan.share("y")
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
    body = plan.share("post")
    plan.add("XADD", "s", "*", "p", body)
    commands, refs = _encode_commands(plan)
    assert len(commands) == 2 and refs == [[2, 5, 2]]
