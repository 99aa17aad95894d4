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
    assert commands[0] == ["HINCRBY", "k", "n", "1"]
    # [command, argument, ARGV index], 1-based; ARGV[1] is the plan, values follow it.
    assert refs == [[2, 5, 3], [3, 5, 2]]
