"""The Redis key layout, in one place. Documented in docs/ARCHITECTURE.md.

Every key of a namespace starts with ``sentimon:{<namespace>}:``. The braces are a Redis
Cluster hash tag: all keys of one namespace live in one hash slot, which is what lets a
single Lua script update them atomically on a cluster too.

Entities are ``market``, ``kind:<news|social>`` and ``ticker:<SYMBOL>``. Aggregates live in
one hash per entity per event-time hour; minute ``m`` (0-59) of that hour has fields
``m:n m:pos m:neu m:neg m:s m:ss`` and the hour's totals are ``n pos neu neg s ss``.
"""

from __future__ import annotations

MARKET = "market"
STAT_FIELDS = ("n", "pos", "neu", "neg", "s", "ss")
REGISTRY = "sentimon:namespaces"


def ticker_entity(symbol: str) -> str:
    return f"ticker:{symbol}"


def kind_entity(kind: str) -> str:
    return f"kind:{kind}"


class Keys:
    """Key names of one namespace."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.prefix = f"sentimon:{{{namespace}}}:"

    def hour(self, entity: str, hour_s: int) -> str:
        """Aggregate hash of ``entity`` for the hour starting at epoch second ``hour_s``."""
        return f"{self.prefix}h:{entity}:{hour_s}"

    def top(self, hour_s: int) -> str:
        """Sorted set: ticker -> posts in that hour (the volume index)."""
        return f"{self.prefix}top:{hour_s}"

    def recent(self, entity: str) -> str:
        """Capped stream of the latest scored posts of an entity."""
        return f"{self.prefix}recent:{entity}"

    def seen(self, post_id: str) -> str:
        """Marker of an id already counted (expires after the dedup horizon)."""
        return f"{self.prefix}seen:{post_id}"

    @property
    def offsets(self) -> str:
        """Hash ``topic:partition`` -> last offset applied to the aggregates (the fence)."""
        return f"{self.prefix}offsets"

    @property
    def dlq(self) -> str:
        """Hash topic -> messages sent to that topic's dead-letter topic."""
        return f"{self.prefix}dlq"

    @property
    def dlq_marks(self) -> str:
        """Hash ``topic:partition`` -> highest source offset whose dead letter the broker
        acknowledged, and ``topic:partition|pending`` -> ``offset:epoch_ms`` reserved
        before a publish (``consumers.dlq_once``: each dead letter published once)."""
        return f"{self.prefix}dlq:marks"

    @property
    def stats(self) -> str:
        """Hash of pipeline counters: records, scored, dlq, duplicates, batches."""
        return f"{self.prefix}stats"

    @property
    def meta(self) -> str:
        """Hash: watermark_ms (max event time seen), model, last_batch_ms, range, ..."""
        return f"{self.prefix}meta"

    @property
    def health(self) -> str:
        """Hash ``consumer-id`` -> JSON health snapshot (lag, throughput) of each consumer."""
        return f"{self.prefix}health"

    # --- alerts (sentimon.alerts; documented in docs/ALERTS.md) -----------------------
    @property
    def alerts(self) -> str:
        """Stream: the alert history the dashboard reads, one entry per alert event.

        Written by the alert hook in the same atomic write as the aggregates that caused
        the event (exactly once). Fields: ``event`` (event id, also the webhooks'
        Idempotency-Key), ``id`` (alert id), ``status`` (firing|resolved), ``rule``,
        ``kind``, ``severity``, ``entity``, ``ts`` (event time, epoch ms), ``notify``
        (``1`` if it was queued for delivery, ``0`` if muted or not sent), ``muted`` (empty,
        ``silence:<id>`` or ``inhibited:<alert id>``) and ``payload`` (the full JSON).
        """
        return f"{self.prefix}alerts"

    @property
    def alert_state(self) -> str:
        """Hash ``<rule>|<entity>`` -> JSON lifecycle of that pair's alert (ok/firing, ids,
        times). Written only on transitions, guarded by the value read."""
        return f"{self.prefix}alerts:state"

    def alert_window(self, entity: str, window_s: int, block: int) -> str:
        """Hash of exact per-window sums the alert baselines are computed from: fields
        ``<i>:n <i>:s <i>:ss`` of tumbling ``window_s`` windows ``i`` in ``block`` (i // 32)."""
        return f"{self.prefix}alerts:w:{window_s}:{entity}:{block}"

    @property
    def alert_open(self) -> str:
        """Hash ``<rule>|<entity>`` -> JSON summary of each alert now firing."""
        return f"{self.prefix}alerts:open"

    @property
    def alert_outbox(self) -> str:
        """Stream of notifications to deliver (consumer group ``dispatch``). Fields:
        ``event`` (event id), ``payload`` (JSON), optional ``sinks`` (comma list, redrive)."""
        return f"{self.prefix}alerts:outbox"

    @property
    def alert_delivery(self) -> str:
        """Hash ``<outbox entry id>|<sink>`` -> JSON progress of an unacknowledged delivery."""
        return f"{self.prefix}alerts:delivery"

    @property
    def alert_silences(self) -> str:
        """Hash silence id -> JSON (matchers, reason, created_ms, expires_ms, by)."""
        return f"{self.prefix}alerts:silences"

    def alert_dead(self, sink: str) -> str:
        """List of notifications sink ``sink`` gave up on, newest first, with the last error."""
        return f"{self.prefix}alerts:dead:{sink}"

    def pattern(self) -> str:
        """Glob matching every key of the namespace (for clearing a backtest)."""
        return f"{self.prefix}*"
