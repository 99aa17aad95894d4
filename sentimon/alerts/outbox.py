"""The alert outbox in Redis, read through a consumer group (crash-safe delivery).

The hook appends notices to the stream ``Keys.alert_outbox`` in the batch's atomic write.
Dispatchers read it through the consumer group ``dispatch``: an entry stays pending for
its consumer until it is acknowledged, which happens only once every sink delivered it or
gave up (dead letter). Per-sink progress of a pending entry lives in ``Keys.alert_delivery``
so a restarted dispatcher resumes where it stopped and does not re-send to sinks that had
already succeeded. Acknowledged entries are deleted; the stream holds only what is due.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis

from sentimon.keys import Keys

log = logging.getLogger(__name__)

GROUP = "dispatch"
DEAD_LETTER_MAX = 10_000


@dataclass(frozen=True)
class Entry:
    entry_id: str
    event_id: str
    body: str
    #: only these sinks (a redrive, a group notification); None: every configured sink
    #: (or, with a routing tree, the routes the notice's labels select)
    sinks: frozenset[str] | None = None
    #: a resolved notice only for the router's bookkeeping (the rule sends none)
    quiet: bool = False

    @property
    def payload(self) -> dict[str, Any]:
        data = json.loads(self.body)
        return data if isinstance(data, dict) else {}


class Outbox:
    """One dispatcher's view of a namespace's outbox."""

    def __init__(self, client: redis.Redis, keys: Keys, consumer: str) -> None:
        self.client: Any = client
        self.keys = keys
        self.consumer = consumer

    def ensure_group(self) -> None:
        try:
            self.client.xgroup_create(self.keys.alert_outbox, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    # --- reading -----------------------------------------------------------------------
    def read_new(self, count: int, block_ms: int | None) -> list[Entry]:
        reply = self.client.xreadgroup(
            GROUP, self.consumer, {self.keys.alert_outbox: ">"}, count=count, block=block_ms or None
        )
        return self._entries(reply)

    def read_own_pending(self, count: int = 500) -> list[Entry]:
        """Entries delivered to this consumer name before and never acknowledged."""
        out: list[Entry] = []
        start = "0"
        while True:
            reply = self.client.xreadgroup(
                GROUP, self.consumer, {self.keys.alert_outbox: start}, count=count
            )
            batch = reply[0][1] if reply else []
            if not batch:
                return out
            out.extend(self._parse(batch))
            start = batch[-1][0]

    def claim_stale(self, min_idle_ms: int, count: int = 100) -> list[Entry]:
        """Take over entries other (crashed) dispatchers left pending for ``min_idle_ms``."""
        reply = self.client.xautoclaim(
            self.keys.alert_outbox, GROUP, self.consumer, min_idle_ms, "0-0", count=count
        )
        entries = reply[1] if len(reply) > 1 else []
        return self._parse(entries)

    def touch(self, entry_ids: Iterable[str]) -> None:
        """Reset the idle time of entries this dispatcher is still retrying."""
        ids = list(entry_ids)
        if ids:
            self.client.xclaim(self.keys.alert_outbox, GROUP, self.consumer, 0, ids, justid=True)

    def _entries(self, reply: Any) -> list[Entry]:
        out: list[Entry] = []
        for _stream, batch in reply or []:
            out.extend(self._parse(batch))
        return out

    def _parse(self, batch: list[Any]) -> list[Entry]:
        out = []
        for entry_id, fields in batch:
            if not fields or "payload" not in fields:
                log.warning("outbox entry %s has no payload (deleted?); acknowledging it", entry_id)
                self.ack(entry_id, ())
                continue
            sinks = fields.get("sinks")
            out.append(
                Entry(
                    entry_id,
                    fields.get("event", ""),
                    fields["payload"],
                    frozenset(sinks.split(",")) if sinks else None,
                    fields.get("quiet") == "1",
                )
            )
        return out

    # --- progress ----------------------------------------------------------------------
    def progress(self, entry_id: str, sinks: list[str]) -> dict[str, dict[str, Any]]:
        if not sinks:
            return {}
        values = self.client.hmget(self.keys.alert_delivery, [f"{entry_id}|{s}" for s in sinks])
        return {s: json.loads(v) for s, v in zip(sinks, values, strict=True) if v}

    def record(self, entry_id: str, sink: str, info: dict[str, Any]) -> None:
        self.client.hset(self.keys.alert_delivery, f"{entry_id}|{sink}", json.dumps(info))

    def dead_letter(self, entry_id: str, sink: str, letter: dict[str, Any]) -> None:
        pipe = self.client.pipeline(transaction=True)
        key = self.keys.alert_dead(sink)
        pipe.lpush(key, json.dumps(letter, sort_keys=True))
        pipe.ltrim(key, 0, DEAD_LETTER_MAX - 1)
        pipe.hset(self.keys.alert_delivery, f"{entry_id}|{sink}", json.dumps({"state": "dead"}))
        pipe.execute()

    def ack(self, entry_id: str, sinks: Iterable[str]) -> None:
        """Acknowledge and delete the entry and its progress records, atomically."""
        pipe = self.client.pipeline(transaction=True)
        pipe.xack(self.keys.alert_outbox, GROUP, entry_id)
        pipe.xdel(self.keys.alert_outbox, entry_id)
        fields = [f"{entry_id}|{s}" for s in sinks]
        if fields:
            pipe.hdel(self.keys.alert_delivery, *fields)
        pipe.execute()

    # --- for status and redrive ------------------------------------------------------
    def pending(self) -> int:
        try:
            return int(self.client.xpending(self.keys.alert_outbox, GROUP)["pending"])
        except redis.ResponseError:
            return 0

    def backlog(self) -> int:
        """Entries in the stream (undelivered, delivered-but-pending)."""
        return int(self.client.xlen(self.keys.alert_outbox))

    def redrive(self, sink: str, limit: int) -> int:
        """Move up to ``limit`` dead letters of ``sink`` back into the outbox, oldest first."""
        key = self.keys.alert_dead(sink)
        moved = 0
        while moved < limit:
            raw = self.client.lindex(key, -1)
            if raw is None:
                break
            letter = json.loads(raw)
            pipe = self.client.pipeline(transaction=True)
            pipe.xadd(
                self.keys.alert_outbox,
                {"event": letter.get("event_id", ""), "payload": letter["payload"], "sinks": sink},
            )
            pipe.lrem(key, -1, raw)
            pipe.execute()
            moved += 1
        return moved
