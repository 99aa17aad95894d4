"""Publishing JSONL/CSV files to a topic (``sentimon produce``), with pacing and looping."""

from __future__ import annotations

import csv
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sentimon.contract import derive_id, parse_ts
from sentimon.errors import ConfigError

log = logging.getLogger(__name__)

_CSV_LIST_FIELDS = ("tickers",)


def read_records(path: Path) -> list[dict[str, Any]]:
    """Records of a ``.jsonl``/``.json`` (one object per line) or ``.csv`` file."""
    if not path.is_file():
        raise ConfigError(f"input file {path} does not exist")
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            return [_from_csv_row(row) for row in csv.DictReader(handle)]
    records = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError as exc:
                raise ConfigError(f"{path}:{number}: not a JSON line ({exc})") from None
    return records


def _from_csv_row(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in row.items() if k and v not in (None, "")}
    for name in _CSV_LIST_FIELDS:
        if name in out:
            out[name] = [
                t.strip() for t in str(out[name]).replace(";", ",").split(",") if t.strip()
            ]
    ts = out.get("ts")
    if isinstance(ts, str) and ts.isdigit():
        out["ts"] = int(ts)
    return out


def event_ms(record: dict[str, Any]) -> int | None:
    ts = record.get("ts")
    if ts is None:
        return None
    parsed = parse_ts(ts)
    return parsed if isinstance(parsed, int) else None


def prepared(
    records: list[dict[str, Any]], *, loop: bool = False, end_ms: int | None = None
) -> Iterator[dict[str, Any]]:
    """Records with ids filled in.

    ``end_ms`` shifts event times so the feed's last record falls at ``end_ms`` (a
    historical sample then looks recent). With ``loop``, the feed repeats forever, each pass
    shifted in event time by the feed's span and given fresh ids, so it is new data.
    """
    times = [t for t in map(event_ms, records) if t is not None]
    start, end = (min(times), max(times)) if times else (0, 0)
    span = max(end - start, 60_000) + 60_000
    shift = (end_ms - end) if (end_ms is not None and times) else 0
    passes = 0
    while True:
        for record in records:
            out = dict(record)
            out.setdefault("id", derive_id(record))
            ts = event_ms(record)
            if ts is not None and (shift or passes):
                out["ts"] = ts + shift + passes * span
            if passes:
                out["id"] = f"{out['id']}~{passes}"
            yield out
        passes += 1
        if not loop:
            return


def live(records: list[dict[str, Any]], run_id: str) -> Iterator[dict[str, Any]]:
    """The feed's texts forever, each stamped with the wall-clock time it is sent and a
    fresh id: a stand-in for a live source."""
    n = 0
    while True:
        for record in records:
            out = dict(record)
            out["id"] = f"{out.get('id') or derive_id(record)}~{run_id}-{n}"
            out["ts"] = int(time.time() * 1000)
            n += 1
            yield out


class Pacer:
    """Sleeps so that at most ``rate`` records per second go out (None: no limit)."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self._next = time.monotonic()

    def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        if self._next > now:
            time.sleep(self._next - now)
        self._next = max(self._next, now) + self.interval


def publish(
    producer: Any,
    topic: str,
    records: Iterator[dict[str, Any]],
    *,
    rate: float | None = None,
    limit: int | None = None,
    progress: Any = None,
) -> int:
    """Send records (value = compact JSON, key = id, timestamp = event time)."""
    pacer = Pacer(rate)
    sent = 0
    for record in records:
        if limit is not None and sent >= limit:
            break
        pacer.wait()
        value = json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        producer.send(
            topic,
            value=value,
            key=str(record.get("id", "")).encode("utf-8"),
            timestamp_ms=event_ms(record),
        )
        sent += 1
        if progress is not None:
            progress.update(1)
    producer.flush()
    return sent
