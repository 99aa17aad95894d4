"""Alert events and open alerts as the feed shows them (pure).

Events come from ``AlertReader.events`` (``sentimon.alerts.history``): the alert engine's
payload (``sentimon.alerts.payload``: id, status, rule, kind, severity, entity, window,
stats, model, top_posts, summary) plus the history stream's ``muted`` field; each becomes
an ``AlertCard``. Open alerts come from ``AlertReader.open_alerts``.
Missing fields are tolerated, so partial or older events still render.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEVERITY_COLOURS = {"critical": "red", "warning": "orange", "info": "blue"}
STATUS_COLOURS = {"firing": "red", "resolved": "green"}


@dataclass(frozen=True)
class AlertCard:
    """One alert event (firing or resolved notice) as the dashboard's feed shows it."""

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
    muted: str = ""
    summary: str = ""

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


def alert_event(raw: dict[str, Any]) -> AlertCard:
    window = raw.get("window")
    if not isinstance(window, dict):
        window = {}
    return AlertCard(
        id=str(raw.get("id") or raw.get("stream_id") or "?"),
        status=str(raw.get("status") or "firing"),
        severity=str(raw.get("severity") or "info"),
        rule=str(raw.get("rule") or "?"),
        kind=str(raw.get("kind") or ""),
        entity=str(raw.get("entity") or "market"),
        ts_ms=_int(raw.get("event_ms", raw.get("ts"))),
        window=(_int(window.get("start_ms")), _int(window.get("end_ms"))),
        stats=dict(raw.get("stats") or {}),
        posts=list(raw.get("top_posts") or []),
        model=raw.get("model"),
        muted=str(raw.get("muted") or ""),
        summary=str(raw.get("summary") or ""),
    )


def alert_events(raws: list[dict[str, Any]]) -> list[AlertCard]:
    """Newest first by event time (stream order, newest first, breaks ties)."""
    events = [alert_event(r) for r in raws]
    return sorted(events, key=lambda e: -(e.ts_ms or 0))


def for_symbol(events: list[AlertCard], symbol: str) -> list[AlertCard]:
    return [e for e in events if e.symbol == symbol.upper()]


def open_lines(open_alerts: list[dict[str, Any]]) -> list[str]:
    """``rule · entity`` of each open alert (for the banner)."""
    return [f"{a.get('rule', '?')} · {a.get('entity', '?')}" for a in open_alerts]


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
