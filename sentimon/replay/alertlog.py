"""``alerts.csv``: one row per firing/resolved alert event of a namespace.

Events are read from the namespace's alert history stream (``Keys.alerts``, written by the
alert engine in the same atomic write as the aggregates). Columns are fixed, rows sorted by
(event time, opening time, rule, entity, sequence), and nothing run-specific is written:
no stream ids, no wall-clock times and no alert ids (they fingerprint the namespace, so two
replays into different namespaces would differ); ``rule, entity, opened_ms`` identify an
alert instead.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis

from sentimon.keys import Keys
from sentimon.replay.returns import DRAWDOWN_HORIZON, HORIZONS, Outcome, PriceSeries, outcome
from sentimon.windows import format_window

BASE_COLUMNS = (
    "event_time", "event_ms", "status", "rule", "kind", "severity", "entity", "opened_ms",
    "seq", "window", "value", "threshold", "count", "mean", "baseline_mean", "baseline_std",
    "z", "negative_share", "ratio", "muted", "notified", "model", "summary",
)  # fmt: skip
RETURN_COLUMNS = (*(f"ret_{h}" for h in HORIZONS), f"max_drawdown_{DRAWDOWN_HORIZON}")
_PAGE = 1000


@dataclass(frozen=True)
class BacktestAlert:
    """One alert notice as recorded in the history."""

    payload: dict[str, Any]
    notified: bool
    muted: str

    @property
    def sort_key(self) -> tuple[int, int, str, str, int]:
        p = self.payload
        return (
            int(p.get("event_ms") or 0),
            int(p.get("opened_ms") or 0),
            str(p.get("rule")),
            str(p.get("entity")),
            int(p.get("seq") or 0),
        )

    @property
    def alert_key(self) -> tuple[str, str, int]:
        p = self.payload
        return (str(p.get("rule")), str(p.get("entity")), int(p.get("opened_ms") or 0))


@dataclass
class AlertLog:
    events: list[BacktestAlert] = field(default_factory=list)

    def openings(self) -> list[BacktestAlert]:
        """The first firing event of each alert."""
        seen: set[tuple[str, str, int]] = set()
        out = []
        for event in self.events:
            if event.payload.get("status") == "firing" and event.alert_key not in seen:
                seen.add(event.alert_key)
                out.append(event)
        return out

    def per_rule(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for event in self.events:
            rule = str(event.payload.get("rule"))
            status = str(event.payload.get("status"))
            counts.setdefault(rule, {"firing": 0, "resolved": 0, "alerts": 0})
            counts[rule][status] = counts[rule].get(status, 0) + 1
        for event in self.openings():
            counts[str(event.payload.get("rule"))]["alerts"] += 1
        return dict(sorted(counts.items()))


def read_alert_log(client: redis.Redis, namespace: str) -> AlertLog:
    """Every event of the namespace's alert history, in deterministic order."""
    stream = Keys(namespace).alerts
    events: list[BacktestAlert] = []
    start = "-"
    while True:
        entries: Any = client.xrange(stream, min=start, count=_PAGE)
        for _, fields in entries:
            events.append(_event(fields))
        if len(entries) < _PAGE:
            break
        start = "(" + str(entries[-1][0])
    events.sort(key=lambda e: e.sort_key)
    return AlertLog(events)


def _event(fields: Mapping[Any, Any]) -> BacktestAlert:
    flat = {str(k): str(v) for k, v in fields.items()}
    try:
        payload = json.loads(flat.get("payload", "{}"))
    except ValueError:
        payload = {}
    if not isinstance(payload, dict) or not payload:
        payload = dict(flat)
    return BacktestAlert(
        payload, flat.get("notify", "") == "1", flat.get("muted", payload.get("muted") or "")
    )


def price_symbol(entity: str, market_proxy: str | None) -> str | None:
    """The price series an alert on ``entity`` is measured against (None: none)."""
    if entity.startswith("ticker:"):
        return entity[len("ticker:") :]
    if entity == "market" and market_proxy:
        return market_proxy.upper()
    return None


def outcomes(
    log: AlertLog, prices: Mapping[str, PriceSeries], market_proxy: str | None
) -> dict[tuple[str, str, int], Outcome]:
    """What followed each alert's opening, keyed by (rule, entity, opened_ms)."""
    out = {}
    for event in log.openings():
        p = event.payload
        entity = str(p.get("entity"))
        symbol = price_symbol(entity, market_proxy)
        series = prices.get(symbol) if symbol else None
        at = int(p.get("event_ms") or p.get("opened_ms") or 0)
        out[event.alert_key] = outcome(str(p.get("rule")), str(p.get("kind")), entity, at, series)
    return out


def render_csv(log: AlertLog, results: Mapping[tuple[str, str, int], Outcome] | None = None) -> str:
    """The CSV text (``\\n`` line ends, UTF-8)."""
    columns = BASE_COLUMNS + (RETURN_COLUMNS if results is not None else ())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    opened = {id(e) for e in log.openings()}
    for event in log.events:
        row = _base_row(event)
        if results is not None:
            result = results.get(event.alert_key) if id(event) in opened else None
            row += _return_cells(result)
        writer.writerow(row)
    return buffer.getvalue()


def write_alerts_csv(
    log: AlertLog, path: Path, results: Mapping[tuple[str, str, int], Outcome] | None = None
) -> None:
    path.write_bytes(render_csv(log, results).encode("utf-8"))


def _base_row(event: BacktestAlert) -> list[str]:
    p = event.payload
    stats = _mapping(p.get("stats"))
    window = _mapping(p.get("window"))
    threshold = _mapping(p.get("threshold"))
    seconds = window.get("seconds")
    return [
        _iso(p.get("event_ms")),
        _cell(p.get("event_ms")),
        _cell(p.get("status")),
        _cell(p.get("rule")),
        _cell(p.get("kind")),
        _cell(p.get("severity")),
        _cell(p.get("entity")),
        _cell(p.get("opened_ms")),
        _cell(p.get("seq")),
        format_window(int(seconds)) if isinstance(seconds, int) else _cell(window.get("length")),
        _cell(p.get("value")),
        _cell(threshold.get("open")),
        *(_cell(stats.get(name)) for name in ("count", "mean", "baseline_mean", "baseline_std")),
        *(_cell(stats.get(name)) for name in ("z", "negative_share", "ratio")),
        _cell(event.muted),
        "1" if event.notified else "0",
        _cell(p.get("model")),
        _cell(p.get("summary")),
    ]


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _return_cells(result: Outcome | None) -> list[str]:
    if result is None:
        return [""] * len(RETURN_COLUMNS)
    return [*(_number(result.returns.get(h)) for h in HORIZONS), _number(result.drawdown)]


def _number(value: float | None) -> str:
    return "" if value is None else format(value, ".10g")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _iso(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    return datetime.fromtimestamp(value / 1000, tz=UTC).isoformat(timespec="milliseconds")
