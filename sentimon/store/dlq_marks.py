"""The dead-letter marks of a namespace in Redis: per partition, the highest source offset
whose dead letter the broker acknowledged (``sent``) and the highest a publish may send
(``pending``, written before it). ``consumers.dlq_once`` uses them to publish each dead
letter once."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import redis

from sentimon.errors import SinkError
from sentimon.keys import Keys

log = logging.getLogger(__name__)


class DeadLetterLedger:
    """The ``sent`` and ``pending`` marks of one namespace in Redis (hash ``Keys.dlq_marks``:
    field ``<topic>:<partition>`` -> ``sent``, ``<topic>:<partition>|pending`` ->
    ``offset:epoch_ms``)."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.client: Any = client
        self.key = keys.dlq_marks

    def marks(self, fields: Sequence[str]) -> dict[str, tuple[int, int, int]]:
        """Per partition field: (sent, pending, pending time in ms); -1 where unset."""
        names = [name for f in fields for name in (f, f"{f}|pending")]
        try:
            values = self.client.hmget(self.key, names)
        except redis.RedisError as exc:
            raise SinkError(f"reading dead-letter marks from Redis failed: {exc}") from exc
        out = {}
        for i, f in enumerate(fields):
            sent, pending = values[2 * i], values[2 * i + 1]
            offset, _, at = (pending or "-1:0").partition(":")
            out[f] = (int(sent) if sent is not None else -1, int(offset), int(at or 0))
        return out

    def reserve(self, offsets: dict[str, int], now_ms: int) -> None:
        """Before a publish: these partitions may get dead letters up to these offsets."""
        if offsets:
            mapping = {f"{f}|pending": f"{o}:{now_ms}" for f, o in offsets.items()}
            try:
                self.client.hset(self.key, mapping=mapping)
            except redis.RedisError as exc:
                raise SinkError(f"reserving dead letters in Redis failed: {exc}") from exc

    def confirm(self, offsets: dict[str, int]) -> bool:
        """After the broker's acknowledgement. False when Redis did not take it (the
        process still remembers, and a later member reads the topic back)."""
        if not offsets:
            return True
        try:
            self.client.hset(self.key, mapping={f: str(o) for f, o in offsets.items()})
        except redis.RedisError as exc:
            log.debug("dead-letter marks not confirmed (%s); resolved on the next publish", exc)
            return False
        return True

    def clear(self, fields: Sequence[str]) -> None:
        names = [name for f in fields for name in (f, f"{f}|pending")]
        if names:
            try:
                self.client.hdel(self.key, *names)
            except redis.RedisError as exc:
                raise SinkError(f"clearing dead-letter marks failed: {exc}") from exc
