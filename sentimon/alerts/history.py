"""Read side of alerts: open alerts, recent history, dead letters, outbox backlog.

Used by ``sentimon alerts list`` and the dashboard. History entries are the
``Keys.alerts`` stream's fields, with ``payload`` decoded.
"""

from __future__ import annotations

import json
from typing import Any

import redis

from sentimon.alerts.outbox import Outbox
from sentimon.keys import Keys


class AlertReader:
    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client: Any = client
        self.keys = Keys(namespace)

    def open_alerts(self) -> list[dict[str, Any]]:
        """Alerts firing now, newest first, each with its current lifecycle record."""
        opened = self.client.hgetall(self.keys.alert_open)
        if not opened:
            return []
        fields = sorted(opened)
        records = self.client.hmget(self.keys.alert_state, fields)
        rows = []
        for name, record in zip(fields, records, strict=True):
            row = json.loads(opened[name])
            state = json.loads(record).get("a", {}) if record else {}
            row["last_sent_ms"] = state.get("sent_ms")
            row["notices"] = state.get("seq")
            rows.append(row)
        return sorted(rows, key=lambda r: r.get("opened_ms") or 0, reverse=True)

    def history(self, limit: int = 20) -> list[dict[str, Any]]:
        """Newest first."""
        entries = self.client.xrevrange(self.keys.alerts, count=limit)
        out = []
        for stream_id, fields in entries:
            row: dict[str, Any] = {k: v for k, v in fields.items() if k != "payload"}
            row["stream_id"] = stream_id
            row["ts"] = int(row.get("ts", 0))
            row["notify"] = row.get("notify") == "1"
            row["payload"] = json.loads(fields.get("payload", "{}"))
            out.append(row)
        return out

    def events(self, limit: int = 100) -> list[dict[str, Any]]:
        """Alert events (firing/resolved notices) of the history stream, newest first: each
        the alert payload plus the stream's ``event``, ``ts``, ``notify``, ``muted`` and
        ``stream_id`` (the dashboard's feed)."""
        return [
            {**row["payload"], **{k: v for k, v in row.items() if k != "payload"}}
            for row in self.history(limit)
        ]

    def dead_letters(
        self, sink: str | None = None, limit: int = 20
    ) -> dict[str, list[dict[str, Any]]]:
        """Per sink, its newest dead letters."""
        out = {}
        for key in self.client.scan_iter(match=self.keys.alert_dead("*"), count=500):
            name = key.removeprefix(self.keys.alert_dead(""))
            if sink is None or name == sink:
                out[name] = [json.loads(v) for v in self.client.lrange(key, 0, limit - 1)]
        return out

    def dead_counts(self) -> dict[str, int]:
        prefix = self.keys.alert_dead("")
        return {
            key.removeprefix(prefix): int(self.client.llen(key))
            for key in self.client.scan_iter(match=self.keys.alert_dead("*"), count=500)
        }

    def outbox(self) -> dict[str, int]:
        box = Outbox(self.client, self.keys, "reader")
        return {"entries": box.backlog(), "pending": box.pending()}
