"""Alert events as the feed shows them, from the alert engine's payload (pure)."""

from __future__ import annotations

from typing import Any

from dashboard.alertview import alert_event, alert_events, for_symbol, open_lines
from dashboard.panels.alertfeed import post_line, stats_line

PAYLOAD: dict[str, Any] = {
    "schema": 1, "id": "a1b2", "event_id": "a1b2.1", "seq": 1, "status": "firing",
    "rule": "ticker-negative-share", "kind": "negative_share", "severity": "critical",
    "entity": "ticker:TSLA", "scope": {"type": "ticker", "value": "TSLA"},
    "opened_ms": 1_000, "event_ms": 1_000, "resolved_ms": None,
    "window": {"length": "15m", "seconds": 900, "start_ms": 100, "end_ms": 1_000},
    "stats": {"count": 12, "mean": -0.61, "negative_share": 0.83, "rate_per_min": 0.8},
    "model": "m1", "top_posts": [{"id": "p1", "ts": 900, "text": "bad", "score": -0.9}],
    "muted": None, "summary": "FIRING ...",
}  # fmt: skip


def test_event_from_payload_and_stream_fields():
    event = alert_event({**PAYLOAD, "muted": "silence:abc", "stream_id": "1-0", "ts": 1_000})
    assert (event.id, event.status, event.severity, event.rule) == (
        "a1b2",
        "firing",
        "critical",
        "ticker-negative-share",
    )
    assert event.symbol == "TSLA"
    assert event.window == (100, 1_000)
    assert event.ts_ms == 1_000
    assert event.severity_colour == "red" and event.status_colour == "red"
    assert event.muted == "silence:abc"
    assert event.posts[0]["id"] == "p1"


def test_partial_events_still_render():
    event = alert_event({"stream_id": "5-0", "status": "resolved"})
    assert event.id == "5-0" and event.entity == "market" and event.symbol is None
    assert event.window == (None, None) and event.status_colour == "green"
    assert event.severity_colour == "blue"  # default severity info


def test_newest_first_and_per_symbol():
    older = {**PAYLOAD, "event_ms": 10}
    newer = {**PAYLOAD, "id": "z", "event_ms": 20, "status": "resolved"}
    other = {**PAYLOAD, "id": "m", "event_ms": 15, "entity": "market"}
    events = alert_events([older, other, newer])
    assert [e.id for e in events] == ["z", "m", "a1b2"]
    assert [e.id for e in for_symbol(events, "tsla")] == ["z", "a1b2"]


def test_lines():
    assert open_lines([{"rule": "r", "entity": "ticker:X"}]) == ["r · ticker:X"]
    line = stats_line(PAYLOAD["stats"])
    assert "posts **12**" in line and "neg share **0.83**" in line and "mean **-0.61**" in line
    assert stats_line({"flag": True, "text": "x"}) == ""
    assert post_line({"score": -0.9, "text": "bad", "url": "https://x"}).startswith(":red[-0.90]")
    assert "[link](https://x)" in post_line({"score": -0.9, "text": "bad", "url": "https://x"})
    assert post_line({"text": "no score"}).startswith(":gray[?]")
