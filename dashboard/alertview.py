"""Alert events as the feed shows them (pure).

Events come from ``Query.alerts`` (the namespace's ``alerts`` stream): the alert payload
of the alerts engine (id, status, rule, kind, severity, entity, window, stats, model,
top posts). Missing fields are tolerated, so the feed also renders older or partial events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEVERITY_COLOURS = {"critical": "red", "high": "red", "warning": "orange", "info": "blue"}
STATUS_COLOURS = {"firing": "red", "resolved": "green"}
_TIME_FIELDS = ("ts", "at_ms", "event_ms", "fired_ms", "resolved_ms", "ends_ms", "starts_ms")


@dataclass(frozen=True)
class AlertEvent:
    id: str
    status: str
    severity: str
    rule: str
    kind: str
    entity: str
    ts_ms: int | None
    window: tuple[int | None, int | None]
    stats: dict[str, Any] = field(default_factory=dict)
    posts: list[dict[str, Any]] = field(default_factory=list)
    model: str | None = None

    @property
    def symbol(self) -> str | None:
        """The ticker of a per-ticker alert."""
        return self.entity.split(":", 1)[1] if self.entity.startswith("ticker:") else None

    @property
    def severity_colour(self) -> str:
        return SEVERITY_COLOURS.get(self.severity.lower(), "gray")

    @property
    def status_colour(self) -> str:
        return STATUS_COLOURS.get(self.status.lower(), "gray")


def alert_event(raw: dict[str, Any]) -> AlertEvent:
    window = raw.get("window")
    if not isinstance(window, dict):
        window = {}
    start = _int(window.get("start_ms", raw.get("window_start_ms")))
    end = _int(window.get("end_ms", raw.get("window_end_ms")))
    return AlertEvent(
        id=str(raw.get("id") or raw.get("stream_id") or "?"),
        status=str(raw.get("status") or "firing"),
        severity=str(raw.get("severity") or "info"),
        rule=str(raw.get("rule") or "?"),
        kind=str(raw.get("kind") or ""),
        entity=_entity(raw),
        ts_ms=_event_time(raw, end),
        window=(start, end),
        stats=dict(raw.get("stats") or {}),
        posts=list(raw.get("top_posts") or raw.get("posts") or []),
        model=raw.get("model"),
    )


def alert_events(raws: list[dict[str, Any]]) -> list[AlertEvent]:
    """Newest first (by event time, then stream order)."""
    events = [alert_event(r) for r in raws]
    return sorted(events, key=lambda e: -(e.ts_ms or 0))


def for_symbol(events: list[AlertEvent], symbol: str) -> list[AlertEvent]:
    return [e for e in events if e.symbol == symbol.upper()]


def open_alerts(events: list[AlertEvent]) -> list[AlertEvent]:
    """Alerts whose latest event is ``firing`` (events are newest first)."""
    latest: dict[str, AlertEvent] = {}
    for event in events:
        latest.setdefault(event.id, event)
    return [e for e in latest.values() if e.status == "firing"]


def _entity(raw: dict[str, Any]) -> str:
    entity = raw.get("entity")
    if isinstance(entity, dict):
        entity = entity.get("id") or entity.get("name")
    if entity:
        return str(entity)
    ticker = raw.get("ticker") or raw.get("symbol")
    return f"ticker:{ticker}" if ticker else "market"


def _event_time(raw: dict[str, Any], window_end: int | None) -> int | None:
    for name in _TIME_FIELDS:
        value = _int(raw.get(name))
        if value is not None:
            return value
    return window_end


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
