"""Alert groups in Redis: each change is one MULTI/EXEC, so a crash loses or repeats none.

A group is a JSON string (``Keys.alert_group``) and a member of the sorted set
``Keys.alert_groups`` scored by when it is next looked at. Routing a notice into its
groups and acknowledging its outbox entry happen in one transaction; so do flushing a
group and appending its notification to the outbox (with ``sinks`` = the receiver's
sinks, delivered like any entry: retries, progress, dead letters). Both watch the group
keys, so dispatchers sharing a namespace never overwrite each other's changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import redis

from sentimon.alerts.grouping import Group
from sentimon.alerts.outbox import GROUP
from sentimon.alerts.payload import encode
from sentimon.keys import Keys

log = logging.getLogger(__name__)

Update = Callable[[Group | None], Group]
#: group -> (the group afterwards or None to delete it, a notification or None, sinks)
Flush = Callable[[Group], tuple[Group | None, dict[str, Any] | None, str]]


class GroupStore:
    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.client: Any = client
        self.keys = keys

    def accept(self, entry_id: str, updates: list[tuple[str, Update]]) -> None:
        """Apply ``updates`` (group id, change) and acknowledge outbox entry ``entry_id``."""
        names = [self.keys.alert_group(gid) for gid, _ in updates]
        while True:
            with self.client.pipeline(transaction=True) as pipe:
                try:
                    if names:
                        pipe.watch(*names)
                    raws = [pipe.get(name) for name in names]
                    groups = [
                        change(Group.decode(raw) if raw else None)
                        for (_, change), raw in zip(updates, raws, strict=True)
                    ]
                    pipe.multi()
                    for name, group in zip(names, groups, strict=True):
                        pipe.set(name, group.encode())
                        pipe.zadd(self.keys.alert_groups, {group.gid: group.next_ms})
                    pipe.xack(self.keys.alert_outbox, GROUP, entry_id)
                    pipe.xdel(self.keys.alert_outbox, entry_id)
                    pipe.execute()
                    return
                except redis.WatchError:
                    continue

    def due(self, until_ms: float, limit: int = 100) -> list[str]:
        """Ids of the groups due at ``until_ms``, soonest first."""
        found = self.client.zrangebyscore(self.keys.alert_groups, "-inf", until_ms, 0, limit)
        return [str(gid) for gid in found]

    def next_due_ms(self) -> int | None:
        first = self.client.zrange(self.keys.alert_groups, 0, 0, withscores=True)
        return int(first[0][1]) if first else None

    def flush(self, gid: str, decide: Flush) -> dict[str, Any] | None:
        """Flush group ``gid`` as ``decide`` says; returns the notification queued."""
        name = self.keys.alert_group(gid)
        while True:
            with self.client.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(name)
                    raw = pipe.get(name)
                    after, note, sinks = decide(Group.decode(raw)) if raw else (None, None, "")
                    pipe.multi()
                    if after is None:
                        pipe.delete(name)
                        pipe.zrem(self.keys.alert_groups, gid)
                    else:
                        pipe.set(name, after.encode())
                        pipe.zadd(self.keys.alert_groups, {gid: after.next_ms})
                    if note is not None and sinks:
                        fields = {
                            "event": note["event_id"],
                            "payload": encode(note),
                            "sinks": sinks,
                        }
                        pipe.xadd(self.keys.alert_outbox, fields)
                    pipe.execute()
                    return note if sinks else None
                except redis.WatchError:
                    continue

    def groups(self) -> list[Group]:
        """Every group (for ``sentimon alerts list`` and tests)."""
        gids = self.client.zrange(self.keys.alert_groups, 0, -1)
        raws = self.client.mget([self.keys.alert_group(g) for g in gids]) if gids else []
        return [Group.decode(raw) for raw in raws if raw]
