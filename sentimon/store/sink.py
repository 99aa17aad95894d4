"""The Redis sink: applies a ``WritePlan`` atomically in one Lua script.

The script first checks, and only then writes:

1. fences: for each partition in the batch, the stored last-applied offset must be below
   the batch's first offset (else ``fenced``: another writer got there first);
2. guards: optimistic-concurrency checks added by other components (else ``conflict``);
3. de-duplication: none of the post ids may have been seen within the horizon (else
   ``dup`` with the ids).

Then it marks the ids seen, runs the commands and advances the fences, all in one atomic
step, so a crash either applies the whole batch (and its offsets) or none of it.

The plan travels as one compact JSON argument; its shared values (post summaries, most of
a batch's bytes) follow as raw arguments, so Redis neither decodes them from JSON nor
receives one copy per stream they are added to. Runs of ``HINCRBY`` on one key travel as
one ``HINCRBY*`` group (``_encode_commands``), so a bucket's key and the command's name
are sent once, not once per field: most of a plan is such runs (the measurements are in
``bench/HISTORY.md``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import orjson
import redis

from sentimon.errors import ScriptBoundError, SinkError
from sentimon.keys import Keys, script_source
from sentimon.writeplan import Shared, WritePlan

log = logging.getLogger(__name__)

#: Bounds on the write script's loops, checked by ``check_plan`` before each call: a plan
#: over one raises ``ScriptBoundError`` instead of blocking Redis. Each iteration is one or
#: two ``redis.call``s, so at the bounds the script runs in about half a second, far from
#: the clients' socket timeout. None depends on how far apart a batch's event times are. A
#: default write (64 posts x 4 coalesced, 20 tickers a post) needs at most about 85,000
#: commands (each post in its own minute, no ticker named twice), 256 ids, one fence per
#: partition and one guard per (rule, entity) pair it changes (20,500 at most).
#: Redis commands of the plan (a ``HINCRBY*`` group counts each of its fields).
MAX_PLAN_COMMANDS = 500_000
#: Post ids de-duplicated (an EXISTS, then a SET each): one per post written, so this
#: allows SENTIMON_MAX_BATCH at its maximum (4,096) with the default 4 coalesced.
MAX_PLAN_IDS = 16_384
#: Fences (an HGET, then an HSET each): one per partition in the write.
MAX_PLAN_FENCES = 4_096
#: Guards (an HGET each): one per alert record the write changes.
MAX_PLAN_GUARDS = 50_000

#: The write script (sentimon/scripts/apply_batch.lua; its header: KEYS/ARGV, what it
#: returns, and its loops, each bounded by one of the constants above).
_SCRIPT = script_source("apply_batch")

#: Compare-and-set of one fence (after the broker lost a partition's data), counted in
#: stats (sentimon/scripts/rebase_fence.lua; no loops).
_REBASE = script_source("rebase_fence")


@dataclass(frozen=True)
class ApplyResult:
    """Outcome of one atomic write: ``ok``, ``fenced``, ``conflict`` or ``dup``."""

    status: str
    detail: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class RedisSink:
    """Applies write plans to one namespace."""

    def __init__(self, client: redis.Redis, keys: Keys, *, dedup_horizon_s: int) -> None:
        self.client = client
        self.keys = keys
        self.horizon = dedup_horizon_s
        self._script = client.register_script(_SCRIPT)
        self._rebase = client.register_script(_REBASE)

    def load_fences(self, fields: list[str]) -> dict[str, int]:
        """Last applied offset of each ``topic:partition`` field (missing: never applied)."""
        if not fields:
            return {}
        try:
            values = self.client.hmget(self.keys.offsets, fields)
        except redis.RedisError as exc:
            raise SinkError(f"reading applied offsets from Redis failed: {exc}") from exc
        return {f: int(v) for f, v in zip(fields, values, strict=True) if v is not None}

    def rebase_fence(self, field: str, *, expected: int, new: int) -> bool:
        """Set a fence back to ``new`` if it still is ``expected`` (False: it moved)."""
        keys = [self.keys.offsets, self.keys.stats]
        try:
            done = self._rebase(keys=keys, args=[field, str(expected), str(new)])
        except redis.RedisError as exc:
            raise SinkError(f"resetting the applied offset of {field} failed: {exc}") from exc
        return bool(done)

    def apply(self, plan: WritePlan) -> ApplyResult:
        payload = {
            "offsets_key": self.keys.offsets,
            "seen_prefix": self.keys.seen(""),
            "horizon": self.horizon,
            "fences": [[f.field, str(f.first), str(f.last)] for f in plan.fences],
            "guards": [[g.key, g.field, g.expected] for g in plan.guards],
            "ids": plan.ids,
        }
        check_plan(plan)
        payload["commands"], payload["refs"] = _encode_commands(plan)
        try:
            reply = self._script(args=[orjson.dumps(payload), *plan.values])
        except redis.RedisError as exc:
            raise SinkError(f"Redis write failed (batch not committed, will retry): {exc}") from exc
        status, *detail = [r.decode() if isinstance(r, bytes) else str(r) for r in reply]
        return ApplyResult(status, tuple(detail))


def check_plan(plan: WritePlan) -> None:
    """Raise ``ScriptBoundError`` if the write script would run ``plan`` over a bound.
    Fences: also one per partition (the script checks and advances each once)."""
    _check("fences", len(plan.fences), MAX_PLAN_FENCES)
    partitions = len({f.field for f in plan.fences})
    if partitions != len(plan.fences):
        raise ScriptBoundError(
            f"the write plan has {len(plan.fences)} fences for {partitions} partitions: "
            "at most one per partition (a bug in whatever built the plan)"
        )
    _check("guards", len(plan.guards), MAX_PLAN_GUARDS)
    _check("post ids", len(plan.ids), MAX_PLAN_IDS)
    _check("commands", sum(map(_calls, plan.commands)), MAX_PLAN_COMMANDS)


def _calls(command: list[object]) -> int:
    """Redis calls the script makes for one plan command (a ``SETEX*`` group: one a key)."""
    return (len(command) - 2) // 2 if command[0] == "SETEX*" else 1


def _check(bound: str, count: int, limit: int) -> None:
    if count > limit:
        raise ScriptBoundError.over("write", bound, count, limit)


def _encode_commands(plan: WritePlan) -> tuple[list[list[str]], list[list[int]]]:
    """Commands as strings, and where each ``Shared`` argument goes: [command, argument,
    ARGV index] (1-based, as Lua counts; ARGV[1] is the plan itself).

    A run of ``HINCRBY``s on one key (a bucket's fields, a window's sums: most of a plan)
    travels as one ``HINCRBY*`` key f1 v1 f2 v2 ..., which the script expands in order:
    the key and the command's name once instead of once per field."""
    commands: list[list[str]] = []
    refs: list[list[int]] = []
    run: list[str] | None = None  # the open HINCRBY* group
    for command in plan.commands:
        if command[0] == "HINCRBY" and len(command) == 4:
            _, key, name, value = command
            if not (
                isinstance(key, Shared) or isinstance(name, Shared) or isinstance(value, Shared)
            ):
                if run is not None and run[1] == key:
                    run.append(str(name))
                    run.append(str(value))
                else:
                    run = ["HINCRBY*", str(key), str(name), str(value)]
                    commands.append(run)
                continue
        run = None
        encoded = []
        for j, arg in enumerate(command, start=1):
            if isinstance(arg, Shared):
                refs.append([len(commands) + 1, j, arg.index + 2])
                encoded.append("")
            else:
                encoded.append(str(arg))
        commands.append(encoded)
    return commands, refs
