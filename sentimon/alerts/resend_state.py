"""The alerts a sink keeps re-sending while they fire, in Redis (``Keys.alert_resend``).

One hash per sink and namespace: alert id -> JSON ``{"seq", "alert", "sent_ms"}`` for a
firing alert (``alert``: the postable alert last sent, whose labels stay the alert's
identity), ``{"seq", "resolved_ms", "alert"}`` once resolved. A resolved record is kept
for ``TOMBSTONE_MS`` so that a firing notice delivered late (retries do not keep order)
cannot bring the alert back. It lives in Redis, so a restarted dispatcher goes on
re-sending where the last one stopped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sentimon.keys import Keys

#: How long a resolved alert's record is kept (a day: far beyond any retry backoff).
TOMBSTONE_MS = 86_400_000


@dataclass(frozen=True)
class Tracked:
    alert_id: str
    seq: int
    alert: dict[str, Any]
    sent_ms: int = 0
    resolved_ms: int | None = None

    @property
    def resolved(self) -> bool:
        return self.resolved_ms is not None

    def encode(self) -> str:
        data: dict[str, Any] = {"seq": self.seq, "alert": self.alert, "sent_ms": self.sent_ms}
        if self.resolved_ms is not None:
            data["resolved_ms"] = self.resolved_ms
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def decode(cls, alert_id: str, raw: str) -> Tracked:
        data = json.loads(raw)
        return cls(
            alert_id,
            int(data.get("seq", 0)),
            data.get("alert") or {},
            int(data.get("sent_ms", 0)),
            data.get("resolved_ms"),
        )


class ResendState:
    """Read and write one sink's tracked alerts (``client``: a decoding redis client)."""

    def __init__(self, client: Any, keys: Keys, sink: str) -> None:
        self.client = client
        self.keys = keys
        self.key = keys.alert_resend(sink)

    def get(self, alert_id: str) -> Tracked | None:
        raw = self.client.hget(self.key, alert_id)
        return Tracked.decode(alert_id, raw) if raw else None

    def all(self) -> list[Tracked]:
        return [Tracked.decode(k, v) for k, v in self.client.hgetall(self.key).items()]

    def put(self, *tracked: Tracked) -> None:
        if tracked:
            self.client.hset(self.key, mapping={t.alert_id: t.encode() for t in tracked})

    def forget(self, *alert_ids: str) -> None:
        if alert_ids:
            self.client.hdel(self.key, *alert_ids)

    def open_ids(self) -> set[str]:
        """Ids of the namespace's alerts firing now (the hook's open-alert index)."""
        return {str(json.loads(v).get("id")) for v in self.client.hvals(self.keys.alert_open) if v}
