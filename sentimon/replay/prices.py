"""Reading a prices file (``--prices CSV``): columns ``ticker``, ``ts``, ``price``.

``ts`` is ISO-8601 or epoch milliseconds (as in the message contract); ``price`` a positive
number. Tickers are upper-cased. Errors name the file and line.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from sentimon.contract import parse_ts
from sentimon.errors import ConfigError
from sentimon.replay.returns import PriceSeries

REQUIRED = ("ticker", "ts", "price")


def read_prices(path: Path) -> dict[str, PriceSeries]:
    """Price series per ticker symbol."""
    if not path.is_file():
        raise ConfigError(f"prices file {path} does not exist")
    points: dict[str, list[tuple[int, float]]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = [c.strip().lower() for c in reader.fieldnames or []]
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            raise ConfigError(
                f"prices file {path}: missing column(s) {', '.join(missing)} "
                f"(need a header with {', '.join(REQUIRED)})"
            )
        reader.fieldnames = columns
        for line, row in enumerate(reader, start=2):
            ticker, ts, price = _parse_row(path, line, row)
            points.setdefault(ticker, []).append((ts, price))
    return {ticker: PriceSeries.of(rows) for ticker, rows in sorted(points.items())}


def _parse_row(path: Path, line: int, row: dict[str, str]) -> tuple[str, int, float]:
    ticker = (row.get("ticker") or "").strip().upper().lstrip("$")
    if not ticker:
        raise ConfigError(f"prices file {path}, line {line}: empty ticker")
    raw_ts = (row.get("ts") or "").strip()
    ts = parse_ts(int(raw_ts) if raw_ts.isdigit() else raw_ts)
    if not isinstance(ts, int):
        raise ConfigError(f"prices file {path}, line {line}: {ts.reason}")
    try:
        price = float((row.get("price") or "").strip())
    except ValueError:
        raise ConfigError(
            f"prices file {path}, line {line}: price {row.get('price')!r} is not a number"
        ) from None
    if not math.isfinite(price) or price <= 0:
        raise ConfigError(f"prices file {path}, line {line}: price must be > 0, got {price}")
    return ticker, ts, price
