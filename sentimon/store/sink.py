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
receives one copy per stream they are added to. On a 64-post batch of the sample feed
(522 commands) the plan's JSON went from 68 KB to 37 KB (plus 14 KB of raw values) and
``cjson.decode`` from 431 to 345 us. Runs of ``HINCRBY`` on one key travel as one
``HINCRBY*`` group (``_encode_commands``): on 40 plans of 336 commands, 24.5 -> 15.7 KB of
JSON, encoding 491 -> 378 us and the script 942 -> 844 us inside Redis (medians, calls
alternated).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import orjson
import redis

from sentimon.errors import ScriptBoundError, SinkError
from sentimon.keys import Keys
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

# KEYS: none (one namespace; the keys travel in the plan). ARGV[1]: the plan as JSON
# (``RedisSink.apply``); ARGV[2..]: its shared values. Loops, each bounded above:
#   refs      the plan's shared-argument slots (<= its commands' arguments);
#   fences    twice (check, then advance)                <= MAX_PLAN_FENCES;
#   guards    once                                       <= MAX_PLAN_GUARDS;
#   ids       twice (look up, then mark seen)            <= MAX_PLAN_IDS;
#   commands  once, a HINCRBY* group field by field      <= MAX_PLAN_COMMANDS in all.
_SCRIPT = """
local plan = cjson.decode(ARGV[1])
for _, ref in ipairs(plan.refs) do plan.commands[ref[1]][ref[2]] = ARGV[ref[3]] end
local okey = plan.offsets_key
for _, f in ipairs(plan.fences) do
  local stored = redis.call('HGET', okey, f[1])
  if stored and tonumber(stored) >= tonumber(f[2]) then
    return {'fenced', f[1], stored}
  end
end
for _, g in ipairs(plan.guards) do
  local value = redis.call('HGET', g[1], g[2])
  local expected = g[3]
  if expected == cjson.null then expected = false end
  if value ~= expected then return {'conflict', g[1], g[2]} end
end
if plan.horizon > 0 then
  local dups = {}
  for _, id in ipairs(plan.ids) do
    if redis.call('EXISTS', plan.seen_prefix .. id) == 1 then dups[#dups + 1] = id end
  end
  if #dups > 0 then
    table.insert(dups, 1, 'dup')
    return dups
  end
  for _, id in ipairs(plan.ids) do
    redis.call('SET', plan.seen_prefix .. id, '1', 'EX', plan.horizon)
  end
end
for _, c in ipairs(plan.commands) do
  if c[1] == 'HINCRBY*' then
    local key = c[2]
    for i = 3, #c, 2 do redis.call('HINCRBY', key, c[i], c[i + 1]) end
  elseif c[1] == 'WATERMARK' then
    -- key field value [cap]: the watermark only rises, and never above cap; a stored one
    -- above cap (written before event times were bounded) is replaced by this batch's
    local current = tonumber(redis.call('HGET', c[2], c[3]) or '-1')
    local value, cap = tonumber(c[4]), tonumber(c[5] or '')
    if value > current or (cap and current > cap) then
      redis.call('HSET', c[2], c[3], c[4])
    end
  else
    redis.call(unpack(c))
  end
end
for _, f in ipairs(plan.fences) do redis.call('HSET', okey, f[1], f[3]) end
return {'ok'}
"""


# Compare-and-set of one fence (after the broker lost a partition's data), counted in stats.
# KEYS: the applied-offsets hash, the stats hash; ARGV: field, expected, new. No loops:
# at most three commands.
_REBASE = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HINCRBY', KEYS[2], 'offset_resets', 1)
return 1
"""


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
    _check("commands", len(plan.commands), MAX_PLAN_COMMANDS)


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
