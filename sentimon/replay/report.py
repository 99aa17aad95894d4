"""The backtest report: ``alerts.csv``, ``series.parquet`` and ``summary.json`` in a folder.

``alerts.csv`` and ``series.parquet`` are read back from the namespace and depend only on
what was replayed (same range, model and rules: byte-identical files). ``summary.json``
holds the run's metadata (throughput, wall-clock times, file hashes) and is the one file
that differs between runs.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import redis

from sentimon.replay.alertlog import AlertLog, outcomes, read_alert_log, write_alerts_csv
from sentimon.replay.prices import read_prices
from sentimon.replay.returns import summarise
from sentimon.replay.series import SeriesRow, read_series, write_series

log = logging.getLogger(__name__)

ALERTS_CSV = "alerts.csv"
SERIES_PARQUET = "series.parquet"
SUMMARY_JSON = "summary.json"
TOP_TICKERS = 20


def namespace_facts(client: redis.Redis, namespace: str) -> tuple[AlertLog, list[SeriesRow]]:
    return read_alert_log(client, namespace), read_series(client, namespace)


def ticker_summary(rows: list[SeriesRow]) -> dict[str, Any]:
    """Tickers with posts, and the top ones by posts: posts and distinct stories each."""
    posts: dict[str, int] = {}
    stories: dict[str, int] = {}
    for row in rows:
        posts[row.ticker] = posts.get(row.ticker, 0) + row.stats.count
        stories[row.ticker] = stories.get(row.ticker, 0) + row.stories
    ranked = sorted(posts.items(), key=lambda kv: (-kv[1], kv[0]))
    return {
        "count": len(posts),
        "top": [{"ticker": t, "posts": n, "stories": stories[t]} for t, n in ranked[:TOP_TICKERS]],
    }


def alert_summary(alert_log: AlertLog) -> dict[str, Any]:
    return {
        "events": len(alert_log.events),
        "alerts": len(alert_log.openings()),
        "per_rule": alert_log.per_rule(),
    }


def write_report(
    client: redis.Redis,
    namespace: str,
    out_dir: Path,
    run: dict[str, Any],
    *,
    prices: Path | None = None,
    market_proxy: str | None = None,
) -> dict[str, Any]:
    """Write the three files; returns the summary (``run`` plus what the report found)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    alert_log, rows = namespace_facts(client, namespace)
    results = None
    summary = dict(run)
    if prices is not None:
        series = read_prices(prices)
        results = outcomes(alert_log, series, market_proxy)
        summary["prices"] = {
            "file": str(prices),
            "sha256": sha256_file(prices),
            "market_proxy": market_proxy,
            "tickers": len(series),
            "per_rule": summarise(results.values()),
        }
    write_alerts_csv(alert_log, out_dir / ALERTS_CSV, results)
    write_series(rows, out_dir / SERIES_PARQUET)
    summary["tickers"] = ticker_summary(rows)
    summary["alerts"] = alert_summary(alert_log)
    summary["files"] = {name: sha256_file(out_dir / name) for name in (ALERTS_CSV, SERIES_PARQUET)}
    text = json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n"
    (out_dir / SUMMARY_JSON).write_text(text, encoding="utf-8")
    log.info(
        "report written to %s (%d alert events, %d series rows)",
        out_dir,
        len(alert_log.events),
        len(rows),
    )
    return summary


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
